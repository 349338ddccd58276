"""BatchNorm kernels and threaded element-wise ops: exact across thread counts, and the
one-pass shifted statistics accurate for activations far from zero."""
import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F


def _bn_step(x, g, b, dy):
    xt = mc.tensor(x, requires_grad=True)
    gt, bt = mc.tensor(g, requires_grad=True), mc.tensor(b, requires_grad=True)
    y = F.batch_norm(xt, None, None, gt, bt, training=True)
    (y * mc.tensor(dy)).sum().backward()
    return y.data, xt.grad.data, gt.grad.data, bt.grad.data


@pytest.mark.parametrize("shape", [(8, 6, 16, 16), (64, 16, 32, 32)])
def test_batch_norm_same_bits_on_one_and_two_threads(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape[1]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    old = mc.get_num_threads()
    try:
        mc.set_num_threads(1)
        one = _bn_step(x, g, b, dy)
        mc.set_num_threads(2)
        two = _bn_step(x, g, b, dy)
    finally:
        mc.set_num_threads(old)
    for a, c in zip(one, two):
        np.testing.assert_array_equal(a, c)


def test_batch_norm_stats_far_from_zero():
    """Mean 1e4, std 1: the shifted one-pass variance stays accurate (float64 oracle)."""
    rng = np.random.default_rng(1)
    x = (1e4 + rng.standard_normal((16, 4, 8, 8))).astype(np.float32)
    y = F.batch_norm(mc.tensor(x), None, None, training=True).data
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=(0, 2, 3), keepdims=True)
    ref = (x64 - mu) / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref, atol=2e-3)


def test_threaded_relu_and_add_match_numpy():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((64, 16, 32, 32)).astype(np.float32)
    b = rng.standard_normal(a.shape).astype(np.float32)
    a[0, 0, 0, :3] = (np.nan, -0.0, 0.0)
    ta, tb = mc.tensor(a, requires_grad=True), mc.tensor(b, requires_grad=True)
    r = F.relu(ta + tb)
    np.testing.assert_array_equal(r.data, np.maximum(a + b, 0))
    gy = rng.standard_normal(a.shape).astype(np.float32)
    (r * mc.tensor(gy)).sum().backward()
    # PyTorch's mask: 0 where y <= 0, so the gradient passes where y is NaN
    np.testing.assert_array_equal(ta.grad.data, np.where(np.maximum(a + b, 0) <= 0, 0, gy))
