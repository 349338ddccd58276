"""Element-wise kernels for the hot activation and residual ops, on minicv's threads.

``relu_backward``: ``np.where(y <= 0, 0, gy)`` in NumPy writes a boolean mask, then selects
(two passes and a temporary); here it is one pass over flat, contiguous arrays. It is a
select, as PyTorch's threshold_backward: a NaN gradient does not leak where y <= 0, and
gy passes where y is NaN. (``cpu/parallel.py`` inlines these kernels, and Numba's cache
does not see a change here: touch that file too.)

``relu``, ``relu_backward``, ``add``: over equal-shape, C-contiguous arrays, cut into one
contiguous range per thread: on Numba's native team (``cpu/parallel.py``) where it runs,
else on ``conv_algo.run_split``'s Python threads (the kernels release the GIL).  These ops
are memory-bound; after a convolution their input is out of cache, and two threads keep
more loads in flight than one (measured in the ResNet-20 step: ReLU and Add 1.2-1.6x
faster on the Python threads than on one; on the native team ReLU forward 12.0 -> 7.2 ms
a step, backward 11.4 -> 8.3, Add 6.9 -> 4.4).  Element-wise results do not depend on the
split.
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
    """gx = 0 where y <= 0, else gy, over flat arrays (a select, as PyTorch's
    threshold_backward: a NaN gradient does not leak through a zero output, and passes
    where y is NaN)."""
    zero = gy.dtype.type(0)
    for i in range(gy.size):
        gx[i] = zero if y[i] <= 0 else gy[i]


@njit(cache=True, nogil=True)
def add_flat(a, b, out):
    """out = a + b over flat arrays."""
    for i in range(a.size):
        out[i] = a[i] + b[i]


def relu(x):
    """max(x, 0) for an array accepted by :func:`fast_ok`."""
    from .parallel import RELU
    return _elementwise(RELU, x, x)


def relu_backward(gy, y):
    """gx = gy where y > 0, else 0, for arrays accepted together by :func:`fast_ok`."""
    from .parallel import RELU_BACKWARD
    return _elementwise(RELU_BACKWARD, gy, y)


def add(a, b):
    """a + b for two arrays accepted together by :func:`fast_ok`."""
    from .parallel import ADD
    return _elementwise(ADD, a, b)


def fast_ok(*arrays):
    """Whether :func:`relu` / :func:`relu_backward` / :func:`add` apply: NumPy float32 or
    float64 arrays (never CuPy), one shape and dtype, C-contiguous."""
    a = arrays[0]
    return (all(type(t) is np.ndarray for t in arrays) and a.dtype in (np.float32, np.float64)
            and all(t.shape == a.shape and t.dtype == a.dtype and t.flags.c_contiguous
                    for t in arrays))


def split_by_size(n, size, serial, native):
    """Run ``serial(i0, i1)`` over range(n), or ``native(workers)`` (the same split by a
    ``prange`` driver), on the threads that pay for ``size`` elements of memory-bound
    work: Numba's native team from :data:`NATIVE_MIN_SIZE`, Python threads
    (``conv_algo.run_split``; the kernels release the GIL) from :data:`THREADED_MIN_SIZE`,
    else this thread. Every element-wise, row and plane kernel module of ``cpu/`` splits
    its work here."""
    from ..conv_algo import _native, _workers, run_split
    workers = min(_workers(), n)
    if size >= NATIVE_MIN_SIZE and workers > 1 and _native(workers):
        native(workers)
    elif size >= THREADED_MIN_SIZE and workers > 1:
        run_split(serial, n)
    else:
        serial(0, n)


def _elementwise(op, a, b):
    """The element-wise ``op`` of ``cpu/parallel.py`` (RELU: b unused) into a fresh array
    (a recycled buffer, ``cpu/buffers.py``), split by :func:`split_by_size`."""
    from . import buffers, parallel
    out = buffers.empty_like(a)
    af, bf, of = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    kernel = _FLAT[op]
    split_by_size(af.size, af.size, lambda i0, i1: kernel(af[i0:i1], bf[i0:i1], of[i0:i1]),
                  lambda workers: parallel.elementwise(op, af, bf, of, workers))
    return out


# The serial kernels by the op codes of ``cpu/parallel.py`` (RELU, RELU_BACKWARD, ADD).
_FLAT = (lambda a, b, out: relu_flat(a, out), relu_backward_flat, add_flat)
