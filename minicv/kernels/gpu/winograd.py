"""GPU Winograd F(2x2, 3x3) transforms (``csrc/winograd.cu``): same signatures and layouts
as ``kernels/cpu/winograd.py``. Only m=2 has CUDA kernels; F(4x4) (whose float32 error
is larger) stays on the CPU for now.
"""
import functools

import cupy as cp
import numpy as np

from ..reference import WINOGRAD_MATRICES
from .module import i32, kernel, launch


def _check_m(m):
    if m != 2:
        raise ValueError(f"GPU Winograd implements F(2x2, 3x3) only, got m={m}; F(4x4) runs "
                         f"on the CPU path, or use algo=\"im2col\"")


def filter_transform(w, m=2):
    """U = G g GT in float64, rounded once: (K, C, 3, 3) -> (16, K, C), on the device (a
    trip through the host would synchronise every Winograd convolution)."""
    _check_m(m)
    g = _g_matrix(cp.cuda.Device().id)                              # (4, 3) float64
    u = cp.matmul(cp.matmul(g, w.astype(np.float64)), g.T)          # (K, C, 4, 4)
    k, c = w.shape[:2]
    return cp.ascontiguousarray(u.reshape(k, c, 16).transpose(2, 0, 1), dtype=w.dtype)


@functools.lru_cache(maxsize=None)
def _g_matrix(device):
    return cp.asarray(WINOGRAD_MATRICES[2][1].astype(np.float64))


def input_transform(xp, m=2, out=None):
    """V = BT d B per tile: xp (N, C, TH*2 + 2, TW*2 + 2) -> V (16, C, N*TH*TW)."""
    _check_m(m)
    xp = cp.ascontiguousarray(xp)
    n, c, hp, wp = xp.shape
    th, tw = (hp - 2) // m, (wp - 2) // m
    if out is None:
        out = cp.empty((16, c, n * th * tw), dtype=xp.dtype)
    launch(kernel("winograd", "winograd_input_f2", xp.dtype), n * c * th * tw,
           (xp, *i32(n, c, th, tw), out))
    return out


def output_transform(mt, m, n, oh, ow, bias=None, out=None):
    """Y = AT M A per tile, cropped: M (16, K, N*TH*TW) -> y (N, K, OH, OW) (+ bias)."""
    _check_m(m)
    mt = cp.ascontiguousarray(mt)
    k = mt.shape[1]
    th, tw = -(-oh // m), -(-ow // m)
    has_bias = bias is not None
    bias = (cp.ascontiguousarray(bias, dtype=mt.dtype) if has_bias
            else cp.zeros(1, dtype=mt.dtype))
    if out is None:
        out = cp.empty((n, k, oh, ow), dtype=mt.dtype)
    launch(kernel("winograd", "winograd_output_f2", mt.dtype), n * k * th * tw,
           (mt, bias, *i32(int(has_bias), n, k, th, tw, oh, ow), out))
    return out
