"""Pooling as differentiable ops: max (1-D, 2-D, 3-D, with ``return_indices``), average
(1-D, 2-D) and adaptive (average, max) pooling, with PyTorch's arguments.

Max pooling saves the flat argmax index of each window (first maximum in scan order) and
routes the gradient there, so a tie sends the whole gradient to one input (style.md §10).
The kernels are in ``minicv.kernels.conv_algo`` (``minicv.kernels.gpu.conv`` on a GPU).
"""

import numpy as np

from ..autograd import Function
from ..kernels.dispatch import kernels_for
from ..tensor import as_tensor_arg

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
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.shape = x.shape
        return kernels_for(x).adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, gy):
        return kernels_for(gy).adaptive_avg_pool2d_backward(gy, ctx.shape), None


class AdaptiveMaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        y, idx = kernels_for(x).adaptive_max_pool2d_forward(x, output_size)
        ctx.shape, ctx.idx = x.shape, idx
        return y, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gidx):
        return kernels_for(gy).adaptive_max_pool2d_backward(gy, ctx.idx, ctx.shape), None


def _float_input(name, x, nd):
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input has dtype {x.dtype}; pooling needs a floating "
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
    x = _float_input(name, input, nd)
    stride = kernel_size if stride is None or stride == () else stride

    def run(t):
        y, idx = MaxPool.apply(t, nd, kernel_size, stride, padding, dilation, ceil_mode)
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
    if 0 in output_size:
        y = _empty(x, output_size)
        return (y, as_tensor_arg(y.data.astype(np.int64))) if return_indices else y

    def run(t):
        y, idx = AdaptiveMaxPool2d.apply(t, output_size)
        return (y, idx) if return_indices else y
    return _batched(x, 2, run)


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d"]
