"""CuPy's float32 GEMM compute-type switch (TF32 or not), emulated: the emulated
``matmul``/``dot``/``einsum``... round float32 inputs to TF32 when it says so. The
default follows ``CUPY_TF32`` as in CuPy."""
import os

import numpy as np

COMPUTE_TYPE_TBD = 0
COMPUTE_TYPE_DEFAULT = 1
COMPUTE_TYPE_PEDANTIC = 2
COMPUTE_TYPE_FP16 = 3
COMPUTE_TYPE_FP32 = 4
COMPUTE_TYPE_FP64 = 5
COMPUTE_TYPE_BF16 = 6
COMPUTE_TYPE_TF32 = 7

_types = {}


def _default(dtype):
    if np.dtype(dtype) == np.float32 and os.environ.get("CUPY_TF32", "0") != "0":
        return COMPUTE_TYPE_TF32
    return COMPUTE_TYPE_DEFAULT


def get_compute_type(dtype):
    return _types.get(np.dtype(dtype), _default(dtype))


def set_compute_type(dtype, compute_type):
    _types[np.dtype(dtype)] = compute_type
