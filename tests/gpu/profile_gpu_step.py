"""Where a training step's time goes on a real GPU: the host or the device.

    python tests/gpu/profile_gpu_step.py [model] [batch]

A small step on a fast GPU is bound by the host (Python dispatch and kernel launches)
when the time to *issue* a step, measured without a synchronisation, is close to the
time to *finish* it, measured with one. Prints both medians, then the functions that
took the most host time over a few steps (cProfile, by own time). The counts of launches
behind these times come from the emulator (``tests/gpu/emulator/profile_step.py``).
"""
import cProfile
import pstats
import statistics
import sys
import time

import cupy
from minicv.bench.gpu import gpu_name
from minicv.bench.train import _minicv_step


def main(name="resnet20", batch=64, steps=20):
    if getattr(cupy, "EMULATED", False):
        sys.exit("this needs a real GPU: the emulator's times mean nothing")
    step = _minicv_step(name, batch, "cuda")        # the step `minicv bench train` times
    sync = cupy.cuda.Device().synchronize

    for _ in range(3):
        step()
    sync()
    issued, finished = [], []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        issued.append(time.perf_counter() - start)
        sync()
        finished.append(time.perf_counter() - start)
    print(f"{name}, batch {batch}, SGD step on {gpu_name()}: issued in "
          f"{statistics.median(issued) * 1e3:.2f} ms (host), finished in "
          f"{statistics.median(finished) * 1e3:.2f} ms (median of {steps})")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        step()
    sync()
    prof.disable()
    print("\nhost time over 5 steps, by own time:")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    _device_time(step, sync)


def _device_time(step, sync, steps=5):
    """The GPU's own busy time per step, from PyTorch's profiler when PyTorch is there:
    CUPTI records every kernel of the process, CuPy's included. Busy time far below the
    step's time means the host is the bottleneck."""
    try:
        from torch.profiler import ProfilerActivity, profile
    except ImportError:
        print("\n(no PyTorch: no kernel times)")
        return
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        sync()
    events = prof.key_averages()

    def own(e):                       # microseconds; the attribute's older name first
        return getattr(e, "self_cuda_time_total", None) or e.self_device_time_total
    busy = sum(own(e) for e in events) / steps / 1e3
    launches = sum(e.count for e in events) / steps
    print(f"\nGPU busy {busy:.2f} ms per step over {launches:.0f} kernels and copies "
          f"(PyTorch's profiler, {steps} steps); the most expensive:")
    for e in sorted(events, key=own, reverse=True)[:12]:
        print(f"  {own(e) / steps / 1e3:7.3f} ms  {e.count / steps:5.0f}x  "
              f"{e.key[:90]}")
    print("\nthe most launched (each launch costs the host 5-25 us):")
    for e in sorted(events, key=lambda e: e.count, reverse=True)[:20]:
        print(f"  {e.count / steps:5.0f}x  {own(e) / steps / 1e3:7.3f} ms  {e.key[:90]}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "resnet20", int(args[1]) if len(args) > 1 else 64)
