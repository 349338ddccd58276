"""``minicv bench --device cuda train conv``: the train-step and conv suites on a GPU.

The same workloads as ``bench/train.py`` and ``bench/conv.py``, with minicv's arrays on
the GPU (CuPy) and PyTorch on 'cuda' as the baseline when it sees a GPU. GPU work is
asynchronous, so every timed call ends with a device synchronisation
(``cupy.cuda.Device().synchronize()``, ``torch.cuda.synchronize()``); warm-up calls keep
the one-time NVRTC compiles and cuBLAS set-up out of the medians. The train rows also time
minicv's CPU path on the same step (fewer repeats) for the GPU/CPU speed-up.
"""
import numpy as np

from .common import interleaved, torch_or_none
from .conv import SUITE, _flops


def _cupy(device):
    from ..backend import Device, require_cupy
    return require_cupy(Device(device).index)


def _synced(fn, sync):
    def call():
        fn()
        sync()
    return call


def _torch_cuda():
    torch = torch_or_none()
    if torch is None or not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False     # compare like with like: no TF32
    torch.backends.cudnn.allow_tf32 = False
    return torch


def bench_train(device="cuda", repeats=10, batch=64, models=("lenet5", "resnet20"),
                cpu_repeats=3):
    from .train import _minicv_step, _torch_step
    cp = _cupy(device)
    sync = cp.cuda.Device().synchronize
    torch = _torch_cuda()
    rows = []
    for name in models:
        fns = {"minicv": _synced(_minicv_step(name, batch, device), sync)}
        if torch is not None:
            tstep = _torch_step(torch, name, batch, device="cuda")
            fns["torch"] = _synced(tstep, torch.cuda.synchronize)
        med = interleaved(fns, repeats=repeats, warmup=3)
        cpu = interleaved({"cpu": _minicv_step(name, batch, "cpu")}, repeats=cpu_repeats,
                          warmup=1)["cpu"]
        row = {"case": f"{name} batch {batch} train step", "minicv_ms": med["minicv"] * 1e3,
               "torch_ms": med["torch"] * 1e3 if torch is not None else None,
               "cpu_ms": cpu * 1e3, "speedup": cpu / med["minicv"]}
        row["ratio"] = med["minicv"] / med["torch"] if torch is not None else None
        rows.append(row)
    return rows


def bench_conv(device="cuda", repeats=20, layers=None, algos=("auto", "winograd")):
    import minicv as mc
    from ..ops.conv import conv2d
    cp = _cupy(device)
    sync = cp.cuda.Device().synchronize
    torch = _torch_cuda()
    rows = []
    rng = np.random.default_rng(0)
    for layer in layers or SUITE:
        n, c, h, k, ks, s, p, g = layer
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        fns = {}
        use = [a for a in algos if a == "auto" or (ks == 3 and s == 1 and g == 1)]
        for algo in use:
            xt = mc.tensor(x, requires_grad=True, device=device)
            wt = mc.tensor(w, requires_grad=True, device=device)
            fns[f"{algo}/fwd"] = _synced(
                lambda xt=xt, wt=wt, a=algo: conv2d(xt.detach(), wt.detach(), None, s, p, 1,
                                                    g, algo=a), sync)
            fns[f"{algo}/fwdbwd"] = _synced(
                lambda xt=xt, wt=wt, a=algo: conv2d(xt, wt, None, s, p, 1, g,
                                                    algo=a).sum().backward(), sync)
        if torch is not None:
            tx = torch.tensor(x, requires_grad=True, device="cuda")
            tw = torch.tensor(w, requires_grad=True, device="cuda")
            F = torch.nn.functional
            fns["torch/fwd"] = _synced(
                lambda: F.conv2d(tx.detach(), tw.detach(), None, s, p, 1, g),
                torch.cuda.synchronize)
            fns["torch/fwdbwd"] = _synced(
                lambda: F.conv2d(tx, tw, None, s, p, 1, g).sum().backward(),
                torch.cuda.synchronize)
        med = interleaved(fns, repeats=repeats, warmup=3)
        fl = _flops(*layer)
        for algo in use:
            row = {"layer": "x".join(map(str, layer)), "algo": algo,
                   "fwd_ms": med[f"{algo}/fwd"] * 1e3, "fwdbwd_ms": med[f"{algo}/fwdbwd"] * 1e3,
                   "tflops": fl / med[f"{algo}/fwd"] / 1e12}
            if torch is not None:
                row["torch_fwd_ms"] = med["torch/fwd"] * 1e3
                row["torch_fwdbwd_ms"] = med["torch/fwdbwd"] * 1e3
                row["ratio_fwd"] = med[f"{algo}/fwd"] / med["torch/fwd"]
                row["ratio_fwdbwd"] = med[f"{algo}/fwdbwd"] / med["torch/fwdbwd"]
            rows.append(row)
    auto = [r["ratio_fwdbwd"] for r in rows if r["algo"] == "auto" and "ratio_fwdbwd" in r]
    if auto:
        rows.append({"layer": "geomean (auto)", "algo": "",
                     "ratio_fwdbwd": float(np.exp(np.mean(np.log(auto))))})
    return rows


def gpu_name(device="cuda"):
    cp = _cupy(device)
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


TRAIN_COLUMNS = [("case", "case", "{}"), ("minicv_ms", "minicv GPU ms", "{:.2f}"),
                 ("torch_ms", "torch GPU ms", "{:.2f}"), ("ratio", "minicv/torch", "{:.2f}"),
                 ("cpu_ms", "minicv CPU ms", "{:.1f}"), ("speedup", "GPU/CPU speed-up",
                                                         "{:.1f}")]
CONV_COLUMNS = [("layer", "N x C x H x K x k x s x p x g", "{}"), ("algo", "algo", "{}"),
                ("fwd_ms", "fwd ms", "{:.3f}"), ("torch_fwd_ms", "cuDNN fwd", "{:.3f}"),
                ("ratio_fwd", "ratio", "{:.2f}"), ("fwdbwd_ms", "fwd+bwd ms", "{:.3f}"),
                ("torch_fwdbwd_ms", "cuDNN f+b", "{:.3f}"), ("ratio_fwdbwd", "ratio",
                                                              "{:.2f}"),
                ("tflops", "TFLOP/s", "{:.2f}")]
