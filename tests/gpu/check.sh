#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU and CuPy: the GPU parity tests, the NVRTC
# compile check, a short `minicv train --device cuda`, the GPU benchmarks and a profile of
# one training step, all written to gpu_results.txt (or $1).
#
#   bash tests/gpu/check.sh [results-file]
#
# The first run compiles the kernels with NVRTC (seconds) and stores them in CuPy's cache
# (CUPY_CACHE_DIR, default ~/.cupy/kernel_cache); benchmarks warm up first, so compile time
# never lands in a timing. With pytest-xdist and 8 or more cores the tests run in 8
# processes: a fresh machine compiles hundreds of CuPy kernels and Numba's CPU kernels
# (the CPU side of each comparison) before the first result. Each part has a time limit
# (a hang must not eat a lent GPU's budget); together they stay under 520 s, inside the
# device tool's 600 s per command. Exit status: non-zero if any part failed.
#
# On a lent device machine, where only $OUT comes back:  bash tests/gpu/check.sh $OUT/gpu.txt
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"    # the checkout's minicv, for scripts too
OUT="${1:-gpu_results.txt}"
# the first Python that has CuPy (on some GPU images `python` is not the one with it)
PY="${PYTHON:-}"
for cand in python python3; do
    [ -n "$PY" ] && break
    "$cand" -c "import cupy" 2>/dev/null && PY="$cand"
done
PY="${PY:-python3}"
XDIST=""
if "$PY" -c "import xdist" 2>/dev/null && [ "$(nproc)" -ge 8 ]; then XDIST="-n 8"; fi
status=0
part() {    # part SECONDS TITLE COMMAND...: run one part under a time limit, log it
    local limit=$1 title=$2; shift 2
    echo >> "$OUT"; echo "## $title" >> "$OUT"
    local t0=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee -a "$OUT"
    local rc=${PIPESTATUS[0]}
    echo "(part ended: exit $rc after $((SECONDS - t0)) s, limit $limit s)" | tee -a "$OUT"
    [ "$rc" = 0 ] || status=1
}
{
    echo "# minicv GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPU cores"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$PY" -c "import sys, cupy, numpy, numba; print('python', sys.version.split()[0], 'cupy',
    cupy.__version__, 'numpy', numpy.__version__, 'numba', numba.__version__, 'CUDA runtime',
    cupy.cuda.runtime.runtimeGetVersion())" || true
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuDNN',
    torch.backends.cudnn.version())" 2>/dev/null || echo "no PyTorch: no baseline"
} > "$OUT"
part 230 "GPU parity tests (pytest -m gpu tests/gpu tests/ops/test_ops_gpu.py $XDIST)" \
    "$PY" -m pytest -m gpu tests/gpu tests/ops/test_ops_gpu.py -p no:randomly $XDIST \
    -rs --durations=10
part 30 "NVRTC compile check (tests/gpu/test_nvrtc.py)" \
    "$PY" -m pytest tests/gpu/test_nvrtc.py -rs
part 50 "minicv train --device cuda --epochs 2 --quiet" \
    "$PY" -m minicv train --device cuda --epochs 2 --quiet --out /tmp/minicv-gpu-run
part 170 "python -m minicv bench --device cuda train conv" \
    "$PY" -m minicv bench --device cuda train conv
part 35 "where a ResNet-20 step's time goes (tests/gpu/profile_gpu_step.py)" \
    "$PY" tests/gpu/profile_gpu_step.py resnet20 64
echo "results written to $OUT (status $status)"
exit $status
