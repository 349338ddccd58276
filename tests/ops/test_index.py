"""gather / scatter / index_select / masked_fill / sort / topk: NumPy semantics, float64
gradchecks, and errors that name the shapes."""
import numpy as np
import pytest

import minicv as mc
from minicv.ops import index as I
from minicv.testing import gradcheck


def _x(*shape, seed=0):
    return mc.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_gather_matches_take_along_axis_and_gradchecks():
    x = _x(3, 4, 5)
    idx = np.random.default_rng(1).integers(0, 4, (3, 2, 5))
    out = x.gather(1, mc.tensor(idx))
    np.testing.assert_array_equal(out.data, np.take_along_axis(x.data, idx, axis=1))
    gradcheck(lambda t: mc.gather(t, 1, mc.tensor(idx)), (x,))
    small = np.array([[0, 2], [1, 1]])                   # index smaller than the input
    np.testing.assert_array_equal(mc.gather(x[0], -1, mc.tensor(small)).data,
                                  np.take_along_axis(x.data[0, :2], small, axis=1))
    gradcheck(lambda t: t.gather(-1, mc.tensor(small)), (x[0].detach().requires_grad_(),))


def test_gather_repeated_index_accumulates_gradient():
    x = _x(2, 3)
    x.gather(1, mc.tensor([[0, 0, 0], [2, 1, 2]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 0, 0], [0, 1, 2]])


def test_scatter_and_scatter_add_gradchecks():
    x, src = _x(3, 4), _x(3, 4, seed=2)
    perm = np.stack([np.random.default_rng(i).permutation(4) for i in range(3)])
    out = x.scatter(1, mc.tensor(perm), src)
    want = x.data.copy()
    np.put_along_axis(want, perm, src.data, axis=1)
    np.testing.assert_array_equal(out.data, want)
    gradcheck(lambda a, b: a.scatter(1, mc.tensor(perm[:, :2]), b), (x, src))
    rep = np.random.default_rng(3).integers(0, 4, (3, 4))
    gradcheck(lambda a, b: mc.scatter_add(a, 1, mc.tensor(rep), b), (x, src))
    summed = mc.zeros(3).scatter_add(0, mc.tensor([0, 2, 0]), mc.ones(3))
    np.testing.assert_array_equal(summed.data, [2, 0, 1])


def test_scatter_value_and_inplace_one_hot():
    onehot = mc.zeros(3, 4).scatter_(1, mc.tensor([[1], [3], [0]]), 1.0)
    np.testing.assert_array_equal(onehot.data, np.eye(4)[[1, 3, 0]])
    out = mc.scatter(mc.zeros(2, 2), 0, mc.tensor([[1, 0]]), value=5.0)
    np.testing.assert_array_equal(out.data, [[0, 5], [5, 0]])


def test_index_select_and_masked_fill_gradcheck():
    x = _x(3, 4)
    idx = mc.tensor([3, 0, 3])
    np.testing.assert_array_equal(x.index_select(1, idx).data, x.data[:, [3, 0, 3]])
    gradcheck(lambda t: mc.index_select(t, -1, idx), (x,))
    mask = mc.tensor(np.random.default_rng(4).random(4) > 0.5)          # broadcast over rows
    v = mc.tensor(0.25, dtype=mc.float64, requires_grad=True)
    out = mc.masked_fill(x, mask, v)
    np.testing.assert_array_equal(out.data, np.where(mask.data, 0.25, x.data))
    gradcheck(lambda t, s: t.masked_fill(mask, s), (x, v))
    assert x.masked_fill(mask, 1).dtype == np.float64


def test_sort_topk_argsort_follow_pytorch():
    x = mc.tensor([[3.0, 1.0, 2.0, 1.0]], requires_grad=True)
    values, indices = x.sort(dim=1, descending=True)
    np.testing.assert_array_equal(values.data, [[3, 2, 1, 1]])
    np.testing.assert_array_equal(indices.data, [[0, 2, 1, 3]])           # ties stay in order
    np.testing.assert_array_equal(mc.argsort(x, dim=-1).data, [[1, 3, 2, 0]])
    top = x.topk(2)
    np.testing.assert_array_equal(top.values.data, [[3, 2]])
    np.testing.assert_array_equal(top.indices.data, [[0, 2]])
    low = x.topk(1, largest=False)
    np.testing.assert_array_equal(low.indices.data, [[1]])
    y = _x(3, 5)
    gradcheck(lambda t: t.sort(dim=0)[0], (y,))
    gradcheck(lambda t: t.topk(2, dim=1).values, (y,))


def test_nonzero_and_single_argument_where():
    x = mc.tensor([[0.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(mc.nonzero(x).data, [[0, 1], [1, 0]])
    rows, cols = mc.where(x > 0)
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(cols.data, [1, 0])


def test_index_errors_name_the_problem():
    x = mc.zeros(2, 3)
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 1 with size 3"):
        x.gather(1, mc.tensor([[3]]))
    with pytest.raises(TypeError, match="integer tensor.*long"):
        x.gather(1, mc.tensor([[0.0]]))
    with pytest.raises(ValueError, match=r"as many dimensions.*\[2, 3\]"):
        x.gather(1, mc.tensor([0]))
    with pytest.raises(TypeError, match="src has dtype float64.*float32"):
        x.scatter(0, mc.tensor([[0]]), mc.zeros(1, 1, dtype=mc.float64))
    with pytest.raises(ValueError, match=r"mask of shape \[4\].*\[2, 3\]"):
        x.masked_fill(mc.zeros(4, dtype=mc.bool), 1.0)
    with pytest.raises(ValueError, match="k=4 is out of range"):
        x.topk(4)


# ----------------------------------------------------------------------------- PyTorch parity
# Expected values below were computed with PyTorch 2.13 (CPU).

NAN, INF = float("nan"), float("inf")


def test_sort_puts_nan_first_when_descending_and_keeps_ties_stable():
    x = mc.tensor([1.0, NAN, 3.0, NAN, 3.0, -INF, INF, 1.0])
    v, i = x.sort(descending=True)
    np.testing.assert_array_equal(v.data, [NAN, NAN, INF, 3, 3, 1, 1, -INF])
    assert i.tolist() == [1, 3, 6, 2, 4, 0, 7, 5]
    v, i = x.sort()
    np.testing.assert_array_equal(v.data, [-INF, 1, 1, 3, 3, INF, NAN, NAN])
    assert i.tolist() == [5, 0, 7, 2, 4, 6, 1, 3]
    assert x.argsort(descending=True).tolist() == [1, 3, 6, 2, 4, 0, 7, 5]
    assert mc.tensor([-0.0, 0.0, -0.0]).sort(descending=True)[1].tolist() == [0, 1, 2]
    rows = mc.tensor([[NAN, 1.0, 2.0], [3.0, NAN, NAN]])
    assert rows.sort(dim=1, descending=True)[1].tolist() == [[0, 2, 1], [1, 2, 0]]


def test_descending_sort_of_integers_and_bools_does_not_overflow():
    v, i = mc.tensor([-2**63, 0, 2**63 - 1, -1]).sort(descending=True)
    assert v.tolist() == [2**63 - 1, 0, -1, -2**63] and i.tolist() == [2, 1, 3, 0]
    assert mc.tensor([True, False, True]).sort(descending=True)[1].tolist() == [0, 2, 1]
    v, i = mc.tensor([3, 0, 255], dtype=mc.uint8).sort(descending=True)
    assert v.tolist() == [255, 3, 0] and v.dtype == np.uint8 and i.tolist() == [2, 0, 1]


def test_topk_counts_nan_as_largest():
    x = mc.tensor([1.0, NAN, 3.0, NAN, INF], requires_grad=True)
    v, i = x.topk(3)
    np.testing.assert_array_equal(v.data, [NAN, NAN, INF])
    assert i.tolist() == [1, 3, 4]
    v, i = x.topk(2, largest=False)
    assert v.tolist() == [1.0, 3.0] and i.tolist() == [0, 2]
    x.topk(1).values.sum().backward()
    assert x.grad.tolist() == [0, 1, 0, 0, 0]


def test_masked_select_broadcasts_and_gradchecks():
    x = mc.tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True)
    assert I.masked_select(x, x.detach() > 0).tolist() == [0.5, 1.5, 2.5]
    row = mc.tensor([True, False, True])
    assert I.masked_select(x, row).tolist() == [-2.5, -0.5, 0.5, 2.5]
    gradcheck(lambda t: I.masked_select(t, row), (x,))
    gradcheck(lambda t: I.masked_select(t, mc.tensor([[True], [False]])), (x,))
    small = mc.tensor([1.0, 2.0, 3.0], dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: I.masked_select(t, mc.tensor([[True] * 3, [False, True, False]])),
              (small,))                                    # the input broadcasts too
    with pytest.raises(TypeError, match="bool"):
        I.masked_select(x, mc.ones(2, 3))


def test_take_along_dim():
    x = mc.tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    assert I.take_along_dim(x, mc.tensor([[0], [2]]), dim=1).tolist() == [[10.0], [60.0]]
    assert I.take_along_dim(x, mc.tensor([5, 0])).tolist() == [60.0, 10.0]
    one_row = mc.tensor([[10.0, 20.0, 30.0]])
    assert I.take_along_dim(one_row, mc.tensor([[0], [2]]), dim=1).tolist() == [[10.0],
                                                                                  [30.0]]
    w = mc.tensor(np.arange(3.0)[None], requires_grad=True)
    gradcheck(lambda t: I.take_along_dim(t, mc.tensor([[0, 0], [2, 1]]), dim=1), (w,))
    v = mc.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    gradcheck(lambda t: I.take_along_dim(t, mc.tensor([[1, 0]]), dim=1), (v,))
    gradcheck(lambda t: I.take_along_dim(t, t.detach().argmax(dim=0, keepdim=True), 0), (v,))


def test_take_along_dim_wraps_negative_indices_along_dim():
    # PyTorch 2.13: take_along_dim(arange(12.).reshape(3, 4), tensor([[-1, 0, 2, -3]]),
    # dim=0) == [[8., 1., 10., 3.]]; the gradient lands on the wrapped places.
    x = mc.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = mc.tensor([[-1, 0, 2, -3], [-1, -1, 0, 0]])
    y = I.take_along_dim(x, idx, dim=0)
    assert y.tolist() == [[8.0, 1.0, 10.0, 3.0], [8.0, 9.0, 2.0, 3.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0],
                               [2.0, 1.0, 1.0, 0.0]]
    assert I.take_along_dim(x, mc.tensor([[-1], [0], [-4]]), dim=-1).tolist() == [
        [3.0], [4.0], [8.0]]
    gradcheck(lambda t: I.take_along_dim(t, mc.tensor([[-1, 0], [-3, -2]]), dim=1),
              (_x(2, 3),))
    # below -size: an error (PyTorch takes it modulo size); without dim and in gather a
    # negative index is out of bounds, as in PyTorch
    with pytest.raises(IndexError, match=r"index -4 .* size 3: use indices in \[-3, 3\)"):
        I.take_along_dim(x, mc.tensor([[-4, 0, 0, 0]]), dim=0)
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        I.take_along_dim(x, mc.tensor([[3, 0, 0, 0]]), dim=0)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        I.take_along_dim(x, mc.tensor([-1, 0]))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        I.gather(x, 0, mc.tensor([[-1, 0, 0, 0]]))


def test_argwhere_is_nonzero():
    assert I.argwhere(mc.tensor([[0, 1], [2, 0]])).tolist() == [[0, 1], [1, 0]]
