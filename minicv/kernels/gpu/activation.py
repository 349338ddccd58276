"""GPU activation backward passes (``csrc/activation.cu``), one launch each."""
import cupy as cp

from .module import i32, kernel, launch


def relu_backward(gy, y):
    """gx = 0 where y <= 0, else gy (so gy passes where y is NaN, as in PyTorch); ``gy``
    and ``y`` of one shape and float dtype."""
    gy, y = cp.ascontiguousarray(gy), cp.ascontiguousarray(y)
    gx = cp.empty_like(gy)
    launch(kernel("activation", "relu_bwd", gy.dtype), gx.size, (gy, y, *i32(gx.size), gx))
    return gx
