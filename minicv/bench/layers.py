"""``minicv bench layers``: forward + backward of the recurrent and attention layers beside
PyTorch's (same weights, same float32 input, same threads, interleaved, medians).

Rows:
  * ``nn.LSTM(32, 64, num_layers=2, bidirectional=True)`` on a (T=50, N=16, 32) input;
  * ``nn.GRU(128, 256)`` on (100, 32, 128);
  * ``nn.TransformerEncoderLayer(128, 4, 512, dropout=0, batch_first=True)`` on (16, 64, 128).

Run: ``python -m minicv bench layers`` or ``python -m minicv.bench.layers``.
"""
import numpy as np

from .common import interleaved, torch_or_none

# name -> (constructor arguments shared by both libraries, input shape)
CASES = {
    "LSTM(32, 64, num_layers=2, bidirectional) (50, 16, 32)":
        ("LSTM", (32, 64), dict(num_layers=2, bidirectional=True), (50, 16, 32)),
    "GRU(128, 256) (100, 32, 128)": ("GRU", (128, 256), {}, (100, 32, 128)),
    "TransformerEncoderLayer(128, 4, 512), batch_first (16, 64, 128)":
        ("TransformerEncoderLayer", (128, 4, 512), dict(dropout=0.0, batch_first=True),
         (16, 64, 128)),
}


def _step(lib, layer, x):
    """One forward + backward of ``layer`` on a fresh leaf copy of ``x`` (a NumPy array)."""
    def run():
        t = lib.tensor(x, requires_grad=True)
        out = layer(t)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    return run


def bench_layers(repeats=15):
    import minicv as mc
    from .. import nn
    torch = torch_or_none()
    rows = []
    for case, (cls, args, kwargs, shape) in CASES.items():
        layer = getattr(nn, cls)(*args, **kwargs)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        fns = {"minicv": _step(mc, layer, x)}
        if torch is not None:                       # the same weights in both libraries
            tlayer = getattr(torch.nn, cls)(*args, **kwargs)
            layer.load_state_dict({k: mc.tensor(v.detach().numpy())
                                   for k, v in tlayer.state_dict().items()})
            fns["torch"] = _step(torch, tlayer, x)
        med = interleaved(fns, repeats=repeats, warmup=2)
        ms = {k: v * 1e3 for k, v in med.items()}
        row = {"case": case, "minicv_ms": ms["minicv"], "torch_ms": ms.get("torch")}
        row["ratio"] = row["minicv_ms"] / row["torch_ms"] if row["torch_ms"] else None
        rows.append(row)
    return rows


COLUMNS = [("case", "case", "{}"), ("minicv_ms", "minicv ms", "{:.1f}"),
           ("torch_ms", "torch ms", "{:.1f}"), ("ratio", "minicv/torch", "{:.2f}")]


def main():
    from .common import machine, print_table
    print(f"machine: {machine()}")
    print_table("layers", bench_layers(), COLUMNS)


if __name__ == "__main__":
    main()
