"""Batch-normalisation kernels over the (N, C, M) view of an (N, C, *spatial) input.

NumPy spends five or six passes over the activations per direction (mean, centring,
square, mean, scale, shift, each with a temporary); these loops do two reading passes
for the statistics and one writing pass, accumulate in float64, and recompute x̂ from x in
the backward pass instead of storing it. Formulas (reference.md §9), per channel c with
m = N·M values:

    forward:   μ = mean(x),  σ² = mean((x - μ)²),  y = x·a + b  with a = γ/√(σ²+ε),
               b = β - μ·a
    backward:  x̂ = (x - μ)·invstd,  Sdy = Σ dy,  Sdyx = Σ dy·x̂,
               dx = γ·invstd·(dy - Sdy/m - x̂·Sdyx/m)   (training statistics)
"""
import numpy as np
from numba import njit

from ._config import FASTMATH


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def channel_stats(x):
    """Per-channel mean and biased variance of (N, C, M) ``x``, two passes, float64."""
    n, c, m = x.shape
    mean = np.zeros(c)
    var = np.zeros(c)
    count = n * m
    for ch in range(c):
        s = 0.0
        for i in range(n):
            for j in range(m):
                s += x[i, ch, j]
        mu = s / count
        ss = 0.0
        for i in range(n):
            for j in range(m):
                d = x[i, ch, j] - mu
                ss += d * d
        mean[ch] = mu
        var[ch] = ss / count
    return mean, var


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def scale_shift(x, a, b, out):
    """out[:, c] = x[:, c]·a[c] + b[c] over (N, C, M) arrays."""
    n, c, m = x.shape
    for i in range(n):
        for ch in range(c):
            ac = a[ch]
            bc = b[ch]
            for j in range(m):
                out[i, ch, j] = x[i, ch, j] * ac + bc


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def backward_sums(dy, x, mean, invstd):
    """Per channel: Σ dy and Σ dy·x̂ with x̂ = (x - μ)·invstd (float64 accumulators)."""
    n, c, m = x.shape
    sdy = np.zeros(c)
    sdyx = np.zeros(c)
    for ch in range(c):
        mu = mean[ch]
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            for j in range(m):
                g = dy[i, ch, j]
                s1 += g
                s2 += g * (x[i, ch, j] - mu)
        sdy[ch] = s1
        sdyx[ch] = s2 * invstd[ch]
    return sdy, sdyx


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def backward_dx(dy, x, mean, invstd, gamma, sdy, sdyx, out):
    """dx = γ·invstd·(dy - Σdy/m - x̂·Σdy·x̂/m) for training-mode statistics."""
    n, c, m = x.shape
    count = n * m
    for i in range(n):
        for ch in range(c):
            k = gamma[ch] * invstd[ch]
            mu = mean[ch]
            iv = invstd[ch]
            a = sdy[ch] / count
            bq = sdyx[ch] / count
            for j in range(m):
                out[i, ch, j] = k * (dy[i, ch, j] - a - (x[i, ch, j] - mu) * iv * bq)
