"""Distance layers: Module forms of ``F.pairwise_distance`` and ``F.cosine_similarity``."""
from . import functional as F
from .module import Module


class PairwiseDistance(Module):
    """‖x1 - x2 + eps‖_p over the last dimension (eps keeps the norm differentiable at 0).

    Shape: x1, x2 (N, D) or (D,), broadcasting together; output (N,) (or (N, 1) with
    keepdim).

    Example::

        d = nn.PairwiseDistance(p=1.0)(mc.randn(3, 4), mc.randn(3, 4))   # (3,)
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along ``dim`` (norms below eps count as eps).

    Shape: x1, x2 broadcasting together; output without ``dim``.

    Example::

        s = nn.CosineSimilarity(dim=1)(mc.randn(3, 4), mc.randn(3, 4))   # (3,)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
