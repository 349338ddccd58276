"""``cupy.lib.stride_tricks`` emulated: NumPy's ``as_strided`` and
``sliding_window_view`` on device arrays (the results are views of their input)."""
import numpy as np

from .._array import call

_NS = "cupy.lib.stride_tricks"


def as_strided(x, shape=None, strides=None):
    return call(_NS, "as_strided", np.lib.stride_tricks.as_strided, (x,),
                {"shape": shape, "strides": strides})


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    return call(_NS, "sliding_window_view", np.lib.stride_tricks.sliding_window_view,
                (x, window_shape), {"axis": axis, "subok": subok, "writeable": writeable})
