"""``Dropout``, ``Dropout1d/2d/3d``, ``AlphaDropout``, ``FeatureAlphaDropout``: random
zeroing in training, identity in eval.

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


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p``; scale the rest by
    1/(1-p).

    Shape: (N, C, L) or (C, L) -> same shape.

    Example::

        y = nn.Dropout1d(0.2)(mc.randn(4, 16, 32))
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p``.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape.

    Example::

        y = nn.Dropout3d(0.2)(mc.randn(2, 4, 3, 8, 8))
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps zero mean and unit variance (Klambauer et al. 2017).
    Dropped elements take SELU's negative saturation before an affine correction.

    Shape: any -> same shape.

    Example::

        y = nn.AlphaDropout(0.2)(mc.randn(20, 16))
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, *).

    Shape: (N, C, *) -> same shape.

    Example::

        y = nn.FeatureAlphaDropout(0.2)(mc.randn(2, 16, 8, 8))
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
