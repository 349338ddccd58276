"""``cupy.ndarray`` emulated on host memory, as strict as CuPy about the host/device line.

An emulated array wraps a NumPy array (its "device memory"). What CuPy refuses, this
refuses too, so code that only works because NumPy is lenient fails here as on a GPU:

* implicit conversion to NumPy (``np.asarray(x)``, ``__array__``): TypeError, as CuPy;
* a NumPy array among the inputs of a ufunc or a function: TypeError
  ("Unsupported type <class 'numpy.ndarray'>"); host data enters only through
  ``cupy.array``/``asarray``/``asanyarray`` and leaves through ``.get()``/``asnumpy``;
* functions and methods that real CuPy lacks (``_api.json``, recorded from CuPy by
  ``make_api.py``), and keyword arguments its functions do not take;
* full reductions return 0-d arrays, not NumPy scalars.

NumPy functions called on emulated arrays reach it through ``__array_function__`` and
``__array_ufunc__`` exactly when they would reach CuPy.
"""
import json
from pathlib import Path

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import _stats

API = json.loads((Path(__file__).resolve().parent / "_api.json").read_text())
_NDARRAY_API = frozenset(API["ndarray"])
# functions that take host data (NumPy arrays, lists) and copy it to the device
HOST_INPUT = frozenset({"array", "asarray", "asanyarray"})


def unwrap(obj, strict=True):
    """Emulated arrays -> their NumPy arrays, inside lists and tuples too. ``strict``
    refuses NumPy arrays, as CuPy's kernels do."""
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, np.ndarray):
        if strict:
            raise TypeError(f"Unsupported type {type(obj)}")
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(unwrap(o, strict) for o in obj)
    return obj


def wrap(obj, sources=()):
    """NumPy results -> emulated arrays (scalars become 0-d arrays, as in CuPy). A view of
    one of the emulated arrays ``sources`` keeps a reference to it, as a CuPy view holds
    its ``base`` (reference counts then see the view, as with CuPy)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "OUSV":
            raise TypeError(f"Unsupported dtype {obj.dtype}: CuPy has no {obj.dtype.kind!r} "
                            f"arrays")
        base = None
        if obj.base is not None:
            root = _stats.root(obj)
            base = next((s for s in sources if isinstance(s, ndarray)
                         and _stats.root(s._a) is root), None)
        return ndarray._of(obj, base)
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
        return ndarray._of(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(wrap(o, sources) for o in obj)
    if isinstance(obj, list):
        return [wrap(o, sources) for o in obj]
    return obj



# the target dtypes of CuPy 14's ufunc.at (add: also cupyx.scatter_add); others raise
AT_DTYPES = {"add": frozenset(map(np.dtype, ("int32", "int64", "uint32", "uint64", "float16",
                                             "float32", "float64"))),
             "maximum": frozenset(map(np.dtype, ("int32", "int64", "uint32", "uint64",
                                                 "float32", "float64")))}
AT_DTYPES["minimum"] = AT_DTYPES["maximum"]


def check_at_dtype(op, target):
    """Raise TypeError as CuPy does when ``op``.at cannot scatter into ``target``'s dtype.

    CuPy 14.2's maximum.at and minimum.at accept float64 but round the values they write
    to float32 (seen on an NVIDIA H200, 2026-11-27: results 2e-8 apart from NumPy's), so
    the emulator refuses them: minicv must not call them on float64."""
    allowed = AT_DTYPES.get(op)
    if allowed is not None and np.dtype(target.dtype) not in allowed:
        raise TypeError(f"cupy.{op}.at does not support dtype {target.dtype} (CuPy "
                        f"{API['version']}: only {sorted(map(str, allowed))})")
    if op in ("maximum", "minimum") and np.dtype(target.dtype) == np.float64:
        raise TypeError(f"cupy.{op}.at on float64 rounds to float32 on a real GPU (CuPy "
                        f"{API['version']}); the emulator refuses it")


def check_kwargs(qualname, signature, kwargs):
    """Refuse keyword arguments that the real CuPy function does not take."""
    if signature is None or signature["varkw"]:
        return
    extra = set(kwargs) - set(signature["params"])
    if extra:
        raise TypeError(f"{qualname}() got an unexpected keyword argument "
                        f"{sorted(extra)[0]!r} (CuPy {API['version']})")


# parameters that CuPy reads on the host as sequences of ints: NumPy arrays are fine there
HOST_PARAMS = frozenset({"shape", "newshape", "axis", "axes", "source", "destination",
                         "indices_or_sections", "pad_width", "reps", "order", "dtype"})
# methods whose arguments are device data (the others take axes, shapes, dtypes)
DATA_METHODS = frozenset({"dot", "put", "searchsorted", "choose", "compress", "scatter_add",
                          "scatter_max", "scatter_min", "fill", "clip"})


def call(namespace, name, fn, args, kwargs):
    """Run NumPy's ``fn`` as CuPy's ``namespace.name`` would run: checked, on unwrapped
    arrays, results wrapped. NumPy arrays are refused where CuPy wants device data: every
    argument of a function but the host-side ones (shapes, axes, split points...)."""
    sig = API[namespace]["functions"].get(name)
    check_kwargs(f"{namespace}.{name}", sig, kwargs)
    sources = [a for a in args if isinstance(a, ndarray)]
    if name in HOST_INPUT:
        on_host = not (args and isinstance(args[0], ndarray))
        args = unwrap(args, strict=False)
        kwargs = {k: unwrap(v, strict=False) for k, v in kwargs.items()}
        result = fn(*args, **kwargs)
        if on_host:                           # host -> device is a copy, never a view
            result = np.array(result, copy=True)
            _stats.copied_in(name)
        else:
            _stats.launched(name, result, args)
        return wrap(result)
    else:
        names = sig["positional"] if sig else []
        args = tuple(unwrap(a, i >= len(names) or names[i] not in HOST_PARAMS)
                     for i, a in enumerate(args))
        kwargs = {k: unwrap(v, k not in HOST_PARAMS) for k, v in kwargs.items()}
    result = fn(*args, **kwargs)
    _stats.launched(name, result, args)
    return wrap(result, sources)


class Flags:
    """``ndarray.flags``: CuPy's three read-only flags (NumPy's ``writeable`` is not one)."""

    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.base is None

    def __getitem__(self, name):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[name])


class MemoryPointer:
    """``ndarray.data``: only ``ptr`` (the address of the first element)."""

    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]


class ndarray(NDArrayOperatorsMixin):
    """Emulated ``cupy.ndarray`` (the type's module starts with "cupy", as minicv checks)."""

    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("emulator: ndarray(memptr=..., strides=...)")
        self._a = np.empty(shape, dtype=dtype, order=order)
        self._base = None

    @classmethod
    def _of(cls, a, base=None):
        obj = cls.__new__(cls)
        obj._a = a
        obj._base = base
        return obj

    # -- the host/device line -----------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None, blocking=True):
        _stats.synced("get")
        host = np.array(self._a, order=order)
        if out is not None:
            out[...] = host
            return out
        return host

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError(f"Shape/dtype mismatch: {arr.shape} {arr.dtype} vs "
                             f"{self.shape} {self.dtype}")
        self._a[...] = arr

    def item(self):
        _stats.synced("item")
        return self._a.item()

    def tolist(self):
        _stats.synced("tolist")
        return self._a.tolist()

    # -- attributes ---------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: Flags(self._a))
    T = property(lambda self: ndarray._of(self._a.T))
    data = property(lambda self: MemoryPointer(self._a))

    @property
    def base(self):
        return self._base

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    def __getattr__(self, name):
        if name.startswith("__") or name not in _NDARRAY_API or not hasattr(self._a, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        attr = getattr(self._a, name)
        if not callable(attr):
            return wrap(attr)

        strict = name in DATA_METHODS

        def method(*args, **kwargs):
            args = unwrap(args, strict)
            kwargs = {k: unwrap(v, strict) for k, v in kwargs.items()}
            result = attr(*args, **kwargs)
            _stats.launched(name, result, (self._a,))
            return wrap(result, (self,))
        method.__name__ = name
        return method

    # -- Python protocols ---------------------------------------------------------------
    def __getitem__(self, key):
        key = unwrap(key, strict=False)
        result = self._a[key]
        if isinstance(result, np.generic):     # CuPy: a 0-d view, not a copied value
            try:
                result = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
            except IndexError:
                result = np.asarray(result)
        _stats.launched("getitem", result, (self._a,))
        return wrap(result, (self,))

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray):
            if value.ndim:                  # as CuPy 14's fill, which setitem ends in
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            _stats.copied_in("setitem")
        _stats.count("setitem")
        key, value = unwrap(key, strict=False), unwrap(value, strict=False)
        keys = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" and k.size > 1
               for k in keys):
            # CuPy writes a place named more than once in no fixed order; the emulator
            # writes in reverse, so that code counting on NumPy's "last write wins" fails
            places = np.arange(self._a.size).reshape(self._a.shape)[key].reshape(-1)[::-1]
            value = np.broadcast_to(value, self._a[key].shape)
            self._a[np.unravel_index(places, self._a.shape)] = value.reshape(-1)[::-1]
            return
        self._a[key] = value

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(v, (self,)) for v in self._a)

    def __bool__(self):
        _stats.synced("bool")
        return bool(self._a)

    def __float__(self):
        _stats.synced("float")
        return float(self._a)

    def __int__(self):
        _stats.synced("int")
        return int(self._a)

    def __index__(self):
        _stats.synced("index")
        return self._a.__index__()

    def __complex__(self):
        return complex(self._a)

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    def __reduce__(self):
        return (_rebuild, (self._a.copy(),))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __dlpack__(self, *args, **kwargs):
        raise NotImplementedError("emulator: no DLPack")

    # -- NumPy protocols (NEP 13, NEP 18), routed as CuPy routes them ---------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # as CuPy: NumPy's ufunc is looked up by name in cupy and called there
        import cupy
        fn = getattr(cupy, ufunc.__name__, None)
        if fn is None or (method != "__call__" and not isinstance(fn, cupy.ufunc)):
            return NotImplemented
        return (fn if method == "__call__" else getattr(fn, method))(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        namespace = func.__module__.replace("numpy", "cupy", 1)
        if namespace not in API or func.__name__ not in API[namespace]["functions"]:
            return NotImplemented
        return call(namespace, func.__name__, func, args, kwargs)


def _rebuild(a):
    return ndarray._of(a)
