"""Direct 3x3 stride-1 convolution in Numba: no column matrix, no GEMM.

For layers with few channels (ResNet's 16-channel stage: K = C = 16) an im2col GEMM is
poor: the GEMM's inner dimension is only C*9 and its M side only K, so OpenBLAS spends
most of its time packing the columns it was just given (measured ~70 GFLOP/s a thread at
K = 16, on top of the im2col copy).  These kernels compute the convolution from the
zero-padded input plane directly, in the "wide" layout of ``cpu/im2col.py``:

* the padded plane ``xp[c]`` (Hp + 1 rows of Wp = wq columns, one spare zero row) is
  flattened, so output t = oy*wq + ox reads tap (i, j) at ``xp[c, t + i*wq + j]``: every
  tap is the same contiguous slice, shifted, and the loop over t vectorises (SIMD over
  output pixels, unaligned loads);
* columns with ox >= OW are junk (the next row's pixels) and are dropped on the copy out,
  a (wq - OW)/OW overhead (6% at 32x32, 12% at 16x16, 25% at 8x8);
* the forward pass holds 4 output channels x 3 taps of weights in registers per pass over
  a row of input (3 loads, 4 accumulator loads/stores, 12 FMAs per vector), the weight
  gradient keeps 9 dot products (one per tap) in registers per (k, c) pair.

The input gradient of a stride-1 3x3 convolution with padding p <= 2 is the forward
convolution of dY with the flipped, C<->K-transposed filter and padding 2 - p, so it runs
the forward kernel.  All kernels are serial and ``nogil``: the conv layer runs one batch
chunk per thread (``conv_algo._run_chunks``).  Sums run in a fixed order (deterministic).
"""
import numpy as np
from numba import njit

from ._config import FASTMATH

_FM = FASTMATH


@njit(inline="always")
def _pad_plane(img, flat, ph, pw, wq):
    """Copy image (H, W) into the flat zero-padded plane at (iy + ph, ix + pw)."""
    h, w = img.shape
    for iy in range(h):
        base = (iy + ph) * wq + pw
        row = img[iy]
        for ix in range(w):
            flat[base + ix] = row[ix]


@njit(inline="always")
def _aligned_rows(rows, cols, like):
    """An uninitialised (rows, >= cols) C-contiguous array of ``like``'s dtype whose rows
    start on 64-byte boundaries.

    The accumulators are loaded and stored once per FMA group; with 512-bit vectors an
    unaligned row splits every access over two cache lines (Numba aligns its arrays to
    32 bytes): measured 15-20 % slower.
    """
    per = 64 // like.itemsize
    stride = -(-cols // per) * per
    buf = np.empty(rows * stride + per, dtype=like.dtype)
    off = ((-buf.ctypes.data) % 64) // like.itemsize
    return buf[off:off + rows * stride].reshape((rows, stride))  # cols rounded up


@njit(cache=True, nogil=True, fastmath=_FM)
def conv3x3_forward(x, w, b, ph, pw, hq, wq, y):
    """y = conv2d(x, w) + b for a 3x3, stride-1 kernel; y is overwritten.

    x (n, C, H, W), w (K, C, 3, 3), b (K,) (zeros for no bias), y (n, K, OH, OW) with
    OH = H + 2ph - 2, OW = W + 2pw - 2, wq = W + 2pw, hq = H + 2ph + 1 (spare zero row).
    """
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh = y.shape[2]
    q = oh * wq
    xp = np.zeros((c, hq * wq), dtype=x.dtype)  # padded planes; the borders stay zero
    acc = _aligned_rows(4, q, x)  # 4 output channels, wide layout
    k4 = k - k % 4
    for s in range(n):
        for ch in range(c):
            _pad_plane(x[s, ch], xp[ch], ph, pw, wq)
        for k0 in range(0, k4, 4):  # blocks of 4 output channels
            acc[:] = 0
            a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
            for ch in range(c):
                for i in range(3):
                    r = xp[ch, i * wq:i * wq + q + 2]  # taps (i, 0..2) of every output
                    u0, u1, u2 = w[k0, ch, i, 0], w[k0, ch, i, 1], w[k0, ch, i, 2]
                    v0, v1, v2 = w[k0 + 1, ch, i, 0], w[k0 + 1, ch, i, 1], w[k0 + 1, ch, i, 2]
                    s0, s1, s2 = w[k0 + 2, ch, i, 0], w[k0 + 2, ch, i, 1], w[k0 + 2, ch, i, 2]
                    z0, z1, z2 = w[k0 + 3, ch, i, 0], w[k0 + 3, ch, i, 1], w[k0 + 3, ch, i, 2]
                    for t in range(q):
                        x0 = r[t]
                        x1 = r[t + 1]
                        x2 = r[t + 2]
                        a0[t] += u0 * x0 + u1 * x1 + u2 * x2
                        a1[t] += v0 * x0 + v1 * x1 + v2 * x2
                        a2[t] += s0 * x0 + s1 * x1 + s2 * x2
                        a3[t] += z0 * x0 + z1 * x1 + z2 * x2
            for kk in range(4):
                _crop_out(acc[kk], b[k0 + kk], wq, y[s, k0 + kk])
        for kt in range(k4, k):  # the remaining K % 4 channels one at a time
            a0 = acc[0]
            a0[:] = 0
            for ch in range(c):
                for i in range(3):
                    r = xp[ch, i * wq:i * wq + q + 2]
                    u0, u1, u2 = w[kt, ch, i, 0], w[kt, ch, i, 1], w[kt, ch, i, 2]
                    for t in range(q):
                        a0[t] += u0 * r[t] + u1 * r[t + 1] + u2 * r[t + 2]
            _crop_out(a0, b[kt], wq, y[s, kt])


@njit(inline="always")
def _crop_out(wide, bias, wq, plane):
    """plane (OH, OW) = the valid columns of a wide row block (OH*wq,) plus ``bias``."""
    oh, ow = plane.shape
    for oy in range(oh):
        src = wide[oy * wq:oy * wq + ow]
        dst = plane[oy]
        for ox in range(ow):
            dst[ox] = src[ox] + bias


@njit(inline="always")
def _stack_planes(x, ph, pw, rows, wq, xp):
    """Copy every plane x[s, c] into ``xp[c]`` at row ``s*rows + ph``, column ``pw``.

    Planes are stacked ``rows = H + ph`` rows apart: image s's bottom padding is image
    s + 1's top padding (both zero), so one flat run over ``xp[c]`` covers the whole chunk.
    """
    n, c, h, w = x.shape
    for s in range(n):
        for ch in range(c):
            dst = xp[ch]
            src = x[s, ch]
            for iy in range(h):
                base = (s * rows + iy + ph) * wq + pw
                row = src[iy]
                for ix in range(w):
                    dst[base + ix] = row[ix]


@njit(cache=True, nogil=True, fastmath=_FM)
def conv3x3_weight_grad(x, gy, ph, pw, wq, gw):
    """gw += sum_n gy_n (x) x_n for a 3x3, stride-1 kernel (the weight gradient).

    x (n, C, H, W), gy (n, K, OH, OW), gw (K, C, 3, 3) accumulated into:
    ``gw[k, c, i, j] += sum_{n, oy, ox} gy[n, k, oy, ox] * xp[n, c, oy + i, ox + j]``.
    The chunk's padded planes are stacked (:func:`_stack_planes`) and dY laid out the
    same way, wide, with zeros in its junk columns and rows: each (k, c) pair is then 9
    dot products over one flat run for the whole chunk, reduced to scalars once per chunk
    rather than once per image (the reductions cost as much as the products on 16x16
    planes).  Two output channels share each pass over x (11 loads per 18 FMAs).
    """
    n, c, h, wd = x.shape
    k, oh, ow = gy.shape[1], gy.shape[2], gy.shape[3]
    rows = h + ph                          # plane stride, in rows
    size = n * rows * wq
    q = (n - 1) * rows * wq + oh * wq      # outputs (junk included) of the whole chunk
    xp = np.zeros((c, size + ph * wq + 2 * wq + 2), dtype=x.dtype)
    _stack_planes(x, ph, pw, rows, wq, xp)
    g = np.zeros((k + k % 2, size), dtype=x.dtype)  # dY stacked the same way, wide
    for s in range(n):
        for kk in range(k):
            for oy in range(oh):
                base = (s * rows + oy) * wq
                src = gy[s, kk, oy]
                dst = g[kk]
                for ox in range(ow):
                    dst[base + ox] = src[ox]
    zero = np.zeros(1, dtype=x.dtype)[0]   # accumulate in x's dtype, not float64
    for kk in range(0, k, 2):
        e = g[kk, :q]
        f = g[kk + 1, :q]                  # zeros when K is odd
        for ch in range(c):
            r0 = xp[ch, 0:q + 2]
            r1 = xp[ch, wq:wq + q + 2]
            r2 = xp[ch, 2 * wq:2 * wq + q + 2]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = zero
            u0 = u1 = u2 = u3 = u4 = u5 = u6 = u7 = u8 = zero
            for t in range(q):
                a0, a1, a2 = r0[t], r0[t + 1], r0[t + 2]
                b0, b1, b2 = r1[t], r1[t + 1], r1[t + 2]
                c0, c1, c2 = r2[t], r2[t + 1], r2[t + 2]
                et = e[t]
                ft = f[t]
                s0 += et * a0
                s1 += et * a1
                s2 += et * a2
                s3 += et * b0
                s4 += et * b1
                s5 += et * b2
                s6 += et * c0
                s7 += et * c1
                s8 += et * c2
                u0 += ft * a0
                u1 += ft * a1
                u2 += ft * a2
                u3 += ft * b0
                u4 += ft * b1
                u5 += ft * b2
                u6 += ft * c0
                u7 += ft * c1
                u8 += ft * c2
            _add9(gw[kk, ch], s0, s1, s2, s3, s4, s5, s6, s7, s8)
            if kk + 1 < k:
                _add9(gw[kk + 1, ch], u0, u1, u2, u3, u4, u5, u6, u7, u8)


@njit(inline="always")
def _add9(o, s0, s1, s2, s3, s4, s5, s6, s7, s8):
    """o (3, 3) += the nine tap sums."""
    o[0, 0] += s0
    o[0, 1] += s1
    o[0, 2] += s2
    o[1, 0] += s3
    o[1, 1] += s4
    o[1, 2] += s5
    o[2, 0] += s6
    o[2, 1] += s7
    o[2, 2] += s8


# ---------------------------------------------------------------------------- stride 2
#
# A 3x3, stride-2 convolution reads ``xp[2*oy + i, 2*ox + j]``.  Split the padded plane into
# its four phases ``P[a, b][u, v] = xp[2u + a, 2v + b]`` (each hq x wq): tap (i, j) then reads
# phase (i % 2, j % 2) at (oy + i // 2, ox + j // 2), a shift, and output t = oy*wq + ox
# reads ``P[i % 2, j % 2][t + (i // 2)*wq + j // 2]``.  So the stride-1 scheme applies:
# per kernel row i, taps j = 0, 1, 2 are the even phase at t, the odd phase at t, the even
# phase at t + 1.  (ResNet's down-sampling layers; im2col spent more time copying
# columns than multiplying for them.)

@njit(inline="always")
def _phases(img, ph, pw, wq, out, base):
    """out[2*(Y % 2) + X % 2, base + (Y // 2)*wq + X // 2] = img[Y - ph, X - pw]."""
    h, w = img.shape
    for iy in range(h):
        yy = iy + ph
        row = img[iy]
        for ix in range(w):
            xx = ix + pw
            out[2 * (yy % 2) + xx % 2, base + (yy // 2) * wq + xx // 2] = row[ix]


@njit(cache=True, nogil=True, fastmath=_FM)
def conv3x3s2_forward(x, w, b, ph, pw, hq, wq, y):
    """y = conv2d(x, w, stride=2) + b for a 3x3 kernel; y is overwritten.

    x (n, C, H, W), w (K4, C, 3, 3) and b (K4,) with K4 a multiple of 4 >= K (zero
    filters), y (n, K, OH, OW); hq = ceil((H + 2ph)/2) + 1 phase rows (one spare),
    wq = ceil((W + 2pw)/2) phase columns.
    """
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh = y.shape[2]
    q = oh * wq
    xp = np.zeros((c, 4, hq * wq), dtype=x.dtype)  # the four phases of each padded plane
    acc = _aligned_rows(4, q, x)
    for s in range(n):
        for ch in range(c):
            _phases(x[s, ch], ph, pw, wq, xp[ch], 0)
        for k0 in range(0, k, 4):  # blocks of 4 output channels (K padded to 4 by the caller)
            acc[:] = 0
            a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
            for ch in range(c):
                for i in range(3):
                    off = (i // 2) * wq
                    ev = xp[ch, 2 * (i % 2), off:off + q + 1]  # taps j = 0 and 2
                    od = xp[ch, 2 * (i % 2) + 1, off:off + q]  # tap j = 1
                    u0, u1, u2 = w[k0, ch, i, 0], w[k0, ch, i, 1], w[k0, ch, i, 2]
                    v0, v1, v2 = w[k0 + 1, ch, i, 0], w[k0 + 1, ch, i, 1], w[k0 + 1, ch, i, 2]
                    z0, z1, z2 = w[k0 + 2, ch, i, 0], w[k0 + 2, ch, i, 1], w[k0 + 2, ch, i, 2]
                    e0, e1, e2 = w[k0 + 3, ch, i, 0], w[k0 + 3, ch, i, 1], w[k0 + 3, ch, i, 2]
                    for t in range(q):
                        x0 = ev[t]
                        x1 = od[t]
                        x2 = ev[t + 1]
                        a0[t] += u0 * x0 + u1 * x1 + u2 * x2
                        a1[t] += v0 * x0 + v1 * x1 + v2 * x2
                        a2[t] += z0 * x0 + z1 * x1 + z2 * x2
                        a3[t] += e0 * x0 + e1 * x1 + e2 * x2
            for kk in range(min(4, y.shape[1] - k0)):
                _crop_out(acc[kk], b[k0 + kk], wq, y[s, k0 + kk])


@njit(cache=True, nogil=True, fastmath=_FM)
def conv3x3s2_weight_grad(x, gy, ph, pw, rows, wq, gw):
    """gw += the weight gradient of :func:`conv3x3s2_forward`.

    ``gw[k, c, i, j] += sum_{n, oy, ox} gy[n, k, oy, ox] * xp[n, c, 2oy + i, 2ox + j]``:
    nine dot products per (k, c) pair over the phases, the chunk's phase planes stacked
    ``rows`` = ceil((H + 2ph)/2) apart and dY laid out the same way (zeros in its junk
    columns and rows), so each sum runs once over the whole chunk.
    """
    n, c, h, wd = x.shape
    k, oh, ow = gy.shape[1], gy.shape[2], gy.shape[3]
    size = n * rows * wq
    q = (n - 1) * rows * wq + oh * wq
    xp = np.zeros((c, 4, size + wq + 2), dtype=x.dtype)
    for s in range(n):
        for ch in range(c):
            _phases(x[s, ch], ph, pw, wq, xp[ch], s * rows * wq)
    g = np.zeros((k + k % 2, size), dtype=x.dtype)
    for s in range(n):
        for kk in range(k):
            dst = g[kk]
            for oy in range(oh):
                base = (s * rows + oy) * wq
                src = gy[s, kk, oy]
                for ox in range(ow):
                    dst[base + ox] = src[ox]
    zero = np.zeros(1, dtype=x.dtype)[0]
    for kk in range(0, k, 2):
        e = g[kk, :q]
        f = g[kk + 1, :q]                      # zeros when K is odd
        for ch in range(c):
            p00, p01 = xp[ch, 0], xp[ch, 1]    # row phase 0: kernel rows 0 (at t) and 2 (t + wq)
            p10, p11 = xp[ch, 2], xp[ch, 3]    # row phase 1: kernel row 1
            r0e, r0o = p00[0:q + 1], p01[0:q]
            r1e, r1o = p10[0:q + 1], p11[0:q]
            r2e, r2o = p00[wq:wq + q + 1], p01[wq:wq + q]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = zero
            u0 = u1 = u2 = u3 = u4 = u5 = u6 = u7 = u8 = zero
            for t in range(q):
                a0, a1, a2 = r0e[t], r0o[t], r0e[t + 1]
                b0, b1, b2 = r1e[t], r1o[t], r1e[t + 1]
                c0, c1, c2 = r2e[t], r2o[t], r2e[t + 1]
                et = e[t]
                ft = f[t]
                s0 += et * a0
                s1 += et * a1
                s2 += et * a2
                s3 += et * b0
                s4 += et * b1
                s5 += et * b2
                s6 += et * c0
                s7 += et * c1
                s8 += et * c2
                u0 += ft * a0
                u1 += ft * a1
                u2 += ft * a2
                u3 += ft * b0
                u4 += ft * b1
                u5 += ft * b2
                u6 += ft * c0
                u7 += ft * c1
                u8 += ft * c2
            _add9(gw[kk, ch], s0, s1, s2, s3, s4, s5, s6, s7, s8)
            if kk + 1 < k:
                _add9(gw[kk + 1, ch], u0, u1, u2, u3, u4, u5, u6, u7, u8)


# ---------------------------------------------------------------------------- 5-wide kernels
#
# The same scheme for kernels 5 taps wide (LeNet's 5x5 layers, any kernel height), stride 1,
# dilation 1.  Output t = oy*wq + ox reads tap (i, j) at xp[c, t + i*wq + j], so one pass
# over a row of taps holds 4 output channels x 5 taps of weights (5 loads, 4 accumulator
# loads/stores, 20 FMAs per vector).  K is padded to a multiple of 4 by the caller (zero
# filters, their outputs never copied out), so there is no remainder loop.

@njit(cache=True, nogil=True, fastmath=_FM)
def conv5_forward(x, w, b, ph, pw, hq, wq, y):
    """y = conv2d(x, w) + b for a kh x 5, stride-1 kernel; y is overwritten.

    x (n, C, H, W), w (K4, C, kh, 5) with K4 a multiple of 4 >= K, b (K4,),
    y (n, K, OH, OW) with OH = H + 2ph - kh + 1, OW = W + 2pw - 4, wq = W + 2pw,
    hq = H + 2ph + 1 (a spare zero row: the last row's junk columns read past the end).
    """
    n, c, h, wd = x.shape
    kh = w.shape[2]
    k, oh = y.shape[1], y.shape[2]
    q = oh * wq
    xp = np.zeros((c, hq * wq), dtype=x.dtype)  # padded planes; the borders stay zero
    acc = _aligned_rows(4, q, x)  # 4 output channels, wide layout
    for s in range(n):
        for ch in range(c):
            _pad_plane(x[s, ch], xp[ch], ph, pw, wq)
        for k0 in range(0, k, 4):  # blocks of 4 output channels
            acc[:] = 0
            a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
            for ch in range(c):
                for i in range(kh):
                    r = xp[ch, i * wq:i * wq + q + 4]  # taps (i, 0..4) of every output
                    u0, u1, u2, u3, u4 = w[k0, ch, i]
                    v0, v1, v2, v3, v4 = w[k0 + 1, ch, i]
                    s0, s1, s2, s3, s4 = w[k0 + 2, ch, i]
                    z0, z1, z2, z3, z4 = w[k0 + 3, ch, i]
                    for t in range(q):
                        x0 = r[t]
                        x1 = r[t + 1]
                        x2 = r[t + 2]
                        x3 = r[t + 3]
                        x4 = r[t + 4]
                        a0[t] += u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3 + u4 * x4
                        a1[t] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3 + v4 * x4
                        a2[t] += s0 * x0 + s1 * x1 + s2 * x2 + s3 * x3 + s4 * x4
                        a3[t] += z0 * x0 + z1 * x1 + z2 * x2 + z3 * x3 + z4 * x4
            for kk in range(min(4, k - k0)):
                _crop_out(acc[kk], b[k0 + kk], wq, y[s, k0 + kk])


@njit(cache=True, nogil=True, fastmath=_FM)
def conv5_weight_grad(x, gy, ph, pw, wq, gw, gb):
    """gw += sum_n gy_n (x) x_n and gb += sum gy for a kh x 5, stride-1 kernel.

    x (n, C, H, W), gy (n, K, OH, OW), gw (K2, C, kh, 5) and gb (K2,) accumulated into,
    K2 = K rounded up to even (two output channels share each pass over the input rows):
    ``gw[k, c, i, j] += sum_{n, oy, ox} gy[n, k, oy, ox] * xp[n, c, oy + i, ox + j]``.
    As in :func:`conv3x3_weight_grad`, the chunk's planes are stacked and dY laid out the
    same way with zeros in its junk columns and rows (and padded channels), so each sum
    runs once over the whole chunk.
    """
    n, c, h, wd = x.shape
    k, oh, ow = gy.shape[1], gy.shape[2], gy.shape[3]
    kh = gw.shape[2]
    k2 = gw.shape[0]
    rows = h + ph                          # plane stride, in rows
    size = n * rows * wq
    q = (n - 1) * rows * wq + oh * wq      # outputs (junk included) of the whole chunk
    xp = np.zeros((c, size + (ph + kh) * wq + 4), dtype=x.dtype)
    _stack_planes(x, ph, pw, rows, wq, xp)
    g = np.zeros((k2, size), dtype=x.dtype)  # dY stacked the same way, wide
    for s in range(n):
        for kk in range(k):
            for oy in range(oh):
                base = (s * rows + oy) * wq
                src = gy[s, kk, oy]
                dst = g[kk]
                for ox in range(ow):
                    dst[base + ox] = src[ox]
    zero = np.zeros(1, dtype=x.dtype)[0]  # accumulate in x's dtype, not float64
    for kk in range(0, k2, 2):
        e, f = g[kk, :q], g[kk + 1, :q]
        sb0 = sb1 = zero
        for t in range(q):
            sb0 += e[t]
            sb1 += f[t]
        gb[kk] += sb0
        gb[kk + 1] += sb1
        for ch in range(c):
            for i in range(kh):
                r = xp[ch, i * wq:i * wq + q + 4]
                s0 = s1 = s2 = s3 = s4 = zero
                p0 = p1 = p2 = p3 = p4 = zero
                for t in range(q):
                    et = e[t]
                    ft = f[t]
                    x0 = r[t]
                    x1 = r[t + 1]
                    x2 = r[t + 2]
                    x3 = r[t + 3]
                    x4 = r[t + 4]
                    s0 += et * x0
                    s1 += et * x1
                    s2 += et * x2
                    s3 += et * x3
                    s4 += et * x4
                    p0 += ft * x0
                    p1 += ft * x1
                    p2 += ft * x2
                    p3 += ft * x3
                    p4 += ft * x4
                o = gw[kk, ch, i]
                o[0] += s0
                o[1] += s1
                o[2] += s2
                o[3] += s3
                o[4] += s4
                o = gw[kk + 1, ch, i]
                o[0] += p0
                o[1] += p1
                o[2] += p2
                o[3] += p3
                o[4] += p4
