"""Loss functions with PyTorch's names, arguments and reductions ('none' | 'mean' | 'sum').

Cross-entropy is one fused node: log-softmax is computed stably (log p = z - m -
log Σ exp(z - m), reference.md §9) and every variant (class weights, ignore_index, label
smoothing, probability targets) is expressed as a coefficient array ``a`` of the input's
shape, so that the per-position loss is always

    loss = -Σ_c a_c · log p_c,      d loss / dz = (Σ_c a_c) · softmax(z) - a.

Class-index targets give a = (1 - ls)·w[y]·onehot(y) + (ls/C)·w (zero rows where the target
equals ignore_index); probability targets give a = w·((1 - ls)·t + ls/C). With
reduction='mean' the class-index sum is divided by Σ w[y] over the kept positions (the
number of kept positions when weight is None), probability targets by the number of
positions, exactly as PyTorch does.

The pointwise regression losses (mse, l1, smooth_l1, huber) share one node that
returns the loss and its derivative in d = input - target; the margin losses are composed
from differentiable ops.
"""
import math
import warnings

import numpy as np

from ..autograd import Function
from ..backend import device_of, get_array_module, put_along_axis
from ..tensor import Tensor, _fits, as_tensor_arg
from . import elementwise as E
from .elementwise import _sign
from . import reduce as R
from .nn_basic import check_float

_REDUCTIONS = ("none", "mean", "sum")


class TargetOutOfRangeError(IndexError, ValueError):
    """A class label outside [0, C-1] that is not ignore_index (an IndexError as in PyTorch,
    and a ValueError because it is bad input)."""


def legacy_reduction(size_average, reduce, reduction):
    """Map PyTorch's deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    return reduction


def _check_reduction(reduction, name, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS + tuple(extra)}, "
                         f"got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _arr(x):
    """The array behind a tensor; other array-likes (lists, NumPy or CuPy arrays) as they
    are, lists converted by NumPy."""
    if x is None or isinstance(x, Tensor):
        return None if x is None else x.data
    return x if hasattr(x, "shape") else np.asarray(x)


def _check_device(x, other, name, arg):
    """``other`` (a target, weight...) must be on the input's device, as in PyTorch."""
    if not isinstance(other, Tensor) or other.ndim == 0 or \
            type(other.data) is np.ndarray and type(x.data) is np.ndarray:
        return
    if device_of(other.data) != device_of(x.data):
        raise RuntimeError(f"{name}: Expected all tensors to be on the same device, but "
                           f"input is on {device_of(x.data)} and {arg} on "
                           f"{device_of(other.data)}; move it with .to(input.device)")


def _promote(x, t):
    """Input and target in one dtype: a floating target of another precision promotes both
    (float32 input, float64 target -> float64, as PyTorch); any other target takes the
    input's dtype."""
    if t.dtype == x.dtype:
        return x, t
    if t.dtype.kind == "f":
        dt = np.result_type(x.dtype, t.dtype)
        return (x if x.dtype == dt else x.to(dt)), (t if t.dtype == dt else t.to(dt))
    return x, t.to(x.dtype)


# ----------------------------------------------------------------------------- cross entropy

class CrossEntropy(Function):
    """loss = -Σ_c a_c log_softmax(z)_c over ``dim``; dz = (Σ a)·softmax - a, da = -log p.

    With ``scale`` the node returns scale·Σ loss (a scalar) instead of the per-position loss;
    backward scales by ``grad_scale`` (default: ``scale``). With ``sparse`` (class-index
    targets) only the classes with a_c ≠ 0 enter the sum, so a -inf logit elsewhere (a
    masked class) or a NaN row that is ignored does not turn the loss into NaN, as in
    PyTorch, which picks out the target's entry. Saved: log p and a.

    ``mask`` (see :func:`_coefficient_mask`) is given where the scale may be infinite
    ('mean' over class weights that sum to 0): backward then follows PyTorch's order,
    G = -g·a on the masked entries (0 elsewhere), dz = G - softmax·Σ G, so that only rows
    with a kept target turn NaN/inf.
    """
    @staticmethod
    def forward(ctx, z, a, dim=1, scale=None, grad_scale=None, sparse=False, mask=None):
        shifted = z - z.max(axis=dim, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        loss = -(a * (np.where(a != 0, logp, 0) if sparse else logp)).sum(axis=dim)
        ctx.save_for_backward(logp, a)
        ctx.dim, ctx.scale = dim, scale if grad_scale is None else grad_scale
        ctx.mask = mask
        if scale is not None:
            with np.errstate(invalid="ignore"):          # 0·inf = NaN, silently as PyTorch
                return get_array_module(z).asarray(loss.sum() * scale, dtype=z.dtype)
        return loss.astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        logp, a = ctx.saved_tensors
        dim = ctx.dim
        g = g * ctx.scale if ctx.scale is not None else np.expand_dims(g, dim)
        gz = ga = None
        if ctx.needs_input_grad[0] and ctx.mask is not None:
            gnll = _masked_product(-g, a, ctx.mask)
            with np.errstate(invalid="ignore"):              # inf - inf, silently
                gz = gnll - np.exp(logp) * gnll.sum(axis=dim, keepdims=True)
        elif ctx.needs_input_grad[0]:
            gz = g * (a.sum(axis=dim, keepdims=True) * np.exp(logp) - a)
        if ctx.needs_input_grad[1]:
            ga = -g * logp
        return gz, ga


class WeightedNLL(Function):
    """loss = -Σ_c a_c x_c over ``dim`` (x are log-probabilities); dx = -a. Saved: a.
    ``scale``/``grad_scale`` as in :class:`CrossEntropy`; only classes with a_c ≠ 0 are
    summed (a -inf log-probability of another class gives a finite loss). With ``mask``
    (an infinite 'mean' scale is possible) the gradient is -g·a on the masked entries only,
    so that it is NaN/inf at the kept targets and 0 elsewhere, as in PyTorch."""
    @staticmethod
    def forward(ctx, x, a, dim=1, scale=None, grad_scale=None, mask=None):
        ctx.a, ctx.dim, ctx.mask = a, dim, mask
        ctx.scale = scale if grad_scale is None else grad_scale
        loss = -(a * np.where(a != 0, x, 0)).sum(axis=dim)
        if scale is not None:
            with np.errstate(invalid="ignore"):          # 0·inf = NaN, silently as PyTorch
                return get_array_module(x).asarray(loss.sum() * scale, dtype=x.dtype)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        g = g * ctx.scale if ctx.scale is not None else np.expand_dims(g, ctx.dim)
        if ctx.mask is not None:
            return _masked_product(-g, ctx.a, ctx.mask), None
        return -g * ctx.a, None


def _masked_product(g, a, mask):
    """g·a where ``mask`` holds and 0 elsewhere; 0·inf gives NaN only on the mask."""
    xp = get_array_module(a)
    with np.errstate(invalid="ignore"):
        return xp.where(mask, g * a, xp.zeros((), a.dtype))


def _class_coefficients(x, target, weight, ignore_index, label_smoothing, name):
    """The coefficient array ``a`` (x's shape), the 'mean' divisor for class targets and
    whether any position is kept (not ignore_index)."""
    xp = get_array_module(x.data)
    t = _class_target(x, target)
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    expected = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if t.shape != expected:
        raise ValueError(f"{name}: expected target of shape {list(expected)} (input shape "
                         f"{list(x.shape)} with classes on dim {1 if x.ndim >= 2 else 0}), "
                         f"got {list(t.shape)}")
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= c))
    if bad.any():
        v = int(t[bad].reshape(-1)[0])
        raise TargetOutOfRangeError(
            f"{name}: Target {v} is out of bounds: class labels must lie in [0, {c - 1}] for "
            f"an input with C={c} classes, or equal ignore_index={ignore_index} to be "
            f"skipped. (Segmentation masks stored as 0-255? Map the void label to "
            f"ignore_index, e.g. ignore_index=255.)")
    dt = x.dtype
    w = xp.ones(c, dt) if weight is None else _arr(weight).astype(dt, copy=False)
    safe = xp.where(keep, t, 0).astype(np.int64)
    cdim = 1 if x.ndim >= 2 else 0
    wy = xp.where(keep, w[safe], 0).astype(dt)                  # target's shape
    a = put_along_axis(xp, xp.zeros(x.shape, dt), xp.expand_dims(safe, cdim),
                       xp.expand_dims(wy, cdim), cdim)
    if label_smoothing > 0:
        a *= 1 - label_smoothing
        bshape = [1] * x.ndim
        bshape[cdim] = c
        smooth = (label_smoothing / c) * w.reshape(bshape) * np.expand_dims(keep, cdim)
        a += smooth.astype(dt, copy=False)
    total, any_kept = wy.sum(), keep.any()      # on a GPU they stay there: no sync
    if xp is np:
        return a, float(total), bool(any_kept)
    return a, total, any_kept


def _class_target(x, target):
    """The class-index target as an array on x's device (a list or array moves there). A
    one-element 1-D target of a (C,) input is read as the 0-d target, as PyTorch does."""
    xp = get_array_module(x.data)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    t = xp.asarray(t) if xp is not np else t
    return t.reshape(()) if x.ndim == 1 and t.shape == (1,) else t


def _coefficient_mask(x, target, weight, ignore_index, label_smoothing, reduction, total):
    """Where the coefficients ``a`` of :func:`_class_coefficients` may be non-zero: the
    target entry of each kept position (every class of it with label smoothing). Needed
    only when the 'mean' scale 1/Σ w[y] is infinite (class weights summing to 0), so
    None otherwise. On a GPU, where reading ``total`` would synchronise, never: there such
    a degenerate loss has NaN/inf in every entry of the gradient, not only at the targets.
    """
    if reduction != "mean" or weight is None or not isinstance(total, float) or total != 0:
        return None
    xp = get_array_module(x.data)
    t = _class_target(x, target)
    cdim = 1 if x.ndim >= 2 else 0
    keep = xp.expand_dims(t != ignore_index, cdim)
    if label_smoothing > 0:
        return xp.broadcast_to(keep, x.shape)
    safe = xp.expand_dims(xp.where(t != ignore_index, t, 0).astype(np.int64), cdim)
    return put_along_axis(xp, xp.zeros(x.shape, bool), safe, keep, cdim)


def _scales(reduction, total, any_kept):
    """(forward, backward) factors of the summed loss: 'mean' divides by ``total``.

    As in PyTorch: when every target is ignored the loss is NaN and the gradient zero;
    when class weights of kept targets sum to 0 both are divided by 0 (inf/NaN). On a GPU
    ``total`` and ``any_kept`` are device scalars and so are the factors (no sync).
    """
    if reduction != "mean":
        scale = 1.0 if reduction == "sum" else None
        return scale, scale
    if isinstance(total, float):
        if not any_kept:
            return math.nan, 0.0
        inverse = 1.0 / total if total else math.copysign(math.inf, total)
        return inverse, inverse
    xp = get_array_module(total)
    with np.errstate(divide="ignore"):      # (for the CPU emulator of CuPy: CuPy is silent)
        inverse = 1.0 / total
    return xp.where(any_kept, inverse, math.nan), xp.where(any_kept, inverse, 0.0)


def _check_common(x, weight, reduction, name, target=None):
    check_float(x, name)
    _check_reduction(reduction, name)
    _check_device(x, weight, name, "weight")
    _check_device(x, target, name, "target")
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    if weight is not None and tuple(weight.shape) != (c,):
        raise ValueError(f"{name}: weight must have one value per class, shape [{c}], got "
                         f"{list(weight.shape)}")
    return c


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class labels or class probabilities.

    Computes log_softmax over the class dimension and the negative log-likelihood in one
    stable node. ``input`` holds raw scores (logits), not probabilities.

    Args:
        input: logits (N, C), (C,) or (N, C, d1, d2, ...) (e.g. segmentation).
        target: int64 labels (N), () or (N, d1, ...) in [0, C-1] (or ignore_index), or
            floating class probabilities with the input's shape.
        weight: (C,) rescaling of each class. ignore_index: label that contributes nothing.
        reduction: 'none' (per position) | 'mean' | 'sum'.
        label_smoothing: ε in [0, 1]: the target becomes (1 - ε)·onehot + ε/C.

    Shape: 'none' gives the target's shape (class targets) or the input without dim 1.

    Example::

        loss = F.cross_entropy(mc.randn(4, 10, requires_grad=True), mc.tensor([1, 0, 9, 3]))
        loss.backward()
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    x = as_tensor_arg(input)
    c = _check_common(x, weight, reduction, "cross_entropy", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    cdim = 1 if x.ndim >= 2 else 0
    t = as_tensor_arg(target)
    if t.dtype.kind == "f":                                      # class probabilities
        if t.shape != x.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's "
                             f"shape {list(x.shape)}, got {list(t.shape)} (for class "
                             f"labels pass an integer tensor)")
        if ignore_index >= 0:
            raise ValueError(f"cross_entropy: ignore_index is not supported for floating "
                             f"point (probability) targets, got ignore_index={ignore_index}; "
                             f"give the positions to skip a zero target row instead")
        x, t = _promote(x, t)
        a = t
        if label_smoothing > 0:
            a = E.add(E.mul(a, 1 - label_smoothing), label_smoothing / c)
        if weight is not None:
            bshape = [1] * x.ndim
            bshape[cdim] = c
            a = E.mul(a, as_tensor_arg(weight).reshape(bshape))
        a = a if a.requires_grad else a.data.astype(x.dtype, copy=False)
        rows = x.data.size // c
        scale = {"mean": 1.0 / rows if rows else math.nan, "sum": 1.0, "none": None}
        return CrossEntropy.apply(x, a, dim=cdim, scale=scale[reduction])
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold int64 class labels or floating "
                        f"probabilities, got dtype {t.dtype}")
    a, total, any_kept = _class_coefficients(x, t, weight, ignore_index, label_smoothing,
                                             "cross_entropy")
    scale, grad_scale = _scales(reduction, total, any_kept)
    mask = _coefficient_mask(x, t, weight, ignore_index, label_smoothing, reduction, total)
    return CrossEntropy.apply(x, a, dim=cdim, scale=scale, grad_scale=grad_scale,
                              sparse=True, mask=mask)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class labels given log-probabilities (log_softmax output).

    loss_n = -weight[y_n] · input[n, y_n]; 'mean' divides by Σ weight[y_n] over kept n.

    Args:
        input: log-probabilities (N, C), (C,) or (N, C, d1, ...).
        target: int64 labels in [0, C-1] or ignore_index, shape (N), () or (N, d1, ...).

    Shape: 'none' gives the target's shape.

    Example::

        loss = F.nll_loss(F.log_softmax(mc.randn(3, 5), dim=1), mc.tensor([1, 0, 4]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    x = as_tensor_arg(input)
    _check_common(x, weight, reduction, "nll_loss", target)
    t = as_tensor_arg(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold int64 class labels, got dtype {t.dtype}")
    a, total, any_kept = _class_coefficients(x, t, weight, ignore_index, 0.0, "nll_loss")
    scale, grad_scale = _scales(reduction, total, any_kept)
    mask = _coefficient_mask(x, t, weight, ignore_index, 0.0, reduction, total)
    return WeightedNLL.apply(x, a, dim=1 if x.ndim >= 2 else 0, scale=scale,
                             grad_scale=grad_scale, mask=mask)


# ----------------------------------------------------------------------------- binary

class BCE(Function):
    """loss = -(t·log x + (1-t)·log(1-x)), logs clamped at -100 as in PyTorch.

    dx = (x - t) / max(x(1-x), 1e-12), dt = log(1-x) - log x (unclamped, as PyTorch: inf
    at x = 0 or 1). Saved: x, t.
    """
    @staticmethod
    def forward(ctx, x, t):
        with np.errstate(divide="ignore"):          # log 0 = -inf, then clamped
            logx = np.maximum(np.log(x), -100)
            log1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return -(t * logx + (1 - t) * log1mx)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = g * (x - t) / np.maximum(x * (1 - x), 1e-12) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gt = g * (np.log1p(-x) - np.log(x))
        return gx, gt


def _same_size(x, t, name):
    if t.shape != x.shape:
        raise ValueError(f"{name}: Using a target size ({list(t.shape)}) that is different "
                         f"to the input size ({list(x.shape)}) is not supported; give them "
                         f"the same shape (e.g. target.float().unsqueeze(1) for (N, 1) "
                         f"logits)")


def _check_broadcast_to(x, w, name, arg):
    """``w`` must broadcast to the input's shape without enlarging it (PyTorch raises)."""
    if w is None:
        return
    shape = tuple(w.shape) if hasattr(w, "shape") else np.shape(w)
    if not _fits(shape, tuple(x.shape)):
        raise ValueError(f"{name}: {arg} of shape {list(shape)} does not broadcast to the "
                         f"input shape {list(x.shape)}; give one value per element, or per "
                         f"class along the last dim")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` in [0, 1] and ``target``.

    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is stable.

    Args:
        input: probabilities (any shape). target: same shape, values in [0, 1].
        weight: rescaling broadcast to the input's shape.

    Shape: 'none' gives the input's shape.

    Example::

        loss = F.binary_cross_entropy(mc.tensor([0.9, 0.2]), mc.tensor([1.0, 0.0]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    check_float(x, "binary_cross_entropy")
    _check_reduction(reduction, "binary_cross_entropy")
    _same_size(x, t, "binary_cross_entropy")
    if x.data.size and (x.data.min() < 0 or x.data.max() > 1 or np.isnan(x.data).any()):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 "
                         "and 1 (they are probabilities); for raw scores use "
                         "binary_cross_entropy_with_logits")
    if t.data.size and (t.data.min() < 0 or t.data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 "
                         "and 1 (a probability or a 0/1 label per element)")
    _check_broadcast_to(x, weight, "binary_cross_entropy", "weight")
    t = t if t.dtype == x.dtype else t.to(x.dtype)
    loss = BCE.apply(x, t)
    if weight is not None:
        loss = E.mul(loss, weight)
    return _reduce(loss, reduction)


class BCEWithLogits(Function):
    """loss = (1-t)·x + l·softplus(-x) with l = (pw-1)·t + 1 (l = 1 without pos_weight).

    dx = (1-t) - l·sigmoid(-x), dt = -x + (pw-1)·softplus(-x). Saved: x, t.
    """
    @staticmethod
    def forward(ctx, x, t, pos_weight=None):
        sp = np.logaddexp(0, -x)                            # softplus(-x), stable
        lw = 1 if pos_weight is None else (pos_weight - 1) * t + 1
        ctx.save_for_backward(x, t)
        ctx.sp, ctx.pw = sp, pos_weight
        return ((1 - t) * x + lw * sp).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        pw = ctx.pw
        gx = gt = None
        if ctx.needs_input_grad[0]:
            lw = 1 if pw is None else (pw - 1) * t + 1
            sig_neg = 0.5 * (1 - np.tanh(0.5 * x))           # sigmoid(-x), stable
            gx = g * ((1 - t) - lw * sig_neg)
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else -x + (pw - 1) * ctx.sp)
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable node, on raw scores (logits).

    Args:
        input: logits (any shape). target: same shape, values in [0, 1].
        weight: rescaling broadcast to the input's shape.
        pos_weight: weight of positive examples, broadcast along the last (class) dim,
            e.g. n_negative / n_positive per class.

    Shape: 'none' gives the input's shape.

    Example::

        loss = F.binary_cross_entropy_with_logits(mc.randn(4, 3), mc.rand(4, 3))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    check_float(x, "binary_cross_entropy_with_logits")
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _same_size(x, t, "binary_cross_entropy_with_logits")
    x, t = _promote(x, t)
    _check_broadcast_to(x, weight, "binary_cross_entropy_with_logits", "weight")
    _check_broadcast_to(x, pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    _check_device(x, pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    pw = None if pos_weight is None else _arr(pos_weight).astype(x.dtype, copy=False)
    loss = BCEWithLogits.apply(x, t, pos_weight=pw)
    if weight is not None:
        loss = E.mul(loss, weight)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- regression

def _pointwise(d, kind, param):
    """Loss and its derivative in d = input - target, elementwise."""
    ad = np.abs(d)
    if kind == "mse":
        return d * d, 2 * d
    if kind == "l1":
        return ad, _sign(d)                     # 0 where d is NaN (inf - inf), as PyTorch
    if kind == "smooth_l1":          # 0.5 d²/β if |d| < β else |d| - β/2
        if param == 0:
            return ad, _sign(d)
        small = ad < param
        return (np.where(small, 0.5 * d * d / param, ad - 0.5 * param),
                np.where(small, d / param, np.sign(d)))
    small = ad < param               # huber: 0.5 d² if |d| < δ else δ(|d| - δ/2)
    return (np.where(small, 0.5 * d * d, param * (ad - 0.5 * param)),
            np.where(small, d, param * np.sign(d)))


class PointwiseLoss(Function):
    """ℓ(x - t) for mse, l1, smooth_l1 and huber; dx = ℓ'(d), dt = -ℓ'(d).

    With ``scale`` returns scale·Σ ℓ (mean or sum) as one scalar. Saved: ℓ'(d).
    """
    @staticmethod
    def forward(ctx, x, t, kind="mse", param=None, scale=None):
        with np.errstate(invalid="ignore"):     # inf - inf is NaN, silently as in PyTorch
            loss, dl = _pointwise(x - t, kind, param)
        ctx.dl, ctx.scale = dl, scale
        if scale is not None:
            return get_array_module(x).asarray(loss.sum() * scale, dtype=x.dtype)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        gd = ctx.dl * (g * ctx.scale if ctx.scale is not None else g)
        return (gd if ctx.needs_input_grad[0] else None,
                -gd if ctx.needs_input_grad[1] else None)


def _regression(input, target, reduction, kind, param, name, weight=None):
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    if x.dtype.kind != "f" and t.dtype.kind == "f":
        x = x.to(t.dtype)
    check_float(x, name)
    _check_reduction(reduction, name)
    if kind == "huber":                     # PyTorch keeps huber_loss in the input's dtype
        t = t if t.dtype == x.dtype else t.to(x.dtype)
    else:
        x, t = _promote(x, t)
    if t.shape != x.shape:
        try:
            shape = np.broadcast_shapes(x.shape, t.shape)
        except ValueError:
            raise ValueError(f"{name}: input of shape {list(x.shape)} and target of shape "
                             f"{list(t.shape)} do not broadcast") from None
        warnings.warn(f"{name}: using a target size ({list(t.shape)}) that is different to "
                      f"the input size ({list(x.shape)}); they are broadcast to "
                      f"{list(shape)}, which is likely not what you want", stacklevel=3)
    else:
        shape = x.shape
    if weight is not None:
        return _weighted_regression(x, t, reduction, kind, param, name, weight)
    n = math.prod(shape)
    scale = {"mean": 1.0 / n if n else math.nan, "sum": 1.0, "none": None}[reduction]
    return PointwiseLoss.apply(x, t, kind=kind, param=param, scale=scale)


def _weighted_regression(x, t, reduction, kind, param, name, weight):
    """PyTorch's elementwise ``weight`` (input's shape): ℓ·w, and 'mean' divides by Σw for
    mse and l1 but by the element count for huber (as torch.nn.functional does)."""
    w = as_tensor_arg(weight)
    if w.shape != x.shape:
        raise ValueError(f"{name}: weight of shape {list(w.shape)} must have the input's "
                         f"shape {list(x.shape)}")
    loss = E.mul(PointwiseLoss.apply(x, t, kind=kind, param=param, scale=None), w)
    if reduction == "mean" and kind != "huber":
        return E.div(R.sum(loss), R.sum(w))
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - y)², optionally weighted elementwise by ``weight``
    ('mean' then divides by Σ weight).

    Shape: input and target of the same shape; 'none' keeps it.

    Example::

        loss = F.mse_loss(mc.randn(4, 2), mc.zeros(4, 2))
    """
    return _regression(input, target, legacy_reduction(size_average, reduce, reduction),
                       "mse", None, "mse_loss", weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y| (gradient sign(x - y), 0 at 0), optionally weighted
    elementwise ('mean' then divides by Σ weight).

    Example::

        loss = F.l1_loss(mc.randn(4, 2), mc.zeros(4, 2))
    """
    return _regression(input, target, legacy_reduction(size_average, reduce, reduction),
                       "l1", None, "l1_loss", weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """0.5·d²/β where |d| < β, else |d| - β/2 (d = x - y); β = 0 gives l1_loss.

    Example::

        loss = F.smooth_l1_loss(mc.randn(4, 4), mc.zeros(4, 4), beta=0.5)
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _regression(input, target, legacy_reduction(size_average, reduce, reduction),
                       "smooth_l1", float(beta), "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5·d² where |d| < δ, else δ·(|d| - δ/2): smooth_l1 times δ (d = x - y).

    An elementwise ``weight`` multiplies the loss ('mean' still divides by the element
    count, unlike mse_loss and l1_loss: PyTorch's choice).

    Example::

        loss = F.huber_loss(mc.randn(4, 4), mc.zeros(4, 4), delta=2.0)
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _regression(input, target, reduction, "huber", float(delta), "huber_loss",
                       weight)


# ----------------------------------------------------------------------------- KL divergence

class KLDiv(Function):
    """Pointwise KL: t·(log t - x), or exp(t)·(t - x) with log_target; x = log q.

    dx = -t (or -exp t); dt = log t + 1 - x (or exp(t)·(t - x + 1)). Saved: x, t.
    """
    @staticmethod
    def forward(ctx, x, t, log_target=False):
        ctx.save_for_backward(x, t)
        ctx.log_target = log_target
        if log_target:
            return np.exp(t) * (t - x)
        with np.errstate(invalid="ignore"):     # t log t: 0 at t = 0, NaN for t < 0
            tlogt = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t)))
        return tlogt.astype(x.dtype, copy=False) - t * x

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.log_target:
            et = np.exp(t)
            gx = -g * et if ctx.needs_input_grad[0] else None
            gt = g * et * (t - x + 1) if ctx.needs_input_grad[1] else None
        else:
            gx = -g * t if ctx.needs_input_grad[0] else None
            if ctx.needs_input_grad[1]:
                with np.errstate(invalid="ignore"):
                    logt = np.log(np.where(t == 0, 1, t))
                gt = g * np.where(t == 0, 0, logt + 1 - x)
        return gx, gt


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False):
    """Kullback-Leibler divergence KL(target ‖ q) with ``input = log q``.

    Args:
        input: log-probabilities (e.g. log_softmax output).
        target: probabilities, or log-probabilities with ``log_target=True``.
        reduction: 'batchmean' (sum / batch size: the true KL per sample), 'sum', 'none',
            or 'mean' (divides by the number of elements, as PyTorch does; rarely wanted).

    Example::

        loss = F.kl_div(F.log_softmax(mc.randn(2, 5), 1), F.softmax(mc.randn(2, 5), 1),
                        reduction="batchmean")
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", ("batchmean",))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch "
                      "size and the support size; 'batchmean' divides only by the batch "
                      "size and matches the KL divergence's definition", stacklevel=2)
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    check_float(x, "kl_div")
    x, t = _promote(x, t)
    loss = KLDiv.apply(x, t, log_target=log_target)
    if reduction == "batchmean":
        total = R.sum(loss)
        return E.div(total, x.shape[0]) if x.ndim else total
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- margin losses

def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None,
                          reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1; max(0, cos(x1, x2) - margin) where y = -1.

    Args:
        input1, input2: (N, D) or (D,). target: (N,) or () of 1 / -1.

    Example::

        loss = F.cosine_embedding_loss(mc.randn(3, 4), mc.randn(3, 4), mc.tensor([1, -1, 1]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cosine_embedding_loss")
    x1, x2, y = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(target)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        shape = None
    if shape is None or len(shape) not in (1, 2) or y.shape != shape[:-1]:
        raise ValueError(f"cosine_embedding_loss: expected inputs (N, D) or (D,) that "
                         f"broadcast together and target (N,) or (); got {list(x1.shape)}, "
                         f"{list(x2.shape)} and {list(y.shape)}")
    eps = 1e-12
    d = len(shape) - 1
    prod = R.sum(E.mul(x1, x2), dim=d)
    mag1 = E.add(R.sum(E.mul(x1, x1), dim=d), eps)
    mag2 = E.add(R.sum(E.mul(x2, x2), dim=d), eps)
    cos = E.div(prod, E.sqrt(E.mul(mag1, mag2)))
    zeros = cos.data.dtype.type(0)
    pos = E.where(E.eq(y, 1), E.sub(1, cos), zeros)
    neg = E.where(E.eq(y, -1), E.clamp(E.sub(cos, margin), min=0), zeros)
    return _reduce(E.add(pos, neg), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y·(x1 - x2) + margin): y = 1 means x1 should rank higher than x2.

    Example::

        loss = F.margin_ranking_loss(mc.randn(4), mc.randn(4), mc.tensor([1., -1., 1., 1.]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "margin_ranking_loss")
    x1, x2, y = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(target)
    if not (x1.ndim == x2.ndim == y.ndim):
        raise ValueError(f"margin_ranking_loss: input1, input2 and target must have the same "
                         f"number of dimensions, got {list(x1.shape)}, {list(x2.shape)} and "
                         f"{list(y.shape)}")
    loss = E.clamp(E.add(E.mul(E.neg(y), E.sub(x1, x2)), margin), min=0)
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + eps‖_p over the last dimension (PyTorch adds eps inside the norm).

    Example::

        d = F.pairwise_distance(mc.randn(3, 4), mc.randn(3, 4))   # (3,)
    """
    diff = E.add(E.sub(x1, x2), eps)
    return R.norm(diff, p, dim=diff.ndim - 1 if diff.ndim else None, keepdim=keepdim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm distance (Schroff et al. 2015).

    ``swap=True`` uses min(d(a, n), d(p, n)) as the negative distance.

    Args:
        anchor, positive, negative: (N, D) or (D,).

    Example::

        loss = F.triplet_margin_loss(mc.randn(8, 16), mc.randn(8, 16), mc.randn(8, 16))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "triplet_margin_loss")
    if not margin > 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    a, pos, neg = as_tensor_arg(anchor), as_tensor_arg(positive), as_tensor_arg(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise ValueError(f"triplet_margin_loss: anchor, positive and negative must have the "
                         f"same number of dimensions ((N, D) or (D,)), got {list(a.shape)}, "
                         f"{list(pos.shape)} and {list(neg.shape)}")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    loss = E.clamp(E.add(E.sub(d_pos, d_neg), margin), min=0)
    return _reduce(loss, reduction)
