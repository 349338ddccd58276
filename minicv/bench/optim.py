"""``minicv bench optim``: one optimizer step over ResNet-20's parameters, and the fixed
cost of calling a small Module, each beside PyTorch (same threads, interleaved, medians).

Rows:
  * SGD (momentum 0.9, weight decay 5e-4) and Adam steps over the 59 parameter tensors
    of the CIFAR ResNet-20 (He et al. 2016, option A shortcuts: 269,722 values);
  * ``nn.Linear(8, 8)`` called on a (1, 8) input (gradients enabled), where the time is
    almost all framework overhead: Module.__call__, the op wrapper and the autograd node.

Run: ``python -m minicv bench optim`` or ``python -m minicv.bench.optim``.
"""
import numpy as np

from .common import interleaved, torch_or_none


def resnet20_shapes(num_classes=10):
    """Parameter shapes of the CIFAR ResNet-20 (conv weights, BN weight/bias, fc)."""
    shapes = [(16, 3, 3, 3), (16,), (16,)]
    cin = 16
    for cout in (16, 32, 64):
        for _ in range(3):
            shapes += [(cout, cin, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,),
                       (cout,)]
            cin = cout
    return shapes + [(num_classes, 64), (num_classes,)]


def _params(lib, shapes, seed=0):
    """Parameters with fixed random gradients, as minicv or torch tensors."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        p = rng.standard_normal(s).astype(np.float32) * 0.1
        g = rng.standard_normal(s).astype(np.float32) * 0.01
        if lib.__name__ == "torch":
            t = lib.tensor(p, requires_grad=True)
            t.grad = lib.from_numpy(g)
        else:
            t = lib.tensor(p, requires_grad=True)
            t.grad = lib.tensor(g)
        out.append(t)
    return out


def _step_fn(opt, n):
    def run():
        for _ in range(n):
            opt.step()
    return run


def bench_optim(repeats=15, steps_per_sample=10, calls_per_sample=2000):
    import minicv as mc
    from .. import nn, optim
    torch = torch_or_none()
    shapes = resnet20_shapes()
    n_values = sum(int(np.prod(s)) for s in shapes)
    rows = []
    configs = [
        ("SGD momentum=0.9 wd=5e-4", lambda ps, lib: lib.SGD(ps, lr=0.1, momentum=0.9,
                                                             weight_decay=5e-4)),
        ("Adam lr=1e-3", lambda ps, lib: lib.Adam(ps, lr=1e-3)),
    ]
    for label, make in configs:
        fns = {"minicv": _step_fn(make(_params(mc, shapes), optim), steps_per_sample)}
        if torch is not None:
            fns["torch"] = _step_fn(make(_params(torch, shapes), torch.optim),
                                    steps_per_sample)
        med = interleaved(fns, repeats=repeats, warmup=2)
        rows.append(_row(f"{label} step, ResNet-20 params ({len(shapes)} tensors, "
                         f"{n_values:,} values)", med, steps_per_sample))

    lin = nn.Linear(8, 8)
    x = mc.randn(1, 8)

    def call_minicv():
        for _ in range(calls_per_sample):
            lin(x)
    fns = {"minicv": call_minicv}
    if torch is not None:
        tlin = torch.nn.Linear(8, 8)
        tx = torch.randn(1, 8)

        def call_torch():
            for _ in range(calls_per_sample):
                tlin(tx)
        fns["torch"] = call_torch
    med = interleaved(fns, repeats=repeats, warmup=2)
    rows.append(_row("nn.Linear(8, 8) forward call on a (1, 8) input", med, calls_per_sample))
    return rows


def _row(case, med, n):
    us = {k: v / n * 1e6 for k, v in med.items()}
    row = {"case": case, "minicv_us": us["minicv"], "torch_us": us.get("torch")}
    row["ratio"] = row["minicv_us"] / row["torch_us"] if row["torch_us"] else None
    return row


COLUMNS = [("case", "case", "{}"), ("minicv_us", "minicv us", "{:.1f}"),
           ("torch_us", "torch us", "{:.1f}"), ("ratio", "minicv/torch", "{:.2f}")]


def main():
    from .common import machine, print_table
    print(f"machine: {machine()}")
    print_table("optim", bench_optim(), COLUMNS)


if __name__ == "__main__":
    main()
