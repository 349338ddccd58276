"""Resampling and patch ops: ``interpolate`` (nearest, nearest-exact, bilinear, bicubic,
area), ``unfold`` and ``fold`` (PyTorch's im2col layout (N, C·kH·kW, L)), the
rearrangements ``pixel_shuffle``, ``pixel_unshuffle``, ``channel_shuffle``, and the spatial
transformer pair ``affine_grid`` / ``grid_sample``. Kernels in ``minicv.kernels.conv_algo``,
or ``minicv.kernels.gpu.conv`` for CuPy arrays (chosen by ``kernels.dispatch.kernels_for``);
grid_sample's in ``minicv.kernels.reference``, written once for both."""
import math
import warnings

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..kernels import reference as ref
from ..kernels.dispatch import kernels_for
from ..kernels.reference import check_float_dtype, nearest_indices
from ..tensor import Tensor, as_tensor_arg
from .index import IndexSelect
from .linalg import matmul
from .pool import _batched, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d


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

    ``antialias=True`` (4-D "bilinear" / "bicubic"): PyTorch's separable antialiased
    resampling, whose filter widens by the shrink factor (see ``_aa_weights``). Where an
    output axis has size 1 and the other changes size, PyTorch's CPU kernel repeats the
    first row; minicv filters every row. The gradient is the forward's exact adjoint
    (PyTorch's backward filters a same-size axis that its forward copies).

    Shape: each spatial size is size[i], or floor(in_i · scale_factor[i]).

    Example::

        F.interpolate(mc.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear")   # (1, 3, 8, 8)
    """
    x = as_tensor_arg(input)
    if antialias and (mode not in ("bilinear", "bicubic") or x.ndim != 4):
        raise ValueError(f"Anti-alias option is restricted to bilinear and bicubic modes and "
                         f"requires a 4-D tensor as input (got mode {mode!r} and shape "
                         f"{list(x.shape)})")
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
    if antialias:
        return _antialiased(x, size, mode, align_corners, scales)
    if mode in ("nearest", "nearest-exact") and x.dtype.kind in "iu":
        return _nearest_gather(x, size, scales, mode == "nearest-exact", shortcut=nd == 2)
    if mode == "nearest" and nd != 2 and scales is not None and any(
            o in (n, 2 * n) for n, o in zip(x.shape[2:], size)):
        check_float_dtype("interpolate", x)
        return _nearest_gather(x, size, scales, False, shortcut=False)
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


def _nearest_gather(x, size, scales, exact, shortcut):
    """Nearest resampling as one gather per axis: for integer tensors (masks, labels; PyTorch
    takes uint8 only, minicv every integer dtype), and for float input where PyTorch's 1-D
    and 3-D "nearest" forward computes ``floor(dst / scale_factor)`` on every axis
    (``shortcut=False``), even where its 2-D kernel (and minicv's kernels) copy a same-size
    axis or halve dst on a doubled one.

    The gradient is this gather's adjoint. PyTorch's backward takes the shortcuts, so the
    two differ in exactly these cases (scale_factor given, an axis of size in -> in or
    in -> 2·in, with in / out unlike 1 / scale_factor): minicv keeps the true gradient.
    """
    scales = (None,) * len(size) if scales is None else scales
    xp = get_array_module(x.data)
    for axis, (n, o, f) in enumerate(zip(x.shape[2:], size, scales)):
        index = xp.asarray(nearest_indices(n, o, f, exact, shortcut))  # in range: unchecked
        x = IndexSelect.apply(x, 2 + axis, index)
    return x


def _aa_filter(t, mode):
    """PyTorch's antialiasing kernels: the triangle (bilinear) or Keys' cubic, a = -0.5."""
    if mode == "bilinear":
        return np.maximum(1.0 - np.abs(t), 0.0)
    return ref.keys_cubic(t, -0.5)


def _aa_weights(in_size, out_size, mode, align_corners, scale_factor):
    """(out, in) resampling matrix of one axis, PyTorch's ``_compute_weights_aa``: output
    pixel i is centred at ``scale·(i + ½)``; when shrinking (scale >= 1) the filter is
    stretched by ``scale``, so its support covers every input pixel that the output
    pixel spans; the weights of the in-range taps are normalised to sum to 1. An axis that
    keeps its size is copied, whatever ``scale_factor`` says (PyTorch skips that pass)."""
    if in_size == out_size:
        return np.eye(in_size)
    scale = ref._scale(in_size, out_size, align_corners, scale_factor)
    support = (2 if mode == "bilinear" else 4) * 0.5 * max(scale, 1.0)
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    max_taps = math.ceil(support) * 2 + 1
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        n = min(max(min(int(center + support + 0.5), in_size) - lo, 0), max_taps)
        w = _aa_filter((np.arange(lo, lo + n) - center + 0.5) * invscale, mode)
        total = w.sum()
        weights[i, lo:lo + n] = w / total if total != 0 else w
    return weights


def _antialiased(x, size, mode, align_corners, scales):
    """``antialias=True`` (bilinear, bicubic): separable resampling, y = A_h · x · A_wᵀ
    with the matrices of :func:`_aa_weights` (the gradient is their transpose)."""
    check_float_dtype("interpolate", x)
    scales = (None, None) if scales is None else scales
    xp = get_array_module(x.data)
    a_h, a_w = (Tensor(xp.asarray(_aa_weights(n, o, mode, align_corners, f), x.dtype))
                for n, o, f in zip(x.shape[2:], size, scales))
    return matmul(matmul(a_h, x), a_w.T)                  # (OH, H)(N, C, H, W)(W, OW)


def _area(x, size):
    """mode="area" is adaptive average pooling to ``size`` (as in PyTorch)."""
    pool = {3: adaptive_avg_pool1d, 4: adaptive_avg_pool2d, 5: adaptive_avg_pool3d}[x.ndim]
    return pool(x, size)


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


# ============================================================================ rearrangements

def _int_factor(name, what, r):
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
        raise TypeError(f"{name}(): argument '{what}' must be int, not {type(r).__name__}")
    if r <= 0:
        raise ValueError(f"{name} expects a positive {what}, but got {r}")
    return int(r)


def _at_least_3d(name, x):
    if x.ndim < 3:
        raise ValueError(f"{name} expects input to have at least 3 dimensions, but got input "
                         f"with {x.ndim} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """Move channel blocks into space: (*, C·r², H, W) -> (*, C, H·r, W·r), r =
    ``upscale_factor``; out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w] (Shi et al.
    2016, sub-pixel convolution). Any dtype; a pure rearrangement.

    Example::

        F.pixel_shuffle(mc.randn(1, 8, 3, 3), 2).shape      # (1, 2, 6, 6)
    """
    x = as_tensor_arg(input)
    r = _int_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _at_least_3d("pixel_shuffle", x)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                         f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                         f"is not divisible by {r * r}")
    b = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)            # (*, C, r, r, H, W)
    y = y.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)   # (*, C, H, r, W, r)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of :func:`pixel_shuffle`: (*, C, H·r, W·r) -> (*, C·r², H, W).

    Example::

        F.pixel_unshuffle(mc.randn(1, 2, 6, 6), 2).shape    # (1, 8, 3, 3)
    """
    x = as_tensor_arg(input)
    r = _int_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _at_least_3d("pixel_unshuffle", x)
    *lead, c, h, w = x.shape
    for what, n, dim in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise ValueError(f"pixel_unshuffle expects {what} to be divisible by "
                             f"downscale_factor, but input.size({dim})={n} is not divisible "
                             f"by {r}")
    b = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)             # (*, C, H, r, W, r)
    y = y.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)   # (*, C, r, r, H, W)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, *) viewed as
    (N, g, C/g, *), the two group axes swapped, flattened back to (N, C, *).

    Example::

        F.channel_shuffle(mc.arange(6.0).reshape(1, 6, 1), 3)[0, :, 0]   # [0,2,4,1,3,5]
    """
    x = as_tensor_arg(input)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not "
                        f"{type(groups).__name__}")
    if groups <= 0:
        raise ValueError(f"Number of groups to divide channels in must be positive. Value "
                         f"of groups:{groups}")
    if x.ndim <= 2:
        raise ValueError(f"channel_shuffle expects input with > 2 dims, but got input with "
                         f"sizes {list(x.shape)}")
    n, c, *rest = x.shape
    if c % groups:
        raise ValueError(f"Number of channels must be divisible by groups. Got {c} channels "
                         f"and {groups} groups.")
    y = x.reshape(n, int(groups), c // groups, *rest).transpose(1, 2)  # (N, C/g, g, *)
    return y.reshape(n, c, *rest)


# ============================================================================ deprecated

def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (PyTorch warns; so does minicv)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)`` (4-D input)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ============================================================================ spatial transformers

class GridSample(Function):
    """y[n, c, p] = Σ_taps weight(grid[n, p]) · x[n, c, tap]; dx scatters dy · weight to
    the taps, dgrid = Σ_c dy · x[tap] · d weight / d grid. saved: x, grid."""
    @staticmethod
    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        ctx.save_for_backward(x, grid)
        ctx.args = (mode, padding_mode, align_corners)
        return ref.grid_sample(x, grid, *ctx.args)

    @staticmethod
    def backward(ctx, gy):
        x, grid = ctx.saved_tensors
        dx, dgrid = ref.grid_sample_backward(gy, x, grid, *ctx.args,
                                             needs=ctx.needs_input_grad[:2])
        return dx, dgrid, None, None, None


_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised points of ``grid``: the resampler of spatial
    transformer networks (Jaderberg et al. 2015) and of warping augmentations.

    Args:
        input: (N, C, H_in, W_in). grid: (N, H_out, W_out, 2), (x, y) in [-1, 1]: -1 is the
            left/top edge (the first pixel's centre with ``align_corners=True``).
        mode: 'bilinear' or 'nearest' (ties round to even). minicv samples 4-D input
            only and has no 'bicubic' mode.
        padding_mode: outside points read 'zeros', the 'border' pixels, or the image
            mirrored at its edges ('reflection').
        align_corners: None means False, with PyTorch's warning.

    Differentiable in ``input`` and (bilinear) ``grid``; PyTorch's gradient conventions
    at the border and at reflections.

    Shape: (N, C, H_out, W_out).

    Example::

        grid = F.affine_grid(mc.tensor([[[1.0, 0, 0], [0, 1, 0]]]), (1, 3, 8, 8), False)
        y = F.grid_sample(mc.randn(1, 3, 8, 8), grid, align_corners=False)   # identity
    """
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest' (minicv has no "
                         f"'bicubic'), got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    x, g = as_tensor_arg(input), as_tensor_arg(grid)
    check_float_dtype("grid_sample", x, g)
    if x.dtype != g.dtype:
        raise TypeError(f"grid_sample: input ({x.dtype}) and grid ({g.dtype}) must have the "
                        f"same dtype: convert the grid with .to({x.dtype})")
    if x.ndim != 4 or g.ndim != 4:
        raise ValueError(f"grid_sample: minicv samples a 4-D input (N, C, H, W) with a 4-D "
                         f"grid (N, H_out, W_out, 2), got input of shape {list(x.shape)} and "
                         f"grid of shape {list(g.shape)}")
    if g.shape[-1] != 2:
        raise ValueError(f"grid_sampler(): expected grid to have size 2 in last dimension, "
                         f"but got grid with sizes {list(g.shape)}")
    if x.shape[0] != g.shape[0]:
        raise ValueError(f"grid_sampler(): expected grid and input to have same batch size, "
                         f"but got input with sizes {list(x.shape)} and grid with sizes "
                         f"{list(g.shape)}")
    if min(x.shape[2:]) == 0:
        raise ValueError(f"grid_sampler(): expected input to have non-empty spatial "
                         f"dimensions, but input has sizes {list(x.shape)}")
    return GridSample.apply(x, g, mode, padding_mode, bool(align_corners))


def _base_coordinates(n, align_corners, xp, dtype):
    """n evenly spaced normalised coordinates: pixel centres in [-1, 1] (align_corners),
    or the same scaled by (n - 1)/n; a single one is 0 (PyTorch's linspace_from_neg_one)."""
    if n <= 1:
        return xp.zeros((n,), dtype)
    c = xp.linspace(-1, 1, n, dtype=dtype)
    return c if align_corners else c * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of an affine map, for :func:`grid_sample`: grid[n, ..., :] =
    theta[n] @ (x, y, 1) (2-D) or theta[n] @ (x, y, z, 1) (3-D) over the output's
    normalised pixel coordinates.

    Args:
        theta: (N, 2, 3) for size (N, C, H, W), (N, 3, 4) for size (N, C, D, H, W).
        size: the output size. align_corners: as in grid_sample (None: False, warning).

    Shape: (N, H, W, 2) or (N, D, H, W, 3). Differentiable in theta.

    Example::

        theta = mc.tensor([[[0.0, -1, 0], [1, 0, 0]]])         # rotate by 90 degrees
        grid = F.affine_grid(theta, (1, 3, 4, 4), align_corners=False)    # (1, 4, 4, 2)
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    t = as_tensor_arg(theta)
    if t.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    nd = len(size) - 2
    if t.ndim != 3 or tuple(t.shape[1:]) != (nd, nd + 1):
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape "
                         f"Nx{nd}x{nd + 1} for size {size}. Got {list(t.shape)}.")
    if t.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta holds {t.shape[0]} matrices but size asks for "
                         f"a batch of {size[0]}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    xp = get_array_module(t.data)
    # spatial axes in (D,) H, W order; the point's coordinates are listed x (W) first
    axes = [_base_coordinates(s, align_corners, xp, t.dtype) for s in size[2:]]
    mesh = xp.meshgrid(*axes, indexing="ij")                         # nd arrays (D, H, W)
    base = xp.stack(list(mesh[::-1]) + [xp.ones_like(mesh[0])], axis=-1)  # (*spatial, nd+1)
    base = Tensor(base.reshape(1, -1, nd + 1))                       # (1, P, nd + 1)
    grid = matmul(base, t.transpose(1, 2))                           # (N, P, nd)
    return grid.reshape(size[0], *size[2:], nd)
