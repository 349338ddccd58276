"""Transfer learning with few labels (study-guide topics 3, 18, 48).

Task A: SynthDigits 0-4, plenty of labels. Task B: SynthDigits 5-9 with only
``--shots`` labelled images per class. A LeNet-5 is pretrained on A; on B we compare
(1) training from scratch, (2) a linear probe (frozen body, new head), and
(3) fine-tuning (new head, last stage and head trainable, head at 10x the body's LR).
Prints the three test accuracies on B.

Run: python examples/transfer_learning.py [--shots 5] [--pretrain-steps 1000]
"""
import argparse

import numpy as np

import minicv as mc
from minicv.data import SynthDigits
from minicv.models import lenet5
from minicv.models.transfer import fine_tune_last, param_groups, replace_head
from minicv.nn import functional as F


def _digits(n, seed, train, keep):
    ds = SynthDigits(n, seed=seed, train=train, dtype=np.float32)
    xs, ys = zip(*(ds[i] for i in range(n)))
    x, y = np.stack(xs), np.array(ys)
    mask = np.isin(y, keep)
    return x[mask], y[mask] - min(keep)


def _fit(model, x, y, steps, lr, groups=None, batch=32, seed=0):
    rng = np.random.default_rng(seed)
    opt = mc.optim.SGD(groups or [p for p in model.parameters() if p.requires_grad],
                       lr=lr, momentum=0.9)
    model.train()
    for _ in range(steps):
        idx = rng.integers(0, len(y), min(batch, len(y)))
        loss = F.cross_entropy(model(mc.tensor(x[idx])), mc.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def _accuracy(model, x, y):
    model.eval()
    with mc.no_grad():
        return float((model(mc.tensor(x)).data.argmax(1) == y).mean())


def main(shots=5, pretrain_steps=1000, finetune_steps=200, test_size=2000, log=print):
    mc.manual_seed(0)
    xa, ya = _digits(pretrain_steps * 16, 0, True, [0, 1, 2, 3, 4])
    xb_all, yb_all = _digits(max(40 * shots, 200), 1, True, [5, 6, 7, 8, 9])
    xt, yt = _digits(test_size, 2, False, [5, 6, 7, 8, 9])
    few = np.concatenate([np.flatnonzero(yb_all == c)[:shots] for c in range(5)])
    xb, yb = xb_all[few], yb_all[few]
    log(f"task A: {len(ya)} labelled digits 0-4; task B: {len(yb)} labels of 5-9 "
        f"({shots} per class); test: {len(yt)} images")

    pretrained = _fit(lenet5(num_classes=5), xa, ya, pretrain_steps, 0.05)
    log(f"pretrained on A: accuracy on A's own test digits "
        f"{_accuracy(pretrained, *_digits(test_size // 2, 3, False, [0, 1, 2, 3, 4])):.3f}")
    state = pretrained.state_dict()
    results = {}

    mc.manual_seed(1)
    scratch = _fit(lenet5(num_classes=5), xb, yb, finetune_steps, 0.05)
    results["from scratch"] = _accuracy(scratch, xt, yt)

    probe = lenet5(num_classes=5)
    probe.load_state_dict(state)
    replace_head(probe, 5)
    fine_tune_last(probe, 0)                          # only the new head trains
    results["linear probe"] = _accuracy(_fit(probe, xb, yb, finetune_steps, 0.05), xt, yt)

    tuned = lenet5(num_classes=5)
    tuned.load_state_dict(state)
    replace_head(tuned, 5)
    fine_tune_last(tuned, 1)                          # last stage + head
    groups = param_groups(tuned, lr=0.005, head_lr=0.05)
    results["fine-tune"] = _accuracy(_fit(tuned, xb, yb, finetune_steps, 0.005, groups),
                                     xt, yt)
    for name, acc in results.items():
        log(f"{name:>13}: test accuracy on task B {acc:.3f}")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--pretrain-steps", type=int, default=1000)
    ap.add_argument("--finetune-steps", type=int, default=200)
    a = ap.parse_args()
    main(a.shots, a.pretrain_steps, a.finetune_steps)
