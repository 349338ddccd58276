"""``Tensor``: an ndarray, the node that made it, and its gradient.

A tensor holds ``data`` (a NumPy array, or a CuPy array on a GPU), ``requires_grad``,
``grad`` (a Tensor or None), and for results of differentiable ops ``grad_fn``, the
:class:`~minicv.autograd.Function` node that produced it. The methods are thin: they call
the ops in ``minicv.ops``.

In-place methods (``add_``, ``mul_``, ``zero_``, ``copy_``, ``fill_``, ``x[key] = v``,
``x += y``...) change the array itself, so views and aliases see the change. They bump a
version counter shared with views, so a later backward through an op that saved the old
values raises instead of using them. When autograd is involved (the tensor or an operand
requires grad) the change is recorded as in PyTorch: the new value is computed by the
ordinary differentiable op from the old one and becomes the tensor's history (see
``Tensor._update``); a leaf that requires grad refuses, since its ``.grad`` would belong to
a value that no longer exists.
"""
import functools
import weakref

import numpy as np

from . import autograd
from .backend import (get_default_dtype, get_array_module, is_cupy_array, Device, CPU,
                      device_of, to_numpy, promote_types)

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
    if isinstance(data, (list, tuple)) and (
            arr.dtype == np.float64 or arr.dtype.kind in "iu" and arr.dtype != np.int64):
        # NumPy scalars, arrays or tensors among the leaves decide (PyTorch's rule); where
        # NumPy gives int64, bool or float32 that already agrees with it (no second look)
        dtype = _sequence_dtype(data)
        if dtype is not None:
            return arr.astype(dtype, copy=False)
    if arr.dtype == np.float64 and not isinstance(data, np.generic):
        arr = arr.astype(get_default_dtype())
    elif arr.dtype.kind in "iu" and not isinstance(data, np.generic):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} of dtype "
                        f"{arr.dtype}: give numbers, nested lists or a numeric array")
    return arr


def _leaf_types(data, types):
    """Add the types of the leaves of the nested lists/tuples ``data`` to ``types``."""
    for item in data:
        if isinstance(item, (list, tuple)):
            _leaf_types(item, types)
        else:
            types.update(map(type, data))
            return types
    return types


def _leaf_dtypes(data, dtypes):
    """Add the dtype PyTorch gives each leaf of ``data`` to ``dtypes``: a Python float the
    default dtype, an int int64, a bool bool, a NumPy scalar, array or tensor its own."""
    for item in data:
        if isinstance(item, (list, tuple)):
            _leaf_dtypes(item, dtypes)
        elif isinstance(item, (bool, int, float)) and not isinstance(item, np.generic):
            dtypes.add(np.dtype(np.bool_) if isinstance(item, bool) else
                       np.dtype(np.int64) if isinstance(item, int) else get_default_dtype())
        else:
            dtypes.add(np.dtype(item.dtype))
    return dtypes


def _sequence_dtype(data):
    """The dtype of ``tensor(data)`` for nested lists that hold NumPy scalars, arrays or
    tensors (PyTorch promotes the dtypes of the leaves: ``[np.float64(1.), 2.]`` is
    float64, ``[np.int32(1), 2]`` int64); None when the leaves are all Python numbers
    (the common case, left to NumPy) or of a kind tensors do not hold."""
    types = _leaf_types(data, set())
    if types <= {int, float, bool} or not all(
            t in (int, float, bool) or issubclass(t, (np.bool_, np.integer, np.floating,
                                                      np.ndarray, Tensor)) for t in types):
        return None
    dtypes = _leaf_dtypes(data, set())
    if any(dt.kind not in "biuf" for dt in dtypes):
        return None
    return functools.reduce(promote_types, dtypes)


def _constructor_array(data, sizes, dtype):
    """The array behind ``Tensor(data)`` or ``Tensor(*sizes)`` when no array is given:
    PyTorch's ``torch.Tensor`` rules. Python lists give the default float dtype whatever
    their numbers (``Tensor([1, 2])`` is float32; ``minicv.tensor([1, 2])`` is int64), and
    integers are sizes: ``Tensor(2, 3)`` is a (2, 3) tensor of zeros (PyTorch leaves it
    uninitialised). NumPy scalars and other array-likes keep their dtype."""
    if sizes and type(data) is not int:
        raise TypeError(f"Tensor(data, *more): only sizes may follow the first argument "
                        f"(Tensor(2, 3)), got data of type {type(data).__name__} then "
                        f"{sizes!r}; pass requires_grad= and dtype= by keyword")
    if type(data) is int or sizes:
        shape = _size((data,) + sizes)
        return np.zeros(shape, get_default_dtype() if dtype is None else dtype)
    if isinstance(data, (list, tuple)):
        arr = _infer_array(data, dtype)
        return arr if dtype is not None or arr.dtype == get_default_dtype() else \
            arr.astype(get_default_dtype())
    if type(data) in (float, bool, complex):      # (np.float64 is a float: it passes)
        raise TypeError(f"Tensor(): data must be a sequence (got {type(data).__name__}); "
                        f"use minicv.tensor({data!r}) for a 0-d tensor")
    return _infer_array(data, dtype)


class Tensor:
    """A multi-dimensional array that can record the ops applied to it for autograd.

    ``Tensor(ndarray)`` wraps the array without copying (how minicv builds its results);
    ``minicv.tensor(data)`` copies. As ``torch.Tensor``, ``Tensor([1, 2])`` is float32 and
    ``Tensor(2, 3)`` a (2, 3) float tensor (of zeros).
    """
    __array_priority__ = 1000           # make ndarray <op> Tensor call our reflected ops
    # Defaults live on the class, so creating a tensor sets only what differs.
    _grad = None
    grad_fn = None
    _out_index = 0
    _retains_grad = False
    _hooks = None
    _base = None            # for a view: the tensor that owns the memory (autograd.py)
    _base_fn = None         # ... and that tensor's grad_fn when the view was taken

    def __init__(self, data=(), *sizes, requires_grad=False, dtype=None):
        if (type(data) is not np.ndarray and not is_cupy_array(data)) or dtype is not None \
                or sizes:
            data = _constructor_array(data, sizes, dtype)
        self.data = data
        self._vc = [0]                  # version counter, shared with views
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ properties
    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this shape), or None. Assigning one of
        another shape raises, as in PyTorch; another dtype is accepted (PyTorch refuses
        it; the optimizers convert)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"{list(value.shape)} to a tensor of size "
                                   f"{list(self.shape)}: the gradient must have the "
                                   f"tensor's shape")
        self._grad = value

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: device_of(self.data))
    is_leaf = property(lambda self: self.grad_fn is None)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.transpose(-2, -1))
    _version = property(lambda self: self._vc[0])
    is_cuda = property(lambda self: self.device.type == "cuda")
    is_cpu = property(lambda self: self.device.type == "cpu")
    nbytes = property(lambda self: self.data.nbytes)
    itemsize = property(lambda self: self.data.itemsize)
    retains_grad = property(lambda self: self._retains_grad)
    is_sparse = is_quantized = is_meta = False          # dense tensors only

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

    def backward(self, gradient=None, retain_graph=False, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) · gradient into the ``.grad`` of every leaf (of only
        the tensors in ``inputs``, leaves or not, when given)."""
        g = self._seed(gradient, create_graph)
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            if not inputs:
                raise RuntimeError("backward: inputs= must not be empty")
        autograd.run_backward([(self, g)], retain_graph, inputs)

    def _seed(self, gradient, create_graph=False, index=0):
        """The gradient array that starts a backward pass from this tensor."""
        if create_graph:
            raise RuntimeError("minicv computes first-order gradients only: backward does "
                               "not record a graph, so create_graph=True (double "
                               "backward, gradient penalties) is not supported")
        if not self.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does "
                               f"not have a grad_fn: nothing to differentiate (did you "
                               f"compute it under no_grad, or forget requires_grad=True on "
                               f"the inputs?)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"this tensor has shape {list(self.shape)}: pass "
                                   f"gradient= of the same shape, or reduce it (e.g. .sum())")
            return get_array_module(self.data).ones(self.shape, self.dtype)
        g = gradient.data if isinstance(gradient, Tensor) else _like_array(self.data, gradient)
        if g.shape != self.shape:
            raise RuntimeError(f"gradient has shape {list(g.shape)} but the tensor has "
                               f"shape {list(self.shape)}")
        return g.astype(self.dtype, copy=False)

    def _hooked(self, g):
        """``g`` after this leaf's hooks (each may return a replacement)."""
        for fn in self._hooks or ():
            r = fn(Tensor(g))
            if r is not None:
                g = r.data if isinstance(r, Tensor) else _like_array(self.data, r)
        return g

    def _accumulate(self, g, owned=False):
        """Add a gradient into this leaf's ``.grad`` (after its hooks). ``owned``: the
        engine holds the only reference to ``g``, which may then become ``.grad`` as is
        (if it is a C-contiguous array of its own memory and of this tensor's dtype)."""
        if self._hooks:
            owned = False
            g = self._hooked(g)
        if self._grad is None:
            if owned and g.base is None and g.flags.c_contiguous and g.dtype == self.dtype:
                self._grad = Tensor(g)
                return
            xp = get_array_module(g)
            self._grad = Tensor(xp.array(g, dtype=self.dtype, copy=True))
        elif (self._grad.data.shape == g.shape
              and getattr(self._grad.data.flags, "writeable", True)   # CuPy has no flag
              and get_array_module(self._grad.data) is get_array_module(g)):
            # in place, as PyTorch accumulates: no fresh (page-faulting) array per step
            get_array_module(g).add(self._grad.data, g, out=self._grad.data, casting="unsafe")
        else:
            self._grad.data = self._grad.data + g

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

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats its value, as in PyTorch; other tensors
        take only the empty spec (``f"{t}"`` is ``str(t)``)."""
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return object.__format__(self, spec)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
           memory_format=None):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)`` (other's
        device and dtype); differentiable.

        Moving to another device copies the data (the gradient flows back to the source
        device); a tensor already there is returned as is, unless ``copy=True``.
        ``non_blocking`` and ``memory_format`` are accepted for PyTorch code and ignored:
        copies to and from a GPU are synchronous, and arrays have one (strided) layout.
        """
        for a in args:
            if isinstance(a, (str, Device)):
                device = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
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

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def short(self):
        return self.to(np.int16)

    def bool(self):
        return self.to(np.bool_)

    def type(self, dtype=None, non_blocking=False):
        """With no argument, the type's name: ``'minicv.FloatTensor'`` (PyTorch says
        ``'torch.FloatTensor'``; on a GPU ``'minicv.cuda.FloatTensor'``). With a dtype, or
        such a name ('torch.' names work too), the tensor converted to it."""
        if dtype is None:
            gpu = "cuda." if self.device.type == "cuda" else ""
            return f"minicv.{gpu}{_TYPE_NAMES[self.dtype]}Tensor"
        if isinstance(dtype, str):
            name = dtype.rpartition(".")[2]
            match = [d for d, n in _TYPE_NAMES.items() if n + "Tensor" == name]
            if not match:
                raise ValueError(f"invalid type {dtype!r}: expected a dtype or a name such "
                                 f"as 'minicv.FloatTensor'")
            dtype = match[0]
        return self.to(dtype)

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def get_device(self):
        """The GPU's index for a CUDA tensor, -1 for a CPU one."""
        return (self.device.index or 0) if self.is_cuda else -1

    def ndimension(self):
        return self.ndim

    def is_signed(self):
        """Whether the dtype holds negative numbers (False for uint8 and bool)."""
        return self.dtype.kind in "if"

    def is_complex(self):
        return False

    def is_nonzero(self):
        """Whether the single element is non-zero (raises for any other size)."""
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is "
                               f"ambiguous: is_nonzero needs exactly one element")
        return bool(self.item())

    def is_same_size(self, other):
        return self.shape == other.shape

    def data_ptr(self):
        """The address of the first element (an int), as PyTorch's ``data_ptr``."""
        if self.is_cuda:
            return self.data.data.ptr
        return self.data.__array_interface__["data"][0]

    def stride(self, dim=None):
        """Steps between neighbours along each dimension, in elements (NumPy's
        ``strides`` are in bytes); 0 along a broadcast (``expand``-ed) dimension."""
        steps = tuple(s // self.data.itemsize for s in self.data.strides)
        return steps if dim is None else steps[dim]

    def cpu(self, memory_format=None):
        return self.to(CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """A copy on the GPU (``non_blocking``, ``memory_format``: accepted, ignored)."""
        if isinstance(device, (Device, str)):
            return self.to(device)
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
    # add_, mul_, div_, clamp_, exp_, relu_... and the operators x += y, x *= y... are made
    # from the out-of-place ops in _install_methods, through _update; x[key] = v is
    # ops.shape.setitem.

    def _records(self, name, *operands):
        """Whether autograd must record the in-place op ``name`` on self; raises where
        PyTorch refuses too.

        Nothing is recorded with grad mode off, or when neither self nor an operand requires
        grad: the op just writes into the array (how optimizers update parameters, under
        ``no_grad``). Otherwise a leaf that requires grad refuses, since its ``.grad``
        would belong to values that no longer exist; and so does a view, whose change
        PyTorch also writes into its base's history, which minicv does not do.
        """
        if not autograd.is_grad_enabled() or not (self.requires_grad or any(
                isinstance(o, Tensor) and o.requires_grad for o in operands)):
            return False
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({name}): do the update inside `with minicv.no_grad():` (as optimizers "
                f"do), or work on a copy, y = x.clone(), whose changes autograd follows")
        if self._base is not None:
            if self._base.requires_grad and self._base.grad_fn is None:
                raise RuntimeError(
                    f"a view of a leaf Variable that requires grad is being used in an "
                    f"in-place operation ({name}): do it inside `with minicv.no_grad():`")
            raise RuntimeError(
                f"{name} on a view (shape {list(self.shape)}) of another tensor, with "
                f"autograd involved: PyTorch then rewrites the base tensor's history, "
                f"which minicv does not do. Change the base itself (base[key] = value "
                f"rather than base[key].copy_(value)), or work on a .clone() of the view")
        return True

    def _old(self):
        """A copy of self that carries self's history: the input of a recorded in-place
        op. A copy, because that op may save its input while self's array is overwritten."""
        old = Tensor(self.data.copy())
        old.requires_grad, old.grad_fn = self.requires_grad, self.grad_fn
        old._out_index = self._out_index
        return old

    def _rebind(self, new):
        """Finish a recorded in-place op: write ``new`` (computed from :meth:`_old`) into
        self's array, so that aliases see it, and make new's history self's."""
        if new.dtype != self.dtype:
            new = new.to(self.dtype)
        self.data[...] = new.data
        self._vc[0] += 1
        self.requires_grad, self.grad_fn = new.requires_grad, new.grad_fn
        self._out_index = new._out_index
        return self

    def _update(self, name, fn, *operands, cast=False):
        """Set self to ``fn(self)`` in place: the in-place form of an out-of-place op, as
        ``x.add_(y)`` is ``x.add(y)`` written back into x.

        ``operands`` are the other tensors ``fn`` reads; with self they decide whether
        autograd records the change (:meth:`_records`). The result keeps self's dtype and
        shape; as in PyTorch a result that self's dtype cannot hold raises instead of being
        truncated (a float into an integer tensor, a number into a bool one), unless
        ``cast`` (ops that overwrite, like ``scatter_``, convert what they are given).

        Example::

            y = x * 2
            y.add_(1)              # recorded: y's history is now Add(Mul(x))
        """
        record = self._records(name, *operands)
        new = fn(self._old() if record else self)
        if not cast:
            _check_cast(new.dtype, self.dtype)
        if new.shape != self.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                               f"the broadcast shape {list(new.shape)}")
        if record:
            return self._rebind(new)
        self.data[...] = new.data
        self._vc[0] += 1
        return self

    def _fill(self, name, value):
        """Overwrite self with ``value`` (a number, or a tensor or array that broadcasts to
        self), converted to self's dtype and device. Recorded, the gradient goes to
        ``value`` and none to the old values: out = where(True, value, old)."""
        if not self._records(name, value):
            self.data[...] = _like_array(self.data, _arr(value))
            self._vc[0] += 1
            return self
        from .ops.elementwise import Where
        true = get_array_module(self.data).asarray(True)
        return self._rebind(Where.apply(true, self._as_value(value), self._old()))

    def _as_value(self, value):
        """``value`` (a number, array or tensor) as a tensor of self's dtype on self's
        device, still in the graph if it is a tensor: what an in-place write stores."""
        if not isinstance(value, Tensor):
            return Tensor(_like_array(self.data, np.asarray(to_numpy(value), self.dtype)))
        if not _same_device(value.data, self.device):
            value = value.to(self.device)
        return value if value.dtype == self.dtype else value.to(self.dtype)

    def zero_(self):
        return self._fill("zero_", 0)

    def fill_(self, value):
        """Set every element to ``value``, a number or a 0-d tensor."""
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(f"fill_ only supports a 0-dimensional value tensor, got one of "
                               f"shape {list(value.shape)}: use copy_ to write a tensor")
        return self._fill("fill_", value)

    def copy_(self, src, non_blocking=False):
        """Write ``src`` (broadcast to self's shape) into self, converting its dtype and
        copying it across devices, as PyTorch's ``copy_``."""
        shape = tuple(np.shape(_arr(src)))
        if not _fits(shape, self.shape):
            raise ValueError(f"copy_: source of shape {list(shape)} does not broadcast to "
                             f"the destination shape {list(self.shape)}")
        return self._fill("copy_", src)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from .backend import as_generator, get_rng
        rng = as_generator(generator) or get_rng()
        return self._fill("normal_", rng.normal(mean, std, self.shape))

    def uniform_(self, *args, generator=None, **kwargs):
        """Fill with samples of U[from, to), by default [0, 1): ``x.uniform_(-1, 1)``, or
        with PyTorch's keywords ``x.uniform_(to=2)``, ``x.uniform_(**{"from": -1})``
        (``from`` is a Python keyword, so the bounds come as ``*args, **kwargs``).
        ``generator=`` (a :class:`~minicv.Generator`) replaces minicv's global stream."""
        from .backend import as_generator, get_rng
        if len(args) > 2:
            raise TypeError(f"uniform_() takes at most 2 bounds (from, to), got {len(args)}")
        bounds = dict(zip(("from", "to"), args))
        for key, value in kwargs.items():
            if key not in ("from", "to") or key in bounds:
                raise TypeError(f"uniform_() got an unexpected or repeated argument {key!r}; "
                                f"it takes from and to")
            bounds[key] = value
        low, high = float(bounds.get("from", 0.0)), float(bounds.get("to", 1.0))
        if low > high:
            raise ValueError(f"uniform_ expects to return a [from, to) range, but found "
                             f"from={low} > to={high}")
        rng = as_generator(generator) or get_rng()
        return self._fill("uniform_", rng.uniform(low, high, self.shape))

    def unsqueeze_(self, dim):
        from .ops.shape import unsqueeze
        return self._reshape_("unsqueeze_", unsqueeze(self, dim))

    def squeeze_(self, dim=None):
        from .ops.shape import squeeze
        return self._reshape_("squeeze_", squeeze(self, dim))

    def _reshape_(self, name, view):
        """unsqueeze_/squeeze_: self takes the shape (and, recorded, the history) of
        ``view``, a view of self: the values and the memory stay the same."""
        if self._records(name):
            self.grad_fn, self._out_index = view.grad_fn, view._out_index
        self.data = view.data
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


# PyTorch's names of the dtypes: messages and Tensor.type() ('minicv.FloatTensor').
_TYPE_NAMES = {np.dtype(d): name for d, name in (
    (np.float32, "Float"), (np.float64, "Double"), (np.float16, "Half"), (np.int64, "Long"),
    (np.int32, "Int"), (np.int16, "Short"), (np.int8, "Char"), (np.uint8, "Byte"),
    (np.bool_, "Bool"))}


def _check_cast(result, dest):
    """PyTorch's rule for writing an in-place result: no float into an integer or bool
    tensor, no number into a bool one (a narrower size of the same kind is fine)."""
    if (result.kind == "f" and dest.kind != "f") or (dest.kind == "b" and result.kind != "b"):
        name = lambda d: _TYPE_NAMES.get(d, str(d))
        raise RuntimeError(f"result type {name(result)} can't be cast to the desired output "
                           f"type {name(dest)}: compute out of place (y = x + ...), or first "
                           f"convert the tensor to a type that holds the result (x.float())")


def _inplace_method(fn, name):
    """The in-place form of the method ``fn``: ``x.<name>(*args)`` sets x to
    ``fn(x, *args)`` (see ``Tensor._update``)."""
    def method(self, *args, **kwargs):
        return self._update(name, lambda t: fn(t, *args, **kwargs), *args, *kwargs.values())
    method.__name__ = name
    method.__doc__ = f"In-place form of ``{name.strip('_')}``: writes the result into self."
    return method


def _arithmetic_inplace(general, ufunc):
    """``add_``/``sub_``/``mul_``/``div_`` with a fast path for the common unrecorded case
    (``w.sub_(lr * g)`` under no_grad, a running average): the ufunc writes straight into
    self's array, with no temporary. Everything else (recording, dtype casts PyTorch
    refuses, broadcasting errors, another device) takes the general route."""
    name = general.__name__

    def method(self, other, **kwargs):
        o = other.data if isinstance(other, Tensor) else other
        alpha = kwargs.get("alpha", 1) if name in ("add_", "sub_") else 1
        if (not kwargs or kwargs.keys() == {"alpha"} and alpha is not None) \
                and self.data.dtype.kind == "f" \
                and (type(o) is type(self.data) or type(o) in (int, float)) \
                and not self._records(name, other):
            xp = get_array_module(self.data)
            o = o if alpha == 1 else o * alpha
            if xp.result_type(self.data, o) == self.dtype and _fits(np.shape(o), self.shape):
                ufunc(self.data, o, out=self.data)
                self._vc[0] += 1
                return self
        return general(self, other, **kwargs)
    method.__name__, method.__doc__ = name, general.__doc__
    return method


def _fits(shape, into):
    """Whether an operand of ``shape`` broadcasts to ``into`` without enlarging it."""
    try:
        return np.broadcast_shapes(shape, into) == into
    except ValueError:
        return False


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
    """Wrap a non-tensor operand (number, list, ndarray) as a constant tensor, with the
    dtypes of ``minicv.tensor`` (an int stays int64; an ndarray is wrapped, not copied)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x if type(x) is np.ndarray or is_cupy_array(x) else _infer_array(x))


def _fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (every index equal), in place. All dims
    must be equal unless the tensor is 2-D; a tall matrix with ``wrap=True`` starts the
    diagonal again N+1 rows down, as PyTorch and NumPy do. The diagonal's gradient is 0."""
    if self.ndim < 2:
        raise ValueError(f"fill_diagonal_: dimensions must be larger than 1, got a "
                         f"{self.ndim}-D tensor")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise ValueError(f"fill_diagonal_: all dimensions of input must be of equal "
                         f"length, got shape {list(self.shape)}")
    mask = np.zeros(self.shape, np.bool_)
    # the flat positions of a row-major array: the diagonal steps by sum of strides
    step = sum(int(np.prod(self.shape[k + 1:])) for k in range(self.ndim))
    count = self.numel() if wrap and self.ndim == 2 else min(self.shape) * step
    mask.reshape(-1)[:count:step] = True
    mask = Tensor(_like_array(self.data, mask))
    from .ops.elementwise import where
    return self._update("fill_diagonal_", lambda t: where(mask, self._as_value(fill_value), t),
                        cast=True)


def _storage_offset(self):
    """Elements between the start of the memory ``self`` views and its first element."""
    def address(a):
        return a.data.ptr if is_cupy_array(a) else a.__array_interface__["data"][0]
    arr = root = self.data
    while getattr(root.base, "ndim", None) is not None:       # the array that owns it
        root = root.base
    return (address(arr) - address(root)) // arr.itemsize


def _check_matrix(self, attr, two_d_only=False):
    if self.ndim < 2 or two_d_only and self.ndim > 2:
        what = "matrices (2-D tensors)" if two_d_only else "matrices or batches of matrices"
        raise ValueError(f"tensor.{attr} is only supported on {what}. Got "
                           f"{self.ndim}-D tensor.")
    return self.transpose(-2, -1)


def _square(self):
    """self * self; a bool tensor gives int64, as in PyTorch."""
    t = self.long() if self.dtype == np.bool_ else self
    return t * t


def _H(self):
    """The conjugate transpose of a matrix (minicv is real: the transpose)."""
    return self if self.ndim == 0 else _check_matrix(self, "H", two_d_only=True)


autograd.Tensor = Tensor


def _install_methods():
    """Attach the op wrappers as methods and operators (kept out of the class body)."""
    from .ops import elementwise as E, activation as A, reduce as R, shape as S
    from .ops import linalg as L, index as I
    from .ops import logical as LG
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
    T.__floordiv__, T.__rfloordiv__ = E.floor_divide, rev(E.floor_divide)
    T.__mod__ = E.remainder
    T.__rmod__ = lambda a, b: E.remainder(b, a)
    T.remainder = E.remainder
    T.__invert__ = lambda a: logical_op("invert", a)
    T.__and__ = lambda a, b: logical_op("and", a, b)
    T.__or__ = lambda a, b: logical_op("or", a, b)
    T.__xor__ = lambda a, b: logical_op("xor", a, b)
    T.__rand__, T.__ror__, T.__rxor__ = T.__and__, T.__or__, T.__xor__
    # t == None is False (and t != None True), as in PyTorch: a plain comparison
    T.__eq__ = lambda self, other: False if other is None else E.eq(self, other)
    T.__ne__ = lambda self, other: True if other is None else E.ne(self, other)
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = E.lt, E.le, E.gt, E.ge
    T.__getitem__, T.__setitem__ = S.getitem, S.setitem
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
    T.view = S.view
    T.matmul = L.matmul
    T.expand_as = lambda self, other: S.expand(self, other.shape)
    T.view_as = lambda self, other: S.view(self, other.shape)
    T.reshape_as = lambda self, other: S.reshape(self, other.shape)
    T.any, T.all = R.any, R.all
    for name in ("floor", "ceil", "round", "trunc", "sign", "sin", "cos", "log1p", "expm1",
                 "isnan", "isinf", "isfinite", "clamp_min", "clamp_max"):
        setattr(T, name, getattr(E, name))
    for name in ("log2", "log10", "tan", "erf", "atan2", "floor_divide", "lerp",
                 "nan_to_num", "isclose"):
        setattr(T, name, getattr(E, name))
    for name in ("prod", "cumsum", "norm", "cumprod", "median", "count_nonzero"):
        setattr(T, name, getattr(R, name))
    for name in ("logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                 "bitwise_right_shift"):
        setattr(T, name, getattr(LG, name))
    T.__lshift__, T.__rlshift__ = LG.bitwise_left_shift, rev(LG.bitwise_left_shift)
    T.__rshift__, T.__rrshift__ = LG.bitwise_right_shift, rev(LG.bitwise_right_shift)
    for name in ("flip", "repeat", "unbind", "narrow", "movedim", "tile", "roll",
                 "broadcast_to", "repeat_interleave"):
        setattr(T, name, getattr(S, name))
    T.swapaxes = S.transpose
    for name in ("gather", "scatter", "scatter_add", "scatter_", "scatter_add_",
                 "index_select", "masked_fill", "masked_fill_", "nonzero", "sort",
                 "argsort", "topk", "masked_select", "take_along_dim", "argwhere", "unique",
                 "bincount", "index_put", "index_put_"):
        setattr(T, name, getattr(I, name))
    for name in ("mm", "bmm", "dot", "outer", "tril", "triu", "diag", "addmm"):
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
    T.square = _square
    T.rsqrt = lambda self: E.div(1.0, E.sqrt(self))
    T.reciprocal = lambda self: E.div(1.0, self)
    from . import random as RND
    for name in RND.FILLS + ("bernoulli", "multinomial"):   # x.bernoulli_(0.5), x.random_(10)
        setattr(T, name, getattr(RND, name))
    # In-place forms: x.add_(y) writes x.add(y) into x; x += y is x.add_(y).
    for name in ("add", "sub", "mul", "div", "pow", "remainder", "clamp", "clamp_min",
                 "clamp_max", "neg", "abs", "exp", "log", "sqrt", "relu", "sigmoid", "tanh",
                 "floor", "ceil", "round", "trunc", "sign", "sin", "cos", "square", "rsqrt",
                 "reciprocal"):
        setattr(T, name + "_", _inplace_method(getattr(T, name), name + "_"))
    for name, ufunc in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                        ("div", np.true_divide)):
        setattr(T, name + "_", _arithmetic_inplace(getattr(T, name + "_"), ufunc))
    # trigonometry and special functions (ops/trig.py, ops/special.py)
    from .ops import trig as TR, special as SP
    _TRIG = ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin",
             "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "deg2rad",
             "rad2deg", "hypot", "sinc")
    _SPECIAL = ("fmod", "frac", "copysign", "heaviside", "float_power", "sgn", "exp2",
                "xlogy", "logit", "erfc", "erfinv", "lgamma", "digamma")
    for name in _TRIG:
        setattr(T, name, getattr(TR, name))
    for name in _SPECIAL + ("fmax", "fmin", "signbit", "positive", "negative", "subtract",
                            "multiply", "divide", "true_divide", "greater", "greater_equal",
                            "less", "less_equal", "not_equal", "absolute", "fix",
                            "logaddexp", "logaddexp2"):
        setattr(T, name, getattr(SP, name))
    for name in _TRIG + _SPECIAL + ("atan2",):
        if name != "float_power":
            setattr(T, name + "_", _inplace_method(getattr(T, name), name + "_"))
    T.float_power_ = SP.float_power_
    T.negative_, T.absolute_, T.fix_ = T.neg_, T.abs_, T.trunc_
    T.subtract_, T.multiply_, T.divide_, T.true_divide_ = T.sub_, T.mul_, T.div_, T.div_
    # statistics, scans and searching (ops/stats.py)
    from .ops import stats as ST
    for name in ("nansum", "nanmean", "nanmedian", "aminmax", "msort", "cummax", "cummin",
                 "logcumsumexp", "quantile", "nanquantile", "kthvalue", "mode", "diff",
                 "histc", "cov", "corrcoef"):
        setattr(T, name, getattr(ST, name))
    # linear algebra (ops/linalg.py); addcmul_ & co. are addcmul written back
    for name in ("trace", "diagonal", "diag_embed", "diagflat", "kron", "inner", "vdot", "mv",
                 "addmv", "addr", "baddbmm", "addbmm", "addcmul", "addcdiv", "cross",
                 "matrix_power", "det", "logdet", "slogdet", "inverse"):
        setattr(T, name, getattr(L, name))
    for name in ("addmm", "addmv", "addr", "baddbmm", "addbmm", "addcmul", "addcdiv"):
        setattr(T, name + "_", _inplace_method(getattr(T, name), name + "_"))
    # more shape and indexing ops (ops/shape.py, ops/index.py)
    for name in ("rot90", "fliplr", "flipud", "tensor_split", "hsplit", "vsplit", "dsplit",
                 "split_with_sizes", "unflatten", "moveaxis", "swapdims", "ravel", "select",
                 "narrow_copy", "unfold", "sum_to_size", "t_", "transpose_", "swapdims_"):
        setattr(T, name, getattr(S, name))
    T.swapaxes_ = S.swapdims_
    for name in ("take", "index_add", "index_add_", "index_copy", "index_copy_",
                 "index_fill", "index_fill_", "scatter_reduce", "scatter_reduce_",
                 "masked_scatter", "masked_scatter_", "select_scatter", "slice_scatter",
                 "diagonal_scatter", "unique_consecutive"):
        setattr(T, name, getattr(I, name))
    T.__iadd__, T.__isub__, T.__imul__ = T.add_, T.sub_, T.mul_
    T.__itruediv__, T.__ipow__, T.__imod__ = T.div_, T.pow_, T.remainder_
    T.__ifloordiv__ = lambda self, other: self.div_(other, rounding_mode="floor")
    for op in ("and", "or", "xor", "lshift", "rshift"):
        setattr(T, f"__i{op}__", _inplace_method(getattr(T, f"__{op}__"), f"__i{op}__"))
    from .ops import decomp as DC
    for name in ("svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse",
                 "triangular_solve"):
        setattr(T, name, getattr(DC, name))
    T.matrix_exp = DC.linalg_matrix_exp
    # in-place forms PyTorch has (x.cumsum_(0), x.eq_(y) writes 1/0 in x's dtype, ...)
    T.dist, T.isposinf, T.isneginf = R.dist, E.isposinf, E.isneginf
    for name in ("floor_divide", "clip", "expm1", "log1p", "log2", "log10", "tan", "erf",
                 "lerp", "nan_to_num", "tril", "triu", "cumsum", "cumprod", "eq", "ne",
                 "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
                 "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                 "bitwise_left_shift", "bitwise_right_shift"):
        setattr(T, name + "_", _inplace_method(getattr(T, name), name + "_"))
    T.fill_diagonal_ = _fill_diagonal_
    T.byte = lambda self: self.to(np.uint8)
    T.char = lambda self: self.to(np.int8)
    # complex conjugation and negation bits: minicv tensors are real, so all identities
    T.conj = T.resolve_conj = T.resolve_neg = T.conj_physical = lambda self: self
    T.is_conj = T.is_neg = lambda self: False
    T.storage_offset = _storage_offset
    T.H = property(_H)
    T.mH = property(lambda self: _check_matrix(self, "mH"))
    T.mT = property(lambda self: _check_matrix(self, "mT"))
    T.adjoint = lambda self: _check_matrix(self, "adjoint()")
    from .ops import special as SP_misc
    for name in ("ldexp", "nextafter", "ldexp_", "nextafter_"):
        setattr(T, name, getattr(SP_misc, name))
    from .ops import special2 as SP2
    T.polygamma, T.polygamma_ = SP2._tensor_polygamma, SP2.polygamma_
    T.mvlgamma, T.mvlgamma_ = SP2.multigammaln, SP2.mvlgamma_
    T.i0, T.histogram = SP2.i0, SP2.histogram
    T.i0_ = _inplace_method(T.i0, "i0_")
