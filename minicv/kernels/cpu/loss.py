"""Cross-entropy with class-index targets, the pointwise regression losses and
binary_cross_entropy_with_logits, for NumPy float32/float64 arrays.

**Cross-entropy.**  The NumPy code of ``ops/loss.py`` expresses every variant as a
coefficient array ``a`` of the logits' shape (a scatter of w[y] into zeros, plus the
smoothing term) and then makes several full passes with it: ``a·logp`` and its sum in the
forward pass, ``a.sum``, ``exp``, a multiply and a subtract in the backward pass.  For
(64, 21, 64, 64) float32 logits that was ~25 ms of the 41 ms of a forward + backward.
Here ``a`` is never built: with t the target, wy = w[t] (0 where ignored), keep = 1 or 0
(ignored), s_c = (ε/C)·w_c the smoothing coefficients and q = 1 - ε,

    a_c = [c = t]·q·wy + keep·s_c,     Σa = q·wy + keep·Σ s     (Σa = wy without ε)

and the log-softmax is never written either: ``cpu/softmax.py``'s SHIFT step gives
y = z - max, :func:`ce_span` ``CE_GATHER`` reads y_t (and Σ_c s_c·y_c with smoothing),
NumPy's vectorised ``exp`` (Numba's is scalar here) turns y into e = exp(y) in place,
and ``CE_LOSS`` sums e per position (σ), so that, with log p = y - log σ,

    loss = -(q·wy·(y_t - log σ) + keep·Σ_c s_c·(y_c - log σ))      (terms with a_c ≠ 0)
    dz_c = g·(Σa·e_c/σ - a_c)                                      (``CE_GRAD``, one pass)

This saves the log-softmax's last pass and the backward's ``exp`` pass.  Values agree
with the NumPy path to a few ulp (e/σ for exp(log p), sums in another order).

**Pointwise losses** (mse, l1, smooth_l1, huber of d = x - t): :func:`pointwise_span`
makes one pass that writes ℓ'(d) (kept for backward) and either ℓ(d) ('none') or the
float64 partial sums of ℓ over fixed blocks of :data:`BLOCK` elements ('mean'/'sum'; the
caller adds the blocks in order), where NumPy made ~8 passes and masks (smooth_l1's two
``np.where`` on a random mask alone ~20 ms for 2M float32 elements).  The formulas and
their roundings are those of ``ops/loss._pointwise``; only the sum differs (float64
blocks added in order vs NumPy's float32 pairwise sum, which is less accurate).

**binary_cross_entropy_with_logits**: softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) by
one-pass kernels around NumPy's vectorised ``exp`` and ``log1p`` (:func:`bce_span`), where
``np.logaddexp`` alone took ~50 ms for 2M float32 values; backward takes σ(-x) from the
kept exp(-|x|) in one pass instead of a ``tanh``.  Values agree to a few ulp.

Measured forward + backward, float32, one thread each, minicv before -> after (PyTorch):
cross_entropy (512, 1000) 3.0 -> 1.3 ms (1.1), (64, 21, 64, 64) 50 -> 22 (30), with label
smoothing 3.7 -> 1.4 (1.5); on (32, 64, 32, 32): mse 7.6 -> 5.4 (6.2), l1 8.8 -> 5.5
(9.1), smooth_l1 34 -> 5.5 (6.0), huber 34 -> 5.4 (5.4), bce_with_logits 64 -> 14 (12).

Work is split over the batch index (cross-entropy) or the blocks (pointwise) by
``activation.split_by_size`` (the native team, Python threads or this thread, by size);
every output is computed by one thread in a fixed order, so results do not depend on the
thread count.
The serial kernels and their parallel drivers live together here, so Numba's cache sees
every change.  Cold compile (empty cache, a loaded 2-core machine), per dtype: ~3 s for
cross-entropy, ~4.5 s for the pointwise losses, ~2 s for bce_with_logits.
"""
import numpy as np
from numba import njit, prange

from .activation import NATIVE_MIN_SIZE, split_by_size

CE_GATHER, CE_LOSS, CE_GRAD = 0, 1, 2
YT, SY, SIGMA, LOSS = 0, 1, 2, 3            # rows of cross-entropy's per-position array
MSE, L1, SMOOTH_L1, HUBER = 0, 1, 2, 3
BCE_ABS, BCE_LOSS, BCE_GRAD = 0, 1, 2
KINDS = {"mse": MSE, "l1": L1, "smooth_l1": SMOOTH_L1, "huber": HUBER}

# Smaller arrays keep the NumPy code of ``ops/loss.py`` (no Numba import).
MIN_SIZE = 1 << 12
BLOCK = 1 << 13             # elements per partial sum of the pointwise losses
_NO_PARTS = np.empty(0)     # (no partial sums wanted)


@njit(nogil=True, fastmath={"reassoc"})
def _row_dot(y, n, smooth):
    """Σ_k y[n, k, 0] (``smooth`` empty) or Σ_k smooth_k·y[n, k, 0] over smooth_k ≠ 0,
    vectorised (lanes in a fixed order: a chain of adds in class order waits ~4 cycles an
    element)."""
    acc = y.dtype.type(0)
    if smooth.size == 0:
        for k in range(y.shape[1]):
            acc += y[n, k, 0]
        return acc
    for k in range(y.shape[1]):
        acc += smooth[k] * y[n, k, 0] if smooth[k] != 0 else y.dtype.type(0)
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def ce_span(op, y, gz, t, wy, keep, smooth, ssum, q, pos, n0, n1):
    """One step of the module docstring over the batch range [n0, n1).

    y (N, C, S): z - max (``CE_GATHER``), then e = exp of it (``CE_LOSS``, ``CE_GRAD``);
    gz (N, C, S): dz (``CE_GRAD``); t, wy, keep (N, S): the target (0 where ignored),
    w[t] (0 where ignored), 1/0 for kept/ignored; smooth (C,) and ssum = Σ smooth (no
    label smoothing: ``smooth`` empty, q = 1); pos (4, N, S) per-position values:
    YT = y_t, SY = Σ_c s_c·y_c (s_c ≠ 0), SIGMA = Σ_c e_c, LOSS (YT holds the output
    gradient g in ``CE_GRAD``).  S = 1 walks rows of C, else C planes of S columns
    without transposing.
    """
    _, c, s = y.shape
    ls = smooth.size > 0
    zero = y.dtype.type(0)
    for n in range(n0, n1):
        if op == CE_GATHER:
            for j in range(s):
                pos[YT, n, j] = y[n, t[n, j], j]
            if ls and s == 1:
                pos[SY, n, 0] = _row_dot(y, n, smooth)
            elif ls:
                pos[SY, n, :] = 0
                for k in range(c):
                    for j in range(s):
                        pos[SY, n, j] += smooth[k] * y[n, k, j] if smooth[k] != 0 else zero
        elif op == CE_LOSS:
            if s == 1:
                pos[SIGMA, n, 0] = _row_dot(y, n, smooth[:0])
            else:
                pos[SIGMA, n, :] = 0
                for k in range(c):
                    for j in range(s):
                        pos[SIGMA, n, j] += y[n, k, j]
            for j in range(s):
                lse = np.log(pos[SIGMA, n, j])
                a = q * wy[n, j]
                v = a * (pos[YT, n, j] - lse) if a != 0 else zero
                if ls and keep[n, j] != 0:
                    v += pos[SY, n, j] - lse * ssum
                pos[LOSS, n, j] = -v
        elif s == 1:
            sigma, g, kn = pos[SIGMA, n, 0], pos[YT, n, 0], keep[n, 0]
            suma = q * wy[n, 0] + kn * ssum if ls else wy[n, 0]
            for k in range(c):
                sk = kn * smooth[k] if ls else zero
                gz[n, k, 0] = g * (suma * (y[n, k, 0] / sigma) - sk)
        else:
            for k in range(c):
                for j in range(s):
                    suma = q * wy[n, j] + keep[n, j] * ssum if ls else wy[n, j]
                    sk = keep[n, j] * smooth[k] if ls else zero
                    gz[n, k, j] = pos[YT, n, j] * (suma * (y[n, k, j] / pos[SIGMA, n, j]) - sk)
        if op == CE_GRAD:
            for j in range(s):                              # the target entries
                g, tj = pos[YT, n, j], t[n, j]
                suma = q * wy[n, j] + keep[n, j] * ssum if ls else wy[n, j]
                a = q * wy[n, j] + keep[n, j] * smooth[tj] if ls else wy[n, j]
                gz[n, tj, j] = g * (suma * (y[n, tj, j] / pos[SIGMA, n, j]) - a)


@njit(cache=True, nogil=True, parallel=True)
def ce_run(op, y, gz, t, wy, keep, smooth, ssum, q, pos, workers):
    """:func:`ce_span` over the whole batch, one contiguous part per worker."""
    n = y.shape[0]
    for w in prange(workers):
        ce_span(op, y, gz, t, wy, keep, smooth, ssum, q, pos, n * w // workers,
                n * (w + 1) // workers)


@njit(inline="always")
def _ell(kind, d, p, h):
    """(ℓ(d), ℓ'(d)) for one element: both pieces computed, then selected (a branch on a
    random |d| < p mispredicts half the time: ~8x slower for 2M float32 elements)."""
    one, half = type(d)(1), type(d)(0.5)
    ad = abs(d)
    if kind == MSE:
        return d * d, d + d
    pos, neg = one if d > 0 else type(d)(0), one if d < 0 else type(d)(0)
    if kind == L1 or p == 0:
        return ad, pos - neg                            # 0 at 0 and NaN
    small = ad < p                                      # false for NaN: NaN loss, slope
    sg = pos - neg if d == d else d                     # np.sign off the kink
    if kind == SMOOTH_L1:
        return (half * d * d / p if small else ad - h), (d / p if small else sg)
    return (half * d * d if small else p * (ad - h)), (d if small else p * sg)


@njit(inline="always")
def _pieces(kind, x, t, p, h, out, dl, i0, i1, o):
    """dl[i] = ℓ'(x[i] - t[i]) and out[i - o] = ℓ for i in [i0, i1); ``kind`` a constant
    here, so that each loop is compiled for one loss and vectorised."""
    for i in range(i0, i1):
        v, s = _ell(kind, x[i] - t[i], p, h)
        dl[i] = s
        out[i - o] = v


@njit(inline="always")
def _kind_pieces(kind, x, t, p, h, out, dl, i0, i1, o):
    """:func:`_pieces` with the constant ``kind`` of the run-time one."""
    if kind == MSE:
        _pieces(MSE, x, t, p, h, out, dl, i0, i1, o)
    elif kind == L1:
        _pieces(L1, x, t, p, h, out, dl, i0, i1, o)
    elif kind == SMOOTH_L1:
        _pieces(SMOOTH_L1, x, t, p, h, out, dl, i0, i1, o)
    else:
        _pieces(HUBER, x, t, p, h, out, dl, i0, i1, o)


@njit(nogil=True, fastmath={"reassoc"})
def _sum64(a, n):
    """Σ a[:n] in float64, vectorised (lanes in a fixed order)."""
    acc = 0.0
    for i in range(n):
        acc += a[i]
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def pointwise_span(kind, x, t, p, h, loss, part, dl, b0, b1):
    """ℓ(d) and ℓ'(d) of d = x - t (flat arrays) over the blocks [b0, b1) of :data:`BLOCK`
    elements: dl = ℓ'(d); loss = ℓ(d) when it has x's size (reduction 'none'), else
    part[b] = Σ ℓ over block b in float64 (one signature for both: one compile).
    p: smooth_l1's β or huber's δ (in x's dtype), h = 0.5·p (rounded from float64, as
    NumPy rounds ``0.5 * param``).  As ``ops/loss._pointwise``: |d| < p picks the
    quadratic piece (false for NaN: NaN loss, np.sign's NaN slope); l1 (and smooth_l1
    with β = 0) has slope (d > 0) - (d < 0), 0 at 0 and NaN; mse's slope 2d is d + d."""
    full = loss.size == x.size
    buf = np.empty(0 if full else BLOCK, x.dtype)
    for b in range(b0, b1):
        i0, i1 = b * BLOCK, min((b + 1) * BLOCK, x.size)
        if full:
            _kind_pieces(kind, x, t, p, h, loss, dl, i0, i1, 0)
        else:
            _kind_pieces(kind, x, t, p, h, buf, dl, i0, i1, i0)
            part[b] = _sum64(buf, i1 - i0)


@njit(cache=True, nogil=True, parallel=True)
def pointwise_run(kind, x, t, p, h, loss, part, dl, workers):
    """:func:`pointwise_span` over all blocks, one contiguous range of blocks per worker."""
    nb = (x.size + BLOCK - 1) // BLOCK
    for w in prange(workers):
        pointwise_span(kind, x, t, p, h, loss, part, dl, nb * w // workers,
                       nb * (w + 1) // workers)


@njit(inline="always")
def _bce_loss(x, t, lw, sp, out, i0, i1, o):
    """sp[i] = softplus(-x) = max(-x, 0) + sp[i] (sp: log1p(exp(-|x|)) on entry) and
    out[i - o] = (1 - t)·x + lw·sp for i in [i0, i1) (lw = 1 where ``lw`` is empty)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for i in range(i0, i1):
        xi = x[i]
        s = (-xi if -xi > zero else zero) + sp[i]
        sp[i] = s
        out[i - o] = (one - t[i]) * xi + (lw[i] if lw.size else one) * s


@njit(cache=True, nogil=True, error_model="numpy")
def bce_span(op, x, t, lw, e, sp, g, out, part, b0, b1):
    """binary_cross_entropy_with_logits over the blocks [b0, b1) of :data:`BLOCK` elements
    (flat arrays; NumPy's vectorised exp and log1p run between the steps):

    BCE_ABS:  e = -|x|                                     (then e = exp(e), sp = log1p(e))
    BCE_LOSS: sp = max(-x, 0) + sp = softplus(-x); out = (1 - t)·x + lw·sp, or, when out
              is empty, part[b] = Σ of that over block b in float64
    BCE_GRAD: out = g·((1 - t) - lw·σ(-x)), σ(-x) = e/(1 + e) for x > 0 else 1/(1 + e)

    lw: (pw - 1)·t + 1 with pos_weight, else empty (1); g: one value or x's size.
    """
    one = x.dtype.type(1)
    buf = np.empty(BLOCK if op == BCE_LOSS and out.size == 0 else 0, x.dtype)
    for b in range(b0, b1):
        i0, i1 = b * BLOCK, min((b + 1) * BLOCK, x.size)
        if op == BCE_ABS:
            for i in range(i0, i1):
                e[i] = -abs(x[i])
        elif op == BCE_LOSS and buf.size:
            _bce_loss(x, t, lw, sp, buf, i0, i1, i0)
            part[b] = _sum64(buf, i1 - i0)
        elif op == BCE_LOSS:
            _bce_loss(x, t, lw, sp, out, i0, i1, 0)
        else:
            for i in range(i0, i1):
                ei = e[i]
                sig = (ei if x[i] > 0 else one) / (one + ei)
                gi = g[i] if g.size > 1 else g[0]
                out[i] = gi * ((one - t[i]) - (lw[i] if lw.size else one) * sig)


@njit(cache=True, nogil=True, parallel=True)
def bce_run(op, x, t, lw, e, sp, g, out, part, workers):
    """:func:`bce_span` over all blocks, one contiguous range of blocks per worker."""
    nb = (x.size + BLOCK - 1) // BLOCK
    for w in prange(workers):
        bce_span(op, x, t, lw, e, sp, g, out, part, nb * w // workers,
                 nb * (w + 1) // workers)


def fast_ok(*arrays):
    """Whether this module applies: NumPy float32/float64 arrays of one shape and dtype,
    C-contiguous, with at least :data:`MIN_SIZE` elements."""
    a = arrays[0]
    return (type(a) is np.ndarray and a.size >= MIN_SIZE
            and all(type(b) is np.ndarray for b in arrays)
            and a.dtype in (np.float32, np.float64)
            and all(b.shape == a.shape and b.dtype == a.dtype and b.flags.c_contiguous
                    for b in arrays))


def _ce(op, y, gz, parts, pos):
    t, wy, keep, smooth, q = parts
    ssum = smooth.sum() if smooth.size else y.dtype.type(0)
    args = (op, y, gz, t, wy, keep, smooth, ssum, y.dtype.type(q), pos)
    size = t.size if op == CE_GATHER and not smooth.size else y.size
    split_by_size(y.shape[0], size, lambda n0, n1: ce_span(*args, n0, n1),
                  lambda workers: ce_run(*args, workers))


def ce_forward(z, parts):
    """(loss (N, S), e (N, C, S), pos (4, N, S)) of logits z (N, C, ...) (NumPy
    float32/float64, C-contiguous) and ``parts`` = (t, wy, keep, smooth, q) of
    :func:`ce_span`; e and pos are what :func:`ce_grad` needs."""
    from . import buffers
    from .softmax import SHIFT, _step
    n, c = z.shape[:2]
    e = buffers.empty((n, c, z.size // (n * c)), z.dtype)
    _step(SHIFT, z, z, z, e.reshape(z.shape), 1)              # y = z - max
    pos = np.empty((4,) + parts[0].shape, z.dtype)
    _ce(CE_GATHER, e, e, parts, pos)
    _ufunc(np.exp, e.reshape(-1), e.reshape(-1))
    _ce(CE_LOSS, e, e, parts, pos)
    return pos[LOSS], e, pos


def ce_grad(e, pos, parts, g):
    """dz (N, C, S) of :func:`ce_forward` for the output gradient g (N, S)."""
    from . import buffers
    gz = buffers.empty_like(e)
    pos = pos.copy()                  # (kept intact for another backward)
    pos[YT] = g
    _ce(CE_GRAD, e, gz, parts, pos)
    return gz


def pointwise(kind, x, t, param, reduce):
    """(ℓ, ℓ') of d = x - t for arrays accepted together by :func:`fast_ok`; ℓ is the sum
    (a float64 scalar) when ``reduce``, else an array of x's shape."""
    from . import buffers
    xf, tf = x.reshape(-1), t.reshape(-1)
    nb = (xf.size + BLOCK - 1) // BLOCK
    dl = buffers.empty_like(x)
    loss = np.empty(0, x.dtype) if reduce else buffers.empty_like(x)
    part = np.empty(nb if reduce else 0, np.float64)
    p = x.dtype.type(0 if param is None else param)
    h = x.dtype.type(0.5 * (0 if param is None else param))
    args = (KINDS[kind], xf, tf, p, h, loss.reshape(-1), part, dl.reshape(-1))
    split_by_size(nb, xf.size, lambda b0, b1: pointwise_span(*args, b0, b1),
                  lambda workers: pointwise_run(*args, workers))
    return (part.sum() if reduce else loss), dl


def _blocks(size, serial, parallel):
    """``activation.split_by_size`` over the :data:`BLOCK`-element blocks of ``size``
    elements."""
    split_by_size((size + BLOCK - 1) // BLOCK, size, serial, parallel)


def _bce(op, x, t, lw, e, sp, g, out, part=_NO_PARTS):
    args = (op, x, t, lw, e, sp, g, out, part)
    _blocks(x.size, lambda b0, b1: bce_span(*args, b0, b1),
            lambda workers: bce_run(*args, workers))


def _ufunc(f, out, *args):
    """``f(*args, out=out)`` over flat arrays (or 0-d operands): NumPy's vectorised loop
    (Numba's exp and log1p are scalar here: 7.5 and 20 vs 1.0 ms for 2M float32 values),
    cut over Python threads from ``NATIVE_MIN_SIZE`` elements (ufuncs release the GIL)."""
    from ..conv_algo import run_split

    def task(b0, b1):
        part = slice(b0 * BLOCK, b1 * BLOCK)
        f(*(a[part] if a.ndim else a for a in args), out=out[part])
    nb = (out.size + BLOCK - 1) // BLOCK
    if out.size >= NATIVE_MIN_SIZE:
        run_split(task, nb)
    else:
        task(0, nb)


def scaled(a, g):
    """a·g (a C-contiguous, g of a's shape or 0-d) into a recycled buffer, on threads."""
    from . import buffers
    out = buffers.empty_like(a)
    g = np.asarray(g)
    _ufunc(np.multiply, out.reshape(-1), a.reshape(-1), g.reshape(-1) if g.ndim else g)
    return out


def bce_with_logits(x, t, lw, reduce):
    """(loss, e = exp(-|x|), sp = softplus(-x)) of binary_cross_entropy_with_logits for
    arrays accepted together by :func:`fast_ok` (``lw`` too, or None); the loss is a
    float64 sum when ``reduce``, else an array of x's shape."""
    from . import buffers
    xf, tf = x.reshape(-1), t.reshape(-1)
    lwf = np.empty(0, x.dtype) if lw is None else lw.reshape(-1)
    e, sp = buffers.empty_like(xf), buffers.empty_like(xf)
    nb = (xf.size + BLOCK - 1) // BLOCK
    loss = np.empty(0, x.dtype) if reduce else buffers.empty_like(xf)
    part = np.empty(nb if reduce else 0, np.float64)
    _bce(BCE_ABS, xf, tf, lwf, e, sp, e, e)
    _ufunc(np.exp, e, e)
    _ufunc(np.log1p, sp, e)
    _bce(BCE_LOSS, xf, tf, lwf, e, sp, e, loss, part)
    return (part.sum() if reduce else loss.reshape(x.shape)), e, sp


def bce_with_logits_grad(x, t, lw, e, g):
    """dx of :func:`bce_with_logits` for the output gradient g (x's shape or one value)."""
    from . import buffers
    xf, tf = x.reshape(-1), t.reshape(-1)
    lwf = np.empty(0, x.dtype) if lw is None else lw.reshape(-1)
    g = np.array(g, dtype=x.dtype).reshape(-1)                    # writable: one type
    gx = buffers.empty_like(xf)
    _bce(BCE_GRAD, xf, tf, lwf, e, e, g, gx)
    return gx.reshape(x.shape)
