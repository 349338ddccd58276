"""diagonal, trace, diag_embed, block_diag, kron, tensordot, the add-product family, cross,
combinatorics, vander, multi_dot, matrix_power, cdist, det/slogdet/inv/solve and
``mc.linalg``. Expected values were computed with PyTorch 2.13 (CPU) and are written out,
so the tests need no torch; gradients are checked by float64 gradcheck."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

INF = float("inf")


def _eye_plus(x, k=5.0):
    """x + k·I: a well-conditioned matrix (batch) for the LAPACK-backed ops (entries of x
    in [-1, 1] and n <= 3 keep its eigenvalues within 3 of k)."""
    return x + k * mc.eye(x.shape[-1], dtype=x.dtype)


# ----------------------------------------------------------------------------- diagonals

def test_diagonal_values_and_view():
    x = mc.arange(24.).reshape(2, 3, 4)
    # torch.diagonal(x, 1, 0, 2); torch.diagonal(x, -1, 2, 1)
    assert mc.diagonal(x, 1, 0, 2).tolist() == [[1, 14], [5, 18], [9, 22]]
    assert x.diagonal(-1, 2, 1).tolist() == [[1, 6, 11], [13, 18, 23]]
    assert mc.diagonal(mc.zeros(2, 3), 5).shape == (0,)
    assert mc.linalg.diagonal(x, offset=1).tolist() == [[1, 6, 11], [13, 18, 23]]
    base = mc.zeros(3, 3)                      # a view, as in PyTorch: writes reach the base
    d = base.diagonal()
    d.add_(1)
    d[0] = 5.
    assert base.tolist() == [[5, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert np.shares_memory(d.data, base.data)


@given(x=st.tensors(shape=(3, 2, 4)), off=hs.integers(-2, 3))
def test_diagonal_and_diag_embed_gradcheck(x, off):
    gradcheck(lambda t: mc.diagonal(t, off, 2, 0), (x,))
    gradcheck(lambda t: mc.diag_embed(t, off, 0, 2), (x,))
    np.testing.assert_array_equal(mc.diag_embed(x, off, 3, 1).diagonal(off, 3, 1).data,
                                  x.data)


def test_trace_diag_embed_diagflat_block_diag_values():
    assert mc.trace(mc.arange(12.).reshape(3, 4)).item() == 15.0
    t = mc.trace(mc.arange(6).reshape(2, 3))
    assert t.dtype == np.int64 and t.item() == 4
    x = mc.arange(12.).reshape(3, 4).requires_grad_()
    mc.trace(x).backward()
    np.testing.assert_array_equal(x.grad.data, np.eye(3, 4))
    # torch.diag_embed(tensor([[1., 2], [3, 4]]), 1)
    assert mc.diag_embed(mc.tensor([[1., 2], [3, 4]]), 1).tolist() == [
        [[0, 1, 0], [0, 0, 2], [0, 0, 0]], [[0, 3, 0], [0, 0, 4], [0, 0, 0]]]
    assert mc.diag_embed(mc.arange(6.).reshape(2, 3), -1, 0, 2).shape == (4, 2, 4)
    d = mc.diagflat(mc.tensor([[1, 2], [3, 4]]), -1)
    assert d.shape == (5, 5) and d.dtype == np.int64 and d[1:, :4].diag().tolist() == [1, 2,
                                                                                       3, 4]
    b = mc.block_diag(mc.tensor(1), mc.tensor([2., 3]), mc.ones(2, 1, dtype=mc.int32))
    assert b.dtype == np.float32
    assert b.tolist() == [[1, 0, 0, 0], [0, 2, 3, 0], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert mc.block_diag().shape == (1, 0)


@given(a=st.tensors(shape=(2, 3)), b=st.tensors(shape=(3,)), c=st.tensors(shape=()))
def test_block_diag_kron_gradcheck(a, b, c):
    gradcheck(lambda x, y, z: mc.block_diag(x, y, z), (a, b, c))
    gradcheck(lambda x, y: mc.kron(x, y), (a, b))
    gradcheck(lambda x: mc.trace(x[:, :2]), (a,))


def test_diagonal_errors():
    with pytest.raises(ValueError, match="cannot be identical"):
        mc.diagonal(mc.zeros(2, 2), 0, 0, 0)
    with pytest.raises(IndexError, match="out of range"):
        mc.diagonal(mc.zeros(3))
    with pytest.raises(IndexError, match="out of range"):
        mc.diagonal(mc.zeros(2, 2), 0, 0, 2)
    with pytest.raises(ValueError, match="expected a matrix"):
        mc.trace(mc.zeros(2, 2, 2))
    with pytest.raises(IndexError, match="out of range"):
        mc.diag_embed(mc.tensor(3.))
    with pytest.raises(ValueError, match="2 or fewer dimensions. Input 0 has 3"):
        mc.block_diag(mc.zeros(2, 2, 2))


# ----------------------------------------------------------------------------- products

def test_kron_tensordot_inner_vdot_mv_values():
    k = mc.kron(mc.tensor([[1, 2], [3, 4]]), mc.tensor([[0, 1], [1, 0]]))
    assert k.tolist() == [[0, 1, 0, 2], [1, 0, 2, 0], [0, 3, 0, 4], [3, 0, 4, 0]]
    assert mc.kron(mc.arange(2.), mc.ones(2, 2)).shape == (2, 4)
    assert mc.kron(mc.tensor(2.), mc.arange(3.)).tolist() == [0, 2, 4]
    a, b = mc.arange(24.).reshape(2, 3, 4), mc.arange(12.).reshape(4, 3)
    assert mc.tensordot(a, b, ([1, 2], [1, 0])).tolist() == [440, 1232]
    assert mc.tensordot(a, mc.arange(4.), 1).tolist() == [[14, 38, 62], [86, 110, 134]]
    assert mc.tensordot(mc.ones(2), mc.ones(3), 0).shape == (2, 3)
    m = mc.arange(6.).reshape(2, 3)
    assert mc.inner(m, m).tolist() == [[5, 14], [14, 50]]
    assert mc.inner(m, mc.arange(3.)).tolist() == [5, 14]
    assert mc.inner(mc.tensor(2.), mc.ones(2, 2)).tolist() == [[2, 2], [2, 2]]
    v = mc.vdot(mc.tensor([1, 2]), mc.tensor([3, 4]))
    assert v.item() == 11 and v.dtype == np.int64
    assert mc.ones(2, 3).mv(mc.arange(3.)).tolist() == [3, 3]


@given(a=st.tensors(shape=(2, 3, 2)), b=st.tensors(shape=(2, 3)))
def test_tensordot_inner_gradcheck(a, b):
    gradcheck(lambda x, y: mc.tensordot(x, y, ([0, 1], [0, 1])), (a, b))
    gradcheck(lambda x, y: mc.tensordot(x, y, 1), (a, b))
    gradcheck(lambda x, y: mc.inner(x, y.t()), (a, b))
    gradcheck(lambda x, y: mc.mv(x, y[0, :, 0]), (b, a))


def test_product_errors():
    with pytest.raises(ValueError, match="same length"):
        mc.tensordot(mc.ones(2, 3), mc.ones(3, 2), ([1], [1, 0]))
    with pytest.raises(ValueError, match="size 3 in dim 1 and second has size 4 in dim 0"):
        mc.tensordot(mc.ones(2, 3), mc.ones(4, 3), 1)
    with pytest.raises(ValueError, match="dims >= 0"):
        mc.tensordot(mc.ones(2), mc.ones(2), -1)
    with pytest.raises(ValueError, match="last dimension must match"):
        mc.inner(mc.ones(2, 3), mc.ones(2))
    with pytest.raises(TypeError, match="same dtype"):
        mc.vdot(mc.tensor([1., 2]), mc.tensor([3, 4]))
    with pytest.raises(ValueError, match="1-D and 1-D"):
        mc.vdot(mc.ones(2, 2), mc.ones(2, 2))
    with pytest.raises(ValueError, match="size mismatch"):
        mc.mv(mc.ones(2, 3), mc.ones(2))


def test_add_product_family_values():
    c, a = mc.ones(2, 2), mc.arange(8.).reshape(2, 2, 2)
    # torch.addbmm(c, a, a, beta=2, alpha=0.5); torch.baddbmm(ones(2), a, a, beta=0)
    assert mc.addbmm(c, a, a, beta=2, alpha=0.5).tolist() == [[26, 31], [38, 47]]
    assert mc.baddbmm(mc.ones(2), a, a, beta=0).tolist() == [[[2, 3], [6, 11]],
                                                             [[46, 55], [66, 79]]]
    assert mc.addmv(mc.tensor(1.), mc.ones(2, 3), mc.arange(3.), beta=2, alpha=3).tolist() \
        == [11, 11]
    assert mc.addr(mc.zeros(2, 3), mc.arange(2.), mc.arange(3.), alpha=2).tolist() == [
        [0, 0, 0], [0, 2, 4]]
    i = mc.addr(mc.zeros(2, 3, dtype=mc.int64), mc.arange(2), mc.arange(3), alpha=2)
    assert i.dtype == np.int64 and i.tolist() == [[0, 0, 0], [0, 2, 4]]
    nan = mc.full((2,), float("nan"))          # beta=0: input is not read
    assert mc.addmv(nan, mc.ones(2, 3), mc.ones(3), beta=0).tolist() == [3, 3]
    x = mc.zeros(2, 3)
    assert x.addmm_(mc.ones(2, 4), mc.ones(4, 3)) is x and x.tolist() == [[4] * 3] * 2
    x.addr_(mc.ones(2), mc.ones(3), beta=0.5)
    assert x.tolist() == [[3] * 3] * 2
    y = mc.ones(2, 2, 3)
    y.baddbmm_(mc.ones(2, 2, 1), mc.ones(2, 1, 3), alpha=2)
    assert y.tolist() == [[[3] * 3] * 2] * 2


@given(c=st.tensors(shape=(3,)), a=st.tensors(shape=(2, 2, 4)), b=st.tensors(shape=(2, 4, 3)))
def test_add_product_family_gradcheck(c, a, b):
    gradcheck(lambda z, x, y: mc.baddbmm(z, x, y, beta=0.5, alpha=2), (c, a, b))
    gradcheck(lambda z, x, y: mc.addbmm(z, x, y, beta=-1), (c, a, b))
    gradcheck(lambda z, x, y: mc.addmv(z[:2], x[0], y[0, :, 0], alpha=0.5), (c, a, b))
    gradcheck(lambda z, x, y: mc.addr(z, x[0, 0, :2], y[0, 0], beta=2), (c, a, b))


def test_add_product_errors():
    with pytest.raises(TypeError, match="addmv: input, mat and vec must have the same dtype"):
        mc.addmv(mc.ones(2), mc.ones(2, 3), mc.ones(3, dtype=mc.float64))
    with pytest.raises(ValueError, match="does not broadcast to the product's shape"):
        mc.baddbmm(mc.ones(4), mc.ones(2, 2, 3), mc.ones(2, 3, 3))
    with pytest.raises(ValueError, match="bmm expects 3-D"):
        mc.addbmm(mc.ones(2, 2), mc.ones(2, 2), mc.ones(2, 2))


def test_addcmul_addcdiv_values_and_dtypes():
    # torch.addcmul(ones(2), [1, 2], [[3], [4]], value=0.5)
    assert mc.addcmul(mc.ones(2), mc.tensor([1., 2]), mc.tensor([[3.], [4]]),
                      value=0.5).tolist() == [[2.5, 4], [3, 5]]
    i = mc.addcmul(mc.ones(2, dtype=mc.int64), mc.tensor([1, 2]), mc.tensor([3, 4]),
                   value=2.5)                  # integer result: value truncated to 2
    assert i.dtype == np.int64 and i.tolist() == [7, 17]
    f = mc.addcmul(mc.ones(2, dtype=mc.int64), mc.tensor([1., 2]), mc.tensor([3, 4]),
                   value=2.5)
    assert f.dtype == np.float32 and f.tolist() == [8.5, 21]
    with np.errstate(divide="ignore"):
        inf = mc.addcdiv(mc.ones(2), mc.tensor([1., 2]), mc.tensor([4., 0]), value=2)
    assert inf.tolist() == [1.5, INF]
    assert mc.addcdiv(mc.ones(2, dtype=mc.int64), mc.tensor([1., 2]),
                      mc.tensor([4, 1])).tolist() == [1.25, 3]
    x = mc.ones(2)
    x.addcmul_(mc.tensor([1., 2]), mc.tensor([3., 4])).addcdiv_(mc.ones(2), mc.ones(2),
                                                                value=-1)
    assert x.tolist() == [3, 8]
    with pytest.raises(TypeError, match="Integer division with addcdiv"):
        mc.addcdiv(mc.ones(2), mc.tensor([1, 2]), mc.tensor([4, 1]))


@given(c=st.tensors(shape=(3,)), a=st.tensors(shape=(2, 1)),
       b=st.tensors(shape=(2, 3), avoid=(0.0,), margin=0.3))
def test_addcmul_addcdiv_gradcheck(c, a, b):
    gradcheck(lambda z, x, y: mc.addcmul(z, x, y, value=-0.5), (c, a, b))
    gradcheck(lambda z, x, y: mc.addcdiv(z, x, y, value=2), (c, a, b))


# ----------------------------------------------------------------------------- cross

def test_cross_values_dims_and_errors():
    a, b = mc.tensor([[1., 2, 3], [4, 5, 6]]), mc.tensor([[7., 8, 9], [1, 0, -1]])
    assert mc.cross(a, b, dim=1).tolist() == [[-6, 12, -6], [-5, 10, -5]]
    assert mc.linalg.cross(mc.tensor([1, 2, 3]), mc.tensor([4, 5, 6])).tolist() == [-3, 6,
                                                                                    -3]
    with pytest.warns(UserWarning, match="without specifying the dim"):
        c = mc.cross(mc.eye(3), mc.ones(3, 3))       # dim 0: the first of size 3
    assert c.tolist() == [[0, 1, -1], [-1, 0, 1], [1, -1, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert a.unsqueeze(0).cross(mc.ones(3, 2, 3)).shape == (3, 2, 3)   # dim 2 of input
        with pytest.raises(ValueError, match="no dimension of size 3"):
            mc.cross(mc.ones(2, 2), mc.ones(2, 2))
    with pytest.raises(ValueError, match="same number of dimensions"):
        mc.linalg.cross(mc.ones(3), mc.ones(2, 3))
    with pytest.raises(ValueError, match="dimension -1 must have length 3. Got 2 and 2"):
        mc.linalg.cross(mc.ones(3, 2), mc.ones(3, 2))
    with pytest.raises(ValueError, match="dimension 0 must have length 3. Got 3 and 1"):
        mc.cross(mc.ones(3, 1), mc.ones(1, 3), dim=0)
    with pytest.raises(TypeError, match="same dtype"):
        mc.linalg.cross(mc.tensor([1, 2, 3]), mc.tensor([4., 5, 6]))


@given(a=st.tensors(shape=(2, 3)), b=st.tensors(shape=(1, 3)))
def test_cross_gradcheck(a, b):
    gradcheck(lambda x, y: mc.linalg.cross(x, y), (a, b))
    gradcheck(lambda x, y: mc.cross(x.t(), y.t(), dim=0), (a, b))


# ----------------------------------------------------------------------------- combinatorics

def test_cartesian_prod_combinations_indices_vander():
    p = mc.cartesian_prod(mc.tensor([1, 2]), mc.tensor([3, 4, 5]))
    assert p.tolist() == [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]]
    one = mc.tensor([1, 2])
    assert mc.cartesian_prod(one) is one
    assert mc.combinations(mc.tensor([1, 2, 3])).tolist() == [[1, 2], [1, 3], [2, 3]]
    assert mc.combinations(mc.tensor([1., 2, 3]), with_replacement=True).tolist() == [
        [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]]
    assert mc.combinations(mc.tensor([1, 2, 3]), 3, True).shape == (10, 3)
    assert mc.combinations(mc.tensor([1, 2, 3]), 0).shape == (0,)
    assert mc.combinations(mc.tensor([1, 2, 3]), 4).shape == (0, 4)
    assert mc.tril_indices(3, 4, 1).tolist() == [[0, 0, 1, 1, 1, 2, 2, 2, 2],
                                                 [0, 1, 0, 1, 2, 0, 1, 2, 3]]
    assert mc.triu_indices(3, 4, -1).tolist() == [[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2],
                                                  [0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3]]
    assert mc.tril_indices(0, 4).shape == (2, 0)
    assert mc.tril_indices(3, 3, dtype=mc.int32).dtype == np.int32
    v = mc.vander(mc.tensor([1, 2, 3], dtype=mc.int32))
    assert v.dtype == np.int64 and v.tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    assert mc.vander(mc.tensor([1., 2, 3]), N=2, increasing=True).tolist() == [[1, 1], [1, 2],
                                                                               [1, 3]]
    assert mc.vander(mc.tensor([1., 2, 3]), N=0).shape == (3, 0)


@given(x=st.tensors(shape=(4,)), n=hs.integers(1, 4), inc=hs.booleans())
def test_combinatorics_gradcheck(x, n, inc):
    gradcheck(lambda t: mc.combinations(t, 2), (x,))
    gradcheck(lambda t: mc.cartesian_prod(t, t[:2]), (x,))
    gradcheck(lambda t: mc.vander(t, n, inc), (x,))


def test_combinatorics_errors():
    with pytest.raises(ValueError, match="1D"):
        mc.cartesian_prod(mc.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="non-negative number, but got -1"):
        mc.combinations(mc.tensor([1, 2, 3]), -1)
    with pytest.raises(ValueError, match="1D vector"):
        mc.combinations(mc.ones(2, 2))
    with pytest.raises(ValueError, match="non-negative"):
        mc.tril_indices(-1, 3)
    with pytest.raises(TypeError, match="integer"):
        mc.triu_indices(3, 3, dtype=mc.float32)
    with pytest.raises(ValueError, match="one-dimensional"):
        mc.vander(mc.tensor(2.))
    with pytest.raises(ValueError, match="N must be non-negative"):
        mc.vander(mc.tensor([1.]), N=-1)


# ----------------------------------------------------------------------------- chains, powers

def test_multi_dot_chain_matmul_matrix_power():
    assert mc.linalg.multi_dot([mc.ones(3), mc.ones(3, 4), mc.ones(4)]).item() == 12
    assert mc.chain_matmul(mc.ones(2, 3), mc.ones(3, 4), mc.ones(4, 1)).tolist() == [[12],
                                                                                     [12]]
    a = mc.tensor([[2., 1], [1, 3]])
    assert mc.matrix_power(a, 3).tolist() == [[15, 20], [20, 35]]
    np.testing.assert_allclose(a.matrix_power(-2).data, [[0.4, -0.2], [-0.2, 0.2]],
                               rtol=1e-6)
    batch = a.expand(2, 2, 2) * mc.tensor([[[1.]], [[2.]]])
    np.testing.assert_allclose(mc.linalg.matrix_power(batch, -1).data,
                               [[[0.6, -0.2], [-0.2, 0.4]], [[0.3, -0.1], [-0.1, 0.2]]],
                               rtol=1e-6)
    i = mc.matrix_power(mc.tensor([[1, 2], [3, 4]]), 2)
    assert i.dtype == np.int64 and i.tolist() == [[7, 10], [15, 22]]
    w = mc.ones(2, 2, requires_grad=True)
    e = mc.matrix_power(w, 0)
    assert e.tolist() == [[1, 0], [0, 1]] and e.requires_grad
    e.sum().backward()
    assert w.grad.tolist() == [[0, 0], [0, 0]]


@given(a=st.tensors(shape=(2, 3, 3), min_value=-1, max_value=1), n=hs.integers(-2, 3))
def test_matrix_power_multi_dot_gradcheck(a, n):
    gradcheck(lambda t: mc.matrix_power(_eye_plus(t), n), (a,))
    gradcheck(lambda t: mc.linalg.multi_dot([t[0, 0], t[1], t[0]]), (a,))


def test_chain_errors():
    with pytest.raises(ValueError, match="at least 2 tensors but got 1"):
        mc.linalg.multi_dot([mc.ones(3)])
    with pytest.raises(ValueError, match="first tensor must be 1D or 2D but got 3D"):
        mc.linalg.multi_dot([mc.ones(3, 2, 2), mc.ones(2, 2)])
    with pytest.raises(ValueError, match=r"shapes \[3, 2\] and \[3, 2\] cannot be multiplied"):
        mc.linalg.multi_dot([mc.ones(3, 2), mc.ones(3, 2)])
    with pytest.raises(ValueError, match="2 by 3 matrices"):
        mc.matrix_power(mc.ones(2, 3), 2)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        mc.matrix_power(mc.ones(2), 2)
    with pytest.raises(TypeError, match="must be an int"):
        mc.linalg.matrix_power(mc.ones(2, 2), 1.5)
    with pytest.raises(TypeError, match="floating point"):
        mc.matrix_power(mc.tensor([[1, 2], [3, 4]]), -1)


# ----------------------------------------------------------------------------- cdist

_X1 = [[0., 0.], [1., 2.], [3., -1.]]
_X2 = [[0., 0.], [1., 1.]]
_W = [[1., 2.], [3., 4.], [5., 6.]]
# torch.cdist(x1, x2, p) and the gradients of (cdist * W).sum(), float64; the zero
# distance (x1[0] == x2[0]) exercises the conventions at d == 0
_CDIST = {
    2.0: ([[0.0, 1.4142135623730951], [2.23606797749979, 1.0],
           [3.1622776601683795, 2.8284271247461903]],
          [[-1.414213562373095, -1.414213562373095], [1.3416407864998738, 6.683281572999748],
           [8.986057177371855, -5.823779517203475]],
          [[-6.085057276752443, -1.1021427429155581], [-2.82842712474619, 1.6568542494923797]]),
    1.0: ([[0, 2], [3, 1], [4, 4]], [[-2, -2], [3, 7], [11, -11]], [[-8, 2], [-4, 4]]),
    0.0: ([[0, 2], [2, 1], [2, 2]], [[0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0]]),
    0.5: ([[0.0, 4.0], [5.82842712474619, 1.0], [7.464101615137754, 8.000000000000002]],
          [[-4.0, -4.0], [7.242640687119286, 9.121320343559642],
           [19.886751345948127, -25.660254037844386]],
          [[-15.129392033067415, 8.538933694284744], [-8.0, 12.0]]),
    3.0: ([[0.0, 1.2599210498948732], [2.080083823051904, 1.0],
           [3.0365889718756622, 2.5198420997897464]],
          [[-1.259921049894873, -1.259921049894873], [0.6933612743506347, 6.773445097402538],
           [8.659995425913364, -4.322011180376702]],
          [[-5.573593550579379, -2.2311970667104557], [-2.5198420997897464, 1.0396841995794923]]),
    INF: ([[0, 1], [2, 1], [3, 2]], [[-2, -2], [0, 7], [11, -6]], [[-5, -3], [-4, 4]]),
}


@pytest.mark.parametrize("p", list(_CDIST))
def test_cdist_values_and_gradients_match_torch(p):
    want, g1, g2 = _CDIST[p]
    x1 = mc.tensor(_X1, dtype=mc.float64, requires_grad=True)
    x2 = mc.tensor(_X2, dtype=mc.float64, requires_grad=True)
    d = mc.cdist(x1, x2, p)
    (d * mc.tensor(_W, dtype=mc.float64)).sum().backward()
    np.testing.assert_allclose(d.data, want, rtol=1e-12)
    np.testing.assert_allclose(x1.grad.data, g1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x2.grad.data, g2, rtol=1e-12, atol=1e-12)


def test_cdist_shapes_ties_and_errors():
    x, y = mc.tensor([[1., -1.]], requires_grad=True), mc.zeros(1, 2, requires_grad=True)
    mc.cdist(x, y, INF).sum().backward()                # every tie gets the gradient
    assert x.grad.tolist() == [[1, -1]] and y.grad.tolist() == [[-1, 1]]
    assert mc.cdist(mc.ones(5, 2, 3), mc.ones(1, 4, 3)).shape == (5, 2, 4)
    assert mc.cdist(mc.ones(0, 3), mc.ones(2, 3)).shape == (0, 2)
    assert mc.cdist(mc.ones(2, 0), mc.ones(2, 0)).tolist() == [[0, 0], [0, 0]]
    assert mc.cdist(mc.ones(2, 3), mc.zeros(1, 3), compute_mode="use_mm_for_euclid_dist"
                    ).dtype == np.float32
    with pytest.raises(ValueError, match="at least 2D tensors, X1 got: 1D"):
        mc.cdist(mc.ones(3), mc.ones(2, 3))
    with pytest.raises(ValueError, match="same number of columns. X1: 3 X2: 4"):
        mc.cdist(mc.ones(2, 3), mc.ones(2, 4))
    with pytest.raises(TypeError, match="floating-point"):
        mc.cdist(mc.ones(2, 3, dtype=mc.int64), mc.ones(2, 3, dtype=mc.int64))
    with pytest.raises(ValueError, match="non-negative p"):
        mc.cdist(mc.ones(2, 3), mc.ones(2, 3), p=-1)
    with pytest.raises(ValueError, match="not a valid value for compute_mode"):
        mc.cdist(mc.ones(2, 3), mc.ones(2, 3), compute_mode="bogus")
    with pytest.raises(ValueError, match="do not broadcast"):
        mc.cdist(mc.ones(5, 2, 3), mc.ones(2, 4, 3))


def test_cdist_matmul_mode_matches_torch():
    """p = 2 with more than 25 rows (or compute_mode="use_mm_for_euclid_dist") goes
    through PyTorch's matmul formula: its rounding (float32 close rows give 0) and its
    gradient (0 at zero distance: x1 rows 0 and 7 equal x2 rows 0 and 1)."""
    x, y = mc.tensor([[1e4, 1e4]]), mc.tensor([[1e4, 1e4 + 0.01], [1e4 + 1, 1e4]])
    assert mc.cdist(x, y, compute_mode="use_mm_for_euclid_dist").tolist() == [[0, 0]]
    np.testing.assert_allclose(mc.cdist(x, y).data, [[0.009765625, 1.0]])
    i = mc.arange(30.)
    x1 = mc.stack([i % 5, (i / 5).floor()], 1).double().requires_grad_()
    x2 = mc.tensor([[0., 0.], [1., 2.], [0.5, -1.]], dtype=mc.float64, requires_grad=True)
    d = mc.cdist(x1, x2)
    (d * mc.arange(90., dtype=mc.float64).reshape(30, 3) / 10).sum().backward()
    np.testing.assert_allclose(d.data[[0, 4, 7]], [      # torch.cdist, float64
        [0.0, 2.23606797749979, 1.118033988749895], [4.0, 3.605551275463989, 3.640054944640259],
        [2.23606797749979, 1.414213562373095, 2.5]], rtol=1e-12)
    np.testing.assert_allclose(x1.grad.data[[0, 1, 7]], [
        [-0.1341640786499874, 0.08944271909999159], [0.5236067977499789, 0.047213595499957905],
        [4.8139320197102276, 1.2235136319395066]], rtol=1e-9)
    np.testing.assert_allclose(x2.grad.data, [
        [-62.800869080957305, -103.49204426260424], [-49.538993126021566, -70.02109621365068],
        [-44.866497644885484, -121.04000599582758]], rtol=1e-9)
    a = (mc.arange(2 * 26 * 2.).reshape(2, 26, 2) / 7).requires_grad_()
    b = mc.tensor([[[1., 1.], [0., 3.]]], requires_grad=True)   # batch dims broadcast
    d = mc.cdist(a, b)
    (d ** 2).sum().backward()
    np.testing.assert_allclose(d.sum().item(), 940.4463500976562, rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [[[-653.7142944335938, -668.5714721679688],
                                              [-757.7142944335938, -460.57147216796875]]],
                               rtol=1e-5)
    np.testing.assert_allclose(a.grad.sum().item(), 2540.571533203125, rtol=1e-5)


def test_cdist_large_inputs_take_the_matmul_path_and_chunks():
    """1000 x 64 rows: the matmul path for p = 2 (it agrees with the exact path), bounded
    chunks for other p; the chunked result equals the unchunked one (the first rows,
    computed alone)."""
    x1 = mc.randn(1000, 64, requires_grad=True)
    x2 = mc.randn(1000, 64, requires_grad=True)
    mc.cdist(x1, x2).sum().backward()
    exact = mc.cdist(x1[:4], x2[:6], compute_mode="donot_use_mm_for_euclid_dist")
    np.testing.assert_allclose(mc.cdist(x1, x2).data[:4, :6], exact.data, rtol=1e-4)
    d = mc.cdist(x1, x2, 1.5)
    np.testing.assert_allclose(d.data[:3, -5:], mc.cdist(x1[:3], x2[-5:], 1.5).data,
                               rtol=1e-6)
    d.sum().backward()
    np.testing.assert_allclose(x2.grad.data.sum(0), -x1.grad.data.sum(0), rtol=1e-3,
                               atol=1e-2)


@given(a=st.tensors(shape=(2, 2, 3)), b=st.tensors(shape=(3, 3), min_value=3.5, max_value=6),
       p=hs.sampled_from([2.0, 1.0, 0.7, 3.0]))
def test_cdist_gradcheck(a, b, p):
    """b's values lie above a's, so no difference is 0 (the kinks are tested by value)."""
    gradcheck(lambda x, y: mc.cdist(x, y, p), (a, b))


# ----------------------------------------------------------------------------- det, inverse

def test_det_slogdet_logdet_values():
    a = mc.tensor([[2., 1, 0], [1, 3, 1], [0, 1, 4]], dtype=mc.float64, requires_grad=True)
    d = mc.det(a)
    d.backward()                                       # the cofactor matrix
    assert d.item() == pytest.approx(18.0)
    np.testing.assert_allclose(a.grad.data, [[11, -4, 1], [-4, 8, -2], [1, -2, 5]])
    s = mc.tensor([[1., 2], [2, 4]], dtype=mc.float64, requires_grad=True)
    mc.det(s).backward()                               # singular: 0, as PyTorch
    assert s.grad.tolist() == [[0, 0], [0, 0]]
    sign, logabs = mc.slogdet(mc.tensor([[[2., 1], [1, 3]], [[0., 1], [2, 0]]]))
    assert sign.tolist() == [1, -1]
    np.testing.assert_allclose(logabs.data, [np.log(5), np.log(2)], rtol=1e-6)
    r = mc.linalg.slogdet(mc.tensor([[1., 2], [2, 4]]))
    assert r.sign.item() == 0 and r.logabsdet.item() == -INF
    assert mc.logdet(mc.tensor([[2., 0], [0, 3]])).item() == pytest.approx(1.7917595)
    assert np.isnan(mc.logdet(mc.tensor([[0., 1], [1, 0]])).item())
    assert mc.logdet(mc.tensor([[1., 2], [2, 4]])).item() == -INF
    a = mc.tensor([[4., 1], [2, 3]], requires_grad=True)
    mc.slogdet(a)[1].backward()
    np.testing.assert_allclose(a.grad.data, [[0.3, -0.2], [-0.1, 0.4]], rtol=1e-6)
    assert mc.det(mc.ones(3, 0, 0)).tolist() == [1, 1, 1]


def test_inverse_and_solve_values():
    a = mc.tensor([[4., 1], [2, 3]], requires_grad=True)
    y = mc.inverse(a)
    (y * mc.tensor([[1., 2], [3, 4]])).sum().backward()
    np.testing.assert_allclose(y.data, [[0.3, -0.1], [-0.2, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(a.grad.data, [[0.07, 0.02], [-0.19, -0.34]], rtol=1e-5)
    assert mc.linalg.inv(mc.ones(0, 0)).shape == (0, 0)
    a = mc.tensor([[4., 1], [2, 3]], requires_grad=True)
    b = mc.tensor([[1., 2], [3, 4]], requires_grad=True)
    x = mc.linalg.solve(a, b)
    x.sum().backward()
    np.testing.assert_allclose(x.data, [[0, 0.2], [1, 1.2]], atol=1e-6)
    np.testing.assert_allclose(a.grad.data, [[-0.02, -0.22], [-0.06, -0.66]], rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [[0.1, 0.1], [0.3, 0.3]], rtol=1e-5)
    v = mc.linalg.solve(mc.tensor([[2., 0], [0, 4]]), mc.tensor([2., 2]))
    assert v.tolist() == [1, 0.5]
    batch = mc.linalg.solve(mc.eye(3).expand(2, 3, 3), mc.ones(2, 3))    # (2, 3): vectors
    assert batch.shape == (2, 3)
    right = mc.linalg.solve(mc.tensor([[2., 0], [0, 4]]), mc.ones(3, 2), left=False)
    assert right.tolist() == [[0.5, 0.25]] * 3


@given(a=st.tensors(shape=(2, 3, 3), min_value=-1, max_value=1),
       b=st.tensors(shape=(3, 2)))
def test_det_inverse_solve_gradcheck(a, b):
    gradcheck(lambda t: mc.det(_eye_plus(t)), (a,))
    gradcheck(lambda t: mc.slogdet(_eye_plus(t))[1], (a,))
    gradcheck(lambda t: mc.logdet(_eye_plus(t)), (a,))
    gradcheck(lambda t: mc.linalg.inv(_eye_plus(t)), (a,))
    gradcheck(lambda t, u: mc.linalg.solve(_eye_plus(t), u), (a, b))
    gradcheck(lambda t, u: mc.linalg.solve(_eye_plus(t), u.t()[None], left=False), (a, b))
    gradcheck(lambda t, u: mc.linalg.solve(_eye_plus(t[0]), u[:, 0]), (a, b))


def test_det_inverse_solve_errors():
    with pytest.raises(mc.linalg.LinAlgError, match="singular"):
        mc.inverse(mc.ones(2, 2))
    with pytest.raises(RuntimeError, match="singular"):          # a RuntimeError, as torch
        mc.linalg.solve(mc.ones(3, 2, 2), mc.ones(2))
    with pytest.raises(ValueError, match="2 by 3 matrices"):
        mc.det(mc.ones(2, 3))
    with pytest.raises(TypeError, match="floating point"):
        mc.det(mc.ones(2, 2, dtype=mc.int64))
    with pytest.raises(TypeError, match="floating point"):
        mc.inverse(mc.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="Incompatible shapes"):
        mc.linalg.solve(mc.eye(2), mc.ones(3, 1))
    with pytest.raises(ValueError, match="left=False"):
        mc.linalg.solve(mc.eye(2), mc.ones(2), left=False)


# ----------------------------------------------------------------------------- mc.linalg norms

def test_linalg_norms_values():
    m = mc.tensor([[1., -2, 3], [-4, 5, -6]])
    # torch.linalg.matrix_norm(m, ord) for 'fro', 1, -1, inf, -inf
    want = {"fro": 9.539392471313477, 1: 9.0, -1: 5.0, INF: 15.0, -INF: 6.0}
    for o, w in want.items():
        assert mc.linalg.matrix_norm(m, o).item() == pytest.approx(w, rel=1e-6)
    assert mc.linalg.matrix_norm(m.expand(2, 2, 3), 1, keepdim=True).shape == (2, 1, 1)
    assert mc.linalg.norm(mc.tensor([3., -4])).item() == 5.0
    assert mc.linalg.vector_norm(m, 0).item() == 6.0
    assert mc.linalg.vector_norm(m, INF, dim=1).tolist() == [3, 6]
    assert mc.linalg.vector_norm(m, 1, dim=0, keepdim=True).tolist() == [[5, 7, 9]]
    np.testing.assert_allclose(mc.linalg.norm(m, dim=1).data, [3.7416575, 8.774964],
                               rtol=1e-6)
    assert mc.linalg.norm(m, INF).item() == 15.0
    assert mc.linalg.vecdot(m, mc.tensor([1., 1, 1])).tolist() == [2, -5]
    assert mc.linalg.matmul is mc.matmul
    v = mc.linalg.vector_norm(m, dtype=mc.float64)
    assert v.dtype == np.float64


@given(a=st.tensors(shape=(2, 3, 4), unique=True, avoid=(0.0,)),
       o=hs.sampled_from(["fro", 1, -1, INF, -INF]))
def test_linalg_norms_gradcheck(a, o):
    gradcheck(lambda t: mc.linalg.matrix_norm(t, o), (a,))
    gradcheck(lambda t: mc.linalg.matrix_norm(t, o, dim=(2, 0), keepdim=True), (a,))
    gradcheck(lambda t: mc.linalg.vecdot(t, t[0]), (a,))


def test_linalg_norm_errors():
    with pytest.raises(TypeError, match="floating point"):
        mc.linalg.vector_norm(mc.arange(4), dtype=mc.float64)
    with pytest.raises(ValueError, match="Order 3 not supported"):
        mc.linalg.matrix_norm(mc.ones(2, 2), 3)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        mc.linalg.matrix_norm(mc.ones(2))
    with pytest.raises(ValueError, match="must be 1D or 2D. Got 3D"):
        mc.linalg.norm(mc.ones(2, 2, 2), 1)
    with pytest.raises(ValueError, match="ord must be a number"):
        mc.linalg.vector_norm(mc.ones(2), "fro")


# ----------------------------------------------------------------------------- awkward inputs

def test_non_contiguous_and_empty_inputs():
    base = mc.arange(18., dtype=mc.float64).reshape(3, 6)
    x = base[:, ::2]                                     # (3, 3), strided
    np.testing.assert_allclose(mc.det(_eye_plus(x)).item(),
                               np.linalg.det(x.data + 5 * np.eye(3)))
    np.testing.assert_allclose(mc.diagonal(x.t()).data, [0, 8, 16])
    assert mc.kron(x.t(), mc.ones(1, 2)).shape == (3, 6)
    assert mc.cdist(x.t(), x).shape == (3, 3)
    assert mc.inner(mc.zeros(0, 3), mc.ones(2, 3)).shape == (0, 2)
    assert mc.block_diag(mc.zeros(0, 2), mc.ones(1, 1)).tolist() == [[0, 0, 1]]
    assert mc.tensordot(mc.zeros(2, 0), mc.zeros(0, 3), 1).tolist() == [[0] * 3] * 2


# ----------------------------------------------------------------------------- torch oracle

def test_random_inputs_match_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    cases = [
        (lambda a, b: mc.cdist(a, b, 1.5), lambda a, b: torch.cdist(a, b, 1.5), (2, 4, 3), (5, 3)),
        (mc.kron, torch.kron, (2, 3), (2, 1, 2)),
        (lambda a, b: mc.linalg.cross(a, b), lambda a, b: torch.linalg.cross(a, b), (4, 3), (1, 3)),
        (lambda a, b: mc.linalg.solve(_eye_plus(a), b),
         lambda a, b: torch.linalg.solve(a + 5 * torch.eye(3, dtype=a.dtype), b), (2, 3, 3), (3,)),
        (lambda a: mc.det(a), torch.det, (2, 3, 3)),
        (lambda a: mc.linalg.matrix_norm(a, -INF), lambda a: torch.linalg.matrix_norm(a, -INF),
         (2, 3, 4)),
    ]
    for fm, ft, *shapes in cases:
        arrays = [r.standard_normal(s) for s in shapes]
        xm = [mc.tensor(a, requires_grad=True) for a in arrays]
        xt = [torch.tensor(a, requires_grad=True) for a in arrays]
        ym, yt = fm(*xm), ft(*xt)
        w = r.standard_normal(tuple(yt.shape))
        (ym * mc.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(ym.data, yt.detach().numpy(), rtol=1e-9, atol=1e-12)
        for a, b in zip(xm, xt):
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_tensordot_tensor_dims_and_add_product_errors_name_the_op():
    a, b = mc.arange(6.).reshape(2, 3), mc.arange(12.).reshape(3, 4)
    # torch.tensordot(a, b, torch.tensor(1))
    want = [[20., 23., 26., 29.], [56., 68., 80., 92.]]
    assert mc.tensordot(a, b, mc.tensor(1)).tolist() == want
    assert mc.tensordot(a, b, mc.tensor([1])).tolist() == want
    with pytest.raises(ValueError, match="addmv: size mismatch"):
        mc.addmv(mc.zeros(2), mc.ones(2, 3), mc.ones(4))
    with pytest.raises(ValueError, match="addr expects 1-D"):
        mc.addr(mc.zeros(2, 3), mc.ones(2), mc.ones(2, 2))
    with pytest.raises(ValueError, match="baddbmm: size mismatch"):
        mc.baddbmm(mc.zeros(2, 2, 2), mc.ones(2, 2, 3), mc.ones(3, 3, 2))
    with pytest.raises(ValueError, match="addbmm: size mismatch"):
        mc.addbmm(mc.zeros(2, 2), mc.ones(2, 2, 3), mc.ones(2, 4, 2))
