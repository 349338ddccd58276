"""Pooling and resampling layers; they call ``minicv.ops.pool`` / ``minicv.ops.vision``.

Output size per spatial dim (L: input size, k: kernel, s: stride = k by default, p: padding,
d: dilation):

    floor((L + 2p - d(k - 1) - 1) / s) + 1     (ceil instead of floor with ceil_mode=True;
                                               a last window starting in the right padding
                                               is dropped, as in PyTorch)
"""
from . import functional as F
from .conv import _ntuple
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


class _AvgPoolNd(Module):
    """AvgPool2d/3d: PyTorch's arguments (divisor_override included) and one forward that
    calls ``F.<_fn>``."""
    _fn = "avg_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return getattr(F, self._fn)(input, self.kernel_size, self.stride, self.padding,
                                    self.ceil_mode, self.count_include_pad,
                                    self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Average over sliding windows of NCHW maps.

    Args:
        kernel_size, stride (default: kernel_size), padding: int or pair.
        ceil_mode: round the output size up. count_include_pad: divide by the full window
            (True) or by the number of non-padding cells. divisor_override: fixed divisor.

    Shape: H_out = floor((H + 2p - k)/s) + 1, same for W.

    Example::

        y = nn.AvgPool2d(2)(mc.randn(1, 3, 8, 8))  # (1, 3, 4, 4)
    """
    _fn = "avg_pool2d"


class AvgPool3d(_AvgPoolNd):
    """Average over sliding windows of (N, C, D, H, W) volumes.

    Args: as AvgPool2d, with ints or triples.

    Shape: D_out = floor((D + 2p - k)/s) + 1, same for H and W.

    Example::

        y = nn.AvgPool3d(2)(mc.randn(1, 2, 4, 4, 4))  # (1, 2, 2, 2, 2)
    """
    _fn = "avg_pool3d"


class _AdaptiveAvgPoolNd(Module):
    _fn = "adaptive_avg_pool2d"

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return getattr(F, self._fn)(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) to a fixed length, whatever L.

    Example::

        y = nn.AdaptiveAvgPool1d(5)(mc.randn(1, 64, 8))     # (1, 64, 5)
    """
    _fn = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size, whatever the input size (e.g. 1: global).

    Shape: (N, C, H, W) -> (N, C, *output_size); window i spans
    [floor(i·H/out), ceil((i+1)·H/out)).

    Example::

        y = nn.AdaptiveAvgPool2d(1)(mc.randn(2, 64, 7, 7))   # (2, 64, 1, 1)
    """
    _fn = "adaptive_avg_pool2d"


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, D, H, W) to a fixed size (an int or a triple; None keeps
    that size).

    Example::

        y = nn.AdaptiveAvgPool3d((5, 7, 9))(mc.randn(1, 4, 8, 9, 10))   # (1, 4, 5, 7, 9)
    """
    _fn = "adaptive_avg_pool3d"


class _AdaptiveMaxPoolNd(Module):
    _fn = "adaptive_max_pool2d"

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return getattr(F, self._fn)(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) to a fixed length.

    Example::

        y = nn.AdaptiveMaxPool1d(5)(mc.randn(1, 64, 8))     # (1, 64, 5)
    """
    _fn = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size.

    Example::

        y = nn.AdaptiveMaxPool2d((2, 2))(mc.randn(1, 3, 7, 9))   # (1, 3, 2, 2)
    """
    _fn = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) to a fixed size; indices are flat in D·H·W.

    Example::

        y = nn.AdaptiveMaxPool3d(2)(mc.randn(1, 2, 5, 6, 7))    # (1, 2, 2, 2, 2)
    """
    _fn = "adaptive_max_pool3d"


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self._nd
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride if stride is not None else kernel_size, n, "stride")
        self.padding = _ntuple(padding, n, "padding")

    def forward(self, input, indices, output_size=None):
        fn = getattr(F, f"max_unpool{self._nd}d")
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: values back at their argmax, zeros elsewhere.

    Shape: L_out = (L - 1)·stride - 2·padding + kernel_size (or ``output_size``).

    Example::

        y, i = nn.MaxPool1d(2, return_indices=True)(mc.randn(1, 1, 8))
        x = nn.MaxUnpool1d(2)(y, i)                          # (1, 1, 8)
    """
    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d; ``forward(input, indices, output_size=None)``.

    Shape: H_out = (H - 1)·stride - 2·padding + kernel_size, same for W.

    Example::

        y, i = nn.MaxPool2d(2, return_indices=True)(mc.randn(1, 1, 4, 4))
        x = nn.MaxUnpool2d(2)(y, i)                          # (1, 1, 4, 4)
    """
    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d (indices flat in D·H·W).

    Example::

        y, i = nn.MaxPool3d(2, return_indices=True)(mc.randn(1, 1, 4, 4, 4))
        x = nn.MaxUnpool3d(2)(y, i)                          # (1, 1, 4, 4, 4)
    """
    _nd = 3


class _LPPoolNd(Module):
    _nd = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        fn = getattr(F, f"lp_pool{self._nd}d")
        return fn(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling of (N, C, L): (Σ_window x^p)^(1/p), p = ``norm_type``.

    Example::

        y = nn.LPPool1d(2, 3, stride=2)(mc.randn(1, 16, 50))   # (1, 16, 24)
    """
    _nd = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling of (N, C, H, W).

    Shape: as AvgPool2d with padding 0.

    Example::

        y = nn.LPPool2d(2, 3, stride=2)(mc.randn(1, 16, 8, 8))  # (1, 16, 3, 3)
    """
    _nd = 2


class LPPool3d(_LPPoolNd):
    """Power-average pooling of (N, C, D, H, W).

    Example::

        y = nn.LPPool3d(2, 2)(mc.randn(1, 4, 4, 4, 4))        # (1, 4, 2, 2, 2)
    """
    _nd = 3


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
