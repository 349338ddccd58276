"""What a GPU would have done, counted by the emulator: kernel launches, host<->device
copies and host synchronisations (each stalls the host until the GPU catches up).

A launch is counted for every ufunc call, every kernel, every index assignment, and every
function, method or indexing that returns new memory (views, ``empty`` and arrays already
in the right layout launch nothing). That is a model of CuPy, not a trace of it: some
CuPy functions launch several kernels. ``tests/gpu/emulator/profile_step.py`` prints the
counts for one training step.
"""
import collections
import sys

launches = collections.Counter()     # op name -> kernels launched
h2d = collections.Counter()          # (op name, minicv call site) -> host-to-device copies
syncs = collections.Counter()        # (op name, minicv call site) -> synchronisations
by_site = collections.Counter()      # minicv call site -> launches (when track_sites)
track_sites = False
_NO_KERNEL = frozenset({"empty", "empty_like", "ndarray"})


def reset():
    for c in (launches, h2d, syncs, by_site):
        c.clear()


def launched(name, result, inputs=()):
    """Count one launch for ``name`` if ``result`` is new memory (not a view of an input)."""
    import numpy as np
    if name in _NO_KERNEL:
        return
    arrays = [r for r in (result if isinstance(result, tuple) else (result,))
              if isinstance(r, np.ndarray)]
    bases = {id(root(a)) for a in inputs if isinstance(a, np.ndarray)}
    if not arrays or any(id(root(r)) not in bases for r in arrays):
        count(name)             # new memory, or a reduction to a scalar, an in-place op...


def count(name):
    launches[name] += 1
    if track_sites:
        by_site[_site()] += 1


def root(a):
    """The NumPy array that owns ``a``'s memory (``a`` itself if it owns it)."""
    import numpy as np
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def copied_in(name):
    """Count a host-to-device copy, with the minicv line that asked for it."""
    h2d[(name, _site())] += 1


def synced(name):
    """Count a synchronisation, with the minicv line that asked for it."""
    syncs[(name, _site())] += 1


def _site():
    """The innermost minicv source line on the stack ("?" if none)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if "/minicv/" in path and "/tests/" not in path:
            return f"{path.split('/minicv/', 1)[1]}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"
