"""PyTorch's top-level copies of functional ops (``torch.conv2d``, ``torch.batch_norm``,
``torch.kl_div``...), exported as ``mc.<name>`` with the signatures of ``torch.<name>``.

Several differ from ``F.<name>``: the losses take ``reduction`` as an integer (0 'none',
1 'mean', 2 'sum'; the default is 0, what PyTorch's Python bindings use, although ATen's
schemas say 1), ``batch_norm``/``instance_norm``/``dropout`` take every argument
positionally and in ATen's order, ``embedding`` takes the weight first, the pools have no
``return_indices``. Each wrapper imports its op on first call (``_op`` keeps it for the
later ones), so ``import minicv`` stays fast (the ops live in modules that load Numba
kernels).

Example::

    y = mc.conv2d(x, w, padding=1)                     # F.conv2d(x, w, padding=1)
    loss = mc.kl_div(logq, p, 2)                       # reduction='sum'
"""
import functools
import importlib
import warnings

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


@functools.cache
def _op(module, name):
    """``name`` from ``minicv.<module>``, imported on the first call of a wrapper and
    cached for the later ones."""
    return getattr(importlib.import_module(f"minicv.{module}"), name)


def _reduction(reduction):
    """ATen's integer reduction (torch.nn._reduction.Reduction) as F's string."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 0 ('none'), 1 ('mean') or 2 ('sum'), got "
                         f"{reduction!r}")
    return _REDUCTIONS[reduction]


def _same_as_functional(module, name):
    """A wrapper for an op whose ``torch.<name>`` signature is ``F.<name>``'s."""
    def fn(*args, **kwargs):
        return _op(module, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``F.{name}`` (PyTorch's ``torch.{name}``); see minicv.{module}.{name}."
    return fn


_SAME = {
    "ops.conv": ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d"),
    "ops.vision": ("pixel_shuffle", "pixel_unshuffle", "channel_shuffle"),
    "ops.pool": ("adaptive_avg_pool1d",),
    "ops.nn_basic": ("bilinear",),
    "nn.functional": ("cosine_similarity",),
    "ops.loss": ("pairwise_distance",),
    "ops.activation": ("prelu", "hardshrink"),
    "ops.norm": ("rms_norm",),
}
for _module, _names in _SAME.items():
    for _name in _names:
        globals()[_name] = _same_as_functional(_module, _name)
del _module, _names, _name


def _pool(name):
    """``torch.max_pool1d(input, kernel_size, stride=[], padding=0, ...)``: no
    ``return_indices``; an empty ``stride`` means the kernel size."""
    def fn(input, kernel_size, stride=(), *args, **kwargs):
        stride = None if stride is None or stride == () or stride == [] else stride
        return _op("ops.pool", name)(input, kernel_size, stride, *args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``F.{name}`` without ``return_indices`` (PyTorch's ``torch.{name}``)."
    return fn


max_pool1d, max_pool2d, max_pool3d = (_pool(n) for n in ("max_pool1d", "max_pool2d",
                                                        "max_pool3d"))
avg_pool1d = _pool("avg_pool1d")


def adaptive_max_pool1d(input, output_size):
    """``(values, indices)``, as ``torch.adaptive_max_pool1d`` returns."""
    return _op("ops.pool", "adaptive_max_pool1d")(input, output_size, return_indices=True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """ATen's argument order; ``cudnn_enabled`` is ignored. See ``F.batch_norm``."""
    return _op("ops.norm", "batch_norm")(input, running_mean, running_var, weight, bias,
                                         training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
                  momentum, eps, cudnn_enabled):
    """ATen's argument order; ``cudnn_enabled`` is ignored. See ``F.instance_norm``."""
    return _op("ops.norm", "instance_norm")(input, running_mean, running_var, weight, bias,
                                            use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05,
               cudnn_enable=True):
    """``F.layer_norm``; ``cudnn_enable`` is ignored."""
    return _op("ops.norm", "layer_norm")(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``F.group_norm``; ``cudnn_enabled`` is ignored."""
    return _op("ops.norm", "group_norm")(input, num_groups, weight, bias, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (the weight comes first, as in ATen); a negative ``padding_idx``
    means none."""
    padding_idx = padding_idx if padding_idx >= 0 else None
    return _op("ops.nn_basic", "embedding")(indices, weight, padding_idx,
                                            scale_grad_by_freq=scale_grad_by_freq,
                                            sparse=sparse)


def dropout(input, p, train):
    """``F.dropout(input, p, training=train)``."""
    return _op("ops.nn_basic", "dropout")(input, p, train)


def alpha_dropout(input, p, train):
    """``F.alpha_dropout(input, p, training=train)``."""
    return _op("ops.nn_basic", "alpha_dropout")(input, p, train)


def rrelu(input, lower=0.125, upper=1.0 / 3, training=False, generator=None):
    """``F.rrelu``. Differs from PyTorch: ``generator`` must be None (the global stream is
    used)."""
    if generator is not None:
        raise ValueError("rrelu: generator= is not supported; seed with mc.manual_seed")
    return _op("ops.activation", "rrelu")(input, lower, upper, training)


def selu(input):
    """``F.selu``: scale·(max(0, x) + min(0, α(eˣ - 1))) with PyTorch's constants."""
    return _op("ops.activation", "selu")(input)


def celu(input, alpha=1.0):
    """``F.celu``: max(0, x) + min(0, α(e^(x/α) - 1))."""
    return _op("ops.activation", "celu")(input, alpha)


def threshold(input, threshold, value):
    """``value`` where input <= threshold, else input."""
    return _op("ops.activation", "threshold")(input, threshold, value)


def kl_div(input, target, reduction=0, *, log_target=False):
    """``F.kl_div`` with an integer reduction (1, 'mean', averages over every element,
    without F's warning about 'batchmean')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _op("ops.loss", "kl_div")(input, target, reduction=_reduction(reduction),
                                         log_target=log_target)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """``F.ctc_loss`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "ctc_loss")(log_probs, targets, input_lengths, target_lengths,
                                       blank, _reduction(reduction), zero_infinity)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction=0):
    """``F.binary_cross_entropy_with_logits`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "binary_cross_entropy_with_logits")(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``F.cosine_embedding_loss`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "cosine_embedding_loss")(input1, input2, target, margin,
                                                    reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``F.hinge_embedding_loss`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "hinge_embedding_loss")(input, target, margin,
                                                   reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``F.margin_ranking_loss`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "margin_ranking_loss")(input1, input2, target, margin,
                                                  reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``F.poisson_nll_loss`` with every argument required, as ``torch.poisson_nll_loss``,
    and the integer ``reduction`` (0 'none', 1 'mean', 2 'sum')."""
    return _op("ops.loss", "poisson_nll_loss")(input, target, log_input, full, eps=eps,
                                               reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06,
                        swap=False, reduction=0):
    """``F.triplet_margin_loss`` with PyTorch's integer ``reduction``:
    0 'none', 1 'mean', 2 'sum' (default 0)."""
    return _op("ops.loss", "triplet_margin_loss")(anchor, positive, negative, margin, p,
                                                  eps, swap,
                                                  reduction=_reduction(reduction))


def method_as_function(name):
    """``mc.relu_(x)`` as PyTorch's ``torch.relu_``: the in-place method ``x.relu_()``."""
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: the in-place method as a function."
    return fn


NAMES = (tuple(n for names in _SAME.values() for n in names) +
         ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_max_pool1d",
          "batch_norm", "instance_norm", "layer_norm", "group_norm", "embedding", "dropout",
          "alpha_dropout", "rrelu", "selu", "celu", "threshold", "kl_div", "ctc_loss",
          "binary_cross_entropy_with_logits", "cosine_embedding_loss",
          "hinge_embedding_loss", "margin_ranking_loss", "poisson_nll_loss",
          "triplet_margin_loss"))
