"""``cupy.linalg`` emulated: NumPy's routines on device arrays (``det``, ``slogdet``, ``inv``,
``solve``, ... as CuPy 14 names them; only functions NumPy has too)."""
import numpy as np

from ._array import API, call

_NS = "cupy.linalg"


def _routine(name):
    np_fn = getattr(np.linalg, name)

    def fn(*args, **kwargs):
        return call(_NS, name, np_fn, args, kwargs)
    fn.__name__ = fn.__qualname__ = name
    return fn


for _name in API[_NS]["functions"]:
    if hasattr(np.linalg, _name):
        globals()[_name] = _routine(_name)
del _name
