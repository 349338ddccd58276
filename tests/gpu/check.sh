#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU and CuPy: the GPU parity tests, the NVRTC
# compile check, and the GPU benchmarks, all written to gpu_results.txt (or $1).
#
#   bash tests/gpu/check.sh [results-file]
#
# The first run compiles the kernels with NVRTC (seconds) and stores them in CuPy's cache
# (CUPY_CACHE_DIR, default ~/.cupy/kernel_cache); benchmarks warm up first, so compile time
# never lands in a timing. Each part has a time limit (a hang must not eat a lent GPU's
# budget); together they stay under 555 s, inside the device tool's 600 s per command.
# Exit status: non-zero if any part failed.
#
# On a lent device machine, where only $OUT comes back:  bash tests/gpu/check.sh $OUT/gpu.txt
set -u
cd "$(dirname "$0")/../.."
OUT="${1:-gpu_results.txt}"
status=0
{
    echo "# minicv GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    python -c "import cupy, numpy; print('cupy', cupy.__version__, 'numpy', numpy.__version__,
    'CUDA runtime', cupy.cuda.runtime.runtimeGetVersion())" || true
    echo
    echo "## GPU parity tests (pytest -m gpu tests/gpu tests/ops/test_ops_gpu.py)"
} > "$OUT"
timeout 270 python -m pytest -m gpu tests/gpu tests/ops/test_ops_gpu.py -p no:randomly \
    -rs --durations=10 2>&1 | tee -a "$OUT"; [ "${PIPESTATUS[0]}" = 0 ] || status=1
echo >> "$OUT"; echo "## NVRTC compile check (tests/gpu/test_nvrtc.py)" >> "$OUT"
timeout 45 python -m pytest tests/gpu/test_nvrtc.py -rs 2>&1 | tee -a "$OUT"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
echo >> "$OUT"; echo "## python -m minicv bench --device cuda train conv" >> "$OUT"
timeout 240 python -m minicv bench --device cuda train conv 2>&1 | tee -a "$OUT"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
echo "results written to $OUT (status $status)"
exit $status
