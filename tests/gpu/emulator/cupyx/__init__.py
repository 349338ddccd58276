"""``cupyx`` emulated: ``scatter_add`` (NumPy's ``add.at`` on device arrays)."""
import numpy as np

from cupy._array import ndarray, unwrap


def scatter_add(a, slices, value):
    if not isinstance(a, ndarray):
        raise TypeError(f"scatter_add: expected a cupy.ndarray target, got {type(a)}")
    np.add.at(a._a, unwrap(slices), unwrap(value))
