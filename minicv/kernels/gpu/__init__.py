"""CuPy GPU kernels: thin wrappers that launch the CUDA C of ``csrc/*.cu``.

Each module mirrors one of ``kernels/cpu/`` with the same signatures and memory layouts
(``im2col``, ``winograd``, ``pool``, ``resample``); ``conv`` mirrors ``conv_algo``'s entry
points and is what the autograd ops call when their arrays are CuPy arrays. Importing this
package imports CuPy, so only code that already holds a CuPy array imports it (the ops do
so lazily). Kernels compile once per process on first use (NVRTC) and are cached on disk by
CuPy (``CUPY_CACHE_DIR``, default ``~/.cupy/kernel_cache``), see :mod:`.module`.
"""
