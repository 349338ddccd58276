"""Numba resampling kernels: nearest and bilinear, forward and backward.

The index and weight rules (PyTorch's ``F.interpolate``) are computed once in NumPy by the
helpers of ``kernels/reference.py``; the kernels only move data.  One task per (n, c)
plane; the backward adds only into its own plane, so there are no races.
"""
import numpy as np
from numba import njit, prange

from ..reference import _scales, linear_weights, nearest_indices
from ._config import FASTMATH, PARALLEL


@njit(cache=True, parallel=PARALLEL)
def _nearest_fwd(x, iy, ix, y):
    n, c = x.shape[:2]
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        for oy in range(oh):
            src = x[b, ch, iy[oy]]
            dst = y[b, ch, oy]
            for ox in range(ow):
                dst[ox] = src[ix[ox]]


@njit(cache=True, parallel=PARALLEL)
def _nearest_bwd(gy, iy, ix, gx):
    n, c = gx.shape[:2]
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        plane = gx[b, ch]
        plane[:, :] = 0
        for oy in range(oh):
            dst = plane[iy[oy]]
            g = gy[b, ch, oy]
            for ox in range(ow):
                dst[ix[ox]] += g[ox]


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH)
def _bilinear_fwd(x, h0, h1, a0, a1, w0, w1, b0, b1, y):
    n, c = x.shape[:2]
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        img = x[b, ch]
        for oy in range(oh):
            r0 = img[h0[oy]]
            r1 = img[h1[oy]]
            for ox in range(ow):
                y[b, ch, oy, ox] = (a0[oy] * (b0[ox] * r0[w0[ox]] + b1[ox] * r0[w1[ox]])
                                    + a1[oy] * (b0[ox] * r1[w0[ox]] + b1[ox] * r1[w1[ox]]))


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH)
def _bilinear_bwd(gy, h0, h1, a0, a1, w0, w1, b0, b1, gx):
    n, c = gx.shape[:2]
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        plane = gx[b, ch]
        plane[:, :] = 0
        for oy in range(oh):
            r0 = plane[h0[oy]]
            r1 = plane[h1[oy]]
            for ox in range(ow):
                g = gy[b, ch, oy, ox]
                g0 = a0[oy] * g
                g1 = a1[oy] * g
                r0[w0[ox]] += b0[ox] * g0
                r0[w1[ox]] += b1[ox] * g0
                r1[w0[ox]] += b0[ox] * g1
                r1[w1[ox]] += b1[ox] * g1


def interpolate_nearest(x, size, scale_factor=None, exact=False):
    """Numba nearest resize (PyTorch mode="nearest", or "nearest-exact" with ``exact``):
    (N, C, H, W) -> (N, C, *size)."""
    x = np.ascontiguousarray(x)
    sfh, sfw = _scales(scale_factor)
    iy = nearest_indices(x.shape[2], size[0], sfh, exact)
    ix = nearest_indices(x.shape[3], size[1], sfw, exact)
    y = np.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    _nearest_fwd(x, iy, ix, y)
    return y


def interpolate_nearest_backward(gy, x_shape, scale_factor=None, exact=False):
    gy = np.ascontiguousarray(gy)
    sfh, sfw = _scales(scale_factor)
    iy = nearest_indices(x_shape[2], gy.shape[2], sfh, exact)
    ix = nearest_indices(x_shape[3], gy.shape[3], sfw, exact)
    gx = np.empty(tuple(x_shape), dtype=gy.dtype)
    _nearest_bwd(gy, iy, ix, gx)
    return gx


def _weights(in_hw, out_hw, align_corners, scale_factor, dtype):
    sfh, sfw = _scales(scale_factor)
    return (linear_weights(in_hw[0], out_hw[0], align_corners, sfh, dtype)
            + linear_weights(in_hw[1], out_hw[1], align_corners, sfw, dtype))


def interpolate_bilinear(x, size, align_corners=False, scale_factor=None):
    """Numba bilinear resize (PyTorch mode="bilinear")."""
    x = np.ascontiguousarray(x)
    wts = _weights(x.shape[2:], size, align_corners, scale_factor, x.dtype)
    y = np.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    _bilinear_fwd(x, *wts, y)
    return y


def interpolate_bilinear_backward(gy, x_shape, align_corners=False, scale_factor=None):
    gy = np.ascontiguousarray(gy)
    wts = _weights(x_shape[2:], gy.shape[2:], align_corners, scale_factor, gy.dtype)
    gx = np.empty(tuple(x_shape), dtype=gy.dtype)
    _bilinear_bwd(gy, *wts, gx)
    return gx
