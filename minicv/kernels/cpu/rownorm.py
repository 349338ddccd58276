"""Row-normalisation kernels for LayerNorm, GroupNorm and InstanceNorm (NumPy arrays).

All three normalise the rows of a C-contiguous (R, M) view of the input (reference.md §9):

    layer_norm    (*, normalized) -> (R, M), R = prod(*), M = prod(normalized);  G = 1, S = 1
    group_norm    (N, C, *sp)     -> (N·G, C/G·S) with S = prod(sp): row (n, g) holds the
                  K = C/G channels of group g, S values each;  instance_norm: G = C, K = 1

and apply one affine parameter per *channel* c = (r mod G)·K + j // S of a row (LayerNorm:
one per element, c = j, as K = M and S = 1):

    forward:   μ, σ² = mean, biased variance of the row (float64, one shifted pass, as
               BatchNorm's ``norm._stats``), rstd = 1/√(σ² + ε),
               y = (x - μ)·rstd·γ_c + β_c
    backward:  with g = dy·γ_c and x̂ = (x - μ)·rstd, per row
               dx = rstd·(g - mean(g) - x̂·mean(g·x̂)),
               dγ_c += Σ dy·x̂, dβ_c += Σ dy over the row's values of channel c.

Why faster than NumPy's ``AffineNorm``: NumPy spends a dozen passes over the activations
per step (mean, centring, square, mean, x̂, scale, shift; then g, two means, the
combination, dy·x̂ and two axis sums for dγ, dβ), each with a temporary of the input's
size; here each direction reads the input once from memory (a row's second pass reads it
from L1/L2), and x̂ is recomputed in backward instead of being stored.

Order-stable sums: a row's statistics are summed by one thread, left to right, in
float64.  dγ and dβ are sums over rows: each row adds its part to one row of the float64
partial arrays ``pgam``, ``pbet`` (P, G·K), its *slot* (n // per, with n = r // G the
sample), and the caller sums the P slots in order.  Workers take whole slots (a slot's
rows in row order), so the results do not depend on the thread count.  ``per`` is chosen
from the shape alone (:func:`slot_rows`).

``rows`` is the serial kernel over the slots [s0, s1) (``run_split``'s Python threads
call it, ``nogil``); ``rows_parallel`` is the same split on Numba's native team
(``cpu/parallel.py``'s pattern), kept in this file so that Numba's cache, which keys on
one file, sees every kernel it inlines.
"""
import numpy as np
from numba import njit, prange

from ._config import FASTMATH

FORWARD, BACKWARD = 0, 1

# Float64 values per partial array (dγ, dβ): 512 KiB.  Zeroing and summing them costs
# ~0.1 ms; with 2 MiB it was 0.4 ms of a 3.3 ms LayerNorm(256) step on (32, 128, 256).
# GroupNorm's (N, C) sums fit easily; long LayerNorm rows (few samples, many parameters)
# still get MIN_SLOTS slots, so that threads have work to share.
PARTIAL_LIMIT = 1 << 16
MIN_SLOTS = 4


def slot_rows(samples, params):
    """Samples per slot: the (P, params) float64 partials within :data:`PARTIAL_LIMIT`
    values unless that leaves fewer than :data:`MIN_SLOTS` slots; a function of the
    shape alone (never of the thread count), so the sums do not depend on it."""
    per = max(1, -(-samples * params // PARTIAL_LIMIT))
    return max(1, min(per, samples // MIN_SLOTS))


@njit(inline="always")
def _row_stats(row):
    """(mean, biased variance) of a 1-D row in float64, one pass, shifted by the row's
    first value K: σ² = mean((x-K)²) - mean(x-K)² (cancellation only grows with
    |μ - K|/σ, O(1) for real data; see ``norm._stats``)."""
    m = row.size
    pivot = np.float64(row[0])
    s = 0.0
    ss = 0.0
    for j in range(m):
        d = row[j] - pivot
        s += d
        ss += d * d
    mu = s / m
    return pivot + mu, max(ss / m - mu * mu, 0.0)


@njit(inline="always")
def _forward_row(xr, gamma, beta, s, eps, r, mean, var, yr):
    """Statistics of row ``r`` into mean[r], var[r]; yr = (xr - μ)·rstd·γ + β (gamma,
    beta: the row's entries onwards)."""
    mu, v = _row_stats(xr)
    rs = 1.0 / np.sqrt(v + eps)
    mean[r] = mu
    var[r] = v
    t = xr.dtype.type
    if s == 1:                     # one γ per element: y = (x - μ)·rstd·γ + β
        a = t(rs)
        mut = t(mu)                # x - μ is exact near μ: constant rows give exactly β
        for j in range(xr.size):
            yr[j] = (xr[j] - mut) * a * gamma[j] + beta[j]
    else:                          # one γ per channel of S values: y = x·a_c + b_c
        for kk in range(xr.size // s):
            a64 = gamma[kk] * rs
            a = t(a64)
            b = t(beta[kk] - mu * a64)
            xc, yc = xr[kk * s:(kk + 1) * s], yr[kk * s:(kk + 1) * s]   # (S,) each
            for q in range(s):
                yc[q] = xc[q] * a + b


@njit(inline="always")
def _backward_row(dyr, xr, gamma, s, mu, rs, pg, pb, dxr):
    """Adds the row's Σdy·x̂, Σdy per channel to pg, pb (its slot's partials, from the
    row's first entry on, as gamma) and, when dxr.size, writes the row's
    dx = rstd·(g - mean(g) - x̂·mean(g·x̂)).

    The sums run in float64; dx is k_c·dy - ka - kb·(x - μ) with k_c = rstd·γ_c,
    ka = rstd·Σg/M, kb = rstd³·Σ(g·(x-μ))/M formed in float64 and rounded to the input's
    dtype, so the writing loop runs at the full SIMD width (as ``norm.backward_dx``)."""
    m = xr.size
    sg = 0.0                       # Σ g
    sgx = 0.0                      # Σ g·(x - μ)
    if s == 1:
        for j in range(m):
            d = np.float64(dyr[j])
            dxc = d * (xr[j] - mu)
            pb[j] += d
            pg[j] += dxc * rs
            sg += gamma[j] * d
            sgx += gamma[j] * dxc
    else:
        for kk in range(m // s):
            a1 = 0.0
            a2 = 0.0
            dc, xc = dyr[kk * s:(kk + 1) * s], xr[kk * s:(kk + 1) * s]
            for q in range(s):
                d = np.float64(dc[q])
                a1 += d
                a2 += d * (xc[q] - mu)
            pb[kk] += a1
            pg[kk] += a2 * rs
            sg += gamma[kk] * a1
            sgx += gamma[kk] * a2
    if dxr.size == 0:
        return
    t = xr.dtype.type
    ka = t(rs * sg / m)
    kb = t(rs * rs * rs * sgx / m)
    mut = t(mu)
    if s == 1:
        r32 = t(rs)
        for j in range(m):
            dxr[j] = r32 * gamma[j] * dyr[j] - ka - kb * (xr[j] - mut)
    else:
        for kk in range(m // s):
            kc = t(rs * gamma[kk])
            lo, hi = kk * s, (kk + 1) * s
            dc, xc, oc = dyr[lo:hi], xr[lo:hi], dxr[lo:hi]
            for q in range(s):
                oc[q] = kc * dc[q] - ka - kb * (xc[q] - mut)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def rows(op, x, dy, gamma, beta, g, s, eps, per, mean, rstd, pgam, pbet, out, s0, s1):
    """``op`` (FORWARD or BACKWARD) over the rows of the slots [s0, s1).

    x, dy, out: (R, M) C-contiguous, one dtype; gamma, beta: (G·K,) in x's dtype (ones and
    zeros without affine); g: groups per sample (rows of one sample); s: values per
    channel; per: samples per slot; mean, rstd: (R,) float64 (FORWARD writes the mean and
    the biased variance there, BACKWARD reads the mean and 1/√(σ² + ε)); pgam, pbet:
    (P, G·K) float64 partials, zeroed by the caller (BACKWARD); out: y (FORWARD) or dx
    (BACKWARD; (R, 0) for the parameter gradients only).
    """
    nrows = x.shape[0]
    k = x.shape[1] // s
    r0 = min(s0 * per * g, nrows)
    r1 = min(s1 * per * g, nrows)
    for r in range(r0, r1):
        # The row's parameters as slices starting at its first: a runtime offset inside
        # the element loops would cost Numba's negative-index check and the SIMD (2x).
        base = (r % g) * k
        if op == FORWARD:
            _forward_row(x[r], gamma[base:], beta[base:], s, eps, r, mean, rstd, out[r])
        else:
            slot = r // g // per
            _backward_row(dy[r], x[r], gamma[base:], s, mean[r], rstd[r],
                          pgam[slot, base:], pbet[slot, base:], out[r])


@njit(cache=True, nogil=True, parallel=True, fastmath=FASTMATH)
def rows_parallel(op, x, dy, gamma, beta, g, s, eps, per, mean, rstd, pgam, pbet, out,
                  slots, workers):
    """:func:`rows` on Numba's native team, worker t taking the slots
    [slots·t // workers, slots·(t+1) // workers) (``run_split``'s bounds)."""
    for t in prange(workers):
        rows(op, x, dy, gamma, beta, g, s, eps, per, mean, rstd, pgam, pbet, out,
             slots * t // workers, slots * (t + 1) // workers)


def _run(op, x, dy, gamma, beta, g, s, eps, per, mean, rstd, pgam, pbet, out, nbytes):
    """:func:`rows` over all the slots, split across minicv's threads by
    ``conv_algo.run_split`` (on Numba's native team where it runs)."""
    from ..conv_algo import run_split
    slots = -(-(x.shape[0] // g) // per)
    args = (op, x, dy, gamma, beta, g, s, float(eps), per, mean, rstd, pgam, pbet, out)
    run_split(lambda s0, s1: rows(*args, s0, s1), slots, nbytes,
              lambda workers: rows_parallel(*args, slots, workers))


def forward(x, gamma, beta, g, s, eps):
    """y, mean, biased variance of the rows of x (R, M) (see the module docstring; mean,
    var: float64 (R,)); gamma, beta: (G·K,) arrays of x's dtype."""
    from . import buffers
    y = buffers.empty_like(x)
    mean, var = np.empty(x.shape[0]), np.empty(x.shape[0])
    none = np.empty((0, 0))                        # no partials in forward
    _run(FORWARD, x, x, gamma, beta, g, s, eps, 1, mean, var, none, none, y, 2 * x.nbytes)
    return y, mean, var


def backward(dy, x, gamma, g, s, mean, rstd, need_dx):
    """(dx or None, dγ, dβ) of the rows of x (R, M), given dy (R, M); dγ, dβ: float64
    (G·K,), the slots' partials summed in slot order."""
    from . import buffers
    nrows, params = x.shape[0], gamma.size
    per = slot_rows(nrows // g, params)
    slots = -(-(nrows // g) // per)
    pgam, pbet = np.zeros((slots, params)), np.zeros((slots, params))
    dx = buffers.empty_like(x) if need_dx else np.empty((nrows, 0), x.dtype)
    _run(BACKWARD, x, dy, gamma, gamma, g, s, 0.0, per, mean, rstd, pgam, pbet, dx,
         3 * x.nbytes)
    return (dx if need_dx else None), pgam.sum(axis=0), pbet.sum(axis=0)
