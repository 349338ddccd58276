"""`import minicv` stays light: nothing compiles, no Numba, no CuPy, no torch."""
import subprocess
import sys

import pytest


def test_import_loads_no_heavy_module():
    code = ("import sys, minicv as mc; x = mc.randn(3, requires_grad=True); "
            "(x * x).sum().backward(); "
            "print(sorted(m for m in ('numba', 'cupy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_submodules_load_on_first_use():
    code = "import minicv as mc; print(mc.nn.Linear(2, 3).weight.shape, mc.optim.SGD.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "(3, 2) SGD"


def _features_seen_by_numba(env_features=None):
    import os
    env = dict(os.environ)
    env.pop("NUMBA_CPU_FEATURES", None)
    if env_features is not None:
        env["NUMBA_CPU_FEATURES"] = env_features
    code = ("import minicv.kernels.cpu; from numba.core import config; "
            "print(config.CPU_FEATURES)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env).stdout.strip()


def test_numba_prefers_512_bit_vectors_only_on_avx512_and_never_over_the_user():
    from minicv.backend import _has_avx512
    feats = _features_seen_by_numba()
    if _has_avx512():
        assert feats.endswith(",-prefer-256-bit") and "+avx512f" in feats
    else:
        assert feats == ""
    assert _features_seen_by_numba("+sse2") == "+sse2"   # an explicit setting wins


def _faults_on_reuse(tuning):
    """Page faults of a second 20 MB buffer, after a first one was freed, in a fresh
    process once minicv's kernels have run."""
    import os
    env = dict(os.environ, MINICV_MALLOC_TUNING=tuning)
    code = ("import resource, numpy as np, minicv as mc\n"
            "from minicv.nn import functional as F\n"
            "F.relu(mc.tensor(np.random.rand(64, 32, 32, 32).astype(np.float32)))\n"
            "a = np.ones(5 << 20, np.float32); del a\n"
            "f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "b = np.ones(5 << 20, np.float32)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.strip()
    return int(out)


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_freed_memory_is_reused_without_page_faults():
    # glibc maps a fresh 20 MB block and gives it back on free (521 faults to touch the
    # next one on the dev VM); backend.keep_freed_memory keeps it in the heap (0 faults);
    # MINICV_MALLOC_TUNING=0 leaves malloc alone
    tuned, default = _faults_on_reuse("1"), _faults_on_reuse("0")
    assert tuned < 50 and default > max(5, 10 * tuned)   # (5: huge pages fault 2 MB each)
