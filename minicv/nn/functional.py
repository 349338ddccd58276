"""``minicv.nn.functional`` (``F``): stateless versions of the layers, PyTorch's names.

Everything here is a re-export of a differentiable op from ``minicv.ops``; layers in
``minicv.nn`` hold parameters and call these. Convolution, pooling and resampling ops
(``F.conv2d``, ``F.max_pool2d``, ``F.interpolate``...) are imported from
``minicv.ops.conv`` / ``minicv.ops.pool`` / ``minicv.ops.vision`` on first use.

Example::

    import minicv.nn.functional as F
    loss = F.cross_entropy(F.linear(x, w, b), labels)
"""
import importlib

from ..ops.activation import relu, leaky_relu, elu, gelu, sigmoid, tanh, softplus
from ..ops import activation as _A
from ..ops.shape import pad
from ..ops.nn_basic import linear, dropout, dropout2d, embedding, one_hot
from ..ops.norm import batch_norm, layer_norm, group_norm
from ..ops.loss import (cross_entropy, nll_loss, binary_cross_entropy,
                        binary_cross_entropy_with_logits, mse_loss, l1_loss, smooth_l1_loss,
                        huber_loss, kl_div, cosine_embedding_loss, margin_ranking_loss,
                        triplet_margin_loss, pairwise_distance)
from ..ops import elementwise as _E
from ..ops import reduce as _R

# name -> module that defines it (imported lazily: these ops land separately)
_LAZY = {
    "minicv.ops.conv": ("conv1d", "conv2d", "conv3d", "conv_transpose2d"),
    "minicv.ops.pool": ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
                        "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"),
    "minicv.ops.vision": ("interpolate", "unfold", "fold"),
}
_LAZY_NAME = {name: mod for mod, names in _LAZY.items() for name in names}


def __getattr__(name):
    mod = _LAZY_NAME.get(name)
    if mod is None:
        raise AttributeError(f"module 'minicv.nn.functional' has no attribute '{name}'")
    try:
        fn = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as e:
        raise AttributeError(f"minicv.nn.functional.{name} needs {mod}.{name}, which is not "
                             f"available in this build ({e})") from None
    globals()[name] = fn                   # cache: later lookups skip __getattr__
    return fn


def __dir__():
    return sorted(list(globals()) + list(_LAZY_NAME))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax over ``dim`` (PyTorch's signature: ``_stacklevel`` is accepted and unused).

    Example::

        probs = F.softmax(mc.randn(2, 5), dim=1)         # rows sum to 1
    """
    return _A.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) over ``dim``, computed stably (``_stacklevel`` is unused)."""
    return _A.log_softmax(input, dim, dtype)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return _E.clamp(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _E.clamp(input, min_val, max_val)


def silu(input, inplace=False):
    """x·sigmoid(x) (a.k.a. swish)."""
    return _E.mul(input, sigmoid(input))


def mish(input, inplace=False):
    """x·tanh(softplus(x))."""
    return _E.mul(input, tanh(softplus(input)))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along ``dim``.

    Example::

        unit = F.normalize(mc.randn(4, 8), dim=1)   # rows of norm 1
    """
    if p == 2:
        norm = _E.sqrt(_R.sum(_E.mul(input, input), dim=dim, keepdim=True))
    else:
        norm = _E.pow(_R.sum(_E.pow(_E.abs(input), p), dim=dim, keepdim=True), 1.0 / p)
    return _E.div(input, _E.clamp(norm, min=eps))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``."""
    n1 = _E.clamp(_E.sqrt(_R.sum(_E.mul(x1, x1), dim=dim)), min=eps)
    n2 = _E.clamp(_E.sqrt(_R.sum(_E.mul(x2, x2), dim=dim)), min=eps)
    return _E.div(_R.sum(_E.mul(x1, x2), dim=dim), _E.mul(n1, n2))
