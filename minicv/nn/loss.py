"""Loss layers: Module forms of the losses in ``minicv.nn.functional``.

Each stores its options and calls the functional form in ``forward(input, target)``.
Class weights are registered as buffers (they follow ``.to(dtype)`` and ``state_dict``).
"""
from ..ops.loss import legacy_reduction
from ..tensor import as_tensor_arg
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor_arg(weight))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class labels or class probabilities.

    Args:
        weight: (C,) class weights. ignore_index: label to skip (default -100).
        reduction: 'none' | 'mean' | 'sum'. label_smoothing: ε in [0, 1].

    Shape: input (N, C) or (N, C, d1, ...); target (N) / (N, d1, ...) int64 labels in
    [0, C-1], or probabilities of the input's shape. Output: scalar, or the target's shape
    with reduction='none'.

    Example::

        loss = nn.CrossEntropyLoss()(mc.randn(3, 5, requires_grad=True), mc.tensor([1, 0, 4]))
        loss.backward()
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of labels given log-probabilities (after LogSoftmax).

    Shape: as CrossEntropyLoss.

    Example::

        loss = nn.NLLLoss()(F.log_softmax(mc.randn(3, 5), 1), mc.tensor([1, 0, 4]))
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1].

    Shape: input and target of one shape; 'none' keeps it.

    Example::

        loss = nn.BCELoss()(mc.tensor([0.8, 0.1]), mc.tensor([1.0, 0.0]))
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, stably.

    Args:
        weight: broadcast rescaling. pos_weight: weight of positives per class (last dim).

    Example::

        loss = nn.BCEWithLogitsLoss(pos_weight=mc.full((3,), 2.0))(mc.randn(4, 3),
                                                                   mc.rand(4, 3))
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor_arg(weight))
        self.register_buffer("pos_weight",
                             None if pos_weight is None else as_tensor_arg(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean squared error.

    Example::

        loss = nn.MSELoss()(mc.randn(3, 2), mc.zeros(3, 2))
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Example::

        loss = nn.L1Loss()(mc.randn(3, 2), mc.zeros(3, 2))
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5·d²/β where |d| < β, else |d| - β/2.

    Example::

        loss = nn.SmoothL1Loss(beta=0.5)(mc.randn(3, 2), mc.zeros(3, 2))
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5·d² where |d| < δ, else δ·(|d| - δ/2).

    Example::

        loss = nn.HuberLoss(delta=2.0)(mc.randn(3, 2), mc.zeros(3, 2))
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL(target ‖ exp(input)); use reduction='batchmean' for the per-sample KL.

    Example::

        kl = nn.KLDivLoss(reduction="batchmean")(F.log_softmax(mc.randn(2, 4), 1),
                                                 F.softmax(mc.randn(2, 4), 1))
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for y = 1, max(0, cos - margin) for y = -1.

    Example::

        loss = nn.CosineEmbeddingLoss()(mc.randn(3, 4), mc.randn(3, 4), mc.tensor([1, -1, 1]))
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -y·(x1 - x2) + margin).

    Example::

        loss = nn.MarginRankingLoss(0.5)(mc.randn(3), mc.randn(3), mc.tensor([1., -1., 1.]))
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with p-norm distances.

    Example::

        loss = nn.TripletMarginLoss()(mc.randn(4, 8), mc.randn(4, 8), mc.randn(4, 8))
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)
