"""Feature extraction by convolution (study-guide topic 1).

Part 1 works a 3x3 filter over a 5x5 image by hand (every multiply-add printed for one
output) and checks the result against ``F.conv2d``. Part 2 trains LeNet-5 briefly on
SynthDigits, then captures the feature maps of its first two conv layers with forward
hooks and saves them as PNG grids.

Run: python examples/feature_extraction.py [--steps 300] [--out feature_maps]
"""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

import minicv as mc
from minicv.data import DataLoader, SynthDigits
from minicv.models import lenet5
from minicv.nn import functional as F


def worked_example(log=print):
    img = np.array([[1, 2, 0, 1, 3],
                    [0, 1, 3, 2, 1],
                    [2, 0, 1, 1, 0],
                    [1, 3, 2, 0, 2],
                    [0, 1, 1, 2, 1]], np.float32)
    k = np.array([[1, 0, -1],
                  [1, 0, -1],
                  [1, 0, -1]], np.float32)          # responds to vertical edges
    out = np.zeros((3, 3), np.float32)
    for i in range(3):
        for j in range(3):
            out[i, j] = (img[i:i + 3, j:j + 3] * k).sum()
    terms = " + ".join(f"{img[r, c]:.0f}*{k[r, c]:.0f}" for r in range(3) for c in range(3))
    log(f"output[0, 0] = {terms} = {out[0, 0]:.0f}")
    log("feature map (valid 3x3 convolution, stride 1):\n" + str(out))
    ref = F.conv2d(mc.tensor(img[None, None]), mc.tensor(k[None, None])).data[0, 0]
    assert np.array_equal(out, ref), "hand computation and F.conv2d disagree"
    log("F.conv2d gives the same map")
    return out


def _grid(maps, scale=4):
    """(C, H, W) maps -> one uint8 image, each map min-max scaled, tiled in a row."""
    c, h, w = maps.shape
    tiles = []
    for m in maps:
        m = (m - m.min()) / (m.max() - m.min() + 1e-8)
        tiles.append(np.pad(m, 1, constant_values=1.0))
    row = np.concatenate(tiles, axis=1)
    img = Image.fromarray((row * 255).astype(np.uint8))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


def feature_maps(steps=300, out="feature_maps", log=print):
    mc.manual_seed(0)
    data = SynthDigits(steps * 32, seed=0, dtype=np.float32)
    model = lenet5()
    opt = mc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step, (x, y) in enumerate(DataLoader(data, batch_size=32, shuffle=True)):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    log(f"trained LeNet-5 for {step + 1} steps, last loss {loss.item():.3f}")
    captured = {}
    convs = [m for m in model.modules() if isinstance(m, mc.nn.Conv2d)]
    hooks = [c.register_forward_hook(lambda mod, inp, o, i=i: captured.__setitem__(i, o))
             for i, c in enumerate(convs)]
    digit, label = SynthDigits(1, seed=5, train=False, dtype=np.float32)[0]
    model.eval()
    with mc.no_grad():
        pred = int(model(mc.tensor(digit[None])).argmax(dim=1).item())
    for h in hooks:
        h.remove()
    Path(out).mkdir(parents=True, exist_ok=True)
    paths = []
    Image.fromarray((digit[0] * 255).astype(np.uint8)).resize((112, 112)).save(
        Path(out) / "input.png")
    for i, maps in captured.items():
        p = Path(out) / f"conv{i + 1}_maps.png"
        _grid(maps.data[0]).save(p)
        paths.append(p)
        log(f"conv{i + 1}: {maps.shape[1]} maps of {maps.shape[2]}x{maps.shape[3]} -> {p}")
    log(f"digit {label} predicted as {pred}")
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default="feature_maps")
    a = ap.parse_args()
    worked_example()
    feature_maps(a.steps, a.out)
