"""``mc.special``: PyTorch's ``torch.special`` namespace.

The functions minicv already had elsewhere are re-exported here under torch.special's
names (``expit`` is sigmoid, ``gammaln`` lgamma, ``psi`` digamma); the new ones (polygamma,
multigammaln, zeta, the Bessel functions i0/i0e/i1/i1e and spherical_bessel_j0, ndtr,
ndtri, log_ndtr, erfcx, entr, xlog1py) live in ``ops/special2.py``. Not provided: the
orthogonal polynomials, airy_ai, the Bessel functions j/y/k, gammainc and gammaincc.
"""
from .ops.activation import sigmoid as expit
from .ops.elementwise import erf, expm1, log1p, round as _round
from .ops.activation import softmax as _softmax, log_softmax as _log_softmax
from .ops.reduce import logsumexp
from .ops.special import erfc, erfinv, exp2, logit, xlogy, lgamma as gammaln, digamma
from .ops.special2 import (polygamma, multigammaln, zeta, i0, i0e, i1, i1e, ndtr, ndtri,
                           log_ndtr, erfcx, entr, xlog1py, spherical_bessel_j0)
from .ops.trig import sinc

psi = digamma

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr",
           "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "spherical_bessel_j0",
           "xlog1py", "xlogy", "zeta"]


def round(input, *, decimals=0):
    """``torch.special.round``: :func:`minicv.round` (half to even)."""
    return _round(input, decimals=decimals)


def softmax(input, dim, *, dtype=None):
    """``torch.special.softmax``: softmax over ``dim`` (required here, as in PyTorch)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """``torch.special.log_softmax``: log of softmax over ``dim``, computed stably."""
    return _log_softmax(input, dim, dtype=dtype)
