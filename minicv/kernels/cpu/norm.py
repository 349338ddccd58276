"""Batch-normalisation kernels over the (N, C, M) view of an (N, C, *spatial) input.

NumPy spends five or six passes over the activations per direction (mean, centring,
square, mean, scale, shift, each with a temporary); these loops do one reading pass for
the statistics and one writing pass, accumulate in float64, and recompute x̂ from x in
the backward pass instead of storing it. Formulas (reference.md §9), per channel c with
m = N·M values:

    forward:   μ = mean(x),  σ² = mean((x - μ)²),  y = x·a + b  with a = γ/√(σ²+ε),
               b = β - μ·a
    backward:  x̂ = (x - μ)·invstd,  Sdy = Σ dy,  Sdyx = Σ dy·x̂,
               dx = γ·invstd·(dy - Sdy/m - x̂·Sdyx/m)   (training statistics)

Every kernel works on the channel range [c0, c1) of full C-contiguous arrays and writes
only those channels of its outputs, so :func:`minicv.kernels.conv_algo.run_split` can run
disjoint channel ranges on several threads (``nogil``) with results that do not depend
on the thread count: each channel is always summed by one thread in the same order.
"""
import numpy as np
from numba import njit

from ._config import FASTMATH


@njit(inline="always")
def _stats(x, ch):
    """(mean, biased var) of channel ``ch`` of (N, C, M) ``x``, float64, one pass.

    Shifted by the channel's first value K (Chan et al.'s shifted data):
    σ² = mean((x-K)²) - mean(x-K)², accumulated in float64.  With the shift the
    cancellation only depends on |μ - K|/σ, which is O(1) for real activations (unlike
    the textbook E[x²] - E[x]², whose error grows with μ²/σ²).
    """
    n, m = x.shape[0], x.shape[2]
    pivot = np.float64(x[0, ch, 0])
    s = 0.0
    ss = 0.0
    for i in range(n):
        row = x[i, ch]
        for j in range(m):
            d = row[j] - pivot
            s += d
            ss += d * d
    mu = s / (n * m)
    return pivot + mu, max(ss / (n * m) - mu * mu, 0.0)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def forward_train(x, gamma, beta, eps, c0, c1, mean, var, out):
    """Training-mode forward for the channels [c0, c1): batch statistics into mean, var
    (float64), then out = x·a + b with a = γ/√(σ²+ε), b = β - μ·a (rounded to x's dtype).

    Channel by channel, so the writing pass re-reads the channel from L2 (64x32x32
    float32: 256 KiB a channel) instead of from memory.  gamma, beta: float64 (C,).
    """
    n, m = x.shape[0], x.shape[2]
    for ch in range(c0, c1):
        mu, v = _stats(x, ch)
        mean[ch] = mu
        var[ch] = v
        a64 = gamma[ch] / np.sqrt(v + eps)
        a = x.dtype.type(a64)
        b = x.dtype.type(beta[ch] - mu * a64)
        for i in range(n):
            src = x[i, ch]
            dst = out[i, ch]
            for j in range(m):
                dst[j] = src[j] * a + b


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def scale_shift(x, a, b, c0, c1, out):
    """out[:, c] = x[:, c]·a[c] + b[c] over (N, C, M) arrays, channels [c0, c1)."""
    n = x.shape[0]
    m = x.shape[2]
    for i in range(n):
        for ch in range(c0, c1):
            ac = a[ch]
            bc = b[ch]
            src = x[i, ch]
            dst = out[i, ch]
            for j in range(m):
                dst[j] = src[j] * ac + bc


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def backward_sums(dy, x, mean, invstd, c0, c1, sdy, sdyx):
    """sdy[c] = Σ dy, sdyx[c] = Σ dy·x̂ (x̂ = (x - μ)·invstd, float64) for c in [c0, c1)."""
    n, c, m = x.shape
    for ch in range(c0, c1):
        mu = mean[ch]
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            g = dy[i, ch]
            v = x[i, ch]
            for j in range(m):
                s1 += g[j]
                s2 += g[j] * (v[j] - mu)
        sdy[ch] = s1
        sdyx[ch] = s2 * invstd[ch]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def backward_dx(dy, x, mean, invstd, gamma, sdy, sdyx, c0, c1, out):
    """dx = γ·invstd·(dy - Σdy/m - x̂·Σdy·x̂/m) for training-mode statistics, [c0, c1).

    Per channel this is ``dx = k·dy - ka - kb·(x - μ)`` with k = γ·invstd, ka = k·Σdy/m,
    kb = k·invstd·Σdy·x̂/m: the coefficients are formed in float64, then rounded to x's
    dtype, so the loop over the pixels runs in x's dtype (float32: full SIMD width, no
    conversions; 1.5x faster than float64 arithmetic per element, measured).
    """
    n, c, m = x.shape
    count = n * m
    for ch in range(c0, c1):
        k = gamma[ch] * invstd[ch]
        ka = x.dtype.type(k * sdy[ch] / count)
        kb = x.dtype.type(k * invstd[ch] * sdyx[ch] / count)
        mu = x.dtype.type(mean[ch])
        k = x.dtype.type(k)
        for i in range(n):
            d = dy[i, ch]
            v = x[i, ch]
            o = out[i, ch]
            for j in range(m):
                o[j] = k * d[j] - ka - kb * (v[j] - mu)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def backward_train(dy, x, mean, invstd, gamma, c0, c1, sdy, sdyx, out):
    """:func:`backward_sums` then :func:`backward_dx`, channel by channel, so the second
    pass over a channel's dy and x reads them from L2 rather than memory."""
    for ch in range(c0, c1):
        backward_sums(dy, x, mean, invstd, ch, ch + 1, sdy, sdyx)
        backward_dx(dy, x, mean, invstd, gamma, sdy, sdyx, ch, ch + 1, out)
