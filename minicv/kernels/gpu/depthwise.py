"""GPU depthwise convolution (``csrc/depthwise.cu``): groups = C, K = C·m output channels,
w (K, 1, kh, kw). Direct loops over the taps instead of im2col + thousands of one-row
GEMMs; the input gradient is a gather and the weight gradient a two-step sum in float64,
so every result is deterministic."""
import cupy as cp
import numpy as np

from .module import i32, kernel, launch, optional
from .norm import lanes


def is_depthwise(x_shape, w_shape, groups):
    """Depthwise: one group per input channel (any channel multiplier), more than one."""
    c, k = x_shape[1], w_shape[0]
    return groups == c and c > 1 and w_shape[1] == 1 and k % c == 0


def _geometry(x_shape, w_shape, stride, padding, dilation, out):
    n, c, h, w = x_shape
    k, _, kh, kw = w_shape
    return i32(c, h, w, k, kh, kw, *stride, *padding, *dilation, *out)


def forward(x, w, b, stride, padding, dilation, out):
    """y (N, K, OH, OW) = depthwise convolution of x (N, C, H, W) with w (K, 1, kh, kw)."""
    x, w = cp.ascontiguousarray(x), cp.ascontiguousarray(w, dtype=x.dtype)
    b = None if b is None else cp.ascontiguousarray(b, dtype=x.dtype)
    y = cp.empty((x.shape[0], w.shape[0]) + tuple(out), dtype=x.dtype)
    b, has_bias = optional(b, x.dtype)
    launch(kernel("depthwise", "dw_forward", x.dtype), y.size,
           (x, w, b, has_bias, *_geometry(x.shape, w.shape, stride, padding, dilation, out),
            *i32(y.size), y))
    return y


def backward(x, w, gy, stride, padding, dilation, needs):
    """(gx, gw) of :func:`forward` (None where ``needs`` says so; the caller sums gb)."""
    x, w = cp.ascontiguousarray(x), cp.ascontiguousarray(w, dtype=x.dtype)
    gy = cp.ascontiguousarray(gy, dtype=x.dtype)
    geometry = _geometry(x.shape, w.shape, stride, padding, dilation, gy.shape[2:])
    gx = gw = None
    if needs[0]:
        gx = cp.empty_like(x)
        launch(kernel("depthwise", "dw_input_grad", x.dtype), gx.size,
               (gy, w, *geometry, *i32(gx.size), gx))
    if needs[1]:
        n = x.shape[0]
        L = lanes(n, gy.shape[2] * gy.shape[3])
        part = cp.empty(w.size * L, dtype=np.float64)
        launch(kernel("depthwise", "dw_weight_partial", x.dtype), part.size,
               (x, gy, *geometry, *i32(n, L), part))
        gw = cp.empty(w.shape, dtype=w.dtype)
        launch(kernel("depthwise", "dw_weight_reduce", x.dtype), gw.size,
               (part, *i32(gw.size, L), gw))
    return gx, gw
