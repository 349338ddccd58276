"""Numba pooling kernels: max (with flat argmax indices) and average, forward and backward.

Same signatures and semantics as ``kernels/reference.py``: PyTorch's output size and
ceil_mode rule, -inf padding for max, the first maximum wins ties (only a strictly larger
value, or a NaN, replaces the running maximum), PyTorch's avg divisor.  One task per (n, c)
plane; the backward scatters only inside its own plane, so there are no write races.
"""
import numpy as np
from numba import njit, prange

from ..reference import _avg_divisor_grid, pool_geometry
from ._config import PARALLEL


@njit(cache=True, parallel=PARALLEL)
def _max_fwd(x, kh, kw, sh, sw, ph, pw, dh, dw, y, idx):
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        img = x[b, ch]
        for oy in range(oh):
            y0 = oy * sh - ph
            rows_inside = y0 >= 0 and y0 + (kh - 1) * dh < h
            for ox in range(ow):
                x0 = ox * sw - pw
                if rows_inside and x0 >= 0 and x0 + (kw - 1) * dw < w:
                    # the common case: the window lies inside the image, no bounds tests
                    best = img[y0, x0]
                    arg = y0 * w + x0
                    for i in range(kh):
                        iy = y0 + i * dh
                        for j in range(kw):
                            v = img[iy, x0 + j * dw]
                            if v > best or v != v:          # strictly larger, or NaN
                                best = v
                                arg = iy * w + x0 + j * dw
                    y[b, ch, oy, ox] = best
                    idx[b, ch, oy, ox] = arg
                    continue
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
                y[b, ch, oy, ox] = best
                idx[b, ch, oy, ox] = arg


@njit(cache=True, parallel=PARALLEL)
def _scatter_bwd(gy, idx, gx):
    """gx.flat[plane][idx] += gy: the backward of max pooling (any dimension, flattened)."""
    nc, q = gy.shape
    for p in prange(nc):
        plane = gx[p]
        plane[:] = 0
        for o in range(q):
            plane[idx[p, o]] += gy[p, o]


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


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Numba max pooling: (N, C, H, W) -> y (N, C, OH, OW), flat int64 indices into H*W."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    y = np.empty((n, c) + out, dtype=x.dtype)
    idx = np.empty((n, c) + out, dtype=np.int64)
    _max_fwd(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], y, idx)
    return y, idx


def max_pool_backward(gy, indices, x_shape):
    """Scatter-add ``gy`` to the argmax positions; works for 1-D, 2-D and 3-D pooling."""
    n, c = x_shape[:2]
    gy2 = np.ascontiguousarray(gy).reshape(n * c, -1)
    idx2 = np.ascontiguousarray(indices).reshape(n * c, -1)
    gx = np.empty((n * c, int(np.prod(x_shape[2:]))), dtype=gy2.dtype)
    _scatter_bwd(gy2, idx2, gx)
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
