"""``Fold`` and ``Unfold``: sliding-window patches as columns and back (``F.fold`` /
``F.unfold``, PyTorch's im2col layout (N, C·kH·kW, L))."""
from . import functional as F
from .module import Module


class Fold(Module):
    """Sum columns (N, C·kH·kW, L) back into (N, C, *output_size); Unfold's adjoint.

    Shape: L = prod over the two axes of floor((size + 2p - d(k-1) - 1)/s) + 1.

    Example::

        y = nn.Fold(output_size=(4, 5), kernel_size=2)(mc.randn(1, 12, 12))  # (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extract sliding patches as columns: (N, C, H, W) -> (N, C·kH·kW, L).

    Example::

        y = nn.Unfold(kernel_size=(2, 3))(mc.randn(2, 5, 3, 4))       # (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
