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
