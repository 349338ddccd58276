"""GPU im2col/col2im (``csrc/im2col.cu``): same signatures and layout as
``kernels/cpu/im2col.py``: x (N, C, H, W) <-> cols (N, C*kh*kw, OH*OW).

col2im is a gather (one thread per pixel of x), so its sums are deterministic.
"""
import cupy as cp
import numpy as np

from ..reference import _pair, conv_output_size
from .module import device_i32, i32, kernel, launch


def im2col(x, kh, kw, stride=1, padding=0, dilation=1, out=None):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW); ``out`` (C-contiguous) receives it."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    x = cp.ascontiguousarray(x)          # kernels ignore strides: views are copied first
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    shape = (n, c * kh * kw, oh * ow)
    if out is None or not out.flags.c_contiguous:
        cols = cp.empty(shape, dtype=x.dtype)
    else:
        cols = out
    launch(kernel("im2col", "im2col", x.dtype), cols.size,
           (x, *i32(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols.size), cols))
    if out is not None and cols is not out:
        out[...] = cols
        return out
    return cols


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1, out=None):
    """cols (N, C*kh*kw, OH*OW) -> x (N, C, H, W), summing overlaps in a fixed order
    (into ``out``, C-contiguous, when given)."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    cols = cp.ascontiguousarray(cols)
    x = cp.empty((n, c, h, w), dtype=cols.dtype) if out is None else out
    launch(kernel("im2col", "col2im", cols.dtype), x.size,
           (cols, *i32(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, x.size), x))
    return x


def _geometry(c, size, k, s, p, d, out):
    """The 19 ints of the vol2col/col2vol kernels, as a device int32 array."""
    return device_i32(i32(c, *size, *k, *s, *p, *d, *out))


def vol2col(x, k, s, p, d):
    """3-D im2col: (N, C, D, H, W) -> (N, C*kd*kh*kw, OD*OH*OW), as ``reference.vol2col``."""
    x = cp.ascontiguousarray(x)
    n, c = x.shape[:2]
    size = x.shape[2:]
    out = [conv_output_size(size[a], k[a], s[a], p[a], d[a]) for a in range(3)]
    cols = cp.empty((n, c * int(np.prod(k)), int(np.prod(out))), dtype=x.dtype)
    launch(kernel("im2col", "vol2col", x.dtype), cols.size,
           (x, _geometry(c, size, k, s, p, d, out), *i32(cols.size), cols))
    return cols


def col2vol(cols, x_shape, k, s, p, d, out=None):
    """Adjoint of :func:`vol2col`: one thread per voxel sums its taps (deterministic),
    into ``out`` (C-contiguous) when given."""
    cols = cp.ascontiguousarray(cols)
    n, c = x_shape[:2]
    size = tuple(x_shape[2:])
    osize = [conv_output_size(size[a], k[a], s[a], p[a], d[a]) for a in range(3)]
    x = cp.empty(tuple(x_shape), dtype=cols.dtype) if out is None else out
    launch(kernel("im2col", "col2vol", cols.dtype), x.size,
           (cols, _geometry(c, size, k, s, p, d, osize), *i32(x.size), x))
    return x
