"""``cupyx`` emulated: ``scatter_add`` (NumPy's ``add.at`` on device arrays)."""
import numpy as np

from cupy._array import check_at_dtype, ndarray, unwrap


def scatter_add(a, slices, value):
    if not isinstance(a, ndarray):
        raise TypeError(f"scatter_add: expected a cupy.ndarray target, got {type(a)}")
    check_at_dtype("add", a)
    np.add.at(a._a, unwrap(slices), unwrap(value))
