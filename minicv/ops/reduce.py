"""Reductions: sum, mean, var, std, max, min, argmax, argmin, logsumexp, prod, cumsum,
cumprod, norm, median, count_nonzero, any, all.

``dim`` (an int, a tuple, or None for all) and ``keepdim`` follow PyTorch. Backward
re-inserts the reduced axes (``_expand_back``) and broadcasts the upstream gradient.
"""
import builtins
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import get_default_dtype, get_array_module, put_along_axis
from ..tensor import Tensor, as_tensor_arg

values_indices = namedtuple("values_indices", ["values", "indices"])


def normalize_dims(dim, ndim, name="dim"):
    """``dim`` as a sorted tuple of non-negative axes, or None for all axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) == 0:
        return None
    out = []
    rank = builtins.max(ndim, 1)
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-rank}, {rank - 1}], but got {d})")
        out.append(int(d) % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} {dim} names the same dimension twice")
    return tuple(sorted(out)) if ndim else None


def _expand_back(g, shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if keepdim or axes is None and g.ndim == 0:
        return g
    if axes is None:
        return g.reshape((1,) * len(shape))
    return np.expand_dims(g, axes)


class Sum(Function):
    """d/dx sum(x) = 1 broadcast over the reduced axes."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        xp = get_array_module(x)
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, gy):
        g = _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(g, ctx.shape), None, None


class Mean(Function):
    """d/dx mean(x) = 1/n broadcast over the reduced axes (n = reduced element count)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        xp = get_array_module(x)
        if x.size:
            y = xp.asarray(x.mean(axis=axes, keepdims=keepdim))
        else:       # NaN where nothing is averaged, without NumPy's "Mean of empty slice"
            with np.errstate(invalid="ignore"):
                y = xp.asarray(x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(0))
        ctx.n = x.size // builtins.max(y.size, 1) if x.size else 0
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        g = _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim) / builtins.max(ctx.n, 1)
        return np.broadcast_to(g, ctx.shape).astype(gy.dtype, copy=False), None, None


def _variance(x, axes, correction):
    """(x - mean, kept-dims variance, max(n - correction, 0), n - correction) over
    ``axes``, shared by var and std.

    A non-positive n - correction gives inf or NaN, as in PyTorch (which also warns).
    """
    xp = get_array_module(x)
    mean = x.mean(axis=axes, keepdims=True)
    diff = x - mean
    dof = x.size // builtins.max(mean.size, 1) - correction
    denom = builtins.max(dof, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (diff * diff).sum(axis=axes, keepdims=True) / x.dtype.type(denom)
    return diff, xp.asarray(v).astype(x.dtype, copy=False), denom, dof


def _squeeze(y, axes, keepdim):
    """Drop the kept reduced axes of ``y`` unless ``keepdim``."""
    return y if keepdim else get_array_module(y).asarray(y.squeeze(axis=axes))


class Var(Function):
    """var = sum((x - mean)²) / (n - correction); dx = 2(x - mean)/(n - correction).

    With no degrees of freedom left (n - correction <= 0) the forward divides by 0, and the
    backward follows PyTorch's ``var_backward``: over all elements (dim=None) it is inf,
    NaN where x == mean; over given dims it keeps the formula with the negative n -
    correction (``var([1.5], 0, correction=2)`` has gradient -0.).
    """
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        diff, v, _, ctx.dof = _variance(x, axes, correction)
        ctx.save_for_backward(diff)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _squeeze(v, axes, keepdim)

    @staticmethod
    def backward(ctx, gy):
        (diff,) = ctx.saved_tensors
        g = _expand_back(gy, diff.shape, ctx.axes, ctx.keepdim)
        if ctx.axes is None and ctx.dof <= 0:
            xp = get_array_module(diff)
            gx = g * xp.where(diff == 0, diff.dtype.type(np.nan), diff.dtype.type(np.inf))
            return gx.astype(gy.dtype, copy=False), None, None, None
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = g * diff * (2 / diff.dtype.type(ctx.dof))
        return gx.astype(gy.dtype, copy=False), None, None, None


class Std(Function):
    """std = √var; dx = (x - mean) / ((n - correction)·std), and 0 where std == 0 (a
    constant slice), where the formula would give 0/0: PyTorch's ``std_backward`` rule.

    Saved: x - mean and the kept-dims std.
    """
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        diff, v, denom, dof = _variance(x, axes, correction)
        y = get_array_module(v).sqrt(v)
        ctx.save_for_backward(diff, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        # as Var: over given dims a negative n - correction stays in the formula
        ctx.dof = denom if axes is None else dof
        return _squeeze(y, axes, keepdim)

    @staticmethod
    def backward(ctx, gy):
        diff, y = ctx.saved_tensors
        g = _expand_back(gy, diff.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = g * diff / (diff.dtype.type(ctx.dof) * y)
        return np.where(y == 0, gy.dtype.type(0), gx).astype(gy.dtype, copy=False), \
            None, None, None


class AMax(Function):
    """max (or min) over ``axes``; the elements equal to the result share the gradient
    evenly, as in PyTorch's amax and global max.

    NaN, where present, is the result. PyTorch's global ``max()``/``min()`` then shares
    the gradient among the NaNs (``nan_shares=True``); its ``amax``/``amin`` give a NaN
    gradient to the whole slice (no element equals NaN, so the share is 0/0).
    Saved: x and the kept-dims result.
    """
    @staticmethod
    def forward(ctx, x, axes, keepdim, is_min, nan_shares):
        _check_reduced_size(x, axes, "min" if is_min else "max")
        y = x.min(axis=axes, keepdims=True) if is_min else x.max(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim, ctx.nan_shares = axes, keepdim, nan_shares
        return _squeeze(y, axes, keepdim)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        g = _expand_back(gy, x.shape, ctx.axes, ctx.keepdim)
        return _share_evenly(g, x, y, ctx.axes, ctx.nan_shares), None, None, None, None


def _share_evenly(g, x, y, axes, nan_shares):
    """``g`` split evenly among the elements of x equal to the kept-dims result y (and
    among the NaNs where y is NaN, with ``nan_shares``); 0 elsewhere."""
    mask = x == y
    if nan_shares:
        xp = get_array_module(x)
        mask |= xp.isnan(x) & xp.isnan(y)
    count = mask.sum(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * mask / count


def _check_reduced_size(x, axes, op):
    """PyTorch's errors for a max/min over nothing; other empty dims are fine."""
    if axes is None and x.size == 0:
        raise RuntimeError(f"{op}(): expected a reduction dim to be specified for an empty "
                           f"tensor of shape {list(x.shape)}: reduce a dim of non-zero size")
    for a in axes or ():
        if x.shape[a] == 0:
            raise IndexError(f"{op}(): expected reduction dim {a} to have non-zero size "
                             f"(the input has shape {list(x.shape)})")


class MaxDim(Function):
    """max/min along ``dim`` with indices; the gradient goes to the returned index."""
    @staticmethod
    def forward(ctx, x, dim, keepdim, is_min):
        idx = (np.argmin if is_min else np.argmax)(x, axis=dim, keepdims=True)
        vals = np.take_along_axis(x, idx, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim, ctx.idx = x.shape, dim, keepdim, idx
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        return vals, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, gv, gi):
        if not ctx.keepdim:
            gv = np.expand_dims(gv, ctx.dim)
        xp = get_array_module(gv)
        gx = put_along_axis(xp, xp.zeros(ctx.shape, gv.dtype), ctx.idx, gv, ctx.dim)
        return gx, None, None, None


class LogSumExp(Function):
    """log Σ exp(x), shifted by the max; d/dx = softmax(x); saved: x, output."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = get_array_module(x)
        if x.size == 0:                   # the log of an empty sum: -inf (as PyTorch)
            y = xp.full(x.sum(axis=axes, keepdims=True).shape, -np.inf, x.dtype)
        else:
            m = x.max(axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
            y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _squeeze(y, axes, keepdim)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        g = _expand_back(gy, x.shape, ctx.axes, ctx.keepdim)
        return g * np.exp(x - y), None, None


class Prod(Function):
    """Product over one axis (or all); d/dx_i = Π_{j≠i} x_j.

    The product of the others is the exclusive cumulative product from the left times the
    one from the right, which stays exact when some x_j are zero (y / x_i would not).
    """
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        if axis is None:
            return xp.asarray(x.prod(), dtype=x.dtype)
        return xp.asarray(x.prod(axis=axis, keepdims=keepdim))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        xp = get_array_module(x)
        if x.size == 0:                     # nothing to differentiate
            return xp.zeros(x.shape, gy.dtype), None, None
        axis = ctx.axis
        flat = x.reshape(-1) if axis is None else x
        ax = 0 if axis is None else axis
        ones = xp.ones_like(xp.take(flat, xp.arange(1), axis=ax))    # one slice of 1s
        left = xp.cumprod(xp.concatenate([ones, flat], axis=ax), axis=ax)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat, ones], axis=ax), ax),
                                   axis=ax), ax)
        n = flat.shape[ax]
        others = xp.take(left, xp.arange(n), axis=ax) * xp.take(right, xp.arange(1, n + 1),
                                                               axis=ax)
        g = _expand_back(gy, x.shape, None if axis is None else (axis,), ctx.keepdim)
        return (g * others.reshape(x.shape)).astype(gy.dtype, copy=False), None, None


class CumSum(Function):
    """Running sum along ``axis``; the gradient is the reversed running sum of dy."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return get_array_module(x).cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        return xp.flip(xp.cumsum(xp.flip(gy, ctx.axis), axis=ctx.axis), ctx.axis), None


class CumProd(Function):
    """Running product along ``axis``: y_j = x_0 · ... · x_j.

    dx_i = Σ_{j>=i} dy_j · y_j / x_i when no x is zero (one reversed cumsum). With zeros,
    that division is 0/0, so the exact form is used: dx_i = (x_0···x_{i-1}) · S_i, where
    S_i = dy_i + x_{i+1} · S_{i+1} sums the products to the right (a loop along the axis).
    Saved: x and the output.
    """
    @staticmethod
    def forward(ctx, x, axis):
        y = get_array_module(x).cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp, axis = get_array_module(x), ctx.axis
        if not (x == 0).any():
            right = xp.flip(xp.cumsum(xp.flip(gy * y, axis), axis=axis), axis)
            return right / x, None
        xm, gm = xp.moveaxis(x, axis, 0), xp.moveaxis(gy, axis, 0)    # (n, ...) views
        gx = xp.empty_like(gm)
        s = gm[-1].copy()
        for i in range(xm.shape[0] - 1, -1, -1):
            if i < xm.shape[0] - 1:
                s = gm[i] + xm[i + 1] * s
            gx[i] = s
        left = xp.cumprod(xm, axis=0)                                 # x_0 ... x_i
        gx[1:] *= left[:-1]
        return xp.moveaxis(gx, 0, axis), None


def _empty_median(dtype):
    """The median of no elements, as PyTorch: NaN, or an integer dtype's smallest value."""
    return np.nan if dtype.kind == "f" else np.iinfo(dtype).min


def _refuse_bool(x, op):
    """Raise for a bool ``x``: PyTorch has no bool kernel for ``op`` (sorting reductions)."""
    if x.dtype == np.bool_:
        raise TypeError(f"{op}() does not support bool input (PyTorch refuses it too): "
                        f"convert with .int() or .float() first")


class MedianAll(Function):
    """The lower median of all elements (NaN if any is NaN); the gradient is shared
    evenly by the elements equal to it, as PyTorch's global median does.

    Saved: x and the median.
    """
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        flat = xp.sort(x.reshape(-1))                     # NaNs sort last
        if flat.size == 0:                                # NaN, as PyTorch
            y = _empty_median(x.dtype)
        else:
            # a select, not an if: on a GPU reading isnan(...) would synchronise
            y = xp.where(xp.isnan(flat[-1]), flat[-1], flat[(flat.size - 1) // 2])
        y = xp.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return _share_evenly(gy, x, y, None, True)


class Norm2(Function):
    """‖x‖₂ = √Σx² over ``axes``; d/dx = x / ‖x‖ (0 where the norm is 0, as PyTorch).

    Saved: x and the kept-dims norm.
    """
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = get_array_module(x)
        y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else xp.asarray(y.squeeze(axis=axes))

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp = get_array_module(x)
        g = _expand_back(gy, x.shape, ctx.axes, ctx.keepdim)
        safe = xp.where(y == 0, 1, y)
        return (g * xp.where(y == 0, 0, x / safe)).astype(gy.dtype, copy=False), None, None


class NormP(Function):
    """‖x‖_p = (Σ|x|^p)^(1/p) over ``axes``, for p other than 0, 1, 2 and ±inf.

    d/dx = sign(x)·|x|^(p-1) / ‖x‖^(p-1), with PyTorch's rules at the kinks: for p < 1
    the factor sign(x)·|x|^(p-1) is 0 where x == 0 (not 0·inf); for p >= 1 the whole
    gradient is 0 where the norm is 0. Saved: x and the kept-dims norm.
    """
    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = get_array_module(x)
        p = x.dtype.type(p)
        y = (xp.abs(x) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return _squeeze(xp.asarray(y, dtype=x.dtype), axes, keepdim)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp = get_array_module(x)
        p, zero = ctx.p, gy.dtype.type(0)
        g = _expand_back(gy, x.shape, ctx.axes, ctx.keepdim)
        from .elementwise import _sign
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = _sign(x) * xp.abs(x) ** (p - 1)                  # d/dx of Σ|x|^p, / p
            if p < 1:
                gx = g * xp.where(x == 0, zero, scaled) * y ** (1 - p)
            else:
                gx = scaled * xp.where(y == 0, zero, g / y ** (p - 1))
        return gx.astype(gy.dtype, copy=False), None, None, None


# ----------------------------------------------------------------------------- wrappers

def sum(input, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all); integers and bools give int64.

    Example::

        mc.tensor([[1., 2.], [3., 4.]]).sum(dim=0)     # tensor([4., 6.])
    """
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to(np.int64)
    return Sum.apply(x, normalize_dims(dim, x.ndim), keepdim)


def _floating(x, op):
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}() needs a floating tensor, got {x.dtype}: call .float() "
                        f"first (PyTorch refuses integer input too)")
    return x


def mean(input, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim`` (all elements when None); needs a floating tensor, or a floating
    ``dtype`` to convert it to first."""
    x = as_tensor_arg(input)
    _floating_dtype_arg(dtype, "mean")
    x = x.to(dtype) if dtype is not None else _floating(x, "mean")
    return Mean.apply(x, normalize_dims(dim, x.ndim), keepdim)


def _floating_dtype_arg(dtype, op):
    """Raise unless ``dtype`` (the ``dtype=`` of mean-like reductions) is None or floating."""
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{op}(): could not infer output dtype. Optional dtype must be "
                        f"either a floating point or complex dtype. Got: {np.dtype(dtype)}")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _var_args(input, dim, unbiased, correction, op):
    if isinstance(dim, bool):           # var(x, False): the legacy positional unbiased
        dim, unbiased = None, dim
    x = _floating(input, op)
    return x, normalize_dims(dim, x.ndim), _correction(unbiased, correction)


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1, as PyTorch):
    Σ(x - mean)² / (n - correction).

    Example::

        mc.tensor([1., 2., 4.]).var()                  # tensor(2.3333)
    """
    x, axes, correction = _var_args(input, dim, unbiased, correction, "var")
    return Var.apply(x, axes, correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """Standard deviation, √var (see :func:`var`); its gradient is 0 where std is 0."""
    x, axes, correction = _var_args(input, dim, unbiased, correction, "std")
    return Std.apply(x, axes, correction, keepdim)


def _single_dim(dim, ndim, op="max"):
    """One dimension, as max/min/argmax/argmin take (PyTorch refuses tuples there too)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}() takes a single int dim, got {dim!r}; to reduce several "
                        f"dims use amax/amin (values only), e.g. x.amax(dim=(0, 1))")
    return normalize_dims(dim, ndim)[0] if ndim else 0


def _max_min(x, dim, keepdim, is_min):
    x = as_tensor_arg(x)
    if dim is None:
        if keepdim:
            op = "amin" if is_min else "amax"
            raise TypeError(f"{op[1:]}(): keepdim=True needs a dim; for the global value "
                            f"with every dim kept use x.{op}(keepdim=True)")
        return AMax.apply(x, None, False, is_min, True)
    if x.ndim == 0:
        xp = get_array_module(x.data)
        return values_indices(x, Tensor(xp.zeros((), np.int64)))
    d = _single_dim(dim, x.ndim, "min" if is_min else "max")
    if x.shape[d] == 0:
        raise IndexError(f"cannot take max/min over dimension {d} of size 0")
    vals, idx = MaxDim.apply(x, d, keepdim, is_min)
    return values_indices(vals, idx)


def max(input, dim=None, keepdim=False, *, other=None):
    """The global max, or ``(values, indices)`` along ``dim`` (first index among ties), or
    with a tensor ``other`` the elementwise :func:`maximum`.

    NaN counts as the largest value. The global max shares its gradient among the
    elements equal to it (among the NaNs if it is NaN); along ``dim`` the gradient goes
    to the returned index.
    """
    if other is not None or isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(input, dim if other is None else other)
    return _max_min(input, dim, keepdim, False)


def min(input, dim=None, keepdim=False, *, other=None):
    """The global min, ``(values, indices)`` along ``dim``, or :func:`minimum` with
    ``other``; see :func:`max`."""
    if other is not None or isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(input, dim if other is None else other)
    return _max_min(input, dim, keepdim, True)


def amax(input, dim=None, keepdim=False):
    """Maximum over one or several dims (no indices); ties share the gradient.

    A slice holding NaN has max NaN and, as in PyTorch, a NaN gradient.
    """
    x = as_tensor_arg(input)
    return AMax.apply(x, normalize_dims(dim, x.ndim), keepdim, False, False)


def amin(input, dim=None, keepdim=False):
    """Minimum over one or several dims; see :func:`amax`."""
    x = as_tensor_arg(input)
    return AMax.apply(x, normalize_dims(dim, x.ndim), keepdim, True, False)


def _arg_extreme(x, dim, keepdim, fn, name):
    _refuse_bool(as_tensor_arg(x), name)
    data = as_tensor_arg(x).data
    xp = get_array_module(data)
    if dim is None and data.size == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                         f"input.numel() == 0 (the input has shape {list(data.shape)}): an "
                         f"empty tensor has no {name[3:]}imum; pass a dim of non-zero size")
    if dim is None:                     # over the flattened tensor
        i = xp.asarray(fn(data), dtype=np.int64)
        return Tensor(i.reshape((1,) * data.ndim) if keepdim else i)
    d = _single_dim(dim, data.ndim, name)
    if data.ndim == 0:
        return Tensor(xp.zeros((), np.int64))
    if data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size (the "
                         f"input has shape {list(data.shape)}): reduce a non-empty dim")
    return Tensor(fn(data, axis=d, keepdims=keepdim).astype(np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum (of the flattened tensor when ``dim`` is None), as int64.

    With ``dim=None`` and ``keepdim=True`` the result keeps every dimension with size 1,
    as in PyTorch.
    """
    return _arg_extreme(input, dim, keepdim, get_array_module(as_tensor_arg(input).data)
                        .argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum; see :func:`argmax`."""
    return _arg_extreme(input, dim, keepdim, get_array_module(as_tensor_arg(input).data)
                        .argmin, "argmin")


def logsumexp(input, dim, keepdim=False):
    """log Σ exp(input) over ``dim``, computed without overflow; -inf over an empty dim.

    Example::

        mc.logsumexp(mc.tensor([[0., 0.]]), dim=1)     # tensor([0.6931])
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        x = x.to(get_default_dtype())
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim), keepdim)


def prod(input, dim=None, keepdim=False, dtype=None):
    """Product of all elements, or along one ``dim``; integers give int64 (as sum).

    Example::

        mc.tensor([[1., 2.], [3., 4.]]).prod(dim=1)     # [2., 12.]
    """
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to(np.int64)
    if dim is None:
        return Prod.apply(x, None, False)
    return Prod.apply(x, _single_dim(dim, x.ndim, "prod"), keepdim) if x.ndim else x * 1


def cumsum(input, dim, dtype=None):
    """Running sum along ``dim``: out[i] = x[0] + ... + x[i]; integers give int64.

    Example::

        mc.tensor([1., 2., 3.]).cumsum(0)                # [1., 3., 6.]
    """
    return _running(CumSum, input, dim, dtype, "cumsum")


def _running(fn, input, dim, dtype, name):
    """cumsum/cumprod: integers accumulate in int64 unless ``dtype`` says otherwise."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to(np.int64)
    if x.ndim == 0:
        return x * 1
    return fn.apply(x, _single_dim(dim, x.ndim, name))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None): (Σ|x|^p)^(1/p).

    ``p`` may be 'fro' or 2, 1, inf (max |x|), -inf (min |x|), 0 (the count of non-zeros,
    NaN included, with zero gradient) or any other number, negative or below 1 too.
    Gradients at zeros and NaNs follow PyTorch (see :class:`NormP`). Matrix norms other
    than 'fro' ('nuc', spectral) are not supported.

    Example::

        mc.randn(4, 3).norm(dim=1)                     # Euclidean length of each row
    """
    from . import elementwise as E
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    x = _floating(x, "norm")
    axes = normalize_dims(dim, x.ndim)
    if p in ("fro", 2, 2.0):
        return Norm2.apply(x, axes, keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; use 'fro' or a number")
    if p in (np.inf, -np.inf):          # NaN, if present, is the norm and gets no gradient
        return AMax.apply(E.abs(x), axes, keepdim, p < 0, True)
    if p == 0:                          # the count of non-zeros, NaN included
        return sum(E.ZeroGrad.apply(x, _nonzero_indicator), axes, keepdim)
    if p == 1:
        return sum(E.abs(x), axes, keepdim)
    return NormP.apply(x, p, axes, keepdim)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcasting): ``norm(input - other, p)``, a 0-d
    tensor; see :func:`norm` for ``p`` and the gradients at 0.

    Example::

        mc.dist(mc.tensor([1., 2.]), mc.tensor([4., 6.]))      # tensor(5.)
    """
    from . import elementwise as E
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"dist(): input and other must be tensors, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    return norm(E.sub(input, other), p)


def _nonzero_indicator(a):
    return (a != 0).astype(a.dtype)


def cumprod(input, dim, dtype=None):
    """Running product along ``dim``: out[i] = x[0] · ... · x[i]; integers give int64.

    Example::

        mc.tensor([1., 2., 3.]).cumprod(0)               # [1., 2., 6.]
    """
    return _running(CumProd, input, dim, dtype, "cumprod")


def median(input, dim=None, keepdim=False):
    """The lower median (for an even count, the smaller of the two middle values, as
    PyTorch), of all elements or, along ``dim``, as ``(values, indices)``. NaN counts as
    the largest value, and a slice holding NaN has median NaN (at its first NaN).

    Along ``dim`` the gradient goes to the returned index; the global median shares it
    among the elements equal to it.

    Example::

        mc.tensor([3., 1., 4., 2.]).median()                # tensor(2.)
        mc.tensor([[3., 1., 2.]]).median(dim=1)             # values [2.], indices [2]
    """
    from .index import Gather, _order
    x = as_tensor_arg(input)
    _refuse_bool(x, "median")
    if dim is None:
        return MedianAll.apply(x)
    xp = get_array_module(x.data)
    if x.ndim == 0:
        return values_indices(x * 1, Tensor(xp.zeros((), np.int64)))
    d = _single_dim(dim, x.ndim, "median")
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"median(): expected reduction dim {d} to have non-zero size")
    order = _order(x, d, descending=False)                 # stable, NaNs last
    k = xp.full(x.shape[:d] + (1,) + x.shape[d + 1:], (n - 1) // 2, np.int64)
    if x.dtype.kind == "f":                                # the first NaN, if any
        nans = xp.isnan(x.data).sum(axis=d, keepdims=True)
        k = xp.where(nans > 0, n - nans, k)
    idx = xp.take_along_axis(order, k, axis=d)             # kept dims: (..., 1, ...)
    values = Gather.apply(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices(values, Tensor(idx))


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(var, mean)`` of ``input`` over the same dims (see :func:`var`), in one call."""
    x, axes, correction = _var_args(input, dim, unbiased, correction, "var_mean")
    return Var.apply(x, axes, correction, keepdim), Mean.apply(x, axes, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(std, mean)`` of ``input`` over the same dims (see :func:`std`), in one call."""
    x, axes, correction = _var_args(input, dim, unbiased, correction, "std_mean")
    return Std.apply(x, axes, correction, keepdim), Mean.apply(x, axes, keepdim)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (NaN counts) over ``dim``, as int64 (no gradient)."""
    d = as_tensor_arg(input).data
    axes = normalize_dims(dim, d.ndim)
    xp = get_array_module(d)
    return Tensor(xp.asarray((d != 0).sum(axis=axes), dtype=np.int64))


def _truth_reduce(input, dim, keepdim, op):
    d = as_tensor_arg(input).data
    axes = normalize_dims(dim, d.ndim)
    xp = get_array_module(d)
    out = xp.asarray(getattr(d != 0, op)(axis=axes, keepdims=keepdim))
    return Tensor(out.astype(np.uint8) if d.dtype == np.uint8 else out)


def any(input, dim=None, keepdim=False):
    """Whether any element over ``dim`` is non-zero (True), as a bool tensor (uint8 in,
    uint8 out, as PyTorch)."""
    return _truth_reduce(input, dim, keepdim, "any")


def all(input, dim=None, keepdim=False):
    """Whether every element over ``dim`` is non-zero (True), as a bool tensor (uint8
    in, uint8 out, as PyTorch)."""
    return _truth_reduce(input, dim, keepdim, "all")
