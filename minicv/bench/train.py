"""``minicv bench train``: one training step (forward, cross-entropy, backward, SGD with
momentum) of LeNet-5 (batch 64, 1x28x28) and ResNet-20 (batch 64, 3x32x32), beside the
same architectures written in PyTorch (same threads, interleaved runs, medians).

Also reports the peak memory of a ResNet-20 step for both: in a fresh process per
library, after two warm-up steps and ``malloc_trim``, the growth of the resident set's
high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs``) over three steps.
Linux only; the column is empty elsewhere.
"""
import subprocess
import sys
import numpy as np

from .common import interleaved, torch_or_none


def _minicv_step(name, batch, device="cpu"):
    import minicv as mc
    from ..models import get_model
    from ..nn import functional as F
    mc.manual_seed(0)
    shape = (1, 28, 28) if name == "lenet5" else (3, 32, 32)
    model = get_model(name, num_classes=10).to(device)
    opt = mc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = mc.tensor(rng.standard_normal((batch,) + shape).astype(np.float32), device=device)
    y = mc.tensor(rng.integers(0, 10, batch), device=device)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _torch_model(torch, name):
    nn = torch.nn
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.stride, self.extra = stride, cout - cin

        def forward(self, x):
            out = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            sc = x
            if self.stride != 1 or self.extra:
                sc = nn.functional.pad(x[:, :, ::self.stride, ::self.stride],
                                       (0, 0, 0, 0, self.extra // 2, self.extra // 2))
            return torch.relu(out + sc)

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for i, c in enumerate((16, 32, 64)):
        for j in range(3):
            layers.append(Block(cin, c, 2 if i and not j else 1))
            cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def _torch_step(torch, name, batch, device="cpu"):
    torch.manual_seed(0)
    model = _torch_model(torch, name).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    shape = (1, 28, 28) if name == "lenet5" else (3, 32, 32)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((batch,) + shape).astype(np.float32)).to(device)
    y = torch.tensor(rng.integers(0, 10, batch)).to(device)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


_PEAK_SCRIPT = """
import ctypes, gc, re, sys
def kib(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))
from minicv.bench.train import _minicv_step, _torch_step
if sys.argv[1] == "torch":
    import torch
    torch.set_num_threads(int(sys.argv[4]))
    step = _torch_step(torch, sys.argv[2], int(sys.argv[3]))
else:
    import minicv
    minicv.set_num_threads(int(sys.argv[4]))
    step = _minicv_step(sys.argv[2], int(sys.argv[3]))
step(); step()
if sys.argv[1] != "torch":   # measure from an empty pool of recycled buffers (kept between
    from minicv.kernels.cpu import buffers   # steps, they are part of the step's peak)
    buffers.clear()
gc.collect(); ctypes.CDLL("libc.so.6").malloc_trim(0)
base = kib("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
for _ in range(3):
    step()
print((kib("VmHWM") - base) / 1024)
"""


def peak_step_mib(lib, name, batch):
    """Peak resident-memory growth (MiB) of a train step, measured in a fresh process."""
    from ..backend import get_num_threads
    if not sys.platform.startswith("linux"):
        return None
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, lib, name, str(batch),
                          str(get_num_threads())], capture_output=True, text=True,
                         timeout=600)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None


def bench_train(repeats=10, batch=64, models=("lenet5", "resnet20")):
    torch = torch_or_none()
    rows = []
    for name in models:
        fns = {"minicv": _minicv_step(name, batch)}
        if torch is not None:
            fns["torch"] = _torch_step(torch, name, batch)
        med = interleaved(fns, repeats=repeats, warmup=2)
        row = {"case": f"{name} batch {batch} train step", "minicv_ms": med["minicv"] * 1e3,
               "torch_ms": med["torch"] * 1e3 if torch is not None else None}
        row["ratio"] = med["minicv"] / med["torch"] if torch is not None else None
        if name == "resnet20":
            row["minicv_peak_mib"] = peak_step_mib("minicv", name, batch)
            if torch is not None:
                row["torch_peak_mib"] = peak_step_mib("torch", name, batch)
        rows.append(row)
    return rows


COLUMNS = [("case", "case", "{}"), ("minicv_ms", "minicv ms", "{:.1f}"),
           ("torch_ms", "torch ms", "{:.1f}"), ("ratio", "minicv/torch", "{:.2f}"),
           ("minicv_peak_mib", "minicv peak MiB", "{:.0f}"),
           ("torch_peak_mib", "torch peak MiB", "{:.0f}")]
