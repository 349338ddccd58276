"""Backend: which array module runs the math, the dtype rules, and the random state.

minicv computes with NumPy on the CPU. Every op finds its array module with the
Chainer idiom ::

    xp = get_array_module(x)      # numpy now; cupy when the GPU backend lands

so one code path serves every device.

Dtype policy
------------
* Floating tensors default to float32; float64 works everywhere (gradchecks use it).
* Integer and bool tensors never require grad.
* Mixing dtypes follows PyTorch's promotion rule, implemented once in
  :func:`result_dtype`: a float32 tensor combined with a float64 tensor gives float64,
  except that a 0-d tensor or a Python number never widens a higher-dimensional tensor
  of the same kind (``x32 * 2.0`` and ``x32 * mc.tensor(2.0, dtype=float64)`` stay float32).
  Integer division and integer-float mixes give the default float dtype.
"""
import os
import random

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_default_dtype = float32


def get_default_dtype():
    """The dtype of floating tensors created from Python numbers (float32)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the default for new floating tensors."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"default dtype must be float32 or float64, got {dtype}")
    _default_dtype = dtype


def get_array_module(*arrays):
    """Return the array module (``numpy``) that owns ``arrays``: the ``xp`` of every op."""
    return np


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"


def _kind_rank(dtype):
    # bool < integer < floating: the "category" used by PyTorch's promotion.
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(np.dtype(dtype).kind, 3)


def result_dtype(a_dtype, a_ndim, b_dtype, b_ndim):
    """Dtype of a binary op between arrays of the given dtypes and ranks.

    A 0-d operand only decides the result when its kind (bool/int/float) is higher than
    the other operand's; then a float 0-d operand gives the default float dtype.
    """
    a_dtype, b_dtype = np.dtype(a_dtype), np.dtype(b_dtype)
    if a_dtype == b_dtype:
        return a_dtype
    ka, kb = _kind_rank(a_dtype), _kind_rank(b_dtype)
    if (a_ndim == 0) != (b_ndim == 0):
        dim_dtype, dim_kind = (b_dtype, kb) if a_ndim == 0 else (a_dtype, ka)
        zero_dtype, zero_kind = (a_dtype, ka) if a_ndim == 0 else (b_dtype, kb)
        if zero_kind <= dim_kind:
            return dim_dtype
        return _default_dtype if zero_kind == 2 else zero_dtype
    if ka != kb and max(ka, kb) == 2:
        return a_dtype if ka == 2 else b_dtype
    return np.promote_types(a_dtype, b_dtype)


def scalar_dtype(value, tensor_dtype):
    """Dtype of ``tensor <op> python_scalar``: a scalar never widens within its kind."""
    if isinstance(value, (bool, np.bool_)):
        return tensor_dtype
    if isinstance(value, (int, np.integer)):
        return tensor_dtype if _kind_rank(tensor_dtype) >= 1 else int64
    if isinstance(value, (float, np.floating)):
        return tensor_dtype if is_floating(tensor_dtype) else _default_dtype
    raise TypeError(f"unsupported scalar {value!r} of type {type(value).__name__}")


# ----------------------------------------------------------------------------- random state

_rng = np.random.default_rng(0)
_initial_seed = 0


def manual_seed(seed):
    """Seed minicv's generator, NumPy's global generator and Python's ``random``.

    Everything random in minicv (``randn``, dropout, init, shuffling, augmentation) draws
    from :func:`get_rng`, so one call makes a run reproducible.
    """
    global _rng, _initial_seed
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    _initial_seed = seed
    _rng = np.random.default_rng(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return _rng


def get_rng():
    """minicv's global ``numpy.random.Generator``."""
    return _rng


def initial_seed():
    """The seed given to the last :func:`manual_seed` (0 at start)."""
    return _initial_seed


def get_rng_state():
    """A JSON-able snapshot of minicv's generator (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    _rng.bit_generator.state = state


# ----------------------------------------------------------------------------- threads

def _blas_set_threads(n):
    """Resize every loaded OpenBLAS pool (NumPy's bundled one included) through ctypes."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return False
    done = False
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                     "openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                done = True
                break
    return done


def set_num_threads(n):
    """Use ``n`` threads for BLAS (GEMMs) and Numba kernels together.

    Numba can only lower its thread count below the value it started with (the number
    of cores unless ``NUMBA_NUM_THREADS`` says otherwise).
    """
    global _num_threads
    n = int(n)
    if n < 1:
        raise ValueError(f"number of threads must be >= 1, got {n}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    _blas_set_threads(n)
    import numba
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    _num_threads = n


_num_threads = os.cpu_count() or 1


def get_num_threads():
    return _num_threads
