"""Recycled output buffers (``kernels/cpu/buffers.py``): a buffer is handed out again only
when no array, however derived, still refers to it."""
import gc

import numpy as np
import pytest

import minicv as mc
from minicv.kernels.cpu import buffers
from minicv.nn import functional as F


@pytest.fixture(autouse=True)
def fresh_pool():
    buffers.clear()
    yield
    buffers.clear()


def _addr(a):
    return a.__array_interface__["data"][0]


def test_a_freed_output_is_reused_and_a_live_one_never():
    a = buffers.empty((64, 1024), np.float32)
    addr = _addr(a)
    b = buffers.empty((64, 1024), np.float32)
    assert _addr(b) != addr                  # a is alive
    del a
    gc.collect()
    c = buffers.empty((128, 512), np.float32)  # same bytes, another shape
    assert _addr(c) == addr and c.shape == (128, 512) and c.dtype == np.float32


@pytest.mark.parametrize("derive", [lambda a: a.reshape(-1), lambda a: a[3:], lambda a: a.T,
                                    lambda a: a.view(np.int32), lambda a: np.asarray(a)[::2]])
def test_a_derived_view_keeps_the_buffer_busy(derive):
    a = buffers.empty((64, 1024), np.float32)
    a[...] = 7
    view = derive(a)
    addr = _addr(a)
    del a
    gc.collect()
    b = buffers.empty((64, 1024), np.float32)
    b[...] = -1
    assert _addr(b) != addr
    assert np.all(view.view(np.float32) == 7) if view.dtype == np.int32 else np.all(view == 7)


def test_small_arrays_and_the_cap_fall_back_to_numpy(monkeypatch):
    small = buffers.empty((10,), np.float32)
    assert small.base is None                # plain np.empty below MIN_BYTES
    monkeypatch.setattr(buffers, "MAX_BYTES", 3 * buffers.MIN_BYTES)
    n = buffers.MIN_BYTES // 4
    kept = [buffers.empty((n,), np.float32) for _ in range(3)]
    extra = buffers.empty((n,), np.float32)
    assert all(k.base is not None for k in kept) and extra.base is None
    del kept
    gc.collect()
    other = buffers.empty((2 * n,), np.float32)  # unused buffers of another size are dropped
    assert other.base is not None


def test_training_outputs_stay_correct_when_recycled():
    # a ReLU/BN/Add chain run twice: the second step reuses the first step's buffers
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 24, 24)).astype(np.float32)

    def step():
        xt = mc.tensor(x, requires_grad=True)
        y = F.relu(F.batch_norm(xt, None, None, training=True) + xt)
        (y * y).sum().backward()
        return y.data.copy(), xt.grad.data.copy()

    first = step()
    again = step()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    xd = x.astype(np.float64)
    ref = np.maximum((xd - xd.mean((0, 2, 3), keepdims=True))
                     / np.sqrt(xd.var((0, 2, 3), keepdims=True) + 1e-5) + xd, 0)
    np.testing.assert_allclose(first[0], ref, rtol=1e-4, atol=1e-4)
