"""Numba pooling kernels: max (with flat argmax indices) and average, forward and backward.

Same signatures and semantics as ``kernels/reference.py``: PyTorch's output size and
ceil_mode rule, -inf padding for max, the first maximum wins ties (only a strictly larger
value, or a NaN, replaces the running maximum), PyTorch's avg divisor.  One task per (n, c)
plane; the backward scatters only inside its own plane, so there are no write races.

Max pooling runs serial ``nogil`` kernels; calls that touch at least
:data:`SPLIT_MIN_BYTES` are split by sample (forward) or plane (backward) over minicv's
threads (``conv_algo.run_split``), each part writing its own outputs (deterministic).
Measured 64x6x28x28, 2x2: forward 0.94 ms -> 0.2-0.3 ms (the old generic loop with
branches vs the 2x2 path with selects); PyTorch 2.13 takes 0.85 ms on 2 threads.
"""
import numpy as np
from numba import njit, prange

from ..reference import _avg_divisor_grid, pool_geometry
from ._config import PARALLEL


@njit(inline="always")
def _take(v, best, arg, pos):
    """The running (max, argmax) after seeing value v at flat position pos: v replaces the
    maximum only if strictly larger, or NaN (so the first maximum wins ties).  Written as
    selects, not branches."""
    t = (v > best) | (v != v)
    return (v if t else best), (pos if t else arg)


@njit(inline="always")
def _max_one(img, y0, x0, kh, kw, dh, dw):
    """(max, flat argmax) of one window that may reach into the -inf padding."""
    h, w = img.shape
    best = -np.inf
    arg = -1
    for i in range(kh):
        iy = y0 + i * dh
        if iy < 0 or iy >= h:
            continue
        for j in range(kw):
            ix = x0 + j * dw
            if ix < 0 or ix >= w:
                continue
            v = img[iy, ix]
            if v > best or np.isnan(v) or arg < 0:
                best = v
                arg = iy * w + ix
    return best, arg


@njit(cache=True, nogil=True)
def _max_fwd(x, kh, kw, sh, sw, ph, pw, dh, dw, y, idx):
    """Max pooling of x (n, C, H, W) into y and flat argmax idx (n, C, OH, OW).

    Serial and ``nogil``: the caller splits the batch over threads.  Windows inside the
    image (all of them without padding or ceil_mode) take a bounds-test-free path; a 2x2
    stride-2 window, the common case, has its own loop with the taps spelled out (4x
    faster than the generic loops, measured on 64x6x28x28).
    """
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    # outputs ox in [xlo, xhi) have their whole window inside the image's columns
    xlo = min(ow, (pw + sw - 1) // sw)
    xhi = max(xlo, min(ow, (w - 1 - (kw - 1) * dw + pw) // sw + 1))
    two = kh == 2 and kw == 2 and sh == 2 and sw == 2 and dh == 1 and dw == 1
    for b in range(n):
        for ch in range(c):
            img = x[b, ch]
            for oy in range(oh):
                y0 = oy * sh - ph
                yr = y[b, ch, oy]
                ir = idx[b, ch, oy]
                lo, hi = 0, 0
                if y0 >= 0 and y0 + (kh - 1) * dh < h:  # the window rows lie inside
                    lo, hi = xlo, xhi
                if two and hi > lo:
                    r0, r1 = img[y0], img[y0 + 1]
                    for ox in range(lo, hi):
                        ix = 2 * ox - pw
                        p = y0 * w + ix
                        best, arg = r0[ix], p
                        best, arg = _take(r0[ix + 1], best, arg, p + 1)
                        best, arg = _take(r1[ix], best, arg, p + w)
                        best, arg = _take(r1[ix + 1], best, arg, p + w + 1)
                        yr[ox] = best
                        ir[ox] = arg
                else:
                    for ox in range(lo, hi):
                        x0 = ox * sw - pw
                        best, arg = img[y0, x0], y0 * w + x0
                        for i in range(kh):
                            iy = y0 + i * dh
                            for j in range(kw):
                                ix = x0 + j * dw
                                best, arg = _take(img[iy, ix], best, arg, iy * w + ix)
                        yr[ox] = best
                        ir[ox] = arg
                for ox in range(lo):  # windows reaching into the padding
                    yr[ox], ir[ox] = _max_one(img, y0, ox * sw - pw, kh, kw, dh, dw)
                for ox in range(max(hi, lo), ow):
                    yr[ox], ir[ox] = _max_one(img, y0, ox * sw - pw, kh, kw, dh, dw)


@njit(cache=True, nogil=True)
def _scatter_bwd(gy, idx, gx):
    """gx.flat[plane][idx] += gy: the backward of max pooling (any dimension, flattened).
    A window with no input inside it (all padding) has index -1 and sends nothing.
    Serial and ``nogil``; the caller splits the planes over threads."""
    nc, q = gy.shape
    for p in range(nc):
        plane = gx[p]
        plane[:] = 0
        for o in range(q):
            j = idx[p, o]
            if j >= 0:
                plane[j] += gy[p, o]


@njit(cache=True, parallel=PARALLEL)
def _avg_fwd(x, kh, kw, sh, sw, ph, pw, div, y):
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        img = x[b, ch]
        for oy in range(oh):
            ylo = max(oy * sh - ph, 0)
            yhi = min(oy * sh - ph + kh, h)
            for ox in range(ow):
                xlo = max(ox * sw - pw, 0)
                xhi = min(ox * sw - pw + kw, w)
                s = 0.0
                for iy in range(ylo, yhi):
                    for ix in range(xlo, xhi):
                        s += img[iy, ix]
                y[b, ch, oy, ox] = s / div[oy, ox]


@njit(cache=True, parallel=PARALLEL)
def _avg_bwd(gy, kh, kw, sh, sw, ph, pw, div, gx):
    n, c, h, w = gx.shape
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        plane = gx[b, ch]
        plane[:, :] = 0
        for oy in range(oh):
            ylo = max(oy * sh - ph, 0)
            yhi = min(oy * sh - ph + kh, h)
            for ox in range(ow):
                xlo = max(ox * sw - pw, 0)
                xhi = min(ox * sw - pw + kw, w)
                g = gy[b, ch, oy, ox] / div[oy, ox]
                for iy in range(ylo, yhi):
                    for ix in range(xlo, xhi):
                        plane[iy, ix] += g


def _split(task, n, nbytes, native):
    """``task(i0, i1)`` over the threads of ``conv_algo.run_split`` (``native(workers)``,
    the same split by a driver of ``cpu/parallel.py``, where that runs) if the call touches
    at least :data:`SPLIT_MIN_BYTES` (:data:`NATIVE_SPLIT_MIN_BYTES` on the native team),
    else ``task(0, n)`` on this thread."""
    from ..conv_algo import _native, _workers, run_split  # conv_algo imports this module
    if nbytes >= SPLIT_MIN_BYTES or (nbytes >= NATIVE_SPLIT_MIN_BYTES
                                     and _native(_workers())):
        run_split(task, n, nbytes, native=native)
    else:
        task(0, n)


def _parallel():
    from . import parallel  # imports this module
    return parallel


# Pooling is split over threads only from this many bytes touched (input, output and
# indices).  Handing work to the second thread costs 25-75 us; measured in LeNet-5's step
# (64x6x28x28, 2.1 MB forward, 1.9 MB backward) one thread was as fast for the forward
# pass and faster for the backward one (0.09 vs 0.15 ms).
SPLIT_MIN_BYTES = 4 << 20
# On Numba's native team (a hand-off of ~3 us) from this many: LeNet-5's pooling layers
# (1.8 and 0.5 MB) fwd+bwd 0.90 -> 0.74 ms a step.
NATIVE_SPLIT_MIN_BYTES = 1 << 18


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Numba max pooling: (N, C, H, W) -> y (N, C, OH, OW), flat int64 indices into H*W."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    y = np.empty((n, c) + out, dtype=x.dtype)
    idx = np.empty((n, c) + out, dtype=np.int64)
    args = (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
    # memory-bound: the samples are split over minicv's threads (disjoint outputs)
    _split(lambda i0, i1: _max_fwd(x[i0:i1], *args, y[i0:i1], idx[i0:i1]), n,
           x.nbytes + y.nbytes + idx.nbytes,
           lambda workers: _parallel().max_pool2d(x, *args, y, idx, workers))
    return y, idx


def max_pool_backward(gy, indices, x_shape):
    """Scatter-add ``gy`` to the argmax positions; works for 1-D, 2-D and 3-D pooling."""
    n, c = x_shape[:2]
    gy2 = np.ascontiguousarray(gy).reshape(n * c, -1)
    idx2 = np.ascontiguousarray(indices).reshape(n * c, -1)
    gx = np.empty((n * c, int(np.prod(x_shape[2:]))), dtype=gy2.dtype)
    _split(lambda i0, i1: _scatter_bwd(gy2[i0:i1], idx2[i0:i1], gx[i0:i1]), n * c,
           gx.nbytes + gy2.nbytes + idx2.nbytes,
           lambda workers: _parallel().max_pool_backward(gy2, idx2, gx, workers))
    return gx.reshape(x_shape)


def max_pool2d_backward(gy, indices, x_shape):
    """Numba backward of :func:`max_pool2d` (same as the reference)."""
    return max_pool_backward(gy, indices, x_shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Numba average pooling with PyTorch's divisor rule."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor_grid(x.shape, k, s, p, out, count_include_pad, divisor_override)
    y = np.empty((n, c) + out, dtype=x.dtype)
    _avg_fwd(x, k[0], k[1], s[0], s[1], p[0], p[1], div, y)
    return y


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Numba backward of :func:`avg_pool2d`."""
    gy = np.ascontiguousarray(gy)
    n, c, h, w = x_shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor_grid(x_shape, k, s, p, out, count_include_pad, divisor_override)
    gx = np.empty(tuple(x_shape), dtype=gy.dtype)
    _avg_bwd(gy, k[0], k[1], s[0], s[1], p[0], p[1], div, gx)
    return gx
