"""Train every CIFAR-sized zoo model briefly and tabulate parameters, accuracy and time.

Each model sees the same ``--steps`` batches of the Shapes data set (32x32, 4 classes)
with SGD + momentum, then is evaluated on held-out images; LeNet-5 trains on SynthDigits
(its native 1x28x28 input). The table is what the study guide's architecture topics
(VGG, ResNet, DenseNet, Inception, MobileNet) look like when measured on one laptop CPU.

Run: python examples/zoo_tour.py [--steps 60]
"""
import argparse
import time

import numpy as np

import minicv as mc
from minicv.models import MODELS, count_parameters, get_model
from minicv.nn import functional as F
from minicv.train.setup import build_data

SMALL = {"vgg11": {"width": 0.25}, "vgg13": {"width": 0.25}, "vgg16": {"width": 0.25}}


def main(steps=60, batch=32, models=None, train_size=2000, val_size=400, log=print):
    shapes = build_data("shapes", train_size=train_size, val_size=val_size, seed=0)
    digits = build_data("synth-digits", train_size=train_size, val_size=val_size, seed=0)
    names = models or [n for n, (_, s, _) in MODELS.items() if s[1] <= 32]
    rows = []
    log(f"{'model':<10} {'params':>10} {'accuracy':>9} {'ms/step':>8}")
    for name in names:
        data = digits if name == "lenet5" else shapes
        xt, yt = data.train.tensors
        xv, yv = data.val.tensors
        mc.manual_seed(0)
        model = get_model(name, num_classes=data.num_classes, **SMALL.get(name, {}))
        opt = mc.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(steps):
            idx = rng.integers(0, len(yt), batch)
            loss = F.cross_entropy(model(mc.tensor(xt[idx])), mc.tensor(yt[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        ms = (time.perf_counter() - start) / steps * 1e3
        model.eval()
        with mc.no_grad():
            pred = model(mc.tensor(xv)).data.argmax(1)
        row = {"model": name, "parameters": count_parameters(model),
               "accuracy": float((pred == yv).mean()), "ms_per_step": ms}
        rows.append(row)
        log(f"{name:<10} {row['parameters']:>10,} {row['accuracy']:>9.3f} {ms:>8.0f}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    main(ap.parse_args().steps)
