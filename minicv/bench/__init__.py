"""``python -m minicv bench [SUITE ...]`` (overhead, conv, optim, data, train, layers, modules,
losses, all): benchmarks that put minicv beside PyTorch on the same machine (interleaved
runs, medians, ratios)."""
import importlib

from .common import machine, print_table

# suite name -> (module, function returning rows, columns attribute)
SUITES = {
    "overhead": ("overhead", "bench_overhead"),
    "conv": ("conv", "bench_conv"),
    "optim": ("optim", "bench_optim"),
    "data": ("data", "bench_data"),
    "train": ("train", "bench_train"),
    "layers": ("layers", "bench_layers"),
    "modules": ("modules", "bench_modules"),
    "losses": ("modules", "bench_losses"),
}


GPU_SUITES = {"train": ("bench_train", "TRAIN_COLUMNS"), "conv": ("bench_conv", "CONV_COLUMNS")}


def run_gpu(names, device="cuda"):
    """Run the GPU variants (``bench/gpu.py``) of the named suites on ``device``."""
    from . import gpu
    print(f"machine: {machine()}, GPU {gpu.gpu_name(device)} ({device})")
    results = {}
    for name in names:
        if name not in GPU_SUITES:
            print(f"\n{name}: no GPU variant (runs on the CPU only); skipped")
            continue
        fn_name, columns = GPU_SUITES[name]
        rows = getattr(gpu, fn_name)(device=device)
        print_table(f"{name} on {device}", rows, getattr(gpu, columns))
        results[name] = rows
    return results


def run(names, **kwargs):
    """Run the named suites, print their tables under the machine's name, return rows."""
    print(f"machine: {machine()}")
    results = {}
    for name in names:
        mod_name, fn_name = SUITES[name]
        try:
            mod = importlib.import_module(f".{mod_name}", __name__)
        except ModuleNotFoundError as e:
            print(f"\n{name}: not available in this build ({e.name} is missing)")
            continue
        rows = getattr(mod, fn_name)(**kwargs.get(name, {}))
        print_table(name, rows, getattr(mod, "COLUMNS"))
        results[name] = rows
    return results
