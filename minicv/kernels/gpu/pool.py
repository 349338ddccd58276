"""GPU pooling (``csrc/pool.cu``): same signatures and semantics as ``kernels/cpu/pool.py``
(PyTorch's output size and ceil_mode, -inf padding, first maximum wins ties, flat int64
argmax indices per plane, PyTorch's avg divisor). Backward passes are deterministic.
"""
import functools

import cupy as cp
import numpy as np

from ..reference import (_avg_divisor_grid, adaptive_bins, conv_output_size, pool_geometry,
                         triple)
from .module import device_i32, i32, kernel, launch


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(N, C, H, W) -> y (N, C, OH, OW) and flat int64 indices into each H*W plane."""
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    y = cp.empty((n, c) + out, dtype=x.dtype)
    idx = cp.empty((n, c) + out, dtype=cp.int64)
    launch(kernel("pool", "max_pool2d_fwd", x.dtype), y.size,
           (x, *i32(h, w, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1],
                    y.size), y, idx))
    return y, idx


def max_pool_backward(gy, indices, x_shape):
    """Add gy at the argmax positions, one thread per (n, c) plane; any pooling rank."""
    n, c = x_shape[:2]
    q = int(np.prod(x_shape[2:]))
    gy2 = cp.ascontiguousarray(gy).reshape(n * c, -1)
    idx2 = cp.ascontiguousarray(indices, dtype=cp.int64).reshape(n * c, -1)
    gx = cp.empty((n * c, q), dtype=gy2.dtype)
    launch(kernel("pool", "max_pool_bwd_plane", gy2.dtype), n * c,
           (gy2, idx2, *i32(q, gy2.shape[1], n * c), gx))
    return gx.reshape(tuple(x_shape))


def max_pool2d_backward(gy, indices, x_shape, kernel_size=None, stride=None, padding=0,
                        dilation=1, ceil_mode=False):
    """Backward of :func:`max_pool2d`. With the window geometry (``kernel_size`` ...) it is
    a gather with one thread per input pixel; without it, :func:`max_pool_backward`."""
    if kernel_size is None:
        return max_pool_backward(gy, indices, x_shape)
    n, c, h, w = x_shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    gy = cp.ascontiguousarray(gy)
    indices = cp.ascontiguousarray(indices, dtype=cp.int64)
    gx = cp.empty(tuple(x_shape), dtype=gy.dtype)
    launch(kernel("pool", "max_pool2d_bwd", gy.dtype), gx.size,
           (gy, indices, *i32(h, w, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1],
                              d[0], d[1], gx.size), gx))
    return gx


def _divisors(x_shape, k, s, p, out, count_include_pad, divisor_override, dtype):
    """The (OH, OW) divisor grid on the current device, copied there once per geometry
    (a training step would otherwise copy it in every forward and backward)."""
    return _divisors_on(tuple(x_shape), k, s, p, out, count_include_pad, divisor_override,
                        np.dtype(dtype), cp.cuda.Device().id)


@functools.lru_cache(maxsize=64)
def _divisors_on(x_shape, k, s, p, out, count_include_pad, divisor_override, dtype, device):
    div = _avg_divisor_grid(x_shape, k, s, p, out, count_include_pad, divisor_override)
    return cp.asarray(np.ascontiguousarray(div, dtype=dtype))      # read-only by the kernels


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average pooling with PyTorch's divisor rule (the divisor grid comes from the host)."""
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _divisors(x.shape, k, s, p, out, count_include_pad, divisor_override, x.dtype)
    y = cp.empty((n, c) + out, dtype=x.dtype)
    launch(kernel("pool", "avg_pool2d_fwd", x.dtype), y.size,
           (x, div, *i32(h, w, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1], y.size),
            y))
    return y


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Backward of :func:`avg_pool2d`: a gather, one thread per input pixel."""
    gy = cp.ascontiguousarray(gy)
    n, c, h, w = x_shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _divisors(x_shape, k, s, p, out, count_include_pad, divisor_override, gy.dtype)
    gx = cp.empty(tuple(x_shape), dtype=gy.dtype)
    launch(kernel("pool", "avg_pool2d_bwd", gy.dtype), gx.size,
           (gy, div, *i32(h, w, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1],
                          gx.size), gx))
    return gx


def adaptive_max_pool2d(x, output_size):
    """Max over PyTorch's adaptive bins (first maximum wins; a NaN wins): (N, C, H, W) ->
    y (N, C, OH, OW) and flat int64 indices into each H*W plane."""
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = output_size
    (hs, he), (ws, we) = adaptive_bins(h, oh), adaptive_bins(w, ow)
    y = cp.empty((n, c, oh, ow), dtype=x.dtype)
    idx = cp.empty((n, c, oh, ow), dtype=cp.int64)
    bins = [device_i32(b) for b in (hs, he, ws, we)]
    launch(kernel("pool", "adaptive_max_pool2d_fwd", x.dtype), y.size,
           (x, *bins, *i32(h, w, oh, ow, y.size), y, idx))
    return y, idx


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(N, C, D, H, W) -> y (N, C, OD, OH, OW) and flat int64 indices into each D*H*W
    volume; PyTorch's output size and ceil_mode, -inf padding, first maximum wins."""
    k, s, p, d = (triple(v) for v in (kernel_size, kernel_size if stride is None else stride,
                                      padding, dilation))
    x = cp.ascontiguousarray(x)
    n, c = x.shape[:2]
    size = x.shape[2:]
    out = tuple(conv_output_size(size[a], k[a], s[a], p[a], d[a], ceil_mode) for a in range(3))
    y = cp.empty((n, c) + out, dtype=x.dtype)
    idx = cp.empty((n, c) + out, dtype=cp.int64)
    geometry = device_i32(i32(*size, *out, *k, *s, *p, *d))
    launch(kernel("pool", "max_pool3d_fwd", x.dtype), y.size,
           (x, geometry, *i32(y.size), y, idx))
    return y, idx
