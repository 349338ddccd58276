"""Fixes to the decompositions after a comparison with PyTorch 2.13 (minicv/ops/decomp.py,
minicv/linalg.py): Cholesky's partial factor on non-positive-definite input, empty
matrices in cond and the spectral norms, triangular_solve's cloned coefficient, lowercase
UPLO, the deprecated rcond/tol arguments, lstsq's rcond, gradient and right-hand-side
shapes, and dtype checks. Expected values come from PyTorch 2.13 (CPU), written out."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck


def _t(x, dtype=mc.float64, grad=False):
    return mc.tensor(x, dtype=dtype, requires_grad=grad)


# ----------------------------------------------------------------------------- cholesky

# fails at the leading minor of order 3: d = 1 - (1 + 1) = -1
NOT_PD = [[4., 2., -2., 1., 0.], [2., 5., 1., 0., 3.], [-2., 1., 1., 2., 1.],
          [1., 0., 2., 6., 1.], [0., 3., 1., 1., 7.]]
# torch.linalg.cholesky_ex(NOT_PD): LAPACK's dpotf2 state when it stops at column 3
NOT_PD_L = [[2., 0., 0., 0., 0.], [1., 2., 0., 0., 0.], [-1., 1., -1., 0., 0.],
            [0.5, -0.25, 2., 6., 0.], [0., 1.5, 1., 1., 7.]]


@pytest.mark.parametrize("dtype", [mc.float32, mc.float64])
def test_cholesky_ex_partial_factor_is_lapacks(dtype):
    low, info = mc.linalg.cholesky_ex(_t(NOT_PD, dtype))
    assert info.item() == 3 and info.dtype == mc.int32 and low.dtype == dtype
    np.testing.assert_allclose(low.numpy(), NOT_PD_L, rtol=1e-6)
    up, info = mc.linalg.cholesky_ex(_t(NOT_PD, dtype), upper=True)
    assert info.item() == 3
    np.testing.assert_allclose(up.numpy(), np.transpose(NOT_PD_L), rtol=1e-6)
    # finding 7: torch's L[2] = [0.5, 1, 5] (column 0 done, the rest A's lower triangle)
    low, info = mc.linalg.cholesky_ex(_t([[4., 2., 1.], [2., -3., 1.], [1., 1., 5.]]))
    np.testing.assert_array_equal(low.numpy(), [[2., 0., 0.], [1., -4., 0.], [0.5, 1., 5.]])
    assert info.item() == 2


def test_cholesky_ex_batch_mixes_pd_and_failing_matrices():
    a = mc.stack([4 * mc.eye(5, dtype=mc.float64), _t(NOT_PD), -mc.eye(5, dtype=mc.float64)])
    low, info = mc.linalg.cholesky_ex(a)
    np.testing.assert_array_equal(info.numpy(), [0, 3, 1])
    np.testing.assert_allclose(low[0].numpy(), 2 * np.eye(5))
    np.testing.assert_allclose(low[1].numpy(), NOT_PD_L, rtol=1e-12)
    np.testing.assert_array_equal(np.diagonal(low[2].numpy()), [-1.] * 5)   # A untouched
    # NaN is not a positive pivot (LAPACK's disnan check)
    low, info = mc.linalg.cholesky_ex(_t([[1., 0.], [0., float("nan")]]))
    assert info.item() == 2 and low[0, 0].item() == 1. and np.isnan(low[1, 1].item())
    with pytest.raises(mc.linalg.LinAlgError, match=r"Batch element 1.*order 3"):
        mc.linalg.cholesky(a)


def test_cholesky_ex_failing_large_matrix():
    """The search is one pass (it ran eigvalsh on every leading minor, O(n^4))."""
    x = np.random.default_rng(0).standard_normal((150, 150))
    a = x @ x.T / 150 + 0.1 * np.eye(150)
    a[120, 120] -= 100.
    low, info = mc.linalg.cholesky_ex(_t(a))
    assert info.item() == 121
    expected = np.linalg.cholesky(a[:120, :120])
    np.testing.assert_allclose(low.numpy()[:120, :120], expected, atol=1e-12)


def test_cholesky_ex_matches_torch_on_random_non_pd_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for n, batch in [(1, ()), (4, (3,)), (7, (2, 2)), (40, ())]:
        x = rng.standard_normal(batch + (n, n))
        a = x @ np.swapaxes(x, -1, -2) / n + 0.1 * np.eye(n)
        a[..., n // 2, n // 2] -= 3.
        for upper in (False, True):
            want = torch.linalg.cholesky_ex(torch.tensor(a), upper=upper)
            got = mc.linalg.cholesky_ex(_t(a), upper=upper)
            np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
            np.testing.assert_allclose(got.L.numpy(), want.L.numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- empty matrices

@pytest.mark.parametrize("shape", [(0, 0), (3, 0), (0, 3), (2, 3, 0), (0, 3, 3)])
def test_cond_of_empty_matrices_is_zero(shape):
    # torch.linalg.cond: zeros of the batch shape for every order defined there
    for p in [None, 2, -2, 1, -1, np.inf, -np.inf] + (["fro", "nuc"] if shape[-1] ==
                                                      shape[-2] else []):
        out = mc.linalg.cond(mc.zeros(shape), p)
        assert out.shape == shape[:-2] and out.dtype == mc.float32
        assert not out.numpy().any()
    if shape[-1] != shape[-2]:
        with pytest.raises(ValueError, match="square"):
            mc.linalg.cond(mc.zeros(shape), "fro")


def test_spectral_norms_of_empty_matrices():
    for fn in (lambda x, o, k: mc.linalg.matrix_norm(x, o, keepdim=k),
               lambda x, o, k: mc.linalg.norm(x, o, (-2, -1), k)):
        assert fn(mc.zeros(3, 0), 2, False).shape == () and fn(mc.zeros(3, 0), 2, False) == 0
        out = fn(mc.zeros(2, 3, 0), 2, True)
        assert out.shape == (2, 1, 1) and not out.numpy().any()
        assert fn(mc.zeros(0, 0), "nuc", True).shape == (1, 1)
        assert fn(mc.zeros(0, 3, 3), -2, True).shape == (0, 1, 1)
        with pytest.raises(IndexError, match="ord=-2"):                  # as torch
            fn(mc.zeros(3, 0), -2, False)
    assert mc.linalg.norm(mc.zeros(0, 0), 2).item() == 0


# ----------------------------------------------------------------------------- triangular

def test_triangular_solve_clones_the_coefficient_to_the_batch_shape():
    a = _t(np.triu(np.ones((3, 3)) + np.eye(3)), grad=True)
    r = mc.triangular_solve(mc.ones(2, 3, 1, dtype=mc.float64), a)
    assert r.solution.shape == (2, 3, 1) and r.cloned_coefficient.shape == (2, 3, 3)
    np.testing.assert_array_equal(r.cloned_coefficient.detach().numpy(),
                                  np.broadcast_to(a.detach().numpy(), (2, 3, 3)))
    r.cloned_coefficient.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 3), 2.))    # torch's
    r = mc.triangular_solve(mc.ones(2, 1, 3, 1, dtype=mc.float64), a.detach().expand(4, 3, 3),
                            transpose=True)
    assert r.solution.shape == (2, 4, 3, 1) and r.cloned_coefficient.shape == (2, 4, 3, 3)


def test_triangular_solvers_check_dtypes():
    a64 = _t([[2., 0.], [1., 3.]])
    b32 = mc.ones(2, 1)
    with pytest.raises(TypeError, match="same dtype.*float32.*float64"):
        mc.triangular_solve(b32, a64)
    with pytest.raises(TypeError, match="same dtype"):
        mc.cholesky_solve(b32, a64)
    with pytest.raises(TypeError, match="same dtype"):
        mc.cholesky_solve(b32.double(), a64.float())
    # torch.linalg.solve_triangular converts B to A's dtype, without raising
    x = mc.linalg.solve_triangular(a64.float(), _t([[1.], [1.]], grad=True), upper=False)
    assert x.dtype == mc.float32
    np.testing.assert_allclose(x.detach().numpy(), [[0.5], [1 / 6]], rtol=1e-6)
    assert mc.linalg.solve_triangular(a64, b32, upper=False).dtype == mc.float64
    assert mc.linalg.solve_triangular(a64, mc.ones(2, 1, dtype=mc.int64),
                                      upper=False).dtype == mc.float64
    with pytest.raises(TypeError, match="floating point"):
        mc.linalg.solve_triangular(a64.long(), a64, upper=False)


def test_cholesky_solve_and_inverse_refuse_a_zero_on_the_diagonal():
    singular = _t([[1., 0.], [1., 0.]])
    with pytest.raises(mc.linalg.LinAlgError, match="diagonal element 2 is zero"):
        mc.cholesky_solve(mc.ones(2, 1, dtype=mc.float64), singular)
    with pytest.raises(mc.linalg.LinAlgError, match="diagonal element 1 is zero"):
        mc.cholesky_solve(mc.ones(2, 1, dtype=mc.float64), _t([[0., 0.], [1., 2.]]),
                          upper=True)
    with pytest.raises(mc.linalg.LinAlgError, match="diagonal element 2 is zero"):
        mc.cholesky_inverse(singular)


# ----------------------------------------------------------------------------- eigh, norms

def test_eigh_accepts_lowercase_uplo():
    a = _t([[2., 7.], [1., 2.]])                        # the triangles disagree
    # torch.linalg.eigvalsh(a, 'l') / (a, 'u')
    np.testing.assert_allclose(mc.linalg.eigvalsh(a, "l").numpy(), [1., 3.])
    np.testing.assert_allclose(mc.linalg.eigvalsh(a, UPLO="u").numpy(), [-5., 9.])
    np.testing.assert_allclose(mc.linalg.eigh(a, "u").eigenvalues.numpy(), [-5., 9.])
    for bad in ("x", "LU", None):
        with pytest.raises(ValueError, match="UPLO"):
            mc.linalg.eigh(a, bad)


def test_norms_refuse_a_narrowing_dtype():
    x64 = mc.ones(2, 2, dtype=mc.float64)
    for fn, name in [(lambda d: mc.linalg.vector_norm(x64, dtype=d), "vector_norm"),
                     (lambda d: mc.linalg.matrix_norm(x64, dtype=d), "matrix_norm"),
                     (lambda d: mc.linalg.matrix_norm(x64, 2, dtype=d), "matrix_norm"),
                     (lambda d: mc.linalg.norm(x64, dtype=d), "vector_norm"),
                     (lambda d: mc.linalg.norm(x64, "fro", dtype=d), "matrix_norm")]:
        with pytest.raises(TypeError, match=f"{name}.*float64.*narrowing.*float32"):
            fn(mc.float32)
        with pytest.raises(TypeError, match="floating point"):
            fn(mc.int64)
        assert fn(mc.float64).dtype == mc.float64
    out = mc.linalg.matrix_norm(mc.ones(2, 2), 1, dtype=mc.float64)
    assert out.dtype == mc.float64 and out.item() == 2.


# ----------------------------------------------------------------------------- rcond, tol

def test_pinv_takes_the_deprecated_rcond():
    a = _t(np.diag([1., 0.1, 0.01]))
    want = np.diag([1., 10., 0.])                      # torch.linalg.pinv(a, 0.05)
    for out in (mc.linalg.pinv(a, 0.05), mc.linalg.pinv(a, rcond=0.05),
                mc.linalg.pinv(a, 0.05, True), mc.linalg.pinv(a, rcond=0.05, hermitian=True),
                mc.linalg.pinv(a, _t(0.05))):
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(mc.linalg.pinv(a, 0).numpy(), np.diag([1., 10., 100.]))
    assert mc.linalg.pinv(a, _t([[0.05], [0.5]])).shape == (2, 1, 3, 3)
    with pytest.raises(TypeError, match="rcond"):
        mc.linalg.pinv(a, 0.05, rtol=0.1)


def test_matrix_rank_takes_the_deprecated_tol():
    a = _t(np.diag([1., 0.1, 0.01]))
    assert mc.linalg.matrix_rank(a, 0.05).item() == 2
    assert mc.linalg.matrix_rank(a, tol=0.05, hermitian=True).item() == 2
    assert mc.linalg.matrix_rank(a, 0.05, True).item() == 2
    assert mc.linalg.matrix_rank(_t(np.diag([1., 1e-20])), tol=0.).item() == 2  # rtol = 0
    np.testing.assert_array_equal(mc.linalg.matrix_rank(a, _t([0.05, 0.5, 2.])).numpy(),
                                  [2, 1, 0])
    with pytest.raises(TypeError, match="tol"):
        mc.linalg.matrix_rank(a, tol=0.05, atol=0.1)


# ----------------------------------------------------------------------------- lstsq

def test_lstsq_gels_ignores_rcond():
    a, b = _t([[1., 0.], [0., 1e-3], [0., 0.]]), mc.ones(3, 1, dtype=mc.float64)
    # torch.linalg.lstsq(a, b, rcond=0.01, driver=...).solution
    np.testing.assert_allclose(mc.linalg.lstsq(a, b, 0.01, driver="gels").solution.numpy(),
                               [[1.], [1000.]], rtol=1e-9)
    for driver in ("gelsy", "gelsd", "gelss"):
        np.testing.assert_allclose(mc.linalg.lstsq(a, b, 0.01, driver=driver).solution.numpy(),
                                   [[1.], [0.]], atol=1e-12)


def test_lstsq_gradient_ignores_the_rcond_cut():
    a = _t([[1., 0.], [0., 0.1], [0., 0.]], grad=True)
    b = _t([1., 1., 1.], grad=True)
    x = mc.linalg.lstsq(a, b, rcond=0.5, driver="gelsd").solution
    np.testing.assert_allclose(x.detach().numpy(), [1., 0.], atol=1e-12)
    x.sum().backward()
    # torch: the backward goes through pinv(A) with the default tolerance
    np.testing.assert_allclose(a.grad.numpy(), [[-1., -10.], [-10., -100.], [1., 100.]],
                               rtol=1e-9)
    np.testing.assert_allclose(b.grad.numpy(), [1., 10., 0.], rtol=1e-9, atol=1e-12)


@given(hs.sampled_from([((3, 2), (3, 2)), ((2, 3), (2,)), ((2, 3, 3), (2, 3)),
                        ((1, 2, 2), (2, 2))]),
       hs.integers(0, 2 ** 16))
def test_lstsq_gradcheck(shapes, seed):
    rng = np.random.default_rng(seed)
    a = _t(rng.standard_normal(shapes[0]) + 2 * np.eye(*shapes[0][-2:]), grad=True)
    b = _t(rng.standard_normal(shapes[1]), grad=True)
    gradcheck(lambda u, v: mc.linalg.lstsq(u, v, driver="gelsd").solution, (a, b))


def test_lstsq_right_hand_side_shapes_follow_torch():
    rng = np.random.default_rng(0)

    def shapes(a_shape, b_shape, driver="gelsd"):
        r = mc.linalg.lstsq(_t(rng.standard_normal(a_shape)), _t(rng.standard_normal(b_shape)),
                            driver=driver)
        return [tuple(f.shape) for f in r]
    # torch.linalg.lstsq(...) field shapes
    assert shapes((1, 2, 2), (2, 2)) == [(2, 2, 2), (0,), (1,), (1, 2)]
    assert shapes((2, 2, 2), (2, 3)) == [(2, 2, 3), (0,), (2,), (2, 2)]
    assert shapes((2, 1, 1), (1, 2), "gelsy") == [(2, 1, 2), (0,), (2,), (0,)]
    assert shapes((1, 3, 2), (3, 2)) == [(3, 2, 2), (3, 2), (1,), (1, 2)]
    assert shapes((3, 4, 2), (3, 4)) == [(3, 2), (3, 1), (3,), (3, 2)]    # a vector
    assert shapes((4, 2), (4,)) == [(2,), (1,), (), (2,)]
    for a_shape, b_shape in [((3, 4, 2), (1, 4)), ((2, 3, 3), (1, 3))]:
        with pytest.raises(ValueError, match="size"):
            shapes(a_shape, b_shape)
    with pytest.raises(ValueError, match="dim"):
        shapes((3, 4, 2), (4,))


def test_lstsq_broadcast_solution_values_and_gradient():
    a = _t([[1., 2.], [3., 4.]], grad=True)
    b = _t([[1., 0.], [1., 2.]], grad=True)
    x = mc.linalg.lstsq(a.unsqueeze(0), b).solution
    np.testing.assert_allclose(x.detach().numpy(), [[[-1., 2.], [1., -1.]]] * 2, atol=1e-12)
    (x * mc.arange(8.).reshape(2, 2, 2)).sum().backward()
    # torch's gradients for the same expression
    np.testing.assert_allclose(a.grad.numpy(), [[-2., -1.], [-2., 1.]], atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), [[4., 3.], [0., 1.]], atol=1e-12)
