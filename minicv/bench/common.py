"""Benchmark helpers: interleaved timing with medians, the machine's name, the optional
PyTorch baseline. Ratios, not absolute times, are what we quote: machines are noisy."""
import os
import platform
import statistics
import time


def machine():
    """One line naming the CPU, the core count, Python, NumPy's BLAS and thread count."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy as np
    blas = "?"
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]["name"]
    except Exception:
        pass
    from ..backend import get_num_threads
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__} ({blas}), {get_num_threads()} threads")


def torch_or_none(threads=None):
    """PyTorch if installed (the optional baseline), with its thread count set."""
    try:
        import torch
    except ImportError:
        return None
    from ..backend import get_num_threads
    torch.set_num_threads(threads or get_num_threads())
    return torch


def interleaved(fns, repeats=15, warmup=2, settle=True):
    """Median seconds per call of each callable, alternating them run by run so that
    drifts of the machine hit every contender alike.

    With ``settle`` each timed call follows one untimed call of the same function: a
    library's thread pool keeps spinning for a while after its work (OpenBLAS's,
    PyTorch's OpenMP team), and without the settling call that spin would be charged to
    whichever contender runs next.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if settle:
                fn()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def print_table(title, rows, columns):
    """Print rows (dicts) as an aligned table with the given (key, header, fmt) columns."""
    print(f"\n{title}")
    cells = [[h for _, h, _ in columns]]
    for r in rows:
        cells.append([("-" if r.get(k) is None else fmt.format(r[k])) for k, _, fmt in columns])
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    for i, c in enumerate(cells):
        print("  ".join(s.rjust(w) if j else s.ljust(w) for j, (s, w) in
                        enumerate(zip(c, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
