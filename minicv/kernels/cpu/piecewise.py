"""Piecewise activations in one pass over flat arrays, on minicv's threads: hardtanh (and
relu6), leaky_relu, elu (and selu, celu), hardswish, hardsigmoid, threshold (and relu's
gradient), prelu.

Why: the NumPy forms in ``ops/activation.py`` build a result from several full-size
temporaries (``np.where`` of a comparison, ``np.minimum(np.maximum(...))``, a derivative
array then a product), and ``np.where`` on a random sign mask mispredicts a branch on
every other element (~10 ms for 2M float32).  Here each element is read once and its
result written once, in a branch-free select that LLVM vectorises (elu's forward first
writes expm1 by NumPy's SIMD ufunc into the output: Numba's libm ``expm1`` was 40x
slower), on Numba's native team (``cpu/parallel.py``'s reasoning) or Python threads as
``cpu/activation.py``.  Measured on the 2-core dev VM (busy), (32, 64, 32, 32) float32,
forward + backward with the tensors' setup, one thread, NumPy forms -> these kernels:
leaky_relu 48 -> 8 ms, elu 54 -> 9, hardswish 16 -> 4, hardtanh 11 -> 4, threshold
22 -> 4, prelu 45 -> 6.5; each loop alone runs at relu's speed (~0.65 ms forward, 0.95
backward).

Each kernel computes the same IEEE operations as the NumPy form, in the array's dtype, so
the results are equal bit for bit (``np.maximum``/``np.minimum`` ties, -0.0 and NaNs
included), except prelu's weight gradient (summed per (sample, channel) plane in
float64, in a fixed order that does not depend on the threads, where NumPy sums the
whole float32 product).

The serial kernel :func:`apply` and the parallel driver :func:`run` are in this one file,
so Numba's on-disk cache (keyed on the file) sees every change to either.
"""
import numpy as np
from numba import njit, prange

from .activation import split_by_size

# Op codes.  Forward ops read ``a`` = x; a backward op (code + BACKWARD) reads a = dY,
# b = x (for relu's gradient: y), c = y (elu only).  The params ``p`` (the array's dtype):
#   HARDTANH (lo, hi)      LEAKY_RELU (slope,)       THRESHOLD (threshold, value)
#   ELU (alpha, scale, input_scale, scale*alpha)     HARDSWISH, HARDSIGMOID ()
#   PRELU (one slope, or one per channel: plane j of s elements takes p[j % p.size])
HARDTANH, LEAKY_RELU, ELU, HARDSWISH, HARDSIGMOID, THRESHOLD, PRELU = range(7)
BACKWARD = 8

# The fast path pays from this many elements (below, the NumPy forms' fixed cost is small).
MIN_SIZE = 1 << 12


@njit(inline="always")
def _max(a, b):
    """``np.maximum(a, b)``: a NaN in either wins; b on ties (max(-0.0, 0.0) is +0.0)."""
    return a if a > b or a != a else b


@njit(inline="always")
def _min(a, b):
    """``np.minimum(a, b)``: a NaN in either wins; b on ties."""
    return a if a < b or a != a else b


@njit(cache=True, nogil=True)
def apply(op, a, b, c, out, p, sums, s, u0, u1):
    """The op over units u0..u1 of ``s`` elements each of flat, C-contiguous arrays.

    Element-wise ops: s = 1, out[u0:u1], one loop per op (each a select LLVM vectorises;
    elu's forward finds expm1(min(x, 0)·input_scale) in ``out``, from NumPy's SIMD
    ``expm1``: read through another argument, LLVM would have to assume that it
    overlaps ``out`` and keep the loop scalar, 9x slower).  PRELU: unit j is the
    (sample, channel) plane j (s = H·W elements, slope p[j % p.size]); its backward
    writes dx when ``out`` has a size and the plane's weight-gradient sum into sums[j]
    when ``sums`` has one.

    Each formula is its NumPy form's, in the same order and dtype.  The gradients select
    where PyTorch selects (a NaN or inf dY does not leak where the derivative is 0:
    hardtanh, hardsigmoid, threshold) and multiply where the NumPy form multiplies
    (leaky_relu, elu, hardswish: 0·NaN is NaN there too).
    """
    t = out.dtype.type                  # constants in the dtype: float32 stays float32
    zero, three, six = t(0), t(3), t(6)
    if op == PRELU or op == PRELU + BACKWARD:
        for j in range(u0, u1):
            i0, i1, w = j * s, (j + 1) * s, p[j % p.size]
            aj, bj = a[i0:i1], b[i0:i1]
            if op == PRELU:
                oj = out[i0:i1]
                for i in range(s):
                    x = aj[i]
                    oj[i] = x if x > zero else w * x
                continue
            if out.size:
                oj = out[i0:i1]
                for i in range(s):
                    g = aj[i]
                    oj[i] = g if bj[i] > zero else w * g
            if sums.size:
                sums[j] = _neg_sum(aj, bj)
        return
    i0, i1 = u0 * s, u1 * s
    a, b, c, out = a[i0:i1], b[i0:i1], c[i0:i1], out[i0:i1]
    n = out.size
    p0, p1, p2, p3 = p[0], p[1], p[2], p[3]
    # Loops from 0 over slices: an index from i0 could be negative as far as Numba knows,
    # and its wraparound test made LLVM gather and scatter (2x slower than relu's loop).
    # Every operand is loaded before the select and conditions use & and |, not `and`
    # and `or`: a load or test on one side only is a branch, and a branch on a random
    # sign keeps the loop scalar and mispredicted (elu's forward: 14.5 ms -> 1.6).
    if op == HARDTANH:                                  # p0, p1 = lo, hi
        for i in range(n):
            out[i] = _min(_max(a[i], p0), p1)
    elif op == LEAKY_RELU:                              # p0 = slope
        for i in range(n):
            x = a[i]
            out[i] = x if x > zero else x * p0
    elif op == ELU:                     # alpha, scale; out holds expm1(min(x, 0)·is)
        for i in range(n):
            x, e = a[i], out[i]
            out[i] = (x if x > zero else p0 * e) * p1
    elif op == HARDSWISH:
        for i in range(n):
            x = a[i]
            out[i] = x * _min(_max(x + three, zero), six) / six
    elif op == HARDSIGMOID:
        for i in range(n):
            out[i] = _min(_max(a[i] + three, zero), six) / six
    elif op == THRESHOLD:                               # p0, p1 = threshold, value
        for i in range(n):
            x = a[i]
            out[i] = p1 if x <= p0 else x
    elif op == HARDTANH + BACKWARD:                     # no gradient at the bounds
        for i in range(n):
            g, x = a[i], b[i]
            out[i] = zero if (x <= p0) | (x >= p1) else g
    elif op == LEAKY_RELU + BACKWARD:
        for i in range(n):
            g = a[i]
            out[i] = g if b[i] > zero else g * p0
    elif op == ELU + BACKWARD:      # x <= 0 (NaN not): input_scale·(y + scale·alpha)
        for i in range(n):
            g, x, y = a[i], b[i], c[i]
            out[i] = g * (p2 * (y + p3) if x <= zero else p1)
    elif op == HARDSWISH + BACKWARD:    # 0 up to -3, x/3 + 1/2 inside, 1 from 3 on
        for i in range(n):
            g, x = a[i], b[i]
            out[i] = g * (zero if x <= -three else
                          (x / three + t(0.5) if x < three else t(1)))
    elif op == HARDSIGMOID + BACKWARD:  # 1/6 strictly inside (-3, 3)
        for i in range(n):
            g, x = a[i], b[i]
            out[i] = g / six if (x > -three) & (x < three) else zero
    else:                               # THRESHOLD + BACKWARD; a NaN x passes
        for i in range(n):
            g = a[i]
            out[i] = zero if b[i] <= p0 else g


@njit(inline="always")
def _neg(x, g):
    """One term of prelu's weight gradient: x·dY (in the dtype, as NumPy) where x <= 0."""
    return 0.0 if x > 0 else float(x * g)


@njit(inline="always")
def _neg_sum(gy, x):
    """prelu's weight gradient over a plane: the sum of x·dY where x <= 0, in float64 by
    four interleaved accumulators (a fixed order, and four independent chains of
    additions instead of one long one)."""
    s0 = s1 = s2 = s3 = 0.0
    n4 = x.size // 4 * 4
    for i in range(0, n4, 4):
        s0 += _neg(x[i], gy[i])
        s1 += _neg(x[i + 1], gy[i + 1])
        s2 += _neg(x[i + 2], gy[i + 2])
        s3 += _neg(x[i + 3], gy[i + 3])
    for i in range(n4, x.size):
        s0 += _neg(x[i], gy[i])
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, nogil=True, parallel=True)
def run(op, a, b, c, out, p, sums, s, n, workers):
    """:func:`apply` over n units, one contiguous range of them per worker (the bounds of
    ``conv_algo.run_split``: each output is written by one worker, whatever the count)."""
    for t in prange(workers):
        apply(op, a, b, c, out, p, sums, s, n * t // workers, n * (t + 1) // workers)


# ------------------------------------------------------------------------------ Python side

def fast_ok(x):
    """Whether ``x`` takes these kernels: a NumPy (never CuPy) float32/float64 array,
    C-contiguous, of at least :data:`MIN_SIZE` elements."""
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64)
            and x.flags.c_contiguous and x.size >= MIN_SIZE)


def grad_arg(gy, like):
    """dY as the kernels read it (flat, C-contiguous), or None where they cannot (another
    array type, dtype or shape): ``gy`` itself if contiguous, else a contiguous copy --
    one ``fill`` where it is a broadcast scalar (all strides 0, as ``y.sum().backward()``
    sends; ``np.where`` on it was ~10 ms for 2M float32)."""
    if not (type(gy) is np.ndarray and gy.dtype == like.dtype and gy.shape == like.shape):
        return None
    if gy.flags.c_contiguous:
        return gy.reshape(-1)
    from . import buffers
    g = buffers.empty(gy.size, gy.dtype)
    if any(gy.strides):
        g.reshape(gy.shape)[...] = gy
    else:
        g.fill(gy.flat[0])
    return g


def forward(op, x, params=()):
    """The forward op (``HARDTANH`` ...) of an array accepted by :func:`fast_ok`; for
    ``ELU`` params (alpha, scale, input_scale)."""
    from . import buffers
    y = buffers.empty_like(x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    if op == ELU:           # NumPy's SIMD expm1 (Numba's libm one is 40x slower), into y
        np.minimum(xf, 0, out=yf)
        if params[2] != 1:
            np.multiply(yf, x.dtype.type(params[2]), out=yf)
        np.expm1(yf, out=yf)
    _launch(op, xf, yf, params, x.dtype)
    return y


def backward(op, g, x, params=(), y=None):
    """dx of the op from ``g`` = :func:`grad_arg` (dY), the input ``x`` (for relu's
    gradient, pass the output as x with ``THRESHOLD``, params (0, 0)) and, for ``ELU``
    (params (alpha, scale, input_scale, scale·alpha)), the output ``y``."""
    from . import buffers
    gx = buffers.empty_like(x)
    xf = x.reshape(-1)
    _launch(op + BACKWARD, g, gx.reshape(-1), params, x.dtype, xf,
            xf if y is None else y.reshape(-1))
    return gx


def _planes(x):
    """(planes, plane size) of x for prelu: (N·C, H·W...) with channels in dim 1."""
    if x.ndim < 2:
        return 1, x.size
    return x.shape[0] * x.shape[1], x.size // (x.shape[0] * x.shape[1])


def prelu_forward(x, w):
    """x where x > 0, else w·x: ``w`` one slope or one per channel (dim 1), of x's dtype."""
    from . import buffers
    y = buffers.empty_like(x)
    n, s = _planes(x)
    _launch(PRELU, x.reshape(-1), y.reshape(-1), w.reshape(-1), x.dtype, n=n, s=s)
    return y


def prelu_backward(g, x, w, need_gx, need_gw):
    """(dx or None, dw or None) of prelu, dw in w's shape: the sum over samples (and
    positions) of x·dY where x <= 0.  ``g``: :func:`grad_arg` of dY."""
    from . import buffers
    n, s = _planes(x)
    gx = buffers.empty_like(x) if need_gx else np.empty(0, x.dtype)
    sums = np.empty(n if need_gw else 0)                     # (N·C,) float64
    _launch(PRELU + BACKWARD, g, gx.reshape(-1), w.reshape(-1), x.dtype, x.reshape(-1),
            x.reshape(-1), n=n, s=s, sums=sums)
    gw = None
    if need_gw:
        per_channel = sums.reshape(-1, w.size).sum(axis=0)  # (C,) or (1,)
        gw = per_channel.astype(x.dtype).reshape(w.shape)
    return (gx if need_gx else None), gw


def _launch(op, a, out, params, dtype, b=None, c=None, n=None, s=1, sums=None):
    """Run :func:`apply` over ``n`` units (default: every element) of ``s`` elements: on
    threads that ``activation.split_by_size`` picks for n·s elements."""
    b = a if b is None else b
    c = b if c is None else c
    if op % BACKWARD == PRELU:                       # the slopes, as they are
        p = params
    else:                                            # p0..p3, in the dtype
        p = np.zeros(4, dtype)
        with np.errstate(over="ignore"):             # a bound past float32's range: inf
            p[:len(params)] = params
    n = out.size if n is None else n
    sums = np.empty(0) if sums is None else sums
    split_by_size(n, n * s, lambda u0, u1: apply(op, a, b, c, out, p, sums, s, u0, u1),
                  lambda workers: run(op, a, b, c, out, p, sums, s, n, workers))
