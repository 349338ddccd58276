"""Reference kernels: plain NumPy versions of convolution, pooling and resampling.

This file is the text to study and the oracle of the tests.  Every function works on
NumPy arrays in NCHW layout (float32 or float64); none of them knows about ``Tensor``.
The fast Numba kernels in ``minicv/kernels/cpu/`` have the same signatures and layouts
and are tested against these.

Conventions used throughout
---------------------------
* ``stride``, ``padding`` and ``dilation`` are an int or a pair ``(h, w)``; padding is
  symmetric (the op layer pads explicitly first for asymmetric "same" padding).
* Output size of a convolution or pooling window (one shared helper,
  :func:`conv_output_size`)::

      OH = floor((H + 2*ph - dh*(kh - 1) - 1) / sh) + 1

* The input pixel read by output ``(oy, ox)`` and kernel tap ``(i, j)`` is
  ``iy = oy*sh - ph + i*dh``, ``ix = ox*sw - pw + j*dw``; outside the image it is 0.

Column layout (im2col)
----------------------
Per-sample NCHW, as in Caffe's ``base_conv_layer.cpp``: ``cols`` has shape
``(N, C*kh*kw, OH*OW)`` and row ``r = (c*kh + i)*kw + j``.  With
``W_mat = w.reshape(K, C*kh*kw)`` the convolution of sample n is one GEMM,
``Y_n = W_mat @ cols[n]`` of shape ``(K, OH*OW)``, which is already sample n of the NCHW
output.  This is also PyTorch's ``F.unfold`` layout ``(N, C*kh*kw, L)``.
"""
import math

import numpy as np

from ..backend import get_array_module, scatter_add


def check_float_dtype(name, *arrays):
    """The kernels take float32 and float64: raise one message for anything else."""
    for a in arrays:
        if a is not None and a.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name} expects float32 or float64, got {a.dtype}; convert "
                            f"a tensor with .float(), an array with .astype(np.float32)")


def _pair(v, name="argument"):
    """Turn an int or a length-2 sequence into a tuple of two ints."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    try:
        a, b = v
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}") from None
    return int(a), int(b)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Output length of a sliding window along one axis (convolution and pooling).

    ``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1``; with
    ``ceil_mode`` the division rounds up, but (PyTorch's rule) the last window must start
    inside the input or the left padding, otherwise it is dropped.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


# ============================================================================ im2col

def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold every receptive field of ``x`` into a column.

    ``cols[n, (c*kh + i)*kw + j, oy*OW + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]``
    (0 outside the image).  Shapes: ``x`` (N, C, H, W) -> ``cols`` (N, C*kh*kw, OH*OW).

    Chainer's trick: loop over the kh*kw taps, not over the outputs.  For a fixed tap
    the pixels it reads form a strided slice of the padded input, so each tap is one
    vectorised copy.

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> im2col(x, 3, 3).shape
    (1, 9, 4)
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H+2ph, W+2pw)
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        y0 = i * dh
        for j in range(kw):
            x0 = j * dw
            # (N, C, OH, OW): the pixels that tap (i, j) meets
            cols[:, :, i, j] = xp[:, :, y0:y0 + sh * (oh - 1) + 1:sh,
                                  x0:x0 + sw * (ow - 1) + 1:sw]
    return cols.reshape(n, c * kh * kw, oh * ow)  # (N, C*kh*kw, OH*OW)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """Fold columns back into an image, summing overlapping contributions.

    The adjoint of :func:`im2col`: ``col2im(im2col(x))`` multiplies each pixel by the
    number of windows that cover it.  ``cols`` (N, C*kh*kw, OH*OW) -> (N, C, H, W).
    It is the input gradient of im2col, and the forward of a transposed convolution.

    Within one tap's strided slice no pixel repeats, so ``+=`` on the slice is exact
    (a fancy-index assignment would silently drop duplicates).
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    cols = cols.reshape(n, c, kh, kw, oh, ow)  # (N, C, kh, kw, OH, OW)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        y0 = i * dh
        for j in range(kw):
            x0 = j * dw
            xp[:, :, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw] += \
                cols[:, :, i, j]
    return xp[:, :, ph:ph + h, pw:pw + w]  # (N, C, H, W): crop the padding


# ============================================================================ direct conv

def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct 2-D convolution (cross-correlation, as in every DL framework), in float64.

    ``y[n, k, oy, ox] = b[k] + sum_{c, i, j} w[k, c, i, j] * x[n, g*C/G + c, iy, ix]``
    where g = k // (K/G) is the group of output channel k.

    Shapes: x (N, C, H, W), w (K, C/G, kh, kw), b (K,) -> y (N, K, OH, OW).
    Every product is accumulated in float64 (the oracle of the fast paths); the result
    is returned in ``np.result_type(x, w)``.
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(wd, kw, sw, pw, dw)
    kg = k // groups
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w64 = w.astype(np.float64)
    y = np.zeros((n, k, oh, ow))
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]  # (N, C/G, Hp, Wp)
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]  # (N, C/G, OH, OW)
                y[:, g * kg:(g + 1) * kg] += np.einsum(
                    "nchw,kc->nkhw", patch, w64[g * kg:(g + 1) * kg, :, i, j])
    if b is not None:
        y += b.astype(np.float64).reshape(1, k, 1, 1)
    return y.astype(np.result_type(x, w))


def conv2d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`conv2d`, directly from the definition, in float64.

    ``gx[n, c, iy, ix] += w[k, c, i, j] * gy[n, k, oy, ox]`` (for every tap hitting the
    pixel), ``gw[k, c, i, j] = sum_{n, oy, ox} gy[n, k, oy, ox] * x[n, c, iy, ix]``,
    ``gb[k] = sum_{n, oy, ox} gy[n, k, oy, ox]``.  Returns ``(gx, gw, gb)``.
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh, ow = gy.shape[2:]
    kg = k // groups
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gxp = np.zeros_like(xp)
    w64 = w.astype(np.float64)
    gy64 = gy.astype(np.float64)
    gw = np.zeros(w.shape)
    for g in range(groups):
        gys = gy64[:, g * kg:(g + 1) * kg]  # (N, K/G, OH, OW)
        for i in range(kh):
            for j in range(kw):
                win = (slice(None), slice(g * cg, (g + 1) * cg),
                       slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                       slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))
                gw[g * kg:(g + 1) * kg, :, i, j] = np.einsum("nkhw,nchw->kc", gys, xp[win])
                gxp[win] += np.einsum("nkhw,kc->nchw", gys, w64[g * kg:(g + 1) * kg, :, i, j])
    gx = gxp[:, :, ph:ph + h, pw:pw + wd]
    gb = gy64.sum(axis=(0, 2, 3))
    dt = np.result_type(x, w)
    return gx.astype(dt), gw.astype(dt), gb.astype(dt)


# ============================================================================ Winograd

# Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016,
# arXiv:1509.09308.  F(m x m, r x r) computes an m x m output tile from an
# alpha x alpha input tile d (alpha = m + r - 1) and an r x r filter g as
#
#     Y = AT [ (G g GT) * (BT d B) ] A          (* is the elementwise product)
#
# with alpha^2 multiplications instead of m^2 r^2.  Tiles overlap by r - 1 = 2 pixels
# (tile stride m).  Summed over input channels, the elementwise products become alpha^2
# independent GEMMs: M[e] = U[e] @ V[e] with U[e] (K, C) and V[e] (C, P).

# F(2x2, 3x3), alpha = 4, interpolation points 0, 1, -1, infinity.
BT_F2 = np.array([[1, 0, -1, 0],
                  [0, 1, 1, 0],
                  [0, -1, 1, 0],
                  [0, 1, 0, -1]], dtype=np.float64)
G_F2 = np.array([[1, 0, 0],
                 [1 / 2, 1 / 2, 1 / 2],
                 [1 / 2, -1 / 2, 1 / 2],
                 [0, 0, 1]], dtype=np.float64)
AT_F2 = np.array([[1, 1, 1, 0],
                  [0, 1, -1, -1]], dtype=np.float64)

# F(4x4, 3x3), alpha = 6, points 0, 1, -1, 2, -2, infinity.
BT_F4 = np.array([[4, 0, -5, 0, 1, 0],
                  [0, -4, -4, 1, 1, 0],
                  [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0],
                  [0, 4, 0, -5, 0, 1]], dtype=np.float64)
G_F4 = np.array([[1 / 4, 0, 0],
                 [-1 / 6, -1 / 6, -1 / 6],
                 [-1 / 6, 1 / 6, -1 / 6],
                 [1 / 24, 1 / 12, 1 / 6],
                 [1 / 24, -1 / 12, 1 / 6],
                 [0, 0, 1]], dtype=np.float64)
AT_F4 = np.array([[1, 1, 1, 1, 1, 0],
                  [0, 1, -1, 2, -2, 0],
                  [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], dtype=np.float64)

WINOGRAD_MATRICES = {2: (BT_F2, G_F2, AT_F2), 4: (BT_F4, G_F4, AT_F4)}


def winograd_tiles(oh, ow, m):
    """Number of m x m output tiles per image: ``(ceil(OH/m), ceil(OW/m))``.

    The tile step is m (not alpha); the last tile may hang over the output edge and is
    cropped (the input is zero-padded to ``tiles*m + 2``).
    """
    return -(-oh // m), -(-ow // m)


def winograd_filter_transform(w, m=2):
    """``U = G g GT`` for every (k, c): w (K, C, 3, 3) -> U (alpha*alpha, K, C)."""
    _, g_mat, _ = WINOGRAD_MATRICES[m]
    g_mat = g_mat.astype(w.dtype)
    k, c = w.shape[:2]
    u = np.einsum("ai,kcij,bj->abkc", g_mat, w, g_mat)  # (alpha, alpha, K, C)
    return u.reshape(-1, k, c)  # (alpha^2, K, C)


def winograd_input_transform(xp, m=2):
    """``V = BT d B`` for every tile d of an already padded input.

    ``xp`` (N, C, TH*m + 2, TW*m + 2) -> V (alpha*alpha, C, N*TH*TW), tiles in (n, ty, tx)
    order; tile (ty, tx) is ``xp[..., ty*m : ty*m + alpha, tx*m : tx*m + alpha]``.
    """
    bt, _, _ = WINOGRAD_MATRICES[m]
    bt = bt.astype(xp.dtype)
    a = m + 2
    n, c, hp, wp = xp.shape
    th, tw = (hp - 2) // m, (wp - 2) // m
    d = np.empty((n, c, th, tw, a, a), dtype=xp.dtype)
    for ty in range(th):
        for tx in range(tw):
            d[:, :, ty, tx] = xp[:, :, ty * m:ty * m + a, tx * m:tx * m + a]
    v = np.einsum("ai,nctuij,bj->abcntu", bt, d, bt)  # (alpha, alpha, C, N, TH, TW)
    return v.reshape(a * a, c, n * th * tw)  # (alpha^2, C, P)


def winograd_output_transform(mt, m, n, oh, ow):
    """``Y = AT M A`` per tile, assembled and cropped to (N, K, OH, OW).

    ``mt`` (alpha*alpha, K, N*TH*TW) -> y (N, K, OH, OW).
    """
    _, _, at = WINOGRAD_MATRICES[m]
    at = at.astype(mt.dtype)
    a = m + 2
    k = mt.shape[1]
    th, tw = winograd_tiles(oh, ow, m)
    mt = mt.reshape(a, a, k, n, th, tw)  # (alpha, alpha, K, N, TH, TW)
    y = np.einsum("ia,abkntu,jb->nktiuj", at, mt, at)  # (N, K, TH, m, TW, m)
    y = y.reshape(n, k, th * m, tw * m)
    return y[:, :, :oh, :ow]


def winograd_conv2d(x, w, b=None, padding=1, m=2):
    """3x3, stride-1 convolution by Winograd F(m x m, 3 x 3), m in {2, 4}.

    Steps: pad the input so that it splits into whole tiles, transform the filters
    (U = G g GT) and the input tiles (V = BT d B), multiply: alpha^2 GEMMs
    ``M[e] = U[e] @ V[e]`` of shape (K, C) @ (C, P), transform back (Y = AT M A).
    Float32 only in practice: the transforms lose precision as m grows (reference.md §2).
    """
    if m not in WINOGRAD_MATRICES:
        raise ValueError(f"Winograd tile m must be 2 or 4, got {m}")
    ph, pw = _pair(padding)
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh, ow = h + 2 * ph - 2, wd + 2 * pw - 2
    th, tw = winograd_tiles(oh, ow, m)
    # extra zeros at the bottom/right so that the last tile is whole
    xp = np.pad(x, ((0, 0), (0, 0), (ph, th * m + 2 - h - ph), (pw, tw * m + 2 - wd - pw)))
    u = winograd_filter_transform(w, m)  # (alpha^2, K, C)
    v = winograd_input_transform(xp, m)  # (alpha^2, C, P)
    mt = np.matmul(u, v)  # (alpha^2, K, P)
    y = winograd_output_transform(mt, m, n, oh, ow)
    if b is not None:
        y = y + b.reshape(1, k, 1, 1)
    return y


# ============================================================================ pooling

def pool_geometry(h, w, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    """Resolve pooling arguments: returns ((kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW)).

    ``stride=None`` means stride = kernel_size (PyTorch's default).
    """
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    oh = conv_output_size(h, kh, sh, ph, dh, ceil_mode)
    ow = conv_output_size(w, kw, sw, pw, dw, ceil_mode)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)


def _pad_for_windows(x, fill, k, s, p, d, out):
    """Pad H and W so that every window (ceil_mode may overhang) is inside the array."""
    extra = [max(0, (o - 1) * st + dl * (kk - 1) + 1 - size - pp)
             for o, st, dl, kk, size, pp in zip(out, s, d, k, x.shape[2:], p)]
    return np.pad(x, ((0, 0), (0, 0), (p[0], extra[0]), (p[1], extra[1])),
                  constant_values=fill)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling with argmax indices.

    ``y[n, c, oy, ox] = max_{i, j} x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]``;
    padding counts as -inf.  ``indices`` holds the flat position ``iy*W + ix`` of the
    maximum inside its input plane (PyTorch's ``return_indices``).  Ties go to the FIRST
    maximum in window scan order (row by row), because only a strictly larger value
    replaces the running maximum; a NaN always wins, as in PyTorch. A window of -inf
    values reports its first pixel inside the image; one of padding only reports -1.

    Shapes: x (N, C, H, W) -> y (N, C, OH, OW), indices int64 (N, C, OH, OW).
    """
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    oh, ow = out
    xp = _pad_for_windows(x, -np.inf, k, s, p, d, out)
    y = np.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    idx = np.full((n, c, oh, ow), -1, dtype=np.int64)
    seen = np.zeros((oh, ow), dtype=bool)
    oy = np.arange(oh)[:, None]
    ox = np.arange(ow)[None, :]
    for i in range(k[0]):
        for j in range(k[1]):
            win = xp[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
                     j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]]  # (N, C, OH, OW)
            iy, ix = oy * s[0] - p[0] + i * d[0], ox * s[1] - p[1] + j * d[1]
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            take = (win > y) | np.isnan(win) | (inside & ~seen)
            seen |= inside
            y = np.where(take, win, y)
            idx = np.where(take, iy * w + ix, idx)
    return y, idx


def max_pool2d_backward(gy, indices, x_shape):
    """Route each output gradient to the input pixel that won the max.

    ``gx.flat[plane, indices] += gy``; overlapping windows can pick the same pixel, so the
    scatter must add (``np.add.at``), not assign.
    """
    n, c, h, w = x_shape
    return _scatter_to_argmax(gy, indices, x_shape).reshape(n, c, h, w)


def _scatter_to_argmax(gy, indices, x_shape):
    """gx (N*C, plane size) with ``gy`` added at each plane's ``indices``; index -1 (a
    window of padding only) sends nothing."""
    n, c = x_shape[:2]
    q = int(np.prod(x_shape[2:]))
    gx = np.zeros((n * c, q), dtype=gy.dtype)
    idx = indices.reshape(n * c, math.prod(indices.shape[2:]))
    flat = (idx + np.arange(n * c)[:, None] * q).ravel()
    keep = idx.ravel() >= 0
    np.add.at(gx.reshape(-1), flat[keep], gy.ravel()[keep])
    return gx


def _avg_divisors(size, k, s, p, out, count_include_pad):
    """Per-output divisor along one axis (PyTorch's ``avg_pool2d`` rule).

    The window [start, start + k) is first clipped to [-p, size + p) (padding counts when
    ``count_include_pad``), then to [0, size) (padding does not count).
    """
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    padded = end - start
    valid = np.minimum(end, size) - np.maximum(start, 0)
    return padded if count_include_pad else valid


def _avg_divisor_grid(x_shape, k, s, p, out, count_include_pad, divisor_override):
    if divisor_override is not None:
        return np.full(out, float(divisor_override))
    dh = _avg_divisors(x_shape[2], k[0], s[0], p[0], out[0], count_include_pad)
    dw = _avg_divisors(x_shape[3], k[1], s[1], p[1], out[1], count_include_pad)
    return (dh[:, None] * dw[None, :]).astype(np.float64)  # (OH, OW)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average pooling: the window sum divided by the window size.

    The divisor follows PyTorch: the window clipped to the padded input when
    ``count_include_pad`` (but a ceil_mode overhang never counts), else to the input;
    ``divisor_override`` replaces it.  Shapes: (N, C, H, W) -> (N, C, OH, OW).
    """
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    oh, ow = out
    xp = _pad_for_windows(x, 0, k, s, p, d, out)
    total = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            total += xp[:, :, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1]]
    div = _avg_divisor_grid(x.shape, k, s, p, out, count_include_pad, divisor_override)
    return (total / div).astype(x.dtype)


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Spread ``gy / divisor`` evenly over each window (the adjoint of :func:`avg_pool2d`)."""
    n, c, h, w = x_shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    oh, ow = out
    div = _avg_divisor_grid(x_shape, k, s, p, out, count_include_pad, divisor_override)
    g = (gy / div).astype(gy.dtype)
    gxp = _pad_for_windows(np.zeros(x_shape, dtype=gy.dtype), 0, k, s, p, d, out)
    for i in range(k[0]):
        for j in range(k[1]):
            gxp[:, :, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1]] += g
    return gxp[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def adaptive_bins(size, out):
    """PyTorch's adaptive pooling bins: ``[floor(i*size/out), ceil((i+1)*size/out))``."""
    i = np.arange(out)
    start = (i * size) // out
    end = -(-((i + 1) * size) // out)
    return start, end


def adaptive_avg_pool2d(x, output_size):
    """Average over PyTorch's adaptive bins.  (N, C, H, W) -> (N, C, OH, OW)."""
    n, c, h, w = x.shape
    oh, ow = output_size
    hs, he = adaptive_bins(h, oh)
    ws, we = adaptive_bins(w, ow)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            y[:, :, a, b] = x[:, :, hs[a]:he[a], ws[b]:we[b]].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward(gy, x_shape):
    n, c, h, w = x_shape
    oh, ow = gy.shape[2:]
    hs, he = adaptive_bins(h, oh)
    ws, we = adaptive_bins(w, ow)
    gx = np.zeros(x_shape, dtype=gy.dtype)
    for a in range(oh):
        for b in range(ow):
            area = (he[a] - hs[a]) * (we[b] - ws[b])
            gx[:, :, hs[a]:he[a], ws[b]:we[b]] += gy[:, :, a:a + 1, b:b + 1] / area
    return gx


def adaptive_max_pool2d(x, output_size):
    """Max over PyTorch's adaptive bins with flat argmax indices (first maximum wins; a
    NaN wins over numbers, the last NaN in scan order, as PyTorch)."""
    n, c, h, w = x.shape
    oh, ow = output_size
    hs, he = adaptive_bins(h, oh)
    ws, we = adaptive_bins(w, ow)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int64)
    for a in range(oh):
        for b in range(ow):
            win = x[:, :, hs[a]:he[a], ws[b]:we[b]]
            bw = we[b] - ws[b]
            flat = win.reshape(n, c, win.shape[2] * win.shape[3])  # (N, C, bin_h*bin_w)
            nan = np.isnan(flat)
            last_nan = flat.shape[2] - 1 - np.argmax(nan[..., ::-1], axis=2)
            # first maximum; a NaN wins, the last one in scan order (PyTorch's rule)
            arg = np.where(nan.any(axis=2), last_nan, np.argmax(flat, axis=2))
            y[:, :, a, b] = np.take_along_axis(flat, arg[..., None], axis=2)[..., 0]
            idx[:, :, a, b] = (hs[a] + arg // bw) * w + ws[b] + arg % bw
    return y, idx


# ============================================================================ 3-D pooling

def triple(v):
    """An int or three ints as a 3-tuple (3-D kernel sizes, strides, padding)."""
    return (int(v),) * 3 if isinstance(v, (int, np.integer)) else tuple(int(t) for t in v)


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling, (N, C, D, H, W) -> (N, C, OD, OH, OW) plus flat indices into D*H*W.

    The same tap loop as :func:`max_pool2d` with one more axis; ties go to the first max.
    """
    k = triple(kernel_size)
    s = triple(kernel_size if stride is None else stride)
    p = triple(padding)
    d = triple(dilation)
    n, c = x.shape[:2]
    size = x.shape[2:]
    out = [conv_output_size(size[a], k[a], s[a], p[a], d[a], ceil_mode) for a in range(3)]
    extra = [max(0, (out[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1 - size[a] - p[a])
             for a in range(3)]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p[a], extra[a]) for a in range(3)),
                constant_values=-np.inf)
    y = np.full((n, c, *out), -np.inf, dtype=x.dtype)
    idx = np.full((n, c, *out), -1, dtype=np.int64)    # -1: a window of padding only
    seen = np.zeros(tuple(out), dtype=bool)   # a window's first in-bounds tap is taken:
    grids = np.meshgrid(*[np.arange(o) for o in out], indexing="ij")   # an all -inf window
    for tap in np.ndindex(*k):                                         # reports it (PyTorch)
        sl = tuple(slice(tap[a] * d[a], tap[a] * d[a] + s[a] * (out[a] - 1) + 1, s[a])
                   for a in range(3))
        win = xp[(slice(None), slice(None)) + sl]  # (N, C, OD, OH, OW)
        pos = [grids[a] * s[a] - p[a] + tap[a] * d[a] for a in range(3)]
        inside = np.logical_and.reduce([(0 <= pos[a]) & (pos[a] < size[a]) for a in range(3)])
        take = (win > y) | np.isnan(win) | (inside & ~seen)
        seen |= inside
        y = np.where(take, win, y)
        flat = (pos[0] * size[1] + pos[1]) * size[2] + pos[2]
        idx = np.where(take, flat, idx)
    return y, idx


def max_pool3d_backward(gy, indices, x_shape):
    """Scatter-add ``gy`` to the argmax voxels (flat indices into D*H*W)."""
    return _scatter_to_argmax(gy, indices, x_shape).reshape(x_shape)


# ============================================================================ resampling

def _scale(in_size, out_size, align_corners, scale_factor=None):
    """PyTorch's ``area_pixel_compute_scale``: source step per destination pixel."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


def nearest_indices(in_size, out_size, scale_factor=None, exact=False, shortcut=True):
    """Source index of each destination pixel for mode="nearest" (or "nearest-exact").

    PyTorch's rule: ``src = min(floor(dst * scale), in - 1)`` with ``scale = in/out``
    (or ``1/scale_factor``), computed in float32 as PyTorch does on the CPU;
    "nearest-exact" samples pixel centres: ``src = min(floor((dst + 0.5) * scale), in - 1)``.

    PyTorch's "nearest" (not "nearest-exact") skips the float arithmetic in two cases,
    whatever ``scale_factor`` says: ``src = dst`` when out == in and ``src = dst // 2`` when
    out == 2·in (``nearest_idx`` in ATen's UpSample.h). Its 2-D forward and every backward
    do so; its 1-D and 3-D forwards do not, which ``shortcut=False`` reproduces. E.g.
    in = 2, scale_factor = 1.3: out = 2 and src = [0, 1] (shortcut) or [0, 0] (without).
    """
    if shortcut and not exact:
        if out_size == in_size:
            return np.arange(out_size, dtype=np.int64)
        if out_size == 2 * in_size:
            return np.arange(out_size, dtype=np.int64) // 2
    scale = np.float32(_scale(in_size, out_size, False, scale_factor))
    dst = np.arange(out_size, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    src = np.floor(dst * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def linear_weights(in_size, out_size, align_corners, scale_factor=None, dtype=np.float32):
    """Indices and weights of 1-D linear interpolation (PyTorch's ``upsample_bilinear2d``).

    ``src = dst * scale`` (align_corners) or ``max((dst + 0.5) * scale - 0.5, 0)``;
    ``i0 = floor(src)``, ``i1 = i0 + 1`` unless i0 is the last pixel, ``l1 = src - i0``,
    ``l0 = 1 - l1``; then ``out = l0 * in[i0] + l1 * in[i1]``.

    An axis whose size does not change is copied (``i0 = i1 = dst``, ``l1 = 0``) even when
    ``scale_factor`` is not 1, as PyTorch's ``compute_source_index_and_lambda`` does:
    arange(3) with scale_factor=1.2 stays [0, 1, 2].
    """
    ct = np.dtype(dtype).type
    if out_size == in_size:
        same = np.arange(out_size, dtype=np.int64)
        return same, same, np.ones(out_size, dtype), np.zeros(out_size, dtype)
    scale = ct(_scale(in_size, out_size, align_corners, scale_factor))
    dst = np.arange(out_size).astype(dtype)
    if align_corners:
        src = scale * dst
    else:
        src = np.maximum(scale * (dst + ct(0.5)) - ct(0.5), ct(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    l1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (1 - l1).astype(dtype), l1


# Keys' cubic convolution kernel with a = -0.75, as PyTorch's upsample_bicubic2d.
_CUBIC_A = -0.75


def keys_cubic(t, a):
    """Keys' cubic convolution kernel with parameter ``a`` (PyTorch: -0.75 for bicubic
    resizing, -0.5 for its antialiasing filter), elementwise over the array ``t``:
    ``W(t) = ((a + 2)|t| - (a + 3))|t|^2 + 1`` for |t| < 1,
    ``((a|t| - 5a)|t| + 8a)|t| - 4a`` for 1 <= |t| < 2, 0 beyond."""
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t < 1, near, np.where(t < 2, far, t.dtype.type(0)))


def cubic_weights(in_size, out_size, align_corners, scale_factor=None, dtype=np.float32):
    """Indices (4, out) and weights (4, out) of 1-D bicubic interpolation (PyTorch's).

    ``src = dst * scale`` (align_corners) or ``(dst + 0.5) * scale - 0.5`` (not clamped
    at 0, unlike linear); ``i = floor(src)``, ``t = src - i``; taps ``i - 1 .. i + 2``
    clamped to [0, in - 1] with weights ``W(t + 1), W(t), W(1 - t), W(2 - t)`` of Keys'
    kernel (:func:`keys_cubic`, a = -0.75).

    Unlike linear, there is no same-size copy: PyTorch's bicubic forward interpolates
    even when out == in and ``scale_factor`` is not 1. (Its backward copies when both H
    and W keep their size; minicv's backward stays the adjoint of this forward.)
    """
    ct = np.dtype(dtype).type
    a = ct(_CUBIC_A)
    scale = ct(_scale(in_size, out_size, align_corners, scale_factor))
    dst = np.arange(out_size).astype(dtype)
    src = scale * dst if align_corners else scale * (dst + ct(0.5)) - ct(0.5)
    i = np.floor(src)
    t = (src - i).astype(dtype)
    w = np.stack([keys_cubic(t + 1, a), keys_cubic(t, a), keys_cubic(1 - t, a),
                  keys_cubic(2 - t, a)]).astype(dtype)
    idx = np.clip(i.astype(np.int64)[None, :] + np.arange(-1, 3)[:, None], 0, in_size - 1)
    return idx, w


def interpolate_bicubic(x, size, align_corners=False, scale_factor=None):
    """Bicubic resize, PyTorch's mode="bicubic": separable 4-tap cubic along H, then W
    (values may overshoot the input's range, as PyTorch's do)."""
    sfh, sfw = _scales(scale_factor)
    ih, a = cubic_weights(x.shape[2], size[0], align_corners, sfh, x.dtype)
    iw, b = cubic_weights(x.shape[3], size[1], align_corners, sfw, x.dtype)
    rows = sum(a[k][:, None] * x[:, :, ih[k], :] for k in range(4))     # (N, C, OH, W)
    return sum(b[k] * rows[:, :, :, iw[k]] for k in range(4))           # (N, C, OH, OW)


def interpolate_bicubic_backward(gy, x_shape, align_corners=False, scale_factor=None):
    """The adjoint of :func:`interpolate_bicubic`: scatter each tap's weight times gy
    (clamped taps at the borders add up)."""
    sfh, sfw = _scales(scale_factor)
    oh, ow = gy.shape[2:]
    ih, a = cubic_weights(x_shape[2], oh, align_corners, sfh, gy.dtype)
    iw, b = cubic_weights(x_shape[3], ow, align_corners, sfw, gy.dtype)
    rows = np.zeros(tuple(x_shape[:3]) + (ow,), dtype=gy.dtype)        # (N, C, H, OW)
    for k in range(4):
        np.add.at(rows, (slice(None), slice(None), ih[k]), gy * a[k][:, None])
    gx = np.zeros(tuple(x_shape), dtype=gy.dtype)
    for k in range(4):
        np.add.at(gx, (slice(None), slice(None), slice(None), iw[k]), rows * b[k])
    return gx


def _scales(scale_factor):
    if scale_factor is None:
        return None, None
    if isinstance(scale_factor, (int, float)):
        return float(scale_factor), float(scale_factor)
    return float(scale_factor[0]), float(scale_factor[1])


def interpolate_nearest(x, size, scale_factor=None, exact=False):
    """Nearest-neighbour resize, PyTorch's mode="nearest" (``exact``: "nearest-exact").
    (N, C, H, W) -> (N, C, *size)."""
    sfh, sfw = _scales(scale_factor)
    iy = nearest_indices(x.shape[2], size[0], sfh, exact)
    ix = nearest_indices(x.shape[3], size[1], sfw, exact)
    return x[:, :, iy[:, None], ix[None, :]]


def interpolate_nearest_backward(gy, x_shape, scale_factor=None, exact=False):
    """Each source pixel collects the gradients of every destination that copied it."""
    sfh, sfw = _scales(scale_factor)
    oh, ow = gy.shape[2:]
    iy = nearest_indices(x_shape[2], oh, sfh, exact)
    ix = nearest_indices(x_shape[3], ow, sfw, exact)
    gx = np.zeros(x_shape, dtype=gy.dtype)
    tmp = np.zeros(x_shape[:2] + (x_shape[2], ow), dtype=gy.dtype)
    np.add.at(tmp, (slice(None), slice(None), iy), gy)  # sum rows: (N, C, H, OW)
    np.add.at(gx, (slice(None), slice(None), slice(None), ix), tmp)  # sum columns
    return gx


def interpolate_bilinear(x, size, align_corners=False, scale_factor=None):
    """Bilinear resize, PyTorch's mode="bilinear": separable linear along H, then W.

    ``y = l0h*(l0w*x[h0, w0] + l1w*x[h0, w1]) + l1h*(l0w*x[h1, w0] + l1w*x[h1, w1])``.
    """
    sfh, sfw = _scales(scale_factor)
    h0, h1, a0, a1 = linear_weights(x.shape[2], size[0], align_corners, sfh, x.dtype)
    w0, w1, b0, b1 = linear_weights(x.shape[3], size[1], align_corners, sfw, x.dtype)
    rows = (a0[:, None] * x[:, :, h0, :] + a1[:, None] * x[:, :, h1, :])  # (N, C, OH, W)
    return b0 * rows[:, :, :, w0] + b1 * rows[:, :, :, w1]  # (N, C, OH, OW)


def interpolate_bilinear_backward(gy, x_shape, align_corners=False, scale_factor=None):
    """The adjoint of :func:`interpolate_bilinear`: scatter each weight times ``gy``."""
    sfh, sfw = _scales(scale_factor)
    oh, ow = gy.shape[2:]
    h0, h1, a0, a1 = linear_weights(x_shape[2], oh, align_corners, sfh, gy.dtype)
    w0, w1, b0, b1 = linear_weights(x_shape[3], ow, align_corners, sfw, gy.dtype)
    rows = np.zeros(x_shape[:3] + (ow,), dtype=gy.dtype)  # (N, C, H, OW)
    np.add.at(rows, (slice(None), slice(None), h0), gy * a0[:, None])
    np.add.at(rows, (slice(None), slice(None), h1), gy * a1[:, None])
    gx = np.zeros(x_shape, dtype=gy.dtype)
    np.add.at(gx, (slice(None), slice(None), slice(None), w0), rows * b0)
    np.add.at(gx, (slice(None), slice(None), slice(None), w1), rows * b1)
    return gx


# ============================================================================ conv3d

def vol2col(x, k, s, p, d):
    """3-D im2col: (N, C, D, H, W) -> (N, C*kd*kh*kw, OD*OH*OW), row ((c*kd+a)*kh+i)*kw+j."""
    n, c = x.shape[:2]
    size = x.shape[2:]
    out = [conv_output_size(size[a], k[a], s[a], p[a], d[a]) for a in range(3)]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p[a], p[a]) for a in range(3)))
    cols = np.empty((n, c, *k, *out), dtype=x.dtype)
    for tap in np.ndindex(*k):
        sl = tuple(slice(tap[a] * d[a], tap[a] * d[a] + s[a] * (out[a] - 1) + 1, s[a])
                   for a in range(3))
        cols[(slice(None), slice(None)) + tap] = xp[(slice(None), slice(None)) + sl]
    return cols.reshape(n, c * math.prod(k), math.prod(out))


def col2vol(cols, x_shape, k, s, p, d):
    """Adjoint of :func:`vol2col`: scatter-add columns back into (N, C, D, H, W)."""
    n, c = x_shape[:2]
    size = x_shape[2:]
    out = [conv_output_size(size[a], k[a], s[a], p[a], d[a]) for a in range(3)]
    cols = cols.reshape(n, c, *k, *out)
    xp = np.zeros((n, c) + tuple(size[a] + 2 * p[a] for a in range(3)), dtype=cols.dtype)
    for tap in np.ndindex(*k):
        sl = tuple(slice(tap[a] * d[a], tap[a] * d[a] + s[a] * (out[a] - 1) + 1, s[a])
                   for a in range(3))
        xp[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + tap]
    crop = tuple(slice(p[a], p[a] + size[a]) for a in range(3))
    return xp[(slice(None), slice(None)) + crop]


# ============================================================================ grid_sample
#
# Written with ``xp`` (NumPy or CuPy, from the arrays) so the one text serves both devices.
# A grid holds normalised (x, y) in [-1, 1]: -1 is the left/top edge of the image (the
# centre of the first pixel with align_corners=True), +1 the right/bottom one.

def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinate along an axis of ``size``; also d(pixel)/d(coord)."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip_coordinates(xp, c, size):
    """Border padding: clamp to [0, size - 1] (NaN -> 0, as PyTorch's CPU kernel). The
    gradient is 1 strictly inside and 0 on or beyond the border (PyTorch's convention)."""
    grad = ((c > 0) & (c < size - 1)).astype(c.dtype)
    return xp.clip(xp.where(xp.isnan(c), 0, c), 0, size - 1), grad


def _reflect_coordinates(xp, c, twice_low, twice_high):
    """Reflection padding: fold c into [low, high] by mirroring at both ends; the
    gradient is +1 or -1 (an odd number of flips reverses the axis)."""
    if twice_low == twice_high:
        return xp.zeros_like(c), xp.zeros_like(c)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = c - low
    sign = xp.where(c < 0, -1, 1).astype(c.dtype)
    c = xp.abs(c)
    extra, flips = xp.fmod(c, span), xp.floor(c / span)
    even = flips % 2 == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def grid_source_coordinates(coord, size, padding_mode, align_corners):
    """Pixel coordinate read for each normalised ``coord`` along an axis of ``size``,
    after padding_mode's clamp or reflection, and its derivative d(pixel)/d(coord)."""
    xp = get_array_module(coord)
    c, mult = _unnormalize(coord, size, align_corners)
    grad = xp.full_like(c, mult)
    if padding_mode == "border":
        c, g = _clip_coordinates(xp, c, size)
        grad = grad * g
    elif padding_mode == "reflection":
        twice = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        c, g_reflect = _reflect_coordinates(xp, c, *twice)
        c, g_clip = _clip_coordinates(xp, c, size)
        grad = grad * g_reflect * g_clip
    return c, grad


def _grid_taps(x_shape, grid, mode, padding_mode, align_corners):
    """The input pixels each output reads: a list of taps (flat index into H*W, weight,
    d weight / d grid_x, d weight / d grid_y), each array (N, P) with P = Ho*Wo.

    bilinear: the 4 pixels around (ix, iy), weights (1 - fx)(1 - fy), fx(1 - fy), ...;
    nearest: the pixel at (rint(ix), rint(iy)) (ties to even), weight 1, no gradient.
    A tap outside the image gets weight 0 by a multiplied mask (so a NaN coordinate gives
    NaN, as in PyTorch)."""
    xp = get_array_module(grid)
    n, h, w = x_shape[0], x_shape[2], x_shape[3]
    g = grid.reshape(n, grid.shape[1] * grid.shape[2], 2)             # (N, P, 2)
    ix, dix = grid_source_coordinates(g[..., 0], w, padding_mode, align_corners)
    iy, diy = grid_source_coordinates(g[..., 1], h, padding_mode, align_corners)

    def tap(xi, yi, weight, dwx, dwy):
        inside = ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)).astype(grid.dtype)
        flat = xp.clip(yi, 0, h - 1) * w + xp.clip(xi, 0, w - 1)      # (N, P), any valid
        return flat, weight * inside, dwx * inside * dix, dwy * inside * diy

    # integer positions from finite coordinates only (a cast of NaN/inf is undefined)
    safe = (lambda c: xp.where(xp.isfinite(c), c, -2))
    if mode == "nearest":
        xi, yi = xp.rint(safe(ix)).astype(np.int64), xp.rint(safe(iy)).astype(np.int64)
        one, zero = xp.ones_like(ix), xp.zeros_like(ix)
        return [tap(xi, yi, one, zero, zero)]
    x0, y0 = xp.floor(safe(ix)), xp.floor(safe(iy))
    fx, fy = ix - x0, iy - y0                                          # in [0, 1)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    return [tap(x0, y0, (1 - fx) * (1 - fy), -(1 - fy), -(1 - fx)),
            tap(x0 + 1, y0, fx * (1 - fy), 1 - fy, -fx),
            tap(x0, y0 + 1, (1 - fx) * fy, -fy, 1 - fx),
            tap(x0 + 1, y0 + 1, fx * fy, fy, fx)]


def grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """Sample x (N, C, H, W) at the points of grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo):
    out[n, c, p] = Σ_taps weight · x[n, c, tap] (Jaderberg et al. 2015, spatial
    transformer networks)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho, wo = grid.shape[1:3]
    xt = x.transpose(0, 2, 3, 1).reshape(n, h * w, c)                 # (N, H*W, C)
    rows = xp.arange(n)[:, None]
    out = xp.zeros((n, ho * wo, c), dtype=x.dtype)                     # (N, P, C)
    with np.errstate(invalid="ignore"):        # NaN/inf grid points give NaN, silently
        for flat, weight, _, _ in _grid_taps(x.shape, grid, mode, padding_mode,
                                             align_corners):
            out += xt[rows, flat] * weight[..., None]
    return out.reshape(n, ho, wo, c).transpose(0, 3, 1, 2)


def grid_sample_backward(gy, x, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False, needs=(True, True)):
    """(dx, dgrid) of :func:`grid_sample`: dx scatter-adds gy · weight back to each tap;
    dgrid[..., 0] = Σ_taps Σ_c gy · x[tap] · d weight / d grid_x (same for y)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho, wo = grid.shape[1:3]
    gyt = gy.transpose(0, 2, 3, 1).reshape(n, ho * wo, c)              # (N, P, C)
    xt = x.transpose(0, 2, 3, 1).reshape(n, h * w, c)                  # (N, H*W, C)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, ho * wo))
    gxt = xp.zeros((n, h * w, c), dtype=x.dtype) if needs[0] else None
    ggrid = xp.zeros((n, ho * wo, 2), dtype=grid.dtype) if needs[1] else None
    with np.errstate(invalid="ignore"):
        taps = _grid_taps(x.shape, grid, mode, padding_mode, align_corners)
        for flat, weight, dwx, dwy in taps:
            if needs[0]:
                scatter_add(xp, gxt, (rows, flat), gyt * weight[..., None])
            if needs[1] and mode != "nearest":
                dot = (gyt * xt[rows, flat]).sum(axis=2)               # (N, P)
                ggrid[..., 0] += dot * dwx
                ggrid[..., 1] += dot * dwy
    dx = None if gxt is None else gxt.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    dgrid = None if ggrid is None else ggrid.reshape(grid.shape)
    return dx, dgrid
