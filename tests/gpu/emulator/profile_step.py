"""Count what one training step asks of a GPU, on the CuPy emulator (no GPU needed).

    PYTHONPATH=tests/gpu/emulator:. python tests/gpu/emulator/profile_step.py \
        [model] [batch] [sgd|adam]

Prints, per step (after two warm-up steps): kernel launches by op, host-to-device copies
and host synchronisations with the minicv line that caused each. A small training step on
a fast GPU is bound by launches and synchronisations, not by arithmetic, so these counts
are what to drive down; the times only a GPU can give (``minicv bench --device cuda``).
"""
import sys

import numpy as np

import cupy
import minicv as mc
from cupy import _stats
from minicv.models import get_model
from minicv.nn import functional as F


def main(name="resnet20", batch=64, optimizer="sgd", steps=2):
    if not getattr(cupy, "EMULATED", False):
        sys.exit("put tests/gpu/emulator first on PYTHONPATH: this counts on the emulator")
    mc.manual_seed(0)
    shape = (batch, 1, 28, 28) if name == "lenet5" else (batch, 3, 32, 32)
    model = get_model(name, num_classes=10).to("cuda")
    if optimizer == "adam":
        opt = mc.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
    else:
        opt = mc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    rng = np.random.default_rng(0)
    x = mc.tensor(rng.standard_normal(shape).astype(np.float32), device="cuda")
    y = mc.tensor(rng.integers(0, 10, batch), device="cuda")

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    _stats.reset()
    _stats.track_sites = True
    for _ in range(steps):
        step()
    n_launch = sum(_stats.launches.values()) / steps
    print(f"{name}, batch {batch}, {optimizer}: per training step {n_launch:.0f} kernel launches, "
          f"{sum(_stats.h2d.values()) / steps:.0f} host-to-device copies, "
          f"{sum(_stats.syncs.values()) / steps:.0f} synchronisations")
    print("\nlaunches by op:")
    for op, n in _stats.launches.most_common(25):
        print(f"  {n / steps:6.0f}  {op}")
    print("\nlaunches by minicv line:")
    for site, n in _stats.by_site.most_common(30):
        print(f"  {n / steps:6.0f}  {site}")
    if _stats.h2d:
        print("\nhost-to-device copies:")
        for (op, site), n in _stats.h2d.most_common(15):
            print(f"  {n / steps:6.0f}  {op:8s} {site}")
    if _stats.syncs:
        print("\nsynchronisations:")
        for (op, site), n in _stats.syncs.most_common(15):
            print(f"  {n / steps:6.0f}  {op:6s} {site}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "resnet20", int(args[1]) if len(args) > 1 else 64,
         args[2] if len(args) > 2 else "sgd")
