"""GPU resampling (``csrc/resample.cu``): same signatures as ``kernels/cpu/resample.py``,
plus adaptive average pooling, which is a separable resampling too.

Index and weight tables come from ``kernels/reference.py`` and ``gpu/tables.py`` (computed
on the host, tiny) and are copied to the GPU. Nearest and bilinear forward passes have
their own gather kernels; bicubic and adaptive-average forward passes and every backward
pass run the one ``separable`` kernel with CSR lists (:mod:`.tables`).
"""
import cupy as cp
import numpy as np

from ..reference import _scales, adaptive_bins, cubic_weights, linear_weights, nearest_indices
from .module import device_i32, i32, kernel, launch
from .tables import bins, gathers, invert


def _dev(a, dtype):
    return cp.asarray(np.ascontiguousarray(a, dtype=dtype))


def _to_device(lists):
    return tuple(cp.asarray(np.ascontiguousarray(a)) for a in lists)


def _separable(x, out_hw, rows, cols):
    """y (N, C, *out_hw) = the separable map of CSR ``rows``/``cols`` (host lists) of x."""
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    y = cp.empty((n, c) + tuple(out_hw), dtype=x.dtype)
    launch(kernel("resample", "separable", x.dtype), y.size,
           (x, *_to_device(rows), *_to_device(cols), *i32(out_hw[0], out_hw[1], h, w, y.size),
            y))
    return y


def _backward(gy, x_shape, rows, cols):
    """The adjoint of :func:`_separable` with the per-output lists ``rows``/``cols``."""
    return _separable(gy, tuple(x_shape)[2:], invert(x_shape[2], rows),
                      invert(x_shape[3], cols))


def _nearest_lists(in_hw, out_hw, scale_factor, exact, dtype):
    sfh, sfw = _scales(scale_factor)
    one = np.ones(1, dtype=dtype)
    return [gathers([nearest_indices(i, o, sf, exact)], [one], dtype)
            for i, o, sf in zip(in_hw, out_hw, (sfh, sfw))]


def interpolate_nearest(x, size, scale_factor=None, exact=False):
    """Nearest resize (PyTorch mode="nearest", or "nearest-exact" with ``exact``)."""
    x = cp.ascontiguousarray(x)
    sfh, sfw = _scales(scale_factor)
    iy = device_i32(nearest_indices(x.shape[2], size[0], sfh, exact))
    ix = device_i32(nearest_indices(x.shape[3], size[1], sfw, exact))
    y = cp.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    launch(kernel("resample", "nearest_fwd", x.dtype), y.size,
           (x, iy, ix, *i32(x.shape[2], x.shape[3], size[0], size[1], y.size), y))
    return y


def interpolate_nearest_backward(gy, x_shape, scale_factor=None, exact=False):
    rows, cols = _nearest_lists(x_shape[2:], gy.shape[2:], scale_factor, exact, gy.dtype)
    return _backward(gy, x_shape, rows, cols)


def interpolate_bilinear(x, size, align_corners=False, scale_factor=None):
    """Bilinear resize (PyTorch mode="bilinear")."""
    x = cp.ascontiguousarray(x)
    sfh, sfw = _scales(scale_factor)
    h0, h1, a0, a1 = linear_weights(x.shape[2], size[0], align_corners, sfh, x.dtype)
    w0, w1, b0, b1 = linear_weights(x.shape[3], size[1], align_corners, sfw, x.dtype)
    y = cp.empty(x.shape[:2] + tuple(size), dtype=x.dtype)
    launch(kernel("resample", "bilinear_fwd", x.dtype), y.size,
           (x, device_i32(h0), device_i32(h1), _dev(a0, x.dtype), _dev(a1, x.dtype),
            device_i32(w0), device_i32(w1), _dev(b0, x.dtype), _dev(b1, x.dtype),
            *i32(x.shape[2], x.shape[3], size[0], size[1], y.size), y))
    return y


def interpolate_bilinear_backward(gy, x_shape, align_corners=False, scale_factor=None):
    sfh, sfw = _scales(scale_factor)
    h0, h1, a0, a1 = linear_weights(x_shape[2], gy.shape[2], align_corners, sfh, gy.dtype)
    w0, w1, b0, b1 = linear_weights(x_shape[3], gy.shape[3], align_corners, sfw, gy.dtype)
    return _backward(gy, x_shape, gathers([h0, h1], [a0, a1], gy.dtype),
                     gathers([w0, w1], [b0, b1], gy.dtype))


def _bicubic_lists(in_hw, out_hw, align_corners, scale_factor, dtype):
    sfh, sfw = _scales(scale_factor)
    out = []
    for i, o, sf in zip(in_hw, out_hw, (sfh, sfw)):
        idx, w = cubic_weights(i, o, align_corners, sf, dtype)     # (4, o) each
        out.append(gathers(list(idx), list(w), dtype))
    return out


def interpolate_bicubic(x, size, align_corners=False, scale_factor=None):
    """Bicubic resize (PyTorch mode="bicubic"): 4 taps per axis, clamped at the borders."""
    rows, cols = _bicubic_lists(x.shape[2:], size, align_corners, scale_factor, x.dtype)
    return _separable(x, size, rows, cols)


def interpolate_bicubic_backward(gy, x_shape, align_corners=False, scale_factor=None):
    rows, cols = _bicubic_lists(x_shape[2:], gy.shape[2:], align_corners, scale_factor,
                                gy.dtype)
    return _backward(gy, x_shape, rows, cols)


def _bin_lists(in_hw, out_hw, dtype):
    return [bins(*adaptive_bins(i, o), dtype) for i, o in zip(in_hw, out_hw)]


def adaptive_avg_pool2d(x, output_size):
    """Average over PyTorch's adaptive bins (which may overlap): (N, C, H, W) -> (N, C, *out)."""
    rows, cols = _bin_lists(x.shape[2:], output_size, x.dtype)
    return _separable(x, output_size, rows, cols)


def adaptive_avg_pool2d_backward(gy, x_shape):
    rows, cols = _bin_lists(x_shape[2:], gy.shape[2:], gy.dtype)
    return _backward(gy, x_shape, rows, cols)
