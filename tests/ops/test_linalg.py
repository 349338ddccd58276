"""matmul: 1-D, 2-D and batched broadcasting, gradchecks, and the shape error; einsum,
tril, triu and diag against NumPy with float64 gradchecks."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.ops import linalg as L
from minicv.testing import gradcheck, strategies as st

SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
          ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 2)),
          ((4, 2, 3), (3,)), ((3,), (4, 3, 2))]


@pytest.mark.parametrize("sa,sb", SHAPES)
@given(data=hs.data())
def test_matmul(sa, sb, data):
    a = data.draw(st.tensors(sa))
    b = data.draw(st.tensors(sb))
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data), rtol=1e-12)
    gradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"10x49 and 490x10"):
        mc.ones(10, 49) @ mc.ones(490, 10)


def test_matrix_products_take_pytorch_keyword_names():
    a, v = mc.ones(2, 2), mc.ones(2)
    assert mc.matmul(input=a, other=a).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert mc.mm(a, mat2=a).shape == (2, 2) and mc.bmm(a[None], mat2=a[None]).shape == (1, 2, 2)
    assert mc.dot(v, tensor=v).item() == 2.0 and mc.outer(v, vec2=v).shape == (2, 2)


# ----------------------------------------------------------------------------- einsum

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),                 # matmul
    ("bij,bjk->bik", [(1, 2, 3), (5, 3, 4)]),        # bmm, size-1 batch broadcast
    ("ii", [(3, 3)]),                                # trace: implicit output ""
    ("ii->i", [(3, 3)]),                             # diagonal
    ("iij->j", [(3, 3, 2)]),
    ("...ij->...ji", [(2, 3, 4)]),                   # batched transpose
    ("...ij,...jk", [(2, 2, 3), (3, 4)]),            # implicit output "...ik"
    ("ij,j", [(2, 3), (3,)]),
    ("i,j->ij", [(2,), (3,)]),                       # outer
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ba", [(2, 3)]),                                # implicit output "ab": a transpose
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),   # attention scores
    ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 2)]),
    ("ij,kl->ijkl", [(2, 1), (1, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
@given(data=hs.data())
def test_einsum_matches_numpy_and_gradchecks(equation, shapes, data):
    ts = [data.draw(st.tensors(s)) for s in shapes]
    want = np.einsum(equation, *(t.data for t in ts))
    np.testing.assert_allclose(L.einsum(equation, *ts).data, want, rtol=1e-10, atol=1e-12)
    gradcheck(lambda *xs: L.einsum(equation, *xs), tuple(ts))


def test_einsum_list_form_and_errors():
    assert L.einsum("ij,j", [mc.ones(2, 3), mc.ones(3)]).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="sizes 3 and 4"):
        L.einsum("ij,jk->ik", mc.ones(2, 3), mc.ones(4, 4))
    with pytest.raises(ValueError, match="output subscripts"):
        L.einsum("ij->ik", mc.ones(2, 3))
    with pytest.raises(ValueError, match=r"shape \[2, 3, 4\]"):
        L.einsum("ij", mc.ones(2, 3, 4))
    with pytest.raises(ValueError, match="2 operands but 1"):
        L.einsum("ij,j", mc.ones(2, 3))
    with pytest.raises(TypeError, match="one dtype"):
        L.einsum("ij,j", mc.ones(2, 3), mc.ones(3, dtype=mc.float64))


def test_einsum_sublist_form_follows_pytorch():
    # PyTorch 2.13: einsum(x, [0, 1], y, [1, 2], [0, 2]) with x = arange(6.).reshape(2, 3),
    # y = arange(12.).reshape(3, 4) is [[20, 23, 26, 29], [56, 68, 80, 92]], with or without
    # the output sublist; ints 0-25 sort before 26-51 in the implicit output (A-Z, a-z)
    x = mc.tensor(np.arange(6.0).reshape(2, 3))
    y = mc.tensor(np.arange(12.0).reshape(3, 4))
    want = [[20.0, 23.0, 26.0, 29.0], [56.0, 68.0, 80.0, 92.0]]
    assert L.einsum(x, [0, 1], y, [1, 2], [0, 2]).tolist() == want
    assert L.einsum(x, [0, 1], y, [1, 2]).tolist() == want
    assert L.einsum(x, [27, 3]).tolist() == x.data.T.tolist()          # implicit: [3, 27]
    assert L.einsum(x, [..., 1], [1, ...]).tolist() == x.data.T.tolist()
    batch = mc.tensor(np.arange(12.0).reshape(2, 2, 3))
    assert L.einsum(batch, [..., 0, 1], x, (0, 1), [...]).tolist() == [55.0, 145.0]
    w = mc.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v = mc.tensor(np.ones((3, 4)), requires_grad=True)
    gradcheck(lambda a, b: L.einsum(a, [0, 1], b, [1, 2], [2, 0]), (w, v))
    with pytest.raises(ValueError, match=r"subscript 52 .* must be an int in \[0, 52\)"):
        L.einsum(x, [0, 52])
    with pytest.raises(TypeError, match="expected a sublist"):
        L.einsum(x, [0, 1], y)


# ----------------------------------------------------------------------------- tril / triu / diag

@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_tril_triu_diag(k):
    x = mc.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    np.testing.assert_array_equal(L.tril(x, k).data, np.tril(x.data, k))
    np.testing.assert_array_equal(L.triu(x, diagonal=k).data, np.triu(x.data, k))
    np.testing.assert_array_equal(L.diag(x, k).data, np.diag(x.data, k))
    for fn in (L.tril, L.triu, L.diag):
        gradcheck(lambda t: fn(t, k), (x,))
    v = mc.tensor([1.0, 2.0, 3.0], dtype=mc.float64, requires_grad=True)
    np.testing.assert_array_equal(L.diag(v, k).data, np.diag(v.data, k))
    gradcheck(lambda t: L.diag(t, k), (v,))


def test_triangles_of_a_batch_and_errors():
    x = mc.ones(2, 3, 3, dtype=mc.float64, requires_grad=True)
    assert L.triu(x, 1).sum().item() == 6.0
    gradcheck(lambda t: L.tril(t, -1), (x,))
    with pytest.raises(ValueError, match="at least 2"):
        L.tril(mc.ones(3))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        L.diag(mc.ones(2, 2, 2))
