"""Element-wise kernels for the hot activation and residual ops, on minicv's threads.

``relu_backward``: ``gy * (y > 0)`` in NumPy writes a boolean mask, then runs a mixed-type
multiply through a casting loop (two passes and a temporary); here it is one pass over
flat, contiguous arrays.  The product keeps NumPy's semantics (a NaN gradient stays NaN
where y <= 0, as ``gy * 0`` does).

``threaded_ufunc``: a binary NumPy ufunc (``np.maximum`` for ReLU, ``np.add`` for the
residual sum) over equal-shape, C-contiguous arrays, cut into one contiguous range per
thread (``conv_algo.run_split``; ufunc loops release the GIL).  These ops are
memory-bound; after a convolution their input is out of cache, and two threads keep
more loads in flight than one (measured in the ResNet-20 step: ReLU and Add 1.2-1.6x
faster).  Element-wise results do not depend on the split.
"""
import numpy as np
from numba import njit

# Arrays with fewer elements stay on the calling thread (measured: at 2^18 float32
# elements, warm, one thread was faster than two; at 2^20 two were 1.2-1.3x faster).
THREADED_MIN_SIZE = 1 << 19


@njit(cache=True, nogil=True)
def _relu_backward_flat(gy, y, gx):
    for i in range(gy.size):
        gx[i] = gy[i] * (y[i] > 0)


def relu_backward(gy, y):
    """gx = gy * (y > 0) for C-contiguous arrays of the same shape and float dtype."""
    from ..conv_algo import run_split
    gx = np.empty_like(gy)
    g, v, o = gy.reshape(-1), y.reshape(-1), gx.reshape(-1)
    if g.size < THREADED_MIN_SIZE:
        _relu_backward_flat(g, v, o)
    else:
        run_split(lambda i0, i1: _relu_backward_flat(g[i0:i1], v[i0:i1], o[i0:i1]), g.size)
    return gx


def threaded_ok(*arrays):
    """Whether :func:`threaded_ufunc` applies: NumPy float arrays (never CuPy), one shape
    and dtype, C-contiguous, large enough to be worth a second thread."""
    a = arrays[0]
    return (all(type(t) is np.ndarray for t in arrays) and a.dtype.kind == "f"
            and a.size >= THREADED_MIN_SIZE
            and all(t.shape == a.shape and t.dtype == a.dtype and t.flags.c_contiguous
                    for t in arrays))


def threaded_ufunc(ufunc, a, b):
    """``ufunc(a, b)`` into a fresh array, one contiguous range of elements per thread.

    ``b`` is an array accepted by :func:`threaded_ok` together with ``a``, or a scalar.
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
