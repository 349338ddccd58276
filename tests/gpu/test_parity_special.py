"""CPU/GPU parity of minicv/ops/trig.py and minicv/ops/special.py: values, dtypes, input
gradients and errors alike on both devices, for float64, float32 and integer inputs.

Marked ``gpu`` (skipped without CuPy; ``test_emulated.py`` runs the gpu tests on the CuPy
emulator). erfc and erfinv call ``cupyx.scipy.special.erfc``, which the emulator lacks:
they run only where it exists.
"""
import numpy as np
import pytest

import minicv as mc

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

from test_parity_sweep import _same, _same_error            # noqa: E402 (after the skip)

_rng = np.random.default_rng(5)
U = _rng.uniform(-0.95, 0.95, (3, 4))                        # inside (-1, 1)
W = _rng.uniform(-3, 3, (3, 4))
POS = _rng.uniform(1.1, 4, (3, 4))
EDGES = np.array([-np.inf, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, np.inf, np.nan])
INTS = np.array([-2, 0, 1, 3])

UNARY = {             # name: its inputs (float64 and float32 copies are both compared)
    "asin": U, "acos": U, "atan": W, "sinh": W, "cosh": W, "asinh": W, "acosh": POS,
    "atanh": U, "sinc": W, "deg2rad": W, "rad2deg": W, "frac": W, "exp2": W,
    "logit": (U + 1) / 2, "lgamma": W, "digamma": W, "sgn": W, "erfc": W, "erfinv": U,
}
_NEEDS_ERFC = {"erfc", "erfinv"}


def _skip_without_erfc(name):
    import cupyx.scipy.special
    if name in _NEEDS_ERFC and not hasattr(cupyx.scipy.special, "erfc"):
        pytest.skip("this CuPy (the emulator) has no cupyx.scipy.special.erfc")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_cpu(name):
    _skip_without_erfc(name)
    fn = getattr(mc, name)
    _same(fn, UNARY[name])
    _same(fn, UNARY[name].astype(np.float32), rtol=1e-6, atol=1e-7)
    _same(fn, EDGES, grad=False)
    if name != "frac":
        _same(fn, INTS)


BINARY = {            # name: (a, b), broadcasting
    "hypot": (W, W[0]), "fmod": (5 * W, POS[:, :1]), "copysign": (W, W[::-1]),
    "fmax": (W, W[::-1]), "fmin": (W, W[::-1]), "float_power": (POS, W),
    "logaddexp": (W, W[1]), "logaddexp2": (W, W[1]), "xlogy": (W, POS),
    "atan2": (W, W[::-1]), "rsub": (W, W[0]), "subtract": (W, W[0]),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_match_cpu(name):
    a, b = BINARY[name]
    _same(getattr(mc, name), a, b)
    _same(getattr(mc, name), EDGES, EDGES[::-1], grad=False)


def test_integer_and_mixed_dtypes_match_cpu():
    _same(mc.fmod, np.array([5, -5, 7]), np.array([3, 3, -2]))
    _same(lambda a: mc.fmod(a, 2.5), INTS)
    _same(mc.copysign, INTS, np.array(-1.0))
    _same(mc.float_power, INTS, W[0].astype(np.float32))
    _same(mc.xlogy, INTS, np.array([0.5, 1.0, 2.0, 3.0], np.float32))
    _same(mc.heaviside, np.array([-1.0, 0.0, 2.0, np.nan]), np.array([0.5]))
    _same(mc.heaviside, INTS, np.array([7]))
    _same(mc.signbit, EDGES)
    _same(lambda a, b: mc.fmax(a, b) + mc.fmin(a, b), INTS, np.array([1], np.int32))


def test_inplace_forms_match_cpu():
    def fn(x, v):
        y = x * 1
        y.asin_()
        y.hypot_(v)
        y.lgamma_()
        return y
    _same(fn, U, W[0])


def test_errors_match_cpu():
    _same_error(mc.hypot, INTS, INTS, error=TypeError, match="floating-point")
    _same_error(mc.heaviside, W, W.astype(np.float32), error=RuntimeError,
                match="different dtypes")
    _same_error(mc.logaddexp, W, W[:2], match="do not broadcast")
    _same_error(mc.frac, INTS, error=TypeError, match="fractional part")
    _same_error(lambda x: x.float_power_(2), W.astype(np.float32), error=RuntimeError,
                match="float_power_")
