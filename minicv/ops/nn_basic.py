"""Building blocks of layers: ``linear``, ``dropout``/``dropout2d``, ``embedding``, ``one_hot``.

``linear`` is one fused op (matmul + bias in one node, hand-written backward), since it is
called in every MLP and classifier head; ``dropout`` draws its mask from minicv's global
generator (``backend.get_rng``), so ``mc.manual_seed`` makes it reproducible.
"""
import warnings

import numpy as np

from ..autograd import Function
from ..backend import get_rng, get_array_module, scatter_add, put_along_axis
from ..tensor import Tensor, as_tensor_arg
from .linalg import _matmul, matmul


def check_float(x, name, arg="input"):
    """Raise a TypeError unless ``x`` is a floating tensor (used by every layer op)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {arg} must be a floating tensor, got dtype {x.dtype}: "
                        f"convert it with .float() (images stored as uint8: x.float() / 255)")


def check_same_dtype(x, w, name):
    if x.dtype != w.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} does not match the weight dtype "
                        f"{w.dtype}: convert the input (x.to({w.dtype.name})) or the "
                        f"module (.double() / .float())")


class Linear(Function):
    """y = x Wᵀ + b; dx = dy W, dW = dyᵀ x, db = Σ dy (over all leading axes).

    Saved: x and W. x has shape (*, in); W (out, in); b (out,) or None.
    """
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        y = _matmul(x, w.T)                       # (*, out)
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = _matmul(gy, w) if need_x else None   # (*, in)
        gw = gb = None
        if need_w or need_b:
            gy2 = gy.reshape(-1, gy.shape[-1])    # (M, out)
            if need_w:
                gw = _matmul(gy2.T, x.reshape(-1, x.shape[-1]))   # (out, in)
            if need_b:
                gb = gy2.sum(axis=0)
        return gx, gw, gb


def linear(input, weight, bias=None):
    """Affine map ``y = x Wᵀ + b`` over the last dimension.

    Args:
        input: (*, in_features) floating tensor.
        weight: (out_features, in_features), or (in_features,) without a bias: then
            ``y = x @ weight`` and the last dimension is summed away (as in PyTorch).
        bias: (out_features,) or None.

    Shape: (*, in_features) -> (*, out_features); with a 1-D weight, (*, in_features) -> (*).

    Example::

        y = F.linear(mc.randn(4, 3), mc.randn(5, 3), mc.zeros(5))   # (4, 5)
    """
    x = input if isinstance(input, Tensor) else as_tensor_arg(input)
    weight = weight if isinstance(weight, Tensor) else as_tensor_arg(weight)
    xd, wd = x.data, weight.data
    if wd.ndim == 1 and bias is None:
        if xd.dtype != wd.dtype or xd.ndim == 0 or xd.shape[-1] != wd.shape[0]:
            _linear_error(x, weight)
        return matmul(x, weight)                  # (*, in) @ (in,) -> (*)
    if wd.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{list(wd.shape)}; a 1-D weight (in_features,) works only without "
                         f"a bias")
    if xd.dtype != wd.dtype or xd.ndim == 0 or xd.shape[-1] != wd.shape[-1]:
        _linear_error(x, weight)                  # the checks run only on the slow path
    return Linear.apply(x, weight, bias)


def _linear_error(x, weight):
    check_float(x, "linear")
    check_same_dtype(x, weight, "linear")
    raise ValueError(
        f"linear: input of shape {list(x.shape)} cannot be multiplied with weight of shape "
        f"{list(weight.shape)}: the last input dimension must equal in_features="
        f"{weight.shape[-1]} (flatten conv features first, e.g. x.flatten(1))")


# ----------------------------------------------------------------------------- dropout

class MaskMul(Function):
    """y = x · mask (mask already holds 0 or 1/(1-p)); dx = dy · mask. Saved: mask."""
    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.mask, None


def _dropout_mask(shape, p, dtype, like):
    """Bernoulli(1 - p) mask scaled by 1/(1 - p), so the expected output equals the input.

    The mask is drawn from minicv's CPU generator even for a GPU input (then copied to
    ``like``'s device), so one seed gives the same mask on every device.
    """
    xp = get_array_module(like)
    if p == 1:
        return xp.zeros(shape, dtype)
    keep = get_rng().random(shape, dtype=np.float32) >= np.float32(p)
    mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return mask if xp is np else xp.asarray(mask)


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training).

    Args:
        input: any floating tensor. p: drop probability. training: identity when False.
        inplace: accepted for PyTorch compatibility; minicv always returns a new tensor.

    Shape: output has the input's shape.

    Example::

        mc.manual_seed(0); y = F.dropout(mc.ones(2, 4), p=0.5)   # entries 0 or 2
    """
    _check_p(p, "dropout")
    x = as_tensor_arg(input)
    if not training or p == 0:
        return x
    check_float(x, "dropout")
    return MaskMul.apply(x, _dropout_mask(x.shape, p, x.dtype, x.data))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) with probability ``p``; scale the rest by 1/(1-p).

    Shape: (N, C, H, W) or (C, H, W); a 3-D input is treated as (N, C, L) like PyTorch.
    The mask has shape (N, C, 1, 1): every pixel of a channel is kept or dropped together.
    Other ranks behave as in PyTorch, with a UserWarning: the mask is (N, C, 1, ..., 1), so
    a 2-D input (N, C) is dropped element by element; a 0-D or 1-D input raises in training.

    Example::

        y = F.dropout2d(mc.ones(2, 8, 4, 4), p=0.25)
    """
    _check_p(p, "dropout2d")
    x = as_tensor_arg(input)
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is "
                      f"deprecated and will result in an error in a future release. To "
                      f"retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that dropout2d exists to provide channel-wise dropout "
                      f"on inputs with 2 spatial dimensions, a channel dimension, and an "
                      f"optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if not training or p == 0 or x.data.size == 0:
        return x
    check_float(x, "dropout2d")
    if x.ndim < 2 and p < 1:
        raise ValueError(f"dropout2d: feature dropout requires at least 2 dimensions "
                         f"(N, C, ...), got shape {list(x.shape)}: use F.dropout instead")
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)      # (N, C, 1, 1)
    return MaskMul.apply(x, _dropout_mask(mask_shape, p, x.dtype, x.data))


# ----------------------------------------------------------------------------- embedding

class Embedding(Function):
    """y = W[idx]; dW[i] = Σ of dy over positions holding index i (none at padding_idx).

    With ``scale_grad_by_freq``, dW[i] is divided by the number of times i occurs in
    ``idx`` (PyTorch's rule: frequent words do not dominate a mini-batch's update).
    """
    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq=False):
        ctx.idx, ctx.w_shape, ctx.padding_idx = idx, w.shape, padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return w[idx]                              # idx.shape + (D,)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        flat = ctx.idx.reshape(-1)                 # (M,)
        gw = xp.zeros(ctx.w_shape, gy.dtype)
        scatter_add(xp, gw, flat, gy.reshape(-1, ctx.w_shape[1]))
        if ctx.scale_grad_by_freq:
            counts = xp.bincount(flat.astype(np.int64), minlength=ctx.w_shape[0])  # (V,)
            gw /= xp.maximum(counts, 1).astype(gy.dtype)[:, None]  # unused rows: 0 / 1
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight``: ``out[..., :] = weight[input[...]]``.

    Args:
        input: integer tensor of indices in [0, num_embeddings).
        weight: (num_embeddings, embedding_dim).
        padding_idx: row that receives no gradient.
        max_norm: if given, rows looked up are renormalised in place to norm <= max_norm.
        scale_grad_by_freq: divide each row's gradient by how often its index occurs in
            ``input``. sparse: accepted; the gradient is always dense.

    Shape: (*) -> (*, embedding_dim).

    Example::

        out = F.embedding(mc.tensor([[0, 2]]), mc.randn(5, 3))   # (1, 2, 3)
    """
    idx = as_tensor_arg(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {idx.dtype}"
                        f": convert with .long()")
    n = weight.shape[0]
    if idx.data.size and (idx.data.min() < 0 or idx.data.max() >= n):
        bad = idx.data[(idx.data < 0) | (idx.data >= n)].reshape(-1)[0]
        raise IndexError(f"embedding: index {bad} is out of range: indices must lie in "
                         f"[0, {n - 1}] for a table of num_embeddings={n} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        rows = get_array_module(idx.data).unique(idx.data)
        norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1, keepdims=True)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.data[rows] *= scale.astype(weight.dtype)
        weight._vc[0] += 1
    idx_data = idx.data
    xp = get_array_module(weight.data)
    if xp is not np and type(idx_data) is np.ndarray:
        idx_data = xp.asarray(idx_data)         # indices follow the table's device
    return Embedding.apply(weight, idx_data, padding_idx, bool(scale_grad_by_freq))


def one_hot(tensor, num_classes=-1):
    """Integer labels to one-hot int64 vectors.

    Shape: (*) -> (*, num_classes); ``num_classes=-1`` uses max(label) + 1.

    Example::

        F.one_hot(mc.tensor([0, 2]), 3)   # [[1, 0, 0], [0, 0, 1]]
    """
    t = as_tensor_arg(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be an integer tensor, got dtype {t.dtype}")
    labels = t.data
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes - 1}] for "
                         f"num_classes={num_classes}; got values in [{labels.min()}, "
                         f"{labels.max()}]")
    xp = get_array_module(labels)
    out = xp.zeros(labels.shape + (num_classes,), np.int64)
    put_along_axis(xp, out, labels[..., None].astype(np.int64), 1, -1)
    return Tensor(out)
