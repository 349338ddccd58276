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


@njit(cache=True, parallel=PARALLEL, nogil=True)
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


@njit(cache=True, parallel=PARALLEL, nogil=True)
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


def wide_geometry(h, w, kh, kw, stride, padding, dilation):
    """Sizes of the "wide" column layout of :func:`im2col_wide`.

    Returns ``(oh, ow, hq, wq)``: the output size and the size of one stride phase of the
    zero-padded input, ``hq = ceil(Hp/sh) + 1`` rows (one spare row) by ``wq = ceil(Wp/sw)``.
    A column block holds ``oh * wq`` columns per sample, of which ``oh * ow`` are outputs.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    return oh, ow, -(-(h + 2 * ph) // sh) + 1, -(-(w + 2 * pw) // sw)


@njit(inline="always")
def _phase_copy(img, phases, ph, pw, wq, to_phases):
    """Copy image (H, W) into its zero-padded stride phases (sh, sw, hq*wq), or back.

    Pixel (iy, ix) sits at padded (py, px) = (iy + ph, ix + pw), i.e. in phase
    (py % sh, px % sw) at flat position (py // sh)*wq + px // sw.  Loops run per image row
    and phase column so that no division happens per pixel.
    """
    sh, sw = phases.shape[:2]
    h, w = img.shape
    if sh == 1 and sw == 1:  # the common case, without the per-row phase bookkeeping
        flat = phases[0, 0]
        for iy in range(h):
            base = (iy + ph) * wq + pw
            for ix in range(w):
                if to_phases:
                    flat[base + ix] = img[iy, ix]
                else:
                    img[iy, ix] = flat[base + ix]
        return
    for iy in range(h):
        py = iy + ph
        plane_row = phases[py % sh]
        base = (py // sh) * wq
        src = img[iy]
        for d in range(sw):
            ix0 = (d - pw) % sw  # first column ix with (ix + pw) % sw == d
            if ix0 >= w:
                continue
            cnt = (w - ix0 + sw - 1) // sw
            start = base + (ix0 + pw) // sw
            dst = plane_row[d, start:start + cnt]
            if to_phases:
                for t in range(cnt):
                    dst[t] = src[ix0 + t * sw]
            else:
                for t in range(cnt):
                    src[ix0 + t * sw] = dst[t]


@njit(cache=True, nogil=True)
def im2col_wide(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, cols):
    """Columns in the "wide" layout: x (n, C, H, W) -> cols (C*kh*kw, n, OH*wq), C order.

    Split the zero-padded input plane xp (Hp, Wp) into its sh*sw stride phases
    ``ph_(a,d)[y, x] = xp[a + sh*y, d + sw*x]``, each (hq, wq).  Tap (i, j) of output
    (oy, ox) reads xp[oy*sh + i*dh, ox*sw + j*dw] = ph_(a,d)[oy + i*dh//sh, ox + j*dw//sw]
    with a = i*dh % sh, d = j*dw % sw.  So with column index t = oy*wq + ox, the row of tap
    (i, j) is ONE contiguous slice of the flattened phase plane, starting at
    ``(i*dh//sh)*wq + j*dw//sw``: im2col becomes C*kh*kw long memcpys per sample instead of
    OH short, branchy ones (5-8x faster, measured).  The price: columns with ox >= OW are
    junk (the next row's pixels) that the caller drops, a (wq - OW)/OW overhead in the GEMM.

    Row r = (c*kh + i)*kw + j, as in :func:`im2col`.  Serial and ``nogil``: the conv layer
    runs one batch chunk per thread.
    """
    n, c, h, w = x.shape
    q = oh * wq
    phases = np.zeros((sh, sw, hq * wq), dtype=x.dtype)  # the padding stays zero
    for b in range(n):
        for ch in range(c):
            _phase_copy(x[b, ch], phases, ph, pw, wq, True)
            for i in range(kh):
                for j in range(kw):
                    off = ((i * dh) // sh) * wq + (j * dw) // sw
                    plane = phases[(i * dh) % sh, (j * dw) % sw]
                    src_row = plane[off:off + q]  # slicing first lets LLVM vectorise (2x)
                    row = cols[(ch * kh + i) * kw + j, b]
                    for t in range(q):
                        row[t] = src_row[t]


@njit(cache=True, nogil=True)
def crop_wide(out, bias, wq, y):
    """y (n, K, OH, OW) = the valid columns (ox < OW) of ``out`` (K, n*OH*wq) + bias (K,)."""
    n, k, oh, ow = y.shape
    for s in range(n):
        for kk in range(k):
            b = bias[kk]
            src = out[kk]
            for oy in range(oh):
                base = (s * oh + oy) * wq
                dst = y[s, kk, oy]
                for ox in range(ow):
                    dst[ox] = src[base + ox] + b


@njit(cache=True, nogil=True)
def wide_rows(gy, wq, g):
    """g (K, n*OH*wq) = dY (n, K, OH, OW) in the wide layout, zeros in the junk columns
    (ox >= OW): the right-hand side of ``W^T dY`` for :func:`col2im_wide`."""
    n, k, oh, ow = gy.shape
    for kk in range(k):
        dst = g[kk]
        for s in range(n):
            for oy in range(oh):
                base = (s * oh + oy) * wq
                src = gy[s, kk, oy]
                for ox in range(ow):
                    dst[base + ox] = src[ox]
                for ox in range(ow, wq):
                    dst[base + ox] = 0


@njit(cache=True, nogil=True, fastmath=_FM)
def col2im_wide(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, x):
    """Adjoint of :func:`im2col_wide`: x (n, C, H, W) = the scatter-add of the rows of
    cols (C*kh*kw, n, OH*wq) into the stride phases, cropped.  x is overwritten.

    Exact only if the junk columns (ox >= OW) of cols are zero, which holds for
    ``W^T dY`` when dY's junk columns are zero.  Taps are summed in a fixed order.
    """
    n, c, h, w = x.shape
    q = oh * wq
    acc = np.empty((sh, sw, hq * wq), dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            acc[:] = 0
            for i in range(kh):
                for j in range(kw):
                    off = ((i * dh) // sh) * wq + (j * dw) // sw
                    plane = acc[(i * dh) % sh, (j * dw) % sw]
                    dst = plane[off:off + q]
                    row = cols[(ch * kh + i) * kw + j, b]
                    for t in range(q):
                        dst[t] += row[t]
            _phase_copy(x[b, ch], acc, ph, pw, wq, False)


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
