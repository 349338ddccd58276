"""Numba Winograd F(2x2, 3x3) and F(4x4, 3x3) transforms (Lavin & Gray, arXiv:1509.09308).

The matrices BT and AT of ``kernels/reference.py`` are written out as add/sub formulas
(one helper per 1-D transform, applied to rows and then to columns), so no generic small
matrix loop and no multiply by zero is left.  The input transform writes every tile
straight into the GEMM layout ``V (alpha*alpha, C, P)`` in one pass; the output transform
reads ``M (alpha*alpha, K, P)`` and writes the cropped NCHW output, adding the bias.
The alpha^2 GEMMs between them stay in NumPy (``np.matmul``).

Tiles are numbered ``p = (n*TH + ty)*TW + tx``.  One thread per (n, c) plane (input) or
(n, k) plane (output): disjoint writes, no races.
"""
import numpy as np
from numba import njit, prange

from ._config import FASTMATH, PARALLEL

from ..reference import winograd_filter_transform as _filter_transform_ref

_FM = FASTMATH


# ---------------------------------------------------------------- 1-D transforms

@njit(inline="always")
def _bt2(d0, d1, d2, d3):
    """BT_F2 @ d."""
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


@njit(inline="always")
def _at2(m0, m1, m2, m3):
    """AT_F2 @ m."""
    return m0 + m1 + m2, m1 - m2 - m3


@njit(inline="always")
def _bt4(d0, d1, d2, d3, d4, d5):
    """BT_F4 @ d, sharing the common sub-expressions."""
    a = d4 - 4.0 * d2
    b = d3 - 4.0 * d1
    c = d4 - d2
    e = 2.0 * (d3 - d1)
    return (4.0 * d0 - 5.0 * d2 + d4, a + b, a - b, c + e, c - e, 4.0 * d1 - 5.0 * d3 + d5)


@njit(inline="always")
def _at4(m0, m1, m2, m3, m4, m5):
    """AT_F4 @ m."""
    s1 = m1 + m2
    d1 = m1 - m2
    s2 = m3 + m4
    d2 = m3 - m4
    return m0 + s1 + s2, d1 + 2.0 * d2, s1 + 4.0 * s2, d1 + 8.0 * d2 + m5


# ---------------------------------------------------------------- input transforms
# Each (n, c) plane is transformed into a small local buffer ``loc (T, alpha^2)`` (one
# contiguous row of alpha^2 values per tile), then copied out one V-row at a time.  Writing
# V[e, c, p] directly would keep alpha^2 write streams open whose addresses differ by a
# multiple of 4 KiB: they all map to the same L1 set and thrash (measured 2-3x slower).

@njit(cache=True, parallel=PARALLEL, fastmath=_FM, nogil=True)
def _input_f2(xp, th, tw, v):
    n, c = xp.shape[:2]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        img = xp[b, ch]
        loc = np.empty((th * tw, 16), dtype=xp.dtype)
        t = np.empty((4, 4), dtype=xp.dtype)
        for ty in range(th):
            y0 = 2 * ty
            for tx in range(tw):
                x0 = 2 * tx
                q = loc[ty * tw + tx]
                for col in range(4):  # t = BT d (per column)
                    t[0, col], t[1, col], t[2, col], t[3, col] = _bt2(
                        img[y0, x0 + col], img[y0 + 1, x0 + col],
                        img[y0 + 2, x0 + col], img[y0 + 3, x0 + col])
                for r in range(4):  # V = t B (per row)
                    q[4 * r], q[4 * r + 1], q[4 * r + 2], q[4 * r + 3] = _bt2(
                        t[r, 0], t[r, 1], t[r, 2], t[r, 3])
        p0 = b * th * tw
        for e in range(16):
            row = v[e, ch]
            for i in range(th * tw):
                row[p0 + i] = loc[i, e]


@njit(cache=True, parallel=PARALLEL, fastmath=_FM, nogil=True)
def _input_f4(xp, th, tw, v):
    n, c = xp.shape[:2]
    for nc in prange(n * c):
        b = nc // c
        ch = nc % c
        img = xp[b, ch]
        loc = np.empty((th * tw, 36), dtype=xp.dtype)
        t = np.empty((6, 6), dtype=xp.dtype)
        for ty in range(th):
            y0 = 4 * ty
            for tx in range(tw):
                x0 = 4 * tx
                q = loc[ty * tw + tx]
                for col in range(6):
                    t[0, col], t[1, col], t[2, col], t[3, col], t[4, col], t[5, col] = _bt4(
                        img[y0, x0 + col], img[y0 + 1, x0 + col], img[y0 + 2, x0 + col],
                        img[y0 + 3, x0 + col], img[y0 + 4, x0 + col], img[y0 + 5, x0 + col])
                for r in range(6):
                    (q[6 * r], q[6 * r + 1], q[6 * r + 2],
                     q[6 * r + 3], q[6 * r + 4], q[6 * r + 5]) = _bt4(
                        t[r, 0], t[r, 1], t[r, 2], t[r, 3], t[r, 4], t[r, 5])
        p0 = b * th * tw
        for e in range(36):
            row = v[e, ch]
            for i in range(th * tw):
                row[p0 + i] = loc[i, e]


# ---------------------------------------------------------------- output transforms
# The mirror image: gather one (n, k) plane's tiles from M into ``loc (T, alpha^2)`` with
# sequential reads, then transform each tile from its contiguous row.

@njit(cache=True, parallel=PARALLEL, fastmath=_FM, nogil=True)
def _output_f2(mt, bias, th, tw, y):
    n, k, oh, ow = y.shape
    for nk in prange(n * k):
        b = nk // k
        ch = nk % k
        bv = bias[ch]
        out = y[b, ch]
        loc = np.empty((th * tw, 16), dtype=mt.dtype)
        t = np.empty((2, 4), dtype=mt.dtype)
        p0 = b * th * tw
        for e in range(16):
            row = mt[e, ch]
            for i in range(th * tw):
                loc[i, e] = row[p0 + i]
        for ty in range(th):
            for tx in range(tw):
                q = loc[ty * tw + tx]
                for col in range(4):  # t = AT M (per column)
                    t[0, col], t[1, col] = _at2(q[col], q[4 + col], q[8 + col], q[12 + col])
                for r in range(2):  # Y = t A (per row), cropped at the edges
                    yy = 2 * ty + r
                    if yy < oh:
                        a0, a1 = _at2(t[r, 0], t[r, 1], t[r, 2], t[r, 3])
                        xx = 2 * tx
                        out[yy, xx] = a0 + bv
                        if xx + 1 < ow:
                            out[yy, xx + 1] = a1 + bv


@njit(cache=True, parallel=PARALLEL, fastmath=_FM, nogil=True)
def _output_f4(mt, bias, th, tw, y):
    n, k, oh, ow = y.shape
    for nk in prange(n * k):
        b = nk // k
        ch = nk % k
        bv = bias[ch]
        out = y[b, ch]
        loc = np.empty((th * tw, 36), dtype=mt.dtype)
        t = np.empty((4, 6), dtype=mt.dtype)
        p0 = b * th * tw
        for e in range(36):
            row = mt[e, ch]
            for i in range(th * tw):
                loc[i, e] = row[p0 + i]
        for ty in range(th):
            for tx in range(tw):
                q = loc[ty * tw + tx]
                for col in range(6):
                    t[0, col], t[1, col], t[2, col], t[3, col] = _at4(
                        q[col], q[6 + col], q[12 + col], q[18 + col], q[24 + col], q[30 + col])
                for r in range(4):
                    yy = 4 * ty + r
                    if yy < oh:
                        a0, a1, a2, a3 = _at4(t[r, 0], t[r, 1], t[r, 2],
                                              t[r, 3], t[r, 4], t[r, 5])
                        xx = 4 * tx
                        if xx + 3 < ow:
                            out[yy, xx] = a0 + bv
                            out[yy, xx + 1] = a1 + bv
                            out[yy, xx + 2] = a2 + bv
                            out[yy, xx + 3] = a3 + bv
                        else:
                            out[yy, xx] = a0 + bv
                            if xx + 1 < ow:
                                out[yy, xx + 1] = a1 + bv
                            if xx + 2 < ow:
                                out[yy, xx + 2] = a2 + bv


# ---------------------------------------------------------------- public wrappers

def filter_transform(w, m=2):
    """U = G g GT, computed in float64 and rounded once: (K, C, 3, 3) -> (alpha^2, K, C).

    Runs once per weight update, so it is plain NumPy; rounding once at the end keeps the
    filter side of the error at half an ulp.
    """
    return np.ascontiguousarray(_filter_transform_ref(w.astype(np.float64), m).astype(w.dtype))


def input_transform(xp, m=2, out=None):
    """V = BT d B for every tile of an already padded input.

    xp (N, C, TH*m + 2, TW*m + 2) -> V (alpha^2, C, N*TH*TW), as the reference; ``out``
    (C-contiguous, that shape) receives V when given.
    """
    xp = np.ascontiguousarray(xp)
    n, c, hp, wp = xp.shape
    th, tw = (hp - 2) // m, (wp - 2) // m
    if out is None:
        out = np.empty(((m + 2) ** 2, c, n * th * tw), dtype=xp.dtype)
    (_input_f2 if m == 2 else _input_f4)(xp, th, tw, out)
    return out


def output_transform(mt, m, n, oh, ow, bias=None, out=None):
    """Y = AT M A per tile, cropped: M (alpha^2, K, N*TH*TW) -> y (N, K, OH, OW) (+ bias).

    ``out`` (C-contiguous (N, K, OH, OW)) receives y when given.
    """
    mt = np.ascontiguousarray(mt)
    k = mt.shape[1]
    th, tw = -(-oh // m), -(-ow // m)
    if bias is None:
        bias = np.zeros(k, dtype=mt.dtype)
    if out is None:
        out = np.empty((n, k, oh, ow), dtype=mt.dtype)
    (_output_f2 if m == 2 else _output_f4)(mt, np.ascontiguousarray(bias, dtype=mt.dtype),
                                          th, tw, out)
    return out
