"""Indexing along a dimension: gather, scatter, scatter_add, index_select, masked_fill,
masked_select, take_along_dim, nonzero (argwhere), index_put, the ordering ops sort, argsort
and topk, and the counting ops unique and bincount.

``gather`` and ``scatter`` address one element per entry of an ``index`` tensor: for
``dim = 1`` and a 3-D input,

    gather:   out[i][j][k] = input[i][index[i][j][k]][k]
    scatter:  out[i][index[i][j][k]][k] = src[i][j][k]

``index`` has the input's number of dimensions and may be smaller than the input (and than
``src``) in every dimension; only its own extent is read or written. Both are built on one
helper, :func:`_index_grid`, which turns ``index`` into a full NumPy advanced-indexing key.
Their backward passes are each other: the gradient of a gather is a scatter-add, and the
gradient of a scatter with respect to ``src`` is a gather.
"""
import numpy as np

from ..autograd import Function
from ..backend import (assign, get_array_module, scatter_add as _scatter_add_arrays,
                       scatter_extreme)
from ..tensor import Tensor, as_tensor_arg
from .reduce import values_indices
from .shape import SetItem, _dim, _index_key


def _index_grid(xp, index, dim):
    """An advanced-indexing key that addresses ``a[..., index, ...]`` element by element:
    ``index`` on axis ``dim`` and the position itself on every other axis."""
    grid = list(xp.ogrid[tuple(slice(0, n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


def _check_index(name, x, dim, index, src=None):
    """PyTorch's rules: an integer index of x's rank, no larger than x (except along dim)
    and than src, with every value in [0, size) along dim."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {index.dtype}: "
                        f"convert it with .long()")
    if index.ndim != max(x.ndim, 1) and not (x.ndim == 0 and index.ndim == 0):
        raise ValueError(f"{name}: index of shape {list(index.shape)} must have as many "
                         f"dimensions as the input of shape {list(x.shape)}")
    for d in range(index.ndim):
        if d != dim and x.ndim and index.shape[d] > x.shape[d]:
            raise ValueError(f"{name}: index of shape {list(index.shape)} is larger than the "
                             f"input of shape {list(x.shape)} in dimension {d}")
        if src is not None and src.ndim and index.shape[d] > src.shape[d]:
            raise ValueError(f"{name}: index of shape {list(index.shape)} is larger than src "
                             f"of shape {list(src.shape)} in dimension {d}")
    n = x.shape[dim] if x.ndim else 1
    if index.size and (index.min() < 0 or index.max() >= n):
        bad = index[(index < 0) | (index >= n)].reshape(-1)[0]
        raise IndexError(f"{name}: index {int(bad)} is out of bounds for dimension {dim} "
                         f"with size {n}")


def _head(a, shape):
    """The leading ``shape`` block of ``a`` (``src`` may be larger than ``index``)."""
    return a[tuple(slice(0, n) for n in shape)]


def _index_array(index, like):
    data = as_tensor_arg(index).data
    xp = get_array_module(like)
    return xp.asarray(data) if xp is not np else np.asarray(data)


# ----------------------------------------------------------------------------- gather

class Gather(Function):
    """out = input[grid(index)]; d input = scatter-add of d out at the same places."""
    @staticmethod
    def forward(ctx, x, dim, index):
        xp = get_array_module(x)
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return xp.asarray(x[_index_grid(xp, index, dim)])

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(ctx.shape, gy.dtype)
        _scatter_add_arrays(xp, gx, _index_grid(xp, ctx.index, ctx.dim), gy)
        return gx, None, None


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at the positions in ``index``.

    Args:
        input: any tensor. dim: the axis that ``index`` addresses (negative counts back).
        index: int64 tensor with input's rank; out has index's shape.

    Shape: out.shape == index.shape.

    Example::

        x = mc.tensor([[1., 2.], [3., 4.]])
        mc.gather(x, 1, mc.tensor([[0, 0], [1, 0]]))   # [[1., 1.], [4., 3.]]
    """
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    idx = _index_array(index, x.data)
    _check_index("gather", x, d, idx)
    if x.ndim == 0:
        return Gather.apply(x.reshape(1), 0, idx.reshape(1)).reshape(())
    return Gather.apply(x, d, idx)


# the dtypes that CuPy's add.at (cupyx.scatter_add) and maximum/minimum.at accept
_CUPY_AT_DTYPES = frozenset(map(np.dtype, ("int32", "int64", "uint32", "uint64", "float32",
                                            "float64")))


def _at(xp, op, target, index, values):
    """``target[index] op= values`` with repeated indices reducing (``ufunc.at``; op is
    "add", "maximum" or "minimum"). CuPy supports few dtypes there: others go through
    int32/float32 and are cast back (the same wrap-around for small integers)."""
    if op != "add" and (xp is np or target.dtype.kind == "f"):  # CuPy's rounds float64
        return scatter_extreme(xp, op, target, index, values)
    if xp is np:
        return _scatter_add_arrays(xp, target, index, values)
    ok = _CUPY_AT_DTYPES | ({np.dtype(np.float16)} if op == "add" else set())
    work = target if target.dtype in ok else target.astype(
        np.float32 if target.dtype.kind == "f" else np.int32)
    values = values.astype(work.dtype, copy=False)
    if op == "add":
        _scatter_add_arrays(xp, work, index, values)
    else:
        getattr(xp, op).at(work, index, values)
    if work is not target:
        target[...] = work.astype(target.dtype)
    return target


# ----------------------------------------------------------------------------- scatter

class Scatter(Function):
    """out = input with out[grid(index)] = src (or += src with ``add``).

    d input = d out, except at the overwritten places (scatter); d src = gather(d out).
    """
    @staticmethod
    def forward(ctx, x, src, dim, index, add):
        xp = get_array_module(x)
        key = _index_grid(xp, index, dim)
        ctx.key, ctx.add, ctx.src_shape = key, add, src.shape
        out = x.copy()
        values = xp.broadcast_to(src, index.shape) if src.ndim == 0 else \
            _head(src, index.shape)
        if add:
            _at(xp, "add", out, key, values)
        else:
            assign(out, key, values)                   # a repeated place keeps the last
        return out

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = gy
            if not ctx.add:
                gx = gy.copy()
                gx[ctx.key] = 0
        if ctx.needs_input_grad[1]:
            picked = gy[ctx.key]
            if len(ctx.src_shape) == 0:
                gsrc = xp.asarray(picked.sum(), dtype=gy.dtype)
            else:
                gsrc = xp.zeros(ctx.src_shape, gy.dtype)
                gsrc[tuple(slice(0, n) for n in picked.shape)] = picked
        return gx, gsrc, None, None, None


def _scatter(name, input, dim, index, src, value, reduce, add):
    if reduce is not None:
        raise ValueError(f"{name}: reduce={reduce!r} is not supported; use scatter_add for "
                         f"sums")
    if (src is None) == (value is None):
        raise TypeError(f"{name}() takes either src (a tensor) or value (a number)")
    x = as_tensor_arg(input)
    if src is None or not isinstance(src, Tensor):
        v = value if src is None else src
        src = Tensor(get_array_module(x.data).asarray(v, dtype=x.dtype))
    if src.dtype != x.dtype:
        raise TypeError(f"{name}: src has dtype {src.dtype} but the input has {x.dtype}: "
                        f"convert one of them (e.g. src.to({x.dtype.name}))")
    d = _dim(dim, x.ndim)
    idx = _index_array(index, x.data)
    _check_index(name, x, d, idx, src if src.ndim else None)
    return Scatter.apply(x, src, d, idx, add)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (or the number ``value``) written at ``index``
    along ``dim``. Where ``index`` repeats a position, which write wins is unspecified
    (as in PyTorch).

    Shape: out has input's shape; index has input's rank; src is at least index's size.

    Example::

        labels = mc.tensor([[2], [0]])
        mc.zeros(2, 3).scatter(1, labels, 1.0)    # one-hot rows [[0, 0, 1], [1, 0, 0]]
    """
    if src is not None and not isinstance(src, Tensor) and value is None:
        src, value = None, src            # scatter(dim, index, 1.0): the value overload
    return _scatter("scatter", input, dim, index, src, value, reduce, add=False)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeated
    positions accumulate.

    Example::

        mc.zeros(3).scatter_add(0, mc.tensor([0, 2, 0]), mc.ones(3))   # [2., 0., 1.]
    """
    return _scatter("scatter_add", input, dim, index, src, None, None, add=True)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place :func:`scatter` (recorded by autograd like every in-place op)."""
    return self._update("scatter_", lambda t: scatter(t, dim, index, src, value,
                                                      reduce=reduce), src, cast=True)


def scatter_add_(self, dim, index, src):
    """In-place :func:`scatter_add`."""
    return self._update("scatter_add_", lambda t: scatter_add(t, dim, index, src), src,
                        cast=True)


# ----------------------------------------------------------------------------- index_select

class IndexSelect(Function):
    """out = take(input, index, axis=dim); d input = scatter-add of d out along dim."""
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return get_array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(ctx.shape, gy.dtype)
        moved = xp.moveaxis(gx, ctx.dim, 0)                 # (n, ...) view of gx
        _scatter_add_arrays(xp, moved, ctx.index, xp.moveaxis(gy, ctx.dim, 0))
        return gx, None, None


def index_select(input, dim, index):
    """The entries of ``input`` along ``dim`` listed in the 1-D integer ``index``.

    Shape: input's shape with size len(index) in dimension ``dim``.

    Example::

        mc.index_select(mc.arange(6.).reshape(2, 3), 1, mc.tensor([2, 0]))   # (2, 2)
    """
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    idx = _index_array(index, x.data)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D integer tensor, got shape "
                         f"{list(idx.shape)} and dtype {idx.dtype}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index_select: index out of range for dimension {d} of size {n}: "
                         f"indices must lie in [0, {n - 1}]")
    if x.ndim == 0:
        return IndexSelect.apply(x.reshape(1), 0, idx.reshape(-1)).reshape(())
    return IndexSelect.apply(x, d, idx.reshape(-1))


# ----------------------------------------------------------------------------- masked_fill

def masked_fill(input, mask, value):
    """``input`` with ``value`` wherever the bool ``mask`` (broadcast to input) is true.

    ``value`` is a number or a 0-d tensor (which then receives the summed gradient).

    Example::

        scores.masked_fill(pad_mask, float("-inf"))
    """
    from .elementwise import Where
    x = as_tensor_arg(input)
    m = as_tensor_arg(mask).data
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}: compare "
                        f"first (e.g. x > 0) or use mask.bool()")
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"masked_fill: mask of shape {list(m.shape)} does not broadcast to "
                         f"the input shape {list(x.shape)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill only supports a 0-dimensional value tensor, got "
                             f"shape {list(value.shape)}")
        v = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        v = Tensor(get_array_module(x.data).asarray(value).astype(x.dtype))
    return Where.apply(m, v, x)


def masked_fill_(self, mask, value):
    """In-place :func:`masked_fill` (recorded by autograd like every in-place op)."""
    return self._update("masked_fill_", lambda t: masked_fill(t, mask, value), value)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple``
    one 1-D index tensor per dimension (what ``x[...]`` accepts)."""
    d = as_tensor_arg(input).data
    xp = get_array_module(d)
    idx = xp.nonzero(xp.atleast_1d(d))
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in idx)
    if d.ndim == 0:
        return Tensor(xp.zeros((len(idx[0]), 0), np.int64))
    return Tensor(xp.stack(idx, axis=1).astype(np.int64).reshape(-1, d.ndim))


def argwhere(input):
    """Indices of the non-zero elements as an (n, ndim) int64 tensor (``nonzero``)."""
    return nonzero(input)


# ----------------------------------------------------------------------------- masked_select

class MaskedSelect(Function):
    """out = input[mask] (both broadcast to one shape), a 1-D tensor; d input = d out
    written back at the mask's places (zeros elsewhere)."""
    @staticmethod
    def forward(ctx, x, mask):
        xp = get_array_module(x)
        shape = np.broadcast_shapes(x.shape, mask.shape)
        ctx.shape, ctx.mask = shape, xp.broadcast_to(mask, shape)
        return xp.broadcast_to(x, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, gy):
        gx = get_array_module(gy).zeros(ctx.shape, gy.dtype)
        gx[ctx.mask] = gy
        return gx, None


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is true, as a 1-D tensor (input
    and mask broadcast together first).

    Example::

        x = mc.tensor([[1., -2.], [3., -4.]])
        mc.masked_select(x, x > 0)                 # tensor([1., 3.])
    """
    x = as_tensor_arg(input)
    m, _ = _bool_mask("masked_select", x, mask)
    return MaskedSelect.apply(x, m)


def _bool_mask(name, x, mask):
    """``mask`` as a bool array on x's device, and the shape x and mask broadcast to."""
    m = _index_array(mask, x.data)
    if m.dtype != np.bool_:
        raise TypeError(f"{name}: mask must be a bool tensor, got {m.dtype}: compare "
                        f"first (e.g. x > 0) or use mask.bool()")
    try:
        return m, np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ValueError(f"{name}: mask of shape {list(m.shape)} and input of shape "
                         f"{list(x.shape)} do not broadcast") from None


def take_along_dim(input, indices, dim=None):
    """``input`` picked at ``indices`` along ``dim``, like ``np.take_along_axis``: a
    :func:`gather` whose input and indices broadcast in the other dimensions. With
    ``dim=None`` both are flattened first.

    With ``dim`` given, a negative index counts back from the end, as in PyTorch: -1 is the
    last position along ``dim``. Indices are wrapped before the gather, so the gradient goes
    to the wrapped place. ``dim=None`` and :func:`gather` accept only [0, size), as PyTorch.
    Outside [-size, size) minicv raises IndexError, where PyTorch 2.x silently takes the index
    modulo size (``index % size``): a wrapped out-of-range index is almost always a bug.

    Shape: the broadcast of input and indices, with indices' size along ``dim``.

    Example::

        x = mc.tensor([[10., 30., 20.], [60., 40., 50.]])
        mc.take_along_dim(x, x.argmax(dim=1, keepdim=True), dim=1)   # [[30.], [60.]]
    """
    x = as_tensor_arg(input)
    idx = _index_array(indices, x.data)
    if dim is None:
        return gather(x.reshape(-1), 0, idx.reshape(-1))
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim: input of shape {list(x.shape)} and indices of "
                         f"shape {list(idx.shape)} must have the same number of dimensions")
    d = _dim(dim, x.ndim)
    try:
        common = list(np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                          idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    except ValueError:
        raise ValueError(f"take_along_dim: input of shape {list(x.shape)} and indices of "
                         f"shape {list(idx.shape)} do not broadcast outside dim {d}") from None
    x_shape, idx_shape = list(common), list(common)
    x_shape[d], idx_shape[d] = x.shape[d], idx.shape[d]
    if list(x.shape) != x_shape:
        x = x.expand(*x_shape)
    xp = get_array_module(idx)
    if idx.dtype.kind == "i" and idx.size and idx.min() < 0:
        n = x.shape[d]
        if idx.min() < -n:     # wrapping once must land in range, else gather's IndexError
            raise IndexError(f"take_along_dim: index {int(idx.min())} is out of bounds for "
                             f"dimension {d} with size {n}: use indices in [-{n}, {n})")
        idx = xp.where(idx < 0, idx + n, idx)
    return gather(x, d, xp.broadcast_to(idx, tuple(idx_shape)))


# ----------------------------------------------------------------------------- ordering

def _order(x, dim, descending):
    """Indices that sort ``x`` along ``dim``, stably (ties keep their order), with NaN
    counted as the largest value: last when ascending, first when descending (PyTorch).

    A reversed ascending sort would reverse the ties too, so descending sorts ascending
    by a key that reverses the order: ``~x`` for integers and bools (-x - 1, which cannot
    overflow as -x does for the smallest int64), ``-x`` for floats. NaN stays NaN under
    negation and so still sorts last; a second stable pass moves the NaNs to the front.
    """
    d = x.data
    xp = get_array_module(d)
    if not descending:
        return xp.argsort(d, axis=dim, kind="stable").astype(np.int64)
    if d.dtype.kind != "f":
        return xp.argsort(~d, axis=dim, kind="stable").astype(np.int64)
    idx = xp.argsort(-d, axis=dim, kind="stable")
    is_nan = xp.isnan(xp.take_along_axis(d, idx, axis=dim))
    # On a GPU asking whether there is any NaN would synchronise: always reorder there
    if xp is not np or is_nan.any():
        first = xp.argsort(~is_nan, axis=dim, kind="stable")       # NaNs (False) first
        idx = xp.take_along_axis(idx, first, axis=dim)
    return idx.astype(np.int64)


def sort(input, dim=-1, descending=False, stable=False):
    """Values sorted along ``dim`` and the indices they came from: ``(values, indices)``.

    Equal elements keep their original order (a stable sort, whatever ``stable`` says).
    NaN counts as larger than every number, as in PyTorch: last ascending, first
    descending.

    Example::

        values, indices = mc.tensor([3., 1., 2.]).sort(descending=True)
    """
    x = as_tensor_arg(input)
    if x.ndim == 0:                     # (a copy that keeps x's dtype and graph)
        return values_indices(x.clone(), Tensor(get_array_module(x.data).zeros((), np.int64)))
    d = _dim(dim, x.ndim)
    idx = _order(x, d, descending)
    return values_indices(Gather.apply(x, d, idx), Tensor(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (the second result of :func:`sort`)."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return Tensor(get_array_module(x.data).zeros((), np.int64))
    return Tensor(_order(x, _dim(dim, x.ndim), descending))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices, as
    ``(values, indices)``, in sorted order.

    Example::

        values, indices = logits.topk(5, dim=1)      # top-5 classes per row
    """
    x = as_tensor_arg(input)
    if x.dtype == np.bool_:
        raise TypeError("topk does not support bool input (PyTorch refuses it too): "
                        "convert with .int() first")
    d = _dim(dim, x.ndim) if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dimension {d} of size {n}")
    if x.ndim == 0:
        return sort(x)
    idx = _order(x, d, descending=largest)
    xp = get_array_module(idx)
    idx = xp.take(idx, xp.arange(k), axis=d)                         # first k along d
    return values_indices(Gather.apply(x, d, idx), Tensor(idx))


# ----------------------------------------------------------------------------- index_put

class IndexPutAdd(Function):
    """out = x with out[key] += v (v broadcast to x[key]); a repeated index adds every
    time (``np.add.at``), as PyTorch's ``index_put(..., accumulate=True)``.

    d x = g (every entry of x reaches out once); d v = g[key], which the engine sums
    back to v's shape.
    """
    @staticmethod
    def forward(ctx, x, v, basic, adv):
        ctx.basic, ctx.adv, ctx.v_ndim = basic, adv, v.ndim
        out = x.copy()
        if adv is None:
            out[basic] += v
        else:
            _at(get_array_module(x), "add", out[basic], adv, v)   # out[basic]: a view
        return out

    @staticmethod
    def backward(ctx, gy):
        gv = gy[ctx.basic] if ctx.adv is None else gy[ctx.basic][ctx.adv]
        if gv.ndim < ctx.v_ndim:      # v may have extra leading 1s
            gv = gv.reshape((1,) * (ctx.v_ndim - gv.ndim) + gv.shape)
        return gy, gv, None, None


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (``indices``: a
    tuple of integer or bool index tensors, one per leading dimension indexed, None for a
    whole dimension). With ``accumulate=True`` the values are added instead, and a
    repeated index adds every time; without it, which of the repeated writes wins is
    unspecified (as in PyTorch; minicv keeps the last).

    ``values`` broadcasts to ``input[indices]`` and must have input's dtype. Gradients
    reach ``values`` (the slice of the output gradient at the indices) and ``input``
    (the output gradient, except at overwritten places when not accumulating).

    Example::

        x = mc.zeros(3)
        x.index_put((mc.tensor([0, 0, 2]),), mc.tensor(1.), accumulate=True)   # [2, 0, 1]
    """
    x = as_tensor_arg(input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of index tensors (one per "
                        f"indexed dimension), got {type(indices).__name__}: write (idx,)")
    if len(indices) > x.ndim:
        raise IndexError(f"index_put: too many indices for a tensor of dimension {x.ndim} "
                         f"(got {len(indices)})")
    if not isinstance(values, Tensor):
        values = Tensor(get_array_module(x.data).asarray(values, dtype=x.dtype))
    if values.dtype != x.dtype:
        raise TypeError(f"index_put requires the source and destination dtypes to match, "
                        f"got {x.dtype} for the destination and {values.dtype} for the "
                        f"source: convert values with .to({x.dtype.name})")
    key = tuple(slice(None) if i is None else i for i in indices)
    basic, adv = _index_key(key, x.data)
    try:
        return (IndexPutAdd if accumulate else SetItem).apply(x, values, basic, adv)
    except IndexError as e:
        raise IndexError(f"index_put: {e} (indexing a tensor of shape "
                         f"{list(x.shape)})") from None
    except ValueError as e:
        if "broadcast" not in str(e) and "shape mismatch" not in str(e):
            raise
        raise ValueError(f"index_put: values of shape {list(values.shape)} do not broadcast "
                         f"to the indexed shape: {e}") from None


def index_put_(self, indices, values, accumulate=False):
    """In-place :func:`index_put` (recorded by autograd like every in-place op)."""
    return self._update("index_put_", lambda t: index_put(t, indices, values, accumulate),
                        values)


# ----------------------------------------------------------------------------- counting

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input``, in ascending order (also with ``sorted=False``,
    which PyTorch's CPU version ignores as well), as a 1-D tensor. With ``dim`` the
    distinct slices along that dimension (rows for dim=0), sorted lexicographically.

    Args:
        return_inverse: also return, for each element (each slice with ``dim``), the
            index of its value in the output: ``out[inverse]`` rebuilds ``input``.
        return_counts: also return how many times each distinct value occurs.

    Returns ``out`` or a tuple ``(out, inverse, counts)`` with the asked-for parts
    (int64). Not differentiable: the output does not require grad (PyTorch's raises in
    backward). NaNs are all distinct, as in PyTorch.

    Example::

        mc.unique(mc.tensor([3, 1, 3]), return_counts=True)    # ([1, 3], [1, 2])
    """
    d = as_tensor_arg(input).data
    xp = get_array_module(d)
    if dim is None:
        values, inverse, counts = xp.unique(d.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(d.shape)
    else:
        if d.ndim == 0:
            raise IndexError(f"unique: dim {dim} is out of range for a 0-d tensor")
        values, inverse, counts = xp.unique(d, return_inverse=True, return_counts=True,
                                            axis=_dim(dim, d.ndim), equal_nan=False)
        inverse = inverse.reshape(-1)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in the 1-D non-negative integer
    ``input`` (at least ``minlength`` bins). With ``weights`` (same length) each
    occurrence adds its weight instead of 1.

    dtype: int64 without weights; with them the weights' dtype if floating, else float64
    (PyTorch's rules). Not differentiable.

    Shape: (max(max(input) + 1, minlength),), and (minlength,) for an empty input.

    Example::

        mc.bincount(mc.tensor([0, 1, 1, 3]))                    # [1, 2, 0, 1]
    """
    d = as_tensor_arg(input).data
    xp = get_array_module(d)
    if d.ndim != 1 or d.dtype.kind not in "iu":
        raise TypeError(f"bincount only supports 1-d non-negative integral inputs, got "
                        f"shape {list(d.shape)} and dtype {d.dtype}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength should be >= 0, got {minlength}")
    if d.size and int(d.min()) < 0:
        raise ValueError(f"bincount only supports non-negative inputs, got {int(d.min())}")
    if weights is None:
        return Tensor(xp.bincount(d, minlength=minlength).astype(np.int64))
    w = as_tensor_arg(weights).data
    if w.shape != d.shape:
        raise ValueError(f"bincount: weights should be 1-d and have the same length as "
                         f"input, got shapes {list(w.shape)} and {list(d.shape)}")
    if get_array_module(w) is not xp:
        raise RuntimeError("bincount: input and weights must be on the same device; move "
                           "them with .to(device)")
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor(xp.bincount(d, weights=w, minlength=minlength).astype(dtype))


# ----------------------------------------------------------------------------- take

def take(input, index):
    """``input`` read as a flat 1-D tensor at the int64 positions in ``index`` (negative
    positions count from the end); the result has ``index``'s shape.

    Example::

        mc.take(mc.tensor([[4., 5.], [6., 7.]]), mc.tensor([0, -1]))   # [4., 7.]
    """
    x = as_tensor_arg(input)
    idx = _index_array(index, x.data)
    if idx.dtype != np.int64:
        raise TypeError(f"take(): expected an int64 (long) tensor for index, but got "
                        f"{idx.dtype}: convert it with .long()")
    n = x.numel()
    if idx.size and n == 0:
        raise IndexError("take(): tried to take from an empty tensor")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"take(): out of range: tried to access index {int(bad)} on a "
                         f"tensor of {n} elements")
    xp = get_array_module(idx)
    flat = xp.where(idx < 0, idx + n, idx).reshape(-1)
    return IndexSelect.apply(x.reshape(-1), 0, flat).reshape(idx.shape)


# ----------------------------------------------------------------------------- index_add, ...

def _along(name, x, dim, index, source=None, negative=False):
    """Check ``index`` (1-D or 0-d, int32/int64, in range) for writing slices of ``x``
    along ``dim``, and ``source``'s shape and dtype; return the key ``(slice, ..., index)``
    that addresses those slices (what PyTorch's ``index_*`` ops read or write)."""
    d = _dim(dim, x.ndim)
    idx = _index_array(index, x.data)
    if idx.dtype not in (np.int64, np.int32):
        raise TypeError(f"{name}(): expected dtype int32/int64 for index but got "
                        f"{idx.dtype}: convert it with .long()")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): index is supposed to be a vector, but got shape "
                         f"{list(idx.shape)}")
    idx = idx.reshape(-1)
    n = x.shape[d]
    low = -n if negative else 0
    if idx.size and (idx.min() < low or idx.max() >= n):
        bad = idx[(idx < low) | (idx >= n)][0]
        raise IndexError(f"{name}(): index {int(bad)} is out of bounds for dimension {d} "
                         f"with size {n}")
    if source is not None:
        if source.dtype != x.dtype:
            raise TypeError(f"{name}(): self ({x.dtype}) and source ({source.dtype}) must "
                            f"have the same dtype: convert source with .to({x.dtype.name})")
        want = x.shape[:d] + (idx.size,) + x.shape[d + 1:]
        if source.shape != want:
            raise ValueError(f"{name}(): source of shape {list(source.shape)} must have "
                             f"self's shape {list(x.shape)} with {idx.size} (the number of "
                             f"indices) in dimension {d}: expected {list(want)}")
    return (slice(None),) * d + (idx,)


def _on_1d(fn, x, *tensors):
    """Run ``fn`` on a 0-d ``x`` (and 0-d operands) as 1-D, and return a 0-d result."""
    if x.ndim:
        return fn(x, *tensors)
    return fn(x.reshape(1), *[t if t.ndim else t.reshape(1) for t in tensors]).reshape(())


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added to the slices at ``index`` along
    ``dim``; a repeated index adds every time. ``source`` has input's shape with
    len(index) in dimension ``dim``, and input's dtype.

    Example::

        mc.zeros(3).index_add(0, mc.tensor([0, 0]), mc.tensor([1., 2.]))   # [3, 0, 0]
    """
    x, src = as_tensor_arg(input), as_tensor_arg(source)

    def add(x, src):
        key = _along("index_add", x, dim, index, src)
        a = alpha if x.dtype.kind == "f" else int(alpha)   # PyTorch truncates, too
        return IndexPutAdd.apply(x, src if a == 1 else src * a, (), key)
    return _on_1d(add, x, src)


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices of ``source`` written at ``index`` along
    ``dim`` (for a repeated index one write wins: minicv keeps the last).

    Example::

        mc.zeros(3).index_copy(0, mc.tensor([2]), mc.tensor([5.]))     # [0, 0, 5]
    """
    x, src = as_tensor_arg(input), as_tensor_arg(source)

    def copy(x, src):
        if x.ndim == 1 and src.ndim == 0:                 # a scalar source, as PyTorch
            src = src.reshape(1)
        return SetItem.apply(x, src, (), _along("index_copy", x, dim, index, src))
    return _on_1d(copy, x, src)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` (a number or a 0-d tensor, which then gets the
    gradient summed over the filled slices, each counted once however often ``index``
    names it) in the slices at ``index`` along ``dim``; negative indices count from the
    end.

    Example::

        mc.zeros(2, 3).index_fill(1, mc.tensor([0, 2]), -1.)  # [[-1, 0, -1], [-1, 0, -1]]
    """
    x = as_tensor_arg(input)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"index_fill only supports a 0-dimensional value tensor, but got "
                         f"a tensor of shape {list(value.shape)}")
    v = x._as_value(value)

    def fill(x):
        key = _along("index_fill", x, dim, index, negative=True)
        idx, n = key[-1], x.shape[len(key) - 1]
        # each place once, so that a tensor value's gradient counts it once (as PyTorch)
        xp = get_array_module(idx)
        key = key[:-1] + (xp.unique(xp.where(idx < 0, idx + n, idx)),)
        return SetItem.apply(x, v, (), key)
    return _on_1d(fill, x)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place :func:`index_add`."""
    return self._update("index_add_", lambda t: index_add(t, dim, index, source,
                                                          alpha=alpha), source)


def index_copy_(self, dim, index, source):
    """In-place :func:`index_copy`."""
    return self._update("index_copy_", lambda t: index_copy(t, dim, index, source), source)


def index_fill_(self, dim, index, value):
    """In-place :func:`index_fill`."""
    return self._update("index_fill_", lambda t: index_fill(t, dim, index, value), value)


# ----------------------------------------------------------------------------- scatter_reduce

def _flat_positions(xp, index, dim, shape):
    """For scatter along ``dim``: each index entry's position in the flattened target of
    ``shape``, as a 1-D array in index's (C) order."""
    grid = _index_grid(xp, index, dim)
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]          # C-order strides, in elements
    flat = sum(g * int(s) for g, s in zip(grid, strides))
    return xp.broadcast_to(flat, index.shape).reshape(-1)


def _scatter_prod(xp, out, flat, v):
    """out[flat[i]] *= v[i] for all i, repeated positions multiplying together.

    NumPy: ``multiply.at`` (in place). It has no CuPy counterpart, so there: sort by
    target, a segmented inclusive product scan (log2(n) rounds; an entry combines with the
    one ``shift`` back only within its group), then each group's last entry multiplies its
    target. Other entries write to a spare slot past the end, so no target is written
    twice."""
    if flat.size == 0:
        return out
    if xp is np:
        np.multiply.at(out, flat, v)
        return out
    order = xp.argsort(flat, kind="stable")
    t, p = flat[order], v[order]
    shift = 1
    while shift < t.size:
        same = t[shift:] == t[:-shift]
        p = xp.concatenate([p[:shift], xp.where(same, p[shift:] * p[:-shift], p[shift:])])
        shift *= 2
    last = xp.concatenate([t[1:] != t[:-1], xp.ones(1, dtype=bool)])
    dest = xp.where(last, t, out.size)
    ext = xp.concatenate([out, xp.ones(1, out.dtype)])
    ext[dest] = ext[dest] * p
    return ext[:-1]


def _scatter_extreme(xp, out, flat, v, reduce):
    """out[flat[i]] = max (or min) of itself and v[i], repeated positions included
    (``ufunc.at``, which CuPy has for maximum and minimum)."""
    with np.errstate(invalid="ignore"):                        # NaN is handled after
        _at(xp, "maximum" if reduce == "amax" else "minimum", out, flat, v)


def _counts(xp, n, flat, hits):
    """How many of ``hits`` (bools, one per scattered entry) land on each of n places."""
    c = xp.zeros(n, np.int64)
    _scatter_add_arrays(xp, c, flat, hits.astype(np.int64))
    return c


class ScatterReduce(Function):
    """out = input with the ``src`` entries reduced into the places ``index`` names along
    ``dim`` (sum, prod, mean, amax or amin), input's own value joining the reduction when
    ``include_self``. Works on the flattened input: place k gets the entries i with
    flat[i] == k, and ``count[k]`` is their number.

    d input = d out where nothing was scattered. Elsewhere: sum: d out (include_self) or
    0; mean: d out / (count + include_self) to every member; amax/amin: d out shared evenly
    by the members equal to the result (PyTorch's rule for ties, which counts input's
    value even without include_self); prod: d out times the product of the other members
    of the group (exact with zeros).
    """
    @staticmethod
    def forward(ctx, x, src, dim, index, reduce, include_self):
        xp = get_array_module(x)
        flat = _flat_positions(xp, index, dim, x.shape)            # (k,)
        v = _head(src, index.shape).reshape(-1)                    # (k,)
        count = _counts(xp, x.size, flat, xp.ones(flat.shape, bool))
        out = x.reshape(-1).copy()
        if not include_self:
            start = {"sum": 0, "mean": 0, "prod": 1}.get(reduce)
            out[flat] = _extreme_start(x.dtype, reduce) if start is None else start
        if reduce in ("sum", "mean"):
            _at(xp, "add", out, flat, v)
            if reduce == "mean":
                n = xp.maximum(count + include_self, 1)
                out = out / n.astype(out.dtype) if out.dtype.kind == "f" else out // n
        elif reduce == "prod":
            out = _scatter_prod(xp, out, flat, v)
        else:
            _scatter_extreme(xp, out, flat, v, reduce)
            if out.dtype.kind == "f":                      # NaN wins, as in PyTorch
                nan = _counts(xp, x.size, flat, xp.isnan(v)) > 0
                if include_self:
                    nan |= xp.isnan(x.reshape(-1))
                out = xp.where(nan, xp.asarray(np.nan, out.dtype), out)
        out = out.reshape(x.shape)
        ctx.flat, ctx.count, ctx.reduce, ctx.self_ = flat, count, reduce, include_self
        ctx.src_shape, ctx.index_shape = src.shape, index.shape
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        flat, reduce, with_self = ctx.flat, ctx.reduce, ctx.self_
        g, hit = gy.reshape(-1), ctx.count > 0
        if reduce in ("sum", "mean"):
            n = xp.maximum(ctx.count + with_self, 1).astype(g.dtype) if reduce == "mean" \
                else 1
            g_self, g_src = g / n, (g / n)[flat]
        else:
            x, src, out = ctx.saved_tensors
            x, v, r = x.reshape(-1), _head(src, ctx.index_shape).reshape(-1), out.reshape(-1)
            if reduce == "prod":
                others_self, others_src = _prod_of_others(xp, x, v, flat, with_self)
                g_self, g_src = g * others_self, g[flat] * others_src
            else:
                # PyTorch counts input's tie even without include_self (it then gets 0)
                eq_src, eq_self = v == r[flat], x == r
                ties = _counts(xp, x.size, flat, eq_src) + eq_self
                with np.errstate(divide="ignore", invalid="ignore"):   # NaN result: NaN
                    share = g / ties.astype(g.dtype)
                    g_self, g_src = eq_self * share, eq_src * share[flat]
        gx = xp.where(hit, g_self if with_self else 0, g).reshape(gy.shape)
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = xp.zeros(ctx.src_shape, gy.dtype)
            gsrc[tuple(slice(0, n) for n in ctx.index_shape)] = g_src.reshape(ctx.index_shape)
        return gx, gsrc, None, None, None, None


def _extreme_start(dtype, reduce):
    """The identity of max (min): -inf (+inf), or the integer dtype's smallest (largest)."""
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _prod_of_others(xp, x, v, flat, with_self):
    """For every member of a prod group (x's entries when ``with_self``, and v's): the
    product of the other members, computed without dividing by zero: the nonzero members'
    product over the member when the group has no zero, that product for its only zero,
    and 0 otherwise."""
    zero_x = (x == 0) & with_self
    zeros = _counts(xp, x.size, flat, v == 0) + zero_x              # zeros per group
    start = xp.where(zero_x | (not with_self), xp.ones_like(x), x)
    nonzero = _scatter_prod(xp, start, flat, xp.where(v == 0, xp.ones_like(v), v))

    def others(a, k):
        safe = xp.where(a == 0, xp.ones_like(a), a)
        return xp.where(zeros[k] == 0, nonzero[k] / safe,
                        xp.where((zeros[k] == 1) & (a == 0), nonzero[k], 0))
    return others(x, xp.arange(x.size)), others(v, flat)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """A copy of ``input`` where each place named by ``index`` along ``dim`` (as in
    :func:`scatter`) becomes the ``reduce`` of the ``src`` entries sent there, and of its
    own value if ``include_self``. ``reduce``: 'sum', 'prod', 'mean', 'amax' or 'amin';
    integer 'mean' rounds down. Places that receive nothing keep their value.

    Gradients as PyTorch's: ties of amax/amin share the gradient evenly; prod's is the
    product of the other members (also with zeros).

    Example::

        x = mc.tensor([1., 2.])
        x.scatter_reduce(0, mc.tensor([0, 0, 1]), mc.tensor([5., 3., 1.]), "amax")  # [5, 2]
    """
    x, s = as_tensor_arg(input), as_tensor_arg(src)
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce argument must be one of {_REDUCTIONS}, "
                         f"got {reduce!r}")
    if s.dtype != x.dtype:
        raise TypeError(f"scatter_reduce: src has dtype {s.dtype} but the input has "
                        f"{x.dtype}: convert one of them (e.g. src.to({x.dtype.name}))")
    d = _dim(dim, x.ndim)
    idx = _index_array(index, x.data)
    _check_index("scatter_reduce", x, d, idx, s if s.ndim else None)
    if x.ndim == 0:
        return ScatterReduce.apply(x.reshape(1), s.reshape(-1), 0, idx.reshape(-1), reduce,
                                   bool(include_self)).reshape(())
    return ScatterReduce.apply(x, s, d, idx, reduce, bool(include_self))


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place :func:`scatter_reduce`."""
    return self._update("scatter_reduce_", lambda t: scatter_reduce(
        t, dim, index, src, reduce, include_self=include_self), src)


# ----------------------------------------------------------------------------- masked_scatter

class MaskedScatter(Function):
    """out = input (broadcast with mask) with the masked places filled, in order, from
    the leading entries of ``source`` (flattened): the j-th true place takes source[j].

    d input = d out where the mask is false; d source[j] = d out at the j-th true place.
    Position j comes from a running count of the mask, so nothing here waits for the
    number of true places (a GPU synchronisation)."""
    @staticmethod
    def forward(ctx, x, src, mask):
        xp = get_array_module(x)
        shape = np.broadcast_shapes(x.shape, mask.shape)
        m = xp.broadcast_to(mask, shape)
        pos = xp.cumsum(m.reshape(-1)) - 1                      # source entry per place
        pos = xp.where(m.reshape(-1), pos, src.size)            # unmasked: a spare slot
        ctx.pos, ctx.mask, ctx.src_shape = pos, m, src.shape
        spare = xp.zeros(1, x.dtype)
        values = xp.concatenate([src.reshape(-1), spare])[pos].reshape(shape)
        return xp.where(m, values, x)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = xp.where(ctx.mask, xp.zeros((), gy.dtype), gy)
        n = int(np.prod(ctx.src_shape))
        gsrc = xp.zeros(n + 1, gy.dtype)
        _scatter_add_arrays(xp, gsrc, ctx.pos, gy.reshape(-1))
        return gx, gsrc[:n].reshape(ctx.src_shape), None


def masked_scatter(input, mask, source):
    """A copy of ``input`` whose places where the bool ``mask`` is true take the entries
    of ``source`` in order (row-major); ``source`` needs at least as many entries as the
    mask has true values, and input's dtype. Input and mask broadcast together.

    Example::

        m = mc.tensor([True, False, True])
        mc.zeros(3).masked_scatter(m, mc.tensor([1., 2., 3.]))    # [1, 0, 2]
    """
    x, s = as_tensor_arg(input), as_tensor_arg(source)
    m, shape = _bool_mask("masked_scatter", x, mask)
    if s.dtype != x.dtype:
        raise TypeError(f"masked_scatter: expected self and source to have same dtypes but "
                        f"got {x.dtype} and {s.dtype}")
    needed = int(get_array_module(m).broadcast_to(m, shape).sum())   # (a GPU sync)
    if needed > s.numel():
        raise ValueError(f"masked_scatter: number of elements of source ({s.numel()}) < "
                         f"number of ones in mask ({needed})")
    return MaskedScatter.apply(x, s, m)


def masked_scatter_(self, mask, source):
    """In-place :func:`masked_scatter` (the mask must broadcast to self's shape)."""
    return self._update("masked_scatter_", lambda t: masked_scatter(t, mask, source), source)


# ----------------------------------------------------------------------------- *_scatter

def _embed(name, x, src, basic, adv=None):
    """A copy of ``x`` with ``src`` written at ``x[basic][adv]``, whose shape ``src`` must
    have exactly (no broadcasting, as PyTorch); src is converted to x's dtype."""
    target = x.data[basic] if adv is None else x.data[basic][adv]
    if src.shape != target.shape:
        raise ValueError(f"{name}: expected src to have a size equal to the slice of self. "
                         f"src size = {list(src.shape)}, slice size = {list(target.shape)}")
    return SetItem.apply(x, x._as_value(src), basic, adv)


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``select(input, dim, index)``.

    Example::

        mc.zeros(2, 2).select_scatter(mc.ones(2), 0, 1)    # [[0, 0], [1, 1]]
    """
    from .shape import select
    x, s = as_tensor_arg(input), as_tensor_arg(src)
    select(x, dim, index)                               # PyTorch's checks and errors
    return _embed("select_scatter", x, s, (slice(None),) * _dim(dim, x.ndim) + (index,))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written at ``input[..., start:end:step, ...]``
    (the slice on dimension ``dim``).

    Example::

        mc.zeros(5).slice_scatter(mc.ones(2), start=1, step=2)   # [0, 1, 0, 1, 0]
    """
    x, s = as_tensor_arg(input), as_tensor_arg(src)
    if step <= 0:
        raise ValueError(f"slice_scatter: slice step must be positive, got {step}")
    key = (slice(None),) * _dim(dim, x.ndim) + (slice(start, end, step),)
    return _embed("slice_scatter", x, s, key)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on the diagonal that
    ``input.diagonal(offset, dim1, dim2)`` reads: src has input's other dimensions, then
    the diagonal's length (offset > 0: above the main diagonal, < 0: below).

    Example::

        mc.zeros(2, 3).diagonal_scatter(mc.tensor([1., 2.]), 1)  # [[0, 1, 0], [0, 0, 2]]
    """
    from .shape import movedim
    x, s = as_tensor_arg(input), as_tensor_arg(src)
    d1, d2 = _dim(dim1, x.ndim), _dim(dim2, x.ndim)
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: diagonal dimensions cannot be identical "
                         f"{dim1}, {dim2}")
    n1, n2 = x.shape[d1], x.shape[d2]
    length = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
    xp = get_array_module(x.data)
    i = xp.arange(length)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    moved = movedim(x, (d1, d2), (-2, -1))              # (..., n1, n2), a view
    out = _embed("diagonal_scatter", moved, s, (), (Ellipsis, rows, cols))
    return movedim(out, (-2, -1), (d1, d2))


# ----------------------------------------------------------------------------- unique_consecutive

def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive values (slices along ``dim`` when given)
    into one: ``[1, 1, 2, 1] -> [1, 2, 1]``. Without ``dim`` the input is flattened.

    Args:
        return_inverse: also return, for each element (each slice with ``dim``), the
            index of its run in the output (input's shape; 1-D with ``dim``).
        return_counts: also return the length of each run.

    Returns ``out`` or a tuple with the asked-for parts (int64). Not differentiable: the
    output does not require grad (PyTorch's requires grad, and raises in backward). NaNs
    never equal each other, so each is a run of its own, as in PyTorch.

    Example::

        mc.unique_consecutive(mc.tensor([1, 1, 2, 1]), return_counts=True)  # ([1, 2, 1], [2, 1, 1])
    """
    d = as_tensor_arg(input).data
    xp = get_array_module(d)
    if dim is None:
        rows, inverse_shape = d.reshape(d.size, 1), d.shape
    else:
        if d.ndim == 0:
            raise IndexError(f"unique_consecutive: dimension specified as {dim} but the "
                             f"tensor has no dimensions")
        axis = _dim(dim, d.ndim)
        moved = xp.moveaxis(d, axis, 0)
        if moved.shape[0] and 0 in moved.shape[1:]:
            raise ValueError(f"unique_consecutive: there are 0 sized dimensions in shape "
                             f"{list(d.shape)}, and they aren't selected (dim={dim}), so "
                             f"the slices cannot be compared")
        n_rows = moved.shape[0]
        rows, inverse_shape = moved.reshape(n_rows, moved.size // max(n_rows, 1)), (n_rows,)
    n = rows.shape[0]
    change = xp.ones(n, dtype=bool)
    if n > 1:
        change[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    starts = xp.nonzero(change)[0]                      # first row of each run
    if dim is None:
        values = d.reshape(-1)[starts]
    else:
        values = xp.moveaxis(xp.take(moved, starts, axis=0), 0, axis)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor((xp.cumsum(change) - 1).astype(np.int64).reshape(inverse_shape)))
    if return_counts:
        ends = xp.concatenate([starts[1:], xp.asarray([n], starts.dtype)])
        out.append(Tensor((ends - starts).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)
