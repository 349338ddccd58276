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
