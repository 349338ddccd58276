"""Every CUDA source in csrc/ compiles under NVRTC, the compiler CuPy's RawModule uses.

Runs without a GPU (CI has none): ``cuda.bindings.nvrtc`` from the PyPI packages
cuda-bindings and nvidia-cuda-nvrtc is the same runtime compiler CuPy calls, so a syntax
error, a type error or a host ``#include`` (NVRTC has no host headers) fails here before it
can land. Not marked ``gpu``. Skipped, with the reason, only when cuda.bindings is missing.
"""
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parents[2] / "csrc"
SOURCES = sorted(CSRC.glob("*.cu"))
OPTIONS = (b"--gpu-architecture=compute_90", b"--std=c++17")


def _nvrtc():
    try:
        from cuda.bindings import nvrtc
    except ImportError:
        pytest.skip("cuda.bindings is not installed: pip install cuda-bindings "
                    "nvidia-cuda-nvrtc (the 'test' extra) to compile csrc/*.cu with NVRTC")
    return nvrtc


def _check(nvrtc, result):
    err = result[0]
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        raise RuntimeError(f"NVRTC call failed: {err}")
    return result[1:] if len(result) > 2 else (result[1] if len(result) == 2 else None)


def compile_source(source, name="kernel.cu"):
    """Compile CUDA C with NVRTC; return (ok, log text)."""
    nvrtc = _nvrtc()
    prog = _check(nvrtc, nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], []))
    try:
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(OPTIONS), list(OPTIONS))
        size = _check(nvrtc, nvrtc.nvrtcGetProgramLogSize(prog))
        log = b" " * size
        _check(nvrtc, nvrtc.nvrtcGetProgramLog(prog, log)) if size > 1 else None
        ok = err == nvrtc.nvrtcResult.NVRTC_SUCCESS
        return ok, log.decode(errors="replace").rstrip("\x00 \n")
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def test_csrc_has_the_kernel_families():
    assert {p.name for p in SOURCES} >= {"im2col.cu", "winograd.cu", "pool.cu", "resample.cu",
                                         "batchnorm.cu", "depthwise.cu", "activation.cu",
                                         "optim.cu"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_cu_compiles_under_nvrtc(path):
    ok, log = compile_source(path.read_text(), path.name)
    assert ok, f"{path.name} does not compile under NVRTC:\n{log}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_cu_has_no_host_includes_and_int32_args(path):
    text = path.read_text()
    assert "#include" not in text, f"{path.name}: NVRTC has no host headers"
    for line in text.splitlines():
        if line.lstrip().startswith("extern \"C\""):
            assert "size_t" not in line and "long int" not in line, line


def test_a_broken_kernel_fails_to_compile():
    """The check can fail: a type error and a host include are both reported."""
    ok, log = compile_source('extern "C" __global__ void k(float* y) { y[0] = undefined; }')
    assert not ok and "undefined" in log
    ok, log = compile_source('#include <cstdio>\nextern "C" __global__ void k() {}')
    assert not ok and "cstdio" in log
