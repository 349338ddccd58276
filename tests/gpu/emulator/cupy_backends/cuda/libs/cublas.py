"""``cupy_backends.cuda.libs.cublas`` emulated: the one cuBLAS call minicv makes itself,
``gemmStridedBatchedEx``, with cuBLAS's column-major, leading-dimension and batch-stride
semantics, on host memory (the emulator's device pointers are host addresses).
TF32 compute rounds float32 inputs as the emulated ``matmul`` does."""
import ctypes

import numpy as np

from cupy import _stats

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_64F, CUBLAS_COMPUTE_32F_FAST_TF32 = 68, 70, 77
CUBLAS_GEMM_DEFAULT = -1
_TYPES = {0: np.float32, 1: np.float64}          # CUDA_R_32F, CUDA_R_64F


def _matrix(ptr, dtype, rows, cols, ld, op):
    """The column-major (rows x cols) matrix at ``ptr`` with leading dimension ``ld``,
    as a NumPy view, then ``op`` applied (T: transposed)."""
    if ld < max(1, rows):
        raise ValueError(f"cuBLAS: leading dimension {ld} < rows {rows}")
    item = np.dtype(dtype).itemsize
    size = ld * (cols - 1) + rows
    flat = np.frombuffer((ctypes.c_char * (size * item)).from_address(ptr), dtype=dtype)
    m = np.lib.stride_tricks.as_strided(flat, (rows, cols), (item, ld * item))
    return m.T if op == CUBLAS_OP_T else m


def _tf32(a):
    bits = np.ascontiguousarray(a).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def gemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA,
                         B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC, batchCount,
                         computeType, algo):
    """C[i] = alpha op(A[i]) op(B[i]) + beta C[i], i < batchCount, column-major: op(A) is
    m x k, op(B) k x n, C m x n; X[i] starts strideX elements after X[i - 1]."""
    if not Atype == Btype == Ctype or Atype not in _TYPES:
        raise ValueError("emulated cuBLAS: one real type (CUDA_R_32F or CUDA_R_64F)")
    dtype = _TYPES[Atype]
    item = np.dtype(dtype).itemsize
    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    al, be = scalar.from_address(alpha).value, scalar.from_address(beta).value
    for i in range(batchCount):
        a = _matrix(A + i * strideA * item, dtype, *((m, k) if transa == CUBLAS_OP_N
                                                     else (k, m)), lda, transa)
        b = _matrix(B + i * strideB * item, dtype, *((k, n) if transb == CUBLAS_OP_N
                                                     else (n, k)), ldb, transb)
        c = _matrix(C + i * strideC * item, dtype, m, n, ldc, CUBLAS_OP_N)
        if computeType == CUBLAS_COMPUTE_32F_FAST_TF32 and dtype == np.float32:
            a, b = _tf32(a), _tf32(b)
        c[...] = (al * (a @ b) + (be * c if be else 0)).astype(dtype)
    _stats.count("gemmStridedBatchedEx")
