"""Shape ops: reshape/view, transpose, permute, flatten, squeeze, unsqueeze, expand,
cat, stack, split, chunk, indexing, pad, roll, broadcast_to, meshgrid and
repeat_interleave.

Most are views: they move no data forward and their backward is the inverse view of the
gradient. Indexing with integer arrays scatter-adds in backward (``np.add.at``) so a
repeated index accumulates instead of overwriting.
"""
import warnings

import numpy as np

from ..autograd import Function
from ..backend import assign, get_array_module, is_cupy_array, scatter_add, to_numpy
from ..tensor import Tensor, as_tensor_arg, _like_array


def _dim(d, ndim):
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
    return d % max(ndim, 1)


class Reshape(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.shape), None


class Permute(Function):
    """Axis permutation; backward applies the inverse permutation."""
    is_view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, gy):
        return gy.transpose(np.argsort(ctx.axes)), None


class Expand(Function):
    """Broadcast view; the engine sums the gradient back to the input's shape."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return gy, None


class GetItem(Function):
    """y = x[basic][adv] (see :func:`_index_key`); a basic key alone gives a view, integer
    or bool arrays (``adv``) a copy, whose gradient is scatter-added back."""
    is_view = True

    @staticmethod
    def forward(ctx, x, basic, adv):
        ctx.shape, ctx.basic, ctx.adv = x.shape, basic, adv
        y = x[basic]
        return get_array_module(x).asarray(y if adv is None else y[adv])

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(ctx.shape, gy.dtype)
        if ctx.adv is None:
            gx[ctx.basic] = gy
        else:
            scatter_add(xp, gx[ctx.basic], ctx.adv, gy)     # gx[basic] is a view of gx
        return gx, None, None


class GetItemCopy(GetItem):
    """Advanced indexing returns a copy, so it does not share the version counter."""
    is_view = False


class SetItem(Function):
    """out = x with out[key] = v, v broadcast (PyTorch's ``index_put``); the key comes as
    ``(basic, adv)`` from :func:`_index_key`.

    d x = g with g[key] = 0 (overwritten entries do not reach x); d v = g[key], which the
    engine sums back to v's shape. A repeated index keeps the last write (NumPy's order);
    every copy still gets the gradient of its target, as in PyTorch.
    """
    @staticmethod
    def forward(ctx, x, v, basic, adv):
        ctx.basic, ctx.adv, ctx.v_ndim = basic, adv, v.ndim
        out = x.copy()
        _assign(out, basic, adv, v)
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = gy.copy()
        _assign(gx, ctx.basic, ctx.adv, 0)
        gv = gy[ctx.basic] if ctx.adv is None else gy[ctx.basic][ctx.adv]
        if gv.ndim < ctx.v_ndim:      # v may have extra leading 1s: x[0] = ones(1, 1, n)
            gv = gv.reshape((1,) * (ctx.v_ndim - gv.ndim) + gv.shape)
        return gx, gv, None, None


def _assign(a, basic, adv, v):
    """a[basic][adv] = v, in place (a[basic] is a view of a); a repeated index keeps the
    last write on either device (``backend.assign``)."""
    if adv is None:
        a[basic] = v
    else:
        assign(a[basic], adv, v)


class Cat(Function):
    """Concatenate along ``dim``; backward slices the gradient back into pieces. The inputs
    at the positions ``skip`` (empty 1-D tensors, which ``cat`` ignores) take no part and
    get an empty gradient."""
    @staticmethod
    def forward(ctx, *xs, dim, skip=()):
        ctx.dim, ctx.skip, ctx.n = dim, skip, len(xs)
        xs = [x for i, x in enumerate(xs) if i not in skip]
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        pieces = iter(np.split(gy, ctx.bounds, axis=ctx.dim))
        empty = get_array_module(gy).zeros((0,), gy.dtype)
        return tuple(empty if i in ctx.skip else next(pieces) for i in range(ctx.n))


class Stack(Function):
    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        return tuple(np.moveaxis(gy, ctx.dim, 0))


class Split(Function):
    """Pieces of ``x`` along ``dim`` at ``bounds``; backward concatenates the gradients."""
    @staticmethod
    def forward(ctx, x, bounds, dim):
        ctx.dim = dim
        return tuple(np.split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *gys):
        return np.concatenate(gys, axis=ctx.dim), None, None


def _pad_kernels(a):
    """``kernels/cpu/pad.py`` for a NumPy float array (imported then, not with this module:
    ``import minicv`` loads no Numba), else None."""
    if type(a) is np.ndarray and a.dtype.kind == "f":
        from ..kernels.cpu import pad
        return pad
    return None


class Pad(Function):
    """Constant, reflect, replicate or circular padding; backward folds padded cells onto
    their sources (a crop for constant padding).  NumPy float32/float64 arrays padded in
    their last three axes take the row kernels of ``kernels/cpu/pad.py`` (one pass each
    way, on minicv's threads; the same values bit for bit)."""
    @staticmethod
    def forward(ctx, x, widths, mode, value):
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        kernels = _pad_kernels(x)
        if kernels is not None and kernels.fast_ok(x, widths):
            return kernels.pad(x, widths, _pad_map(mode), value)
        if mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=value)
        return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge",
                                       "circular": "wrap"}[mode])

    @staticmethod
    def backward(ctx, gy):
        kernels = _pad_kernels(gy)
        if kernels is not None and kernels.fast_ok(gy, ctx.widths):
            fold = ctx.mode != "constant" and any(lo or hi for lo, hi in ctx.widths)
            return (kernels.pad_backward(gy, ctx.shape, ctx.widths, _pad_map(ctx.mode), fold),
                    None, None, None)
        xp = get_array_module(gy)
        g = gy
        for axis, (lo, hi) in enumerate(ctx.widths):
            if lo == 0 and hi == 0:
                continue
            n = ctx.shape[axis]
            if ctx.mode == "constant":
                g = xp.take(g, xp.arange(lo, lo + n), axis=axis)
                continue
            src = _pad_source_index(n, lo, hi, ctx.mode)   # padded index -> input index
            moved = xp.moveaxis(g, axis, 0)
            out = xp.zeros((n,) + moved.shape[1:], g.dtype)
            scatter_add(xp, out, xp.asarray(src), moved)
            g = xp.moveaxis(out, 0, axis)
        return g, None, None, None


def _pad_map(mode):
    """``src(n, lo, hi)``: for each position of an axis of size n padded by (lo, hi), the
    input index it copies, -1 for a constant cell (the maps of ``kernels/cpu/pad.py``)."""
    def src(n, lo, hi):
        if mode == "constant" or lo == hi == 0:
            i = np.arange(-lo, n + hi)                     # (n + lo + hi,)
            return np.where((i >= 0) & (i < n), i, -1)
        return _pad_source_index(n, lo, hi, mode)
    return src


def _pad_source_index(n, lo, hi, mode):
    """For each position of a padded axis, the input index it copies."""
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)                 # reflect without repeating the edge
    i = np.abs(i) % period
    return np.where(i < n, i, period - i)


class Flip(Function):
    """Reverse the order along ``axes``; the gradient is flipped back."""
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return get_array_module(x).flip(x, axes)

    @staticmethod
    def backward(ctx, gy):
        return get_array_module(gy).flip(gy, ctx.axes), None


class Repeat(Function):
    """Tile ``x`` ``reps[i]`` times along each axis; the gradient sums the copies."""
    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape = x.shape
        return get_array_module(x).tile(x, reps)

    @staticmethod
    def backward(ctx, gy):
        shape = ctx.shape
        reps = tuple(n // s if s else 0 for n, s in zip(gy.shape, shape))
        split = [v for r, s in zip(reps, shape) for v in (r, s)]   # (r0, s0, r1, s1, ...)
        return gy.reshape(split).sum(axis=tuple(range(0, len(split), 2))), None


class Contiguous(Function):
    """A C-ordered copy; the gradient passes through unchanged."""
    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


def contiguous(x):
    return Contiguous.apply(x)


# ----------------------------------------------------------------------------- wrappers

def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(input, *sizes, shape=None):
    """``input`` with a new shape (a view when possible): ``x.reshape(2, -1)``,
    ``x.reshape((2, -1))`` or ``mc.reshape(x, shape=(2, -1))``."""
    x = as_tensor_arg(input)
    shape = _shape_arg(sizes if shape is None else (shape,))
    if shape == x.shape:
        return x if not x.requires_grad else Reshape.apply(x, shape)
    try:
        return Reshape.apply(x, shape)
    except ValueError:
        raise ValueError(f"shape {list(shape)} is invalid for input of size {x.numel()} "
                         f"(shape {list(x.shape)})") from None


def view(input, *sizes, size=None, dtype=None):
    """``reshape`` that must not copy, as PyTorch's ``view``: a shape the memory layout
    cannot express (e.g. flattening a transposed tensor) raises instead of silently
    copying, so writes through the result always reach ``input``.

    ``x.view(dtype)`` reinterprets the bits as another dtype (see :func:`_view_dtype`)."""
    x = as_tensor_arg(input)
    if len(sizes) == 1 and _is_dtype(sizes[0]) and size is None and dtype is None:
        dtype = sizes[0]
    if dtype is not None:
        return _view_dtype(x, dtype)
    out = reshape(x, *sizes, shape=size)
    if type(x.data) is np.ndarray and x.data.size and out.data.size and \
            not np.may_share_memory(out.data, x.data):
        raise RuntimeError(f"view size is not compatible with input tensor's size and "
                           f"stride (shape {list(x.shape)}, strides "
                           f"{[st // x.data.itemsize for st in x.data.strides]}): at least "
                           f"one dimension spans across two contiguous subspaces. Use "
                           f".reshape(...) instead (it copies when it must)")
    return out


def _is_dtype(obj):
    return isinstance(obj, np.dtype) or isinstance(obj, type) and issubclass(obj, np.generic)


def _view_dtype(x, dtype):
    """The same memory read as ``dtype`` (no copy, not differentiable, as in PyTorch). A
    dtype of another size rescales the last dimension, which must then be contiguous:
    float32 (N, 4) viewed as float64 is (N, 2), as float16 (N, 8).

    Example::

        mc.tensor([1., 2.]).view(mc.int32)       # tensor([1065353216, 1073741824])
    """
    dtype = np.dtype(dtype)
    old = x.data.dtype
    if dtype.itemsize != old.itemsize:
        what = f"to view {old} as {dtype} (different element sizes)"
        if x.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if x.data.size and x.shape[-1] != 1 and x.data.strides[-1] != old.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{x.data.strides[-1] // old.itemsize}")
        if dtype.itemsize > old.itemsize and \
                x.shape[-1] * old.itemsize % dtype.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{dtype.itemsize // old.itemsize} {what}, but got "
                               f"{x.shape[-1]}")
    out = Tensor(x.data.view(dtype))
    out._vc = x._vc                     # writes through either are seen by both
    return out


def permute(input, *dims_, dims=None):
    """The dimensions reordered: ``x.permute(2, 0, 1)`` or ``permute(x, dims=(2, 0, 1))``."""
    x = as_tensor_arg(input)
    dims = _shape_arg(dims_ if dims is None else (dims,))
    if len(dims) != x.ndim:
        raise ValueError(f"permute: number of dims {len(dims)} doesn't match the tensor's "
                         f"{x.ndim} dimensions (shape {list(x.shape)})")
    dims = tuple(_dim(d, x.ndim) for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of {x.ndim} dimensions")
    return Permute.apply(x, dims)


def transpose(input, dim0, dim1):
    x = as_tensor_arg(input)
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(x, tuple(axes))


def t(input):
    x = as_tensor_arg(input)
    if x.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, got {x.ndim}")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def flatten(input, start_dim=0, end_dim=-1):
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim), _dim(end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(input, dim=None):
    x = as_tensor_arg(input)
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = {_dim(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return reshape(x, shape)


def unsqueeze(input, dim):
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(input, *sizes, size=None):
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes if size is None else (size,))
    if len(sizes) < x.ndim:
        raise ValueError(f"expand: the number of sizes ({len(sizes)}) must be >= the "
                         f"tensor's dimensions ({x.ndim})")
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                  for i, s in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[lead + i]:
            raise ValueError(f"expand: size {shape[lead + i]} at dim {lead + i} does not "
                             f"match the existing size {n} (shape {list(x.shape)} to "
                             f"{list(sizes)}); only size-1 dimensions can expand")
    return Expand.apply(x, shape)


def _same_dtype(tensors, name):
    from .elementwise import promote
    tensors = [as_tensor_arg(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{name}() expects a non-empty list of tensors")
    first = tensors[0]
    for i in range(1, len(tensors)):
        if tensors[i].dtype != first.dtype:
            first, _ = promote(first, tensors[i])
    return [t if t.dtype == first.dtype else t.to(first.dtype) for t in tensors]


def cat(tensors, dim=0):
    """Concatenate tensors along an existing dimension (all other sizes must match).

    As in PyTorch, empty 1-D tensors (shape (0,)) are skipped, so an accumulator may start
    as ``mc.tensor([])``."""
    tensors = _same_dtype(tensors, "cat")
    if any(t.ndim == 0 for t in tensors):
        i = next(i for i, t in enumerate(tensors) if t.ndim == 0)
        raise ValueError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                         f"concatenated; use stack, or unsqueeze it first")
    skip = tuple(i for i, t in enumerate(tensors) if t.shape == (0,))
    kept = [t for t in tensors if t.shape != (0,)]
    if not kept:
        return Cat.apply(*tensors, dim=0)
    nd = kept[0].ndim
    d = _dim(dim, nd)
    for i, t in enumerate(kept):
        if t.ndim != nd or t.shape[:d] + t.shape[d + 1:] != \
                kept[0].shape[:d] + kept[0].shape[d + 1:]:
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}; "
                             f"tensor 0 has shape {list(kept[0].shape)}, tensor {i} has "
                             f"{list(t.shape)}")
    # the skipped empties stay inputs, so that one requiring grad gets its (empty) gradient
    return Cat.apply(*tensors, dim=d, skip=skip)


def stack(tensors, dim=0):
    """Stack same-shaped tensors along a new dimension."""
    tensors = _same_dtype(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack expects each tensor to be equal size, but got "
                             f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                             f"entry {i}")
    return Stack.apply(*tensors, dim=_dim(dim, tensors[0].ndim + 1))


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Split into pieces of ``split_size`` (last one smaller) or of the listed sizes.
    (``split_size=`` is the keyword of ``Tensor.split`` in PyTorch.)"""
    if split_size_or_sections is None:
        split_size_or_sections = split_size
    x = as_tensor_arg(tensor)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split sizes {sizes} sum to {sum(sizes)}, but dimension {d} "
                             f"has size {n}")
    bounds = np.cumsum(sizes)[:-1].tolist()
    out = Split.apply(x, bounds, d)
    return out if isinstance(out, tuple) else (out,)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of ceil(n / chunks) (an empty dimension gives ``chunks``
    empty pieces, as PyTorch)."""
    x = as_tensor_arg(input)
    n = x.shape[_dim(dim, x.ndim)]
    if n == 0:
        return split(x, [0] * int(chunks), dim)
    return split(x, -(-n // int(chunks)), dim)


def _is_array(k):
    return isinstance(k, np.ndarray) or is_cupy_array(k)


def _index_key(key, data):
    """Split an index into ``(basic, adv)`` such that ``x[key]`` is ``x[basic][adv]``,
    read the way PyTorch reads it; ``adv`` is None for a basic key (a view).

    Tensors and lists inside the key become index arrays (on ``data``'s GPU if it has
    one), and a 0-d integer tensor an integer. A list holding a sequence, slice, None or
    Ellipsis is a tuple, as in PyTorch (which warns that this will change):
    ``x[[[0, 1], [1, 0]]]`` is ``x[[0, 1], [1, 0]]``.

    Integers next to index arrays: PyTorch applies the integers first, as basic indexing,
    then the arrays to the result; NumPy counts an integer as one more index array. The two
    differ once a slice separates them: for x of shape (2, 3, 4), ``x[0, :, [0, 2]]`` is
    (3, 2) in PyTorch and (2, 3) in NumPy. So such a key is split: ``basic`` holds the
    integers and a full slice for each array, ``adv`` the arrays and a full slice per
    dimension that ``basic`` kept.
    """
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice)) or _is_array(k) or k is None
            or k is Ellipsis for k in key):
        key = tuple(key)
    items = list(key) if isinstance(key, tuple) else [key]
    has_array = False
    for i, k in enumerate(items):
        if isinstance(k, Tensor):
            k = k.data
        if isinstance(k, (list, tuple)):
            k = np.asarray(k) if len(k) else np.zeros(0, np.int64)   # x[[]]: empty selection
        if _is_array(k):
            if k.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got "
                                 f"{k.dtype}")
            if k.ndim == 0 and k.dtype.kind != "b":
                k = int(k)                                  # a 0-d integer tensor: an int
            else:
                has_array = True
                if type(data) is not np.ndarray and is_cupy_array(data):
                    k = get_array_module(data).asarray(k)   # the index on the GPU too
                elif type(k) is not np.ndarray and is_cupy_array(k):
                    raise RuntimeError("indices should be either on cpu or on the same "
                                       "device as the indexed tensor (cpu): move them with "
                                       "idx.cpu()")
        items[i] = k
    if not has_array:
        return (tuple(items) if isinstance(key, tuple) else items[0]), None
    basic, adv = [], []
    for k in items:
        if _is_array(k):                  # a mask spans k.ndim dimensions
            basic += [slice(None)] * (k.ndim if k.dtype.kind == "b" else 1)
            adv.append(k)
        elif k is Ellipsis:
            basic.append(k)
            adv.append(k)
        elif k is None or isinstance(k, (bool, np.bool_)):   # x[True] is x[None]
            basic.append(None)
            adv.append(slice(None) if k is None or k else slice(0, 0))
        elif isinstance(k, slice):
            basic.append(k)
            adv.append(slice(None))
        else:                             # an integer: applied first, its dimension gone
            basic.append(k)
    return tuple(basic), tuple(adv)


def getitem(x, key):
    """``x[key]``: slices, integers, None and Ellipsis give a view; integer or bool index
    arrays (tensors, lists, ndarrays) a copy, read as PyTorch does (see
    :func:`_index_key`). Differentiable either way.

    Example::

        x = mc.zeros(2, 3, 4)
        x[0, :, [0, 2]].shape                # (3, 2)
    """
    basic, adv = _index_key(key, x.data)
    try:
        return (GetItem if adv is None else GetItemCopy).apply(x, basic, adv)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None


def setitem(x, key, value):
    """``x[key] = value``, in place, as in PyTorch: ``value`` (a number, or a tensor that
    broadcasts to ``x[key]``) is converted to x's dtype and device. Without autograd
    involved this writes into x's array (views of x see it). When x or ``value`` requires
    grad it is recorded (:class:`SetItem`): x's history becomes SetItem(old x, value).
    A leaf that requires grad refuses, as in PyTorch (use ``no_grad`` or a ``clone()``).

    Example::

        x = mc.zeros(2, 3)
        x[:, [0, 2]] = 1.0                   # [[1, 0, 1], [1, 0, 1]]
    """
    basic, adv = _index_key(key, x.data)
    try:
        if not x._records("__setitem__", value):
            v = _like_array(x.data, value.data if isinstance(value, Tensor) else value)
            _assign(x.data, basic, adv, v)
            x._vc[0] += 1
            return
        x._rebind(SetItem.apply(x._old(), x._as_value(value), basic, adv))
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        target = x.data[basic] if adv is None else x.data[basic][adv]
        raise ValueError(f"x[key] = value: a value of shape {list(np.shape(value))} does "
                         f"not broadcast to x[key] of shape {list(target.shape)}") from None


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad)//2`` dimensions: ``pad = (left, right, top, bottom, ...)``.

    Modes: 'constant' (``value``, default 0), 'reflect', 'replicate', 'circular'. A
    negative width crops that side instead, as in PyTorch: 'constant' and 'circular' crop
    first and pad what is left (an emptied dimension is allowed), 'reflect' and
    'replicate' pad the whole input first (reflect widths must be smaller than the input's
    size) and then crop, leaving at least one element.

    Shape: dimension -1-i grows by pad[2i] + pad[2i+1].

    Example::

        F.pad(mc.ones(1, 1, 2, 2), (1, 1, 0, 0))          # (1, 1, 2, 4)
    """
    x = as_tensor_arg(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2*ndim "
                         f"({2 * x.ndim}), got {len(pad)} for an input of shape "
                         f"{list(x.shape)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if value and mode != "constant":      # PyTorch lets value=0 through, as we do
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument: "
                         f"value={value} only applies to mode='constant'")
    dims = len(pad) // 2
    if mode != "constant" and (dims > 3 or x.ndim not in (dims + 1, dims + 2)):
        # PyTorch's non-constant modes pad 1, 2 or 3 trailing dims of a batched or unbatched
        # input (a leading channel dim, and maybe a batch dim), and raise otherwise
        raise NotImplementedError(
            f"pad: padding size {len(pad)} is not supported for {x.ndim}D input tensor "
            f"in mode {mode!r}; non-constant padding takes (C, L) or (N, C, L) with 2 "
            f"values, (C, H, W) or (N, C, H, W) with 4, (C, D, H, W) or (N, C, D, H, W) "
            f"with 6")
    value = 0.0 if value is None else value
    if mode in ("reflect", "replicate"):          # pad the whole input, then crop
        for i in range(dims):
            axis, lo, hi = x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
            n = x.shape[axis]
            if mode == "reflect" and max(lo, hi) >= n:
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than "
                                 f"the dimension size {n}")
            if n + lo + hi <= 0:
                raise ValueError(f"pad: widths ({lo}, {hi}) leave nothing of dimension "
                                 f"{axis} of size {n} (mode {mode!r} needs an output size "
                                 f"of at least 1; crop less)")
        y = Pad.apply(x, _pad_widths(x.ndim, pad), mode, value)
        return _crop_negative(y, pad)[0] if any(p < 0 for p in pad) else y
    if any(p < 0 for p in pad):                   # crop, then pad what is left
        x, pad = _crop_negative(x, pad)
    if mode == "circular":
        for i in range(dims):
            n = x.shape[x.ndim - 1 - i]
            if max(pad[2 * i], pad[2 * i + 1]) > n:
                raise ValueError(f"pad: circular padding ({pad[2 * i]}, {pad[2 * i + 1]}) "
                                 f"of dimension {x.ndim - 1 - i} (size {n}, after any "
                                 f"cropping) causes wrapping around more than once; pad at "
                                 f"most {n}")
    return Pad.apply(x, _pad_widths(x.ndim, pad), mode, value)


def _pad_widths(ndim, pad):
    """NumPy's ((before, after), ...) per dimension from PyTorch's last-dim-first ``pad``;
    negative widths (crops) count as 0."""
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (max(pad[2 * i], 0), max(pad[2 * i + 1], 0))
    return tuple(widths)


def _crop_negative(x, pad):
    """Slice away the sides with negative widths; return the input and the widths left."""
    key = [slice(None)] * x.ndim
    for i in range(len(pad) // 2):
        axis, lo, hi = x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        n = x.shape[axis]
        start, stop = max(-lo, 0), n - max(-hi, 0)
        if stop < start:            # an emptied dimension is fine, as in PyTorch
            raise ValueError(f"pad: widths ({lo}, {hi}) crop {start + n - stop} elements "
                             f"from dimension {axis} of size {n}; crop at most {n}")
        key[axis] = slice(start, stop)
    return x[tuple(key)], tuple(max(p, 0) for p in pad)


def flip(input, *dims_, dims=None):
    """Reverse the order of elements along ``dims`` (``x.flip(0, 1)``, ``mc.flip(x, (0,))``
    or ``mc.flip(x, dims=[0])``).

    Example::

        mc.tensor([1, 2, 3]).flip(0)                      # [3, 2, 1]
    """
    x = as_tensor_arg(input)
    dims = _shape_arg(dims_ if dims is None else (dims,))
    axes = tuple(_dim(d, x.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {dims} name the same dimension twice")
    return Flip.apply(x, axes) if axes and x.ndim else x * 1


def repeat(input, *sizes):
    """Tile the tensor: ``x.repeat(2, 1)`` stacks two copies along dim 0 (PyTorch's
    ``repeat``, NumPy's ``tile``). ``len(sizes)`` may exceed ``x.ndim`` (new leading dims).

    Shape: out.shape[i] = x.shape[i] * sizes[i], x's shape padded with leading 1s.
    """
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                         f"than the number of tensor dims ({x.ndim}, shape {list(x.shape)})")
    lead = len(sizes) - x.ndim
    x = reshape(x, (1,) * lead + x.shape)                 # same rank as sizes
    return Repeat.apply(x, sizes)


def tile(input, dims):
    """``repeat`` with NumPy's rule for short ``dims``: missing leading entries are 1."""
    x = as_tensor_arg(input)
    dims = tuple(int(d) for d in dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of tensors with that dimension removed."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    return tuple(x[(slice(None),) * d + (i,)] for i in range(x.shape[d]))


def narrow(input, dim, start, length):
    """The slice ``start : start + length`` along ``dim`` (a view)."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    start = start + x.shape[d] if start < 0 else start
    if not 0 <= start <= start + length <= x.shape[d]:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                         f"{d} of size {x.shape[d]}")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def movedim(input, source, destination):
    """Move the dimension(s) ``source`` to position(s) ``destination``; the others keep
    their order."""
    x = as_tensor_arg(input)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} must "
                         f"have the same number of dimensions")
    src = [_dim(d, x.ndim) for d in src]
    dst = [_dim(d, x.ndim) for d in dst]
    order = [d for d in range(x.ndim) if d not in src]
    for to, frm in sorted(zip(dst, src)):
        order.insert(to, frm)
    return permute(x, order)


# ----------------------------------------------------------------------------- roll

class Roll(Function):
    """y = x shifted cyclically along ``axes``: y[(i + s) % n] = x[i] for each axis and
    its shift s (``axes=None``: the flattened tensor, shape kept). The gradient is rolled
    back: d x = roll(d y, -s)."""
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return get_array_module(x).roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, gy):
        back = -ctx.shifts if ctx.axes is None else tuple(-s for s in ctx.shifts)
        return get_array_module(gy).roll(gy, back, ctx.axes), None, None


def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims``: what falls off one end comes back at the
    other. Without ``dims`` the tensor is rolled as if flattened (one shift), keeping its
    shape. Repeating a dimension in ``dims`` adds its shifts.

    Shape: out has input's shape.

    Example::

        mc.roll(mc.tensor([1, 2, 3, 4]), 1)               # [4, 1, 2, 3]
        mc.arange(6).reshape(2, 3).roll((1, -1), (0, 1))  # [[4, 5, 3], [1, 2, 0]]
    """
    x = as_tensor_arg(input)
    shifts = _int_tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: shifts and dimensions must align: {len(shifts)} shifts "
                             f"and no dims; with dims=None give one shift (the flattened "
                             f"tensor rolls) or name a dimension per shift")
        return Roll.apply(x, shifts[0], None)
    dims = _int_tuple(dims)
    if len(dims) != len(shifts):
        raise ValueError(f"roll: shifts and dimensions must align: {len(shifts)} shifts "
                         f"{list(shifts)} for {len(dims)} dims {list(dims)}")
    return Roll.apply(x, shifts, tuple(_dim(d, x.ndim) for d in dims))


def _int_tuple(v):
    return (int(v),) if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)


# ----------------------------------------------------------------------------- broadcast_to

def broadcast_to(input, size):
    """``input`` broadcast to ``size``, as a view (PyTorch's ``broadcast_to`` is
    ``expand``): size-1 dimensions stretch, new dimensions are added in front, and -1
    keeps a size. The gradient sums over the stretched dimensions.

    Example::

        mc.broadcast_to(mc.tensor([1., 2.]), (3, 2)).shape          # (3, 2)
    """
    return expand(input, size=_shape_arg((size,)))


# ----------------------------------------------------------------------------- meshgrid

def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-d) tensors: output k holds tensor k's values
    repeated along every other dimension. ``indexing='ij'`` gives shape (n0, n1, ...),
    ``'xy'`` (Cartesian, as NumPy's default) swaps the first two: (n1, n0, n2, ...).
    Leaving ``indexing`` out means 'ij' and warns, as PyTorch 2.x does.

    Each output is a view (reshape then expand) of its input, so gradients flow back
    summed over the repeated dimensions.

    Example::

        ys, xs = mc.meshgrid(mc.arange(2), mc.arange(3), indexing="ij")   # (2, 3) each
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument (as torch.meshgrid warns); 'ij' is used. Pass "
                      "indexing='ij' or indexing='xy'", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    ts = [as_tensor_arg(t) for t in tensors]
    if not ts:
        raise ValueError("meshgrid expects a non-empty list of tensors")
    for k, t in enumerate(ts):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-d or 1-d tensors, but tensor {k} has "
                             f"shape {list(t.shape)}; flatten it first")
        if t.dtype != ts[0].dtype:
            raise TypeError(f"meshgrid expects all tensors to have the same dtype, got "
                            f"{ts[0].dtype} (tensor 0) and {t.dtype} (tensor {k})")
        if t.device != ts[0].device:
            raise RuntimeError(f"meshgrid expects all tensors to be on the same device, got "
                               f"{ts[0].device} (tensor 0) and {t.device} (tensor {k})")
    axis_of = list(range(len(ts)))          # the output dimension that tensor k runs along
    if indexing == "xy" and len(ts) > 1:
        axis_of[0], axis_of[1] = 1, 0
    shape = [0] * len(ts)
    for k, t in enumerate(ts):
        shape[axis_of[k]] = t.numel()
    grids = []
    for k, t in enumerate(ts):
        view = [1] * len(ts)
        view[axis_of[k]] = t.numel()
        grids.append(expand(reshape(t, tuple(view)), size=tuple(shape)))
    return tuple(grids)


# ----------------------------------------------------------------------------- repeat_interleave

def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each slice of ``input`` along ``dim`` in place: element i appears
    ``repeats[i]`` times in a row (``repeats`` an int, or a 0-d/1-D integer tensor with
    one count per slice). With ``dim=None`` the input is flattened first. The one-argument
    form ``repeat_interleave(repeats)`` gives the indices 0, 1, ... each repeated.

    Built, as in PyTorch, as ``index_select(input, dim, index)`` with
    index = [0]*r0 + [1]*r1 + ..., so each slice's gradient is the sum over its copies.
    ``output_size`` (the total, optional) is checked against the counts.

    Shape: input's shape with sum(repeats) in dimension ``dim`` (x.numel()·r flat).

    Example::

        mc.tensor([1, 2]).repeat_interleave(2)                          # [1, 1, 2, 2]
        mc.repeat_interleave(mc.tensor([[1, 2], [3, 4]]), mc.tensor([1, 2]), dim=0)
    """
    from .index import index_select
    if repeats is None:                     # repeat_interleave(repeats)
        r = as_tensor_arg(input)
        if r.ndim > 1:
            raise ValueError(f"repeat_interleave: repeats must be 0-d or 1-d, got shape "
                             f"{list(r.shape)}")
        index = _repeat_index(r, r.numel(), output_size)
        return Tensor(get_array_module(r.data).asarray(index))
    x = as_tensor_arg(input)
    if dim is None or x.ndim == 0:
        x, d = reshape(x, -1), 0
    else:
        d = _dim(dim, x.ndim)
    index = _repeat_index(repeats, x.shape[d], output_size)
    return index_select(x, d, get_array_module(x.data).asarray(index))


def _repeat_index(repeats, n, output_size):
    """[0]*r0 + [1]*r1 + ... as a host int64 array, for n slices: the counts are checked
    (and, from a GPU tensor, copied to the host, a synchronisation, as in PyTorch)."""
    if isinstance(repeats, (int, np.integer)):
        if repeats < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got "
                             f"{repeats}")
        counts = np.full(n, int(repeats), np.int64)
    else:
        counts = to_numpy(as_tensor_arg(repeats).data)
        if counts.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave: repeats must be an int or an integer "
                            f"tensor, got dtype {counts.dtype}: convert it with .long()")
        if counts.ndim > 1:
            raise ValueError(f"repeat_interleave: repeats must be 0-d or 1-d, got shape "
                             f"{list(counts.shape)}")
        counts = counts.reshape(-1)
        if counts.size == 1:
            counts = np.broadcast_to(counts, (n,))
        elif counts.size != n:
            raise ValueError(f"repeat_interleave: repeats must have the same size as input "
                             f"along dim, but got {counts.size} repeats for size {n}")
        if counts.size and counts.min() < 0:
            raise ValueError(f"repeat_interleave: repeats can not be negative, got "
                             f"{int(counts.min())}")
    index = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and int(output_size) != index.size:
        raise ValueError(f"repeat_interleave: output_size={output_size} does not match the "
                         f"sum of the repeats ({index.size})")
    return index


# ----------------------------------------------------------------------------- rot90, fliplr

def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first axis
    towards the second (a copy, as in PyTorch): k=1 is a flip of dims[1] then a
    transpose, k=2 a flip of both, k=3 (or -1) a flip of dims[0] then a transpose.

    Shape: dims[0] and dims[1] swap sizes when k is odd.

    Example::

        mc.rot90(mc.tensor([[1, 2], [3, 4]]))             # [[2, 4], [1, 3]]
    """
    x = as_tensor_arg(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: expected total rotation dims == 2, but got dims = "
                         f"{len(dims)}: give two dimensions, e.g. dims=(0, 1)")
    if x.ndim < 2:
        raise ValueError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim} "
                         f"(shape {list(x.shape)})")
    d0, d1 = _dim(dims[0], x.ndim), _dim(dims[1], x.ndim)
    if d0 == d1:
        raise ValueError(f"rot90: expected rotation dims to be different, but got dim0 = "
                         f"{dims[0]} and dim1 = {dims[1]}")
    k = k % 4
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return transpose(flip(x, d0), d0, d1)
    return x.clone()


def fliplr(input):
    """Reverse the columns (dimension 1) of a tensor of at least 2 dimensions (a copy).

    Example::

        mc.fliplr(mc.tensor([[1, 2, 3]]))                 # [[3, 2, 1]]
    """
    x = as_tensor_arg(input)
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {list(x.shape)}")
    return flip(x, 1)


def flipud(input):
    """Reverse the rows (dimension 0) of a tensor of at least 1 dimension (a copy).

    Example::

        mc.flipud(mc.tensor([1, 2, 3]))                   # [3, 2, 1]
    """
    x = as_tensor_arg(input)
    if x.ndim < 1:
        raise ValueError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, 0)


# ----------------------------------------------------------------------------- atleast, *stack

def _atleast(tensors, n):
    """The tensors given (one, several, or one list) with at least ``n`` dimensions: one
    tensor back for one tensor, else a tuple. Tensors that already have them are returned
    as they are; others become views with size-1 dimensions added (NumPy's placement)."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        t = as_tensor_arg(t)
        if t.ndim < n:
            if n == 3 and t.ndim == 1:
                shape = (1,) + t.shape + (1,)            # (n,) -> (1, n, 1)
            elif n == 3 and t.ndim == 2:
                shape = t.shape + (1,)                   # (m, n) -> (m, n, 1)
            else:
                shape = (1,) * (n - t.ndim) + t.shape
            t = reshape(t, shape)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each input with at least 1 dimension (a 0-d tensor becomes shape (1,)).

    Example::

        mc.atleast_1d(mc.tensor(1.)).shape                # (1,)
    """
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each input with at least 2 dimensions: () -> (1, 1), (n,) -> (1, n).

    Example::

        mc.atleast_2d(mc.arange(3)).shape                 # (1, 3)
    """
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each input with at least 3 dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1), as NumPy.

    Example::

        mc.atleast_3d(mc.arange(3)).shape                 # (1, 3, 1)
    """
    return _atleast(tensors, 3)


def _stack_list(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name} expects a non-empty list of tensors")
    return tensors


def hstack(tensors):
    """Concatenate horizontally: along dimension 0 for 1-D tensors, else dimension 1
    (0-d tensors count as 1-D).

    Example::

        mc.hstack([mc.tensor([1, 2]), mc.tensor([3])])    # [1, 2, 3]
    """
    ts = atleast_1d(_stack_list(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate vertically (along dimension 0) after :func:`atleast_2d`.

    Example::

        mc.vstack([mc.tensor([1, 2]), mc.tensor([3, 4])])   # [[1, 2], [3, 4]]
    """
    return cat(atleast_2d(_stack_list(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate in depth (along dimension 2) after :func:`atleast_3d`.

    Example::

        mc.dstack([mc.tensor([1, 2]), mc.tensor([3, 4])]).shape   # (1, 2, 2)
    """
    return cat(atleast_3d(_stack_list(tensors, "dstack")), 2)


def column_stack(tensors):
    """Put tensors side by side as columns: 0-d and 1-D tensors become (n, 1) columns,
    then all are concatenated along dimension 1.

    Example::

        mc.column_stack([mc.tensor([1, 2]), mc.tensor([3, 4])])   # [[1, 3], [2, 4]]
    """
    ts = [as_tensor_arg(t) for t in _stack_list(tensors, "column_stack")]
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts], 1)


# ----------------------------------------------------------------------------- tensor_split

def _split_views(x, cuts, d):
    """The pieces of ``x`` between the sorted ``cuts`` along ``d``: views of x (one
    :class:`Split` node, whose backward concatenates the pieces' gradients once)."""
    from ..autograd import _mark_view
    out = Split.apply(x, cuts, d)
    out = out if isinstance(out, tuple) else (out,)
    for piece in out:
        _mark_view(piece, x)
    return out


def _slice_along(x, d, start, stop):
    """x[..., start:stop, ...] on dimension d: a view (Python's slice rules)."""
    return x[(slice(None),) * d + (slice(start, stop),)]


def tensor_split(input, indices_or_sections, dim=0):
    """Split into views along ``dim``: an int ``n`` gives n pieces whose sizes differ by
    at most one (the first ``size % n`` one longer); a list of indices (or a 1-D int64
    tensor) cuts before each index, with Python's slice rules (negative counts from the
    end, out-of-range clips, a smaller index after a larger one gives an empty piece).

    Example::

        mc.arange(7).tensor_split(3)                      # sizes 3, 2, 2
        mc.arange(7).tensor_split([1, 5])                 # sizes 1, 4, 2
    """
    x = as_tensor_arg(input)
    if x.ndim == 0:
        raise ValueError("tensor_split expected at least a 1-dimensional tensor, but got a "
                         "tensor with 0 dims")
    d = _dim(dim, x.ndim)
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype != np.int64:
            raise TypeError(f"tensor_split expected tensor_indices_or_sections to have "
                            f"dtype of int64 (long), but got {ios.dtype}")
        if ios.ndim > 1:
            raise ValueError(f"tensor_split expected tensor_indices_or_sections to be a "
                             f"zero-dimensional or one-dimensional tensor, but got a "
                             f"tensor with {ios.ndim} dims")
        ios = int(ios.item()) if ios.ndim == 0 else [int(i) for i in to_numpy(ios.data)]
    if isinstance(ios, (int, np.integer)):
        sections, n = int(ios), x.shape[d]
        if sections <= 0:
            raise ValueError(f"tensor_split: number of sections must be larger than 0, "
                             f"got {sections}")
        sizes = [n // sections + (i < n % sections) for i in range(sections)]
        ios = np.cumsum(sizes)[:-1].tolist()
    n = x.shape[d]
    cuts = [min(max(int(i) + n * (int(i) < 0), 0), n) for i in ios]   # Python's slice rules
    if cuts != sorted(cuts):          # overlapping pieces (an index after a larger one)
        bounds = [0] + cuts + [None]
        return tuple(_slice_along(x, d, a, b) for a, b in zip(bounds[:-1], bounds[1:]))
    return _split_views(x, cuts, d)


def _split_named(name, input, indices_or_sections, dim, min_ndim):
    """hsplit/vsplit/dsplit: tensor_split along ``dim``, an int must divide the size."""
    x = as_tensor_arg(input)
    if x.ndim < min_ndim:
        raise ValueError(f"{name} requires a tensor with at least {min_ndim} dimension, "
                         f"but got a tensor with {x.ndim} dimensions")
    ios = indices_or_sections
    if isinstance(ios, (int, np.integer)):
        n = x.shape[dim]
        if ios == 0 or n % ios:
            raise ValueError(f"{name} attempted to split along dimension {dim}, but the "
                             f"size of the dimension {n} is not divisible by the "
                             f"split_size {ios}; give indices to split unevenly")
    return tensor_split(x, ios, dim)


def hsplit(input, indices_or_sections):
    """:func:`tensor_split` along dimension 1 (dimension 0 for a 1-D tensor); an int
    number of sections must divide the size.

    Example::

        mc.hsplit(mc.arange(6), 3)                        # three pieces of 2
    """
    x = as_tensor_arg(input)
    return _split_named("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    """:func:`tensor_split` along dimension 0 of a tensor of at least 2 dimensions.

    Example::

        mc.vsplit(mc.zeros(4, 2), [1])                    # shapes (1, 2), (3, 2)
    """
    return _split_named("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """:func:`tensor_split` along dimension 2 of a tensor of at least 3 dimensions.

    Example::

        mc.dsplit(mc.zeros(2, 2, 4), 2)[0].shape          # (2, 2, 2)
    """
    return _split_named("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` along ``dim`` with the listed sizes, which must be non-negative
    and sum to the size of ``dim``.

    Example::

        mc.arange(7).split_with_sizes([3, 4])             # sizes 3, 4
    """
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in sizes):
        raise ValueError(f"split_with_sizes expects split_sizes have only non-negative "
                         f"entries, but got split_sizes={sizes}")
    if sum(sizes) != x.shape[d]:
        raise ValueError(f"split_with_sizes expects split_sizes to sum exactly to "
                         f"{x.shape[d]} (input tensor's size at dimension {d}), but got "
                         f"split_sizes={sizes}")
    return _split_views(x, np.cumsum(sizes)[:-1].tolist(), d)


# ----------------------------------------------------------------------------- unflatten, ...

def unflatten(input, dim, sizes):
    """Expand dimension ``dim`` into ``sizes`` (a view); one size may be -1 (inferred).

    Shape: (*, prod(sizes), *) -> (*, *sizes, *).

    Example::

        mc.arange(6).unflatten(0, (2, -1)).shape          # (2, 3)
    """
    x = as_tensor_arg(input)
    if x.ndim == 0:
        raise IndexError(f"unflatten: Dimension specified as {dim} but tensor has no "
                         f"dimensions")
    d = _dim(dim, x.ndim)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise ValueError(f"unflatten: only one dimension can be inferred, got sizes "
                         f"{sizes}")
    n, known = x.shape[d], int(np.prod([s for s in sizes if s != -1]))
    if -1 in sizes:
        if known == 0:
            raise ValueError(f"unflatten: cannot infer the -1 of sizes {sizes} for a "
                             f"dimension of size {n}: the other sizes multiply to 0")
        sizes[sizes.index(-1)] = n // known
    if int(np.prod(sizes)) != n:
        raise ValueError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                         f"of dim {d} ({n}) in the input tensor")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def moveaxis(input, source, destination):
    """Alias of :func:`movedim` (NumPy's name)."""
    return movedim(input, source, destination)


def swapdims(input, dim0, dim1):
    """Alias of :func:`transpose`: a view with ``dim0`` and ``dim1`` exchanged."""
    return transpose(input, dim0, dim1)


def ravel(input):
    """The elements as a 1-D tensor: a view when the layout allows, else a copy.

    Example::

        mc.arange(6).reshape(2, 3).t().ravel()            # [0, 3, 1, 4, 2, 5]
    """
    return reshape(input, -1)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dimension removed (a view):
    ``select(x, 1, i)`` is ``x[:, i]``.

    Example::

        mc.arange(6).reshape(2, 3).select(1, -1)          # [2, 5]
    """
    x = as_tensor_arg(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return x[(slice(None),) * d + (int(index),)]


def narrow_copy(input, dim, start, length):
    """:func:`narrow` into a new tensor (not a view); differentiable as narrow."""
    x = as_tensor_arg(input)
    out = narrow(x, dim, start, length)
    return Tensor(out.data.copy()) if not out.requires_grad else out.clone()


# ----------------------------------------------------------------------------- Tensor.unfold

class Unfold(Function):
    """Sliding windows along ``dim`` as a strided view: out[..., i, ..., j] =
    x[..., i * step + j, ...], the window index j in a new last dimension.

    d x = the sum, over the window positions j, of d out[..., :, ..., j] added at the
    rows j, j + step, ...: a Python loop over the ``size`` window positions.
    """
    is_view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        xp = get_array_module(x)
        m = (x.shape[dim] - size) // step + 1                  # number of windows
        ctx.shape, ctx.dim, ctx.size, ctx.step, ctx.m = x.shape, dim, size, step, m
        shape = x.shape[:dim] + (m,) + x.shape[dim + 1:] + (size,)
        st = x.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        return xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        d, step, m = ctx.dim, ctx.step, ctx.m
        gx = xp.zeros(ctx.shape, gy.dtype)
        for j in range(ctx.size):            # positions within one window are distinct
            rows = (slice(None),) * d + (slice(j, j + step * (m - 1) + 1, step),)
            gx[rows] += gy[..., j]
        return gx, None, None, None


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: all windows of ``size`` elements along ``dimension``, ``step``
    apart, as a view with the window in a new last dimension (``F.unfold``, im2col, is
    another function).

    Shape: dimension becomes (n - size) // step + 1, plus a last dimension of ``size``.

    Example::

        mc.arange(7.).unfold(0, 3, 2)          # [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    """
    x = as_tensor_arg(input)
    d = _dim(dimension, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if size < 0:
        raise ValueError(f"unfold: size is {size} but must be >= 0")
    if size > n:
        raise ValueError(f"unfold: maximum size for tensor at dimension {d} is {n} but "
                         f"size is {size}")
    if step <= 0:
        raise ValueError(f"unfold: step is {step} but must be > 0")
    if x.ndim == 0:                                       # (size,): 1 or 0 elements
        return reshape(x, (1,)) if size else getitem(reshape(x, (1,)), slice(0, 0))
    return Unfold.apply(x, d, int(size), int(step))


# ----------------------------------------------------------------------------- broadcasting

def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` (ints or sequences of ints) broadcast to,
    as a tuple (PyTorch returns a ``torch.Size``).

    Example::

        mc.broadcast_shapes((2, 1), (3,))                 # (2, 3)
    """
    shapes = [(int(s),) if isinstance(s, (int, np.integer)) else _int_tuple(s)
              for s in shapes]
    for s in shapes:
        if any(n < 0 for n in s):
            raise ValueError(f"broadcast_shapes: attempting to broadcast a dimension with "
                             f"negative length, in shape {list(s)}")
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {[list(s) for s in shapes]} cannot be "
                         f"broadcast to a single shape: sizes must be equal or 1 in each "
                         f"dimension (counted from the last)") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape, as views (gradients sum
    back over the stretched dimensions).

    Example::

        a, b = mc.broadcast_tensors(mc.zeros(2), mc.zeros(3, 1))    # (3, 2) each
    """
    ts = [as_tensor_arg(t) for t in tensors]
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(t if t.shape == shape else expand(t, size=shape) for t in ts)


def unravel_index(indices, shape):
    """Turn flat indices into coordinates of an array of ``shape``: a tuple with one
    int64 tensor per dimension, each of ``indices``' shape. As in PyTorch, indices
    outside [0, prod(shape)) wrap around (Python's modulo), without an error.

    Example::

        mc.unravel_index(mc.tensor([4, 1]), (2, 3))       # ([1, 0], [1, 1])
    """
    idx = as_tensor_arg(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                        f"{idx.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else _int_tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got "
                         f"{shape}")
    if 0 in shape:
        raise ValueError(f"unravel_index: 'shape' {shape} has a zero size, so no index "
                         f"lies in it")
    xp = get_array_module(idx.data)
    rest, coords = idx.data.astype(np.int64), []
    for n in reversed(shape):                  # last dimension varies fastest
        coords.append(Tensor(xp.remainder(rest, n)))
        rest = xp.floor_divide(rest, n)
    return tuple(reversed(coords))


def sum_to_size(input, *sizes, size=None):
    """``Tensor.sum_to_size``: sum ``input`` down to ``size``, which must broadcast to
    input's shape (the reverse of ``expand``): dimensions that ``size`` lacks or has as 1
    are summed. Returns ``input`` itself when the shape is already ``size``.

    Example::

        mc.ones(2, 3).sum_to_size(1, 3)                   # [[2, 2, 2]]
    """
    x = as_tensor_arg(input)
    size = _shape_arg(sizes if size is None else (size,))
    lead = x.ndim - len(size)
    if lead < 0 or any(s != 1 and s != x.shape[lead + i] for i, s in enumerate(size)):
        raise ValueError(f"sum_to_size: size {list(size)} is not expandable to size "
                         f"{list(x.shape)}")
    if size == x.shape:
        return x
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and x.shape[lead + i] != 1)
    return reshape(x.sum(dim=axes, keepdim=True), size)


# ----------------------------------------------------------------------------- in-place

def t_(self):
    """In-place :func:`t`: self becomes its transpose (same memory)."""
    return self._reshape_("t_", t(self))


def transpose_(self, dim0, dim1):
    """In-place :func:`transpose`: self's dimensions ``dim0`` and ``dim1`` exchanged."""
    return self._reshape_("transpose_", transpose(self, dim0, dim1))


def swapdims_(self, dim0, dim1):
    """In-place :func:`swapdims` (``transpose_``)."""
    return self._reshape_("swapdims_", transpose(self, dim0, dim1))
