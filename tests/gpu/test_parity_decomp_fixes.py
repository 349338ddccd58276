"""CPU/GPU parity of the decomposition fixes (tests/ops/test_decomp_fixes.py): lstsq's
gradient and right-hand-side shapes, empty matrices in cond and the spectral norms,
triangular_solve's cloned coefficient, lowercase UPLO, the deprecated rcond/tol arguments
and the dtype checks. Marked ``gpu`` (skipped without CuPy and a CUDA device;
``test_emulated.py`` runs them on the CuPy emulator)."""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(29)
TOL = dict(rtol=1e-7, atol=1e-9)        # cuSOLVER and LAPACK round differently


def randn(*shape):
    return R.standard_normal(shape)


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
