"""``python -m minicv bench [overhead|conv|optim|data|train|all]``: benchmarks that put
minicv beside PyTorch on the same machine (interleaved runs, medians, ratios)."""
import importlib

from .common import machine, print_table

# suite name -> (module, function returning rows, columns attribute)
SUITES = {
    "overhead": ("overhead", "bench_overhead"),
    "conv": ("conv", "bench_conv"),
    "optim": ("optim", "bench_optim"),
    "data": ("data", "bench_data"),
    "train": ("train", "bench_train"),
}


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
