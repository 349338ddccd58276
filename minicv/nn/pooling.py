"""Pooling and resampling layers; they call ``minicv.ops.pool`` / ``minicv.ops.vision``.

Output size per spatial dim (L: input size, k: kernel, s: stride = k by default, p: padding,
d: dilation):

    floor((L + 2p - d(k - 1) - 1) / s) + 1     (ceil instead of floor with ceil_mode=True;
                                               a last window starting in the right padding
                                               is dropped, as in PyTorch)
"""
from . import functional as F
from .module import Module


def _single(v):
    """An int or a 1-sequence as a 1-tuple (PyTorch's ``_single``)."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class _MaxPoolNd(Module):
    _fn = "max_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        fn = getattr(F, self._fn)
        return fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                  ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L).

    Shape: L_out = floor((L + 2p - d(k-1) - 1)/s) + 1.

    Example::

        y = nn.MaxPool1d(2)(mc.randn(1, 3, 8))     # (1, 3, 4)
    """
    _fn = "max_pool1d"


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of NCHW maps (gradient to the first maximum on ties).

    Args:
        kernel_size, stride (default: kernel_size), padding, dilation: int or pair.
        return_indices: also return the flat argmax indices. ceil_mode: round up.

    Shape: H_out = floor((H + 2p - d(k-1) - 1)/s) + 1, same for W.

    Example::

        y = nn.MaxPool2d(2)(mc.randn(1, 3, 8, 8))  # (1, 3, 4, 4)
    """
    _fn = "max_pool2d"


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of (N, C, D, H, W).

    Example::

        y = nn.MaxPool3d(2)(mc.randn(1, 2, 4, 4, 4))  # (1, 2, 2, 2, 2)
    """
    _fn = "max_pool3d"


class AvgPool1d(Module):
    """Average over sliding windows of (N, C, L).

    Example::

        y = nn.AvgPool1d(2)(mc.randn(1, 3, 8))     # (1, 3, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        # 1-tuples, as PyTorch stores them: AvgPool1d(kernel_size=(3,), stride=(3,), ...)
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding, self.ceil_mode = _single(padding), ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average over sliding windows of NCHW maps.

    Args:
        kernel_size, stride (default: kernel_size), padding: int or pair.
        ceil_mode: round the output size up. count_include_pad: divide by the full window
            (True) or by the number of non-padding cells. divisor_override: fixed divisor.

    Shape: H_out = floor((H + 2p - k)/s) + 1, same for W.

    Example::

        y = nn.AvgPool2d(2)(mc.randn(1, 3, 8, 8))  # (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size (e.g. 1: global).

    Shape: (N, C, H, W) -> (N, C, *output_size); window i spans
    [floor(i·H/out), ceil((i+1)·H/out)).

    Example::

        y = nn.AdaptiveAvgPool2d(1)(mc.randn(2, 64, 7, 7))   # (2, 64, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size.

    Example::

        y = nn.AdaptiveMaxPool2d((2, 2))(mc.randn(1, 3, 7, 9))   # (1, 3, 2, 2)
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Resize (N, C, H, W) maps by ``scale_factor`` or to ``size`` (``F.interpolate``).

    Args:
        size: output spatial size. scale_factor: multiplier (float or tuple).
        mode: 'nearest', 'nearest-exact', 'bilinear' or 'bicubic' (minicv resizes 4-D
            input only: no 'linear' or 'trilinear').
        align_corners: for 'bilinear' and 'bicubic', align the corner pixels' centres.

    Shape: H_out = size[0] or floor(H·scale_factor), same for W.

    Example::

        y = nn.Upsample(scale_factor=2, mode="nearest")(mc.randn(1, 3, 4, 4))  # (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        extra = {} if self.recompute_scale_factor is None else \
            {"recompute_scale_factor": self.recompute_scale_factor}
        return F.interpolate(input, self.size, self.scale_factor, self.mode,
                             self.align_corners, **extra)

    def extra_repr(self):
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for 4-D input."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for 4-D input."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
