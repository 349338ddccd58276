"""Pooling and resampling entry points used by the autograd ops (``ops/pool.py``,
``ops/vision.py``): argument checks in PyTorch's words, then the Numba kernels of
``kernels/cpu/pool.py`` and ``kernels/cpu/resample.py`` or, where no fast kernel exists
(3-D max pooling, unequal adaptive bins), the readable NumPy reference.

Everything here takes and returns NumPy arrays (NCHW); nothing knows about ``Tensor``.
"""
import numpy as np

from ..backend import get_array_module
from . import reference as ref
from .cpu import pool as _pool
from .cpu import resample as _rs
from .reference import _pair

# ============================================================================ pooling

def _pool_window_check(name, x_shape, k, p, d, nd=2):
    if len(x_shape) != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D input, got shape {tuple(x_shape)}")
    for a in range(nd):
        eff = d[a] * (k[a] - 1) + 1
        if eff > x_shape[2 + a] + 2 * p[a]:
            raise ValueError(f"{name}: kernel {tuple(k)} (dilated {eff}) is larger than the "
                             f"padded input {tuple(x_shape[2:])} + 2*{tuple(p)}")


def _pool_checks(name, x, kernel_size, stride, padding, dilation, ceil_mode=False, nd=2):
    """PyTorch's pooling checks: positive kernel, stride and dilation; padding at most
    half the kernel; at least one output per axis. A window may overhang the padded input
    when ``ceil_mode`` adds a last, partial one (length 4, kernel 3, dilation 2, stride 2,
    ceil_mode: one window, of the taps 0, 2 and 4, the last outside).

    Shared by the CPU and the GPU kernels (``kernels/gpu/conv.py``): ``x`` stays a NumPy or
    a CuPy array, and only its shape and dtype are read."""
    x = get_array_module(x).asarray(x)
    if x.ndim != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D input (N, C, spatial...), got shape "
                         f"{x.shape}; add a batch dimension with x[None]")
    ref.check_float_dtype(name, x)
    tup = _pair if nd == 2 else ref.triple
    k, s, p, d = (tup(kernel_size), tup(kernel_size if stride is None else stride),
                  tup(padding), tup(dilation))
    if min(k) < 1 or min(s) < 1 or min(p) < 0 or min(d) < 1:
        raise ValueError(f"{name}: kernel_size, stride, dilation must be >= 1 and padding "
                         f">= 0, got {k}, {s}, {p}, {d}")
    if any(p[a] > k[a] // 2 for a in range(nd)):
        raise ValueError(f"{name}: padding {p} should be at most half of kernel size {k}")
    out = tuple(ref.conv_output_size(x.shape[2 + a], k[a], s[a], p[a], d[a], ceil_mode)
                for a in range(nd))
    if min(out) < 1:
        raise ValueError(f"{name}: given input size {tuple(x.shape[2:])}, the calculated "
                         f"output size {out} is too small (kernel {k}, stride {s}, padding "
                         f"{p}, dilation {d}); use a smaller kernel or more padding")
    return x


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling: returns (y, indices); indices are flat positions in each H*W plane."""
    x = _pool_checks("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    return _pool.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_backward(gy, indices, x_shape):
    """Route gy to the saved argmax positions (scatter-add inside each plane)."""
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None):
    """Average pooling with PyTorch's ``count_include_pad``/``divisor_override`` rules."""
    x = _pool_checks("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ValueError("avg_pool2d: divisor_override must be non-zero")
    return _pool.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    return _pool.avg_pool2d_backward(gy, tuple(x_shape), kernel_size, stride, padding,
                                     ceil_mode, count_include_pad, divisor_override)


def _kernels(array):
    """The kernel module serving ``array`` (this CPU one, or the CuPy mirror): the 1-D
    poolings below reduce to its 2-D ones, so they are written once for both."""
    from .dispatch import kernels_for
    return kernels_for(array)


def max_pool1d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling via the 2-D kernel with H = 1; indices index the length L."""
    x = get_array_module(x).asarray(x)
    if x.ndim != 3:
        raise ValueError(f"max_pool1d expects a 3-D input (N, C, L), got shape {x.shape}")
    k, = _one(kernel_size)
    s, = _one(k if stride is None else stride)
    y, idx = _kernels(x).max_pool2d_forward(x[:, :, None, :], (1, k), (1, s),
                                            (0, _one(padding)[0]), (1, _one(dilation)[0]),
                                            ceil_mode)
    return y[:, :, 0], idx[:, :, 0]


def max_pool1d_backward(gy, indices, x_shape):
    """The 2-D scatter works on any plane size: indices already index the length L."""
    return _kernels(gy).max_pool2d_backward(gy, indices, x_shape)


def avg_pool1d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True):
    x = get_array_module(x).asarray(x)
    if x.ndim != 3:
        raise ValueError(f"avg_pool1d expects a 3-D input (N, C, L), got shape {x.shape}")
    k, = _one(kernel_size)
    s, = _one(k if stride is None else stride)
    y = _kernels(x).avg_pool2d_forward(x[:, :, None, :], (1, k), (1, s),
                                       (0, _one(padding)[0]), ceil_mode, count_include_pad)
    return y[:, :, 0]


def avg_pool1d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    k, = _one(kernel_size)
    s, = _one(k if stride is None else stride)
    n, c, length = x_shape
    gy = get_array_module(gy).asarray(gy)
    gx = _kernels(gy).avg_pool2d_backward(gy[:, :, None, :], (n, c, 1, length), (1, k),
                                          (1, s), (0, _one(padding)[0]), ceil_mode,
                                          count_include_pad)
    return gx[:, :, 0]


def _one(v):
    if isinstance(v, (int, np.integer)):
        return (int(v),)
    t = tuple(int(a) for a in v)
    if len(t) != 1:
        raise ValueError(f"expected an int or a 1-tuple, got {v!r}")
    return t


def max_pool3d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling (NumPy tap loop): (y, flat indices into D*H*W)."""
    x = _pool_checks("max_pool3d", x, kernel_size, stride, padding, dilation, ceil_mode, nd=3)
    return ref.max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_backward(gy, indices, x_shape):
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling over bins [floor(i*H/OH), ceil((i+1)*H/OH))."""
    x, (oh, ow) = _adaptive_checks("adaptive_avg_pool2d", x, output_size)
    if x.shape[2] % oh == 0 and x.shape[3] % ow == 0:  # equal bins: a plain avg pool
        k = (x.shape[2] // oh, x.shape[3] // ow)
        return _pool.avg_pool2d(x, k, k)
    return ref.adaptive_avg_pool2d(x, (oh, ow))


def adaptive_avg_pool2d_backward(gy, x_shape):
    oh, ow = gy.shape[2:]
    if x_shape[2] % oh == 0 and x_shape[3] % ow == 0:
        k = (x_shape[2] // oh, x_shape[3] // ow)
        return _pool.avg_pool2d_backward(gy, tuple(x_shape), k, k)
    return ref.adaptive_avg_pool2d_backward(np.asarray(gy), tuple(x_shape))


def adaptive_max_pool2d_forward(x, output_size):
    """Adaptive max pooling: (y, flat indices into H*W), first maximum wins."""
    x, (oh, ow) = _adaptive_checks("adaptive_max_pool2d", x, output_size)
    return ref.adaptive_max_pool2d(x, (oh, ow))


def adaptive_max_pool2d_backward(gy, indices, x_shape):
    return _pool.max_pool_backward(gy, indices, tuple(x_shape))


def _adaptive_checks(name, x, output_size):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name} expects a 4-D input (N, C, H, W), got shape {x.shape}")
    oh, ow = _pair(output_size)
    oh = x.shape[2] if oh is None else oh
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: output_size must be positive, got {(oh, ow)}")
    return x, (oh, ow)


# ============================================================================ interpolate

def interpolate_forward(x, size, mode="nearest", align_corners=None, scale_factor=None):
    """Resize (N, C, H, W) to (N, C, *size) as PyTorch's ``F.interpolate`` does.

    ``mode``: "nearest" (src = min(floor(dst*scale), in-1)), "nearest-exact" (pixel
    centres: floor((dst + 0.5)*scale)), "bilinear" or "bicubic" (Keys, a = -0.75; NumPy
    gathers of ``kernels/reference.py``); ``scale_factor`` (when the caller derived
    ``size`` from it) changes the source step to 1/scale_factor, as PyTorch does when
    ``recompute_scale_factor`` is not set.
    """
    x = np.asarray(x)
    size = _interp_checks(x, size, mode, align_corners)
    if mode in ("nearest", "nearest-exact"):
        return _rs.interpolate_nearest(x, size, scale_factor, mode == "nearest-exact")
    if mode == "bicubic":
        return ref.interpolate_bicubic(x, size, bool(align_corners), scale_factor)
    return _rs.interpolate_bilinear(x, size, bool(align_corners), scale_factor)


def interpolate_backward(gy, x_shape, mode="nearest", align_corners=None, scale_factor=None):
    if mode in ("nearest", "nearest-exact"):
        return _rs.interpolate_nearest_backward(gy, tuple(x_shape), scale_factor,
                                                mode == "nearest-exact")
    if mode == "bicubic":
        return ref.interpolate_bicubic_backward(np.asarray(gy), tuple(x_shape),
                                                bool(align_corners), scale_factor)
    return _rs.interpolate_bilinear_backward(gy, tuple(x_shape), bool(align_corners),
                                             scale_factor)


INTERPOLATE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def _interp_checks(x, size, mode, align_corners):
    if x.ndim != 4:
        raise ValueError(f"interpolate expects a 4-D input (N, C, H, W), got {x.shape}")
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(INTERPOLATE_MODES)} "
                         f"for 4-D input, got {mode!r}")
    if mode in ("nearest", "nearest-exact") and align_corners:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    size = _pair(size)
    if min(size) < 1:
        raise ValueError(f"interpolate: output size must be positive, got {size}")
    ref.check_float_dtype("interpolate", x)
    return size
