"""GEMM that Numba-compiled code can call: the ``cblas_sgemm``/``cblas_dgemm`` of NumPy's
OpenBLAS.

The drivers of ``cpu/parallel.py`` run a whole chunk pipeline (a Winograd transform, its
GEMMs, the inverse transform; im2col, GEMM, col2im) on one thread of Numba's team, without
coming back to Python.  Numba compiles ``np.dot`` only through SciPy, which minicv does
not depend on, so the GEMM is OpenBLAS's own ``cblas_sgemm``, found in the OpenBLAS that
NumPy already loaded (as ``backend.blas_thread_setter`` finds its thread setter) and
called by address: the address is an ordinary int64 argument, so the compiled callers
stay in Numba's on-disk cache.

Integer arguments are passed as 64-bit values.  That is right for an ILP64 OpenBLAS (the
``...64_`` symbols NumPy's wheels ship) and also for an LP64 one on x86-64 and AArch64
Linux, whose calling conventions put each integer in its own 8-byte register or stack
slot (the callee reads the low half).  :func:`gemm_address` checks one small product
against NumPy before it hands an address out; without one the callers keep the Python
path (``np.matmul`` on Python threads).
"""
import ctypes
import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
_SYMBOLS = {"s": ("scipy_cblas_sgemm64_", "cblas_sgemm64_", "scipy_cblas_sgemm", "cblas_sgemm"),
            "d": ("scipy_cblas_dgemm64_", "cblas_dgemm64_", "scipy_cblas_dgemm", "cblas_dgemm")}
_found = {}


@intrinsic
def _cblas_gemm(typingctx, addr, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """Call the cblas_?gemm at ``addr`` (s or d by the arrays' dtype):
    C = op(A) op(B) + beta C, row-major, alpha = 1."""
    sig = types.void(addr, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        addr, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc = args
        i32, i64 = ir.IntType(32), ir.IntType(64)
        real = context.get_value_type(signature.args[6].dtype)  # float or double
        ptr = real.as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, i64, i64, i64, real, ptr, i64,
                                               ptr, i64, real, ptr, i64])
        fn = builder.inttoptr(addr, fnty.as_pointer())

        def data(pos, val):
            return context.make_array(signature.args[pos])(context, builder, val).data

        def integer(val, width):
            if val.type.width > width:
                return builder.trunc(val, ir.IntType(width))
            return builder.sext(val, ir.IntType(width)) if val.type.width < width else val

        beta = context.cast(builder, beta, signature.args[10], signature.args[6].dtype)
        builder.call(fn, [ir.Constant(i32, ROW_MAJOR), integer(trans_a, 32),
                          integer(trans_b, 32), integer(m, 64), integer(n, 64),
                          integer(k, 64), ir.Constant(real, 1.0), data(6, a),
                          integer(lda, 64), data(8, b), integer(ldb, 64), beta, data(11, c),
                          integer(ldc, 64)])
        return context.get_dummy_value()
    return sig, codegen


@njit(nogil=True, inline="always")
def gemm(addr, a, b, c, beta, trans_a=False, trans_b=False):
    """c = op(a) @ op(b) + beta * c (op: transpose if asked) for 2-D float arrays of one
    dtype whose rows are contiguous (any row stride: slices of bigger matrices work)."""
    k = a.shape[0] if trans_a else a.shape[1]
    _cblas_gemm(addr, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS,
                c.shape[0], c.shape[1], k, a, a.strides[0] // a.itemsize, b,
                b.strides[0] // b.itemsize, beta, c, c.strides[0] // c.itemsize)


@njit(cache=True, nogil=True)
def _check(addr, a, b, c, d):
    gemm(addr, a, b, c, 0.0)
    gemm(addr, a.T.copy(), b.T.copy(), d, 0.0, True, True)


def gemm_address(dtype=np.float32):
    """Address of a working ``cblas_sgemm`` (float32) or ``cblas_dgemm`` (float64) in an
    OpenBLAS this process has loaded, or 0."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        return 0
    if dtype.char not in _found:
        _found[dtype.char] = _search(dtype)
    return _found[dtype.char]


def _search(dtype):
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return 0
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7)).astype(dtype)
    b = rng.standard_normal((7, 3)).astype(dtype)
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in _SYMBOLS["s" if dtype == np.float32 else "d"]:
            fn = getattr(lib, name, None)
            if fn is None:
                continue
            addr = ctypes.cast(fn, ctypes.c_void_p).value
            c, d = np.zeros((5, 3), dtype), np.zeros((5, 3), dtype)
            _check(addr, a, b, c, d)
            if np.allclose(c, a @ b, atol=1e-5) and np.allclose(d, a @ b, atol=1e-5):
                return addr
    return 0


# Below this many FLOPs :func:`matmul` runs on the calling thread alone.
MATMUL_SPLIT_FLOPS = 1e6
# Up to this m·n·k OpenBLAS itself runs a GEMM on the calling thread (its
# SMP_THRESHOLD_MIN · GEMM_MULTITHREAD_THRESHOLD): no pool to wake, so :func:`matmul` hands
# such products to ``np.matmul`` and saves the native team's ~15 µs hand-off.
OPENBLAS_SERIAL_MNK = 65536 * 4
# Batched products below this many multiply-adds (a.size · n) run with OpenBLAS serial.
BATCHED_SERIAL_WORK = 2 ** 28


def matmul(a, b):
    """``a @ b`` for NumPy arrays, as ``np.matmul``.

    Two 2-D float32 or float64 operands run on Numba's native team where it runs
    (``cpu/parallel.py``): the rows of the product split over the workers, each calling
    OpenBLAS single-threaded.  OpenBLAS's own thread pool then stays asleep; woken, its
    threads spin next to the native team's on the same cores (measured in the LeNet-5
    step: its Linear layers 0.12 -> 2.4 ms).  Everything else goes to ``np.matmul``.
    """
    if not (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype == b.dtype and a.shape[1] == b.shape[0] and a.size and b.size):
        return np.matmul(a, b)
    m, k = a.shape
    n = b.shape[1]
    if m * n * k <= OPENBLAS_SERIAL_MNK:
        return np.matmul(a, b)
    from ..conv_algo import _blas_serial, _native, _workers
    from . import parallel
    addr = gemm_address(a.dtype)
    workers = _workers()
    if not addr or not _native(workers):
        return np.matmul(a, b)
    c = np.empty((m, n), dtype=a.dtype)
    a, trans_a = _operand(a)
    b, trans_b = _operand(b)
    if 2.0 * m * n * k < MATMUL_SPLIT_FLOPS:
        workers = 1
    _blas_serial(parallel.matmul, a, b, c, trans_a, trans_b, workers, addr)
    return c


def batched_matmul(a, b):
    """``np.matmul`` of batched NumPy operands (a 3-D+ ``a``, e.g. attention scores), with
    OpenBLAS on the calling thread while minicv's native team is in use: each product is
    small, and a woken OpenBLAS pool spins next to the team's threads on the same cores
    (a TransformerEncoderLayer(128, 4) step on 2 cores: 52 ms with both pools, 21 ms
    with one)."""
    from ..conv_algo import _blas_serial, _native, _workers
    if not (type(b) is np.ndarray and a.size * b.shape[-1] < BATCHED_SERIAL_WORK
            and _native(_workers())):
        return np.matmul(a, b)              # (a large product amortises the spinning)
    out = []
    _blas_serial(lambda: out.append(np.matmul(a, b)))
    return out[0]


def _operand(x):
    """(array with contiguous rows, transposed?) holding the matrix x for ``gemm``."""
    if x.strides[1] == x.itemsize and x.strides[0] >= x.shape[1] * x.itemsize:
        return x, False
    if x.strides[0] == x.itemsize and x.strides[1] >= x.shape[0] * x.itemsize:
        return x.T, True
    return np.ascontiguousarray(x), False
