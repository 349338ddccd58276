"""An emulated CuPy for machines without a GPU (tests only; never installed with minicv).

``tests/gpu/test_emulated.py`` puts ``tests/gpu/emulator`` first on ``PYTHONPATH`` and
runs the GPU parity tests and a GPU training run: minicv takes its GPU code paths (the
``xp`` idiom, ``csrc/*.cu`` through ``RawModule``, devices, moves, the trainer) on
arrays that live in host memory. What it checks, and what only a GPU can:

* checked here: every kernel's index arithmetic and its launch (g++ compiles the .cu
  sources unchanged and runs every thread; :mod:`._kernels`), the kernel argument types
  and contiguity, writes out of bounds, and the host/device line as CuPy draws it
  (:mod:`._array`): no implicit conversion, no NumPy arrays in device ops, only functions
  and keywords that CuPy 14 has.
* not checked: timing, memory, concurrency between threads (threads run one after
  another), cuBLAS's and CUDA's own rounding, and anything of CuPy's beyond its API
  surface. A GPU run (``bash tests/gpu/check.sh``) is still the proof.
"""
import math

import numpy as np

from . import _core, _stats, cuda, lib, linalg
from ._array import API, call, check_at_dtype, ndarray, unwrap, wrap
from ._kernels import RawKernel, RawModule

__version__ = API["version"] + "+emulated"
EMULATED = True

# TF32: float32 GEMMs round their inputs to a 10-bit mantissa when the compute type says so
_GEMMS = frozenset({"matmul", "dot", "tensordot", "einsum", "inner", "vdot"})


def _tf32(args):
    if _core._routines_linalg.get_compute_type(np.float32) != \
            _core._routines_linalg.COMPUTE_TYPE_TF32:
        return args

    def rnd(a):
        if isinstance(a, ndarray) and a.dtype == np.float32:
            bits = a._a.view(np.uint32)
            return ndarray._of(((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000))
                               .view(np.float32))
        return a
    return tuple(rnd(a) for a in args)


class ufunc:
    """A CuPy ufunc: NumPy's, on device arrays only."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs

    def __call__(self, *args, **kwargs):
        if self.__name__ in _GEMMS:
            args = _tf32(args)
        return _run(self.__name__, self._u, args, kwargs)

    def __getattr__(self, method):
        if method not in API["ufunc_methods"]:
            raise AttributeError(f"'cupy.ufunc' object has no attribute {method!r}")
        if method == "at":
            def at(a, *args, **kwargs):
                check_at_dtype(self.__name__, a)
                return _run(f"{self.__name__}.at", self._u.at, (a,) + args, kwargs)
            return at
        if method == "reduceat":
            def reduceat(*args, **kwargs):
                raise NotImplementedError(f"`cupy_{self.__name__}.reduceat` is not supported "
                                          f"yet")
            return reduceat
        return lambda *args, **kwargs: _run(f"{self.__name__}.{method}",
                                            getattr(self._u, method), args, kwargs)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


def _run(name, fn, args, kwargs):
    kwargs = {k: unwrap(v) for k, v in kwargs.items()}
    if isinstance(kwargs.get("out"), np.ndarray):
        kwargs["out"] = (kwargs["out"],)
    result = fn(*unwrap(args), **kwargs)
    _stats.count(name)                          # one kernel per ufunc call
    return wrap(result)


class _Grid:
    """``cupy.ogrid`` / ``cupy.mgrid``: NumPy's, with device results."""

    def __init__(self, grid):
        self._g = grid

    def __getitem__(self, key):
        return wrap(self._g[key])


ogrid, mgrid = _Grid(np.ogrid), _Grid(np.mgrid)
newaxis = None


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)          # counted as a sync by get()
    host = np.asarray(a, order=order)
    if out is not None:
        out[...] = host
        return out
    return host


def get_array_module(*args):
    import sys
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else np


def _function(name):
    np_fn = getattr(np, name)

    def fn(*args, **kwargs):
        if name in _GEMMS:
            args = _tf32(args)
        return call("cupy", name, np_fn, args, kwargs)
    fn.__name__ = fn.__qualname__ = name
    return fn


def __getattr__(name):
    ns = API["cupy"]
    if name in ns["ufuncs"] and isinstance(getattr(np, name, None), np.ufunc):
        value = ufunc(getattr(np, name))
    elif name in ns["functions"] and callable(getattr(np, name, None)):
        value = _function(name)
    elif name in ns["others"] and hasattr(np, name):
        value = getattr(np, name)              # dtypes, constants
    else:
        raise AttributeError(f"module 'cupy' (emulated {API['version']}) has no attribute "
                             f"{name!r}")
    globals()[name] = value
    return value


del math
