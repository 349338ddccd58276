"""Numba im2col / col2im: same signatures and column layout as ``kernels/reference.py``.

Layout: ``cols[n, (c*kh + i)*kw + j, oy*OW + ox]`` (per-sample NCHW, Caffe's).  The
kernels also accept an ``out`` array that is a strided *view* with that shape, so the
conv layer can ask for the batch-wide layout ``(C*kh*kw, N, OH*OW)`` (one large GEMM
instead of N small ones) by passing ``buf.transpose(1, 0, 2)``.

Parallelism: one task per (n, c) plane.  In im2col a plane owns the rows
``c*kh*kw .. (c+1)*kh*kw`` of sample n; in col2im it owns the output plane x[n, c].  So
no two threads ever write the same element: col2im needs no atomics and is deterministic.
"""
import numpy as np
from numba import njit, prange

from ._config import FASTMATH, PARALLEL

from ..reference import _pair, conv_output_size

_FM = FASTMATH


@njit(inline="always")
def _valid_range(out, k_off, stride, size):
    """Range [lo, hi) of output positions o with 0 <= o*stride + k_off < size."""
    lo = 0
    if k_off < 0:
        lo = (-k_off + stride - 1) // stride
    hi = 0
    if size - 1 - k_off >= 0:
        hi = (size - 1 - k_off) // stride + 1
    if hi > out:
        hi = out
    if lo > hi:
        lo = hi
    return lo, hi


@njit(cache=True, parallel=PARALLEL)
def _im2col_kernel(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols):
    n, c, h, w = x.shape
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        for i in range(kh):
            ylo, yhi = _valid_range(oh, i * dh - ph, sh, h)
            for j in range(kw):
                r = (ch * kh + i) * kw + j
                xoff = j * dw - pw
                xlo, xhi = _valid_range(ow, xoff, sw, w)
                row = cols[b, r]
                for oy in range(oh):
                    base = oy * ow
                    if oy < ylo or oy >= yhi:
                        for ox in range(ow):
                            row[base + ox] = 0
                        continue
                    iy = oy * sh + i * dh - ph
                    for ox in range(xlo):
                        row[base + ox] = 0
                    if sw == 1:
                        for ox in range(xlo, xhi):
                            row[base + ox] = x[b, ch, iy, ox + xoff]
                    else:
                        for ox in range(xlo, xhi):
                            row[base + ox] = x[b, ch, iy, ox * sw + xoff]
                    for ox in range(xhi, ow):
                        row[base + ox] = 0


@njit(cache=True, parallel=PARALLEL)
def _col2im_kernel(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, x):
    n, c, h, w = x.shape
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        plane = x[b, ch]
        plane[:, :] = 0
        for i in range(kh):
            ylo, yhi = _valid_range(oh, i * dh - ph, sh, h)
            for j in range(kw):
                r = (ch * kh + i) * kw + j
                xoff = j * dw - pw
                xlo, xhi = _valid_range(ow, xoff, sw, w)
                row = cols[b, r]
                for oy in range(ylo, yhi):
                    iy = oy * sh + i * dh - ph
                    base = oy * ow
                    for ox in range(xlo, xhi):
                        plane[iy, ox * sw + xoff] += row[base + ox]


def im2col(x, kh, kw, stride=1, padding=0, dilation=1, out=None):
    """Numba im2col: x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW).

    ``out``, when given, receives the columns (any strides, e.g. a transposed view of a
    batch-wide buffer).  Non-contiguous inputs are copied to C order first.
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    if out is None:
        out = np.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    _im2col_kernel(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out)
    return out


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """Numba col2im: cols (N, C*kh*kw, OH*OW) (any strides) -> x (N, C, H, W), summing."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    if cols.strides[-1] != cols.itemsize:
        cols = np.ascontiguousarray(cols)
    x = np.empty((n, c, h, w), dtype=cols.dtype)
    _col2im_kernel(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, x)
    return x
