"""GPU convolution, pooling and resampling: the CuPy face of ``kernels/conv_algo.py``.

Same entry points and signatures as ``conv_algo`` (the ops choose this module when their
arrays are CuPy arrays, see ``kernels/dispatch.py``). The pieces:

* conv2d: im2col (``csrc/im2col.cu``) + one cuBLAS GEMM per group (``cupy.matmul``, float32
  or float64; TF32 only if ``mc.backends.allow_tf32``); a 1x1 stride-1 conv is a plain GEMM;
  ``algo="winograd"`` runs F(2x2, 3x3) (``csrc/winograd.cu``) for 3x3, stride 1, groups 1.
  The input gradient is col2im, a deterministic gather; the weight gradient one GEMM per
  group over the whole batch.
* conv_transpose2d: the adjoint pair, as on the CPU (col2im(Wᵀx); conv2d for gradients).
* conv1d: conv2d with H = 1.
* pooling (``csrc/pool.cu``) and interpolate (``csrc/resample.cu``).
* conv3d: vol2col + GEMM, the same pattern in 3-D; 3-D max pooling (``csrc/pool.cu``).
"""
import math

import cupy as cp
import numpy as np

from .. import conv_algo as _cpu
from ..pool_algo import _interp_checks, _pool_checks
from ..reference import _pair, check_float_dtype, conv_output_size
from . import depthwise as _dw
from . import im2col as _im
from . import pool as _pool
from . import resample as _rs
from .blas import matmul_shared
from .winograd import filter_transform, input_transform, output_transform

ALGOS = _cpu.ALGOS
check_conv_args = _cpu.check_conv_args
conv_transpose2d_output_size = _cpu.conv_transpose2d_output_size

# Bytes of im2col columns materialised at once; larger batches run in chunks.
WORKSPACE_BYTES = 1 << 30


_as_float_arrays = _cpu._as_float_arrays


def _batch_chunk(n, per_sample_bytes):
    return int(max(1, min(n, WORKSPACE_BYTES // max(per_sample_bytes, 1))))


# ============================================================================ conv2d

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, algo="auto"):
    """2-D convolution of NCHW ``x`` with ``w`` (K, C/groups, kh, kw) on the GPU.

    ``algo``: "auto", "im2col" and "reference" run im2col + GEMM; "winograd" runs F(2x2,
    3x3) where it applies (3x3, stride 1, dilation 1, groups 1), else im2col. Depthwise
    layers (groups = C) run direct kernels (``csrc/depthwise.cu``) unless "reference".
    """
    if algo not in ALGOS:
        raise ValueError(f"conv2d: algo must be one of {ALGOS}, got {algo!r}")
    x, w, b = _as_float_arrays(x, w, b)
    stride, padding, dilation = check_conv_args(
        x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups)
    if algo != "reference" and _dw.is_depthwise(x.shape, w.shape, groups):
        out = [conv_output_size(x.shape[2 + a], w.shape[2 + a], stride[a], padding[a],
                                dilation[a]) for a in range(2)]
        return _dw.forward(x, w, b, stride, padding, dilation, out)
    if algo == "winograd" and _winograd_ok(w.shape, stride, padding, dilation, groups):
        return _winograd_forward(x, w, b, padding)
    if _is_1x1(w.shape, stride, padding, groups):
        return _conv1x1(x, w, b)
    return _im2col_forward(x, w, b, stride, padding, dilation, groups)


def _winograd_ok(w_shape, stride, padding, dilation, groups):
    # padding <= 2 keeps the backward's padding (2 - p) non-negative
    return (w_shape[2:] == (3, 3) and stride == (1, 1) and dilation == (1, 1)
            and groups == 1 and max(padding) <= 2)


def _is_1x1(w_shape, stride, padding, groups):
    return (w_shape[2:] == (1, 1) and stride == (1, 1) and padding == (0, 0)
            and groups == 1)


def _conv1x1(x, w, b):
    n, c, h, wd = x.shape
    k = w.shape[0]
    y = cp.empty((n, k, h, wd), dtype=x.dtype)
    matmul_shared(cp.ascontiguousarray(w).reshape(k, c),
                  cp.ascontiguousarray(x).reshape(n, c, h * wd), y.reshape(n, k, h * wd))
    if b is not None:
        y += b.reshape(1, k, 1, 1)
    return y


def _im2col_forward(x, w, b, stride, padding, dilation, groups):
    kh, kw = w.shape[2:]
    out = [conv_output_size(x.shape[2 + a], w.shape[2 + a], stride[a], padding[a],
                            dilation[a]) for a in range(2)]
    return _gemm_forward(x, w, b, groups, out,
                         lambda xc: _im.im2col(xc, kh, kw, stride, padding, dilation))


def _gemm_forward(x, w, b, groups, out, to_cols):
    """y (N, K, *out) of a column convolution (im2col or vol2col) + one GEMM per group, a
    chunk of the batch at a time so the columns stay within WORKSPACE_BYTES; the GEMM
    writes straight into y."""
    n, k = x.shape[0], w.shape[0]
    q = math.prod(out)
    wm = cp.ascontiguousarray(w).reshape(groups, k // groups, -1)   # (G, K/G, Cg*kk)
    y = cp.empty((n, k, *out), dtype=x.dtype)
    nb = _batch_chunk(n, wm.shape[2] * groups * q * x.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = to_cols(x[n0:n1]).reshape(n1 - n0, groups, -1, q)      # (nb, G, Cg*kk, P)
        yg = y[n0:n1].reshape(n1 - n0, groups, k // groups, q)         # (nb, G, K/G, P)
        for g in range(groups):                                  # W_g shared by the batch
            matmul_shared(wm[g], cols[:, g], yg[:, g])
    if b is not None:
        y += b.reshape((1, k) + (1,) * len(out))
    return y


def _winograd_forward(x, w, b, padding):
    n, c, h, wd = x.shape
    ph, pw = padding
    oh, ow = h + 2 * ph - 2, wd + 2 * pw - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    xp = cp.zeros((n, c, th * 2 + 2, tw * 2 + 2), dtype=x.dtype)   # zero pad to whole tiles
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    u = filter_transform(w, 2)                                   # (16, K, C)
    v = input_transform(xp, 2)                                   # (16, C, P)
    m = cp.matmul(u, v)                                          # (16, K, P)
    return output_transform(m, 2, n, oh, ow, b)


def conv2d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1, algo="auto",
                    needs=(True, True, True)):
    """Gradients ``(gx, gw, gb)`` of :func:`conv2d_forward`; None where ``needs`` is False.

    gx = col2im(Wᵀ gy) (a gather: deterministic), or with "winograd" the stride-1
    correlation of gy with the flipped, C<->K-swapped filter padded by 2 - p;
    gw = Σ_n gy_n cols_nᵀ as one GEMM per group; gb = Σ gy.
    """
    x, w, _ = _as_float_arrays(x, w)
    gy = gy.astype(x.dtype, copy=False)
    stride, padding, dilation = check_conv_args(x.shape, w.shape, None, stride, padding,
                                                dilation, groups)
    n, _, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(wd, kw, stride[1], padding[1], dilation[1])
    if gy.shape != (n, k, oh, ow):
        raise ValueError(f"conv2d backward: grad_output must have shape {(n, k, oh, ow)}, "
                         f"got {tuple(gy.shape)}")
    gb = gy.sum(axis=(0, 2, 3)) if needs[2] else None
    if algo != "reference" and _dw.is_depthwise(x.shape, w.shape, groups):
        return (*_dw.backward(x, w, gy, stride, padding, dilation, needs), gb)
    gx = None
    if (needs[0] and algo == "winograd"
            and _winograd_ok(w.shape, stride, padding, dilation, groups)):
        wt = cp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C, K, 3, 3)
        gx = _winograd_forward(cp.ascontiguousarray(gy), wt, None,
                               (2 - padding[0], 2 - padding[1]))
        needs = (False, needs[1])
    gx_cols, gw = _gemm_backward(
        x, w, gy, groups, needs,
        lambda xc: _im.im2col(xc, kh, kw, stride, padding, dilation),
        lambda cols, shape, out: _im.col2im(cols, shape, kh, kw, stride, padding, dilation,
                                            out=out))
    return (gx if gx is not None else gx_cols), gw, gb


def _gemm_backward(x, w, gy, groups, needs, to_cols, from_cols):
    """(gx, gw) of a column convolution (im2col or vol2col), a chunk of the batch at a time
    so the column buffers stay within WORKSPACE_BYTES (as the forward's):
    gx = from_cols(Wᵀ gy) per chunk, gw = Σ over chunks of :func:`_weight_grad`."""
    n, k = x.shape[0], w.shape[0]
    q = math.prod(gy.shape[2:])
    ckk = math.prod(w.shape[1:])                               # C/G * kernel volume
    gy_g = cp.ascontiguousarray(gy).reshape(n, groups, k // groups, q)  # (N, G, K/G, P)
    wm = cp.ascontiguousarray(w).reshape(groups, k // groups, ckk)      # (G, K/G, Cg*kk)
    gx = cp.empty(x.shape, dtype=x.dtype) if needs[0] else None
    gw = None
    nb = _batch_chunk(n, groups * ckk * q * x.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        if needs[0]:
            dcols = cp.empty((n1 - n0, groups, ckk, q), dtype=x.dtype)   # (nb, G, Cg*kk, P)
            for g in range(groups):                              # W_gᵀ gy_g, W_g shared
                matmul_shared(wm[g], gy_g[n0:n1, g], dcols[:, g], trans_a=True)
            from_cols(dcols.reshape(n1 - n0, groups * ckk, q), (n1 - n0,) + x.shape[1:],
                      gx[n0:n1])
        if needs[1]:
            cols = to_cols(x[n0:n1]).reshape(n1 - n0, groups, ckk, q)
            part = _weight_grad(cols, gy_g[n0:n1], w)
            if gw is None:
                gw = part
            else:
                gw += part
    return gx, gw


# Bytes of per-sample weight gradients the batched weight-gradient GEMM may hold.
WGRAD_BATCHED_BYTES = 64 << 20


_ONES = {}


def _ones(n, dtype):
    """A (1, n) row of ones on the current device (kept: every step asks again)."""
    key = (n, np.dtype(dtype), cp.cuda.Device().id)
    if key not in _ONES:
        _ONES[key] = cp.ones((1, n), dtype=dtype)
    return _ONES[key]


def _weight_grad(cols, gy_g, w):
    """gw (K, C/G, kh, kw) = Σ_n gy_n cols_nᵀ per group, in its own array (so it can
    become .grad as is).

    cols (N, G, Cg*kk, P), gy_g (N, G, K/G, P). Small enough: one batched GEMM of the
    per-sample products (the columns read in place), summed over n by a GEMM; else the
    columns and gy are transposed to (G, ., N*P) for one GEMM per group (two copies, the
    columns' kh*kw times the input).
    """
    n, g, ckk, p = cols.shape
    kg = gy_g.shape[2]
    gw = cp.empty(w.shape, dtype=w.dtype)
    out = gw.reshape(g, kg, ckk)
    if n * g * kg * ckk * cols.itemsize <= WGRAD_BATCHED_BYTES:
        per_sample = cp.empty((n, g, kg, ckk), dtype=cols.dtype)   # (N, G, K/G, Cg*kk)
        for gi in range(g):                                       # gy_n colsₙᵀ, in place
            matmul_shared(gy_g[:, gi], cols[:, gi], per_sample[:, gi], trans_b=True)
        # the sum over n as a GEMM, ones (1, N) @ (N, rest): one cuBLAS call where a CuPy
        # reduction costs twice the host time (a launch per conv layer per step)
        matmul_shared(_ones(n, cols.dtype), per_sample.reshape(n, -1), gw.reshape(1, -1))
        return gw
    cols_t = cols.transpose(1, 2, 0, 3).reshape(g, ckk, n * p)     # (G, Cg*kk, N*P)
    gyt = gy_g.transpose(1, 2, 0, 3).reshape(g, kg, n * p)         # (G, K/G, N*P)
    cp.matmul(gyt, cols_t.transpose(0, 2, 1), out=out)
    return gw


# ============================================================================ transposed

def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """Transposed convolution, ``col2im(Wᵀ x)``: x (N, Cin, H, W), w (Cin, Cout/G, kh, kw)."""
    x, w, b = _as_float_arrays(x, w, b)
    stride, padding, dilation = check_conv_args(
        x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups,
        transposed=True, output_padding=output_padding)
    op = _pair(output_padding)
    x = cp.ascontiguousarray(x)
    n, cin, h, wd = x.shape
    _, coutg, kh, kw = w.shape
    cout = coutg * groups
    oh = conv_transpose2d_output_size(h, kh, stride[0], padding[0], dilation[0], op[0])
    ow = conv_transpose2d_output_size(wd, kw, stride[1], padding[1], dilation[1], op[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"conv_transpose2d: output size ({oh}, {ow}) is too small for "
                         f"input {tuple(x.shape)} and padding {padding}")
    cing = cin // groups
    wm = cp.ascontiguousarray(w).reshape(groups, cing, coutg * kh * kw)
    xg = x.reshape(n, groups, cing, h * wd)                      # (N, G, Cin/G, H*W)
    cols = cp.empty((n, groups, coutg * kh * kw, h * wd), dtype=x.dtype)
    for g in range(groups):                                      # (N, G, Cout/G*kk, H*W)
        matmul_shared(wm[g], xg[:, g], cols[:, g], trans_a=True)
    y = _im.col2im(cols.reshape(n, cout * kh * kw, h * wd), (n, cout, oh, ow), kh, kw,
                   stride, padding, dilation)
    if b is not None:
        y += b.reshape(1, cout, 1, 1)
    return y


# Backward of the transposed conv is conv2d forward/backward only: written once.
conv_transpose2d_backward = _cpu.conv_transpose2d_backward
# So is the 3-D transposed conv: conv3d's backward and forward (this module's) do it.
conv_transpose3d_forward = _cpu.conv_transpose3d_forward
conv_transpose3d_backward = _cpu.conv_transpose3d_backward


# ============================================================================ conv1d / 3d

# 1-D convolution and pooling reduce to 2-D with H = 1; the CPU module's wrappers are
# written for both backends (they call the 2-D function of the module serving the array).
conv1d_forward = _cpu.conv1d_forward
conv1d_backward = _cpu.conv1d_backward
max_pool1d_forward = _cpu.max_pool1d_forward
max_pool1d_backward = _cpu.max_pool1d_backward
avg_pool1d_forward = _cpu.avg_pool1d_forward
avg_pool1d_backward = _cpu.avg_pool1d_backward


def conv3d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution by vol2col (``csrc/im2col.cu``) + one cuBLAS GEMM per group:
    x (N, C, D, H, W), w (K, C/G, kd, kh, kw) -> (N, K, OD, OH, OW)."""
    s, p, d = _cpu._nd_args(x, w, b, stride, padding, dilation, groups, 3)
    ks = w.shape[2:]
    out = [conv_output_size(x.shape[2 + a], ks[a], s[a], p[a], d[a]) for a in range(3)]
    return _gemm_forward(x, w, b, groups, out, lambda xc: _im.vol2col(xc, ks, s, p, d))


def conv3d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1,
                    needs=(True, True, True)):
    """dx by col2vol (a gather), dw by GEMMs over the batch, db by a sum; the batch in
    chunks that keep the column buffers within WORKSPACE_BYTES."""
    s, p, d = _cpu._nd_args(x, w, None, stride, padding, dilation, groups, 3)
    gy = cp.ascontiguousarray(gy, dtype=x.dtype)
    ks = w.shape[2:]
    gx, gw = _gemm_backward(x, w, gy, groups, needs,
                            lambda xc: _im.vol2col(xc, ks, s, p, d),
                            lambda cols, shape, out: _im.col2vol(cols, shape, ks, s, p, d,
                                                                 out=out))
    gb = gy.sum(axis=(0, 2, 3, 4)) if needs[2] else None
    return gx, gw, gb


# ============================================================================ unfold / fold

def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's ``F.unfold``: (N, C, H, W) -> (N, C*kh*kw, L) (im2col); the CPU's checks."""
    kh, kw = _cpu.unfold_checks(x.shape, kernel_size, dilation, padding)
    return _im.im2col(x, kh, kw, stride, padding, dilation)


def unfold_backward(gy, x_shape, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = _pair(kernel_size)
    return _im.col2im(gy, x_shape, kh, kw, stride, padding, dilation)


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's ``F.fold``: (N, C*kh*kw, L) -> (N, C, *output_size), summing overlaps;
    the CPU's checks (L must be the number of windows: col2im would read past fewer)."""
    kh, kw, oh, ow = _cpu.fold_checks(cols.shape, output_size, kernel_size, dilation,
                                      padding, stride)
    c = cols.shape[1] // (kh * kw)
    return _im.col2im(cols, (cols.shape[0], c, oh, ow), kh, kw, stride, padding, dilation)


def fold_backward(gy, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = _pair(kernel_size)
    return _im.im2col(gy, kh, kw, stride, padding, dilation)


# ============================================================================ pooling

def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling: (y, indices), indices flat positions in each H*W plane (int64)."""
    _pool_checks("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    return _pool.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_backward(gy, indices, x_shape):
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None):
    _pool_checks("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ValueError("avg_pool2d: divisor_override must be non-zero")
    return _pool.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    return _pool.avg_pool2d_backward(gy, tuple(x_shape), kernel_size, stride, padding,
                                     ceil_mode, count_include_pad, divisor_override)


def max_pool3d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling with flat argmax indices into each D*H*W volume."""
    _pool_checks("max_pool3d", x, kernel_size, stride, padding, dilation, ceil_mode, nd=3)
    return _pool.max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_backward(gy, indices, x_shape):
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


def _float_kernel_dtype(name, x):
    """The GPU kernels take float32 and float64 (float16 would need its own entry points)."""
    check_float_dtype(name, x)


def _adaptive_size(name, x, output_size):
    if x.ndim != 4:
        raise ValueError(f"{name} expects a 4-D input (N, C, H, W), got shape {x.shape}")
    _float_kernel_dtype(name, x)
    oh, ow = _pair(output_size)
    oh = x.shape[2] if oh is None else oh
    ow = x.shape[3] if ow is None else ow
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: output_size must be positive, got {(oh, ow)}")
    return oh, ow


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling; equal bins (e.g. global pooling) run the GPU avg pool,
    unequal bins a separable resampling (``csrc/resample.cu``)."""
    oh, ow = _adaptive_size("adaptive_avg_pool2d", x, output_size)
    if x.shape[2] % oh == 0 and x.shape[3] % ow == 0:
        k = (x.shape[2] // oh, x.shape[3] // ow)
        return _pool.avg_pool2d(x, k, k)
    return _rs.adaptive_avg_pool2d(x, (oh, ow))


def adaptive_avg_pool2d_backward(gy, x_shape):
    oh, ow = gy.shape[2:]
    if x_shape[2] % oh == 0 and x_shape[3] % ow == 0:
        k = (x_shape[2] // oh, x_shape[3] // ow)
        return _pool.avg_pool2d_backward(gy, tuple(x_shape), k, k)
    return _rs.adaptive_avg_pool2d_backward(gy, tuple(x_shape))


def adaptive_max_pool2d_forward(x, output_size):
    """Adaptive max pooling over PyTorch's bins, with flat argmax indices."""
    oh, ow = _adaptive_size("adaptive_max_pool2d", x, output_size)
    return _pool.adaptive_max_pool2d(x, (oh, ow))


def adaptive_max_pool2d_backward(gy, indices, x_shape):
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


# ============================================================================ interpolate

def interpolate_forward(x, size, mode="nearest", align_corners=None, scale_factor=None):
    """Resize (N, C, H, W) to (N, C, *size) with PyTorch's rules (see conv_algo)."""
    size = _interp_checks(x, size, mode, align_corners)
    if mode in ("nearest", "nearest-exact"):
        return _rs.interpolate_nearest(x, size, scale_factor, exact=mode == "nearest-exact")
    if mode == "bicubic":
        return _rs.interpolate_bicubic(x, size, bool(align_corners), scale_factor)
    return _rs.interpolate_bilinear(x, size, bool(align_corners), scale_factor)


def interpolate_backward(gy, x_shape, mode="nearest", align_corners=None, scale_factor=None):
    if mode in ("nearest", "nearest-exact"):
        return _rs.interpolate_nearest_backward(gy, tuple(x_shape), scale_factor,
                                                exact=mode == "nearest-exact")
    if mode == "bicubic":
        return _rs.interpolate_bicubic_backward(gy, tuple(x_shape), bool(align_corners),
                                                scale_factor)
    return _rs.interpolate_bilinear_backward(gy, tuple(x_shape), bool(align_corners),
                                             scale_factor)
