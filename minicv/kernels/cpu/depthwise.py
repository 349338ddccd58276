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
from .direct import _add9, _pad_plane


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


# ---------------------------------------------------------------- 3x3, stride 1: one pass
# The common case (MobileNet's layers).  Same grid as above, but the nine taps are summed
# in one pass per output plane instead of nine passes over an accumulator.  Measured on
# 32x64x16x16, one thread: forward 1.0 -> 0.47 ms, backward 3.3 -> 1.0 ms.

@njit(inline="always")
def _taps3(flat, start, step, length):
    """Three slices of ``flat``, each ``length`` long, from start, start + step, + 2*step
    (slices, not index arithmetic: unit-stride loops over them vectorise)."""
    return (flat[start:start + length], flat[start + step:start + step + length],
            flat[start + 2 * step:start + 2 * step + length])


@njit(cache=True, fastmath=FASTMATH, nogil=True)
def _dw3_fwd(x, w, bias, ph, pw, dh, dw, y):
    """3x3, stride-1 depthwise forward: y (n, K, OH, OW) overwritten.

    One padded plane at a time (in L1), all nine taps in one pass: each output is one
    load of each shifted slice and one store (the generic loops make nine passes).
    """
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh, ow = y.shape[2], y.shape[3]
    mult = k // c
    hp, wp = h + 2 * ph, wd + 2 * pw
    length = (oh - 1) * wp + ow
    zp = np.zeros(hp * wp + 2 * dw + 1, x.dtype)   # one padded plane, borders stay zero
    acc = np.empty(length, x.dtype)
    r1, r2 = dh * wp, 2 * dh * wp
    for b in range(n):
        for ch in range(c):
            _pad_plane(x[b, ch], zp, ph, pw, wp)
            s00, s01, s02 = _taps3(zp, 0, dw, length)  # tap (i, j) at offset i*dh*wp + j*dw
            s10, s11, s12 = _taps3(zp, r1, dw, length)
            s20, s21, s22 = _taps3(zp, r2, dw, length)
            for ko in range(ch * mult, (ch + 1) * mult):
                g = w[ko, 0]
                w00, w01, w02 = g[0, 0], g[0, 1], g[0, 2]
                w10, w11, w12 = g[1, 0], g[1, 1], g[1, 2]
                w20, w21, w22 = g[2, 0], g[2, 1], g[2, 2]
                bv = bias[ko]
                for q in range(length):
                    acc[q] = (bv + w00 * s00[q] + w01 * s01[q] + w02 * s02[q]
                              + w10 * s10[q] + w11 * s11[q] + w12 * s12[q]
                              + w20 * s20[q] + w21 * s21[q] + w22 * s22[q])
                out = y[b, ko]
                for oy in range(oh):
                    src = acc[oy * wp:oy * wp + ow]
                    dst = out[oy]
                    for ox in range(ow):
                        dst[ox] = src[ox]

@njit(cache=True, fastmath=FASTMATH, nogil=True)
def _dw3_bwd(x, w, gy, ph, pw, dh, dw, need_gx, gx, gw):
    """3x3, stride-1 depthwise backward: gw (K, 1, 3, 3) accumulated into and, if
    ``need_gx``, gx (n, C, H, W) overwritten.

    Per (n, c): the padded input plane and each dY plane on the padded-width grid
    (zeros around it); gw gets nine dot products in one pass, gx the nine-tap
    correlation of dY with the flipped filter, also in one pass (a gather: no
    read-modify-write of gx per tap).
    """
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh, ow = gy.shape[2], gy.shape[3]
    mult = k // c
    hp, wp = h + 2 * ph, wd + 2 * pw
    length = (oh - 1) * wp + ow                  # dY on the padded-width grid
    r1, r2 = dh * wp, 2 * dh * wp
    m = r2 + 2 * dw                              # the largest tap offset
    zp = np.zeros(hp * wp + 2 * dw + 1, x.dtype)  # x, one padded plane
    gg = np.zeros(m + hp * wp + 1, x.dtype)      # dY at gg[m + q], zeros around
    interior = h * wp                            # gx's rows, padded width
    acc = np.empty(interior, x.dtype)
    zero = np.zeros(1, dtype=x.dtype)[0]
    for b in range(n):
        for ch in range(c):
            _pad_plane(x[b, ch], zp, ph, pw, wp)
            acc[:] = 0
            for ko in range(ch * mult, (ch + 1) * mult):
                src = gy[b, ko]
                for oy in range(oh):
                    base = m + oy * wp
                    for ox in range(ow):
                        gg[base + ox] = src[oy, ox]
                # weight gradient: nine dot products of dY with the shifted input
                e = gg[m:m + length]
                s00, s01, s02 = _taps3(zp, 0, dw, length)
                s10, s11, s12 = _taps3(zp, r1, dw, length)
                s20, s21, s22 = _taps3(zp, r2, dw, length)
                t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = t8 = zero
                for q in range(length):
                    et = e[q]
                    t0 += et * s00[q]
                    t1 += et * s01[q]
                    t2 += et * s02[q]
                    t3 += et * s10[q]
                    t4 += et * s11[q]
                    t5 += et * s12[q]
                    t6 += et * s20[q]
                    t7 += et * s21[q]
                    t8 += et * s22[q]
                _add9(gw[ko, 0], t0, t1, t2, t3, t4, t5, t6, t7, t8)
                if not need_gx:
                    continue
                # input gradient: gxp[p] = sum_ij w[i, j] dY[p - off_ij], p on the rows of x
                g = w[ko, 0]
                a0 = m + ph * wp                 # gg index of p - 0 for the first interior p
                u00, u01, u02 = _taps3(gg, a0, -dw, interior)  # dY at p - off_ij
                u10, u11, u12 = _taps3(gg, a0 - r1, -dw, interior)
                u20, u21, u22 = _taps3(gg, a0 - r2, -dw, interior)
                w00, w01, w02 = g[0, 0], g[0, 1], g[0, 2]
                w10, w11, w12 = g[1, 0], g[1, 1], g[1, 2]
                w20, w21, w22 = g[2, 0], g[2, 1], g[2, 2]
                for p in range(interior):
                    acc[p] += (w00 * u00[p] + w01 * u01[p] + w02 * u02[p]
                               + w10 * u10[p] + w11 * u11[p] + w12 * u12[p]
                               + w20 * u20[p] + w21 * u21[p] + w22 * u22[p])
            if not need_gx:
                continue
            out = gx[b, ch]
            for iy in range(h):
                src = acc[iy * wp + pw:iy * wp + pw + wd]
                dst = out[iy]
                for ix in range(wd):
                    dst[ix] = src[ix]


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
    if sh == 1 and sw == 1 and kh == 3 and kw == 3:
        _dw3_fwd(x, w, bias, ph, pw, dh, dw, y)
    elif sh == 1 and sw == 1:
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
    if sh == 1 and sw == 1 and w.shape[2:] == (3, 3):
        gx = np.empty(x.shape, dtype=x.dtype) if needs[0] else None
        gw = np.zeros(w.shape, dtype=x.dtype)
        if needs[0] or needs[1]:
            _dw3_bwd(x, w, gy, ph, pw, dh, dw, needs[0],
                     gx if needs[0] else np.empty((0, 0, 0, 0), x.dtype), gw)
        gw = gw if needs[1] else None
        gb = gy.sum(axis=(0, 2, 3)) if needs[2] else None
        return gx, gw, gb
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
