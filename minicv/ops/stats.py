"""Statistics, scans and searching: nansum, nanmean, nanmedian, aminmax, msort, cummax,
cummin, logcumsumexp, quantile, nanquantile, kthvalue, mode, diff, bucketize, searchsorted,
isin, histc, cov and corrcoef.

The order statistics (nanmedian, quantile, kthvalue, mode) sort stably with NaN last (the
machinery of :func:`minicv.ops.index.sort`) and pick entries with a ``Gather``, so their
gradient goes to the picked input entries. Running scans (cummax, cummin, logcumsumexp)
use :func:`_scan`, a log-step scan that runs unchanged on NumPy and CuPy.
"""
import warnings
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import (get_array_module, get_default_dtype, device_of,
                       scatter_add as _scatter_add_arrays)
from ..tensor import Tensor, as_tensor_arg
from . import elementwise as E, reduce as R
from .index import Gather, _index_grid, _order, sort
from .linalg import diag, matmul
from .reduce import values_indices
from .shape import cat, movedim

min_max = namedtuple("aminmax", ["min", "max"])


def _axis(dim, ndim, op):
    """One int ``dim`` of a rank-``ndim`` tensor (a 0-d tensor takes 0 or -1)."""
    R._single_dim(dim, ndim, op)                 # refuses tuples and None
    return R.normalize_dims(dim, max(ndim, 1))[0]


def _positions(n, axis, ndim, xp):
    """0, 1, ..., n-1 laid along ``axis`` of a rank-``ndim`` array (broadcasts)."""
    shape = [1] * ndim
    shape[axis] = n
    return xp.arange(n, dtype=np.int64).reshape(shape)


def _scan(a, ufunc, axis):
    """Inclusive scan of ``a`` along ``axis`` with an associative ufunc (maximum, minimum,
    logaddexp): out[i] = a[0] ∘ a[1] ∘ ... ∘ a[i].

    Hillis-Steele: after the step with shift s every entry combines the 2s entries ending
    at it, so ceil(log2 n) vectorised steps do it, on CuPy (which lacks
    ``ufunc.accumulate``). NumPy's one-pass ``accumulate`` is faster (a 1000x1000
    logcumsumexp: 148 -> 41 ms); for logaddexp it combines in another order than the GPU,
    so the two differ by rounding (float32: ~1e-7).
    """
    xp = get_array_module(a)
    if xp is np:
        return ufunc.accumulate(a, axis=axis)
    out = xp.moveaxis(a, axis, -1).copy()                      # (..., n)
    n, s = out.shape[-1], 1
    while s < n:
        out[..., s:] = ufunc(out[..., s:], out[..., :-s])
        s *= 2
    return xp.moveaxis(out, -1, axis)


# ----------------------------------------------------------------------------- nan reductions

class NanSum(Function):
    """Σ x over ``axes`` with NaNs counted as 0, or with ``mean`` that sum over the count
    c of non-NaN elements. d/dx = m (m/c for the mean), m = 1 where x is not NaN, else 0;
    the upstream gradient is multiplied by it, so an all-NaN slice's inf·0 gives NaN as
    in PyTorch. Saved: m and c.
    """
    @staticmethod
    def forward(ctx, x, axes, keepdim, mean):
        xp = get_array_module(x)
        keep = ~xp.isnan(x)
        y = xp.where(keep, x, 0).sum(axis=axes, keepdims=keepdim)
        ctx.keep, ctx.axes, ctx.keepdim, ctx.count = keep, axes, keepdim, None
        if mean:
            # counted in float64 at least: a float16 count overflows past 65504 elements
            ctx.count = keep.sum(axis=axes, keepdims=True).astype(
                np.promote_types(x.dtype, np.float64))
            with np.errstate(divide="ignore", invalid="ignore"):
                y = y / R._squeeze(ctx.count, axes, keepdim)
        return xp.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        g = R._expand_back(gy, ctx.keep.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = g * ctx.keep if ctx.count is None else g * ctx.keep / ctx.count
        return gx.astype(gy.dtype, copy=False), None, None, None


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all) treating NaN as zero; integers
    and bools give int64, as :func:`sum`.

    Example::

        mc.nansum(mc.tensor([1., float("nan"), 2.]))       # tensor(3.)
    """
    x = as_tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        return R.sum(x, dim, keepdim)
    return NanSum.apply(x, R.normalize_dims(dim, x.ndim), keepdim, False)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements over ``dim``; NaN where all are NaN (or none exist).
    Needs a floating tensor; ``dtype`` then converts it first.

    Example::

        mc.nanmean(mc.tensor([[1., float("nan")], [2., 4.]]), dim=1)   # [1., 3.]
    """
    R._floating_dtype_arg(dtype, "nanmean")
    x = R._floating(input, "nanmean")
    if dtype is not None:
        x = x.to(dtype)
    return NanSum.apply(x, R.normalize_dims(dim, x.ndim), keepdim, True)


class NanMedianAll(R.MedianAll):
    """The lower median of the non-NaN elements (NaN if all are NaN); the gradient is
    shared by the elements equal to it (by the NaNs when it is NaN), as in PyTorch."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        flat = xp.sort(x.reshape(-1))                       # NaNs sort last
        if flat.size == 0:                                  # NaN, as PyTorch
            y = xp.asarray(R._empty_median(x.dtype), dtype=x.dtype)
        elif x.dtype.kind == "f":                           # an index array: no sync
            valid = (~xp.isnan(flat)).sum()
            y = xp.take(flat, xp.maximum((valid - 1) // 2, 0))
        else:
            y = flat[(flat.size - 1) // 2]
        ctx.save_for_backward(x, y)
        return xp.asarray(y, dtype=x.dtype)


def _pick_sorted(x, d, k, keepdim):
    """``(values, indices)``: entry ``k`` (an int64 array with size 1 along ``d``) of ``x``
    sorted stably along ``d`` with NaN last; the gradient goes to the picked entries."""
    order = _order(x, d, descending=False)
    idx = get_array_module(order).take_along_axis(order, k, axis=d)
    values = Gather.apply(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices(values, Tensor(idx))


def _kept_shape(x, d):
    return x.shape[:d] + (1,) + x.shape[d + 1:]


def _nonempty_dim(x, d, op):
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (the "
                         f"input has shape {list(x.shape)})")


def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring NaN: the lower median of the non-NaN values, of all
    elements or along ``dim`` as ``(values, indices)``; NaN where a slice is all NaN
    (its index then points at the slice's first NaN).

    Along ``dim`` the gradient goes to the returned index. Among equal values the index
    is the one a stable sort puts in the middle (PyTorch leaves it unspecified).

    Example::

        mc.nanmedian(mc.tensor([3., float("nan"), 1.]))       # tensor(1.)
    """
    x = as_tensor_arg(input)
    R._refuse_bool(x, "nanmedian")
    if dim is None:
        return NanMedianAll.apply(x)
    xp = get_array_module(x.data)
    d = _axis(dim, x.ndim, "nanmedian")
    if x.ndim == 0:
        return values_indices(x * 1, Tensor(xp.zeros((), np.int64)))
    _nonempty_dim(x, d, "nanmedian")
    valid = x.shape[d]
    if x.dtype.kind == "f":
        valid = (~xp.isnan(x.data)).sum(axis=d, keepdims=True)
    k = xp.broadcast_to(xp.maximum((valid - 1) // 2, 0), _kept_shape(x, d))
    return _pick_sorted(x, d, xp.ascontiguousarray(k).astype(np.int64), keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` of all elements or along one ``dim``, as a named tuple. Ties share
    the gradient evenly; a slice holding NaN gives NaN and a NaN gradient (as
    :func:`amax`).

    Example::

        lo, hi = mc.aminmax(mc.tensor([[1., 5.], [3., 0.]]), dim=1)   # [1, 0], [5, 3]
    """
    x = as_tensor_arg(input)
    if dim is None:
        if x.data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity; pass a non-empty input")
        axis = None
    else:
        axis = _axis(dim, x.ndim, "aminmax")
        _nonempty_dim(x, axis, "aminmax")
    return min_max(R.amin(x, axis, keepdim), R.amax(x, axis, keepdim))


def msort(input):
    """``input`` sorted along its first dimension (``sort(input, dim=0).values``).

    Example::

        mc.msort(mc.tensor([[3., 1.], [1., 2.]]))        # [[1., 1.], [3., 2.]]
    """
    return sort(input, dim=0).values


# ----------------------------------------------------------------------------- scans

class CumExtreme(Function):
    """Running max (or min) along ``axis`` and the index where it was last reached.

    As PyTorch, x_i takes over when x_i >= the running max (<= for min), so ties point
    at the latest index, and a NaN takes over and stays: the index is then the latest
    NaN. d input = d values scatter-added at the indices. Saved: the indices.
    """
    @staticmethod
    def forward(ctx, x, axis, is_min):
        xp = get_array_module(x)
        values = _scan(x, np.minimum if is_min else np.maximum, axis)
        takes_over = x == values
        if x.dtype.kind == "f":
            takes_over |= xp.isnan(x)
        pos = _positions(x.shape[axis], axis, x.ndim, xp)
        idx = _scan(xp.where(takes_over, pos, 0), np.maximum, axis)
        ctx.shape, ctx.axis, ctx.idx = x.shape, axis, idx
        return values, idx

    @staticmethod
    def backward(ctx, gv, gi):
        xp = get_array_module(gv)
        gx = xp.zeros(ctx.shape, gv.dtype)
        _scatter_add_arrays(xp, gx, _index_grid(xp, ctx.idx, ctx.axis), gv)
        return gx, None, None


def _cum_extreme(input, dim, is_min, op):
    x = as_tensor_arg(input)
    d = _axis(dim, x.ndim, op)
    if x.ndim == 0:
        values, idx = CumExtreme.apply(x.reshape(1), 0, is_min)
        return values_indices(values.reshape(()), idx.reshape(()))
    return values_indices(*CumExtreme.apply(x, d, is_min))


def cummax(input, dim):
    """Running maximum along ``dim`` and the index of each running maximum:
    ``(values, indices)``. Ties point at the latest index; NaN propagates.

    Example::

        mc.cummax(mc.tensor([1., 3., 2., 3.]), 0)   # values [1, 3, 3, 3], indices [0, 1, 1, 3]
    """
    return _cum_extreme(input, dim, False, "cummax")


def cummin(input, dim):
    """Running minimum along ``dim`` and its indices; see :func:`cummax`."""
    return _cum_extreme(input, dim, True, "cummin")


class LogCumSumExp(Function):
    """y_i = log Σ_{j<=i} exp(x_j), a scan with logaddexp (no overflow, no underflow).

    dx_j = Σ_{i>=j} g_i·exp(x_j - y_i), computed as PyTorch does: the positive and the
    negative parts of g in log space, each a reversed logcumsumexp. Saved: x, y.
    """
    @staticmethod
    def forward(ctx, x, axis):
        with np.errstate(invalid="ignore"):                  # NaN inputs give NaN
            y = _scan(x, np.logaddexp, axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        xp, axis = get_array_module(x), ctx.axis
        lowest = gy.dtype.type(np.finfo(gy.dtype).min)

        def reversed_scan(a):
            return xp.flip(_scan(xp.flip(a, axis), np.logaddexp, axis), axis)

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_g = xp.log(xp.abs(gy))
            pos = reversed_scan(xp.where(gy > 0, log_g, lowest) - y)
            neg = reversed_scan(xp.where(gy < 0, log_g, lowest) - y)
            gx = xp.exp(pos + x) - xp.exp(neg + x)
        return gx.astype(gy.dtype, copy=False), None


def logcumsumexp(input, dim):
    """log Σ exp over the running prefix along ``dim``: out_i = log Σ_{j<=i} exp(x_j),
    computed without overflow or underflow. Needs a floating tensor (as PyTorch).

    Example::

        mc.logcumsumexp(mc.tensor([0., 0., 0.]), 0)       # [0., 0.6931, 1.0986]
    """
    x = R._floating(input, "logcumsumexp")
    d = _axis(dim, x.ndim, "logcumsumexp")
    if x.ndim == 0:
        return x * 1
    return LogCumSumExp.apply(x, d)


# ----------------------------------------------------------------------------- quantiles

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _check_q(q, x, op):
    """``q`` as a 1-D array of x's dtype on x's device, and whether it was a scalar."""
    xp = get_array_module(x.data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ValueError(f"{op}() q must be a scalar or 1D tensor, got shape "
                             f"{list(q.shape)}")
        if q.dtype != x.dtype:
            raise TypeError(f"{op}() q tensor must be same dtype as the input tensor "
                            f"({x.dtype}), got {q.dtype}: convert it with .to({x.dtype})")
        qs = q.data.reshape(-1)
        # checked on the CPU only, as PyTorch: on a GPU reading q would synchronise
        if xp is np and qs.size and bool((qs.min() < 0) | (qs.max() > 1)):
            raise ValueError(f"{op}() q values must be in the range [0, 1]")
        return qs, q.ndim == 0
    if not 0 <= q <= 1:
        raise ValueError(f"{op}() q must be in the range [0, 1] but got {q}")
    return xp.asarray([q], dtype=x.dtype), True


class RankWeight(Function):
    """The weight w = rank - floor(rank) of a 'linear' quantile as a function of q, where
    rank = q·slope: dw/dq = slope (0 where the rank does not follow q: a NaN slice of
    ``quantile``, a clamped rank of ``nanquantile``), as PyTorch. Saved: the slope."""
    @staticmethod
    def forward(ctx, q, w, slope):
        ctx.slope = slope
        return w

    @staticmethod
    def backward(ctx, gw):
        # a fixed rank stops the gradient even where gw is NaN (a NaN neighbour)
        xp = get_array_module(gw)
        return xp.where(ctx.slope == 0, 0, gw * ctx.slope).astype(gw.dtype), None, None


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    """PyTorch's algorithm: sort (NaN last), rank = q·(n - 1) (n: the non-NaN count with
    ``ignore_nan``; a slice holding NaN gets the last rank, hence NaN, without), round the
    rank as ``interpolation`` says and gather / interpolate the neighbours."""
    x = as_tensor_arg(input)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}() input tensor must be either float or double dtype, got "
                        f"{x.dtype}: call .float() first")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest, but got {interpolation}")
    qs, scalar_q = _check_q(q, x, op)
    if x.data.size == 0:
        raise ValueError(f"{op}() input tensor must be non-empty, got shape "
                         f"{list(x.shape)}")
    xp = get_array_module(x.data)
    if dim is None:
        v = x.reshape(-1)
    else:
        d = _axis(dim, x.ndim, op)
        v = movedim(x, d, -1) if x.ndim else x.reshape(1)
    s = sort(v, dim=-1).values                                 # (..., n), NaN last
    n = s.shape[-1]
    nq = qs.shape[0]
    qs = qs.reshape((nq,) + (1,) * s.ndim)                     # (Q, 1, ..., 1)
    nans = xp.isnan(s.data)
    if ignore_nan:
        valid = (n - nans.sum(axis=-1, keepdims=True)).astype(x.dtype)
        ranks = qs * (valid - 1)                               # (Q, ..., 1)
        slope = xp.where(ranks < 0, 0, valid - 1)
        ranks = xp.maximum(ranks, 0)
    else:
        last = x.dtype.type(n - 1)
        has_nan = nans.any(axis=-1, keepdims=True)
        ranks = xp.where(has_nan, last, qs * last)
        slope = xp.where(has_nan, 0, last)
    rounding = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}
    if interpolation in rounding:
        ranks = rounding[interpolation](ranks)
    ranks = xp.ascontiguousarray(xp.broadcast_to(ranks, (nq,) + s.shape[:-1] + (1,)))
    sq = s.unsqueeze(0).expand(nq, *s.shape)                   # (Q, ..., n)
    below = ranks.astype(np.int64)
    out = Gather.apply(sq, s.ndim, below)                      # (Q, ..., 1)
    if interpolation in ("linear", "midpoint"):
        above = Gather.apply(sq, s.ndim, xp.ceil(ranks).astype(np.int64))
        w = ranks - below if interpolation == "linear" else xp.full_like(ranks, 0.5)
        w = Tensor(w.astype(x.dtype, copy=False))
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            slope = xp.broadcast_to(slope, w.shape).astype(x.dtype)
            w = RankWeight.apply(q.reshape((nq,) + (1,) * s.ndim), w.data, slope)
        out = E.lerp(out, above, w)
    out = out.squeeze(-1)                                      # (Q, ...)
    if keepdim and dim is None:
        out = out.reshape((nq,) + (1,) * x.ndim)
    elif keepdim and x.ndim:
        out = out.unsqueeze(d + 1)
    return out.squeeze(0) if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles of ``input`` along ``dim`` (of all elements when None).

    Args:
        q: a number in [0, 1] or a 1-D tensor of them (of input's dtype); a tensor adds a
            leading output dimension, one entry per q.
        interpolation: between the two sorted neighbours i <= q·(n-1) <= j:
            'linear' (x_i + (x_j - x_i)·frac), 'lower' (x_i), 'higher' (x_j),
            'midpoint' ((x_i + x_j)/2) or 'nearest' (rounding half to even).

    A slice holding NaN gives NaN (see :func:`nanquantile`). The gradient goes to the
    neighbours, weighted as in the interpolation, and with 'linear' also to a tensor ``q``
    (d/dq = (x_j - x_i)·(n-1)); the other interpolations give ``q`` none, as PyTorch.

    Shape: (len(q),)? + input's shape without ``dim`` (with size 1 there if ``keepdim``).

    Example::

        mc.quantile(mc.tensor([0., 1., 2., 3.]), 0.5)                # tensor(1.5)
        mc.quantile(mc.randn(8, 3), mc.tensor([0.25, 0.75]), dim=0)  # shape (2, 3)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` of the non-NaN values; NaN where a slice is all NaN.

    Example::

        mc.nanquantile(mc.tensor([0., float("nan"), 2.]), 0.5)     # tensor(1.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ----------------------------------------------------------------------------- selection

def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest entry along ``dim`` (k counts from 1) and its index, as
    ``(values, indices)``; NaN counts as the largest value. The gradient goes to the
    returned index. Among equal values the index is the k-th in a stable sort (PyTorch
    leaves it unspecified).

    Example::

        mc.kthvalue(mc.tensor([3., 1., 2.]), 2)          # values 2., indices 2
    """
    x = as_tensor_arg(input)
    R._refuse_bool(x, "kthvalue")
    xp = get_array_module(x.data)
    d = _axis(dim, x.ndim, "kthvalue")
    _nonempty_dim(x, d, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if isinstance(k, bool) or not 1 <= k <= n:
        raise ValueError(f"kthvalue(): selected number k={k} out of range for dimension "
                         f"{d} of size {n}: use 1 <= k <= {n}")
    if x.ndim == 0:
        return values_indices(x * 1, Tensor(xp.zeros((), np.int64)))
    return _pick_sorted(x, d, xp.full(_kept_shape(x, d), k - 1, np.int64), keepdim)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` and its index, as ``(values, indices)``.

    Among equally frequent values the smallest wins and the index is its last
    occurrence, as PyTorch's CPU version gives; each NaN counts as a distinct value
    (NaN != NaN). The gradient goes to the returned index.

    Example::

        mc.mode(mc.tensor([5, 1, 5, 1, 7]))             # values 1, indices 3
    """
    x = as_tensor_arg(input)
    xp = get_array_module(x.data)
    d = _axis(dim, x.ndim, "mode")
    if x.ndim == 0:
        return values_indices(x * 1, Tensor(xp.zeros((), np.int64)))
    _nonempty_dim(x, d, "mode")
    order = xp.moveaxis(_order(x, d, descending=False), d, -1)      # (..., n), stable
    s = xp.take_along_axis(xp.moveaxis(x.data, d, -1), order, axis=-1)
    n = s.shape[-1]
    starts = xp.ones(s.shape, dtype=bool)                      # where a run of equals starts
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    pos = xp.arange(n, dtype=np.int64)
    run_start = _scan(xp.where(starts, pos, 0), np.maximum, -1)
    count = pos - run_start + 1                  # so far in the run; its length at its end
    best = xp.argmax(count, axis=-1)[..., None]  # end of the first longest run
    idx = xp.moveaxis(xp.take_along_axis(order, best, axis=-1), -1, d)   # kept dims
    values = Gather.apply(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices(values, Tensor(idx))


# ----------------------------------------------------------------------------- differences

def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: out[i] = x[i+1] - x[i], applied
    ``n`` times, after concatenating ``prepend`` and ``append`` (tensors shaped as input
    except along ``dim``). Bool tensors give x[i+1] != x[i].

    Shape: input's shape with size (m - n) along ``dim`` (0 if negative), where m is the
    size after concatenation.

    Example::

        mc.diff(mc.tensor([1., 4., 9., 16.]))          # [3., 5., 7.]
        mc.diff(mc.tensor([1., 4., 9.]), n=2)          # [2.]
    """
    x = as_tensor_arg(input)
    if x.ndim == 0:
        raise ValueError("diff expects input to be at least one-dimensional, got a 0-d "
                         "tensor: reshape it to (1,) first")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: order must be a non-negative int but got {n!r}")
    d = _axis(dim, x.ndim, "diff")
    parts = [x]
    for name, t in (("prepend", prepend), ("append", append)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
        if t.ndim != x.ndim or _kept_shape(t, d) != _kept_shape(x, d):
            raise ValueError(f"diff expects the shape of tensor to {name} ({list(t.shape)}) "
                             f"to match that of input ({list(x.shape)}) except along the "
                             f"differencing dimension {d}")
        parts.insert(0 if name == "prepend" else len(parts), t)
    if n == 0:                           # PyTorch: the input itself, prepend/append unused
        return x.clone()
    if len(parts) > 1:
        x = cat(parts, d)
    head = (slice(None),) * d
    for _ in range(n):
        later, earlier = x[head + (slice(1, None),)], x[head + (slice(None, -1),)]
        x = E.ne(later, earlier) if x.dtype == np.bool_ else later - earlier
    return x


# ----------------------------------------------------------------------------- searching

def _binary_search(seq, values, right, sorter):
    """For every value, the first position i along seq's last dim with seq[i] >= value
    (> with ``right``): PyTorch's binary search, run on all values at once.

    Like PyTorch's loop it steps right past a NaN in ``seq`` and places a NaN value last;
    ``sorter`` (indices that sort ``seq``) is read instead of sorting. ``seq`` is 1-D, or
    has the leading dims of ``values``. Each of the bit_length(n) steps halves every
    interval [lo, hi).
    """
    xp = get_array_module(seq)
    n = seq.shape[-1]
    lo = xp.zeros(values.shape, np.int64)
    hi = xp.full(values.shape, n, np.int64)
    for _ in range(int(n).bit_length()):
        mid = (lo + hi) // 2
        at = xp.minimum(mid, n - 1)                     # lo == hi == n: any valid place
        if seq.ndim == 1:
            m = seq[at if sorter is None else sorter[at]]
        else:
            if sorter is not None:
                at = xp.take_along_axis(sorter, at, axis=-1)
            m = xp.take_along_axis(seq, at, axis=-1)
        go_right = ~(m > values) if right else ~(m >= values)
        active = lo < hi
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
    return lo


def _search_operand(v, like, name, op):
    """A tensor operand's array (a number becomes a 0-d array on like's device)."""
    xp = get_array_module(like)
    a = v.data if isinstance(v, Tensor) else xp.asarray(as_tensor_arg(v).data)
    if a.dtype == np.bool_:
        raise TypeError(f"{op}(): {name} of dtype bool is not supported; convert it with "
                        f".int() or .float()")
    return a


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where ``input``'s values would go in ``sorted_sequence`` to keep it sorted: the
    first index i with sorted_sequence[i] >= value ('left'), or > value (``right=True`` or
    ``side='right'``), searched along the last dim. Not differentiable.

    Args:
        sorted_sequence: 1-D, or N-D whose leading dims match input's (one row each).
        input: a tensor or a number (a number only with a 1-D sequence).
        sorter: int64 indices that sort an unsorted ``sorted_sequence`` along its last dim.

    Shape: input's shape; int64 (int32 with ``out_int32``).

    Example::

        mc.searchsorted(mc.tensor([1, 3, 5, 7]), mc.tensor([3, 6]))   # [1, 3]
    """
    op = "searchsorted"
    if side not in (None, "left", "right"):
        raise ValueError(f"{op}(): side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise ValueError(f"{op}(): side and right can't be set to opposites, got side of "
                         f"left while right was True")
    seq = _search_operand(sorted_sequence, None, "sorted_sequence", op)
    values = _search_operand(input, seq, "input", op)
    if isinstance(input, Tensor) and device_of(values) != device_of(seq):
        raise RuntimeError(f"{op}(): sorted_sequence is on {device_of(seq)} but input is on "
                           f"{device_of(values)}: move both to one device")
    if seq.ndim == 0 or (seq.ndim > 1 and (values.ndim != seq.ndim or
                                          values.shape[:-1] != seq.shape[:-1])):
        raise ValueError(f"{op}(): boundaries tensor should be 1 dimension or the first "
                         f"N-1 dimensions of boundaries tensor and input value tensor must "
                         f"match, but we got boundaries tensor {list(seq.shape)} and input "
                         f"value tensor {list(values.shape)}")
    if sorter is not None:
        sorter = as_tensor_arg(sorter).data
        if sorter.dtype != np.int64:
            raise TypeError(f"{op}(): sorter must be a tensor of long dtype but got dtype "
                            f"{sorter.dtype}")
        if sorter.shape != seq.shape:
            raise ValueError(f"{op}(): boundary and sorter must have the same size, but got "
                             f"boundary tensor {list(seq.shape)} and sorter tensor "
                             f"{list(sorter.shape)}")
        if sorter.size and bool((sorter.min() < 0) | (sorter.max() >= seq.shape[-1])):
            raise IndexError(f"{op}(): sorter index out of range [0, {seq.shape[-1]})")
    out = _binary_search(seq, values, right or side == "right", sorter)
    return Tensor(out.astype(np.int32) if out_int32 else out)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (with ``right``: boundaries[i-1] <= x <
    boundaries[i]), from 0 to len(boundaries). Not differentiable.

    Shape: input's shape (a number gives a 0-d tensor); int64 (int32 with ``out_int32``).

    Example::

        mc.bucketize(mc.tensor([0., 3., 9.]), mc.tensor([1., 3., 5.]))   # [0, 1, 3]
    """
    b = as_tensor_arg(boundaries)
    if b.ndim != 1:
        raise ValueError(f"bucketize: boundaries tensor must be 1 dimension, but got "
                         f"dim({b.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` occurs in ``test_elements`` (either may be a
    number, not both), as a bool tensor of elements' shape; ``invert`` negates it. NaN
    occurs nowhere. Not differentiable.

    Example::

        mc.isin(mc.tensor([1, 2, 3]), mc.tensor([2, 5]))    # [False, True, False]
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() needs elements or test_elements to be a tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    like = (elements if isinstance(elements, Tensor) else test_elements).data
    e = _search_operand(elements, like, "elements", "isin")
    t = _search_operand(test_elements, like, "test_elements", "isin")
    xp = get_array_module(like)
    return Tensor(xp.isin(e, t.reshape(-1), assume_unique=assume_unique, invert=invert))


# ----------------------------------------------------------------------------- histogram

def _histc_range(d, lo, hi):
    """PyTorch's histc range: min == max asks for the data's range, and an empty range
    is widened to [v - 1, v + 1]."""
    if lo == hi and d.size:
        lo, hi = float(d.min()), float(d.max())          # reads the data (a sync on GPU)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"histc(): range of [{lo}, {hi}] is not finite: pass finite "
                         f"min and max (a NaN or inf in the data spoils the automatic range)")
    if lo > hi:
        raise ValueError(f"histc(): max must be larger than min, got min={lo}, "
                         f"max={hi}")
    return lo, hi


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``input`` with ``bins`` equal-width bins over [min, max]; with
    min == max (the default) over [input.min(), input.max()]. Values outside the range
    (and NaN) are not counted; max itself falls in the last bin. Floating input only;
    the counts have input's dtype. Not differentiable.

    Bin of x: floor((x - min)·bins / (max - min)), computed in input's dtype as PyTorch.

    Example::

        mc.histc(mc.tensor([1., 2., 1.]), bins=4, min=0, max=3)   # [0., 2., 1., 0.]
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        raise TypeError(f"histc(): input must be a floating tensor, got {x.dtype}: call "
                        f".float() first")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    if bins <= 0:
        raise ValueError(f"histc(): bins must be > 0, but got {bins}")
    d = x.data.reshape(-1)
    xp = get_array_module(d)
    lo, hi = _histc_range(d, float(min), float(max))
    lo, hi = x.dtype.type(lo), x.dtype.type(hi)           # the edges in input's dtype
    inside = (d >= lo) & (d <= hi)
    with np.errstate(invalid="ignore"):
        pos = ((d - lo) * bins / (hi - lo)).astype(np.int64)
    pos = xp.clip(xp.where(inside, pos, 0), 0, bins - 1)  # max lands in the last bin
    counts = xp.zeros(bins, x.dtype)
    _scatter_add_arrays(xp, counts, pos, inside.astype(x.dtype))
    return Tensor(counts)


# ----------------------------------------------------------------------------- covariance

def _variables(input, op):
    """cov's input: variables in rows, observations in columns (1-D: one variable)."""
    x = as_tensor_arg(input)
    if x.ndim > 2:
        raise ValueError(f"{op}(): expected input to have two or fewer dimensions but got "
                         f"an input with {x.ndim} dimensions")
    return x


def _cov_weights(w, name, n, kind):
    w = as_tensor_arg(w)
    if w.ndim > 1:
        raise ValueError(f"cov(): expected {name} to have one or fewer dimensions but got "
                         f"{name} with {w.ndim} dimensions")
    if w.dtype.kind not in kind:
        what = "integral" if kind == "iu" else "floating point"
        raise TypeError(f"cov(): expected {name} to have {what} dtype but got {name} with "
                        f"{w.dtype} dtype")
    if w.data.size != n:
        raise ValueError(f"cov(): expected {name} to have the same numel as there are "
                         f"observations in the input but got {w.data.size} != {n}")
    if w.data.size and bool(w.data.min() < 0):
        raise ValueError(f"cov(): {name} cannot be negative")
    return w


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance matrix of the variables in the rows of ``input`` (observations in the
    columns), as ``numpy.cov``:

        w = fweights·aweights,  avg = Σ w·x / Σ w,
        cov = (x - avg)·w·(x - avg)ᵀ / (Σ w - correction·Σ(w·aweights)/Σ w)

    (without weights the denominator is n - correction). A denominator <= 0 warns and
    gives inf/NaN. Integer input gives the default float dtype.

    Args:
        correction: int, 1 for the unbiased estimate, 0 for the maximum-likelihood one.
        fweights: integer repeat count of each observation, shape (n,).
        aweights: floating importance of each observation, shape (n,).

    Shape: input (V, n) or (n,) gives (V, V), or a 0-d tensor when V = 1.

    Example::

        mc.cov(mc.tensor([[0., 1., 2.], [2., 1., 0.]]))      # [[1., -1.], [-1., 1.]]
    """
    x = _variables(input, "cov")
    if x.dtype == np.bool_:
        raise TypeError("cov(): bool dtype is not supported for input; convert it with "
                        ".float()")
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov(): argument 'correction' must be int, not "
                        f"{type(correction).__name__}")
    if x.dtype.kind != "f":
        x = x.to(get_default_dtype())
    x = x.reshape(1, -1) if x.ndim < 2 else x                   # (V, n)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = _cov_weights(fweights, "fweights", n, "iu")
    if aweights is not None:
        aweights = _cov_weights(aweights, "aweights", n, "f")
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
        avg = x.sum(dim=1) / n
        norm = n - correction
    else:
        w_sum = w.sum()
        if not bool(w_sum.data != 0):
            raise ValueError("cov(): weights sum to zero, can't be normalized")
        avg = (x * w).sum(dim=1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
    if bool(as_tensor_arg(norm).data <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    xm = x - avg.unsqueeze(1)                                   # (V, n)
    c = matmul(xm, (xm if w is None else xm * w).t())           # (V, V)
    with np.errstate(divide="ignore", invalid="ignore"):         # warned above
        return E.div(c, norm).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input``:
    cov[i, j] / √(cov[i, i]·cov[j, j]), clipped to [-1, 1].

    Shape: input (V, n) or (n,) gives (V, V), or a 0-d tensor when V = 1.

    Example::

        mc.corrcoef(mc.tensor([[1., 2., 3.], [3., 2., 1.]]))  # [[1., -1.], [-1., 1.]]
    """
    c = cov(_variables(input, "corrcoef"))
    with np.errstate(divide="ignore", invalid="ignore"):        # a constant variable: NaN
        if c.ndim == 0:
            return c / c
        std = E.sqrt(diag(c))                                   # (V,)
        c = c / std.unsqueeze(1)
        c = c / std.unsqueeze(0)
    return E.clamp(c, -1, 1)
