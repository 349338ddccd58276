"""Numba kernels for activations whose NumPy form needs temporaries.

``relu_backward``: ``gy * (y > 0)`` in NumPy writes a boolean mask, then runs a mixed-type
multiply through a casting loop (two passes and a temporary); here it is one pass over
flat, contiguous arrays.  The product keeps NumPy's semantics (a NaN gradient stays NaN
where y <= 0, as ``gy * 0`` does).
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _relu_backward_flat(gy, y, gx):
    for i in range(gy.size):
        gx[i] = gy[i] * (y[i] > 0)


def relu_backward(gy, y):
    """gx = gy * (y > 0) for C-contiguous arrays of the same shape and float dtype."""
    gx = np.empty_like(gy)
    _relu_backward_flat(gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx
