"""Numerical switches of the GPU backend, PyTorch-style: ``mc.backends.allow_tf32``.

``allow_tf32`` (default False): let cuBLAS run float32 GEMMs (matmul, linear, and the
GEMMs of convolution) on TF32 tensor cores. TF32 keeps 10 bits of mantissa instead of 23:
about 3x faster on an H100, but the error of a conv grows from ~1e-6 to ~1e-3 relative,
enough to break gradient checks and Winograd comparisons (mlx PR#4242 measured a 4,860x
larger Winograd error). So minicv keeps full float32 unless you opt in::

    import minicv as mc
    mc.backends.allow_tf32 = True      # faster float32 GEMMs on Ampere and newer GPUs

How it works: CuPy picks the cuBLAS compute type per dtype; it uses TF32 for float32
only when the environment variable ``CUPY_TF32=1`` is set, or when
``cupy._core.set_compute_type(float32, COMPUTE_TYPE_TF32)`` is called. minicv sets the
compute type explicitly whenever this flag changes and the first time it uses CuPy, so
the flag wins over ``CUPY_TF32`` in either direction. On the CPU the flag does nothing.
Setting the flag never imports CuPy by itself.
"""
import sys
import types


def _apply_to_cupy(cupy):
    """Push the current ``allow_tf32`` into CuPy's cuBLAS compute type for float32."""
    import numpy as np
    try:
        from cupy._core import _routines_linalg as linalg
    except ImportError:            # a CuPy without the compute-type switch: nothing to do
        return
    mode = linalg.COMPUTE_TYPE_TF32 if _state["allow_tf32"] else linalg.COMPUTE_TYPE_DEFAULT
    linalg.set_compute_type(np.float32, mode)


def tf32_in_use():
    """True if CuPy would run float32 GEMMs on TF32 now (False without CuPy)."""
    if "cupy" not in sys.modules:
        return False
    import numpy as np
    from cupy._core import _routines_linalg as linalg
    return linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32


_state = {"allow_tf32": False}


class _BackendsModule(types.ModuleType):
    """Module class that turns ``allow_tf32`` into a property with a side effect."""

    @property
    def allow_tf32(self):
        return _state["allow_tf32"]

    @allow_tf32.setter
    def allow_tf32(self, value):
        if not isinstance(value, bool):
            raise TypeError(f"allow_tf32 must be True or False, got {value!r}")
        _state["allow_tf32"] = value
        if "cupy" in sys.modules:          # already in use: apply now; else on first use
            _apply_to_cupy(sys.modules["cupy"])


sys.modules[__name__].__class__ = _BackendsModule
