"""Resampling and patch ops: ``interpolate`` (nearest, nearest-exact, bilinear, bicubic),
``unfold`` and ``fold`` (PyTorch's im2col layout (N, C·kH·kW, L)). Kernels in ``minicv.kernels.conv_algo``, or
``minicv.kernels.gpu.conv`` for CuPy arrays (chosen by ``kernels.dispatch.kernels_for``)."""
import math

from ..autograd import Function
from ..kernels.dispatch import kernels_for
from ..tensor import as_tensor_arg


class Interpolate(Function):
    """Nearest: copy from src = floor(dst·scale) (nearest-exact: floor((dst + ½)·scale));
    bilinear / bicubic: weights of the 2 / 4 nearest sources per axis; backward scatters
    dy with the same weights."""
    @staticmethod
    def forward(ctx, x, size, mode, align_corners, scale_factor):
        ctx.shape, ctx.args = x.shape, (mode, align_corners, scale_factor)
        return kernels_for(x).interpolate_forward(x, size, mode, align_corners, scale_factor)

    @staticmethod
    def backward(ctx, gy):
        return (kernels_for(gy).interpolate_backward(gy, ctx.shape, *ctx.args),) + (None,) * 4


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        ctx.shape, ctx.args = x.shape, (kernel_size, dilation, padding, stride)
        return kernels_for(x).unfold(x, kernel_size, dilation, padding, stride)

    @staticmethod
    def backward(ctx, gy):
        return (kernels_for(gy).unfold_backward(gy, ctx.shape, *ctx.args),) + (None,) * 4


class Fold(Function):
    @staticmethod
    def forward(ctx, cols, output_size, kernel_size, dilation, padding, stride):
        ctx.args = (kernel_size, dilation, padding, stride)
        return kernels_for(cols).fold(cols, output_size, kernel_size, dilation, padding, stride)

    @staticmethod
    def backward(ctx, gy):
        return (kernels_for(gy).fold_backward(gy, *ctx.args),) + (None,) * 5


def _pair(v):
    return (v, v) if not isinstance(v, (tuple, list)) else tuple(v)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, H, W) images to ``size`` or by ``scale_factor`` (PyTorch's rules).

    ``mode``: "nearest", "nearest-exact" (pixel centres), "bilinear" or "bicubic" (Keys'
    kernel, a = -0.75, as PyTorch; may overshoot the input's range); ``align_corners``
    only with the last two.

    With ``scale_factor``, source coordinates step by 1/scale_factor unless
    ``recompute_scale_factor=True``, which derives the step from the output size.

    Shape: H_out = size[0], or floor(H · scale_factor).
    """
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported by minicv; resize "
                         "without it or blur first (transforms.GaussianBlur)")
    x = as_tensor_arg(input)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if x.ndim != 4:
        raise ValueError(f"interpolate expects a 4-D input (N, C, H, W), got shape "
                         f"{list(x.shape)}")
    scales = None
    if size is None:
        scales = tuple(float(s) for s in _pair(scale_factor))
        size = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[2:], scales))
        if recompute_scale_factor:
            scales = None
    return Interpolate.apply(x, _pair(size), mode, align_corners, scales)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches as columns: (N, C, H, W) -> (N, C·kH·kW, L), L = OH·OW."""
    x = as_tensor_arg(input)
    if x.ndim != 4:
        raise ValueError(f"unfold expects a 4-D input (N, C, H, W), got {list(x.shape)}")
    return Unfold.apply(x, kernel_size, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C·kH·kW, L) back into (N, C, *output_size): unfold's adjoint."""
    x = as_tensor_arg(input)
    if x.ndim != 3:
        raise ValueError(f"fold expects a 3-D input (N, C*kH*kW, L), got {list(x.shape)}")
    return Fold.apply(x, output_size, kernel_size, dilation, padding, stride)
