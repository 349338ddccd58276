"""``minicv bench overhead``: autograd's fixed cost per op.

A chain of 200 ops (mul, add, tanh, sub, repeated) on 1-element tensors, forward and
backward, reported in microseconds per op; PyTorch's figure beside it when installed.
The arrays are tiny, so the time is almost all framework overhead.
"""
from .common import interleaved, torch_or_none

N_OPS = 200


def _chain(x, w):
    y = x
    for _ in range(N_OPS // 4):
        y = y * w
        y = y + w
        y = y.tanh()
        y = y - x
    return y.sum()


def bench_overhead(repeats=30):
    import minicv as mc
    fns = {}

    def run_minicv():
        x = mc.tensor([0.5], requires_grad=True)
        w = mc.tensor([0.9], requires_grad=True)
        _chain(x, w).backward()
    fns["minicv"] = run_minicv
    torch = torch_or_none()
    if torch is not None:
        def run_torch():
            x = torch.tensor([0.5], requires_grad=True)
            w = torch.tensor([0.9], requires_grad=True)
            _chain(x, w).backward()
        fns["torch"] = run_torch
    med = interleaved(fns, repeats=repeats, warmup=3)
    us = {k: v / N_OPS * 1e6 for k, v in med.items()}
    row = {"case": f"{N_OPS}-op chain, 1-element tensors, fwd+bwd",
           "minicv_us": us["minicv"], "torch_us": us.get("torch")}
    row["ratio"] = row["minicv_us"] / row["torch_us"] if row["torch_us"] else None
    return [row]


COLUMNS = [("case", "case", "{}"), ("minicv_us", "minicv us/op", "{:.2f}"),
           ("torch_us", "torch us/op", "{:.2f}"), ("ratio", "minicv/torch", "{:.2f}")]
