"""Building blocks of layers: ``linear``, ``bilinear``, the dropouts (``dropout``,
``dropout1d/2d/3d``, ``alpha_dropout``, ``feature_alpha_dropout``), ``embedding``,
``embedding_bag``, ``one_hot``.

``linear`` is one fused op (matmul + bias in one node, hand-written backward), since it is
called in every MLP and classifier head; ``dropout`` draws its mask from minicv's global
generator (``backend.get_rng``), so ``mc.manual_seed`` makes it reproducible.
"""
import math
import warnings

import numpy as np

from ..autograd import Function
from ..backend import (get_rng, get_array_module, put_along_axis, reduceat, scatter_add,
                       to_numpy)
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
            m = math.prod(gy.shape[:-1])
            gy2 = gy.reshape(m, gy.shape[-1])     # (M, out); in or out may be 0
            if need_w:
                gw = _matmul(gy2.T, x.reshape(m, x.shape[-1]))    # (out, in)
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


class Bilinear(Function):
    """y[n, o] = Σ_ij x1[n, i]·W[o, i, j]·x2[n, j] on (N, I), (N, J) inputs (``bilinear``
    adds the bias); dx1 = Σ_oj dy·W·x2, dx2 = Σ_oi dy·W·x1, dW = Σ_n dy⊗x1⊗x2.
    Each is one matmul against an outer product (x1⊗x2, dy⊗x1, dy⊗x2). Saved: x1, x2, W."""
    @staticmethod
    def forward(ctx, x1, x2, w):
        o, i, j = w.shape
        ctx.save_for_backward(x1, x2, w)
        x12 = (x1[:, :, None] * x2[:, None, :]).reshape(-1, i * j)    # (N, I·J)
        return _matmul(x12, w.reshape(o, i * j).T)                      # (N, O)

    @staticmethod
    def backward(ctx, gy):
        x1, x2, w = ctx.saved_tensors
        (o, i, j), n = w.shape, gy.shape[0]
        need = ctx.needs_input_grad
        g1 = g2 = gw = None
        if need[0]:
            gy2 = (gy[:, :, None] * x2[:, None, :]).reshape(n, o * j)      # (N, O·J)
            g1 = _matmul(gy2, w.transpose(0, 2, 1).reshape(o * j, i))     # (N, I)
        if need[1] or need[2]:
            gy1 = (gy[:, :, None] * x1[:, None, :]).reshape(n, o * i)      # (N, O·I)
            g2 = _matmul(gy1, w.reshape(o * i, j)) if need[1] else None    # (N, J)
            gw = _matmul(gy1.T, x2).reshape(o, i, j) if need[2] else None
        return g1, g2, gw


def bilinear(input1, input2, weight, bias=None):
    """Bilinear map ``y = x1ᵀ A x2 + b``, one matrix A = weight[o] per output feature.

    Args:
        input1: (*, in1_features). input2: (*, in2_features), the same leading shape.
        weight: (out_features, in1_features, in2_features). bias: (out_features,) or None.

    Shape: (*, in1), (*, in2) -> (*, out).

    Example::

        y = F.bilinear(mc.randn(4, 2), mc.randn(4, 3), mc.randn(5, 2, 3))   # (4, 5)
    """
    x1, x2, w = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(weight)
    check_float(x1, "bilinear", "input1")
    if not x1.dtype == x2.dtype == w.dtype or (bias is not None and bias.dtype != w.dtype):
        raise TypeError(f"bilinear: all tensors must have the same dtype, got input1: "
                        f"{x1.dtype}, input2: {x2.dtype}, weight: {w.dtype}: convert them "
                        f"first (e.g. x.to(weight.dtype))")
    if w.ndim != 3:
        raise ValueError(f"bilinear(): weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got shape {list(w.shape)}")
    if x1.ndim == 0 or x2.ndim != x1.ndim or x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(f"bilinear(): input batch dimensions do not match: got shapes "
                         f"{list(x1.shape)} and {list(x2.shape)}")
    for name, got, want in (("input1", x1.shape[-1], w.shape[1]),
                            ("input2", x2.shape[-1], w.shape[2])):
        if got != want:
            raise ValueError(f"bilinear(): {name} size does not match weight size: got "
                             f"{got} but expected {want}")
    if bias is not None and tuple(bias.shape) != (w.shape[0],):
        raise ValueError(f"bilinear(): bias size does not match weight size: got "
                         f"{list(bias.shape)} but expected [{w.shape[0]}]")
    lead = x1.shape[:-1]
    y = Bilinear.apply(x1.reshape(-1, w.shape[1]), x2.reshape(-1, w.shape[2]), w)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (w.shape[0],))                      # (*, O)


# ----------------------------------------------------------------------------- dropout

def _scale_planes(a, mask):
    """a · mask; a channel mask (N, C, 1, ...) on a large NumPy float array runs
    ``kernels/cpu/planes.py``'s per-plane loop (imported only then: a small step never
    loads Numba)."""
    if type(a) is np.ndarray and a.size >= 1 << 12 and mask.ndim >= 3:
        from ..kernels.cpu import planes
        if planes.fast_ok(a, mask):
            return planes.scale(a, mask)
    return a * mask


class MaskMul(Function):
    """y = x · mask (+ shift); dx = dy · mask. The mask holds 0 or 1/(1-p) for dropout, the
    random slopes for rrelu; alpha dropout adds a constant ``shift``. Saved: mask."""
    @staticmethod
    def forward(ctx, x, mask, shift=None):
        ctx.mask = mask
        y = _scale_planes(x, mask)
        return y if shift is None else y + shift

    @staticmethod
    def backward(ctx, gy):
        mask = ctx.mask
        gx = _scale_planes(gy, mask)
        return gx, None, None


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


def _warn_rank(ndim, spatial):
    """PyTorch's deprecation warning for dropout2d/dropout3d on an input of another rank."""
    name = f"dropout{spatial}d"
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and "
                  f"will result in an error in a future release. To retain the behavior "
                  f"and silence this warning, please use dropout instead. Note that {name} "
                  f"exists to provide channel-wise dropout on inputs with {spatial} spatial "
                  f"dimensions, a channel dimension, and an optional batch dimension (i.e. "
                  f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


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
    return MaskMul.apply(x, _dropout_mask(x.shape, p, x.dtype, x.data), None)


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
        _warn_rank(x.ndim, 2)
    if not training or p == 0 or x.data.size == 0:
        return x
    check_float(x, "dropout2d")
    if x.ndim < 2 and p < 1:
        raise ValueError(f"dropout2d: feature dropout requires at least 2 dimensions "
                         f"(N, C, ...), got shape {list(x.shape)}: use F.dropout instead")
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)      # (N, C, 1, 1)
    return MaskMul.apply(x, _dropout_mask(mask_shape, p, x.dtype, x.data), None)


def _feature_noise(x, p, name, alpha=False):
    """Dropout of x (N, C, *) with one Bernoulli draw per (sample, channel): the mask is
    (N, C, 1, ..., 1). ``alpha`` gives alpha dropout's affine noise instead (below).
    p = 1 zeroes any input, as in PyTorch (whose rank check comes after that shortcut)."""
    if p == 1:
        return _zeroed(x)
    if x.ndim < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {list(x.shape)}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2)            # (N, C, 1, ..., 1)
    return _alpha_noise(x, p, shape) if alpha else \
        MaskMul.apply(x, _dropout_mask(shape, p, x.dtype, x.data), None)


def _unbatched_feature_dropout(input, p, training, name, batched_ndim):
    """dropout1d/dropout3d: an input of ``batched_ndim`` dims is (N, C, *), anything else
    is treated as one unbatched sample (C, *), as in PyTorch."""
    _check_p(p, name)
    x = as_tensor_arg(input)
    if not training or p == 0 or x.data.size == 0:
        return x
    check_float(x, name)
    if x.ndim == batched_ndim:
        return _feature_noise(x, p, name)
    return _feature_noise(x.unsqueeze(0), p, name).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p``, scaling the rest
    by 1/(1-p); identity when not ``training``.

    Shape: (N, C, L) or (C, L) -> same shape; the mask is (N, C, 1).

    Example::

        y = F.dropout1d(mc.ones(2, 8, 5), p=0.25)     # each row y[n, c] all 0 or all 4/3
    """
    x = as_tensor_arg(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched_feature_dropout(x, p, training, "dropout1d", 3)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p``,
    scaling the rest by 1/(1-p). Other ranks warn as in PyTorch and are treated as one
    unbatched sample whose channels are dim 0.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape; the mask is (N, C, 1, 1, 1).

    Example::

        y = F.dropout3d(mc.ones(2, 4, 3, 3, 3), p=0.5)
    """
    x = as_tensor_arg(input)
    if x.ndim not in (4, 5):
        _warn_rank(x.ndim, 3)
    return _unbatched_feature_dropout(x, p, training, "dropout3d", 5)


def _zeroed(x):
    """x · 0 (PyTorch's result for p = 1, alpha dropout included), gradient 0."""
    return MaskMul.apply(x, get_array_module(x.data).zeros((), x.dtype), None)


_SELU_SAT = 1.7580993408473766         # -selu(-inf) = scale·alpha: where SELU saturates


def _alpha_noise(x, p, shape):
    """Alpha dropout (Klambauer et al. 2017): dropped values are set to SELU's saturation
    -α' (α' = scale·alpha), and the result is mapped by a·y + b so that zero mean and unit
    variance survive: a = 1/√((α'²p + 1)(1 - p)), b = a·α'·p. Kept: a·x + a·α'·p;
    dropped: a·α'·(p - 1). dy/dx = a where kept, 0 where dropped."""
    if p == 1:
        return _zeroed(x)
    keep = _dropout_mask(shape, p, x.dtype, x.data) * x.dtype.type(1 - p)   # 0 or 1
    a = 1.0 / math.sqrt((_SELU_SAT ** 2 * p + 1) * (1 - p))
    shift = (keep - 1 + x.dtype.type(p)) * x.dtype.type(_SELU_SAT * a)
    return MaskMul.apply(x, keep * x.dtype.type(a), shift)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for self-normalising (SELU) networks: each element is dropped with
    probability ``p`` to SELU's negative saturation, then the output is rescaled so its
    mean and variance match the input's. Identity when not ``training`` (False by default,
    as in PyTorch).

    Shape: output has the input's shape.

    Example::

        y = F.alpha_dropout(mc.randn(100), p=0.2, training=True)
    """
    _check_p(p, "alpha_dropout")
    x = as_tensor_arg(input)
    if not training or p == 0 or x.data.size == 0:
        return x
    check_float(x, "alpha_dropout")
    return _alpha_noise(x, p, x.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: one draw per (N, C), as ``alpha_dropout`` otherwise.

    Shape: (N, C, *) -> same shape (at least 2 dimensions).

    Example::

        y = F.feature_alpha_dropout(mc.randn(2, 8, 4, 4), p=0.2, training=True)
    """
    _check_p(p, "feature_alpha_dropout")
    x = as_tensor_arg(input)
    if not training or p == 0 or x.data.size == 0:
        return x
    check_float(x, "feature_alpha_dropout")
    return _feature_noise(x, p, "feature_alpha_dropout", alpha=True)


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
            ones = xp.ones(flat.shape, gy.dtype)
            counts = scatter_add(xp, xp.zeros(ctx.w_shape[0], gy.dtype), flat, ones)  # (V,)
            gw /= xp.maximum(counts, 1)[:, None]   # unused rows: 0 / 1
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
    _check_indices(idx, n, "embedding")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows_(weight, idx.data, max_norm, norm_type)
    idx_data = idx.data
    xp = get_array_module(weight.data)
    if xp is not np and type(idx_data) is np.ndarray:
        idx_data = xp.asarray(idx_data)         # indices follow the table's device
    return Embedding.apply(weight, idx_data, padding_idx, bool(scale_grad_by_freq))


def _check_indices(idx, n, name):
    """IndexError unless every index lies in [0, n) (reads the indices: a host sync)."""
    if idx.data.size and (idx.data.min() < 0 or idx.data.max() >= n):
        bad = idx.data[(idx.data < 0) | (idx.data >= n)].reshape(-1)[0]
        raise IndexError(f"{name}: index {bad} is out of range: indices must lie in "
                         f"[0, {n - 1}] for a table of num_embeddings={n} rows")


def _renorm_rows_(weight, idx, max_norm, norm_type):
    """Scale the rows of ``weight`` that ``idx`` looks up to norm <= max_norm, in place
    (PyTorch's ``embedding_renorm_``; not recorded by autograd)."""
    rows = get_array_module(idx).unique(idx)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1, keepdims=True)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    weight.data[rows] *= scale.astype(weight.dtype)
    weight._vc[0] += 1


# ----------------------------------------------------------------------------- embedding bag

class EmbeddingBag(Function):
    """Bags in the flat layout: entry n looks up table row ``idx[n]`` for bag ``bag[n]``
    (non-decreasing: each bag is a run of entries); ``coef`` (N,) weighs each entry (0 at
    padding_idx; the per-sample weight; 1/bag size for 'mean'); ``keep`` (N,) marks the
    entries that count (not padding_idx). ``segs``: (starts, a host array; ids) of the bags
    holding entries, and the number of bags B.

    sum/mean: y[b] = Σ_{n in b} coef[n]·W[idx[n]]; dW[idx[n]] += coef[n]·dy[bag[n]];
              dcoef[n] = <dy[bag[n]], W[idx[n]]>.
    max:      y[b, d] = max over the bag's kept entries of W[idx[n], d] (0 for an empty bag);
              dW goes to the first maximum.
    With ``scale_grad_by_freq`` dW[i] is divided by the number of kept entries holding i.
    Saved: W, coef (sum/mean); the table row of each maximum (max).
    """
    @staticmethod
    def forward(ctx, w, coef, idx, bag, keep, segs, mode, scale_grad_by_freq):
        xp = get_array_module(w)
        ctx.idx, ctx.bag, ctx.keep, ctx.mode = idx, bag, keep, mode
        ctx.freq, ctx.w_shape = scale_grad_by_freq, w.shape
        if mode != "max":
            ctx.save_for_backward(w, coef)
            y = xp.zeros((segs[2], w.shape[1]), w.dtype)                    # (B, D)
            return scatter_add(xp, y, bag, w[idx] * coef[:, None])
        y, ctx.src, ctx.found = _segment_max(xp, w, idx, bag, keep, segs)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        idx, (v, d) = ctx.idx, ctx.w_shape
        gw = gcoef = None
        if ctx.needs_input_grad[0]:
            gw = xp.zeros((v, d), gy.dtype)
            if ctx.mode == "max":
                flat = (ctx.src * d + xp.arange(d)).reshape(-1)         # into gw.ravel()
                scatter_add(xp, gw.reshape(-1), flat, xp.where(ctx.found, gy, 0).reshape(-1))
            else:
                _, coef = ctx.saved_tensors
                scatter_add(xp, gw, idx, coef[:, None] * gy[ctx.bag])  # (N, D) rows
            if ctx.freq:
                counts = scatter_add(xp, xp.zeros(v, gy.dtype), idx,
                                     ctx.keep.astype(gy.dtype))        # (V,)
                gw /= xp.maximum(counts, 1)[:, None]
        if ctx.needs_input_grad[1]:
            w, _ = ctx.saved_tensors
            gcoef = (w[idx] * gy[ctx.bag]).sum(axis=-1)                 # (N,)
        return gw, gcoef, None, None, None, None, None, None


def _segment_max(xp, w, idx, bag, keep, segs):
    """Max mode of embedding_bag: y (B, D), the table row of the first maximum of each
    (bag, d) and whether the bag has a kept entry there (a bag of padding only gives 0).
    Runs of entries are reduced with ``maximum.reduceat`` (``backend.reduceat``: NumPy's,
    or a kernel on the GPU); a NaN wins."""
    starts, ids, n_bags = segs
    n, d = idx.shape[0], w.shape[1]
    y = xp.zeros((n_bags, d), w.dtype)
    src = xp.zeros((n_bags, d), np.int64)
    found = xp.zeros((n_bags, d), bool)
    if starts.shape[0] == 0:                                    # every bag is empty
        return y, src, found
    vals = xp.where(keep[:, None], w[idx], -xp.inf)                           # (N, D)
    y[ids] = reduceat(xp, "maximum", vals, starts)                             # (K, D)
    at = ((vals == y[bag]) | xp.isnan(vals)) & keep[:, None]                  # maxima
    first = reduceat(xp, "minimum", xp.where(at, xp.arange(n)[:, None], n), starts)
    found[ids] = first < n
    src[ids] = idx[xp.minimum(first, n - 1)]
    return xp.where(found, y, 0).astype(w.dtype, copy=False), src, found


def _bags(idx, offsets, include_last_offset):
    """Where the bags of a 1-D input start and how many entries each holds (host arrays,
    (B,) each). Reads the offsets (a host sync) to validate them. The last bag runs to the
    end of the input, also with ``include_last_offset`` (see ``embedding_bag``)."""
    off = to_numpy(offsets.data).astype(np.int64)
    m = idx.shape[0]
    if off.size and off[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence "
                         f"in the mini-batch has to start from position 0. However, got "
                         f"{off[0]}")
    if off.size and off[-1] > m:
        raise ValueError(f"embedding_bag: offsets[-1] can not be greater than input's length "
                         f"{m} but got offsets[-1] of {off[-1]}")
    if np.any(np.diff(off) < 0):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing, got {off.tolist()}")
    starts = off[:-1] if include_last_offset else off
    ends = np.append(starts[1:], m)[:starts.size]
    return starts, ends - starts


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum, mean or max of the embedding rows of each bag of indices, computed on the flat
    (entries, D) lookup: bags are never padded to (bags, longest bag, D).

    Args:
        input: (B, L) integer tensor (B bags of length L), or 1-D with ``offsets``.
        offsets: 1-D integer tensor, where each bag starts in a 1-D input; with
            ``include_last_offset`` it has one more entry, the input's length: the last bag
            runs to the end of the input whatever that entry says (as PyTorch's float64,
            max-mode and padding_idx kernels; its float32 sum/mean kernel stops at it).
        mode: 'sum', 'mean' or 'max'. An empty bag gives zeros.
        per_sample_weights: input-shaped floating weights of the rows ('sum' only).
        padding_idx: entries equal to it are left out of their bag (and of its size).
        max_norm, norm_type: rows looked up are renormalised in place, as in ``embedding``.
        scale_grad_by_freq: divide dW[i] by how often i occurs in the bags (minicv counts
            occurrences; PyTorch 2.13 gives other factors). sparse: accepted, dense gradient.

    Shape: (B, L) or (N,) with B offsets -> (B, embedding_dim).

    Example::

        y = F.embedding_bag(mc.tensor([1, 2, 4, 3]), mc.randn(5, 3), mc.tensor([0, 2]))
    """
    idx, w = as_tensor_arg(input), as_tensor_arg(weight)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got "
                         f"{mode!r}")
    for name, t in (("input", idx), ("offsets", offsets)):
        if t is not None and as_tensor_arg(t).dtype.kind not in "iu":
            raise TypeError(f"embedding_bag: {name} must be an integer tensor (int64 or "
                            f"int32), got {as_tensor_arg(t).dtype}: convert with .long()")
    if idx.ndim == 2 and offsets is not None:
        raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                         "input is treated is a mini-batch of fixed length sequences")
    if idx.ndim == 1 and (offsets is None or as_tensor_arg(offsets).ndim != 1):
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor with a 1-D input")
    if idx.ndim not in (1, 2):
        raise ValueError(f"embedding_bag: input has to be 1D or 2D, got shape "
                         f"{list(idx.shape)}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}')")
        if tuple(per_sample_weights.shape) != idx.shape:
            raise ValueError(f"embedding_bag: If per_sample_weights "
                             f"({list(per_sample_weights.shape)}) is not None, then it must "
                             f"have the same shape as the input ({list(idx.shape)})")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    v = w.shape[0]
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ValueError(f"padding_idx must be within the number of embeddings, {-v} "
                             f"through {v - 1}, but got {padding_idx}")
        padding_idx %= v
    _check_indices(idx, v, "embedding_bag")
    if max_norm is not None:
        _renorm_rows_(w, idx.data, max_norm, norm_type)
    xp = get_array_module(w.data)
    if idx.ndim == 2:                                           # B bags of length L
        starts, lengths = np.arange(idx.shape[0]) * idx.shape[1], np.full(idx.shape[0],
                                                                          idx.shape[1])
    else:
        starts, lengths = _bags(idx, as_tensor_arg(offsets), include_last_offset)
    n = int(lengths.sum())                      # (host) N, short of len(input) only if B = 0
    flat = xp.asarray(idx.data).reshape(-1)[:n]                 # (N,) on the table's device
    bag = xp.asarray(np.repeat(np.arange(lengths.size), lengths))   # (N,) bag of each entry
    keep = flat != padding_idx if padding_idx is not None else xp.ones(n, bool)
    coef = keep.astype(w.dtype)                                 # (N,)
    if mode == "mean":
        sizes = scatter_add(xp, xp.zeros(lengths.size, w.dtype), bag, coef)   # (B,)
        coef = coef / xp.maximum(sizes, 1)[bag]
    if per_sample_weights is not None:
        coef = as_tensor_arg(per_sample_weights).reshape(-1)[:n] * Tensor(coef)
    full = lengths > 0
    segs = (starts[full], xp.asarray(np.flatnonzero(full)), lengths.size)  # starts: host
    return EmbeddingBag.apply(w, coef, flat, bag, keep, segs, mode, bool(scale_grad_by_freq))


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
        if not labels.size:
            raise ValueError("one_hot: Can not infer total number of classes from empty "
                             "tensor: give num_classes")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes - 1}] for "
                         f"num_classes={num_classes}; got values in [{labels.min()}, "
                         f"{labels.max()}]")
    xp = get_array_module(labels)
    out = xp.zeros(labels.shape + (num_classes,), np.int64)
    put_along_axis(xp, out, labels[..., None].astype(np.int64), 1, -1)
    return Tensor(out)
