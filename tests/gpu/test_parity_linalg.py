"""CPU/GPU parity of the linear-algebra ops (``minicv.ops.linalg`` and ``mc.linalg``):
values, gradients, dtypes and errors must agree. Marked ``gpu`` (skipped without CuPy and
a CUDA device; ``test_emulated.py`` runs them on the CuPy emulator)."""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

INF = float("inf")
R = np.random.default_rng(11)


def randn(*shape):
    return R.standard_normal(shape)


def well_conditioned(*shape):
    return randn(*shape) * 0.3 + 3 * np.eye(shape[-1])


def test_diagonals_and_products_on_the_gpu():
    _same(lambda x: mc.diagonal(x, 1, 0, 2), randn(2, 3, 4))
    _same(lambda x: x.diagonal(-1, 2, 1) * 2, randn(2, 3, 4))
    _same(lambda x: mc.diag_embed(x, -1, 0, 2), randn(2, 3))
    _same(lambda x: mc.trace(x), randn(3, 4))
    _same(lambda x: mc.diagflat(x, 1), randn(2, 2))
    _same(lambda a, b, c: mc.block_diag(a, b, c), randn(2, 3), randn(3), np.array(2.))
    _same(mc.kron, randn(2, 3), randn(2, 1, 2))
    _same(lambda a, b: mc.tensordot(a, b, ([1, 2], [1, 0])), randn(2, 3, 4), randn(4, 3, 2))
    _same(mc.inner, randn(2, 3), randn(4, 3))
    _same(mc.vdot, np.arange(3), np.arange(3), grad=False)
    _same(lambda c, a, b: mc.baddbmm(c, a, b, beta=0.5, alpha=2), randn(3), randn(2, 2, 4),
          randn(2, 4, 3))
    _same(lambda c, a, b: mc.addbmm(c, a, b, beta=0), randn(2, 3), randn(2, 2, 4),
          randn(2, 4, 3))
    _same(lambda c, a, b: mc.addmv(c, a, b), randn(2), randn(2, 3), randn(3))
    _same(lambda c, a, b: mc.addr(c, a, b, alpha=2), randn(2, 3), randn(2), randn(3))
    _same(lambda c, a, b: mc.addcmul(c, a, b, value=0.5), randn(3), randn(2, 1), randn(2, 3))
    _same(lambda c, a, b: mc.addcdiv(c, a, b, value=2), randn(3), randn(2, 1),
          randn(2, 3) + 4)
    _same(lambda c, a, b: mc.addcmul(c, a, b, value=2.5), np.arange(3), np.arange(3),
          np.arange(3), grad=False)
    _same(lambda a, b: mc.linalg.cross(a, b), randn(4, 3), randn(1, 3))
    _same(lambda a, b: mc.cross(a, b, dim=0), randn(3, 2), randn(3, 2))


def test_combinatorics_and_chains_on_the_gpu():
    _same(lambda a, b: mc.cartesian_prod(a, b), randn(2), randn(3))
    _same(lambda x: mc.combinations(x, 2, with_replacement=True), randn(4))
    _same(lambda x: mc.vander(x, 4), randn(3))
    _same(lambda x: mc.vander(x), np.arange(1, 4), grad=False)
    _same(lambda a, b, c: mc.linalg.multi_dot([a, b, c]), randn(3), randn(3, 4), randn(4))
    _same(lambda a: mc.matrix_power(a, 3), randn(2, 3, 3))
    _same(lambda a: mc.matrix_power(a, 0), randn(3, 3))
    t = mc.tril_indices(3, 4, 1, device="cuda")
    assert t.device.type == "cuda"
    assert t.tolist() == mc.tril_indices(3, 4, 1).tolist()


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 0.5, 3.0, INF])
def test_cdist_on_the_gpu(p):
    x1 = R.integers(-1, 2, (2, 4, 3)).astype(float)           # zero distances and ties
    x2 = R.integers(-1, 2, (1, 5, 3)).astype(float)
    _same(lambda a, b: mc.cdist(a, b, p), x1, x2)
    _same(lambda a, b: mc.cdist(a, b, p), randn(4, 3), randn(5, 3))


# The CuPy emulator has no cupy.linalg (a real CuPy has): these run on a GPU only.
needs_cupy_linalg = pytest.mark.skipif(not hasattr(cp, "linalg"),
                                       reason="this CuPy (the emulator) has no cupy.linalg")


@needs_cupy_linalg
def test_det_inverse_solve_on_the_gpu():
    _same(lambda a: mc.matrix_power(a, -2), well_conditioned(2, 3, 3), rtol=1e-7)
    _same(mc.det, well_conditioned(2, 3, 3), rtol=1e-7)
    _same(mc.det, np.array([[1., 2], [2, 4]]))                  # singular: gradient 0
    _same(lambda a: mc.slogdet(a)[1], well_conditioned(2, 3, 3), rtol=1e-7)
    _same(lambda a: mc.logdet(a), well_conditioned(3, 3), rtol=1e-7)
    _same(mc.inverse, well_conditioned(2, 3, 3), rtol=1e-7)
    _same(mc.linalg.solve, well_conditioned(2, 3, 3), randn(3, 2), rtol=1e-7)
    _same(mc.linalg.solve, well_conditioned(2, 3, 3), randn(2, 3), rtol=1e-7)
    _same(lambda a, b: mc.linalg.solve(a, b, left=False), well_conditioned(3, 3),
          randn(2, 4, 3), rtol=1e-7)


def test_norms_on_the_gpu():
    for o in ("fro", 1, -1, INF, -INF):
        _same(lambda a: mc.linalg.matrix_norm(a, o), randn(2, 3, 4))
    _same(lambda a: mc.linalg.vector_norm(a, 3, (0, 2), True), randn(2, 3, 4))
    _same(lambda a, b: mc.linalg.vecdot(a, b), randn(2, 3), randn(3))


def test_linalg_errors_on_the_gpu():
    _same_error(mc.det, np.ones((2, 3)), match="2 by 3 matrices")      # before cupy.linalg
    _same_error(mc.inverse, np.array([[1, 2], [3, 4]]), error=TypeError,
                match="floating point")
    _same_error(mc.cdist, np.ones(3), np.ones((2, 3)), match="at least 2D")
    _same_error(lambda a, b: mc.linalg.cross(a, b), np.ones((3, 2)), np.ones((3, 2)),
                match="must have length 3")
    _same_error(lambda a, b: mc.tensordot(a, b, 1), np.ones((2, 3)), np.ones((4, 3)),
                match="contracted dimensions")
