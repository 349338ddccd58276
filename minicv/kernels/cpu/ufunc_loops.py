"""NumPy's own inner loops of ``np.exp``, ``np.log1p`` and ``np.tanh``, callable from
Numba-compiled code by address.

NumPy's float32/float64 exp, log1p and tanh are SIMD loops (AVX-512 here) 4-20 times
faster than the scalar libm calls Numba makes of ``np.exp`` and ``math.exp``.  Called
from Python on chunks that stay in cache, each call takes the GIL back, and on two Python
threads the chunks of ``cpu/smooth.py`` and ``cpu/softmax.py`` ran at 1.0-1.3x one
thread's speed.  Every ufunc keeps a table of its loops (``PyUFuncObject.functions``, the
public C struct of ``numpy/ufuncobject.h``), each a C function ``void loop(char **args,
npy_intp *dimensions, npy_intp *steps, void *data)``; :func:`addresses` reads the
float32/float64 entries of the three and checks each, called by :func:`call` (the way the
kernels call it), against the ufunc itself, bit for bit, on a sample with the IEEE
specials, before handing any out.  The kernels pass the address as an int64 argument, so
they stay in Numba's on-disk cache (as ``cpu/blas.py``'s GEMM).

Numba's cache pitfall: the callers inline :func:`call`'s code into their own cached
functions; after changing :func:`call`, touch ``cpu/smooth.py`` and ``cpu/softmax.py``.
"""
import ctypes
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_ADDRESSES = [None]    # {(ufunc name, dtype char): loop address}, or {} if not usable


class _UFuncHead(ctypes.Structure):
    """The leading fields of NumPy's ``PyUFuncObject`` (``numpy/ufuncobject.h``)."""
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p),
                ("nin", ctypes.c_int), ("nout", ctypes.c_int), ("nargs", ctypes.c_int),
                ("identity", ctypes.c_int), ("functions", ctypes.POINTER(ctypes.c_void_p)),
                ("data", ctypes.POINTER(ctypes.c_void_p)), ("ntypes", ctypes.c_int),
                ("reserved1", ctypes.c_int), ("name", ctypes.c_char_p),
                ("types", ctypes.POINTER(ctypes.c_char))]


def addresses():
    """{(ufunc name, dtype char): loop address} for exp, log1p, tanh and 'f', 'd'; {}
    where they are not found or fail their check."""
    if _ADDRESSES[0] is None:
        _ADDRESSES[0] = _find()
    return _ADDRESSES[0]


def _find():
    """The inner loops NumPy runs for np.exp, np.log1p and np.tanh on float32/float64
    arrays (the first of each signature in the ufunc's table), as addresses; {} unless
    each, called by :func:`call`, gives NumPy's bits on a sample with the IEEE specials
    (log1p's: exp of it, the kernels' arguments)."""
    found = {}
    if hasattr(sys, "getobjects") or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return {}           # Py_TRACE_REFS or free-threaded build: another object header
    try:
        for ufunc in (np.exp, np.log1p, np.tanh):
            head = _UFuncHead.from_address(id(ufunc))
            # the integer fields first: only then is ``name`` read as a pointer
            if (head.nin, head.nout, head.nargs) != (1, 1, 2) or not head.name \
                    or head.name != ufunc.__name__.encode():
                return {}
            for k in range(head.ntypes):
                num_in, num_out = ord(head.types[2 * k]), ord(head.types[2 * k + 1])
                for dtype in (np.float32, np.float64):
                    key = (ufunc.__name__, np.dtype(dtype).char)
                    if num_in == num_out == np.dtype(dtype).num and key not in found \
                            and not head.data[k]:
                        found[key] = head.functions[k]
        sample = np.concatenate([np.linspace(-30, 30, 1001), [0.0, -0.0, np.inf, -np.inf,
                                                               np.nan, 1e-30, -1e-30]])
        for (name, char), address in found.items():
            x = sample.astype(char)
            x = np.exp(-np.abs(x)) if name == "log1p" else x
            out = np.empty_like(x)
            _call(address, x, out)
            with np.errstate(all="ignore"):
                want = getattr(np, name)(x)
            if not np.array_equal(out.view(np.uint8), want.view(np.uint8)):
                return {}
    except (ValueError, TypeError, OverflowError):
        return {}
    return found if len(found) == 6 else {}


@intrinsic
def call(typingctx, address, x, out):
    """Call NumPy's inner loop at ``address``, ``void loop(char **args, npy_intp
    *dimensions, npy_intp *steps, void *data)``, on contiguous 1-D x -> out (one dtype):
    args = (x, out), dimensions = (n,), steps = (itemsize, itemsize), data = NULL."""
    sig = types.void(address, x, out)

    def codegen(context, builder, signature, args):
        address, x, out = args
        i8p, i64 = ir.IntType(8).as_pointer(), ir.IntType(64)
        fnty = ir.FunctionType(ir.VoidType(), [i8p.as_pointer(), i64.as_pointer(),
                                               i64.as_pointer(), i8p])
        fn = builder.inttoptr(address, fnty.as_pointer())
        xa = context.make_array(signature.args[1])(context, builder, x)
        oa = context.make_array(signature.args[2])(context, builder, out)
        pointers = cgutils.alloca_once(builder, i8p, size=2)      # in the entry block
        builder.store(builder.bitcast(xa.data, i8p), pointers)
        builder.store(builder.bitcast(oa.data, i8p),
                      builder.gep(pointers, [ir.Constant(i64, 1)]))
        n = cgutils.alloca_once(builder, i64)
        builder.store(builder.extract_value(xa.shape, 0), n)
        steps = cgutils.alloca_once(builder, i64, size=2)
        size = ir.Constant(i64, context.get_abi_sizeof(
            context.get_data_type(signature.args[1].dtype)))
        builder.store(size, steps)
        builder.store(size, builder.gep(steps, [ir.Constant(i64, 1)]))
        builder.call(fn, [pointers, n, steps, ir.Constant(i8p, None)])
        return context.get_dummy_value()
    return sig, codegen


@njit(cache=True, nogil=True)
def _call(address, x, out):
    """out = the ufunc loop at ``address`` of x (flat, one size and dtype)."""
    call(address, x, out)
