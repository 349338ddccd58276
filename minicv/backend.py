"""Backend: which array module runs the math, devices, the dtype rules, the random state.

minicv computes with NumPy on the CPU and CuPy on NVIDIA GPUs. Every op finds its array
module with the Chainer idiom ::

    xp = get_array_module(x)      # numpy, or cupy when x lives on a GPU

so one code path serves every device. CuPy is imported lazily: only when a CuPy array
already exists (found by the name of its type's module, which needs no import) or when
the user asks for a "cuda" device. ``import minicv`` therefore never imports CuPy and
never initialises CUDA, which keeps forked DataLoader workers safe.

Devices
-------
:class:`Device` names where a tensor lives: ``Device("cpu")``, ``Device("cuda")``,
``Device("cuda:1")``. A tensor's device is read from its array's type, never stored.
:func:`to_device` moves an array; :func:`require_cupy` gives one clear error when CuPy
or a GPU is missing.

Dtype policy
------------
* Floating tensors default to float32; float64 works everywhere (gradchecks use it).
* Integer and bool tensors never require grad.
* Mixing dtypes follows PyTorch's promotion rule, implemented once in
  :func:`result_dtype`: a float32 tensor combined with a float64 tensor gives float64,
  except that a 0-d tensor or a Python number never widens a higher-dimensional tensor
  of the same kind (``x32 * 2.0`` and ``x32 * mc.tensor(2.0, dtype=float64)`` stay float32).
  A 0-d tensor of a higher kind keeps its own dtype (``int_vector + mc.tensor(1.5,
  dtype=float64)`` is float64); a Python float with an integer tensor, and true division
  of integers, give the default float dtype.
"""
import functools
import os
import random

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_default_dtype = float32

# PyTorch computes 1/0, log(0), sqrt(-1) and exp(1000) silently (inf, nan); NumPy warns.
# As a decorator this silences one function, thread-safely, for about 0.5 µs a call: it
# goes on the forwards that meet such values and on the backward pass, not on every op.
quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")


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
    """Return the array module that owns ``arrays``: ``cupy`` if any of them is a CuPy
    array, else ``numpy``. This is the ``xp`` of every op.

    The test looks at the name of each argument's type's module, so it costs one
    attribute read per argument and never imports CuPy on a CPU-only run.
    """
    for a in arrays:
        if type(a) is not np.ndarray and is_cupy_array(a):
            return _cupy_module()
    return np


def is_cupy_array(a):
    """True if ``a`` is a ``cupy.ndarray`` (checked without importing CuPy)."""
    return type(a).__module__.startswith("cupy")


_cupy_configured = False


def _cupy_module():
    # Only reached when a CuPy array exists, so CuPy is already in sys.modules. The first
    # time, apply minicv's numerical settings (TF32 off unless opted in) to CuPy.
    global _cupy_configured
    import cupy
    if not _cupy_configured:
        from . import backends
        backends._apply_to_cupy(cupy)
        _cupy_configured = True
    return cupy


def cupy_or_none():
    """The ``cupy`` module if it can be imported, else None. Importing CuPy does not
    create a CUDA context; nothing here touches the GPU."""
    try:
        import cupy
    except Exception:            # ImportError, or a broken CUDA install raising on import
        return None
    return cupy


_GPU_INSTALL = ("CUDA device requested but CuPy is not installed: pip install "
                "'minicv[gpu]' (cupy-cuda12x), or the cupy-cudaXXx wheel matching your CUDA "
                "driver, then retry; use device='cpu' to stay on the CPU")


def require_cupy(index=None):
    """CuPy, checked to have a usable GPU (``index`` if given); else one clear error.

    Raises:
        RuntimeError: "CUDA device requested but CuPy is not installed ..." or
            "... no CUDA device found ...", saying what to install or check.
    """
    cupy = cupy_or_none()
    if cupy is None:
        raise RuntimeError(_GPU_INSTALL)
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        raise RuntimeError(f"CUDA device requested but no CUDA device found: CuPy is "
                           f"installed but the CUDA driver reports an error ({e}); check "
                           f"nvidia-smi, or use device='cpu'") from None
    if count == 0:
        raise RuntimeError("CUDA device requested but no CUDA device found (the driver "
                           "sees 0 GPUs); use device='cpu'")
    if index is not None and not 0 <= index < count:
        raise RuntimeError(f"CUDA device cuda:{index} requested but only {count} GPU(s) "
                           f"exist (cuda:0 .. cuda:{count - 1})")
    return _cupy_module()


class Device:
    """Where a tensor lives: ``Device("cpu")``, ``Device("cuda")`` or ``Device("cuda:N")``.

    Creating a device checks only its spelling; the GPU itself is checked when an array
    is first moved there (:func:`to_device`), as in PyTorch.
    """
    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        kind, colon, idx = str(spec).partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or "
                               f"'cuda:N'")
        if colon:
            if not idx.isdigit():
                raise RuntimeError(f"invalid device {spec!r}: the index after ':' must be "
                                   f"a non-negative integer, as in 'cuda:0'")
            index = int(idx)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"invalid device {spec!r}: the CPU has no index")
        self.type, self.index = kind, (None if kind == "cpu" else index)

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        if not isinstance(other, Device):
            return False
        # As in PyTorch, "cuda" (the current GPU) and "cuda:0" are different names;
        # compare ``.type`` to ask "is it on a GPU?".
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = Device("cpu")


def device_of(array):
    """The :class:`Device` of an array: CPU for NumPy, ``cuda:N`` for CuPy."""
    if type(array) is np.ndarray or not is_cupy_array(array):
        return CPU
    return Device("cuda", array.device.id)


def to_device(array, device):
    """``array`` on ``device`` (a copy if it moves; the same array if already there)."""
    device = Device(device)
    if device.type == "cpu":
        if is_cupy_array(array):
            return array.get()
        return array
    cupy = require_cupy(device.index)
    if is_cupy_array(array):
        if device.index is None or array.device.id == device.index:
            return array
        array = array.get()            # GPU to GPU through the host: simple and always legal
    if device.index is None:
        return cupy.asarray(array)
    with cupy.cuda.Device(device.index):
        return cupy.asarray(array)


def to_numpy(array):
    """A NumPy array with ``array``'s values (copied to the host if it is on a GPU)."""
    if type(array) is np.ndarray:
        return array
    if is_cupy_array(array):
        return array.get()
    return np.asarray(array)


def scatter_add(xp, target, index, values):
    """``target[index] += values`` with repeated indices adding up (``np.add.at``).

    On the GPU this is ``cupyx.scatter_add``, which uses atomic adds: repeated indices
    are summed in an unspecified order, so float32 results may differ in the last bits
    from run to run.
    """
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)
    return target


def assign(target, key, values):
    """``target[key] = values`` in place; a place written more than once keeps the last
    write (NumPy's order), on the GPU too.

    CuPy writes repeated places in no fixed order (as PyTorch's CUDA ``index_put``). There,
    each write to a place first takes the value of that place's last write, found with
    an exact int64 ``maximum.at`` over the write numbers, so the order no longer matters.
    """
    xp = get_array_module(target)
    keys = key if isinstance(key, tuple) else (key,)
    if xp is np or not any(getattr(k, "dtype", np.dtype(bool)).kind in "iu"
                           and k.size > 1 for k in keys):
        target[key] = values
        return target
    pos = xp.arange(target.size).reshape(target.shape)[key]       # (W...) place of each write
    last = xp.full(target.size, -1, np.int64)
    xp.maximum.at(last, pos.reshape(-1), xp.arange(pos.size))     # the last write of each
    vals = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), pos.shape).reshape(-1)
    target[key] = vals[last[pos.reshape(-1)]].reshape(pos.shape)
    return target


def scatter_extreme(xp, op, target, index, values):
    """``target[index] = op(target[index], values)`` with repeated indices reducing
    (``np.maximum.at`` / ``np.minimum.at``; op: "maximum" or "minimum"), for a 1-D
    C-contiguous target. On the GPU a deterministic kernel (``kernels/gpu/segment.py``):
    CuPy 14's ``maximum.at`` rounds float64 writes to float32."""
    if xp is np:
        getattr(np, op).at(target, index, values)
        return target
    from .kernels.gpu.segment import scatter_extreme as gpu_scatter_extreme
    return gpu_scatter_extreme(op, target, index, values)


def reduceat(xp, op, a, starts):
    """``np.<op>.reduceat(a, starts, axis=0)`` (op: "maximum" or "minimum") for NumPy and
    CuPy, which has no reduceat; ``starts``: a host array, strictly increasing on the GPU."""
    if xp is np:
        return getattr(np, op).reduceat(a, starts, axis=0)
    from .kernels.gpu.segment import reduceat as gpu_reduceat
    return gpu_reduceat(op, a, starts)


def put_along_axis(xp, target, index, values, axis):
    """``np.put_along_axis`` for NumPy and CuPy (CuPy builds the index grid itself)."""
    if xp is np:
        np.put_along_axis(target, index, values, axis=axis)
        return target
    axis = axis % target.ndim
    grid = list(xp.ogrid[tuple(slice(0, n) for n in index.shape)])
    grid[axis] = index
    target[tuple(grid)] = values
    return target


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"


def _kind_rank(dtype):
    # bool < integer < floating: the "category" used by PyTorch's promotion.
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(np.dtype(dtype).kind, 3)


def result_dtype(a_dtype, a_ndim, b_dtype, b_ndim):
    """Dtype of a binary op between arrays of the given dtypes and ranks (PyTorch's rule).

    Kinds rank bool < integer < floating. Operands of equal rank class (both 0-d, or both
    with dimensions) promote as usual, except that int64 with float32 stays float32.
    Between a 0-d operand and a dimensioned one, the 0-d operand decides only when its
    kind is higher, and then its own dtype is the result:

        int32 vector + float64 0-d  -> float64      float32 vector + float64 0-d -> float32
        bool vector  + int8 0-d     -> int8         uint8 vector   + int64 0-d   -> uint8
    """
    a_dtype, b_dtype = np.dtype(a_dtype), np.dtype(b_dtype)
    if a_dtype == b_dtype:
        return a_dtype
    ka, kb = _kind_rank(a_dtype), _kind_rank(b_dtype)
    if (a_ndim == 0) != (b_ndim == 0):
        dim_dtype, dim_kind = (b_dtype, kb) if a_ndim == 0 else (a_dtype, ka)
        zero_dtype, zero_kind = (a_dtype, ka) if a_ndim == 0 else (b_dtype, kb)
        return dim_dtype if zero_kind <= dim_kind else zero_dtype
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


def _python_dtype(value):
    """The dtype PyTorch gives a Python number: bool, int64, or the default float."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_dtype
    raise TypeError(f"expected a tensor or a Python number, got {type(value).__name__}")


def result_type(tensor1, tensor2):
    """The dtype of ``tensor1 op tensor2`` (each a tensor or a Python number), by
    PyTorch's promotion rules (``mc.result_type``)."""
    ta, tb = (hasattr(x, "dtype") and hasattr(x, "ndim") for x in (tensor1, tensor2))
    if ta and tb:
        return result_dtype(tensor1.dtype, tensor1.ndim, tensor2.dtype, tensor2.ndim)
    if ta or tb:
        t, value = (tensor1, tensor2) if ta else (tensor2, tensor1)
        return np.dtype(scalar_dtype(value, t.dtype))
    a, b = _python_dtype(tensor1), _python_dtype(tensor2)
    return a if _kind_rank(a) >= _kind_rank(b) else b


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to without changing kind downwards, as
    PyTorch (``int32`` with ``float32`` gives float32, where NumPy says float64)."""
    return result_dtype(type1, 1, type2, 1)


def can_cast(from_, to):
    """Whether PyTorch allows casting ``from_`` to ``to`` in type promotion: never to a
    lower kind (bool < integer < floating), any size within or above it."""
    return _kind_rank(from_) <= _kind_rank(to)


def finfo(type=None):
    """Machine limits of a floating dtype (default: the default dtype): ``eps``, ``max``,
    ``min``, ``tiny``, ``smallest_normal``, ``resolution``, ``bits`` (NumPy's finfo)."""
    return np.finfo(_default_dtype if type is None else type)


def iinfo(type):
    """Limits of an integer dtype: ``min``, ``max``, ``bits`` (NumPy's iinfo)."""
    return np.iinfo(type)


# ----------------------------------------------------------------------------- random state

_rng = np.random.default_rng(0)
_initial_seed = 0


def manual_seed(seed):
    """Seed minicv's generator, NumPy's global generator and Python's ``random``.

    Everything random in minicv (``randn``, dropout, init, shuffling, augmentation) draws
    from :func:`get_rng`, so one call makes a run reproducible.
    """
    global _rng, _initial_seed
    seed = _check_seed(seed)
    _initial_seed = seed
    _rng = np.random.default_rng(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return _rng


def get_rng():
    """minicv's global ``numpy.random.Generator``."""
    return _rng


def as_generator(generator):
    """A ``generator=`` argument as a ``numpy.random.Generator``: a :class:`Generator`
    gives the NumPy generator inside it (shared, so draws advance it), an int seed
    becomes a new Generator (once, so later draws continue its stream), a NumPy
    Generator stays itself, None stays None (meaning: draw from :func:`get_rng` at the
    time of use)."""
    if isinstance(generator, Generator):
        return generator._rng
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed, a minicv.Generator or a "
                    f"numpy.random.Generator, got {type(generator).__name__}")


def _check_seed(seed):
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return seed


class Generator:
    """A private random stream, PyTorch's ``torch.Generator``: pass it as ``generator=``
    to ``mc.rand/randn/randint/randperm``, ``Tensor.uniform_/normal_``, ``nn.init.*``,
    the samplers, ``random_split`` and ``DataLoader``. It is independent of
    :func:`manual_seed`'s global stream.

    Inside is a ``numpy.random.Generator`` (PCG64); the same seed gives the same values.
    Values are always drawn on the host, so ``device`` is only recorded (a tensor made on
    a GPU gets a copy of host draws, as with the global generator).

    :meth:`get_state` returns a uint8 tensor holding the NumPy bit-generator state as
    JSON (PyTorch also returns a uint8 tensor, with another layout): opaque, it only
    round-trips through :meth:`set_state`.

    Example::

        g = mc.Generator().manual_seed(0)
        train, val = mc.data.random_split(ds, [0.9, 0.1], generator=g)
    """

    def __init__(self, device="cpu"):
        self.device = Device(device)
        self._initial_seed = 67280421310721        # PyTorch's default seed
        self._rng = np.random.default_rng(self._initial_seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (a non-negative int); returns ``self``."""
        self._initial_seed = _check_seed(seed)
        # Reseed in place: samplers and loaders hold self._rng, and must see the reseed.
        self._rng.bit_generator.state = np.random.PCG64(self._initial_seed).state
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        import secrets
        seed = secrets.randbits(63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed this stream last started from."""
        return self._initial_seed

    def get_state(self):
        """A uint8 tensor snapshot of the stream, for :meth:`set_state`."""
        import json
        from .tensor import Tensor
        text = json.dumps({"initial_seed": self._initial_seed,
                           "bit_generator": self._rng.bit_generator.state})
        return Tensor(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, state):
        """Restore a snapshot taken by :meth:`get_state`; returns ``self``."""
        import json
        data = np.asarray(to_numpy(getattr(state, "data", state)), dtype=np.uint8)
        try:
            saved = json.loads(data.tobytes().decode())
            self._rng.bit_generator.state = saved["bit_generator"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"set_state expects a state from Generator.get_state() "
                               f"(a uint8 tensor), but could not read it: {e}") from None
        self._initial_seed = saved["initial_seed"]
        return self

    def __repr__(self):
        return f"<minicv.Generator device={self.device} initial_seed={self._initial_seed}>"


def initial_seed():
    """The seed given to the last :func:`manual_seed` (0 at start)."""
    return _initial_seed


def get_rng_state():
    """A JSON-able snapshot of minicv's generator (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    _rng.bit_generator.state = state


# ----------------------------------------------------------------------------- threads

_blas_setters = []          # memoised: [the setter function or None]


def blas_thread_setter():
    """A function ``set(n)`` that resizes every loaded OpenBLAS pool (NumPy's bundled one
    included) through ctypes, or None when no OpenBLAS is loaded. Found once, then cached.
    """
    if not _blas_setters:
        import ctypes
        fns = []
        try:
            with open("/proc/self/maps") as f:
                paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
        except OSError:
            paths = []
        for path in paths:
            lib = ctypes.CDLL(path)
            for name in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                         "openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    fns.append(fn)
                    break

        def set_threads(n):
            for fn in fns:
                fn(ctypes.c_int(int(n)))
        _blas_setters.append(set_threads if fns else None)
    return _blas_setters[0]


def _blas_set_threads(n):
    """Resize the OpenBLAS pools to ``n`` threads; False when there is no OpenBLAS."""
    setter = blas_thread_setter()
    if setter is not None:
        setter(n)
    return setter is not None


def import_numba():
    """Import Numba, letting it use 512-bit vectors on CPUs with AVX-512.

    LLVM's default tuning for AVX-512 Intel CPUs prefers 256-bit vectors (older Xeons
    lowered their clock on 512-bit instructions).  On the dev machine (Emerald Rapids)
    the direct 3x3 kernels ran 20 % faster with 512-bit vectors (fwd+bwd, C = K = 16 and
    32, ``tests/kernels`` unchanged), so before Numba builds its first function we add
    ``-prefer-256-bit`` to the host's features.  This only steers code generation (the
    results are the same), it is skipped when ``NUMBA_CPU_FEATURES`` is set, and it has no
    effect if Numba compiled something before minicv's first kernel.  The on-disk cache
    keys on the features, so cached kernels never mix the two.
    """
    import numba
    from numba.core import config
    if not config.CPU_FEATURES and _has_avx512():
        import llvmlite.binding as llvm
        config.CPU_FEATURES = llvm.get_host_cpu_features().flatten() + ",-prefer-256-bit"
    return numba


@functools.lru_cache(maxsize=None)
def _has_avx512():
    """Whether the CPU has AVX-512 (Linux's /proc/cpuinfo; False where it cannot tell)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return " avx512f" in line
    except OSError:
        pass
    return False


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
    numba = import_numba()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    _num_threads = n


_num_threads = os.cpu_count() or 1


def get_num_threads():
    return _num_threads
