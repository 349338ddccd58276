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
from ..backend import (device_of, get_array_module, get_default_dtype, put_along_axis,
                       to_numpy)
from ..tensor import Tensor, _fits, as_tensor_arg
from . import elementwise as E
from .activation import softmax_array
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
        logp = softmax_array(z, dim, log=True)             # activation.py's kernels
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


class ClassCrossEntropy(Function):
    """:class:`CrossEntropy` for class-index targets on ``kernels/cpu/loss.py``, without
    the coefficient array: NumPy float32/float64 logits (N, C, ...), C-contiguous, 4096+
    elements (:func:`_class_fast`). The same values to a few ulp, and the same
    ``scale``/``grad_scale``; ``parts`` = (t, wy, keep, smooth, q) over (N, S) positions
    (see :func:`minicv.kernels.cpu.loss.ce_span`). Saved: exp(z - max) (N, C, S) and the
    per-position values (4, N, S).
    Measured (one thread, float32, forward + backward): (512, 1000) 3.0 -> 1.3 ms,
    (64, 21, 64, 64) 50 -> 22 ms (PyTorch 1.1 and 30)."""
    @staticmethod
    def forward(ctx, z, parts=None, scale=None, grad_scale=None):
        from ..kernels.cpu.loss import ce_forward
        loss, e, pos = ce_forward(z, parts)                                  # loss (N, S)
        ctx.save_for_backward(e, pos)
        ctx.parts, ctx.shape = parts, z.shape
        ctx.scale = scale if grad_scale is None else grad_scale
        if scale is not None:
            with np.errstate(invalid="ignore"):          # 0·inf = NaN, silently as PyTorch
                return np.asarray(loss.sum() * scale, dtype=z.dtype)
        return loss.reshape(z.shape[:1] + z.shape[2:])

    @staticmethod
    def backward(ctx, g):
        from ..kernels.cpu.loss import ce_grad
        e, pos = ctx.saved_tensors
        g = g * ctx.scale if ctx.scale is not None else g
        g = np.broadcast_to(g, ctx.shape[:1] + ctx.shape[2:]).reshape(pos.shape[1:])
        return ce_grad(e, pos, ctx.parts, g).reshape(ctx.shape)


def _class_fast(x, label_smoothing, keep, safe, w, wy):
    """The (t, wy, keep, smooth, q) of :class:`ClassCrossEntropy` where it applies to the
    logits ``x``, else None."""
    z = x.data
    if type(z) is not np.ndarray or x.ndim < 2 or z.size < 1 << 12:
        return None
    from ..kernels.cpu.loss import fast_ok
    if not fast_ok(z) or z.shape[1] == 0:
        return None
    n, c, dt = z.shape[0], z.shape[1], z.dtype
    flat = (n, z.size // (n * c)) if n else (0, 1)                        # (N, S)
    if label_smoothing > 0:
        smooth = ((label_smoothing / c) * w).astype(dt, copy=False)
        q = dt.type(1 - label_smoothing)
    else:
        smooth, q = np.zeros(0, dt), dt.type(1)
    return (np.ascontiguousarray(safe).reshape(flat), np.ascontiguousarray(wy).reshape(flat),
            keep.astype(dt).reshape(flat), smooth, q)


def _class_targets(x, target, weight, ignore_index, name):
    """The checked class-index target: (t, keep, safe, w, wy) with keep = t ≠ ignore_index,
    safe = t with 0 where ignored (int64), w the class weights (ones without ``weight``)
    and wy = w[t] (0 where ignored), all in x's dtype and on its device."""
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
    wy = xp.where(keep, w[safe], 0).astype(dt)                  # target's shape
    return keep, safe, w, wy


def _kept_total(wy, keep):
    """(Σ w[y] over the kept positions, whether any is kept): host numbers on the CPU; on
    a GPU they stay there (no sync)."""
    total, any_kept = wy.sum(), keep.any()
    if get_array_module(wy) is np:
        return float(total), bool(any_kept)
    return total, any_kept


def _class_coefficients(x, keep, safe, w, wy, label_smoothing):
    """The coefficient array ``a`` (x's shape) of the parts of :func:`_class_targets`."""
    xp = get_array_module(x.data)
    c, dt = w.shape[0], x.dtype
    cdim = 1 if x.ndim >= 2 else 0
    a = put_along_axis(xp, xp.zeros(x.shape, dt), xp.expand_dims(safe, cdim),
                       xp.expand_dims(wy, cdim), cdim)
    if label_smoothing > 0:
        a *= 1 - label_smoothing
        bshape = [1] * x.ndim
        bshape[cdim] = c
        smooth = (label_smoothing / c) * w.reshape(bshape) * np.expand_dims(keep, cdim)
        a += smooth.astype(dt, copy=False)
    return a


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
    keep, safe, w, wy = _class_targets(x, t, weight, ignore_index, "cross_entropy")
    total, any_kept = _kept_total(wy, keep)
    scale, grad_scale = _scales(reduction, total, any_kept)
    mask = _coefficient_mask(x, t, weight, ignore_index, label_smoothing, reduction, total)
    parts = None if mask is not None else _class_fast(x, label_smoothing, keep, safe, w, wy)
    if parts is not None:
        return ClassCrossEntropy.apply(x, parts=parts, scale=scale, grad_scale=grad_scale)
    a = _class_coefficients(x, keep, safe, w, wy, label_smoothing)
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
    keep, safe, w, wy = _class_targets(x, t, weight, ignore_index, "nll_loss")
    total, any_kept = _kept_total(wy, keep)
    a = _class_coefficients(x, keep, safe, w, wy, 0.0)
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

    NumPy float32/float64 arrays of one shape (C-contiguous, 4096+ elements) run
    ``kernels/cpu/loss.py`` instead (``fast``): softplus(-x) = max(-x, 0) +
    log1p(exp(-|x|)) by NumPy's vectorised exp and log1p between one-pass kernels, and
    sigmoid(-x) in backward from the saved exp(-|x|) (NumPy's logaddexp alone took 50 ms
    for 2M float32 values). There, with ``scale``, the node returns scale·Σ loss (the
    'mean' or 'sum' reduction) as one scalar. Values agree with the NumPy formulas to
    float rounding (a few ulp).
    """
    @staticmethod
    def forward(ctx, x, t, pos_weight=None, fast=False, scale=None):
        lw = None if pos_weight is None else (pos_weight - 1) * t + 1
        ctx.save_for_backward(x, t)
        ctx.pw, ctx.fast, ctx.scale = pos_weight, fast, scale
        if fast:
            from ..kernels.cpu.loss import bce_with_logits
            loss, ctx.e, ctx.sp = bce_with_logits(x, t, lw, reduce=scale is not None)
            ctx.lw, ctx.sp = lw, ctx.sp.reshape(x.shape)
            if scale is not None:
                return np.asarray(loss * scale, dtype=x.dtype)
            return loss
        sp = np.logaddexp(0, -x)                            # softplus(-x), stable
        ctx.sp = sp
        return ((1 - t) * x + (1 if lw is None else lw) * sp).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        pw = ctx.pw
        g = g * ctx.scale if ctx.scale is not None else g
        gx = gt = None
        if ctx.needs_input_grad[0] and ctx.fast:
            from ..kernels.cpu.loss import bce_with_logits_grad
            gx = bce_with_logits_grad(x, t, ctx.lw, ctx.e, g)
        elif ctx.needs_input_grad[0]:
            lw = 1 if pw is None else (pw - 1) * t + 1
            sig_neg = 0.5 * (1 - np.tanh(0.5 * x))           # sigmoid(-x), stable
            gx = g * ((1 - t) - lw * sig_neg)
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else -x + (pw - 1) * ctx.sp)
        return gx, gt


def _bce_fast(x, t, pos_weight):
    """Whether :class:`BCEWithLogits` runs ``kernels/cpu/loss.py`` (see there)."""
    if type(x) is not np.ndarray or x.size < 1 << 12:
        return False
    from ..kernels.cpu.loss import fast_ok
    return fast_ok(x, t) and (pos_weight is None or type(pos_weight) is np.ndarray)


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
    target_dtype = t.dtype
    x, t = _promote(x, t)
    _check_broadcast_to(x, weight, "binary_cross_entropy_with_logits", "weight")
    _check_broadcast_to(x, pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    _check_device(x, pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    pw = None if pos_weight is None else _arr(pos_weight).astype(x.dtype, copy=False)
    fast = _bce_fast(x.data, t.data, pw)
    if fast and weight is None and reduction != "none" and \
            (target_dtype == x.dtype or target_dtype.kind != "f"):  # reduced in the node
        scale = 1.0 / x.data.size if reduction == "mean" else 1.0
        return BCEWithLogits.apply(x, t, pos_weight=pw, fast=True, scale=scale)
    loss = BCEWithLogits.apply(x, t, pos_weight=pw, fast=fast)
    if weight is not None:
        loss = E.mul(loss, weight)
    if loss.dtype != target_dtype and target_dtype.kind == "f":
        loss = loss.to(target_dtype)           # PyTorch's loss takes the target's dtype
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


def _pointwise_fast(*arrays):
    """Whether :class:`PointwiseLoss` runs ``kernels/cpu/loss.py`` (NumPy float32/float64
    of one shape, C-contiguous, 4096+ elements); small arrays skip the Numba import."""
    if type(arrays[0]) is not np.ndarray or arrays[0].size < 1 << 12:
        return False
    from ..kernels.cpu.loss import fast_ok
    return fast_ok(*arrays)


class PointwiseLoss(Function):
    """ℓ(x - t) for mse, l1, smooth_l1 and huber; dx = ℓ'(d), dt = -ℓ'(d).

    With ``scale`` returns scale·Σ ℓ (mean or sum) as one scalar. Saved: ℓ'(d).
    """
    @staticmethod
    def forward(ctx, x, t, kind="mse", param=None, scale=None):
        if _pointwise_fast(x, t):                # one pass, no masks or temporaries
            from ..kernels.cpu.loss import pointwise
            loss, dl = pointwise(kind, x, t, param, reduce=scale is not None)
        else:
            with np.errstate(invalid="ignore"):  # inf - inf is NaN, silently as in PyTorch
                loss, dl = _pointwise(x - t, kind, param)
        ctx.dl, ctx.scale = dl, scale
        if scale is not None:
            return get_array_module(x).asarray(loss.sum() * scale, dtype=x.dtype)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        g = g * ctx.scale if ctx.scale is not None else g
        if _pointwise_fast(ctx.dl) and (g.ndim == 0 and g.dtype == ctx.dl.dtype
                                        or _pointwise_fast(ctx.dl, g)):
            from ..kernels.cpu.loss import scaled
            gd = scaled(ctx.dl, g)                     # the same product, on threads
        else:
            gd = ctx.dl * g
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


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance d (default: pairwise_distance).

    Args:
        distance_function: a callable (x1, x2) -> distances, e.g.
            ``lambda x, y: 1 - F.cosine_similarity(x, y)``; None means the 2-norm distance.
        swap: use min(d(a, n), d(p, n)) as the negative distance.

    Shape: anchor, positive, negative (N, D) or (D,) for the default distance; 'none'
    gives d's output shape, (N,).

    Example::

        loss = F.triplet_margin_with_distance_loss(mc.randn(8, 16), mc.randn(8, 16),
                                                   mc.randn(8, 16), margin=0.5)
    """
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if not margin > 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, "
                         f"got {margin}")
    a, pos, neg = as_tensor_arg(anchor), as_tensor_arg(positive), as_tensor_arg(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise ValueError(f"triplet_margin_with_distance_loss: anchor, positive and negative "
                         f"must have the same number of dimensions, got {list(a.shape)}, "
                         f"{list(pos.shape)} and {list(neg.shape)}")
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = distance(a, pos), distance(a, neg)
    if swap:
        d_neg = E.minimum(d_neg, distance(pos, neg))
    loss = E.clamp(E.sub(E.add(d_pos, margin), d_neg), min=0)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- soft margins

class SoftMargin(Function):
    """loss = log(1 + exp(-y·x)), computed as softplus(-y·x) (stable).

    dx = -y·σ(-y·x), dy = -x·σ(-y·x). Saved: x, y.
    """
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.logaddexp(0, -y * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        s = g * 0.5 * (1 + np.tanh(-0.5 * y * x))               # g·sigmoid(-y·x), stable
        return (-y * s if ctx.needs_input_grad[0] else None,
                -x * s if ctx.needs_input_grad[1] else None)


def _input_dtype_target(x, t, name):
    """A floating input, and a target that broadcasts to it, cast to the input's dtype (the
    result dtype of PyTorch's fused pointwise losses)."""
    check_float(x, name)
    _check_broadcast_to(x, t, name, "target")
    _check_device(x, t, name, "target")
    return t if t.dtype == x.dtype else t.to(x.dtype)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + exp(-y·x)) for targets y = 1 / -1.

    Computed stably: where -y·x overflows exp, PyTorch returns inf, minicv the finite value.
    A target that requires grad gets its gradient (PyTorch refuses such a target).

    Shape: target broadcasts to the input's shape; 'none' keeps the input's shape.

    Example::

        loss = F.soft_margin_loss(mc.randn(4), mc.tensor([1., -1., 1., 1.]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "soft_margin_loss")
    x = as_tensor_arg(input)
    t = _input_dtype_target(x, as_tensor_arg(target), "soft_margin_loss")
    return _reduce(SoftMargin.apply(x, t), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """One-vs-all logistic loss for multi-label targets in {0, 1}, averaged over classes:

        loss_n = -(1/C) Σ_c w_c·(y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c))

    Args:
        input: logits (N, C) or (C,). target: 0/1 labels broadcasting to the input.
        weight: per-class rescaling broadcasting to the input, e.g. (C,).

    Shape: 'none' gives (N,) (or () for a (C,) input).

    Example::

        loss = F.multilabel_soft_margin_loss(mc.randn(2, 3), mc.tensor([[1, 0, 1], [0, 0, 1]]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_soft_margin_loss")
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    check_float(x, "multilabel_soft_margin_loss")
    if x.ndim == 0:
        raise ValueError("multilabel_soft_margin_loss: input must have a class dimension "
                         "((N, C) or (C,)), got a 0-d tensor")
    _check_broadcast_to(x, t, "multilabel_soft_margin_loss", "target")
    _check_device(x, t, "multilabel_soft_margin_loss", "target")
    x, t = _promote(x, t)
    loss = BCEWithLogits.apply(x, t)                      # -(y log σ(x) + (1-y) log σ(-x))
    if weight is not None:
        _check_broadcast_to(loss, weight, "multilabel_soft_margin_loss", "weight")
        loss = E.mul(loss, weight)
    loss = E.div(R.sum(loss, dim=-1), x.shape[-1])       # (N,)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- multi-class margins

def _margin_input(x, t, name):
    """Input as (N, C) and class-index target as (N,) arrays for the multi-class margin
    losses (a (C,) or 0-d input is one sample), with PyTorch's shape checks."""
    check_float(x, name)
    _check_device(x, t, name, "target")
    if x.ndim > 2 or x.ndim == 2 and x.shape[1] == 0 or x.ndim == 1 and x.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty (C,) or (N, C) input (N may be 0), "
                         f"got shape {list(x.shape)}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")


class MultiMargin(Function):
    """loss_n = (1/C) Σ_{j≠y} w_y·max(0, margin - x_y + x_j)^p over a row x (N, C).

    With h_j = w_y·p·z_j^(p-1)/C on the rows' active terms (z_j > 0, j ≠ y), dx_j = g·h_j
    and dx_y = -g·Σ_j h_j (0 at the kink z_j = 0, as PyTorch). Saved: z.
    """
    @staticmethod
    def forward(ctx, x, y, p=1, margin=1.0, w=None):
        xp = get_array_module(x)
        c = x.shape[1]
        onehot = xp.arange(c)[None, :] == y[:, None]                        # (N, C)
        xy = xp.take_along_axis(x, y[:, None], axis=1)                       # (N, 1)
        z = margin - xy + x                                                   # (N, C)
        active = (z > 0) & ~onehot
        wy = 1 if w is None else w[y][:, None]
        h = xp.where(active, z if p == 1 else z * z, 0) * wy
        ctx.state = (xp.where(active, 1 if p == 1 else 2 * z, 0) * wy / c, onehot)
        return (h.sum(axis=1) / c).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        dz, onehot = ctx.state
        gj = g[:, None] * dz                                                  # (N, C)
        return gj - onehot * gj.sum(axis=1, keepdims=True), None


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: (1/C) Σ_{j≠y} w_y·max(0, margin - x_y + x_j)^p per sample.

    Args:
        input: scores (N, C) or (C,). target: class indices (N,) (or () / (1,)) in
            [0, C-1]. p: 1 or 2. weight: (C,) weight of each target class.

    Shape: 'none' gives the target's shape.

    Example::

        loss = F.multi_margin_loss(mc.randn(3, 5), mc.tensor([1, 0, 4]), margin=0.5)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    _margin_input(x, t, "multi_margin_loss")
    n = x.shape[0] if x.ndim == 2 else 1
    c = x.shape[-1] if x.ndim else 1
    if (t.ndim != 1 or t.shape[0] != n) and not (x.ndim < 2 and t.shape in ((), (1,))):
        raise ValueError(f"multi_margin_loss: target should be 1-D with one class index per "
                         f"sample: expected shape [{n}] for input of shape {list(x.shape)}, "
                         f"got {list(t.shape)}")
    w = None
    if weight is not None:
        _check_device(x, weight, "multi_margin_loss", "weight")
        if weight.ndim != 1 or weight.shape[0] != c:
            raise ValueError(f"multi_margin_loss: weight must be one-dimensional with one "
                             f"value per class, shape [{c}], got {list(weight.shape)}")
        w = _arr(weight).astype(x.dtype, copy=False)
    y = _class_target(x, t).reshape(n)
    _check_labels(y, c, 0, "multi_margin_loss")
    loss = MultiMargin.apply(x.reshape(n, c), y.astype(np.int64), p=p, margin=margin, w=w)
    return _reduce(loss.reshape(t.shape), reduction)


def _check_labels(y, c, low, name):
    """Raise unless every label lies in [low, C-1] (reads the labels: a sync on a GPU, as
    the class-index check of cross_entropy)."""
    bad = (y < low) | (y >= c)
    if bad.any():
        v = int(y[bad].reshape(-1)[0])
        raise TargetOutOfRangeError(f"{name}: target {v} is out of range: labels must lie "
                                    f"in [{low}, {c - 1}] for an input with C={c} classes")


class MultilabelMargin(Function):
    """loss_n = (1/C) Σ_{j ∈ targets} Σ_{k ∉ targets} max(0, 1 - (x_j - x_k)).

    The targets of a row are its entries before the first -1 (a repeated one counts
    twice, as in PyTorch). On the active terms (> 0; 0 at the kink) dx_k gets +g/C and
    dx_j gets -g/C per term. Saved: the active terms (N, P, C) and the target one-hots.
    """
    @staticmethod
    def forward(ctx, x, y):
        xp = get_array_module(x)
        c = x.shape[1]
        valid = xp.cumprod(y >= 0, axis=1).astype(bool)                      # (N, P)
        pick = xp.where(valid, y, 0)
        onehot = (pick[:, :, None] == xp.arange(c)) & valid[:, :, None]      # (N, P, C)
        is_target = onehot.any(axis=1)                                        # (N, C)
        xj = xp.take_along_axis(x, pick, axis=1)                              # (N, P)
        z = 1 - xj[:, :, None] + x[:, None, :]                                # (N, P, C)
        active = (z > 0) & valid[:, :, None] & ~is_target[:, None, :]
        ctx.state = (active, onehot)
        return (xp.where(active, z, 0).sum(axis=(1, 2)) / c).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        active, onehot = ctx.state
        xp = get_array_module(g)
        a = active * (g / active.shape[2])[:, None, None]                    # (N, P, C)
        per_target = a.sum(axis=2)[:, None, :]                                # (N, 1, P)
        gj = xp.matmul(per_target, onehot.astype(a.dtype))[:, 0]              # (N, C)
        return a.sum(axis=1) - gj, None


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: each target class should score 1 above every other class.

        loss_n = (1/C) Σ_{j ∈ targets} Σ_{k ∉ targets} max(0, 1 - (x_j - x_k))

    Args:
        input: scores (N, C) or (C,). target: class indices of the input's shape, the
            targets first, then padded with -1 (entries after the first -1 are ignored).

    Shape: 'none' gives (N,) (or () for a (C,) input).

    Example::

        loss = F.multilabel_margin_loss(mc.randn(1, 4), mc.tensor([[3, 0, -1, 1]]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_margin_loss")
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    _margin_input(x, t, "multilabel_margin_loss")
    if t.shape != x.shape:
        raise ValueError(f"multilabel_margin_loss: target must have the input's shape "
                         f"{list(x.shape)} (class indices padded with -1), got "
                         f"{list(t.shape)}")
    n = x.shape[0] if x.ndim == 2 else 1
    c = x.shape[-1] if x.ndim else 1
    y = _class_target(x, t).reshape(n, c)
    _check_labels(y, c, -1, "multilabel_margin_loss")
    loss = MultilabelMargin.apply(x.reshape(n, c), y.astype(np.int64))
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance, y: similar or not).

    As PyTorch, a target other than ±1 adds both terms.

    Shape: input and target broadcast together; 'none' gives that shape.

    Example::

        loss = F.hinge_embedding_loss(mc.tensor([0.3, 2.0]), mc.tensor([1., -1.]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "hinge_embedding_loss")
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    check_float(x, "hinge_embedding_loss")
    _check_device(x, t, "hinge_embedding_loss", "target")
    zero = x.dtype.type(0)
    below_margin = E.where(E.ne(t, 1), E.clamp(E.sub(margin, x), min=0), zero)
    itself = E.where(E.ne(t, -1), x, zero)
    return _reduce(E.add(below_margin, itself), reduction)


# ----------------------------------------------------------------------------- likelihoods

def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of a Poisson target with rate λ:

        exp(x) - y·x          (log_input=True, x = log λ)
        x - y·log(x + eps)    (log_input=False, x = λ)

    ``full`` adds Stirling's approximation of log(y!), y·log y - y + ½·log(2πy), where
    y > 1. (Its gradient with respect to a target y <= 1 is 0; PyTorch's is NaN at y = 0.)

    Shape: input and target broadcast together.

    Example::

        loss = F.poisson_nll_loss(mc.randn(5), mc.tensor([0., 1., 3., 2., 0.]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    _check_device(x, t, "poisson_nll_loss", "target")
    if log_input:
        loss = E.sub(E.exp(x), E.mul(t, x))
    else:
        loss = E.sub(x, E.mul(t, E.log(E.add(x, eps))))
    if full:
        counts = E.gt(t, 1)
        y = E.where(counts, t, 1.0)                       # log y stays finite where masked
        stirling = E.add(E.sub(E.mul(y, E.log(y)), y), E.mul(E.log(E.mul(y, 2 * math.pi)),
                                                              0.5))
        loss = E.add(loss, E.where(counts, stirling, loss.dtype.type(0)))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under N(input, var):

        ½·(log max(var, eps) + (input - target)² / max(var, eps))   (+ ½·log 2π if full)

    The clamp to eps is left out of the gradient (var's gradient flows as if unclamped),
    as in PyTorch.

    Args:
        var: a tensor of the input's shape (heteroscedastic), or of the input's shape
            without its last dim or with one dim of size 1 (homoscedastic), or a number.

    Example::

        loss = F.gaussian_nll_loss(mc.randn(4, 2), mc.randn(4, 2), mc.rand(4, 1) + 0.1)
    """
    x, t = as_tensor_arg(input), as_tensor_arg(target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
        var = Tensor(get_array_module(x.data).full(x.shape, var, dtype=dtype))
    v = as_tensor_arg(var)
    if v.dtype.kind != "f":
        raise TypeError(f"gaussian_nll_loss: var must be a floating tensor, got dtype "
                        f"{v.dtype}: convert it with .float()")
    _check_device(x, t, "gaussian_nll_loss", "target")
    _check_device(x, v, "gaussian_nll_loss", "var")
    if v.data.size and (v.data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if v.shape != x.shape:
        if x.shape[:-1] == v.shape:
            v = v.unsqueeze(-1)                           # one variance per row
        elif x.ndim != v.ndim or sum(b for a, b in zip(x.shape, v.shape) if a != b) != 1:
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {list(v.shape)} "
                             f"for input of shape {list(x.shape)}: give the input's shape, "
                             f"the input's shape without its last dim, or one dim of size 1")
    _check_reduction(reduction, "gaussian_nll_loss")
    xp = get_array_module(v.data)
    lifted = xp.maximum(v.data, v.dtype.type(eps)) - v.data
    v = E.add(v, Tensor(lifted))                          # max(var, eps), identity gradient
    loss = E.mul(E.add(E.log(v), E.div(E.pow(E.sub(x, t), 2), v)), 0.5)
    if full:
        loss = E.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- CTC

class CTC(Function):
    """-log p(target | log_probs) per sample by the forward-backward recursions of
    :mod:`minicv.kernels.ctc` (the forward pass runs α only, backward runs β).

    d/d log_probs = exp(log_probs) - γ (PyTorch's convention, see ``ctc_grad``) for the
    frames of each sample, 0 after; zero_infinity turns an infinite loss and its gradient
    into 0. Saved: log_probs, the emissions and α.
    """
    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank=0,
                zero_infinity=False):
        from ..kernels import ctc as K             # (kernels load on first use)
        xp = get_array_module(log_probs)
        ext, skip_log = K.extended_labels(targets, target_lengths, blank)
        emit = K.emissions(log_probs, ext)                                    # (T, N, S')
        alpha = K.ctc_alpha(emit, skip_log)
        ll = K.ctc_log_likelihood(alpha, input_lengths, target_lengths)      # (N,)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(log_probs)
            ctx.state = (emit, alpha, ext, skip_log, ll, input_lengths, target_lengths)
        ctx.zero_infinity = zero_infinity
        nll = -ll
        return xp.where(xp.isinf(nll), 0, nll).astype(nll.dtype) if zero_infinity else nll

    @staticmethod
    def backward(ctx, g):
        from ..kernels import ctc as K
        xp = get_array_module(g)
        log_probs, = ctx.saved_tensors
        emit, alpha, ext, skip_log, ll, input_lengths, target_lengths = ctx.state
        beta = K.ctc_beta(emit, skip_log, input_lengths, target_lengths)
        grad = K.ctc_grad(log_probs, emit, alpha, beta, ext, ll, input_lengths)
        grad = grad * g[None, :, None]
        if ctx.zero_infinity:
            grad = xp.where(xp.isinf(ll)[None, :, None], 0, grad).astype(grad.dtype)
        return grad, None, None, None


def _ctc_lengths(lengths, n, arg):
    """Lengths (a tensor, array or sequence of ints) as a host int64 array (n,). PyTorch
    reads them on the host too; they size the padded targets."""
    if isinstance(lengths, (int, float)) or lengths is None:
        raise TypeError(f"ctc_loss: {arg} must be a tensor or a sequence of ints (one per "
                        f"sample), got {type(lengths).__name__}")
    a = np.asarray(to_numpy(_arr(lengths)))
    if a.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {arg} must hold integers, got dtype {a.dtype}")
    if a.size != n or a.ndim > 1:
        raise ValueError(f"ctc_loss: {arg} must be of size batch_size: expected {n} "
                         f"lengths, got shape {list(a.shape)}")
    return a.reshape(n).astype(np.int64)


def _ctc_padded_targets(targets, lengths, n, xp):
    """Targets as an (N, S) int64 array on the input's device, S = the longest target:
    from padded (N, S0 >= S) targets, or from 1-D targets concatenated sample after
    sample."""
    t = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    t = xp.asarray(t).astype(np.int64)
    s = int(lengths.max()) if n else 0
    if t.ndim == 2:
        if t.shape[0] != n or t.shape[1] < s:
            raise ValueError(f"ctc_loss: padded targets must have shape (N={n}, S) with S "
                             f"at least the longest target length {s}, got "
                             f"{list(t.shape)}")
        return t[:, :s]
    total = int(lengths.sum())
    if t.ndim != 1 or t.shape[0] != total:
        raise ValueError(f"ctc_loss: targets must be padded (N, S) or 1-D concatenated with "
                         f"sum(target_lengths)={total} entries, got shape {list(t.shape)}")
    if total == 0:
        return xp.zeros((n, 0), np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    index = np.minimum(starts[:, None] + np.arange(s)[None, :], total - 1)   # (N, S)
    return t[xp.asarray(index)]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss (Graves et al. 2006): -log of the total
    probability of every alignment of the target to the input frames (blank-separated,
    repeats collapsed), by the forward-backward recursions in log space.

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (log_softmax over C).
        targets: (N, S) padded labels, or the N targets concatenated (sum(target_lengths),),
            or (S,) unbatched; labels in [0, C-1] other than ``blank``.
        input_lengths, target_lengths: (N,) tensors or sequences of ints (() or (1,) when
            unbatched); input lengths at most T.
        reduction: 'mean' divides each loss by its target length (at least 1), then
            averages over the batch; 'sum'; 'none' gives (N,) (or ()).
        zero_infinity: impossible alignments (T too short for the target and its repeats)
            give an infinite loss and NaN gradients; True makes both 0.

    The gradient is PyTorch's: exact when log_probs come from log_softmax (see
    :func:`minicv.kernels.ctc.ctc_grad`), also for a target holding the blank label, where
    PyTorch's gradient does not match its loss. Labels outside [0, C-1] raise (PyTorch does
    not check them); lengths may mix tensors and sequences.

    Example::

        lp = F.log_softmax(mc.randn(50, 4, 20, requires_grad=True), dim=2)
        loss = F.ctc_loss(lp, mc.randint(1, 20, (4, 10)), [50] * 4, [10, 8, 9, 5])
    """
    _check_reduction(reduction, "ctc_loss")
    x = as_tensor_arg(log_probs)
    check_float(x, "ctc_loss", "log_probs")
    if x.ndim not in (2, 3) or x.data.size == 0:
        raise ValueError(f"ctc_loss: log_probs must be a non-empty (T, N, C) or (T, C) "
                         f"tensor, got shape {list(x.shape)}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(1)                                                    # (T, 1, C)
        targets = as_tensor_arg(targets).reshape(1, -1)                       # (1, S)
    t_len, n, c = x.shape
    if not 0 <= blank < c:
        raise ValueError(f"ctc_loss: blank must be in label range [0, {c - 1}], got {blank}")
    il = _ctc_lengths(input_lengths, n, "input_lengths")
    tl = _ctc_lengths(target_lengths, n, "target_lengths")
    for arg, lengths in (("input_lengths", il), ("target_lengths", tl)):
        if (lengths < 0).any():
            raise ValueError(f"ctc_loss: {arg} must be non-negative, got {lengths.tolist()}")
    if unbatched and targets.shape[1] != tl[0]:
        raise ValueError(f"ctc_loss: an unbatched target must hold exactly target_length="
                         f"{tl[0]} labels, got {targets.shape[1]}")
    if (il > t_len).any():
        raise ValueError(f"ctc_loss: input_lengths must be at most T={t_len} (the frames of "
                         f"log_probs (T, N, C)), got {il.tolist()}")
    xp = get_array_module(x.data)
    padded = _ctc_padded_targets(targets, tl, n, xp)                          # (N, S)
    kept = xp.arange(padded.shape[1])[None, :] < xp.asarray(tl)[:, None]
    _check_labels(xp.where(kept, padded, 0), c, 0, "ctc_loss")
    loss = CTC.apply(x, padded, xp.asarray(il), xp.asarray(tl), blank=blank,
                     zero_infinity=zero_infinity)                             # (N,)
    if reduction == "mean":
        per_label = xp.asarray(np.maximum(tl, 1), dtype=x.dtype)
        return R.mean(E.div(loss, Tensor(per_label)))
    if reduction == "sum":
        return R.sum(loss)
    return loss.reshape(()) if unbatched else loss
