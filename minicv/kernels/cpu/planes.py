"""Per-plane kernels: scale each plane by its own factor, and interleave tiles.

``scale``: y[p, :] = x[p, :] * s[p].
Channel dropout (``F.dropout2d`` and friends) multiplies x (N, C, H, W) by a mask of shape
(N, C, 1, 1), forward and backward.  NumPy's broadcast multiply walks the mask's zero
strides element by element: 1.3 ms forward and 1.8 ms backward on (32, 64, 32, 32)
float32, one thread.  Here each plane is one vectorized loop with its factor in a
register, the planes split over minicv's threads; the products are NumPy's, bit for bit.

``tiles_to_planes`` / ``planes_to_tiles``: a transposed convolution whose kernel equals its
stride (no padding, dilation or groups: U-Net's up-sampling) is a 1x1 convolution to
K*kh*kw channels followed by a depth-to-space interleave, y[n, k, i*kh + a, j*kw + b] =
cols[n, k, a*kw + b, i, j] (+ bias[k]); its backward de-interleaves dY the same way.
In NumPy that interleave is a 6-d transpose copy with a 2-element inner axis.
"""
import numpy as np
from numba import njit, prange

from .activation import split_by_size


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


def scale(x, s):
    """``x * s`` for arrays accepted by :func:`fast_ok`, into a recycled output buffer
    (``cpu/buffers.py``: no fresh, page-faulting megabytes every step)."""
    from . import buffers
    y = buffers.empty_like(x)
    planes = x.shape[0] * x.shape[1]
    x2, s1, y2 = x.reshape(planes, -1), s.reshape(planes), y.reshape(planes, -1)  # (P, L)
    split_by_size(planes, x.size, lambda p0, p1: _scale_rows(x2, s1, y2, p0, p1),
                  lambda workers: scale_parallel(x2, s1, y2, workers))
    return y


@njit(cache=True, nogil=True)
def _tiles(cols, y, bias, to_planes, p0, p1):
    """For the planes [p0, p1) of y (P = N*K, H*kh, W*kw) and cols (P, kh*kw, H, W): y =
    the interleave of cols (+ bias[p % K], after 0 + v as the col2im path computes it),
    or with ``to_planes`` False cols = the de-interleave of y."""
    _, kk, h, w = cols.shape
    kh = y.shape[1] // h
    kw = kk // kh
    k = bias.size
    zero = y.dtype.type(0)
    for p in range(p0, p1):
        bb = bias[p % k]
        for i in range(h):
            for a in range(kh):
                row = y[p, i * kh + a]
                for j in range(w):
                    for b in range(kw):
                        if to_planes:
                            row[j * kw + b] = (cols[p, a * kw + b, i, j] + zero) + bb
                        else:
                            cols[p, a * kw + b, i, j] = row[j * kw + b]


@njit(cache=True, nogil=True, parallel=True)
def tiles_parallel(cols, y, bias, to_planes, workers):
    """:func:`_tiles`, a contiguous range of planes per worker."""
    n = y.shape[0]
    for t in prange(workers):
        _tiles(cols, y, bias, to_planes, n * t // workers, n * (t + 1) // workers)


def _run_tiles(cols, y, bias, to_planes):
    split_by_size(y.shape[0], y.size,
                  lambda p0, p1: _tiles(cols, y, bias, to_planes, p0, p1),
                  lambda workers: tiles_parallel(cols, y, bias, to_planes, workers))


def tiles_to_planes(cols, kh, kw, bias):
    """y (N, K, H*kh, W*kw) from cols (N, K*kh*kw, H, W) plus bias (K,) (zeros: none)."""
    n, kkk, h, w = cols.shape
    k = kkk // (kh * kw)
    y = np.empty((n, k, h * kh, w * kw), cols.dtype)
    _run_tiles(np.ascontiguousarray(cols).reshape(n * k, kh * kw, h, w),
               y.reshape(n * k, h * kh, w * kw), bias, True)
    return y


def planes_to_tiles(gy, kh, kw):
    """The de-interleave: (N, K, H*kh, W*kw) -> (N, K*kh*kw, H, W)."""
    n, k, hh, ww = gy.shape
    h, w = hh // kh, ww // kw
    cols = np.empty((n, k * kh * kw, h, w), gy.dtype)
    # writable as well: _tiles writes y in the other direction, and Numba types a
    # read-only array (a broadcast dY, e.g. after .sum(0) of a batch of one) apart
    gy = np.require(gy, requirements="CW")
    _run_tiles(cols.reshape(n * k, kh * kw, h, w), gy.reshape(n * k, hh, ww),
               np.zeros(1, gy.dtype), False)
    return cols
