"""The Numba BatchNorm path against the readable NumPy one, and float64 gradchecks."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.ops.norm import BatchNorm, BatchNormCPU, batch_norm
from minicv.testing import gradcheck

SHAPES = [(4, 3), (2, 3, 5), (3, 2, 4, 5), (2, 3, 2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("view", ["contiguous", "transposed"])
def test_fast_path_matches_reference(shape, training, view):
    rng = np.random.default_rng(0)
    base = rng.standard_normal(shape) * 3 + 1
    if view == "transposed" and len(shape) > 2:
        base = np.ascontiguousarray(np.swapaxes(base, -1, -2)).swapaxes(-1, -2)
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    mean, var = rng.standard_normal(c), rng.random(c) + 0.5
    gy = rng.standard_normal(shape)
    outs = []
    for fn in (BatchNorm, BatchNormCPU):
        x = mc.Tensor(base, requires_grad=True)
        wt, bt = mc.tensor(w, requires_grad=True), mc.tensor(b, requires_grad=True)
        kw = dict(training=True, stats=[]) if training else dict(mean=mean, var=var,
                                                                  training=False)
        y = fn.apply(x, wt, bt, eps=1e-5, **kw)
        y.backward(mc.tensor(gy))
        outs.append((y.data, x.grad.data, wt.grad.data, bt.grad.data))
    for ref, fast in zip(*outs):
        np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)


@given(shape=hs.sampled_from(SHAPES), training=hs.booleans(), seed=hs.integers(0, 99))
def test_batch_norm_gradcheck(shape, training, seed):
    rng = np.random.default_rng(seed)
    x = mc.tensor(rng.standard_normal(shape), requires_grad=True)
    c = shape[1]
    w = mc.tensor(rng.standard_normal(c), requires_grad=True)
    b = mc.tensor(rng.standard_normal(c), requires_grad=True)
    rm, rv = mc.tensor(rng.standard_normal(c)), mc.tensor(rng.random(c) + 0.5)
    gradcheck(lambda a, g, h: batch_norm(a, rm.detach(), rv.detach(), g, h,
                                         training=training, momentum=0.0), (x, w, b))


def test_float32_statistics_accumulate_in_float64():
    x = mc.tensor(np.full((64, 2, 32, 32), 1000.0, np.float32) +
                  np.random.default_rng(0).standard_normal((64, 2, 32, 32)).astype(np.float32))
    rm, rv = mc.zeros(2), mc.ones(2)
    batch_norm(x, rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(rv.data, x.data.var(axis=(0, 2, 3), ddof=1), rtol=1e-3)
