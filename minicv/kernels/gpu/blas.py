"""Batched GEMMs with a shared matrix, straight through cuBLAS.

A convolution's GEMMs multiply one weight matrix with every sample's columns:
``y[n] = W @ cols[n]``. ``cupy.matmul(W[None], cols)`` broadcasts W, and CuPy serves a
broadcast by building device arrays of matrix pointers (three small kernels) and calling
``cublasSgemmBatched``. On an H200 that cost ~120 us of host time per call, a fifth of a
ResNet-20 training step. ``cublasGemmStridedBatchedEx`` takes the shared matrix with a
batch stride of 0 instead: one call, no pointer arrays, no copies.

cuBLAS is column-major. A C-contiguous (r, c) matrix is, to cuBLAS, its (c, r) transpose,
so ``C = op(A) @ op(B)`` (row-major, C: M x N) is computed as ``Cᵀ = op(B)ᵀ op(A)ᵀ``: B
goes first, and each transpose flag moves to the other operand's side.

The compute type follows CuPy's: TF32 for float32 only under ``mc.backends.allow_tf32``.
"""
import math

import numpy as np

from ...backends import tf32_in_use

# cuBLAS and CUDA enums (cublas_api.h, library_types.h)
_OP_N, _OP_T = 0, 1
_CUDA_TYPE = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}     # CUDA_R_32F, _64F
_COMPUTE_32F, _COMPUTE_32F_FAST_TF32, _COMPUTE_64F = 68, 77, 70
_GEMM_DEFAULT = -1
_ONE = {t: np.ones(1, t) for t in _CUDA_TYPE}        # alpha and beta, read from the host
_ZERO = {t: np.zeros(1, t) for t in _CUDA_TYPE}


def _cublas():
    from cupy.cuda import device
    from cupy_backends.cuda.libs import cublas
    return cublas, device.get_cublas_handle()


def _stack(a, name):
    """(count, batch stride in elements) of a stack of row-major matrices ``a`` (..., r,
    c): each matrix C-contiguous, the batch dims one regular stride (as ``cols[:, g]`` of a
    grouped convolution). A 2-D matrix is shared by every product: (1, 0)."""
    r, c = a.shape[-2:]
    if (c > 1 and a.strides[-1] != a.itemsize) or (r > 1 and a.strides[-2] != c * a.itemsize):
        raise ValueError(f"matmul_shared: each matrix of {name} must be C-contiguous, got "
                         f"strides {a.strides} for shape {a.shape}")
    dims = [(size, stride) for size, stride in zip(a.shape[:-2], a.strides[:-2]) if size != 1]
    count = math.prod(a.shape[:-2])
    for (_, outer), (size, inner) in zip(dims, dims[1:]):
        if outer != inner * size:
            raise ValueError(f"matmul_shared: the batch dims of {name} must collapse to one "
                             f"stride, got strides {a.strides} for shape {a.shape}")
    return count, (dims[-1][1] // a.itemsize if dims else 0)


def matmul_shared(a, b, out, trans_a=False, trans_b=False):
    """``out[i] = op(a[i]) @ op(b[i])`` for float32/float64 stacks of row-major matrices
    ``a`` (..., M, K) (or (..., K, M) with ``trans_a``) and ``b`` (..., K, N) (or (..., N,
    K) with ``trans_b``); either may be a single 2-D matrix, shared by every i. Each
    matrix must be C-contiguous and the batch dims must collapse to one stride (checked).
    ``out`` (..., M, N) is written (not added to) and returned. Other dtypes (float16,
    mixed) go to ``cupy.matmul``.
    """
    dtype = out.dtype
    if a.dtype != dtype or b.dtype != dtype or dtype not in _CUDA_TYPE:
        import cupy                     # float16 and mixed dtypes: CuPy's own broadcast
        return cupy.matmul(a.swapaxes(-1, -2) if trans_a else a,
                           b.swapaxes(-1, -2) if trans_b else b, out=out)
    m, k = a.shape[-1:-3:-1] if trans_a else a.shape[-2:]
    kb, n = b.shape[-1:-3:-1] if trans_b else b.shape[-2:]
    if out.size == 0 or k == 0:                     # nothing to multiply (empty strides)
        out.fill(0)
        return out
    (count_a, stride_a), (count_b, stride_b) = _stack(a, "a"), _stack(b, "b")
    count_c, stride_c = _stack(out, "out")
    count = max(count_a, count_b)
    if kb != k or out.shape[-2:] != (m, n) or count_a not in (1, count) \
            or count_b not in (1, count) or count_c != count:
        raise ValueError(f"matmul_shared: shapes {a.shape}{'ᵀ' if trans_a else ''} @ "
                         f"{b.shape}{'ᵀ' if trans_b else ''} -> {out.shape} do not match")
    cublas, handle = _cublas()
    if dtype == np.float64:
        compute = _COMPUTE_64F
    else:
        compute = _COMPUTE_32F_FAST_TF32 if tf32_in_use() else _COMPUTE_32F
    t = _CUDA_TYPE[dtype]
    # Cᵀ (N x M) = op(B)ᵀ (N x K) · op(A)ᵀ (K x M), column-major
    cublas.gemmStridedBatchedEx(
        handle, _OP_T if trans_b else _OP_N, _OP_T if trans_a else _OP_N, n, m, k,
        _ONE[dtype].ctypes.data,
        b.data.ptr, t, k if trans_b else n, stride_b,
        a.data.ptr, t, m if trans_a else k, stride_a,
        _ZERO[dtype].ctypes.data,
        out.data.ptr, t, n, stride_c, count, compute, _GEMM_DEFAULT)
    return out
