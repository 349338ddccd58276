"""``cupyx.scipy.special`` emulated: ``erf`` only (what minicv's exact GELU uses)."""
import math

import numpy as np

from cupy._array import ndarray, unwrap, wrap

_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    if not isinstance(x, ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    a = unwrap(x)
    return wrap(np.asarray(_erf(a), dtype=a.dtype))
