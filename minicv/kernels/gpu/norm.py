"""GPU batch normalisation (``csrc/batchnorm.cu``): the statistics, the normalisation and
both backward sums in six kernels, where ``ops/norm.py``'s array operations launch about
thirty per layer and step. Same results as ``kernels/cpu/norm.py``: statistics and sums in
float64, x̂ recomputed from x in backward, running statistics updated by PyTorch's rule.

Arrays are viewed as (N, C, M), M = the spatial size; ``mean`` and ``invstd`` are float64
(C,) device arrays. Sums are deterministic: every channel adds the same lanes in the same
order whatever the GPU.
"""
import cupy as cp
import numpy as np

from .module import i32, kernel, launch, optional


def lanes(n, m):
    """Threads per channel for the partial sums: at most 1024, each summing >= 32 values."""
    return int(min(1024, max(1, -(-(n * m) // 32))))


def _partial(x3, gy3=None, mean=None, invstd=None):
    """Per-(channel, lane) sums: of x (forward) or of dy and dy·x̂ (with ``gy3``)."""
    n, c, m = x3.shape
    L = lanes(n, m)
    part = cp.empty((c, L, 2), dtype=np.float64)
    gy3, backward = optional(gy3, x3.dtype)
    mean, _ = optional(mean, np.float64)
    invstd, _ = optional(invstd, np.float64)
    launch(kernel("batchnorm", "bn_partial", x3.dtype), c * L,
           (x3, gy3, mean, invstd, *i32(n, c, m, L), backward, part))
    return part, L


def forward_train(x3, gamma, beta, eps, momentum=0.0, running_mean=None, running_var=None):
    """Batch statistics, y = x̂·γ + β, and the running statistics updated in place.

    Returns y (like x3), mean and invstd (float64 (C,)) and the biased variance (x3's dtype).
    """
    n, c, m = x3.shape
    part, L = _partial(x3)
    mean = cp.empty(c, dtype=np.float64)
    invstd = cp.empty(c, dtype=np.float64)
    var = cp.empty(c, dtype=x3.dtype)
    running_mean, update_mean = optional(running_mean, x3.dtype)
    running_var, update_var = optional(running_var, x3.dtype)
    launch(kernel("batchnorm", "bn_stats", x3.dtype), c,
           (x3, part, *i32(c, m, L, n * m), np.float64(eps), np.float64(momentum),
            running_mean, running_var, update_mean, update_var, mean, invstd, var))
    return apply(x3, mean, invstd, gamma, beta), mean, invstd, var


def apply(x3, mean, invstd, gamma, beta):
    """y = (x - mean)·invstd·γ + β per channel (γ, β may be None)."""
    n, c, m = x3.shape
    y = cp.empty_like(x3)
    gamma, has_gamma = optional(gamma, x3.dtype)
    beta, has_beta = optional(beta, x3.dtype)
    launch(kernel("batchnorm", "bn_apply", x3.dtype), y.size,
           (x3, mean, invstd, gamma, beta, has_gamma, has_beta, *i32(c, m, y.size), y))
    return y


def backward(gy3, x3, mean, invstd, gamma, training, need_dx=True, need_dw=True,
             need_db=True):
    """dx, dγ, dβ (each None when not needed) of :func:`forward_train` (``training``) or of
    :func:`apply` with constant statistics."""
    n, c, m = x3.shape
    gw = cp.empty(c, dtype=x3.dtype) if need_dw else None
    gb = cp.empty(c, dtype=x3.dtype) if need_db else None
    sums = None
    if need_dw or need_db or (need_dx and training):
        part, L = _partial(x3, gy3, mean, invstd)
        sums = cp.empty((c, 2), dtype=np.float64)
        (gw_arg, want_gw), (gb_arg, want_gb) = optional(gw, x3.dtype), optional(gb, x3.dtype)
        launch(kernel("batchnorm", "bn_sums", x3.dtype), c,
               (part, *i32(c, L), sums, gw_arg, gb_arg, want_gw, want_gb))
    gx = None
    if need_dx:
        gx = cp.empty_like(x3)
        gamma, has_gamma = optional(gamma, x3.dtype)
        sums, _ = optional(sums, np.float64)
        launch(kernel("batchnorm", "bn_dx", x3.dtype), gx.size,
               (gy3, x3, mean, invstd, gamma, has_gamma, sums,
                *i32(c, m, n * m, int(training), gx.size), gx))
    return gx, gw, gb
