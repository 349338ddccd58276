"""Resampling and patch ops: ``interpolate`` (nearest, nearest-exact, bilinear, bicubic,
area), ``unfold`` and ``fold`` (PyTorch's im2col layout (N, C·kH·kW, L)). Kernels in
``minicv.kernels.conv_algo``, or ``minicv.kernels.gpu.conv`` for CuPy arrays (chosen by
``kernels.dispatch.kernels_for``)."""
import math

from ..autograd import Function
from ..kernels.dispatch import kernels_for
from ..kernels.reference import check_float_dtype, nearest_indices
from ..tensor import as_tensor_arg
from .index import index_select
from .pool import _batched, adaptive_avg_pool2d


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


# The modes PyTorch accepts for each input rank (spatial dims 1, 2, 3).
_MODES = {3: ("nearest", "nearest-exact", "linear", "area"),
          4: ("nearest", "nearest-exact", "bilinear", "bicubic", "area"),
          5: ("nearest", "nearest-exact", "trilinear", "area")}


def _per_dim(v, nd, what):
    """``v`` (a number or a sequence of ``nd``) as a tuple of ``nd``."""
    if not isinstance(v, (tuple, list)):
        return (v,) * nd
    if len(v) != nd:
        raise ValueError(f"interpolate: {what} must have {nd} elements for a {nd + 2}-D input, "
                         f"got {tuple(v)}")
    return tuple(v)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (PyTorch's rules).

    ``mode``: "nearest", "nearest-exact" (pixel centres), "area" (adaptive average
    pooling to ``size``) for any rank; "linear" (3-D), "bilinear" or "bicubic" (Keys'
    kernel, a = -0.75, as PyTorch; may overshoot the input's range) (4-D), "trilinear"
    (5-D); ``align_corners`` only with the interpolating modes. The 4-D kernels do the
    work: a 3-D input is resized as one image row, a 5-D one as (H, W) slices and then
    along D (both separable, so exact).

    With ``scale_factor``, source coordinates step by 1/scale_factor unless
    ``recompute_scale_factor=True``, which derives the step from the output size. An axis
    that keeps its size is copied by the linear modes whatever the step, and "nearest"
    copies it (or takes dst // 2 when the size doubles) for 4-D input: PyTorch's shortcuts
    (see ``kernels.reference.nearest_indices``).

    Shape: each spatial size is size[i], or floor(in_i · scale_factor[i]).

    Example::

        F.interpolate(mc.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear")   # (1, 3, 8, 8)
    """
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported by minicv; resize "
                         "without it or blur first (transforms.GaussianBlur)")
    x = as_tensor_arg(input)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None and recompute_scale_factor:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if x.ndim not in _MODES:
        raise ValueError(f"interpolate expects a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W) input, got shape {list(x.shape)}")
    if mode not in _MODES[x.ndim]:
        raise ValueError(f"interpolate: mode {mode!r} needs a different input rank; for "
                         f"{x.ndim}-D input use one of {', '.join(_MODES[x.ndim])}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    nd = x.ndim - 2
    scales = None
    if size is None:
        scales = tuple(float(f) for f in _per_dim(scale_factor, nd, "scale_factor"))
        size = tuple(int(math.floor(n * f)) for n, f in zip(x.shape[2:], scales))
        if recompute_scale_factor:
            scales = None
    size = tuple(int(v) for v in _per_dim(size, nd, "size"))
    area = mode == "area"       # PyTorch: area (adaptive pooling) gives an empty tensor at
    if min(size) < (0 if area else 1):          # size 0, where the other modes raise
        raise ValueError(f"interpolate: output size {list(size)} must be "
                         f"{'>= 0' if area else 'positive'} for mode {mode!r} (input size "
                         f"{list(x.shape[2:])}); use a larger size or scale_factor")
    if mode == "area":
        return _area(x, size)
    if mode == "nearest" and nd != 2 and scales is not None and any(
            o in (n, 2 * n) for n, o in zip(x.shape[2:], size)):
        return _nearest_without_shortcut(x, size, scales)
    mode2d = {"linear": "bilinear", "trilinear": "bilinear"}.get(mode, mode)
    if nd == 2:
        return Interpolate.apply(x, size, mode, align_corners, scales)
    if nd == 1:                     # one image row: H = 1 -> 1 is the identity
        y = Interpolate.apply(x.unsqueeze(2), (1,) + size, mode2d, align_corners,
                              None if scales is None else (1.0,) + scales)
        return y.squeeze(2)
    n, c, d, h, w = x.shape         # (H, W) of every depth slice, then along D
    s_hw = None if scales is None else scales[1:]
    y = Interpolate.apply(x.reshape(n, c * d, h, w), size[1:], mode2d, align_corners, s_hw)
    y = y.reshape(n, c, d, size[1] * size[2])
    s_d = None if scales is None else (scales[0], 1.0)
    y = Interpolate.apply(y, (size[0], size[1] * size[2]), mode2d, align_corners, s_d)
    return y.reshape(n, c, *size)


def _nearest_without_shortcut(x, size, scales):
    """PyTorch's 1-D and 3-D "nearest" forward computes ``floor(dst / scale_factor)`` on
    every axis, even where its 2-D kernel (and minicv's kernels) copy a same-size axis or
    halve dst on a doubled one; so those inputs gather along each axis here instead.

    The gradient is this gather's adjoint. PyTorch's backward takes the shortcuts, so the
    two differ in exactly these cases (scale_factor given, an axis of size in -> in or
    in -> 2·in, with in / out unlike 1 / scale_factor): minicv keeps the true gradient.
    """
    check_float_dtype("interpolate", x)
    for axis, (n, o, f) in enumerate(zip(x.shape[2:], size, scales)):
        x = index_select(x, 2 + axis, nearest_indices(n, o, f, shortcut=False))
    return x


def _area(x, size):
    """mode="area" is adaptive average pooling to ``size`` (as in PyTorch); the 2-D pool
    serves every rank: (N, C, L) as one image row, (N, C, D, H, W) as (H, W) slices and then
    (D, H·W) planes (averages over boxes are separable, and H·W -> H·W bins are single
    pixels)."""
    if x.ndim == 4:
        return adaptive_avg_pool2d(x, size)
    if x.ndim == 3:
        return adaptive_avg_pool2d(x.unsqueeze(2), (1,) + size).squeeze(2)
    n, c, d, h, w = x.shape
    y = adaptive_avg_pool2d(x.reshape(n, c * d, h, w), size[1:])   # (N, C*D, OH, OW)
    y = y.reshape(n, c, d, size[1] * size[2])
    y = adaptive_avg_pool2d(y, (size[0], size[1] * size[2]))        # (N, C, OD, OH*OW)
    return y.reshape(n, c, *size)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches as columns: (N, C, H, W) -> (N, C·kH·kW, L), L = OH·OW; an
    unbatched (C, H, W) gives (C·kH·kW, L).

    Example::

        F.unfold(mc.randn(1, 3, 5, 5), 2).shape            # (1, 12, 16)
    """
    x = as_tensor_arg(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold expects a 4-D input (N, C, H, W) or an unbatched 3-D one "
                         f"(C, H, W), got {list(x.shape)}")
    return _batched(x, 2, lambda t: Unfold.apply(t, kernel_size, dilation, padding, stride))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C·kH·kW, L) back into (N, C, *output_size): unfold's adjoint; an
    unbatched (C·kH·kW, L) gives (C, *output_size)."""
    x = as_tensor_arg(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"fold expects a 3-D input (N, C*kH*kW, L) or an unbatched 2-D one "
                         f"(C*kH*kW, L), got {list(x.shape)}")
    # (N, C·kH·kW, L) has one "spatial" dim, L, for _batched's count
    return _batched(x, 1, lambda t: Fold.apply(t, output_size, kernel_size, dilation, padding,
                                               stride))
