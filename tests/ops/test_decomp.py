"""Matrix decompositions (minicv/ops/decomp.py, minicv.linalg): svd, qr, cholesky, eigh,
solve_triangular, pinv, lstsq, matrix_rank, matrix_exp, cond and the SVD-based matrix
norms. Expected values were computed with PyTorch 2.13 (CPU) and are written out;
gradients are checked by float64 gradcheck on inputs where PyTorch's gradient is defined
(distinct singular values / eigenvalues), through gauge-invariant functions of the
singular vectors and eigenvectors."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck

A43 = [[2., -1., 0.5], [1., 3., -2.], [0., 1., 4.], [1., 1., 1.]]
SPD = [[4., 2., 0.6], [2., 5., 1.], [0.6, 1., 3.]]
M33 = [[0.1, 1., -0.5], [0.3, -0.2, 0.8], [1.2, 0., 0.4]]


def _t(x, dtype=mc.float64, grad=False):
    return mc.tensor(x, dtype=dtype, requires_grad=grad)


def _random(seed, shape, grad=True):
    """A well-conditioned random matrix (distinct singular values almost surely)."""
    return _t(np.random.default_rng(seed).standard_normal(shape), grad=grad)


def _spd(seed, shape):
    a = np.random.default_rng(seed).standard_normal(shape)
    return _t(a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1]), grad=True)


SHAPES = hs.sampled_from([(3, 3), (4, 2), (2, 4), (2, 3, 2), (2, 2, 3)])
SQUARE = hs.sampled_from([(1, 1), (3, 3), (2, 2, 2)])
SEEDS = hs.integers(0, 2 ** 16)


# ----------------------------------------------------------------------------- svd

def test_svd_values_and_reconstruction():
    a = _t(A43)
    # torch.linalg.svdvals(A43)
    np.testing.assert_allclose(mc.linalg.svdvals(a).numpy(),
                               [4.636121904397258, 3.5176768538003915, 2.3199834567955273],
                               rtol=1e-12)
    for shape in [(4, 3), (3, 5), (2, 3, 3)]:
        x = _random(0, shape, grad=False)
        u, s, vh = mc.linalg.svd(x)
        k = min(shape[-2:])
        assert u.shape == shape[:-1] + (shape[-2],) and vh.shape == shape[:-2] + (shape[-1],) * 2
        rebuilt = (u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]
        np.testing.assert_allclose(rebuilt.numpy(), x.numpy(), atol=1e-12)
        r = mc.linalg.svd(x, full_matrices=False)
        assert r.U.shape[-1] == k and r.Vh.shape[-2] == k and r.S.shape == shape[:-2] + (k,)
    assert mc.linalg.svd(_t(A43, mc.float32)).S.dtype == mc.float32


def test_torch_svd_returns_v():
    a = _t(A43)
    u, s, v = mc.svd(a)
    assert u.shape == (4, 3) and v.shape == (3, 3)
    np.testing.assert_allclose(((u * s) @ v.T).numpy(), A43, atol=1e-12)
    u, s, v = a.svd(some=False)
    assert u.shape == (4, 4) and v.shape == (3, 3)
    u, s, v = mc.svd(a, compute_uv=False)         # torch: zero-filled full-size U, V
    assert u.shape == (4, 4) and v.shape == (3, 3) and not u.numpy().any()
    np.testing.assert_allclose(s.numpy(), mc.linalg.svdvals(a).numpy())


@given(shape=SHAPES, seed=SEEDS)
def test_svd_gradcheck(shape, seed):
    x = _random(seed, shape)

    def rebuilt(t):
        u, s, vh = mc.linalg.svd(t, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh
    gradcheck(rebuilt, (x,))
    gradcheck(lambda t: mc.linalg.svd(t).U[..., :min(shape[-2:])].abs(), (x,))
    gradcheck(lambda t: mc.linalg.svd(t, full_matrices=False).Vh.abs(), (x,))
    gradcheck(mc.linalg.svdvals, (x,))


def test_svdvals_gradient_at_repeated_singular_values():
    # torch: the gradient of the singular values alone is U diag(gS) Vh, finite at I
    x = mc.eye(3, dtype=mc.float64, requires_grad=True)
    mc.linalg.svdvals(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-12)


# ----------------------------------------------------------------------------- qr

def test_qr_values_modes():
    q, r = mc.linalg.qr(_t(A43))
    # torch.linalg.qr(A43): same Householder signs as LAPACK
    np.testing.assert_allclose(r.numpy(), [[-2.449489742783178, -0.816496580927726, 0.0],
                                           [0.0, -3.366501646120693, 0.4455663943395036],
                                           [0.0, 0.0, -4.588188159637232]], atol=1e-12)
    np.testing.assert_allclose(q[:, 0].numpy(), [-0.816496580927726, -0.408248290463863,
                                                 0.0, -0.408248290463863], atol=1e-12)
    q, r = mc.linalg.qr(_t(A43), mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 3)
    q, r = mc.linalg.qr(_t(A43), mode="r")
    assert q.shape == (0,) and r.shape == (3, 3)
    q, r = mc.qr(_t(A43).T, some=False)
    assert q.shape == (3, 3) and r.shape == (3, 4)
    np.testing.assert_allclose((q @ r).numpy(), np.array(A43).T, atol=1e-12)


@given(shape=SHAPES, seed=SEEDS)
def test_qr_gradcheck(shape, seed):
    x = _random(seed, shape)
    gradcheck(lambda t: mc.linalg.qr(t), (x,))
    if shape[-2] <= shape[-1]:
        gradcheck(lambda t: mc.linalg.qr(t, mode="complete"), (x,))


def test_qr_backward_errors():
    x = _random(0, (4, 3))
    with pytest.raises(RuntimeError, match="mode='r'"):
        mc.linalg.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        mc.linalg.qr(x, mode="complete").Q.sum().backward()
    with pytest.raises(ValueError, match="unrecognized mode 'x'"):
        mc.linalg.qr(x, mode="x")


# ----------------------------------------------------------------------------- cholesky

def test_cholesky_values():
    s = _t(SPD)
    expected = [[2.0, 0.0, 0.0], [1.0, 2.0, 0.0], [0.3, 0.35, 1.6695807857064]]
    np.testing.assert_allclose(mc.linalg.cholesky(s).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(mc.linalg.cholesky(s, upper=True).numpy(),
                               np.array(expected).T, atol=1e-12)
    np.testing.assert_allclose(s.cholesky().numpy(), expected, atol=1e-12)
    low, info = mc.linalg.cholesky_ex(s)
    assert info.dtype == mc.int32 and info.item() == 0
    # only the lower triangle is read
    np.testing.assert_allclose(mc.linalg.cholesky(s.triu() * 0 + s.tril()).numpy(), expected,
                               atol=1e-12)


def test_cholesky_not_positive_definite():
    bad = mc.tensor([[[1., 0.], [0., 1.]], [[1., 2.], [2., 1.]]])
    with pytest.raises(mc.linalg.LinAlgError,
                       match=r"\(Batch element 1\): The factorization could not be completed "
                             r"because the input is not positive-definite \(the leading "
                             r"minor of order 2 is not positive-definite\)"):
        mc.linalg.cholesky(bad)
    with pytest.raises(RuntimeError, match="^linalg.cholesky: The factorization"):
        mc.linalg.cholesky(bad[1])
    # torch.linalg.cholesky_ex: LAPACK's partial factor and info
    low, info = mc.linalg.cholesky_ex(mc.tensor([[[1., 2.], [2., 1.]], [[1., 0], [0, -1]]]))
    assert info.tolist() == [2, 2]
    assert low.tolist() == [[[1., 0.], [2., -3.]], [[1., 0.], [0., -1.]]]
    with pytest.raises(mc.linalg.LinAlgError, match="cholesky_ex"):
        mc.linalg.cholesky_ex(bad, check_errors=True)


@given(shape=SQUARE, seed=SEEDS, upper=hs.booleans())
def test_cholesky_gradcheck(shape, seed, upper):
    x = _spd(seed, shape)
    gradcheck(lambda t: mc.linalg.cholesky((t + t.mT) / 2, upper=upper), (x,))
    b = _random(seed + 1, shape[:-1] + (2,))
    low = mc.linalg.cholesky(x.detach()).requires_grad_()
    factor = low.mT.detach().requires_grad_() if upper else low
    tri = (lambda f: f.triu()) if upper else (lambda f: f.tril())   # the triangle read
    gradcheck(lambda f, c: mc.cholesky_solve(c, tri(f), upper), (factor, b))
    gradcheck(lambda f: mc.cholesky_inverse(tri(f), upper), (factor,))


def test_cholesky_solve_inverse_values():
    low = _t([[2., 0.], [1., 1.]])
    a = (low @ low.T).numpy()
    b = np.array([[4.], [2.]])
    np.testing.assert_allclose(mc.cholesky_solve(_t(b), low).numpy(), np.linalg.solve(a, b))
    np.testing.assert_allclose(low.cholesky_inverse().numpy(), np.linalg.inv(a))
    np.testing.assert_allclose(mc.cholesky_inverse(low.T, upper=True).numpy(),
                               np.linalg.inv(a))


# ----------------------------------------------------------------------------- eigh

def test_eigh_values():
    s = _t(SPD)
    # torch.linalg.eigvalsh(SPD)
    expected = [2.372468984808981, 2.7225082073229028, 6.905022807868114]
    np.testing.assert_allclose(mc.linalg.eigvalsh(s).numpy(), expected, rtol=1e-12)
    w, v = mc.linalg.eigh(s, UPLO="U")
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose((v * w.unsqueeze(-2) @ v.T).numpy(), SPD, atol=1e-12)
    # only one triangle is read
    junk = s.tril() + mc.triu(mc.ones(3, 3, dtype=mc.float64), 1) * 9
    np.testing.assert_allclose(mc.linalg.eigvalsh(junk).numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="UPLO"):
        mc.linalg.eigh(s, UPLO="X")


@given(shape=SQUARE, seed=SEEDS)
def test_eigh_gradcheck(shape, seed):
    x = _random(seed, shape)
    sym = lambda t: (t + t.mT) / 2
    gradcheck(lambda t: mc.linalg.eigvalsh(sym(t)), (x,))
    gradcheck(lambda t: mc.linalg.eigh(sym(t)).eigenvectors.abs(), (x,))
    gradcheck(lambda t: mc.linalg.eigh(sym(t), "U").eigenvalues, (x,))


# ----------------------------------------------------------------------------- triangular

def test_solve_triangular_values():
    m = _t(M33)
    b = _t([[1.], [2.], [3.]])
    x = mc.linalg.solve_triangular(m, b, upper=True)
    np.testing.assert_allclose(x.numpy(), [[-152.5], [20.0], [7.5]], rtol=1e-12)
    x = mc.linalg.solve_triangular(m, b.T, upper=False, left=False, unitriangular=True)
    np.testing.assert_allclose((x @ (m.tril(-1) + mc.eye(3, dtype=mc.float64))).numpy(),
                               b.T.numpy(), atol=1e-12)
    sol, coeff = mc.triangular_solve(b, m, transpose=True)
    np.testing.assert_allclose((m.triu().T @ sol).numpy(), b.numpy(), atol=1e-12)
    assert coeff.tolist() == M33


@given(seed=SEEDS, upper=hs.booleans(), left=hs.booleans(), unit=hs.booleans())
def test_solve_triangular_gradcheck(seed, upper, left, unit):
    a = _t(np.random.default_rng(seed).standard_normal((2, 3, 3)) + 3 * np.eye(3), grad=True)
    b = _random(seed + 1, (3, 2) if left else (2, 3))                  # batch-broadcast
    gradcheck(lambda s, t: mc.linalg.solve_triangular(s, t, upper=upper, left=left,
                                                      unitriangular=unit), (a, b))


# ----------------------------------------------------------------------------- pinv, lstsq

def test_pinv_values():
    expected = [[0.3817673768774014, 0.09168704156479224, -0.03807195249738039,
                 0.1447782046804052],
                [-0.14530213063220396, 0.22493887530562345, 0.11421585749214115,
                 0.06566538595878452],
                [0.013272790778903235, -0.07823960880195596, 0.1962975899406217,
                 0.051694027244149496]]
    np.testing.assert_allclose(mc.linalg.pinv(_t(A43)).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(mc.pinverse(_t(A43)).numpy(), expected, atol=1e-12)
    rank1 = _t([[1., 2.], [2., 4.]])
    np.testing.assert_allclose(mc.linalg.pinv(rank1).numpy(), rank1.numpy() / 25)
    np.testing.assert_allclose(mc.linalg.pinv(rank1, hermitian=True).numpy(),
                               rank1.numpy() / 25)
    assert not mc.linalg.pinv(rank1, atol=10.).numpy().any()
    assert mc.linalg.pinv(mc.zeros(2, 0, 3)).shape == (2, 3, 0)


@given(shape=SHAPES, seed=SEEDS)
def test_pinv_gradcheck(shape, seed):
    gradcheck(mc.linalg.pinv, (_random(seed, shape),))


def test_lstsq_values_and_fields():
    a, b = _t(A43), _t([[1.], [0.], [2.], [-1.]])
    r = mc.linalg.lstsq(a, b, driver="gelsd")
    np.testing.assert_allclose(r.solution.numpy(), [[0.16084526720223544],
                                                    [0.017464198393293842],
                                                    [0.35417394341599717]], rtol=1e-12)
    np.testing.assert_allclose(r.residuals.numpy(), [3.182850157177786], rtol=1e-12)
    assert r.rank.item() == 3 and r.singular_values.shape == (3,)
    r = mc.linalg.lstsq(a, b)                                         # gelsy
    assert r.residuals.shape == (0,) and r.rank.item() == 3
    assert r.singular_values.shape == (0,)
    r = mc.linalg.lstsq(a, b, driver="gels")
    assert r.rank.shape == (0,) and r.rank.dtype == mc.int64 and r.residuals.shape == (1,)
    r = mc.linalg.lstsq(a.expand(2, 4, 3), mc.ones(2, 4, dtype=mc.float64), driver="gelss")
    assert r.solution.shape == (2, 3) and r.residuals.shape == (2, 1)
    rank1 = _t([[1., 2.], [2., 4.], [3., 6.]])
    r = mc.linalg.lstsq(rank1, mc.ones(3, 1, dtype=mc.float64), driver="gelsd")
    assert r.rank.item() == 1 and r.residuals.shape == (0,)            # not full rank
    np.testing.assert_allclose(r.solution.numpy(), [[0.0857142857142857],
                                                    [0.1714285714285714]], rtol=1e-12)


@given(shape=SHAPES, seed=SEEDS)
def test_lstsq_gradcheck(shape, seed):
    a = _random(seed, shape)
    b = _random(seed + 1, shape[:-1] + (2,))
    gradcheck(lambda s, t: mc.linalg.lstsq(s, t).solution, (a, b))


def test_lstsq_errors():
    a = _t(A43)
    with pytest.raises(ValueError, match="driver"):
        mc.linalg.lstsq(a, a, driver="foo")
    with pytest.raises(ValueError, match=r"input.size\(-2\) should match"):
        mc.linalg.lstsq(a, mc.ones(3, 2, dtype=mc.float64))
    with pytest.raises(TypeError, match="same dtype"):
        mc.linalg.lstsq(a, mc.ones(4, 2))


# ----------------------------------------------------------------------------- exp, rank, cond

def test_matrix_exp_values_and_gradient():
    m = _t(M33, grad=True)
    y = mc.linalg.matrix_exp(m)
    np.testing.assert_allclose(y.detach().numpy(), [
        [1.066877935782499, 0.9335428522587962, -0.19212788481795035],
        [0.8073784549956189, 1.1163873296785978, 0.7962701192430979],
        [1.5157381221990405, 0.6591444991474749, 1.281026341545391]], rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), [
        [2.6224349930340813, 3.161115266984219, 3.755684668671272],
        [2.17790931601622, 2.642470229750065, 3.1483796187647464],
        [1.8430014563312744, 2.266800994072334, 2.7193325472484187]], rtol=1e-10)
    assert mc.matrix_exp(mc.zeros(2, 3, 3)).tolist() == [np.eye(3).tolist()] * 2
    big = mc.tensor([[0., 40.], [-40., 0.]], dtype=mc.float64)        # a rotation by 40 rad
    np.testing.assert_allclose(big.matrix_exp().numpy(), [[np.cos(40), np.sin(40)],
                                                          [-np.sin(40), np.cos(40)]],
                               atol=1e-10)
    assert mc.linalg.matrix_exp(mc.zeros(0, 0)).shape == (0, 0)


@given(shape=SQUARE, seed=SEEDS, scale=hs.sampled_from([0.5, 4.0]))
def test_matrix_exp_gradcheck(shape, seed, scale):
    x = _t(np.random.default_rng(seed).standard_normal(shape) * scale, grad=True)
    gradcheck(mc.linalg.matrix_exp, (x,), rtol=1e-3, atol=1e-5)


def test_matrix_rank_cond_and_norms():
    m = _t(M33)
    assert mc.linalg.matrix_rank(_t(A43)).item() == 3
    assert mc.linalg.matrix_rank(mc.ones(3, 2)).item() == 1
    assert mc.linalg.matrix_rank(mc.ones(3, 2), atol=10.).item() == 0
    diag = mc.eye(3) * mc.tensor([1, 1e-3, 1e-9])
    assert mc.linalg.matrix_rank(diag, rtol=1e-4).item() == 2
    assert mc.linalg.matrix_rank(diag, hermitian=True).dtype == mc.int64
    # torch.linalg.cond(M33), cond(M33, 1)
    np.testing.assert_allclose(mc.linalg.cond(m).item(), 3.439092555355819, rtol=1e-12)
    np.testing.assert_allclose(mc.linalg.cond(m, 1).item(), 5.348314606741573, rtol=1e-12)
    assert mc.linalg.cond(mc.tensor([[1., 2.], [2., 4.]]), "fro").item() == np.inf
    x = mc.tensor([[1., 2.], [3., 4.], [5., 6.]], requires_grad=True)
    # torch.linalg.matrix_norm(x, ord) and its gradient
    for ord, value, grad0 in [("nuc", 10.039820671081543, [-0.5510035, 0.7278250]),
                              (2, 9.525519371032715, [0.1424205, 0.1804063]),
                              (-2, 0.5143013596534729, [-0.6934240, 0.5474187])]:
        y = mc.linalg.matrix_norm(x, ord=ord)
        y.backward()
        np.testing.assert_allclose(y.item(), value, rtol=1e-5)
        np.testing.assert_allclose(x.grad[0].numpy(), grad0, atol=1e-5)
        x.grad = None
    assert mc.linalg.norm(mc.ones(2, 3, 4), ord=2, dim=(0, 2), keepdim=True).shape == (1, 3, 1)


@given(shape=SHAPES, seed=SEEDS, ord=hs.sampled_from(["nuc", 2, -2]))
def test_spectral_norm_and_cond_gradcheck(shape, seed, ord):
    x = _random(seed, shape)
    gradcheck(lambda t: mc.linalg.matrix_norm(t, ord=ord), (x,))
    gradcheck(lambda t: mc.linalg.cond(t, -2 if ord == -2 else None), (x,))


# ----------------------------------------------------------------------------- awkward inputs

def test_non_contiguous_and_empty_inputs():
    base = _random(3, (4, 4), grad=False)
    view = base.T[::2]                                                # (2, 4), strided
    u, s, vh = mc.linalg.svd(view, full_matrices=False)
    np.testing.assert_allclose(((u * s) @ vh).numpy(), view.numpy(), atol=1e-12)
    q, r = mc.linalg.qr(view.T)
    np.testing.assert_allclose((q @ r).numpy(), view.T.numpy(), atol=1e-12)
    assert mc.linalg.svdvals(mc.zeros(2, 0, 3)).shape == (2, 0)
    assert mc.linalg.eigvalsh(mc.zeros(0, 2, 2)).shape == (0, 2)


@pytest.mark.parametrize("fn", [mc.linalg.cholesky, mc.linalg.eigh, mc.linalg.eigvalsh,
                                mc.linalg.matrix_exp, mc.linalg.cholesky_ex])
def test_square_errors(fn):
    with pytest.raises(ValueError, match="square matrices, but they are 2 by 3 matrices"):
        fn(mc.ones(2, 3))


@pytest.mark.parametrize("fn", [mc.linalg.svd, mc.linalg.svdvals, mc.linalg.qr,
                                mc.linalg.pinv, mc.linalg.matrix_rank, mc.linalg.cholesky,
                                mc.linalg.eigh, mc.linalg.matrix_exp, mc.linalg.cond])
def test_dtype_and_rank_errors(fn):
    with pytest.raises(TypeError, match="floating point"):
        fn(mc.ones(2, 2, dtype=mc.int64))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fn(mc.ones(3))


def test_norm_and_cond_argument_errors():
    with pytest.raises(ValueError, match="Order 3 not supported"):
        mc.linalg.matrix_norm(mc.ones(2, 3), ord=3)
    with pytest.raises(ValueError, match="invalid norm type: 3"):
        mc.linalg.cond(mc.ones(2, 2), 3)
    with pytest.raises(ValueError, match="square matrices"):
        mc.linalg.cond(mc.ones(2, 3), "fro")
    with pytest.raises(ValueError, match="Incompatible shapes"):
        mc.linalg.solve_triangular(mc.eye(3), mc.ones(2, 1), upper=True)
