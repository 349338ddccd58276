"""Rearrangement layers: ``PixelShuffle``, ``PixelUnshuffle`` (sub-pixel convolution,
Shi et al. 2016) and ``ChannelShuffle`` (ShuffleNet); they call ``minicv.ops.vision``."""
from . import functional as F
from .module import Module


class PixelShuffle(Module):
    """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r), r = ``upscale_factor``.

    Shape: (*, C_in, H, W) -> (*, C_in / r², H·r, W·r).

    Example::

        y = nn.PixelShuffle(3)(mc.randn(1, 9, 4, 4))        # (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W): PixelShuffle's inverse.

    Shape: (*, C_in, H, W) -> (*, C_in·r², H / r, W / r).

    Example::

        y = nn.PixelUnshuffle(3)(mc.randn(1, 1, 12, 12))    # (1, 9, 4, 4)
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups: (N, C, *) -> (N, C, *).

    Example::

        y = nn.ChannelShuffle(2)(mc.randn(1, 4, 2, 2))      # channels 0, 2, 1, 3
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
