"""Write ``cupy/_api.json``: the API surface of a real CuPy, for the emulator to enforce.

Run it with a real CuPy installed (no GPU needed: CuPy imports without one)::

    pip install cupy-cuda12x && python tests/gpu/emulator/make_api.py

The emulated ``cupy`` offers exactly the names recorded here and refuses keyword
arguments that the real function does not take, so code that only works on NumPy fails
on the emulator as it would on a GPU.
"""
import inspect
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]   # the real CuPy only

import cupy  # noqa: E402
import cupyx  # noqa: E402
import cupyx.scipy.special  # noqa: E402

if getattr(cupy, "EMULATED", False):
    sys.exit("make_api.py needs the real CuPy, not the emulator")
OUT = HERE / "cupy" / "_api.json"


def _signature(fn):
    """Keyword-capable parameter names, the names positional arguments fill (up to a
    ``*args``), and whether ``**kwargs`` is taken; None when not inspectable."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    ps = list(sig.parameters.values())
    params = [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    positional = [p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varkw = any(p.kind == p.VAR_KEYWORD for p in ps)
    return {"params": params, "positional": positional, "varkw": varkw}


def _namespace(module):
    """Public callables of ``module``: name -> signature (None if unknown); and ufuncs."""
    funcs, ufuncs, others = {}, [], []
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, cupy.ufunc):
            ufuncs.append(name)
        elif inspect.ismodule(obj):
            continue
        elif callable(obj) and not isinstance(obj, type):
            funcs[name] = _signature(obj)
        else:
            others.append(name)
    return {"functions": funcs, "ufuncs": ufuncs, "others": others}


def main():
    api = {
        "version": cupy.__version__,
        "cupy": _namespace(cupy),
        "cupy.linalg": _namespace(cupy.linalg),
        "cupy.lib.stride_tricks": _namespace(cupy.lib.stride_tricks),
        "cupyx": _namespace(cupyx),
        "cupyx.scipy.special": _namespace(cupyx.scipy.special),
        "ndarray": sorted(n for n in dir(cupy.ndarray) if not n.startswith("_")),
        "ufunc_methods": sorted(n for n in dir(cupy.add) if not n.startswith("_")),
    }
    OUT.write_text(json.dumps(api, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} (CuPy {cupy.__version__})")


if __name__ == "__main__":
    main()
