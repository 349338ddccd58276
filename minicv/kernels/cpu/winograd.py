"""Numba Winograd F(2x2, 3x3) and F(4x4, 3x3) transforms (Lavin & Gray, arXiv:1509.09308).

The matrices BT and AT of ``kernels/reference.py`` are written out as add/sub formulas
(one helper per 1-D transform, applied down the rows and then along the columns), so no
generic small matrix loop and no multiply by zero is left.

Layouts are channels-last, the transpose of the reference's:
``V (alpha*alpha, P, C)``, ``U (alpha*alpha, C, K)``, ``M = V @ U (alpha*alpha, P, K)``
(``np.matmul``, BLAS), tiles numbered ``p = (n*TH + ty)*TW + tx``.  With the channels
last, every transform step is a flat loop over a tile row's ``TW*C`` values, which
vectorises; the per-tile loops of the first version (16 or 36 values at a time) ran
3-4x slower.  The input transform reads the unpadded NCHW input and pads as it goes; the
output transform writes the cropped NCHW output and adds the bias.  Kernels are serial:
``conv_algo`` runs them on batch chunks, one chunk per thread.
"""
import numpy as np
from numba import njit

from ._config import FASTMATH

from ..reference import WINOGRAD_MATRICES

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


@njit(inline="always")
def _a2(d0, d1):
    """A_F2 @ d = AT_F2.T @ d (the adjoint of the output transform)."""
    return d0, d0 + d1, d0 - d1, -d1


@njit(inline="always")
def _a4(d0, d1, d2, d3):
    """A_F4 @ d = AT_F4.T @ d."""
    s = d0 + d2
    e = 4.0 * d2
    return (d0, s + d1 + d3, s - d1 - d3, d0 + e + 2.0 * d1 + 8.0 * d3,
            d0 + e - 2.0 * d1 - 8.0 * d3, d3)


# ---------------------------------------------------------------- layout
# Everything runs channels-last, so that each step is a loop over a long contiguous run
# of (column, channel) values that LLVM vectorises, instead of a loop over the 16 or 36
# values of one tile.  Image columns are also split by their phase modulo the tile step m:
# ``zb[y, x % m, x // m, c]``.  Then "column j of every tile in a tile row" is one
# contiguous run (phase j % m, from tile index j // m on), and the row transform of a
# whole tile row is a few flat loops.  Measured against per-tile loops on the 2-core dev
# machine: 3-4x faster transforms.

@njit(cache=True, fastmath=_FM, nogil=True)
def _to_channels_last(x, b, ph, pw, m, zb):
    """``zb[y + ph, (x + pw) % m, (x + pw) // m, c] = x[b, c, y, x]``; the rest of zb (the
    zero padding) is left as it is.

    8 channels at a time: 16 input planes 4 KiB apart (32x32 float32) all map to one L1
    set and thrash (measured 3x slower than 8).
    """
    c, h, w = x.shape[1], x.shape[2], x.shape[3]
    for c0 in range(0, c, 8):
        c1 = min(c, c0 + 8)
        for y in range(h):
            row = zb[y + ph]
            phase, col = pw % m, pw // m  # of column xx + pw, stepped without a division
            for xx in range(w):
                dst = row[phase, col]
                for ch in range(c0, c1):
                    dst[ch] = x[b, ch, y, xx]
                phase += 1
                if phase == m:
                    phase = 0
                    col += 1


@njit(cache=True, fastmath=_FM, nogil=True)
def _from_channels_last(ob, m, tw, bias, y, b, y0, rows):
    """``y[b, k, y0 + r, x] = ob[r, x % m, x // m, k] + bias[k]`` for r < rows, x < OW;
    ob flat, (m, m, TW, K)."""
    k, ow = y.shape[1], y.shape[3]
    run = tw * k
    for k0 in range(0, k, 8):
        k1 = min(k, k0 + 8)
        for r in range(rows):
            phase, col = 0, 0
            for xx in range(ow):
                src = (r * m + phase) * run + col * k
                for ch in range(k0, k1):
                    y[b, ch, y0 + r, xx] = ob[src + ch] + bias[ch]
                phase += 1
                if phase == m:
                    phase = 0
                    col += 1


# ---------------------------------------------------------------- 1-D transforms of runs
# ``out_j[q] = (T @ (in_0[q], in_1[q], ...))_j`` for q < n, each in_j a run of the flat
# ``src`` from ``si + i[j]``, each out_j a run of ``dst`` from ``so + o[j]`` (offset tables
# built once per call, so the hot loops allocate nothing).  Slices, not offset arithmetic
# in the loop, so that LLVM sees unit-stride, non-negative indices and vectorises.

@njit(inline="always")
def _runs2(a, o, base, n):
    """The runs ``a[base + o[j] : base + o[j] + n]`` for j < 2 (and 4, 6 below)."""
    return a[base + o[0]:base + o[0] + n], a[base + o[1]:base + o[1] + n]


@njit(inline="always")
def _runs4(a, o, base, n):
    return (a[base + o[0]:base + o[0] + n], a[base + o[1]:base + o[1] + n],
            a[base + o[2]:base + o[2] + n], a[base + o[3]:base + o[3] + n])


@njit(inline="always")
def _runs6(a, o, base, n):
    return (a[base + o[0]:base + o[0] + n], a[base + o[1]:base + o[1] + n],
            a[base + o[2]:base + o[2] + n], a[base + o[3]:base + o[3] + n],
            a[base + o[4]:base + o[4] + n], a[base + o[5]:base + o[5] + n])


@njit(cache=True, fastmath=_FM, nogil=True)
def _bt2_run(src, i, si, dst, o, so, n):
    a0, a1, a2, a3 = _runs4(src, i, si, n)
    b0, b1, b2, b3 = _runs4(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q], b2[q], b3[q] = _bt2(a0[q], a1[q], a2[q], a3[q])


@njit(cache=True, fastmath=_FM, nogil=True)
def _bt4_run(src, i, si, dst, o, so, n):
    a0, a1, a2, a3, a4, a5 = _runs6(src, i, si, n)
    b0, b1, b2, b3, b4, b5 = _runs6(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q], b2[q], b3[q], b4[q], b5[q] = _bt4(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q])


@njit(cache=True, fastmath=_FM, nogil=True)
def _at2_run(src, i, si, dst, o, so, n):
    a0, a1, a2, a3 = _runs4(src, i, si, n)
    b0, b1 = _runs2(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q] = _at2(a0[q], a1[q], a2[q], a3[q])


@njit(cache=True, fastmath=_FM, nogil=True)
def _at4_run(src, i, si, dst, o, so, n):
    a0, a1, a2, a3, a4, a5 = _runs6(src, i, si, n)
    b0, b1, b2, b3 = _runs4(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q], b2[q], b3[q] = _at4(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q])


@njit(cache=True, fastmath=_FM, nogil=True)
def _a2_run(src, i, si, dst, o, so, n):
    a0, a1 = _runs2(src, i, si, n)
    b0, b1, b2, b3 = _runs4(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q], b2[q], b3[q] = _a2(a0[q], a1[q])


@njit(cache=True, fastmath=_FM, nogil=True)
def _a4_run(src, i, si, dst, o, so, n):
    a0, a1, a2, a3 = _runs4(src, i, si, n)
    b0, b1, b2, b3, b4, b5 = _runs6(dst, o, so, n)
    for q in range(n):
        b0[q], b1[q], b2[q], b3[q], b4[q], b5[q] = _a4(a0[q], a1[q], a2[q], a3[q])


# ---------------------------------------------------------------- input transforms
# V (alpha^2, P, C) flat: V[e, p, c] at e*P*C + p*C + c, tiles p = (n*TH + ty)*TW + tx.
# Per tile row: BT down the alpha input rows (one flat run over the whole padded row),
# then BT along the tile columns, one flat run over the row's TW*C values per tile row i.

@njit(cache=True, fastmath=_FM, nogil=True)
def _input_transform(x, m, ph, pw, th, tw, v):
    n, c = x.shape[0], x.shape[1]
    a = m + 2
    zb = np.zeros((m * th + 2, m, tw + 1, c), x.dtype)  # (Hp, phase, TW + 1, C)
    z = zb.ravel()
    row = m * (tw + 1) * c                               # one padded input row
    ph_ = (tw + 1) * c                                   # one phase of it
    run = tw * c                                         # one tile row of one V row
    pc = n * th * tw * c                                 # one V row (fixed e)
    t = np.empty(a * row, x.dtype)                       # BT applied down the columns
    # column j of tile tx: phase j % m at tile index tx + j // m
    cols = np.array([(j % m) * ph_ + (j // m) * c for j in range(a)])
    rows = np.arange(a) * row
    outs = np.arange(a) * pc             # V rows a*i + j, j < alpha, from V row a*i
    for b in range(n):
        _to_channels_last(x, b, ph, pw, m, zb)
        for ty in range(th):
            if m == 2:
                _bt2_run(z, rows, m * ty * row, t, rows, 0, row)
            else:
                _bt4_run(z, rows, m * ty * row, t, rows, 0, row)
            out = (b * th + ty) * run
            for i in range(a):
                if m == 2:
                    _bt2_run(t, cols, i * row, v, outs, a * i * pc + out, run)
                else:
                    _bt4_run(t, cols, i * row, v, outs, a * i * pc + out, run)


# ---------------------------------------------------------------- output transforms
# M (alpha^2, P, K) flat, the mirror image: per tile row, AT down the tile rows (flat
# runs over the TW*K values), then AT along the tile columns into ``ob (m, m, TW, K)``
# (output row, column phase, tile, channel), then back to NCHW with the crop and bias.

@njit(cache=True, fastmath=_FM, nogil=True)
def _output_transform(mt, m, bias, th, tw, y):
    n, k, oh = y.shape[0], y.shape[1], y.shape[2]
    a = m + 2
    run = tw * k
    pk = n * th * tw * k
    s = np.empty(m * a * run, mt.dtype)   # (m rows, alpha tile columns, TW*K)
    ob = np.empty(m * m * run, mt.dtype)  # (m rows, m phases, TW*K)
    down = a * np.arange(a) * pk          # M rows j, a + j, 2a + j, ... from M row j
    s_rows = a * np.arange(m) * run       # s rows j, a + j, ... from s row j
    along = np.arange(a) * run            # s rows a*r .. a*r + alpha - 1 from s row a*r
    o_rows = np.arange(m) * run           # ob rows m*r .. m*r + m - 1 from ob row m*r
    for b in range(n):
        for ty in range(th):
            src = (b * th + ty) * run
            for j in range(a):
                if m == 2:
                    _at2_run(mt, down, j * pk + src, s, s_rows, j * run, run)
                else:
                    _at4_run(mt, down, j * pk + src, s, s_rows, j * run, run)
            for r in range(m):
                if m == 2:
                    _at2_run(s, along, a * r * run, ob, o_rows, m * r * run, run)
                else:
                    _at4_run(s, along, a * r * run, ob, o_rows, m * r * run, run)
            _from_channels_last(ob, m, tw, bias, y, b, m * ty, min(m, oh - m * ty))


@njit(cache=True, fastmath=_FM, nogil=True)
def _output_transform_adjoint(gy, m, th, tw, dm):
    """The transpose of :func:`_output_transform` (without the bias): per tile,
    ``dM = A dY AT`` of the tile's m x m block of dY (zeros past the crop), written as
    flat (alpha^2, P, K).  The weight gradient's "input transform" of dY."""
    n, k = gy.shape[0], gy.shape[1]
    a = m + 2
    zb = np.zeros((m * th, m, tw, k), gy.dtype)  # dY channels-last, by column phase
    z = zb.ravel()
    row = m * tw * k                             # one row of zb
    run = tw * k
    pk = n * th * tw * k
    s = np.empty(a * row, gy.dtype)              # A applied down the tile rows
    rows = np.arange(m) * row
    s_rows = np.arange(a) * row
    phases = np.arange(m) * run                  # the m column phases of a row of s
    outs = np.arange(a) * pk                     # dM rows a*i + j from dM row a*i
    for b in range(n):
        _to_channels_last(gy, b, 0, 0, m, zb)
        for ty in range(th):
            if m == 2:
                _a2_run(z, rows, m * ty * row, s, s_rows, 0, row)
            else:
                _a4_run(z, rows, m * ty * row, s, s_rows, 0, row)
            out = (b * th + ty) * run
            for i in range(a):
                if m == 2:
                    _a2_run(s, phases, i * row, dm, outs, a * i * pk + out, run)
                else:
                    _a4_run(s, phases, i * row, dm, outs, a * i * pk + out, run)


# ---------------------------------------------------------------- filter transform

@njit(cache=True, fastmath=_FM, nogil=True)
def _apply_rows(a, g, u):
    """``u = a @ g`` for a short inner dimension (9), accumulated in float64, 512 columns
    at a time so that the accumulator stays in L1.  ``a`` is G kron G or its transpose:
    more than half of its entries are zeros, which are skipped (2.25x fewer products)."""
    acc = np.empty(512)
    n = g.shape[1]
    for q0 in range(0, n, 512):
        nq = min(512, n - q0)
        for e in range(a.shape[0]):
            acc[:] = 0.0
            for r in range(g.shape[0]):
                coef = a[e, r]
                if coef == 0.0:
                    continue
                row = g[r, q0:q0 + nq]
                for q in range(nq):
                    acc[q] += coef * row[q]
            out = u[e, q0:q0 + nq]
            for q in range(nq):
                out[q] = acc[q]


# ---------------------------------------------------------------- public wrappers

def winograd_tiles(h, w, m, padding=(0, 0)):
    """(OH, OW, TH, TW) of a 3x3, stride-1 convolution of an (H, W) input with F(m x m)."""
    oh, ow = h + 2 * padding[0] - 2, w + 2 * padding[1] - 2
    return oh, ow, -(-oh // m), -(-ow // m)


def filter_transform(w, m=2):
    """U = G g GT, computed in float64 and rounded once: (K, C, 3, 3) -> (alpha^2, C, K).

    ``U[a*i + j] = sum_{r,s} G[i, r] G[j, s] g[r, s]``: the Kronecker product ``G kron G``
    (alpha^2, 9) applied to the filters as a (9, C*K) matrix.  Rounding once at the end
    keeps the filter side of the error at half an ulp.  It runs once per call, so it must
    be cheap next to the GEMMs (the first version, an einsum, took 4-9 ms for 128x128
    filters; so did BLAS's dgemm with inner dimension 9).
    """
    k, c = w.shape[:2]
    g = w.reshape(k, c, 9).transpose(2, 1, 0).reshape(9, c * k)  # (9, C*K)
    u = np.empty(((m + 2) ** 2, c * k), dtype=w.dtype)
    _apply_rows(_kron_gg(m), np.ascontiguousarray(g), u)
    return u.reshape(-1, c, k)


_KRON = {}


def _kron_gg(m, transposed=False):
    """``G kron G`` (alpha^2, 9) for F(m x m, 3 x 3), or its transpose, in float64 (cached:
    it is used twice per convolution)."""
    key = (m, transposed)
    if key not in _KRON:
        g_mat = WINOGRAD_MATRICES[m][1]  # (alpha, 3)
        kk = np.kron(g_mat, g_mat)
        _KRON[key] = np.ascontiguousarray(kk.T if transposed else kk)
    return _KRON[key]


def filter_transform_adjoint(du, m=2):
    """The transpose of :func:`filter_transform`: dU (alpha^2, C, K) -> dW (K, C, 3, 3),
    ``dW[k, c] = GT dU[:, c, k] G`` (float64 accumulation)."""
    c, k = du.shape[1:]
    dg = np.empty((9, c * k), dtype=du.dtype)
    _apply_rows(_kron_gg(m, transposed=True), np.ascontiguousarray(du).reshape(-1, c * k), dg)
    return np.ascontiguousarray(dg.reshape(3, 3, c, k).transpose(3, 2, 0, 1))


def output_transform_adjoint(gy, m=2, out=None):
    """The transpose of :func:`output_transform`: dY (N, K, OH, OW) -> dM (alpha^2,
    N*TH*TW, K), ``dM = A dY AT`` per tile.  With V from :func:`input_transform`, the
    weight gradient is ``dU[e] = V[e].T @ dM[e]`` and ``dW = filter_transform_adjoint(dU)``.
    """
    gy = np.ascontiguousarray(gy)
    n, k, oh, ow = gy.shape
    th, tw = -(-oh // m), -(-ow // m)
    if out is None:
        out = np.empty(((m + 2) ** 2, n * th * tw, k), dtype=gy.dtype)
    _output_transform_adjoint(gy, m, th, tw, out.reshape(-1))
    return out


def input_transform(x, m=2, padding=(0, 0), out=None):
    """V = BT d B for every tile d of x zero-padded by ``padding`` (and at the bottom and
    right as far as the last whole tile needs).

    x (N, C, H, W) -> V (alpha^2, N*TH*TW, C); ``out`` (C-contiguous, that shape)
    receives V when given.  The reference's V is ``V.transpose(0, 2, 1)``.
    """
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    _, _, th, tw = winograd_tiles(h, w, m, padding)
    if out is None:
        out = np.empty(((m + 2) ** 2, n * th * tw, c), dtype=x.dtype)
    _input_transform(x, m, padding[0], padding[1], th, tw, out.reshape(-1))
    return out


def output_transform(mt, m, n, oh, ow, bias=None, out=None):
    """Y = AT M A per tile, cropped: M (alpha^2, N*TH*TW, K) -> y (N, K, OH, OW) (+ bias).

    ``out`` (C-contiguous (N, K, OH, OW)) receives y when given.
    """
    mt = np.ascontiguousarray(mt)
    k = mt.shape[2]
    th, tw = -(-oh // m), -(-ow // m)
    if bias is None:
        bias = np.zeros(k, dtype=mt.dtype)
    if out is None:
        out = np.empty((n, k, oh, ow), dtype=mt.dtype)
    _output_transform(mt.reshape(-1), m, np.ascontiguousarray(bias, dtype=mt.dtype),
                      th, tw, out)
    return out
