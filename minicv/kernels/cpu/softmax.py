"""Softmax and log-softmax, forward and backward, for NumPy float32/float64 arrays.

The input is seen as a C-contiguous (outer, n, inner) view, n the softmax dim's length:
rows (inner == 1) when the dim is the last one, else ``inner`` columns side by side,
walked without transposing.  Each step below is one pass over memory:

    forward:      y = x - max (SHIFT) -> np.exp(y, out=y) -> y /= Σ y (NORM)
    log forward:  y = x - max (SHIFT) -> e = np.exp(y), scratch -> y -= log Σ e (LOG_NORM)
    backward:     gx = y·(gy - Σ gy·y) (BWD)
    log backward: gx = np.exp(y) -> gx = gy - gx·Σ gy (LOG_BWD)

The NumPy code of ``ops/activation.py`` makes ~5 passes and 2-3 temporaries a step (its
broadcast subtract alone is 0.28 ms for (512, 1000) float32).  The exponential stays
NumPy's: it is vectorised there, while Numba's ``np.exp`` is scalar on this machine (1.8
vs 0.24 ms for 512K float32 values).  Measured for (512, 1000) float32 on one thread:
NumPy max + subtract 0.36 ms -> SHIFT 0.23; sum + divide 0.29 -> NORM 0.17; the whole
forward 1.1 -> 0.63 ms, backward 0.26 ms (PyTorch 0.32 and 0.22).  (32, 64, 32, 32) over
dim 1, one thread: forward 2.5, backward 1.1 ms (PyTorch 6.9 and 3.3).

Cold compile (empty Numba cache, a loaded 2-core machine): ~7 s for float32 (:func:`span`,
:func:`steps` and :func:`run`).

Semantics are the NumPy path's: the maximum here skips NaN, but a NaN along the dim makes
the sum NaN and so every output there NaN, as with NumPy's NaN maximum (and PyTorch); all
-inf gives -inf - -inf = NaN everywhere; an +inf gives inf - inf = NaN.  Sums over
rows are vectorised (``reassoc``: a fixed lane order per machine) and sums over columns
run in index order, each by one thread, so results do not depend on the thread count.
They may differ from NumPy's pairwise sums by float rounding (a few ulp).

Work is split over the ``outer`` index, each pass (:func:`steps`: the forward, the log
forward, either backward) in one call per thread, NumPy's exp included: it is called by
the address of its loop (``cpu/ufunc_loops.py``), so a thread's rows go through every
step without coming back to Python.  (Before, the exp ran on one thread between two
parallel steps, and on two Python threads each call took the GIL back.)  The threads are
``activation.split_by_size``'s choice for the array's size.  The serial kernels
and the parallel driver :func:`run` live together here, so Numba's cache sees every
change, except to ``ufunc_loops.call``: touch this file after changing it.
"""
import math

import numpy as np
from numba import njit, prange

from . import ufunc_loops
from .activation import split_by_size
from .ufunc_loops import call as call_loop

SHIFT, NORM, LOG_NORM, BWD, LOG_BWD = range(5)
# Whole passes of :func:`steps`, each a few steps above with NumPy's exp between them.
FORWARD, LOG_FORWARD, LOG_BACKWARD = range(5, 8)

# Smaller arrays keep the NumPy code of ``ops/activation.py`` (no Numba import).
MIN_SIZE = 1 << 12


@njit(nogil=True, fastmath={"reassoc"})
def _sum(a, o):
    """Σ a[o, :, 0] (a (outer, n, 1)), vectorised (lanes in a fixed order)."""
    s = a.dtype.type(0)
    for i in range(a.shape[1]):
        s += a[o, i, 0]
    return s


@njit(nogil=True, fastmath={"reassoc"})
def _dot(a, b, o):
    """Σ a·b over the row o of (outer, n, 1) arrays, vectorised (lanes in a fixed order)."""
    s = a.dtype.type(0)
    for i in range(a.shape[1]):
        s += a[o, i, 0] * b[o, i, 0]
    return s


@njit(nogil=True)
def _max(a, o):
    """The largest non-NaN entry of a[o, :, 0] (-inf if none).  Eight running maxima,
    so that eight compare-selects are in flight (one alone waits ~4 cycles an element:
    0.63 vs 0.16 ms for 512K float32 values)."""
    n = a.shape[1]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = a.dtype.type(-np.inf)
    for i in range(0, n - n % 8, 8):
        x0, x1, x2, x3 = a[o, i, 0], a[o, i + 1, 0], a[o, i + 2, 0], a[o, i + 3, 0]
        x4, x5, x6, x7 = a[o, i + 4, 0], a[o, i + 5, 0], a[o, i + 6, 0], a[o, i + 7, 0]
        m0, m1, m2, m3 = (x0 if x0 > m0 else m0, x1 if x1 > m1 else m1,
                          x2 if x2 > m2 else m2, x3 if x3 > m3 else m3)
        m4, m5, m6, m7 = (x4 if x4 > m4 else m4, x5 if x5 > m5 else m5,
                          x6 if x6 > m6 else m6, x7 if x7 > m7 else m7)
    for i in range(n - n % 8, n):
        x0 = a[o, i, 0]
        m0 = x0 if x0 > m0 else m0
    m0, m1, m2, m3 = (m0 if m0 > m4 else m4, m1 if m1 > m5 else m5,
                      m2 if m2 > m6 else m6, m3 if m3 > m7 else m7)
    m0, m1 = m0 if m0 > m2 else m2, m1 if m1 > m3 else m3
    return m0 if m0 > m1 else m1


@njit(cache=True, nogil=True, error_model="numpy")
def span(op, a, b, out, o0, o1):
    """One step of the module docstring over a[o0:o1] etc.; a, b, out (outer, n, inner)
    C-contiguous, per (outer, inner) index (unused arguments: any array of the shape):

    SHIFT:    out = a - max_n a
    NORM:     out = out / Σ_n out                    (in place)
    LOG_NORM: out = out - log(Σ_n a)                 (in place, a = exp(out))
    BWD:      out = b·(a - Σ_n a·b)                  (a = gy, b = y)
    LOG_BWD:  out = a - out·Σ_n a                    (in place, a = gy, out = exp(y))

    The in-place steps read ``out`` itself, never an alias of it: a loop over two
    arrays that overlap fails LLVM's run-time overlap check and runs scalar (NORM in
    place through an alias: 0.59 vs 0.17 ms for (512, 1000) float32).

    Indexed in place, never sliced: a slice per row costs reference-count updates (65,536
    rows of 32: SHIFT 3.7 -> 1.0 ms).  ``error_model="numpy"``: a division by zero
    gives inf/NaN without Python's check, which kept NORM from vectorising (2.4 -> 0.8 ms
    for (32, 64, 32, 32) float32).
    """
    outer, n, inner = a.shape
    if inner == 1:                                        # rows of n
        for o in range(o0, o1):
            if op == SHIFT:
                m = _max(a, o)
                for i in range(n):
                    out[o, i, 0] = a[o, i, 0] - m
            elif op == NORM:
                s = _sum(out, o)
                for i in range(n):
                    out[o, i, 0] = out[o, i, 0] / s
            elif op == LOG_NORM:
                s = np.log(_sum(a, o))
                for i in range(n):
                    out[o, i, 0] = out[o, i, 0] - s
            elif op == BWD:
                s = _dot(a, b, o)
                for i in range(n):
                    out[o, i, 0] = b[o, i, 0] * (a[o, i, 0] - s)
            else:
                s = _sum(a, o)
                for i in range(n):
                    out[o, i, 0] = a[o, i, 0] - out[o, i, 0] * s
        return
    v = np.empty(inner, a.dtype)                          # per column: max or sum
    for o in range(o0, o1):
        if op == SHIFT:
            v[:] = -np.inf
            for k in range(n):
                for j in range(inner):
                    x = a[o, k, j]
                    v[j] = x if x > v[j] else v[j]
        else:
            v[:] = 0
            for k in range(n):
                if op == BWD:
                    for j in range(inner):
                        v[j] += a[o, k, j] * b[o, k, j]
                elif op == NORM:
                    for j in range(inner):
                        v[j] += out[o, k, j]
                else:
                    for j in range(inner):
                        v[j] += a[o, k, j]
            if op == LOG_NORM:
                for j in range(inner):
                    v[j] = np.log(v[j])
        for k in range(n):
            if op == SHIFT:
                for j in range(inner):
                    out[o, k, j] = a[o, k, j] - v[j]
            elif op == NORM:
                for j in range(inner):
                    out[o, k, j] = out[o, k, j] / v[j]
            elif op == LOG_NORM:
                for j in range(inner):
                    out[o, k, j] = out[o, k, j] - v[j]
            elif op == BWD:
                for j in range(inner):
                    out[o, k, j] = b[o, k, j] * (a[o, k, j] - v[j])
            else:
                for j in range(inner):
                    out[o, k, j] = a[o, k, j] - out[o, k, j] * v[j]


@njit(cache=True, nogil=True)
def steps(op, a, b, c, out, o0, o1, exp):
    """One op over a[o0:o1] etc. (a, b, c, out: (outer, n, inner) C-contiguous): a step of
    :func:`span`, or a whole pass of the module docstring, NumPy's exp called by the
    address ``exp`` of its loop (``cpu/ufunc_loops.py``) on this part's rows:

    FORWARD:       out = softmax(a)       (SHIFT, exp in place, NORM)
    LOG_FORWARD:   out = log_softmax(a)   (SHIFT, c = exp(out), LOG_NORM; c: scratch)
    LOG_BACKWARD:  out = gx from a = gy, b = y   (out = exp(b), LOG_BWD)

    A part's rows go through all steps while they are in its core's cache, and nothing
    here takes the GIL.  Two calls of :func:`span`, not one a step: LLVM compiles a copy
    of it into :func:`run` for each (cold compile of the module, float32: 10.8 s with
    five calls, 7.0 with two, 4.4 before this function)."""
    size = a.shape[1] * a.shape[2]                      # elements per outer index
    i0, i1 = o0 * size, o1 * size
    last, first, second = op, a, b                      # a step of span: itself alone
    if op == FORWARD:
        last, first, second = NORM, out, out
    elif op == LOG_FORWARD:
        last, first, second = LOG_NORM, c, out
    elif op == LOG_BACKWARD:
        last, first, second = LOG_BWD, a, out
    if op == FORWARD or op == LOG_FORWARD:
        span(SHIFT, a, a, out, o0, o1)
    if op >= FORWARD:                                   # exp(out) or exp(y) -> c or out
        source = b if op == LOG_BACKWARD else out
        target = c if op == LOG_FORWARD else out
        call_loop(exp, source.reshape(-1)[i0:i1], target.reshape(-1)[i0:i1])
    span(last, first, second, out, o0, o1)


@njit(cache=True, nogil=True, parallel=True)
def run(op, a, b, c, out, exp, workers):
    """:func:`steps` over the whole outer range, one contiguous part per worker."""
    outer = a.shape[0]
    for t in prange(workers):
        steps(op, a, b, c, out, outer * t // workers, outer * (t + 1) // workers, exp)


def fast_ok(*arrays):
    """Whether this module applies: NumPy float32/float64 arrays of one shape and dtype,
    C-contiguous, with at least :data:`MIN_SIZE` elements, and NumPy's exp loop found
    (``ufunc_loops.addresses``)."""
    a = arrays[0]
    return (a.size >= MIN_SIZE and all(type(t) is np.ndarray for t in arrays)
            and a.dtype in (np.float32, np.float64)
            and all(t.shape == a.shape and t.dtype == a.dtype and t.flags.c_contiguous
                    for t in arrays) and bool(ufunc_loops.addresses()))


def _view(a, dim):
    """``a`` as its (outer, n, inner) view around ``dim``."""
    n = a.shape[dim]
    outer = math.prod(a.shape[:dim])
    return a.reshape(outer, n, a.size // (outer * n))


def _step(op, a, b, c, out, dim):
    """:func:`steps` over the whole arrays (same shape, C-contiguous) as (outer, n, inner)
    views around ``dim``, on the threads that pay."""
    exp = ufunc_loops.addresses().get(("exp", a.dtype.char), 0)   # 0: SHIFT/BWD need none
    a, b, c, out = _view(a, dim), _view(b, dim), _view(c, dim), _view(out, dim)
    split_by_size(a.shape[0], a.size, lambda o0, o1: steps(op, a, b, c, out, o0, o1, exp),
                  lambda workers: run(op, a, b, c, out, exp, workers))


def forward(x, dim, log):
    """softmax(x) (``log`` False) or log_softmax(x) along ``dim`` (0 <= dim < x.ndim,
    x.shape[dim] > 0) for an array accepted by :func:`fast_ok`."""
    from . import buffers
    y = buffers.empty_like(x)
    if log:
        _step(LOG_FORWARD, x, x, buffers.empty_like(x), y, dim)
    else:
        _step(FORWARD, x, x, y, y, dim)
    return y


def backward(gy, y, dim, log):
    """The input gradient of :func:`forward` given its output ``y`` and the output
    gradient ``gy`` (both accepted together by :func:`fast_ok`)."""
    from . import buffers
    gx = buffers.empty_like(y)
    _step(LOG_BACKWARD if log else BWD, gy, y, gx, gx, dim)
    return gx
