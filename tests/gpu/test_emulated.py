"""The GPU path on a machine without a GPU: every ``gpu`` test on the CuPy emulator.

``tests/gpu/emulator`` holds an emulated ``cupy`` (see its ``__init__``): arrays in host
memory, the csrc/*.cu kernels compiled by g++ and run thread by thread, and CuPy's
strictness about host and device data. With it first on ``PYTHONPATH``, a child pytest
runs every test marked ``gpu`` (CPU/GPU parity of the ops, the kernels against the
reference, CuPy's semantics) and a child process trains on ``--device cuda``. It proves
the kernels' arithmetic and minicv's GPU plumbing, not GPU speed or CUDA's own behaviour:
``bash tests/gpu/check.sh`` on a real GPU does that.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "tests" / "gpu" / "emulator"

pytestmark = pytest.mark.skipif(shutil.which("g++") is None,
                                reason="the CuPy emulator compiles kernels with g++")


def _run(args, tmp_path, timeout=900):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EMULATOR), str(ROOT)]),
               CUPY_EMULATOR_CACHE=str(tmp_path / "kernels"))
    env.pop("CUPY_TF32", None)
    out = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, timeout=timeout,
                         capture_output=True, text=True)
    assert out.returncode == 0, (f"{' '.join(args)} exited {out.returncode}:\n"
                                 f"{out.stdout[-6000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def test_gpu_tests_pass_on_the_emulator(tmp_path):
    out = _run(["-m", "pytest", "-m", "gpu", str(ROOT / "tests" / "gpu"),
                str(ROOT / "tests" / "ops" / "test_ops_gpu.py"), "-p", "no:randomly",
                "-rs", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")],
               tmp_path)
    assert " passed" in out and "skipped" not in out.splitlines()[-1], out[-3000:]


def test_training_on_cuda_runs_on_the_emulator(tmp_path):
    out = _run(["-m", "minicv", "train", "--device", "cuda", "--epochs", "2", "--train-size",
                "3000", "--val-size", "400", "--out", str(tmp_path / "run"), "--quiet"],
               tmp_path)
    acc = float(out.split("best validation accuracy")[1].split()[0].rstrip(";"))
    assert acc > 0.5, out
    assert (tmp_path / "run").is_dir()


def test_gpu_benchmarks_run_on_the_emulator(tmp_path):
    code = ("from minicv.bench import gpu\n"
            "rows = gpu.bench_conv(repeats=1, layers=[(2, 3, 8, 4, 3, 1, 1, 1)])\n"
            "assert rows and rows[0]['fwdbwd_ms'] > 0, rows\n"
            "rows = gpu.bench_train(repeats=1, batch=4, models=('lenet5',), cpu_repeats=1)\n"
            "assert rows[0]['speedup'] > 0, rows\n"
            "print(gpu.gpu_name())\n")
    assert "emulator" in _run(["-c", code], tmp_path)
