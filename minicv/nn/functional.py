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

import numpy as np

from ..autograd import Function
from ..tensor import as_tensor_arg
from ..ops.activation import (relu, relu6, hardtanh, leaky_relu, elu, gelu, sigmoid, tanh,
                              softplus, silu, mish)
from ..ops import activation as _A
from ..ops.shape import pad
from ..ops.nn_basic import linear, dropout, dropout2d, embedding, one_hot
from ..ops.norm import batch_norm, layer_norm, group_norm
from ..ops.loss import (cross_entropy, nll_loss, binary_cross_entropy,
                        binary_cross_entropy_with_logits, mse_loss, l1_loss, smooth_l1_loss,
                        huber_loss, kl_div, cosine_embedding_loss, margin_ranking_loss,
                        triplet_margin_loss, pairwise_distance)
from ..ops.activation import (selu, celu, hardswish, hardsigmoid, logsigmoid, softsign,
                              softshrink, hardshrink, tanhshrink, threshold, glu, prelu,
                              rrelu, softmin, gumbel_softmax, relu_, elu_, leaky_relu_,
                              hardtanh_, threshold_, celu_, selu_, rrelu_)
from ..ops.nn_basic import (bilinear, dropout1d, dropout3d, alpha_dropout,
                            feature_alpha_dropout, embedding_bag)
from ..ops.norm import instance_norm, local_response_norm, rms_norm
from ..ops.loss import (soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss,
                        multilabel_margin_loss, hinge_embedding_loss, poisson_nll_loss,
                        gaussian_nll_loss, triplet_margin_with_distance_loss, ctc_loss)
from ..ops.linalg import pdist
from ..ops import elementwise as _E
from ..ops import reduce as _R

# name -> module that defines it (imported lazily: these ops land separately)
_LAZY = {
    "minicv.ops.conv": ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d"),
    "minicv.ops.pool": ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
                        "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
                        "max_pool1d_with_indices", "max_pool2d_with_indices",
                        "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool1d",
                        "adaptive_max_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
                        "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
                        "max_unpool2d", "max_unpool3d", "adaptive_max_pool1d_with_indices",
                        "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices"),
    "minicv.ops.vision": ("interpolate", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
                          "channel_shuffle", "upsample", "upsample_nearest",
                          "upsample_bilinear", "affine_grid", "grid_sample"),
    # nn.attention imports nn.linear, which imports this module: lazily, or in a circle
    "minicv.nn.attention": ("scaled_dot_product_attention", "multi_head_attention_forward"),
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


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along ``dim``: every slice scaled to p-norm 1.

    ‖x‖_p is ``x.norm(p, dim)``: √Σx² for p=2, Σ|x| for p=1, max|x| for p=inf, min|x| for
    p=-inf, (Σ|x|^p)^(1/p) otherwise. Below ``eps`` the denominator is the constant eps, so
    an all-zero slice stays zero and gets the gradient 1/eps, as in PyTorch.

    Shape: output has the input's shape.

    Example::

        unit = F.normalize(mc.randn(4, 8), dim=1)   # rows of norm 1
    """
    x = _A._floating_only(input, "normalize")
    norm = _R.norm(x, p, dim=dim, keepdim=True)       # input's shape, size 1 along dim
    return _E.div(x, _E.clamp(norm, min=eps))


class _AtLeast(Function):
    """max(n, eps) forward, identity backward: PyTorch's cosine_similarity raises the norms
    to eps in place under no_grad, so its gradient flows through a norm as if unclamped."""
    @staticmethod
    def forward(ctx, n, eps):
        return np.maximum(n, n.dtype.type(eps))

    @staticmethod
    def backward(ctx, gy):
        return gy, None


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim``: Σ (x1/‖x1‖)·(x2/‖x2‖).

    As in PyTorch 2.x: x1 and x2 are broadcast together first, each is divided by its own
    2-norm (so the result stays in [-1, 1]), and a norm below ``eps`` counts as eps in the
    value only; the norm's gradient at a zero vector is 0, so the gradient stays finite.
    One input may be an integer tensor (it takes the other's dtype), not both.

    Shape: broadcast(x1, x2) with ``dim`` removed.

    Example::

        F.cosine_similarity(mc.tensor([[1.0, 0.0]]), mc.tensor([[1.0, 1.0]]))  # [0.7071]
    """
    a, b = as_tensor_arg(x1), as_tensor_arg(x2)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        raise TypeError(f"cosine_similarity: at least one input must be a floating tensor, "
                        f"got dtypes {a.dtype} and {b.dtype}: convert with x.float()")
    a, b = _E.promote(a, b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = (t if t.shape == shape else t.expand(*shape) for t in (a, b))
    n1 = _AtLeast.apply(_R.norm(a, 2, dim=dim, keepdim=True), eps)
    n2 = _AtLeast.apply(_R.norm(b, 2, dim=dim, keepdim=True), eps)
    return _R.sum(_E.mul(_E.div(a, n1), _E.div(b, n2)), dim=dim)
