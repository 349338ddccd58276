"""GPU resampling (``csrc/resample.cu``): same signatures as ``kernels/cpu/resample.py``.

Index and weight tables come from ``kernels/reference.py`` (computed on the host, tiny)
and are copied to the GPU. Both backward passes use one deterministic gather kernel fed
with per-input-row and per-input-column contribution lists (:func:`.tables.contributions`).
"""
import cupy as cp
import numpy as np

from ..reference import _scales, linear_weights, nearest_indices
from .module import i32, kernel, launch
from .tables import contributions


def _dev_int(a):
    return cp.asarray(np.ascontiguousarray(a, dtype=np.int32))


def _dev(a, dtype):
    return cp.asarray(np.ascontiguousarray(a, dtype=dtype))


def _contributions(in_size, sources, weights, dtype):
    """:func:`.tables.contributions`, copied to the GPU."""
    ptr, out_index, weight = contributions(in_size, sources, weights, dtype)
    return cp.asarray(ptr), cp.asarray(out_index), cp.asarray(weight)


def _separable_backward(gy, x_shape, rows, cols):
    gy = cp.ascontiguousarray(gy)
    n, c, h, w = x_shape
    gx = cp.empty(tuple(x_shape), dtype=gy.dtype)
    launch(kernel("resample", "separable_bwd", gy.dtype), gx.size,
           (gy, *rows, *cols, *i32(h, w, gy.shape[2], gy.shape[3], gx.size), gx))
    return gx


def interpolate_nearest(x, size, scale_factor=None):
    """Nearest resize (PyTorch mode="nearest"): (N, C, H, W) -> (N, C, *size)."""
    x = cp.ascontiguousarray(x)
    sfh, sfw = _scales(scale_factor)
    iy = _dev_int(nearest_indices(x.shape[2], size[0], sfh))
    ix = _dev_int(nearest_indices(x.shape[3], size[1], sfw))
    y = cp.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    launch(kernel("resample", "nearest_fwd", x.dtype), y.size,
           (x, iy, ix, *i32(x.shape[2], x.shape[3], size[0], size[1], y.size), y))
    return y


def interpolate_nearest_backward(gy, x_shape, scale_factor=None):
    sfh, sfw = _scales(scale_factor)
    one = np.ones(1, dtype=gy.dtype)
    iy = nearest_indices(x_shape[2], gy.shape[2], sfh)
    ix = nearest_indices(x_shape[3], gy.shape[3], sfw)
    rows = _contributions(x_shape[2], [iy], [np.broadcast_to(one, iy.shape)], gy.dtype)
    cols = _contributions(x_shape[3], [ix], [np.broadcast_to(one, ix.shape)], gy.dtype)
    return _separable_backward(gy, x_shape, rows, cols)


def interpolate_bilinear(x, size, align_corners=False, scale_factor=None):
    """Bilinear resize (PyTorch mode="bilinear")."""
    x = cp.ascontiguousarray(x)
    sfh, sfw = _scales(scale_factor)
    h0, h1, a0, a1 = linear_weights(x.shape[2], size[0], align_corners, sfh, x.dtype)
    w0, w1, b0, b1 = linear_weights(x.shape[3], size[1], align_corners, sfw, x.dtype)
    y = cp.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    launch(kernel("resample", "bilinear_fwd", x.dtype), y.size,
           (x, _dev_int(h0), _dev_int(h1), _dev(a0, x.dtype), _dev(a1, x.dtype),
            _dev_int(w0), _dev_int(w1), _dev(b0, x.dtype), _dev(b1, x.dtype),
            *i32(x.shape[2], x.shape[3], size[0], size[1], y.size), y))
    return y


def interpolate_bilinear_backward(gy, x_shape, align_corners=False, scale_factor=None):
    sfh, sfw = _scales(scale_factor)
    h0, h1, a0, a1 = linear_weights(x_shape[2], gy.shape[2], align_corners, sfh, gy.dtype)
    w0, w1, b0, b1 = linear_weights(x_shape[3], gy.shape[3], align_corners, sfw, gy.dtype)
    rows = _contributions(x_shape[2], [h0, h1], [a0, a1], gy.dtype)
    cols = _contributions(x_shape[3], [w0, w1], [b0, b1], gy.dtype)
    return _separable_backward(gy, x_shape, rows, cols)
