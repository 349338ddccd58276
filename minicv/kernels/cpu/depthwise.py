"""Numba direct depthwise convolution (groups == C), forward and backward.

With groups == C every group is a (mult x kh*kw) @ (kh*kw x P) GEMM: far too small for
BLAS, so im2col + GEMM degenerates.  Direct loops do ``kh*kw`` multiply-adds per output.
Weight ``w`` (K, 1, kh, kw) with K = mult*C; output channel k reads input channel
k // mult.  Parallel tasks write disjoint planes (y[n, k], gx[n, c], gw[k]).
"""
import numpy as np
from numba import njit, prange

from ..reference import _pair, conv_output_size
from ._config import FASTMATH, PARALLEL


@njit(inline="always")
def _range(out, off, stride, size):
    lo = 0
    if off < 0:
        lo = (-off + stride - 1) // stride
    hi = 0
    if size - 1 - off >= 0:
        hi = min(out, (size - 1 - off) // stride + 1)
    return lo, max(lo, hi)


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw_fwd(x, w, bias, sh, sw, ph, pw, dh, dw, y):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh, ow = y.shape[2:]
    mult = k // c
    for nk in prange(n * k):
        b = nk // k
        ko = nk % k
        img = x[b, ko // mult]
        out = y[b, ko]
        out[:, :] = bias[ko]
        for i in range(kh):
            ylo, yhi = _range(oh, i * dh - ph, sh, h)
            for j in range(kw):
                xlo, xhi = _range(ow, j * dw - pw, sw, wd)
                wv = w[ko, 0, i, j]
                off = j * dw - pw
                for oy in range(ylo, yhi):
                    row = img[oy * sh + i * dh - ph]
                    orow = out[oy]
                    if sw == 1:  # unit stride: a contiguous, vectorisable axpy
                        for ox in range(xlo, xhi):
                            orow[ox] += wv * row[ox + off]
                    else:
                        for ox in range(xlo, xhi):
                            orow[ox] += wv * row[ox * sw + off]


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw_bwd_input(gy, w, sh, sw, ph, pw, dh, dw, gx):
    n, c, h, wd = gx.shape
    k, _, kh, kw = w.shape
    oh, ow = gy.shape[2:]
    mult = k // c
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        plane = gx[b, ch]
        plane[:, :] = 0
        for ko in range(ch * mult, (ch + 1) * mult):
            g = gy[b, ko]
            for i in range(kh):
                ylo, yhi = _range(oh, i * dh - ph, sh, h)
                for j in range(kw):
                    xlo, xhi = _range(ow, j * dw - pw, sw, wd)
                    wv = w[ko, 0, i, j]
                    off = j * dw - pw
                    for oy in range(ylo, yhi):
                        row = plane[oy * sh + i * dh - ph]
                        grow = g[oy]
                        if sw == 1:
                            for ox in range(xlo, xhi):
                                row[ox + off] += wv * grow[ox]
                        else:
                            for ox in range(xlo, xhi):
                                row[ox * sw + off] += wv * grow[ox]


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw_bwd_weight(x, gy, sh, sw, ph, pw, dh, dw, gw):
    n, c, h, wd = x.shape
    k, _, kh, kw = gw.shape
    oh, ow = gy.shape[2:]
    mult = k // c
    for ko in prange(k):
        ch = ko // mult
        for i in range(kh):
            ylo, yhi = _range(oh, i * dh - ph, sh, h)
            for j in range(kw):
                xlo, xhi = _range(ow, j * dw - pw, sw, wd)
                off = j * dw - pw
                s = 0.0
                for b in range(n):
                    img = x[b, ch]
                    g = gy[b, ko]
                    for oy in range(ylo, yhi):
                        row = img[oy * sh + i * dh - ph]
                        grow = g[oy]
                        if sw == 1:
                            for ox in range(xlo, xhi):
                                s += grow[ox] * row[ox + off]
                        else:
                            for ox in range(xlo, xhi):
                                s += grow[ox] * row[ox * sw + off]
                gw[ko, 0, i, j] = s


# ---------------------------------------------------------------- stride 1: flat loops
# With stride 1 every tap is a shift.  Lay each plane out on the padded width Wp and
# output position (oy, ox) at q = oy*Wp + ox: tap (i, j) then reads xp_flat[q + i*dh*Wp +
# j*dw] for q in one contiguous range of length (OH-1)*Wp + OW.  Long unit-stride loops
# vectorise; the columns ox >= OW of the grid are junk (forward) or zero (backward).

@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw1_fwd(xp, w, bias, dh, dw, y):
    n, c, hp, wp = xp.shape
    k, _, kh, kw = w.shape
    oh, ow = y.shape[2:]
    mult = k // c
    length = (oh - 1) * wp + ow
    for nk in prange(n * k):
        b = nk // k
        ko = nk % k
        src = xp[b, ko // mult].ravel()
        acc = np.zeros(length, dtype=xp.dtype)
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                wv = w[ko, 0, i, j]
                # a slice view, then plain q: Numba cannot prove q + off >= 0, and the
                # negative-index wraparound check would block vectorisation (3x slower)
                shifted = src[off:off + length]
                for q in range(length):
                    acc[q] += wv * shifted[q]
        for oy in range(oh):
            for ox in range(ow):
                y[b, ko, oy, ox] = acc[oy * wp + ox] + bias[ko]


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw1_grid(gy, wp):
    """gy (N, K, OH, OW) on the padded-width grid: (N, K, (OH-1)*Wp + OW), zeros between."""
    n, k, oh, ow = gy.shape
    g = np.zeros((n, k, (oh - 1) * wp + ow), dtype=gy.dtype)
    for nk in prange(n * k):
        b = nk // k
        ko = nk % k
        for oy in range(oh):
            for ox in range(ow):
                g[b, ko, oy * wp + ox] = gy[b, ko, oy, ox]
    return g


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw1_bwd_input(g, w, dh, dw, gxp):
    n, c, hp, wp = gxp.shape
    k, _, kh, kw = w.shape
    mult = k // c
    length = g.shape[2]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        dst = gxp[b, ch].ravel()
        dst[:] = 0
        for ko in range(ch * mult, (ch + 1) * mult):
            src = g[b, ko]
            for i in range(kh):
                for j in range(kw):
                    off = i * dh * wp + j * dw
                    wv = w[ko, 0, i, j]
                    shifted = dst[off:off + length]
                    for q in range(length):
                        shifted[q] += wv * src[q]


@njit(cache=True, parallel=PARALLEL, fastmath=FASTMATH, nogil=True)
def _dw1_bwd_weight(xp, g, dh, dw, gw):
    n, c, hp, wp = xp.shape
    k, _, kh, kw = gw.shape
    mult = k // c
    length = g.shape[2]
    zero = np.zeros(1, dtype=xp.dtype)[0]
    for ko in prange(k):
        ch = ko // mult
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                s = zero  # accumulate in the data's dtype so the dot product vectorises
                for b in range(n):
                    src = xp[b, ch].ravel()
                    gg = g[b, ko]
                    shifted = src[off:off + length]
                    for q in range(length):
                        s += gg[q] * shifted[q]
                gw[ko, 0, i, j] = s


def _pad(x, ph, pw):
    """Zero-pad H and W (np.pad is ~2x slower than this for large arrays)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def depthwise_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Direct depthwise conv: x (N, C, H, W), w (mult*C, 1, kh, kw) -> (N, mult*C, OH, OW)."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w, dtype=x.dtype)
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(wd, kw, sw, pw, dw)
    bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
    y = np.empty((n, k, oh, ow), dtype=x.dtype)
    if sh == 1 and sw == 1:
        xp = _pad(x, ph, pw)  # (N, C, Hp, Wp)
        _dw1_fwd(xp, w, bias, dh, dw, y)
    else:
        _dw_fwd(x, w, bias, sh, sw, ph, pw, dh, dw, y)
    return y


def depthwise_conv2d_backward(x, w, gy, stride=1, padding=0, dilation=1,
                              needs=(True, True, True)):
    """Gradients (gx, gw, gb) of :func:`depthwise_conv2d`; entries not needed are None."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w, dtype=x.dtype)
    gy = np.ascontiguousarray(gy, dtype=x.dtype)
    gx = gw = gb = None
    if sh == 1 and sw == 1:
        n, c, h, wd = x.shape
        wp = wd + 2 * pw
        g = _dw1_grid(gy, wp)  # (N, K, (OH-1)*Wp + OW)
        if needs[0]:
            gxp = np.empty((n, c, h + 2 * ph, wp), dtype=x.dtype)
            _dw1_bwd_input(g, w, dh, dw, gxp)
            gx = np.ascontiguousarray(gxp[:, :, ph:ph + h, pw:pw + wd])  # crop the padding
        if needs[1]:
            xp = _pad(x, ph, pw)
            gw = np.empty(w.shape, dtype=x.dtype)
            _dw1_bwd_weight(xp, g, dh, dw, gw)
        if needs[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gw, gb
    if needs[0]:
        gx = np.empty(x.shape, dtype=x.dtype)
        _dw_bwd_input(gy, w, sh, sw, ph, pw, dh, dw, gx)
    if needs[1]:
        gw = np.empty(w.shape, dtype=x.dtype)
        _dw_bwd_weight(x, gy, sh, sw, ph, pw, dh, dw, gw)
    if needs[2]:
        gb = gy.sum(axis=(0, 2, 3))
    return gx, gw, gb
