"""Element-wise kernels for the hot activation and residual ops, on minicv's threads.

``relu_backward``: ``gy * (y > 0)`` in NumPy writes a boolean mask, then runs a mixed-type
multiply through a casting loop (two passes and a temporary); here it is one pass over
flat, contiguous arrays.  The product keeps NumPy's semantics (a NaN gradient stays NaN
where y <= 0, as ``gy * 0`` does).

``relu``, ``relu_backward``, ``add``: over equal-shape, C-contiguous arrays, cut into one
contiguous range per thread: on Numba's native team (``cpu/parallel.py``) where it runs,
else through ``threaded_ufunc`` (a NumPy ufunc per range on ``conv_algo.run_split``'s
Python threads; ufunc loops release the GIL).  These ops are memory-bound; after a
convolution their input is out of cache, and two threads keep more loads in flight than
one (measured in the ResNet-20 step: ReLU and Add 1.2-1.6x faster on the Python threads
than on one; on the native team ReLU forward 12.0 -> 7.2 ms a step, backward 11.4 -> 8.3,
Add 6.9 -> 4.4).  Element-wise results do not depend on the split.
"""
import numpy as np
from numba import njit

# From this many elements the kernels run on Numba's native team (measured, float32 ReLU:
# 2^16 elements 7.7 us on one thread, 6.2 on two; 301,056 (LeNet-5's first ReLU) 63 vs
# 20 us), and on Python threads from THREADED_MIN_SIZE (at 2^18, warm, one thread was
# faster than two there; at 2^20 two were 1.2-1.3x faster).  Smaller arrays stay on the
# calling thread.
NATIVE_MIN_SIZE = 1 << 16
THREADED_MIN_SIZE = 1 << 19


@njit(cache=True, nogil=True)
def relu_flat(x, y):
    """y = max(x, 0) over flat arrays, as ``np.maximum(x, 0)``: NaN stays NaN."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        y[i] = zero if v <= zero else v


@njit(cache=True, nogil=True)
def relu_backward_flat(gy, y, gx):
    """gx = gy * (y > 0) over flat arrays."""
    for i in range(gy.size):
        gx[i] = gy[i] * (y[i] > 0)


@njit(cache=True, nogil=True)
def add_flat(a, b, out):
    """out = a + b over flat arrays."""
    for i in range(a.size):
        out[i] = a[i] + b[i]


def relu(x):
    """max(x, 0) for an array accepted by :func:`fast_ok`, on minicv's threads when large."""
    from . import buffers, parallel
    y = buffers.empty_like(x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    if not _native_split(parallel.RELU, xf, xf, yf):
        if x.size >= THREADED_MIN_SIZE:
            return threaded_ufunc(np.maximum, x, x.dtype.type(0))
        relu_flat(xf, yf)
    return y


def relu_backward(gy, y):
    """gx = gy * (y > 0) for C-contiguous arrays of the same shape and float dtype."""
    from ..conv_algo import run_split
    from . import buffers, parallel
    gx = buffers.empty_like(gy)
    g, v, o = gy.reshape(-1), y.reshape(-1), gx.reshape(-1)
    if not _native_split(parallel.RELU_BACKWARD, g, v, o):
        if g.size >= THREADED_MIN_SIZE:
            run_split(lambda i0, i1: relu_backward_flat(g[i0:i1], v[i0:i1], o[i0:i1]),
                      g.size)
        else:
            relu_backward_flat(g, v, o)
    return gx


def add(a, b):
    """a + b for two arrays accepted together by :func:`fast_ok`, on minicv's threads when
    large."""
    from . import buffers, parallel
    out = buffers.empty_like(a)
    af, bf, of = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    if not _native_split(parallel.ADD, af, bf, of):
        if a.size >= THREADED_MIN_SIZE:
            return threaded_ufunc(np.add, a, b)
        add_flat(af, bf, of)
    return out


def fast_ok(*arrays):
    """Whether :func:`relu` / :func:`add` apply: NumPy float arrays (never CuPy), one shape
    and dtype, C-contiguous."""
    a = arrays[0]
    return (all(type(t) is np.ndarray for t in arrays) and a.dtype in (np.float32, np.float64)
            and all(t.shape == a.shape and t.dtype == a.dtype and t.flags.c_contiguous
                    for t in arrays))


def threaded_ufunc(ufunc, a, b):
    """``ufunc(a, b)`` into a fresh array, one contiguous range of elements per thread.

    ``b`` is an array accepted by :func:`fast_ok` together with ``a``, or a scalar.
    """
    from ..conv_algo import run_split
    out = np.empty_like(a)
    af, of = a.reshape(-1), out.reshape(-1)
    if isinstance(b, np.ndarray):
        bf = b.reshape(-1)
        run_split(lambda i0, i1: ufunc(af[i0:i1], bf[i0:i1], out=of[i0:i1]), af.size)
    else:
        run_split(lambda i0, i1: ufunc(af[i0:i1], b, out=of[i0:i1]), af.size)
    return out


def _native_split(op, a, b, out):
    """Run ``cpu/parallel.elementwise(op, a, b, out)`` if the arrays are large enough and
    the native team is available here; say whether it ran."""
    from ..conv_algo import _native, _workers
    from . import parallel
    if a.size < NATIVE_MIN_SIZE:
        return False
    workers = _workers()
    if not _native(workers):
        return False
    parallel.elementwise(op, a, b, out, workers)
    return True
