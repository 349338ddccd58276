"""Scale each plane of an array by its own factor: y[p, :] = x[p, :] * s[p].

Channel dropout (``F.dropout2d`` and friends) multiplies x (N, C, H, W) by a mask of shape
(N, C, 1, 1), forward and backward.  NumPy's broadcast multiply walks the mask's zero
strides element by element: 1.3 ms forward and 1.8 ms backward on (32, 64, 32, 32)
float32, one thread.  Here each plane is one vectorized loop with its factor in a
register, the planes split over minicv's threads; the products are NumPy's, bit for bit.
"""
import numpy as np
from numba import njit, prange

from .pad import split_rows


@njit(cache=True, nogil=True)
def _scale_rows(x, s, y, p0, p1):
    """y[p] = x[p] * s[p] for the planes [p0, p1) of x, y (P, L), s (P,)."""
    for p in range(p0, p1):
        f = s[p]
        xr, yr = x[p], y[p]
        for i in range(xr.size):
            yr[i] = xr[i] * f


@njit(cache=True, nogil=True, parallel=True)
def scale_parallel(x, s, y, workers):
    """:func:`_scale_rows`, a contiguous range of planes per worker."""
    n = x.shape[0]
    for t in prange(workers):
        _scale_rows(x, s, y, n * t // workers, n * (t + 1) // workers)


def fast_ok(x, s):
    """Whether :func:`scale` applies to ``x * s``: a C-contiguous NumPy float32/float64
    x (N, C, ...) of at least 3 dims and s of x's dtype and shape (N, C, 1, ..., 1)."""
    return (type(x) is np.ndarray and type(s) is np.ndarray and x.ndim >= 3
            and x.dtype in (np.float32, np.float64) and s.dtype == x.dtype
            and s.shape == x.shape[:2] + (1,) * (x.ndim - 2) and x.flags.c_contiguous
            and x.size > 0)


def scale(x, s, recycle=True):
    """``x * s`` for arrays accepted by :func:`fast_ok`, into a recycled output buffer
    (``cpu/buffers.py``), or with ``recycle`` False a fresh array of its own (a gradient:
    a leaf's ``.grad`` can then take it without a copy)."""
    from . import buffers
    y = buffers.empty_like(x) if recycle else np.empty_like(x)
    planes = x.shape[0] * x.shape[1]
    x2, s1, y2 = x.reshape(planes, -1), s.reshape(planes), y.reshape(planes, -1)  # (P, L)
    split_rows((planes, x.size), lambda p0, p1: _scale_rows(x2, s1, y2, p0, p1),
               lambda workers: scale_parallel(x2, s1, y2, workers))
    return y
