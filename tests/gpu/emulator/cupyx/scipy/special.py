"""``cupyx.scipy.special`` emulated: ``erf`` (minicv's exact GELU) and ``erfc``
(``mc.erfc``, ``mc.erfinv``), elementwise through the C library's functions."""
import math

import numpy as np

from cupy._array import ndarray, unwrap, wrap


def _elementwise(fn):
    ufunc = np.frompyfunc(fn, 1, 1)

    def apply(x):
        if not isinstance(x, ndarray):
            raise TypeError(f"Unsupported type {type(x)}")
        a = unwrap(x)
        return wrap(np.asarray(ufunc(a), dtype=a.dtype))
    apply.__name__ = fn.__name__
    return apply


erf = _elementwise(math.erf)
erfc = _elementwise(math.erfc)
