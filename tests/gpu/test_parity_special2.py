"""CPU/GPU parity of minicv/ops/special2.py (the new torch.special functions and
histogram): values, dtypes, input gradients and errors alike on both devices, for
float64, float32 and integer inputs.

Marked ``gpu`` (skipped without CuPy; ``test_emulated.py`` runs the gpu tests on the CuPy
emulator).
"""
import numpy as np
import pytest

import minicv as mc

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

from test_parity_sweep import _same, _same_error            # noqa: E402 (after the skip)

SP = mc.special
_rng = np.random.default_rng(11)
W = _rng.uniform(-12, 12, (3, 4))
P = _rng.uniform(0.01, 0.99, (3, 4))
EDGES = np.array([-np.inf, -30.0, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 9.0, 40.0, np.inf, np.nan])
INTS = np.array([-2, 0, 1, 3])

UNARY = {             # name: its inputs (float64 and float32 copies are both compared)
    "i0": W, "i0e": W, "i1": W, "i1e": W, "ndtr": W, "ndtri": P, "log_ndtr": 3 * W,
    "erfcx": W, "entr": np.abs(W), "spherical_bessel_j0": W,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_cpu(name):
    fn = getattr(SP, name)
    _same(fn, UNARY[name])
    _same(fn, UNARY[name].astype(np.float32), rtol=1e-6, atol=1e-7)
    _same(fn, EDGES, grad=False)
    _same(fn, INTS)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_polygamma_matches_cpu(n):
    x = W[:, ::2] + 0.37                                       # non-contiguous, off the poles
    _same(lambda t: mc.polygamma(n, t), x)
    _same(lambda t: mc.polygamma(n, t), x.astype(np.float32), rtol=1e-6, atol=1e-7)
    _same(lambda t: mc.polygamma(n, t), EDGES, grad=False)


def test_multigammaln_xlog1py_zeta_match_cpu():
    _same(lambda t: SP.multigammaln(t, 3), np.abs(W) + 1.1)
    _same(SP.xlog1py, W, np.abs(W[0]) - 0.5)
    s = np.array([[2.0], [3.0], [4.5]])
    _same(SP.zeta, s, np.array([-2.5, -1.0, 0.3, 7.0]), grad=False)


def test_histogram_matches_cpu():
    x = _rng.uniform(-1, 3, (5, 6))
    _same(lambda t: mc.histogram(t, 7), x, grad=False)
    _same(lambda t: mc.histogram(t, 7)[1], x, grad=False)
    _same(lambda t, w: mc.histogram(t, 4, range=(0.0, 2.0), weight=w, density=True), x,
          np.abs(x), grad=False)
    _same(lambda t, e: mc.histogram(t, e), x, np.array([-1.0, 0.0, 0.5, 3.0]), grad=False)


def test_errors_match_cpu():
    _same_error(lambda t: mc.polygamma(-1, t), W, error=RuntimeError, match="negative n")
    _same_error(lambda t: mc.histogram(t, 3), INTS, error=TypeError, match="floating")
    _same_error(lambda t, w: mc.histogram(t, 3, weight=w), W, W[0], error=RuntimeError,
                match="weight")
