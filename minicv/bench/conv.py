"""``minicv bench conv``: conv2d forward and forward+backward per algorithm beside PyTorch.

For each layer of the suite (N, C, H=W, K, kernel, stride, pad, groups) it reports the
median time of minicv's chosen algorithm ("auto", and each explicit one that applies),
PyTorch's time with the same thread count, the ratio, and GFLOP/s as a fraction of the
machine's SGEMM peak, measured here with one large float32 ``np.matmul``.
"""
import numpy as np

from .common import interleaved, torch_or_none

SUITE = [(64, 3, 32, 16, 3, 1, 1, 1), (64, 16, 32, 16, 3, 1, 1, 1),
         (64, 32, 16, 32, 3, 1, 1, 1), (64, 64, 8, 64, 3, 1, 1, 1),
         (32, 64, 32, 64, 3, 1, 1, 1), (64, 128, 8, 128, 3, 1, 1, 1),
         (64, 64, 16, 128, 1, 1, 0, 1), (64, 1, 28, 6, 5, 1, 2, 1),
         (64, 6, 14, 16, 5, 1, 0, 1), (64, 32, 32, 64, 3, 2, 1, 1),
         (64, 64, 16, 64, 3, 1, 1, 64)]


def sgemm_peak(n=1024, repeats=5):
    """GFLOP/s of a float32 n x n x n matmul (median of ``repeats``)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    t = interleaved({"mm": lambda: a @ a}, repeats=repeats, warmup=1)["mm"]
    return 2 * n ** 3 / t / 1e9


def _flops(n, c, h, k, ks, s, p, g):
    oh = (h + 2 * p - ks) // s + 1
    return 2 * n * k * oh * oh * (c // g) * ks * ks


def bench_conv(repeats=7, layers=None, algos=("auto", "im2col", "winograd")):
    import minicv as mc
    from ..kernels import conv_plan
    from ..ops.conv import conv2d
    torch = torch_or_none()
    peak = sgemm_peak()
    rows = []
    rng = np.random.default_rng(0)
    for layer in layers or SUITE:
        n, c, h, k, ks, s, p, g = layer
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        fl = _flops(*layer)
        fns, chosen = {}, {}
        for algo in algos:
            plan = conv_plan(x.shape, w.shape, s, p, 1, g, np.float32, algo)
            if algo != "auto" and plan in chosen.values():
                continue                    # the same path as an earlier algo
            chosen[algo] = plan
            xt, wt = mc.tensor(x, requires_grad=True), mc.tensor(w, requires_grad=True)
            fns[f"{algo}/fwd"] = (lambda xt=xt, wt=wt, a=algo:
                                  conv2d(xt.detach(), wt.detach(), None, s, p, 1, g, algo=a))
            fns[f"{algo}/fwdbwd"] = (lambda xt=xt, wt=wt, a=algo:
                                     conv2d(xt, wt, None, s, p, 1, g, algo=a).sum().backward())
        if torch is not None:
            tx = torch.tensor(x, requires_grad=True)
            tw = torch.tensor(w, requires_grad=True)
            F = torch.nn.functional
            fns["torch/fwd"] = lambda: F.conv2d(tx.detach(), tw.detach(), None, s, p, 1, g)
            fns["torch/fwdbwd"] = lambda: F.conv2d(tx, tw, None, s, p, 1, g).sum().backward()
        med = interleaved(fns, repeats=repeats, warmup=1)
        for algo, plan in chosen.items():
            row = {"layer": "x".join(map(str, layer)), "algo": f"{algo}:{plan}",
                   "fwd_ms": med[f"{algo}/fwd"] * 1e3, "fwdbwd_ms": med[f"{algo}/fwdbwd"] * 1e3,
                   "gflops_pct": fl / med[f"{algo}/fwd"] / 1e9 / peak * 100}
            if torch is not None:
                row["torch_fwd_ms"] = med["torch/fwd"] * 1e3
                row["torch_fwdbwd_ms"] = med["torch/fwdbwd"] * 1e3
                row["ratio_fwd"] = med[f"{algo}/fwd"] / med["torch/fwd"]
                row["ratio_fwdbwd"] = med[f"{algo}/fwdbwd"] / med["torch/fwdbwd"]
            rows.append(row)
    auto = [r["ratio_fwdbwd"] for r in rows if r["algo"].startswith("auto") and
            "ratio_fwdbwd" in r]
    if auto:
        rows.append({"layer": "geomean (auto)", "algo": "",
                     "ratio_fwdbwd": float(np.exp(np.mean(np.log(auto)))),
                     "ratio_fwd": float(np.exp(np.mean(np.log(
                         [r["ratio_fwd"] for r in rows if r["algo"].startswith("auto")]))))})
    rows.append({"layer": f"SGEMM peak {peak:.0f} GFLOP/s", "algo": ""})
    return rows


COLUMNS = [("layer", "N x C x H x K x k x s x p x g", "{}"), ("algo", "algo:plan", "{}"),
           ("fwd_ms", "fwd ms", "{:.2f}"), ("torch_fwd_ms", "torch fwd", "{:.2f}"),
           ("ratio_fwd", "ratio", "{:.2f}"), ("fwdbwd_ms", "fwd+bwd ms", "{:.2f}"),
           ("torch_fwdbwd_ms", "torch f+b", "{:.2f}"), ("ratio_fwdbwd", "ratio", "{:.2f}"),
           ("gflops_pct", "% SGEMM", "{:.0f}")]
