"""``cupy.RawModule`` emulated: the .cu source compiled by g++ and run thread by thread.

The source is compiled unchanged, with ``shim.h`` standing in for CUDA's built-ins. For
every ``extern "C" __global__`` entry point (found in the preprocessed source, so entry
points made by macros count) a launcher loops over the grid's blocks and each block's
threads in order, setting ``blockIdx``/``threadIdx`` and calling the kernel. That is
exact for kernels whose threads never talk to each other (no shared memory, no
``__syncthreads``, no atomics), which is how minicv's kernels are written.

Arguments are checked as a GPU cannot: each array must be C-contiguous with the
pointee's dtype, each scalar must have the parameter's exact C type (a Python int would
reach the GPU as a 64-bit ``long long``; CuPy sends Python ints that way). Arrays are
copied into buffers with guard zones, so a write out of bounds is caught and a read out
of bounds reads NaN-filled guard bytes.
"""
import ctypes
import hashlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import _stats

SHIM = Path(__file__).resolve().parent / "shim.h"
GUARD = 4096                  # bytes of guard zone before and after each array
_GUARD_BYTE = 0xFF            # float NaN, integer -1
_CACHE = Path(os.environ.get("CUPY_EMULATOR_CACHE",
                             Path(tempfile.gettempdir()) / "minicv-cupy-emulator"))

# C parameter type (pointer or not stripped) -> NumPy dtype
_C_TYPES = {
    "float": np.float32, "double": np.float64, "int": np.int32, "unsigned": np.uint32,
    "unsigned int": np.uint32, "long long": np.int64, "long long int": np.int64,
    "unsigned long long": np.uint64, "bool": np.bool_, "char": np.int8,
    "signed char": np.int8, "unsigned char": np.uint8, "short": np.int16,
    "int64_t": np.int64, "int32_t": np.int32, "size_t": np.uint64,
}
_ENTRY = re.compile(r'extern\s+"C"\s+__emu_kernel__\s+void\s+(\w+)\s*\(([^)]*)\)')


class CompileError(RuntimeError):
    pass


def _param(text):
    """'const float* __restrict__ x' -> ('const float* __restrict__', float32, True)."""
    text = " ".join(text.split())
    ctype = re.sub(r"\s*\b\w+$", "", text)          # drop the parameter's name
    pointer = "*" in ctype
    base = re.sub(r"\b(const|volatile|__restrict__|__restrict)\b|\*", " ", ctype)
    base = " ".join(base.split())
    if base not in _C_TYPES:
        raise CompileError(f"emulator: unsupported kernel parameter type {text!r}")
    return ctype, np.dtype(_C_TYPES[base]), pointer


def _entry_points(code, options):
    """{name: [(ctype, dtype, is_pointer), ...]} of the source's extern "C" kernels."""
    pre = subprocess.run(
        ["g++", "-E", "-P", "-x", "c++", *options, "-D__global__=__emu_kernel__",
         "-D__device__=", "-D__forceinline__=inline", "-"],
        input=code, capture_output=True, text=True)
    if pre.returncode:
        raise CompileError(f"emulator: preprocessing failed:\n{pre.stderr}")
    kernels = {}
    for name, params in _ENTRY.findall(pre.stdout):
        plist = [p for p in params.split(",") if p.strip()]
        kernels[name] = [_param(p) for p in plist]
    return kernels


def _launcher(name, params):
    """C++ source of ``__emu_launch_<name>(grid, block, args)``: every thread in order."""
    call = ", ".join(f"*({ctype}*)args[{i}]" for i, (ctype, _, _) in enumerate(params))
    return f"""
extern "C" void __emu_launch_{name}(const unsigned* g, const unsigned* b, void** args) {{
    gridDim = dim3{{g[0], g[1], g[2]}};
    blockDim = dim3{{b[0], b[1], b[2]}};
    for (unsigned bz = 0; bz < g[2]; ++bz)
    for (unsigned by = 0; by < g[1]; ++by)
    for (unsigned bx = 0; bx < g[0]; ++bx) {{
        blockIdx = dim3{{bx, by, bz}};
        for (unsigned tz = 0; tz < b[2]; ++tz)
        for (unsigned ty = 0; ty < b[1]; ++ty)
        for (unsigned tx = 0; tx < b[0]; ++tx) {{
            threadIdx = dim3{{tx, ty, tz}};
            {name}({call});
        }}
    }}
}}
"""


def _build(code, options, kernels):
    """Compile ``code`` with its launchers into a shared library (cached by content)."""
    options = [o for o in options if o.startswith(("-std", "-D", "-I"))]
    launchers = "".join(_launcher(n, p) for n, p in kernels.items())
    src = f'#include "{SHIM}"\n{code}\n{launchers}'
    key = hashlib.sha256((src + " ".join(options)).encode()).hexdigest()[:20]
    lib = _CACHE / f"{key}.so"
    if not lib.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        cu = _CACHE / f"{key}.{os.getpid()}.cpp"
        cu.write_text(src)
        tmp = _CACHE / f"{key}.{os.getpid()}.so"
        out = subprocess.run(["g++", "-O2", "-shared", "-fPIC", *options, "-o", str(tmp),
                              str(cu)], capture_output=True, text=True)
        cu.unlink()
        if out.returncode:
            raise CompileError(f"emulator: g++ failed on the kernel source:\n{out.stderr}")
        os.replace(tmp, lib)                # atomic: a concurrent build sees all or nothing
    return ctypes.CDLL(str(lib))


class RawModule:
    """Stand-in for ``cupy.RawModule(code=..., options=...)``."""

    def __init__(self, code=None, *, path=None, options=(), backend="nvrtc", **kwargs):
        if code is None:
            code = Path(path).read_text()
        self.code = code
        self.options = tuple(options)
        self._lib = None
        self._kernels = None

    def get_function(self, name):
        if self._kernels is None:
            self._kernels = _entry_points(self.code, self.options)
            self._lib = _build(self.code, self.options, self._kernels)
        if name not in self._kernels:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: named symbol not found: {name!r} "
                               f"(the source has {sorted(self._kernels)})")
        return RawKernel(name, self._kernels[name], getattr(self._lib, f"__emu_launch_{name}"))


def _dim3(v, what):
    """A grid or block size (an int or 1 to 3 ints) as a C ``unsigned[3]``."""
    v = tuple(int(d) for d in ((v,) if np.isscalar(v) else v))
    if not 1 <= len(v) <= 3 or min(v) < 1:
        raise ValueError(f"{what} must be 1 to 3 positive ints, got {v}")
    if what == "block" and int(np.prod(v)) > 1024:
        raise ValueError(f"block {v} has more than 1024 threads")
    return (ctypes.c_uint * 3)(*(v + (1, 1))[:3])


class RawKernel:
    """One entry point: ``kernel(grid, block, args)`` as CuPy calls it."""

    def __init__(self, name, params, launch):
        self.name = name
        self.params = params
        self._launch = launch
        self._launch.restype = None

    def __call__(self, grid, block, args, *, shared_mem=0, stream=None):
        from ._array import ndarray
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"kernel {self.name} takes {len(self.params)} arguments, "
                            f"got {len(args)}")
        holders, guarded = [], []
        for i, (arg, (ctype, dtype, pointer)) in enumerate(zip(args, self.params)):
            where = f"kernel {self.name}, argument {i} ({ctype})"
            if pointer and arg is None:
                # CuPy versions differ: recent ones send NULL, older ones the address of
                # an empty holder. Code that must run on every CuPy never passes None.
                raise TypeError(f"{where}: None for a pointer argument; pass a placeholder "
                                f"array and a flag (CuPy versions send None differently)")
            elif pointer:
                if not isinstance(arg, ndarray):
                    raise TypeError(f"{where}: expected a cupy.ndarray, got {type(arg)}")
                a = arg._a
                if a.dtype != dtype:
                    raise TypeError(f"{where}: array of dtype {a.dtype}; the kernel reads "
                                    f"{dtype}")
                if not a.flags.c_contiguous:
                    raise ValueError(f"{where}: array of shape {a.shape} is not "
                                     f"C-contiguous; the kernel would read it as if it were")
                buf = np.full(a.nbytes + 2 * GUARD, _GUARD_BYTE, dtype=np.uint8)
                buf[GUARD:GUARD + a.nbytes] = a.reshape(-1).view(np.uint8)
                guarded.append((i, a, buf))
                holders.append(ctypes.c_void_p(buf.ctypes.data + GUARD))
            else:
                if isinstance(arg, (np.generic,)) and arg.dtype == dtype:
                    holders.append(np.array(arg, dtype=dtype))
                else:
                    sent = "int64 (long long)" if isinstance(arg, int) else (
                        "float64 (double)" if isinstance(arg, float) else
                        getattr(arg, "dtype", type(arg)))
                    raise TypeError(f"{where}: got {type(arg).__name__} sent as {sent}; pass "
                                    f"numpy.{dtype.name}(...) so the kernel reads what it "
                                    f"expects")
        ptrs = (ctypes.c_void_p * max(1, len(holders)))()
        for i, h in enumerate(holders):
            ptrs[i] = (ctypes.addressof(h) if isinstance(h, ctypes.c_void_p)
                       else h.ctypes.data)
        self._launch(_dim3(grid, "grid"), _dim3(block, "block"), ptrs)
        _stats.count(self.name)
        for i, a, buf in guarded:
            if (buf[:GUARD] != _GUARD_BYTE).any() or (buf[GUARD + a.nbytes:] !=
                                                      _GUARD_BYTE).any():
                raise RuntimeError(f"kernel {self.name} wrote outside argument {i} "
                                   f"(shape {a.shape}, {a.dtype})")
            a.reshape(-1).view(np.uint8)[...] = buf[GUARD:GUARD + a.nbytes]
