"""``Dropout`` and ``Dropout2d``: random zeroing in training, identity in eval.

Masks come from minicv's generator, so ``mc.manual_seed`` reproduces them.
"""
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` during training; scale kept ones by 1/(1-p)
    so the expected value is unchanged (Srivastava et al. 2014). Identity in eval mode.

    Shape: any -> same shape.

    Example::

        drop = nn.Dropout(0.2)
        y = drop(mc.randn(20, 16))
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability ``p`` (Tompson et al. 2015).

    Shape: (N, C, H, W) or (N, C, L) -> same shape.

    Example::

        y = nn.Dropout2d(0.2)(mc.randn(2, 16, 8, 8))
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)
