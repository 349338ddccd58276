"""Numba pooling kernels: max (with flat argmax indices) and average, forward and backward.

Same signatures and semantics as ``kernels/reference.py``: PyTorch's output size and
ceil_mode rule, -inf padding for max, the first maximum wins ties (only a strictly larger
value, or a NaN, replaces the running maximum), PyTorch's avg divisor.  One task per (n, c)
plane; the backward scatters only inside its own plane, so there are no write races.

Max pooling runs serial ``nogil`` kernels; calls that touch at least
:data:`SPLIT_MIN_BYTES` are split by sample (forward) or plane (backward) over minicv's
threads (``conv_algo.run_split``), each part writing its own outputs (deterministic).
Measured 64x6x28x28, 2x2: forward 0.94 ms -> 0.2-0.3 ms (the old generic loop with
branches vs the 2x2 path with selects); PyTorch 2.13 takes 0.85 ms on 2 threads.

Average and adaptive (average, max) pooling share the box kernels below: each output cell
reduces a rectangle of its plane, a clipped window or PyTorch's adaptive bin, and the
planes are split over threads the same way.  Measured on (32, 64, 32, 32) float32, one
thread: adaptive average to 7x7 forward+backward ~6.5 ms (was ~25 ms in NumPy), global
average pooling 1.2 ms (forward 0.36 ms: a vectorized sum; the backward writes each cell
once when the boxes tile the plane: 2.1 -> 0.9 ms), adaptive max to 7x7 forward 6.3 ms
(was ~30 ms).  Outputs and gradients come from ``cpu/buffers.py`` (no page faults).
"""
import numpy as np
from numba import njit, prange

from ..reference import _avg_divisor_grid, adaptive_bins, pool_geometry
from . import buffers


@njit(inline="always")
def _take(v, best, arg, pos):
    """The running (max, argmax) after seeing value v at flat position pos: v replaces the
    maximum only if strictly larger, or NaN (so the first maximum wins ties).  Written as
    selects, not branches."""
    t = (v > best) | (v != v)
    return (v if t else best), (pos if t else arg)


@njit(inline="always")
def _max_one(img, y0, x0, kh, kw, dh, dw):
    """(max, flat argmax) of one window that may reach into the -inf padding."""
    h, w = img.shape
    best = -np.inf
    arg = -1
    for i in range(kh):
        iy = y0 + i * dh
        if iy < 0 or iy >= h:
            continue
        for j in range(kw):
            ix = x0 + j * dw
            if ix < 0 or ix >= w:
                continue
            v = img[iy, ix]
            if v > best or np.isnan(v) or arg < 0:
                best = v
                arg = iy * w + ix
    return best, arg


@njit(cache=True, nogil=True)
def _max_fwd(x, kh, kw, sh, sw, ph, pw, dh, dw, y, idx):
    """Max pooling of x (n, C, H, W) into y and flat argmax idx (n, C, OH, OW).

    Serial and ``nogil``: the caller splits the batch over threads.  Windows inside the
    image (all of them without padding or ceil_mode) take a bounds-test-free path; a 2x2
    stride-2 window, the common case, has its own loop with the taps spelled out (4x
    faster than the generic loops, measured on 64x6x28x28).
    """
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    # outputs ox in [xlo, xhi) have their whole window inside the image's columns
    xlo = min(ow, (pw + sw - 1) // sw)
    xhi = max(xlo, min(ow, (w - 1 - (kw - 1) * dw + pw) // sw + 1))
    two = kh == 2 and kw == 2 and sh == 2 and sw == 2 and dh == 1 and dw == 1
    for b in range(n):
        for ch in range(c):
            img = x[b, ch]
            for oy in range(oh):
                y0 = oy * sh - ph
                yr = y[b, ch, oy]
                ir = idx[b, ch, oy]
                lo, hi = 0, 0
                if y0 >= 0 and y0 + (kh - 1) * dh < h:  # the window rows lie inside
                    lo, hi = xlo, xhi
                if two and hi > lo:
                    r0, r1 = img[y0], img[y0 + 1]
                    for ox in range(lo, hi):
                        ix = 2 * ox - pw
                        p = y0 * w + ix
                        best, arg = r0[ix], p
                        best, arg = _take(r0[ix + 1], best, arg, p + 1)
                        best, arg = _take(r1[ix], best, arg, p + w)
                        best, arg = _take(r1[ix + 1], best, arg, p + w + 1)
                        yr[ox] = best
                        ir[ox] = arg
                else:
                    for ox in range(lo, hi):
                        x0 = ox * sw - pw
                        best, arg = img[y0, x0], y0 * w + x0
                        for i in range(kh):
                            iy = y0 + i * dh
                            for j in range(kw):
                                ix = x0 + j * dw
                                best, arg = _take(img[iy, ix], best, arg, iy * w + ix)
                        yr[ox] = best
                        ir[ox] = arg
                for ox in range(lo):  # windows reaching into the padding
                    yr[ox], ir[ox] = _max_one(img, y0, ox * sw - pw, kh, kw, dh, dw)
                for ox in range(max(hi, lo), ow):
                    yr[ox], ir[ox] = _max_one(img, y0, ox * sw - pw, kh, kw, dh, dw)


@njit(cache=True, nogil=True)
def _scatter_bwd(gy, idx, gx):
    """gx.flat[plane][idx] += gy: the backward of max pooling (any dimension, flattened).
    A window with no input inside it (all padding) has index -1 and sends nothing.
    Serial and ``nogil``; the caller splits the planes over threads."""
    nc, q = gy.shape
    for p in range(nc):
        plane = gx[p]
        plane[:] = 0
        for o in range(q):
            j = idx[p, o]
            if j >= 0:
                plane[j] += gy[p, o]


# --------------------------------------------------------------- box sums and bin maxima
#
# Average pooling and adaptive pooling both reduce, for each output cell (oy, ox), the
# rectangle [ylo[oy], yhi[oy]) x [xlo[ox], xhi[ox]) of its input plane: a window clipped to
# the image (avg_pool2d) or PyTorch's adaptive bin.  x is seen as planes (P = N*C, H, W);
# each call takes the planes [p0, p1), so the planes split over threads with disjoint
# writes and every value is computed by one thread in a fixed order.

@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _sum_plane(v):
    """Sum of the flat plane v in float64, global pooling's reduction.  ``reassoc`` lets
    LLVM keep several vector partial sums (0.26 ms for 2048 planes of 1024 float32, one
    thread, against 1.19 ms for four scalar ones): a fixed order for a given build, the
    same on any thread count; NaN and inf propagate as in any order."""
    s = 0.0
    for i in range(v.size):
        s += v[i]
    return s


@njit(cache=True, nogil=True)
def _box_fwd(x, ylo, yhi, xlo, xhi, div, y, p0, p1):
    """y[p, oy, ox] = (sum of the box of (oy, ox) in x[p], in float64, row by row) /
    div[oy, ox], for x (P, H, W), y (P, OH, OW); a box that is the whole plane (global
    pooling) is summed by :func:`_sum_plane`.  A 2x2 box (AvgPool2d(2), the common case)
    has its taps spelled out, in the same order: 3.7 -> 1.7 ms for (32, 64, 32, 32), one
    thread (the generic loops spend more on their bounds than on the four adds)."""
    _, h, w = x.shape
    oh, ow = y.shape[1:]
    for p in range(p0, p1):
        img = x[p]
        for oy in range(oh):
            y0 = ylo[oy]
            for ox in range(ow):
                x0 = xlo[ox]
                if yhi[oy] - y0 == 2 and xhi[ox] - x0 == 2:    # 2x2, taps spelled out
                    s = 0.0 + img[y0, x0]
                    s += img[y0, x0 + 1]
                    s += img[y0 + 1, x0]
                    s += img[y0 + 1, x0 + 1]
                elif yhi[oy] - y0 == h and xhi[ox] - x0 == w:
                    s = _sum_plane(img.reshape(h * w))
                else:
                    s = 0.0
                    for iy in range(ylo[oy], yhi[oy]):
                        for ix in range(xlo[ox], xhi[ox]):
                            s += img[iy, ix]
                y[p, oy, ox] = s / div[oy, ox]


@njit(cache=True, nogil=True)
def _box_bwd(gy, ylo, yhi, xlo, xhi, div, tiling, gx, p0, p1):
    """The adjoint of :func:`_box_fwd`: gx[p] = 0, then each box += gy / div (in float64,
    cast on every add) in output order.  Boxes that do not overlap (``tiling`` 1) are
    written, not added to (the same value: 0 + g), and when they also cover the plane
    (``tiling`` 2) the zeroing pass goes: one write per input cell instead of three."""
    _, h, w = gx.shape
    oh, ow = gy.shape[1:]
    zero = 0.0
    for p in range(p0, p1):
        plane = gx[p]
        if tiling < 2:
            plane[:, :] = 0
        for oy in range(oh):
            for ox in range(ow):
                g = gy[p, oy, ox] / div[oy, ox]
                y0, x0 = ylo[oy], xlo[ox]
                if tiling and yhi[oy] - y0 == 2 and xhi[ox] - x0 == 2:   # 2x2, spelled out
                    v = g + zero
                    plane[y0, x0] = v
                    plane[y0, x0 + 1] = v
                    plane[y0 + 1, x0] = v
                    plane[y0 + 1, x0 + 1] = v
                    continue
                if tiling and xhi[ox] - x0 == w:    # whole rows: one flat run
                    # (a slice, so the loop starts at 0: LLVM vectorizes it, 0.83 ->
                    # 0.41 ms for global pooling's backward)
                    run = plane.reshape(h * w)[y0 * w:yhi[oy] * w]
                    v = g + zero
                    for i in range(run.size):
                        run[i] = v
                    continue
                for iy in range(ylo[oy], yhi[oy]):
                    row = plane[iy]
                    if tiling:
                        v = g + zero
                        for ix in range(xlo[ox], xhi[ox]):
                            row[ix] = v
                    else:
                        seg = row[x0:xhi[ox]]
                        for ix in range(seg.size):
                            seg[ix] += g


@njit(inline="always")
def _merge(ba, aa, bb, ab):
    """The running (max, argmax) of two parts of one scan from their own results: a NaN
    wins (of two NaNs, the later one), else the larger value, else the earlier position;
    the same answer as :func:`_take` over the whole scan."""
    an, bn = ba != ba, bb != bb
    if an and bn:
        return (ba, aa) if aa > ab else (bb, ab)
    if an or bn:
        return (ba, aa) if an else (bb, ab)
    if bb > ba or (bb == ba and ab < aa):
        return bb, ab
    return ba, aa


@njit(cache=True, nogil=True)
def _bin_max_fwd(x, ylo, yhi, xlo, xhi, y, idx, p0, p1):
    """y, idx (P, OH, OW) = max and flat argmax of each box of x (P, H, W): the first
    maximum in scan order, a NaN over any number (the last NaN: :func:`_take`).

    Each step of :func:`_take` waits on the previous select (~5 cycles), so the box's
    even and odd rows run as two chains side by side and are merged at the end
    (:func:`_merge`): 7.5 -> 6.3 ms for (32, 64, 32, 32) -> 7x7 on one thread."""
    w = x.shape[2]
    oh, ow = y.shape[1:]
    for p in range(p0, p1):
        img = x[p]
        for oy in range(oh):
            y0, y1 = ylo[oy], yhi[oy]
            for ox in range(ow):
                x0, x1 = xlo[ox], xhi[ox]
                ba, aa = img[y0, x0], y0 * w + x0
                bb, ab = ba, aa
                for iy in range(y0, y1 - 1, 2):
                    ra, rb = img[iy], img[iy + 1]
                    for ix in range(x0, x1):
                        ba, aa = _take(ra[ix], ba, aa, iy * w + ix)
                        bb, ab = _take(rb[ix], bb, ab, iy * w + w + ix)
                if (y1 - y0) % 2:
                    iy = y1 - 1
                    for ix in range(x0, x1):
                        ba, aa = _take(img[iy, ix], ba, aa, iy * w + ix)
                y[p, oy, ox], idx[p, oy, ox] = _merge(ba, aa, bb, ab)


BOX_FORWARD, BOX_BACKWARD, BIN_MAX = 0, 1, 2


@njit(cache=True, nogil=True, parallel=True)
def box_parallel(op, a, ylo, yhi, xlo, xhi, div, tiling, out, idx, workers):
    """:func:`_box_fwd` (``BOX_FORWARD``; tiling, idx unused), :func:`_box_bwd`
    (``BOX_BACKWARD``, a = gy; idx unused) or :func:`_bin_max_fwd` (``BIN_MAX``; div,
    tiling unused), a contiguous range of planes per worker.  The kernels are in this file,
    so Numba's cache of this driver sees their changes."""
    n = a.shape[0]
    for t in prange(workers):
        p0, p1 = n * t // workers, n * (t + 1) // workers
        if op == BOX_FORWARD:
            _box_fwd(a, ylo, yhi, xlo, xhi, div, out, p0, p1)
        elif op == BOX_BACKWARD:
            _box_bwd(a, ylo, yhi, xlo, xhi, div, tiling, out, p0, p1)
        else:
            _bin_max_fwd(a, ylo, yhi, xlo, xhi, out, idx, p0, p1)


_BOX_SERIAL = (
    lambda a, box, div, tiling, out, idx, p0, p1: _box_fwd(a, *box, div, out, p0, p1),
    lambda a, box, div, tiling, out, idx, p0, p1: _box_bwd(a, *box, div, tiling, out, p0,
                                                           p1),
    lambda a, box, div, tiling, out, idx, p0, p1: _bin_max_fwd(a, *box, out, idx, p0, p1))


def _tiling(box, h, w):
    """2 if the boxes (ylo, yhi, xlo, xhi) tile the (h, w) plane, 1 if they only do not
    overlap, else 0 (:func:`_box_bwd`)."""
    ylo, yhi, xlo, xhi = box
    if np.any(yhi[:-1] > ylo[1:]) or np.any(xhi[:-1] > xlo[1:]):
        return 0
    covers = (ylo[0] == 0 and yhi[-1] == h and np.all(yhi[:-1] == ylo[1:])
              and xlo[0] == 0 and xhi[-1] == w and np.all(xhi[:-1] == xlo[1:]))
    return 2 if covers else 1


def _box_run(op, a, box, div, out, idx):
    """The box kernel ``op`` over the planes of a (P, ., .) into out (and idx), split over
    minicv's threads by :func:`_split`'s rule; box = (ylo, yhi, xlo, xhi)."""
    serial = _BOX_SERIAL[op]
    tiling = _tiling(box, *out.shape[1:]) if op == BOX_BACKWARD else 0
    _split(lambda p0, p1: serial(a, box, div, tiling, out, idx, p0, p1), a.shape[0],
           a.nbytes + out.nbytes + idx.nbytes,
           lambda workers: box_parallel(op, a, *box, div, tiling, out, idx, workers))


_NO_IDX = np.zeros((0, 0, 0), np.int64)


def _split(task, n, nbytes, native):
    """``task(i0, i1)`` over the threads of ``conv_algo.run_split`` (``native(workers)``,
    the same split by a driver of ``cpu/parallel.py``, where that runs) if the call touches
    at least :data:`SPLIT_MIN_BYTES` (:data:`NATIVE_SPLIT_MIN_BYTES` on the native team),
    else ``task(0, n)`` on this thread."""
    from ..conv_algo import _native, _workers, run_split  # conv_algo imports this module
    if nbytes >= SPLIT_MIN_BYTES or (nbytes >= NATIVE_SPLIT_MIN_BYTES
                                     and _native(_workers())):
        run_split(task, n, nbytes, native=native)
    else:
        task(0, n)


def _parallel():
    from . import parallel  # imports this module
    return parallel


# Pooling is split over threads only from this many bytes touched (input, output and
# indices).  Handing work to the second thread costs 25-75 us; measured in LeNet-5's step
# (64x6x28x28, 2.1 MB forward, 1.9 MB backward) one thread was as fast for the forward
# pass and faster for the backward one (0.09 vs 0.15 ms).
SPLIT_MIN_BYTES = 4 << 20
# On Numba's native team (a hand-off of ~3 us) from this many: LeNet-5's pooling layers
# (1.8 and 0.5 MB) fwd+bwd 0.90 -> 0.74 ms a step.
NATIVE_SPLIT_MIN_BYTES = 1 << 18


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Numba max pooling: (N, C, H, W) -> y (N, C, OH, OW), flat int64 indices into H*W."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, d, out = pool_geometry(h, w, kernel_size, stride, padding, dilation, ceil_mode)
    y = buffers.empty((n, c) + out, x.dtype)
    idx = np.empty((n, c) + out, dtype=np.int64)
    args = (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
    # memory-bound: the samples are split over minicv's threads (disjoint outputs)
    _split(lambda i0, i1: _max_fwd(x[i0:i1], *args, y[i0:i1], idx[i0:i1]), n,
           x.nbytes + y.nbytes + idx.nbytes,
           lambda workers: _parallel().max_pool2d(x, *args, y, idx, workers))
    return y, idx


def max_pool_backward(gy, indices, x_shape):
    """Scatter-add ``gy`` to the argmax positions; works for 1-D, 2-D and 3-D pooling."""
    n, c = x_shape[:2]
    gy2 = np.ascontiguousarray(gy).reshape(n * c, -1)
    idx2 = np.ascontiguousarray(indices).reshape(n * c, -1)
    gx = buffers.empty((n * c, int(np.prod(x_shape[2:]))), gy2.dtype)   # (N*C, H*W)
    _split(lambda i0, i1: _scatter_bwd(gy2[i0:i1], idx2[i0:i1], gx[i0:i1]), n * c,
           gx.nbytes + gy2.nbytes + idx2.nbytes,
           lambda workers: _parallel().max_pool_backward(gy2, idx2, gx, workers))
    return gx.reshape(x_shape)


def max_pool2d_backward(gy, indices, x_shape):
    """Numba backward of :func:`max_pool2d` (same as the reference)."""
    return max_pool_backward(gy, indices, x_shape)


def _window_box(size, k, s, p, out):
    """[lo, hi) per output along one axis: the windows [o*s - p, o*s - p + k) clipped to
    the image [0, size) (``int64`` arrays of ``out``)."""
    start = np.arange(out, dtype=np.int64) * s - p
    return np.maximum(start, 0), np.minimum(start + k, size)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Numba average pooling with PyTorch's divisor rule: (N, C, H, W) -> (N, C, OH, OW)."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor_grid(x.shape, k, s, p, out, count_include_pad, divisor_override)
    box = _window_box(h, k[0], s[0], p[0], out[0]) + _window_box(w, k[1], s[1], p[1], out[1])
    y = buffers.empty((n, c) + out, x.dtype)
    _box_run(BOX_FORWARD, x.reshape(n * c, h, w), box, div, y.reshape((n * c,) + out),
             _NO_IDX)
    return y


def avg_pool2d_backward(gy, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Numba backward of :func:`avg_pool2d`."""
    gy = np.ascontiguousarray(gy)
    n, c, h, w = x_shape
    k, s, p, _, out = pool_geometry(h, w, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor_grid(x_shape, k, s, p, out, count_include_pad, divisor_override)
    box = _window_box(h, k[0], s[0], p[0], out[0]) + _window_box(w, k[1], s[1], p[1], out[1])
    gx = buffers.empty(tuple(x_shape), gy.dtype)
    _box_run(BOX_BACKWARD, gy.reshape((n * c,) + out), box, div, gx.reshape(n * c, h, w),
             _NO_IDX)
    return gx


# ------------------------------------------------------------------------ adaptive pooling

def adaptive_ok(x):
    """Whether the adaptive kernels below apply: a non-empty NumPy float32/float64
    (N, C, H, W) array (others keep ``kernels_for``'s path)."""
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.ndim == 4
            and x.size > 0)


def _adaptive_box(h, w, out):
    """PyTorch's adaptive bins as a box (``reference.adaptive_bins``) and their areas."""
    hs, he = adaptive_bins(h, out[0])
    ws, we = adaptive_bins(w, out[1])
    box = tuple(v.astype(np.int64) for v in (hs, he, ws, we))
    return box, ((he - hs)[:, None] * (we - ws)[None, :]).astype(np.float64)   # (OH, OW)


def adaptive_avg_pool2d(x, output_size):
    """Average over PyTorch's adaptive bins, (N, C, H, W) -> (N, C, OH, OW), summed in
    float64 (an output of 1 is global pooling: one sum of each plane)."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    box, area = _adaptive_box(h, w, output_size)
    y = buffers.empty((n, c) + tuple(output_size), x.dtype)
    _box_run(BOX_FORWARD, x.reshape(n * c, h, w), box, area, y.reshape((n * c,) + y.shape[2:]),
             _NO_IDX)
    return y


def adaptive_avg_pool2d_backward(gy, x_shape):
    """Each bin of the input gradient += gy / (bin area), bins in output order."""
    gy = np.ascontiguousarray(gy)
    n, c, h, w = x_shape
    box, area = _adaptive_box(h, w, gy.shape[2:])
    gx = buffers.empty(tuple(x_shape), gy.dtype)
    _box_run(BOX_BACKWARD, gy.reshape((n * c,) + gy.shape[2:]), box, area,
             gx.reshape(n * c, h, w), _NO_IDX)
    return gx


def adaptive_max_pool2d(x, output_size):
    """Max over PyTorch's adaptive bins: (y, flat int64 indices into H*W); the backward is
    :func:`max_pool_backward`."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    box, _ = _adaptive_box(h, w, output_size)
    y = buffers.empty((n, c) + tuple(output_size), x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    _box_run(BIN_MAX, x.reshape(n * c, h, w), box, _NO_DIV, y.reshape((n * c,) + y.shape[2:]),
             idx.reshape((n * c,) + y.shape[2:]))
    return y, idx


_NO_DIV = np.zeros((0, 0))
