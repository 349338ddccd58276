"""Numba CPU kernels.  Each module mirrors a section of ``kernels/reference.py`` with the
same signatures and layouts.  Nothing compiles at import: every kernel is ``@njit(cache=True)``
without signatures and compiles (or loads from the on-disk cache) on its first call."""
from ...backend import import_numba

import_numba()  # before any kernel module imports Numba: 512-bit vectors on AVX-512
