"""``Tensor``: an ndarray, the node that made it, and its gradient.

A tensor holds ``data`` (a NumPy array, or a CuPy array on a GPU), ``requires_grad``,
``grad`` (a Tensor or None), and for results of differentiable ops ``grad_fn``, the
:class:`~minicv.autograd.Function` node that produced it. The methods are thin: they call
the ops in ``minicv.ops``.

In-place methods (``add_``, ``mul_``, ``zero_``, ``copy_``, ``fill_``...) exist for
optimizers and initialisers. They bump a version counter shared with views, so a later
backward through an op that saved the old values raises instead of using them.
"""
import weakref

import numpy as np

from . import autograd
from .backend import (get_default_dtype, get_array_module, is_cupy_array, Device, CPU,
                      device_of, to_numpy)

_FLOAT_KINDS = "f"


def _infer_array(data, dtype=None):
    """Array from Python data: floats become float32 (the default), ints int64.

    A CuPy array stays on its GPU (copied, or cast to ``dtype``)."""
    if isinstance(data, Tensor):
        data = data.data
    if is_cupy_array(data):
        return data.astype(dtype) if dtype is not None else data.copy()
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        return data.copy()
    arr = np.array(data)
    if arr.dtype == np.float64 and not isinstance(data, np.generic):
        arr = arr.astype(get_default_dtype())
    elif arr.dtype.kind in "iu" and not isinstance(data, np.generic):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} of dtype "
                        f"{arr.dtype}: give numbers, nested lists or a numeric array")
    return arr


class Tensor:
    """A multi-dimensional array that can record the ops applied to it for autograd.

    ``Tensor(ndarray)`` wraps the array without copying; ``minicv.tensor(data)`` copies.
    """
    __array_priority__ = 1000           # make ndarray <op> Tensor call our reflected ops
    # Defaults live on the class, so creating a tensor sets only what differs.
    grad = None
    grad_fn = None
    _out_index = 0
    _retains_grad = False
    _hooks = None

    def __init__(self, data, requires_grad=False, dtype=None):
        if (type(data) is not np.ndarray and not is_cupy_array(data)) or dtype is not None:
            data = _infer_array(data, dtype)
        self.data = data
        self._vc = [0]                  # version counter, shared with views
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ properties
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: device_of(self.data))
    is_leaf = property(lambda self: self.grad_fn is None)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.transpose(-2, -1))
    _version = property(lambda self: self._vc[0])

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------------ autograd API
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {self.data.dtype}: convert with .float() first")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use "
                               ".detach() to get a tensor outside the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) · gradient into the ``.grad`` of every leaf."""
        if create_graph:
            raise RuntimeError("minicv computes first-order gradients only: backward does "
                               "not record a graph, so create_graph=True (double "
                               "backward, gradient penalties) is not supported")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn: nothing to differentiate (did you compute it under "
                               "no_grad, or forget requires_grad=True on the inputs?)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"this tensor has shape {list(self.shape)}: pass "
                                   f"gradient= of the same shape, or reduce it (e.g. .sum())")
            g = get_array_module(self.data).ones(self.shape, self.dtype)
        else:
            g = gradient.data if isinstance(gradient, Tensor) else _like_array(self.data,
                                                                               gradient)
            if g.shape != self.shape:
                raise RuntimeError(f"gradient has shape {list(g.shape)} but the tensor has "
                                   f"shape {list(self.shape)}")
            g = g.astype(self.dtype, copy=False)
        autograd.run_backward(self, g, retain_graph)

    def _accumulate(self, g, owned=False):
        """Add a gradient into this leaf's ``.grad`` (after its hooks). ``owned``: the
        engine holds the only reference to ``g``, which may then become ``.grad`` as is
        (if it is a C-contiguous array of its own memory and of this tensor's dtype)."""
        if self._hooks:
            owned = False
            for fn in self._hooks:
                r = fn(Tensor(g))
                if r is not None:
                    g = r.data if isinstance(r, Tensor) else _like_array(self.data, r)
        if self.grad is None:
            if owned and g.base is None and g.flags.c_contiguous and g.dtype == self.dtype:
                self.grad = Tensor(g)
                return
            xp = get_array_module(g)
            self.grad = Tensor(xp.array(g, dtype=self.dtype, copy=True))
        elif (self.grad.data.shape == g.shape
              and getattr(self.grad.data.flags, "writeable", True)   # CuPy has no flag
              and get_array_module(self.grad.data) is get_array_module(g)):
            # in place, as PyTorch accumulates: no fresh (page-faulting) array per step
            get_array_module(g).add(self.grad.data, g, out=self.grad.data, casting="unsafe")
        else:
            self.grad.data = self.grad.data + g

    def detach(self):
        """The same data, cut from the graph (shares memory and version counter)."""
        out = Tensor(self.data)
        out._vc = self._vc
        return out

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` of this intermediate tensor after backward (no-op on leaves)."""
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(g):
            t = ref()
            if t is not None:
                t.grad = Tensor(g.data.copy()) if t.grad is None else t.grad + g
        self.register_hook(store)

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; it may return a
        replacement. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node.hooks is None:
                node.hooks = {}
            hooks = node.hooks.setdefault(self._out_index, [])
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy()")
        if type(self.data) is not np.ndarray and is_cupy_array(self.data):
            raise TypeError(f"can't convert a tensor on {self.device} to numpy: copy it to "
                            f"the host first with .cpu().numpy()")
        return self.data

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) copies a GPU tensor to the host (CuPy itself refuses implicit
        # copies; we allow them here so metrics and plotting code work on any device).
        data = to_numpy(self.data)
        data = data if dtype is None else data.astype(dtype)
        return data.copy() if copy and data is self.data else data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a tensor with {self.data.size} elements cannot be converted "
                             f"to a Python scalar")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.data.size} values is "
                               "ambiguous: use .any() or .all()")
        return bool(self.data.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be an index")
        return int(self.data.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        """``to(dtype)``, ``to(device)`` or ``to(device, dtype)``; differentiable.

        Moving to another device copies the data (the gradient flows back to the source
        device); a tensor already there is returned as is, unless ``copy=True``.
        """
        for a in args:
            if isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            device = Device(device)
            if not _same_device(self.data, device):
                from .ops.elementwise import ToDevice
                out, copy = ToDevice.apply(self, device), False
        if dtype is None or np.dtype(dtype) == out.dtype:
            return out.clone() if copy else out
        from .ops.elementwise import Cast
        return Cast.apply(out, np.dtype(dtype))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}")

    def clone(self):
        from .ops.elementwise import Cast
        return Cast.apply(self, self.dtype) if self.requires_grad else \
            Tensor(self.data.copy())

    def contiguous(self):
        """Self if its array is C-contiguous, else a C-contiguous copy (differentiable)."""
        if self.data.flags.c_contiguous:
            return self
        from .ops.shape import contiguous
        return contiguous(self)

    def is_contiguous(self):
        return self.data.flags.c_contiguous

    def __repr__(self):
        body = np.array2string(to_numpy(self.data), separator=", ", prefix="tensor(")
        extra = ""
        if type(self.data) is not np.ndarray and is_cupy_array(self.data):
            extra += f", device='{self.device}'"
        if self.data.dtype not in (get_default_dtype(), np.int64) and self.data.dtype != bool:
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name()}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------------ in-place updates
    def _inplace(self, name):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                f"{name}() on a tensor that requires grad would hide the change from "
                f"autograd; do it inside `with minicv.no_grad():` (as optimizers do), or on "
                f".detach()")
        self._vc[0] += 1
        return self.data

    def add_(self, other, alpha=1):
        d = self._inplace("add_")
        o = other.data if isinstance(other, Tensor) else other
        d += o if alpha == 1 else o * alpha
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, -alpha)

    def mul_(self, other):
        d = self._inplace("mul_")
        d *= other.data if isinstance(other, Tensor) else other
        return self

    def div_(self, other):
        d = self._inplace("div_")
        d /= other.data if isinstance(other, Tensor) else other
        return self

    def addcmul_(self, t1, t2, value=1):
        d = self._inplace("addcmul_")
        d += value * _arr(t1) * _arr(t2)
        return self

    def addcdiv_(self, t1, t2, value=1):
        d = self._inplace("addcdiv_")
        d += value * _arr(t1) / _arr(t2)
        return self

    def clamp_(self, min=None, max=None):
        d = self._inplace("clamp_")
        np.clip(d, min, max, out=d)
        return self

    def zero_(self):
        self._inplace("zero_")[...] = 0
        return self

    def fill_(self, value):
        d = self._inplace("fill_")
        d[...] = _like_array(d, _arr(value))
        return self

    def copy_(self, src):
        d = self._inplace("copy_")
        s = _like_array(d, _arr(src))     # copies across devices, as PyTorch's copy_
        try:
            d[...] = s
        except ValueError:
            raise ValueError(f"copy_: source of shape {list(np.shape(s))} does not "
                             f"broadcast to the destination shape {list(d.shape)}") from None
        return self

    def normal_(self, mean=0.0, std=1.0):
        from .backend import get_rng
        d = self._inplace("normal_")
        d[...] = _like_array(d, get_rng().normal(mean, std, self.shape))
        return self

    def uniform_(self, a=0.0, b=1.0):
        from .backend import get_rng
        d = self._inplace("uniform_")
        d[...] = _like_array(d, get_rng().uniform(a, b, self.shape))
        return self

    __hash__ = object.__hash__


class _HookHandle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _arr(x):
    return x.data if isinstance(x, Tensor) else x


def _same_device(array, device):
    """Whether ``array`` already lives on ``device`` ("cuda" means any GPU array)."""
    if device.type == "cpu":
        return type(array) is np.ndarray or not is_cupy_array(array)
    if not is_cupy_array(array):
        return False
    return device.index is None or array.device.id == device.index


def _like_array(ref, value):
    """``value`` as an array of the same module (and GPU) as ``ref``: NumPy data stays
    as it is on the CPU; anything given for a GPU tensor is copied there."""
    if type(ref) is np.ndarray:
        return to_numpy(value) if is_cupy_array(value) else np.asarray(value)
    xp = get_array_module(ref)
    with xp.cuda.Device(ref.device.id):
        return xp.asarray(value)


def _new_full(self, size, fill_value, dtype=None, requires_grad=False):
    """``x.new_full(size, v)``: a tensor of ``size`` filled with ``v``, with x's dtype (unless
    ``dtype`` is given) on x's device; ``new_zeros`` / ``new_ones`` call it."""
    xp = get_array_module(self.data)
    data = xp.full(_size(size), fill_value, dtype=dtype or self.dtype)
    return Tensor(data, requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, requires_grad=False):
    """``x.new_tensor(data)``: a copy of ``data`` with x's dtype and device by default."""
    arr = np.asarray(to_numpy(_arr(data)), dtype=dtype or self.dtype)
    return Tensor(_like_array(self.data, arr), requires_grad=requires_grad)


def _size(size):
    """A shape given as ``(2, 3)``, ``[2, 3]``, ``((2, 3),)`` or ``2``."""
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    size = tuple(size)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def as_tensor_arg(x):
    """Wrap a non-tensor operand (number, list, ndarray) as a constant tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


autograd.Tensor = Tensor


def _install_methods():
    """Attach the op wrappers as methods and operators (kept out of the class body)."""
    from .ops import elementwise as E, activation as A, reduce as R, shape as S
    from .ops import linalg as L, index as I
    from .ops.logical import logical_op
    T = Tensor

    def rev(fn):
        return lambda self, other: fn(other, self)

    T.__add__, T.__radd__ = E.add, rev(E.add)
    T.__sub__, T.__rsub__ = E.sub, rev(E.sub)
    T.__mul__, T.__rmul__ = E.mul, rev(E.mul)
    T.__truediv__, T.__rtruediv__ = E.div, rev(E.div)
    T.__pow__, T.__rpow__ = E.pow, rev(E.pow)
    T.__matmul__, T.__rmatmul__ = L.matmul, rev(L.matmul)
    T.__neg__ = E.neg
    T.__pos__ = lambda self: self
    T.__abs__ = E.abs
    T.__floordiv__ = lambda a, b: E.div(a, b, rounding_mode="floor")
    T.__rfloordiv__ = lambda a, b: E.div(b, a, rounding_mode="floor")
    T.__mod__ = E.remainder
    T.__rmod__ = lambda a, b: E.remainder(b, a)
    T.remainder = E.remainder
    T.__invert__ = lambda a: logical_op("invert", a)
    T.__and__ = lambda a, b: logical_op("and", a, b)
    T.__or__ = lambda a, b: logical_op("or", a, b)
    T.__xor__ = lambda a, b: logical_op("xor", a, b)
    T.__rand__, T.__ror__, T.__rxor__ = T.__and__, T.__or__, T.__xor__
    T.__eq__, T.__ne__, T.__lt__ = E.eq, E.ne, E.lt
    T.__le__, T.__gt__, T.__ge__ = E.le, E.gt, E.ge
    T.__getitem__ = S.getitem
    for name in ("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "abs", "clamp",
                 "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "neg"):
        setattr(T, name, getattr(E, name))
    T.clip = E.clamp
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        setattr(T, name, getattr(A, name))
    for name in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
                 "logsumexp"):
        setattr(T, name, getattr(R, name))
    for name in ("reshape", "permute", "transpose", "flatten", "squeeze", "unsqueeze",
                 "expand", "split", "chunk", "t"):
        setattr(T, name, getattr(S, name))
    T.view = S.reshape
    T.matmul = L.matmul
    T.expand_as = lambda self, other: S.expand(self, other.shape)
    T.view_as = lambda self, other: S.reshape(self, other.shape)
    T.reshape_as = T.view_as
    T.any = lambda self, dim=None, keepdim=False: Tensor(_like_array(
        self.data, self.data.any(axis=dim, keepdims=keepdim)))
    T.all = lambda self, dim=None, keepdim=False: Tensor(_like_array(
        self.data, self.data.all(axis=dim, keepdims=keepdim)))
    for name in ("floor", "ceil", "round", "trunc", "sign", "sin", "cos", "log1p", "expm1",
                 "isnan", "isinf", "isfinite", "clamp_min", "clamp_max"):
        setattr(T, name, getattr(E, name))
    for name in ("prod", "cumsum", "norm"):
        setattr(T, name, getattr(R, name))
    for name in ("flip", "repeat", "unbind", "narrow", "movedim", "tile"):
        setattr(T, name, getattr(S, name))
    T.swapaxes = S.transpose
    for name in ("gather", "scatter", "scatter_add", "scatter_", "scatter_add_",
                 "index_select", "masked_fill", "masked_fill_", "nonzero", "sort",
                 "argsort", "topk"):
        setattr(T, name, getattr(I, name))
    for name in ("mm", "bmm", "dot", "outer"):
        setattr(T, name, getattr(L, name))
    T.where = lambda self, condition, other: E.where(condition, self, other)
    T.type_as = lambda self, other: self.to(other.dtype)
    T.nelement = T.numel
    T.allclose = lambda self, other, rtol=1e-05, atol=1e-08, equal_nan=False: bool(
        np.allclose(to_numpy(self.data), to_numpy(_arr(other)), rtol, atol, equal_nan))
    T.equal = lambda self, other: bool(self.shape == other.shape and
                                       (to_numpy(self.data) == to_numpy(other.data)).all())
    T.new_tensor, T.new_full = _new_tensor, _new_full
    T.new_zeros = lambda self, *size, **kw: _new_full(self, size, 0, **kw)
    T.new_ones = lambda self, *size, **kw: _new_full(self, size, 1, **kw)
    T.new_empty = T.new_zeros
    T.square = lambda self: E.mul(self, self)
    T.rsqrt = lambda self: E.div(1.0, E.sqrt(self))
    T.reciprocal = lambda self: E.div(1.0, self)
