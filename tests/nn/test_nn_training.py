"""End to end: an MLP and a small CNN trained on synthetic data reach a low loss."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
import minicv.optim as optim


def test_mlp_learns_two_spirals():
    mc.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 200
    t = rng.uniform(0.5, 3.5, n)
    label = rng.integers(0, 2, n)
    r = t * (1 - 2 * label)
    pts = np.stack([r * np.cos(2 * t), r * np.sin(2 * t)], 1).astype(np.float32)
    x, y = mc.tensor(pts), mc.tensor(label)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    acc = (model(x).data.argmax(1) == label).mean()
    assert acc > 0.97


def test_small_cnn_learns_synthetic_patterns():
    pytest.importorskip("minicv.ops.conv")
    pytest.importorskip("minicv.ops.pool")
    mc.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 64
    label = rng.integers(0, 2, n)
    imgs = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    imgs[label == 0, :, :, 3:5] += 1.0          # class 0: vertical bar
    imgs[label == 1, :, 3:5, :] += 1.0          # class 1: horizontal bar
    x, y = mc.tensor(imgs), mc.tensor(label)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    model.eval()
    assert (model(x).data.argmax(1) == label).mean() > 0.95
