"""CPU/GPU parity of the matrix decompositions (``minicv.ops.decomp``, ``mc.linalg``): svd,
qr, cholesky, eigh, solve_triangular, pinv, lstsq, matrix_rank, matrix_exp, cond and the
SVD norms; values, gradients, dtypes and errors must agree. Functions of singular vectors
and eigenvectors are gauge-invariant (cuSOLVER may pick other signs than LAPACK). Marked
``gpu`` (skipped without CuPy and a CUDA device; ``test_emulated.py`` runs them on the
CuPy emulator)."""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(23)
TOL = dict(rtol=1e-7, atol=1e-9)        # cuSOLVER and LAPACK round differently


def randn(*shape):
    return R.standard_normal(shape)


def spd(*shape):
    a = randn(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _rebuilt(t):
    u, s, vh = mc.linalg.svd(t, full_matrices=False)
    return (u * s.unsqueeze(-2)) @ vh


def test_svd_qr_pinv_on_the_gpu():
    for shape in [(4, 3), (2, 3, 5)]:
        x = randn(*shape)
        _same(_rebuilt, x, **TOL)
        _same(lambda t: mc.linalg.svd(t, full_matrices=False).U.abs(), x, **TOL)
        _same(mc.linalg.svdvals, x, **TOL)
        _same(lambda t: mc.linalg.qr(t).Q.abs(), x, **TOL)
        _same(lambda t: mc.linalg.qr(t).R.abs(), x, **TOL)
        _same(mc.linalg.pinv, x, **TOL)
        _same(lambda t: mc.linalg.matrix_norm(t, "nuc"), x, **TOL)
        _same(lambda t: mc.linalg.cond(t), x, **TOL)
        _same(lambda t: mc.linalg.lstsq(t, t[..., :1]).solution, x, **TOL)
        _same(lambda t: mc.linalg.matrix_rank(t), x)
    _same(lambda t: mc.svd(t).V.abs(), randn(3, 2).astype(np.float32), rtol=1e-4, atol=1e-5)


def test_cholesky_eigh_triangular_exp_on_the_gpu():
    a = spd(2, 3, 3)
    _same(mc.linalg.cholesky, a, **TOL)
    _same(lambda t: mc.linalg.cholesky(t, upper=True), a, **TOL)
    _same(lambda t: mc.linalg.cholesky_ex(t).info, a, grad=False)
    _same(lambda t: mc.cholesky_inverse(mc.linalg.cholesky(t)), a, **TOL)
    _same(lambda t: mc.linalg.eigh(t).eigenvectors.abs(), a, **TOL)
    _same(lambda t: mc.linalg.eigvalsh(t, "U"), a, **TOL)
    _same(lambda t: mc.linalg.pinv(t, hermitian=True), a, **TOL)
    b = randn(3, 2)
    _same(lambda t, u: mc.linalg.solve_triangular(t, u, upper=True), a, b, **TOL)
    _same(lambda t, u: mc.linalg.solve_triangular(t, u.mT, upper=False, left=False,
                                                  unitriangular=True), a, b, **TOL)
    _same(lambda t, u: mc.cholesky_solve(u, t), np.tril(a), b, **TOL)
    _same(mc.linalg.matrix_exp, randn(2, 3, 3) * 3, **TOL)
    _same(mc.linalg.matrix_exp, randn(3, 3).astype(np.float32), rtol=1e-4, atol=1e-5)


def test_decomposition_errors_on_the_gpu():
    _same_error(mc.linalg.cholesky, np.ones((2, 3)), match="square matrices")
    _same_error(mc.linalg.svd, np.ones((2, 2), np.int64), error=TypeError,
                match="floating point")
    _same_error(mc.linalg.qr, np.ones(3), match="at least 2 dimensions")
    _same_error(lambda t: mc.linalg.lstsq(t, t, driver="foo"), np.ones((3, 2)),
                match="driver")


# ----------------------------------------------------------------------------- the fixes of the
# differential review: lstsq's gradient and shapes, empty matrices, cloned coefficient,
# lowercase UPLO, the deprecated rcond/tol arguments, the dtype checks

def test_lstsq_fixes_on_the_gpu():
    a = randn(3, 2) + np.eye(3, 2)
    _same(lambda t, u: mc.linalg.lstsq(t, u).solution, a, randn(3), **TOL)
    gels = dict(driver="gels")                         # the only driver on a GPU
    _same(lambda t, u: mc.linalg.lstsq(t, u, 0.9, **gels).solution, a, randn(3, 2), **TOL)
    _same(lambda t, u: mc.linalg.lstsq(t.unsqueeze(0), u).solution, a, randn(3, 2), **TOL)
    _same(lambda t, u: mc.linalg.lstsq(t.expand(2, 3, 2), u, **gels).residuals, a,
          randn(2, 3, 1), **TOL)


def test_empty_matrices_and_arguments_on_the_gpu():
    for shape in [(3, 0), (2, 0, 0)]:
        _same(lambda t: mc.linalg.cond(t), np.zeros(shape), grad=False)
        _same(lambda t: mc.linalg.cond(t, 1), np.zeros(shape), grad=False)
        _same(lambda t: mc.linalg.matrix_norm(t, 2, keepdim=True), np.zeros(shape))
    s = randn(3, 3)
    _same(lambda t: mc.linalg.eigvalsh(t, "u"), s, **TOL)
    _same(lambda t: mc.linalg.pinv(t, 0.3, True), s + s.T, **TOL)
    _same(lambda t: mc.linalg.matrix_rank(t, 0.5), s, grad=False)
    b = randn(2, 3, 1)
    tri = np.triu(s) + 3 * np.eye(3)
    _same(lambda t, u: mc.triangular_solve(u, t).cloned_coefficient, tri, b, **TOL)
    _same(lambda t, u: mc.linalg.solve_triangular(t, u, upper=True), tri.astype(np.float32),
          b, rtol=1e-5, atol=1e-6)


def test_decomposition_fix_errors_on_the_gpu():
    a, b32 = np.eye(2), np.ones((2, 1), np.float32)
    _same_error(lambda t, u: mc.cholesky_solve(u, t), a, b32, error=TypeError,
                match="same dtype")
    _same_error(lambda t, u: mc.triangular_solve(u, t), a, b32, error=TypeError,
                match="same dtype")
    _same_error(lambda t: mc.linalg.matrix_norm(t, dtype=mc.float32), a, error=TypeError,
                match="narrowing")
    _same_error(lambda t: mc.linalg.matrix_norm(t, -2), np.zeros((3, 0)), error=IndexError)
    _same_error(lambda t: mc.linalg.eigh(t, "x"), a, match="UPLO")
