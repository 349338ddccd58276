"""Attention blocks: plain ResNet-20 vs SE vs CBAM vs self-attention (study-guide topic 41).

Trains the three variants for the same number of steps on the Shapes data set (one
coloured shape per 32x32 image on a textured background, 4 classes) and prints
parameters, accuracy and time per step for each.

Run: python examples/attention_blocks.py [--steps 150] [--train-size 3000]
"""
import argparse
import time

import numpy as np

import minicv as mc
from minicv.models import count_parameters, resnet20
from minicv.nn import functional as F
from minicv.train.setup import build_data


def main(steps=150, train_size=3000, val_size=500, batch=32, log=print):
    data = build_data("shapes", train_size=train_size, val_size=val_size, seed=0)
    xt, yt = data.train.tensors
    xv, yv = data.val.tensors
    rows = {}
    for attention in (None, "se", "cbam", "self"):
        mc.manual_seed(0)
        model = resnet20(num_classes=data.num_classes, attention=attention)
        opt = mc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(steps):
            idx = rng.integers(0, len(yt), batch)
            loss = F.cross_entropy(model(mc.tensor(xt[idx])), mc.tensor(yt[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        per_step = (time.perf_counter() - start) / steps
        model.eval()
        with mc.no_grad():
            pred = np.concatenate([model(mc.tensor(xv[i:i + 250])).data.argmax(1)
                                   for i in range(0, len(yv), 250)])
        acc = float((pred == yv).mean())
        name = attention or "plain"
        rows[name] = {"parameters": count_parameters(model), "accuracy": acc,
                      "ms_per_step": per_step * 1e3}
        log(f"{name:>6}: {rows[name]['parameters']:>8,} parameters  accuracy {acc:.3f}  "
            f"{per_step * 1e3:.0f} ms/step")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--train-size", type=int, default=3000)
    a = ap.parse_args()
    main(a.steps, a.train_size)
