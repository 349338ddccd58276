"""`import minicv` stays light: nothing compiles, no Numba, no CuPy, no torch."""
import subprocess
import sys


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
