"""GPU im2col/col2im (``csrc/im2col.cu``): same signatures and layout as
``kernels/cpu/im2col.py``: x (N, C, H, W) <-> cols (N, C*kh*kw, OH*OW).

col2im is a gather (one thread per pixel of x), so its sums are deterministic.
"""
import cupy as cp

from ..reference import _pair, conv_output_size
from .module import i32, kernel, launch


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


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """cols (N, C*kh*kw, OH*OW) -> x (N, C, H, W), summing overlaps in a fixed order."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    cols = cp.ascontiguousarray(cols)
    x = cp.empty((n, c, h, w), dtype=cols.dtype)
    launch(kernel("im2col", "col2im", cols.dtype), x.size,
           (cols, *i32(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, x.size), x))
    return x
