"""Load ``csrc/<name>.cu`` as a ``cupy.RawModule`` (once per process) and launch kernels.

CuPy compiles the source with NVRTC the first time a function is fetched and keeps the
binary in its disk cache, keyed by source text, options, GPU architecture and CUDA
version: a second process loads the cubin without compiling. The ``.cu`` files are real
sources (style.md §6), never assembled from Python strings.

Every integer argument is passed as ``np.int32`` (a Python int would be sent as a 64-bit
``long long`` and the kernel would read garbage); :func:`i32` checks that it fits.
"""
import functools
from pathlib import Path

import numpy as np

CSRC = Path(__file__).resolve().parents[3] / "csrc"
OPTIONS = ("-std=c++17",)
BLOCK = 256
_INT32_MAX = 2**31 - 1


def source_path(name):
    """Path of ``csrc/<name>.cu``, with a clear error if the source tree is incomplete."""
    path = CSRC / f"{name}.cu"
    if not path.is_file():
        raise FileNotFoundError(f"CUDA source {path} is missing: the GPU backend loads its "
                                f"kernels from minicv's csrc/ folder at run time")
    return path


@functools.lru_cache(maxsize=None)
def raw_module(name):
    """The ``cupy.RawModule`` of ``csrc/<name>.cu`` (memoized per process)."""
    import cupy
    return cupy.RawModule(code=source_path(name).read_text(), options=OPTIONS)


_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
           np.dtype(np.int64): "i64"}
_functions = {}          # (file, base, dtype, device) -> function: every launch looks here


def kernel(name, base, dtype, dtypes=("float32", "float64")):
    """Function ``<base>_f32``, ``<base>_f64`` (or ``<base>_i64``, for kernels that name
    int64 in ``dtypes``) of ``csrc/<name>.cu`` for ``dtype``, on the current device
    (compiled, or loaded from CuPy's disk cache, on first use)."""
    import cupy
    key = (name, base, dtype, cupy.cuda.Device().id)
    fn = _functions.get(key)
    if fn is None:
        suffix = _SUFFIX.get(np.dtype(dtype))
        if suffix is None or np.dtype(dtype).name not in dtypes:
            raise TypeError(f"GPU kernel {base}: expected {' or '.join(dtypes)}, got {dtype}")
        fn = _functions[key] = raw_module(name).get_function(f"{base}_{suffix}")
    return fn


_placeholders = {}


def optional(a, dtype):
    """``(array, flag)`` for an optional kernel argument: ``a`` and 1, or a 1-element
    placeholder of ``dtype`` and 0. Kernels never get a NULL pointer: CuPy versions
    differ in what they send for None."""
    import cupy
    if a is not None:
        return a, np.int32(1)
    key = (np.dtype(dtype), cupy.cuda.Device().id)
    if key not in _placeholders:
        _placeholders[key] = cupy.zeros(1, dtype=dtype)
    return _placeholders[key], np.int32(0)


def i32(*values):
    """Ints as ``np.int32`` kernel arguments, refusing values that overflow. A launch
    passes a dozen and a training step repeats the same geometries, so the converted
    tuples are memoized (a few microseconds a launch, hundreds of launches a step)."""
    return _i32(values)


@functools.lru_cache(maxsize=4096)
def _i32(values):
    if values and (max(values) > _INT32_MAX or min(values) < -_INT32_MAX - 1):
        bad = next(v for v in values if not -_INT32_MAX - 1 <= v <= _INT32_MAX)
        raise ValueError(f"GPU kernel argument {bad} does not fit in int32: split the "
                         f"batch into smaller pieces")
    return tuple(np.array(values, dtype=np.int32))


def device_i32(values):
    """Ints (a tuple from :func:`i32`, an index table) as a C-contiguous int32 device array."""
    import cupy
    return cupy.asarray(np.ascontiguousarray(values, dtype=np.int32))


MAX_BLOCKS = 65535 * 32


def launch(fn, total, args):
    """Launch ``fn`` with one thread per element of a ``total``-element grid-stride loop.

    The kernels' loop index is an ``int``: ``i += blockDim * gridDim`` must not overflow
    on the last lap, so the grid is also capped at (2^31 - 1 - total) / BLOCK blocks (a
    smaller grid only means more laps)."""
    if total <= 0:
        return
    i32(total)
    grid = min((total + BLOCK - 1) // BLOCK, MAX_BLOCKS, (_INT32_MAX - total) // BLOCK)
    if grid < 1:
        raise ValueError(f"GPU kernel over {total} elements: too many for 32-bit indices; "
                         f"split the work into smaller pieces")
    fn((grid,), (BLOCK,), args)
