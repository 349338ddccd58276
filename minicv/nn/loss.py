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


class SoftMarginLoss(_Loss):
    """Two-class logistic loss log(1 + exp(-y·x)) for targets ±1.

    Example::

        loss = nn.SoftMarginLoss()(mc.randn(4), mc.tensor([1., -1., 1., 1.]))
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One-vs-all logistic loss over C classes, averaged over classes.

    Shape: input (N, C) logits, target (N, C) of 0/1; 'none' gives (N,).

    Example::

        loss = nn.MultiLabelSoftMarginLoss()(mc.randn(2, 3), mc.tensor([[1, 0, 1], [0, 1, 1]]))
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (1/C) Σ_{j≠y} w_y·max(0, margin - x_y + x_j)^p, p = 1 or 2.

    Shape: input (N, C) or (C,), target (N,) class indices; 'none' gives (N,).

    Example::

        loss = nn.MultiMarginLoss(margin=0.5)(mc.randn(3, 5), mc.tensor([1, 0, 4]))
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        if weight is not None and as_tensor_arg(weight).ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape "
                             f"{list(as_tensor_arg(weight).shape)}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; targets are class indices padded with -1.

    Shape: input (N, C) or (C,), target of the same shape; 'none' gives (N,).

    Example::

        loss = nn.MultiLabelMarginLoss()(mc.randn(1, 4), mc.tensor([[3, 0, -1, 1]]))
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1.

    Example::

        loss = nn.HingeEmbeddingLoss(margin=2.0)(mc.tensor([0.3, 1.0]), mc.tensor([1., -1.]))
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood: exp(x) - y·x (log_input) or x - y·log(x + eps).

    Example::

        loss = nn.PoissonNLLLoss()(mc.randn(5), mc.tensor([0., 1., 3., 2., 0.]))
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input,
                                  full=self.full, eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood ½·(log var + (input - target)² / var).

    Shape: var of the input's shape, or with its last dim dropped or one dim of size 1.

    Example::

        loss = nn.GaussianNLLLoss()(mc.randn(4, 2), mc.randn(4, 2), mc.rand(4, 1) + 0.1)
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (default: 2-norm).

    Example::

        loss = nn.TripletMarginWithDistanceLoss(margin=0.5)(mc.randn(4, 8), mc.randn(4, 8),
                                                            mc.randn(4, 8))
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist Temporal Classification loss (see ``F.ctc_loss``).

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) padded or 1-D concatenated;
    input_lengths and target_lengths (N,); output a scalar, or (N,) with 'none'.

    Example::

        ctc = nn.CTCLoss(zero_infinity=True)
        loss = ctc(F.log_softmax(mc.randn(30, 2, 10), 2), mc.tensor([[1, 2, 2], [3, 4, 0]]),
                   [30, 25], [3, 2])
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
