"""Reductions: sum, mean, var, std, max, min, argmax, argmin, logsumexp.

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
        y = xp.asarray(x.mean(axis=axes, keepdims=keepdim))
        ctx.n = x.size // builtins.max(y.size, 1) if x.size else 0
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        g = _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim) / builtins.max(ctx.n, 1)
        return np.broadcast_to(g, ctx.shape).astype(gy.dtype, copy=False), None, None


class Var(Function):
    """var = sum((x - mean)²) / (n - correction); dx = 2(x - mean)/(n - correction)."""
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = get_array_module(x)
        mean = x.mean(axis=axes, keepdims=True)
        diff = x - mean
        n = x.size // builtins.max(mean.size, 1)
        denom = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (diff * diff).sum(axis=axes, keepdims=keepdim) / x.dtype.type(denom)
        ctx.save_for_backward(diff)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, denom
        return xp.asarray(y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (diff,) = ctx.saved_tensors
        g = _expand_back(gy, diff.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * diff * (2 / diff.dtype.type(ctx.denom))).astype(gy.dtype), None, None, None


class AMax(Function):
    """max (or min) over ``axes``; ties share the gradient evenly, as in PyTorch's amax and
    global max; saved: x and the kept-dims result."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, is_min):
        if x.size == 0:
            raise RuntimeError("max()/min() of an empty tensor is undefined: give a "
                               "non-empty tensor or reduce a dimension of non-zero size")
        y = x.min(axis=axes, keepdims=True) if is_min else x.max(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else get_array_module(y).asarray(y.squeeze(axis=axes))

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = _expand_back(gy, x.shape, ctx.axes, ctx.keepdim)
        return g * mask / count, None, None, None


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
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else get_array_module(y).asarray(y.squeeze(axis=axes))

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


# ----------------------------------------------------------------------------- wrappers

def sum(x, dim=None, keepdim=False, dtype=None):
    x = as_tensor_arg(x)
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


def mean(x, dim=None, keepdim=False, dtype=None):
    x = as_tensor_arg(x)
    x = x.to(dtype) if dtype is not None else _floating(x, "mean")
    return Mean.apply(x, normalize_dims(dim, x.ndim), keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1, as PyTorch)."""
    if isinstance(dim, bool):           # var(x, False): the legacy positional unbiased
        dim, unbiased = None, dim
    x = _floating(x, "var")
    return Var.apply(x, normalize_dims(dim, x.ndim), _correction(unbiased, correction),
                     keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(x, dim, unbiased, keepdim, correction).sqrt()


def _single_dim(dim, ndim, op="max"):
    """One dimension, as max/min/argmax/argmin take (PyTorch refuses tuples there too)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}() takes a single int dim, got {dim!r}; to reduce several "
                        f"dims use amax/amin (values only), e.g. x.amax(dim=(0, 1))")
    return normalize_dims(dim, ndim)[0] if ndim else 0


def _max_min(x, dim, keepdim, is_min):
    x = as_tensor_arg(x)
    if dim is None:
        return AMax.apply(x, None, False, is_min)
    if x.ndim == 0:
        xp = get_array_module(x.data)
        return values_indices(x, Tensor(xp.zeros((), np.int64)))
    d = _single_dim(dim, x.ndim, "min" if is_min else "max")
    if x.shape[d] == 0:
        raise IndexError(f"cannot take max/min over dimension {d} of size 0")
    vals, idx = MaxDim.apply(x, d, keepdim, is_min)
    return values_indices(vals, idx)


def max(x, dim=None, keepdim=False):
    """Global max, or ``(values, indices)`` along ``dim`` (first index among ties)."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(x, dim)
    return _max_min(x, dim, keepdim, False)


def min(x, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(x, dim)
    return _max_min(x, dim, keepdim, True)


def amax(x, dim=None, keepdim=False):
    """Maximum over one or several dims (no indices); ties share the gradient."""
    x = as_tensor_arg(x)
    return AMax.apply(x, normalize_dims(dim, x.ndim), keepdim, False)


def amin(x, dim=None, keepdim=False):
    x = as_tensor_arg(x)
    return AMax.apply(x, normalize_dims(dim, x.ndim), keepdim, True)


def _arg_extreme(x, dim, keepdim, fn, name):
    data = as_tensor_arg(x).data
    xp = get_array_module(data)
    if dim is None:                     # over the flattened tensor
        i = xp.asarray(fn(data), dtype=np.int64)
        return Tensor(i.reshape((1,) * data.ndim) if keepdim else i)
    d = _single_dim(dim, data.ndim, name)
    if data.ndim == 0:
        return Tensor(xp.zeros((), np.int64))
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


def logsumexp(x, dim, keepdim=False):
    x = as_tensor_arg(x)
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
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to(np.int64)
    if x.ndim == 0:
        return x * 1
    return CumSum.apply(x, _single_dim(dim, x.ndim, "cumsum"))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None): (Σ|x|^p)^(1/p).

    ``p`` may be 'fro' or 2, 1, inf, -inf, 0 (count of non-zeros) or any other number.
    Matrix norms other than 'fro' ('nuc', spectral) are not supported.

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
    if p == np.inf:
        return amax(E.abs(x), axes, keepdim)
    if p == -np.inf:
        return amin(E.abs(x), axes, keepdim)
    if p == 0:                          # the count of non-zeros (zero gradient)
        return sum(E.sign(E.abs(x)), axes, keepdim)
    if p == 1:
        return sum(E.abs(x), axes, keepdim)
    return E.pow(sum(E.pow(E.abs(x), p), axes, keepdim), 1.0 / p)
