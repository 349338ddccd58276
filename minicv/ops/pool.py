"""Pooling as differentiable ops: max (1-D, 2-D, 3-D, with ``return_indices``), average
(1-D, 2-D, 3-D), adaptive (average, max; 1-D, 2-D, 3-D), power-average (``lp_pool``) pooling
and max unpooling, with PyTorch's arguments.

Max pooling saves the flat argmax index of each window (first maximum in scan order) and
routes the gradient there, so a tie sends the whole gradient to one input (style.md §10).
Max pooling also takes integer tensors (masks, labels) and returns their dtype, as PyTorch's
2-D and 3-D ones do (minicv's 1-D one too, where PyTorch raises); the argmax is found on a
float64 copy, so int64 values beyond 2**53 that round together may pick a different one.
The kernels are in ``minicv.kernels.conv_algo`` (``minicv.kernels.gpu.conv`` on a GPU).
"""

import math

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..kernels.cpu import pool as _cpu_pool
from ..kernels.dispatch import kernels_for
from ..kernels.pool_algo import _pool_checks
from ..kernels.reference import triple
from ..tensor import as_tensor_arg
from . import elementwise as _E
from .activation import relu
from .conv import _ntuple
from .index import Gather

# kernel function names per rank; the module comes from kernels_for(array): conv_algo on
# the CPU, kernels.gpu.conv on a GPU
_MAX = {1: ("max_pool1d_forward", "max_pool1d_backward"),
        2: ("max_pool2d_forward", "max_pool2d_backward"),
        3: ("max_pool3d_forward", "max_pool3d_backward")}
_AVG = {1: ("avg_pool1d_forward", "avg_pool1d_backward"),
        2: ("avg_pool2d_forward", "avg_pool2d_backward")}


class MaxPool(Function):
    """y = max over each window; dx[argmax] += dy; saved: the argmax indices."""
    @staticmethod
    def forward(ctx, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
        fwd = getattr(kernels_for(x), _MAX[nd][0])
        y, idx = fwd(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.nd, ctx.shape, ctx.idx = nd, x.shape, idx
        return y, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gidx):
        if gy.size == 0:                        # empty batch: the kernels need a plane
            return (get_array_module(gy).zeros(ctx.shape, gy.dtype),) + (None,) * 6
        bwd = getattr(kernels_for(gy), _MAX[ctx.nd][1])
        return (bwd(gy, ctx.idx, ctx.shape),) + (None,) * 6


class AvgPool(Function):
    """y = window sum / divisor; dx spreads dy / divisor over each window."""
    @staticmethod
    def forward(ctx, x, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        ctx.nd, ctx.shape = nd, x.shape
        ctx.args = (kernel_size, stride, padding, ceil_mode, count_include_pad)
        if nd == 2:
            ctx.args += (divisor_override,)
        return getattr(kernels_for(x), _AVG[nd][0])(x, *ctx.args)

    @staticmethod
    def backward(ctx, gy):
        bwd = getattr(kernels_for(gy), _AVG[ctx.nd][1])
        return (bwd(gy, ctx.shape, *ctx.args),) + (None,) * 7


class AdaptiveAvgPool2d(Function):
    """y = mean over each adaptive bin; dx spreads dy / (bin area) over each bin.  NumPy
    float32/float64 arrays take the box kernels of ``kernels/cpu/pool.py`` (any bins, on
    minicv's threads)."""
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.shape = x.shape
        if _cpu_pool.adaptive_ok(x):
            return _cpu_pool.adaptive_avg_pool2d(x, output_size)
        return kernels_for(x).adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, gy):
        if _cpu_pool.adaptive_ok(gy):
            return _cpu_pool.adaptive_avg_pool2d_backward(gy, ctx.shape), None
        return kernels_for(gy).adaptive_avg_pool2d_backward(gy, ctx.shape), None


class AdaptiveMaxPool2d(Function):
    """y = max over each adaptive bin; dx[argmax] += dy; saved: the argmax indices."""
    @staticmethod
    def forward(ctx, x, output_size):
        if _cpu_pool.adaptive_ok(x):
            y, idx = _cpu_pool.adaptive_max_pool2d(x, output_size)
        else:
            y, idx = kernels_for(x).adaptive_max_pool2d_forward(x, output_size)
        ctx.shape, ctx.idx = x.shape, idx
        return y, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gidx):
        return kernels_for(gy).adaptive_max_pool2d_backward(gy, ctx.idx, ctx.shape), None


def _float_input(name, x, nd, integers=False):
    """``x`` as a tensor after the dtype (floating, or also integer with ``integers``) and
    rank checks."""
    x = as_tensor_arg(x)
    if x.dtype.kind not in ("fiu" if integers else "f"):
        kinds = "a floating or integer" if integers else "a floating"
        raise TypeError(f"{name}: input has dtype {x.dtype}; pooling needs {kinds} "
                        f"tensor: convert with .float()")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name} expects a {nd + 2}-D input (N, C, {nd} spatial dims) or "
                         f"{nd + 1}-D without batch, got shape {list(x.shape)}")
    return x


def _batched(x, nd, fn):
    """Run ``fn`` on a batched input; accept an unbatched one as PyTorch does."""
    if x.ndim == nd + 2:
        return fn(x)
    out = fn(x.unsqueeze(0))
    if isinstance(out, tuple):                      # (values, indices)
        return tuple(o.squeeze(0) for o in out)
    return out.squeeze(0)


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{nd}d"
    x = _float_input(name, input, nd, integers=True)
    stride = kernel_size if stride is None or stride == () else stride

    def run(t):
        if t.dtype.kind == "f":
            y, idx = MaxPool.apply(t, nd, kernel_size, stride, padding, dilation, ceil_mode)
        else:   # integers (masks, labels): argmax of a float64 copy, exact values gathered
            _, idx = MaxPool.apply(t.double(), nd, kernel_size, stride, padding, dilation,
                                   ceil_mode)
            # (the indices are in range by construction: no checks, no GPU sync)
            y = Gather.apply(t.flatten(2), 2, idx.flatten(2).data).reshape(idx.shape)
        return (y, idx) if return_indices else y
    return _batched(x, nd, run)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L). L_out = floor((L + 2p - d(k-1) - 1)/s) + 1 (ceil
    with ``ceil_mode``, a window never starting in the right padding)."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kH x kW windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    Shape: H_out = floor((H + 2·padding - dilation·(kH - 1) - 1) / stride) + 1.
    ``return_indices`` also gives the flat position of each maximum within its H*W plane.
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, D, H, W); indices are flat in each D*H*W volume."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x = _float_input(f"avg_pool{nd}d", input, nd)
    stride = kernel_size if stride is None or stride == () else stride
    return _batched(x, nd, lambda t: AvgPool.apply(t, nd, kernel_size, stride, padding,
                                                   ceil_mode, count_include_pad,
                                                   divisor_override))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of (N, C, L); padding counts in the divisor unless told not to."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kH x kW windows of (N, C, H, W).

    Shape: H_out = floor((H + 2·padding - kH) / stride) + 1 (ceil with ``ceil_mode``).
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _output_size(name, x, output_size):
    """An int, or a pair whose None entries keep the input's size (PyTorch's rule)."""
    pair = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    size = tuple(x.shape[-2 + i] if s is None else int(s) for i, s in enumerate(pair))
    if len(size) != 2 or min(size) < 0:
        raise ValueError(f"{name}: output_size must be an int or a pair of ints >= 0 (or "
                         f"None), got {output_size!r}")
    return size


def _empty(x, output_size):
    """PyTorch's answer to an output size of 0: an empty (..., OH, OW) tensor. The kernels
    need positive sizes, so it is an empty slice of x, reshaped (its gradient is 0)."""
    return x[..., :0, :0].reshape(tuple(x.shape[:-2]) + output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over bins [floor(i·H/OH), ceil((i+1)·H/OH)) so the output is ``output_size``
    (an int, a pair, or None in a pair to keep that size; 0 gives an empty tensor)."""
    x = _float_input("adaptive_avg_pool2d", input, 2)
    output_size = _output_size("adaptive_avg_pool2d", x, output_size)
    if 0 in output_size:
        return _empty(x, output_size)
    return _batched(x, 2, lambda t: AdaptiveAvgPool2d.apply(t, output_size))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the bins of :func:`adaptive_avg_pool2d`; ``return_indices`` also gives the
    flat position of each maximum within its H*W plane."""
    x = _float_input("adaptive_max_pool2d", input, 2)
    output_size = _output_size("adaptive_max_pool2d", x, output_size)
    if 0 in output_size or x.numel() == 0:      # empty input or output: nothing to pool
        y = _empty(x, output_size)
        return (y, as_tensor_arg(y.data.astype(np.int64))) if return_indices else y

    def run(t):
        y, idx = AdaptiveMaxPool2d.apply(t, output_size)
        return (y, idx) if return_indices else y
    return _batched(x, 2, run)




def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d(..., return_indices=True)``: always (values, indices), as PyTorch."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d(..., return_indices=True)``: always (values, indices), as PyTorch."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d(..., return_indices=True)``: always (values, indices), as PyTorch."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d(..., return_indices=True)``: always (values, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d(..., return_indices=True)``: always (values, indices)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d(..., return_indices=True)``: always (values, indices)."""
    return adaptive_max_pool3d(input, output_size, True)


# ============================================================================ 3-D average

def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kD x kH x kW windows of (N, C, D, H, W) or unbatched (C, D, H, W).

    A box average is separable and so is PyTorch's divisor (a product of one count per
    axis), so this is the 2-D pool over (H, W) of every depth slice, then a (kD, 1) pool
    along D; with ``divisor_override`` both passes sum and the result is divided once.

    Shape: D_out = floor((D + 2·padding - kD) / stride) + 1 (ceil with ``ceil_mode``),
    same for H and W.

    Example::

        F.avg_pool3d(mc.randn(1, 2, 4, 4, 4), 2).shape      # (1, 2, 2, 2, 2)
    """
    x = _float_input("avg_pool3d", input, 3)
    k = triple(kernel_size)
    s = k if stride is None or stride == () else triple(stride)
    p = triple(padding)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool3d: divisor must be not zero")
    one = None if divisor_override is None else 1           # 1: the passes sum

    def run(t):
        _pool_checks("avg_pool3d", t.data, k, s, p, 1, ceil_mode, nd=3)
        n, c, d, h, w = t.shape
        y = avg_pool2d(t.reshape(n, c * d, h, w), k[1:], s[1:], p[1:], ceil_mode,
                       count_include_pad, one)               # (N, C*D, OH, OW)
        oh, ow = y.shape[2:]
        y = avg_pool2d(y.reshape(n, c, d, oh * ow), (k[0], 1), (s[0], 1), (p[0], 0),
                       ceil_mode, count_include_pad, one)    # (N, C, OD, OH*OW)
        y = y.reshape(n, c, y.shape[2], oh, ow)
        return y if one is None else y / divisor_override
    return _batched(x, 3, run)


# ============================================================================ adaptive 1-D / 3-D

def _adaptive_size(name, x, output_size, nd):
    """An int or nd-sequence (None keeps that input size) as an nd-tuple of ints >= 0."""
    size = (output_size,) * nd if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(size) != nd:
        raise ValueError(f"{name}: output_size must be an int or {nd} ints, got "
                         f"{output_size!r}")
    size = tuple(x.shape[x.ndim - nd + i] if v is None else int(v) for i, v in enumerate(size))
    if min(size) < 0:
        raise ValueError(f"{name}: output_size must be >= 0, got {output_size!r}")
    return size


def adaptive_avg_pool1d(input, output_size):
    """Average over bins [floor(i·L/O), ceil((i+1)·L/O)) of (N, C, L) or (C, L).

    Example::

        F.adaptive_avg_pool1d(mc.arange(10.0).reshape(1, 1, 10), 3)   # [[[1.5, 4.5, 7.5]]]
    """
    x = _float_input("adaptive_avg_pool1d", input, 1)
    (o,) = _adaptive_size("adaptive_avg_pool1d", x, output_size, 1)
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, o)).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over the bins of :func:`adaptive_avg_pool1d`; indices are positions in L.

    Example::

        F.adaptive_max_pool1d(mc.tensor([[[1.0, 3, 2, 5, 4, 0, 7]]]), 3)   # [[[3, 5, 7]]]
    """
    x = _float_input("adaptive_max_pool1d", input, 1)
    (o,) = _adaptive_size("adaptive_max_pool1d", x, output_size, 1)
    out = adaptive_max_pool2d(x.unsqueeze(-2), (1, o), return_indices)
    if return_indices:                  # an index in the 1 x L plane is the index in L
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def adaptive_avg_pool3d(input, output_size):
    """Adaptive average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size``
    (an int or a triple, None keeping that size): the 2-D pool over (H, W) of every depth
    slice, then over (D, OH·OW), whose bins along OH·OW are single cells (separable).

    Example::

        F.adaptive_avg_pool3d(mc.randn(1, 2, 5, 6, 7), (2, None, 3)).shape  # (1, 2, 2, 6, 3)
    """
    x = _float_input("adaptive_avg_pool3d", input, 3)
    od, oh, ow = _adaptive_size("adaptive_avg_pool3d", x, output_size, 3)

    def run(t):
        n, c, d, h, w = t.shape
        y = adaptive_avg_pool2d(t.reshape(n, c * d, h, w), (oh, ow))   # (N, C*D, OH, OW)
        y = adaptive_avg_pool2d(y.reshape(n, c, d, oh * ow), (od, oh * ow))
        return y.reshape(n, c, od, oh, ow)
    return _batched(x, 3, run)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive max pooling of (N, C, D, H, W) or (C, D, H, W); ``return_indices`` gives
    flat positions in each D·H·W volume (first maximum in scan order wins).

    Max over (H, W) of each depth slice, then over D: the D pass says which slice (d)
    holds each maximum, the (H, W) pass where in it, so the index is d·H·W + (h·W + w).

    Example::

        F.adaptive_max_pool3d(mc.randn(1, 2, 4, 4, 4), 2).shape     # (1, 2, 2, 2, 2)
    """
    x = _float_input("adaptive_max_pool3d", input, 3)
    od, oh, ow = _adaptive_size("adaptive_max_pool3d", x, output_size, 3)

    def run(t):
        n, c, d, h, w = t.shape
        y, i_hw = adaptive_max_pool2d(t.reshape(n, c * d, h, w), (oh, ow), True)
        y, i_d = adaptive_max_pool2d(y.reshape(n, c, d, oh * ow), (od, oh * ow), True)
        y = y.reshape(n, c, od, oh, ow)
        if not return_indices:
            return y
        xp = get_array_module(i_d.data)
        slice_of = i_d.data // max(oh * ow, 1)                          # (N, C, OD, OH*OW)
        in_slice = xp.take_along_axis(i_hw.data.reshape(n, c, d, oh * ow), slice_of, axis=2)
        idx = (slice_of * (h * w) + in_slice).reshape(n, c, od, oh, ow)
        return y, as_tensor_arg(idx)
    return _batched(x, 3, run)


# ============================================================================ power average

def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    """(Σ_window x^p)^(1/p), as PyTorch computes it: avg_pool(x^p) times the window size,
    negative sums clamped to 0 (sign(s)·relu(|s|)), then the 1/p power."""
    x = _float_input(f"lp_pool{nd}d", input, nd)
    k = (kernel_size,) * nd if isinstance(kernel_size, (int, np.integer)) \
        else tuple(kernel_size)
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    out = pool(_E.pow(x, norm_type), kernel_size, stride, 0, ceil_mode)
    out = _E.mul(_E.sign(out), relu(_E.abs(out)))
    return _E.pow(_E.mul(out, int(np.prod(k))), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of (N, C, L): (Σ_window x^p)^(1/p), p = ``norm_type`` (p = 1:
    sum pooling; p -> inf: max pooling).

    Example::

        F.lp_pool1d(mc.tensor([[[3.0, 4.0]]]), 2, 2)         # [[[5.]]]
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of (N, C, H, W) over kH x kW windows (see :func:`lp_pool1d`).

    Shape: as :func:`avg_pool2d` with padding 0.
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of (N, C, D, H, W) (see :func:`lp_pool1d`)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ============================================================================ unpooling

class MaxUnpool(Function):
    """y = zeros(out); y[idx] = x per (N, C) plane; dx = dy[idx] (a gather).
    saved: the indices."""
    @staticmethod
    def forward(ctx, x, idx, out_size):
        xp = get_array_module(x)
        n, c = x.shape[:2]
        numel, l_in = math.prod(out_size), math.prod(x.shape[2:])
        planes = idx.reshape(n * c, l_in)                                 # (N*C, L_in)
        if xp is np and planes.size and (planes.min() < 0 or planes.max() >= numel):
            bad = planes[(planes < 0) | (planes >= numel)][0]
            raise IndexError(f"max_unpool: found an invalid max index {bad} (output volumes "
                             f"are of size {'x'.join(map(str, out_size))})")
        y = xp.zeros((n * c, numel), dtype=x.dtype)                       # (N*C, prod(out))
        y[xp.arange(n * c)[:, None], planes] = x.reshape(n * c, l_in)
        ctx.planes, ctx.shape, ctx.numel = planes, x.shape, numel
        return y.reshape(n, c, *out_size)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        g = xp.take_along_axis(gy.reshape(ctx.planes.shape[0], ctx.numel), ctx.planes, axis=1)
        return g.reshape(ctx.shape), None, None


def _unpool_output_size(x, nd, kernel_size, stride, padding, output_size):
    """PyTorch's rule: default (L - 1)·stride - 2·padding + kernel_size; a given size (nd
    or nd + 2 numbers) must lie strictly within stride of the default."""
    default = [(x.shape[x.ndim - nd + a] - 1) * stride[a] + kernel_size[a] - 2 * padding[a]
               for a in range(nd)]
    if output_size is None:
        return tuple(default)
    size = list(output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for a in range(nd):
        lo, hi = default[a] - stride[a], default[a] + stride[a]
        if not lo < size[a] < hi:
            raise ValueError(f'invalid output_size "{list(size)}" (dim {a} must be between '
                             f'{lo} and {hi})')
    return tuple(int(v) for v in size)


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    name = f"max_unpool{nd}d"
    x, idx = as_tensor_arg(input), as_tensor_arg(indices)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name} expects a {nd + 2}-D input (N, C, {nd} spatial dims) or "
                         f"{nd + 1}-D without batch, got shape {list(x.shape)}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor (as returned by "
                        f"max_pool{nd}d(..., return_indices=True)), got {idx.dtype}")
    if idx.shape != x.shape:
        raise ValueError(f"{name}: expected shape of indices to be same as that of the "
                         f"input tensor ({list(x.shape)}) but got indices tensor with "
                         f"shape: {list(idx.shape)}")
    k = _ntuple(kernel_size, nd)
    s = k if stride is None else _ntuple(stride, nd)
    size = _unpool_output_size(x, nd, k, s, _ntuple(padding, nd), output_size)
    if x.ndim == nd + 1:                    # unbatched: one sample
        return MaxUnpool.apply(x.unsqueeze(0), idx.data[None], size).squeeze(0)
    return MaxUnpool.apply(x, idx.data, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: each value goes back to the position its index
    names in a zero (N, C, L_out); everything else stays 0.

    Shape: L_out = (L - 1)·stride - 2·padding + kernel_size, or ``output_size``.

    Example::

        y, i = F.max_pool1d(mc.tensor([[[1.0, 3, 2, 4]]]), 2, return_indices=True)
        F.max_unpool1d(y, i, 2)                              # [[[0, 3, 0, 4]]]
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values scattered to their flat H·W indices.

    Shape: H_out = (H - 1)·stride - 2·padding + kernel_size (or ``output_size``), same W.
    Indices out of range raise on the CPU; on a GPU they are not checked (no sync).
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d: values scattered to their flat D·H·W indices."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices"]
