"""Softmax / log-softmax fast kernels (``kernels/cpu/softmax.py``) against the NumPy path of
``ops/activation.py`` (forced by switching the fast path off), forward and backward.

The kernels sum in another order than NumPy (vectorised lanes over rows), so values agree
to a few ulp, not bit for bit: float32 within rtol 1e-5 / atol 1e-6 (log-softmax values
of size L within atol 4e-7·L), float64 within 1e-12; NaN exactly where NumPy has NaN.
"""
import contextlib

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minicv as mc
from minicv.kernels.cpu import softmax as K
from minicv.ops import activation as A


@contextlib.contextmanager
def _fast_path(on):
    """The kernels on (as they are) or off (``ops/activation.py``'s NumPy code)."""
    saved = A._softmax_fast
    if not on:
        A._softmax_fast = lambda *arrays: False
    try:
        yield
    finally:
        A._softmax_fast = saved


def _run(x, dim, log, gy, fast=True):
    """(y, dx) of softmax/log_softmax along ``dim`` through minicv, with the fast path
    on or forced off."""
    with _fast_path(fast):
        t = mc.tensor(x, requires_grad=True)
        y = (mc.log_softmax if log else mc.softmax)(t, dim)
        y.backward(mc.tensor(gy))
        return y.data, t.grad.data


def _close(a, b, log, dtype):
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    if dtype == np.float64:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    else:
        scale = np.nanmax(np.abs(np.where(np.isinf(b), 0, b)), initial=1.0) if log else 1.0
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 + 4e-7 * scale)


def _check(x, dim, log, gy):
    y, dx = _run(x, dim, log, gy)
    ry, rdx = _run(x, dim, log, gy, fast=False)
    _close(y, ry, log, x.dtype)
    _close(dx, rdx, log, x.dtype)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 13), min_size=1, max_size=4),
       big=st.integers(0, 3), factor=st.sampled_from([1, 7, 64, 333, 4099]),
       data=st.data(), dtype=st.sampled_from([np.float32, np.float64]), log=st.booleans())
def test_matches_numpy_path(shape, big, factor, data, dtype, log):
    shape[big % len(shape)] *= factor                  # often past the 4096 threshold
    assume(np.prod(shape) <= 150_000)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(len(shape) * 1000 + shape[0])
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    _check(x, dim, log, gy)


@pytest.mark.parametrize("shape", [(4095,), (4096,), (4097,), (1, 4096), (4096, 1),
                                   (64, 64), (3, 1367), (1367, 3), (2, 3, 700)])
@pytest.mark.parametrize("log", [False, True])
def test_sizes_around_threshold(shape, log):
    rng = np.random.default_rng(3)
    for dim in range(len(shape)):
        x = rng.standard_normal(shape).astype(np.float32)
        _check(x, dim, log, rng.standard_normal(shape).astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_special_values(dtype, log, dim):
    """NaN, ±inf, all -inf rows, ±0 and huge logits, in rows and columns."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 50, 9)).astype(dtype)
    x[0, 3, 2] = np.nan
    x[1, :, :] = -np.inf                               # all -inf along dims 1 and 2
    x[:, 5, :] = -np.inf                               # all -inf along dim 0
    x[2, 7, 1] = np.inf
    x[3, 8, :] = 0.0
    x[4, 9, :] = -0.0
    x[5, :, 3] = 1e30 if dtype == np.float32 else 1e300
    x[6, 0, 0] = -1e30
    x[7, 2, 4] = -np.inf                               # one -inf entry: weight 0
    gy = rng.standard_normal(x.shape).astype(dtype)
    gy[8, 1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        _check(x, dim, log, gy)


@pytest.mark.parametrize("log", [False, True])
def test_views_take_numpy_path_and_agree(views, log):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 40, 20)).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    want = _run(x, -1, log, gy)
    for name, v in views(x).items():
        got = _run(v, -1, log, gy)
        for a, b in zip(got, want):
            _close(a, b, log, np.float32)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 3])
def test_same_bits_on_one_and_two_threads(log, dim):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 64, 16, 33)).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    old, results = mc.get_num_threads(), []
    try:
        for threads in (1, 2):
            mc.set_num_threads(threads)
            results.append(_run(x, dim, log, gy))
    finally:
        mc.set_num_threads(old)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_kernel_row_max_skips_nan_and_keeps_inf():
    a = np.array([[1.0, np.nan, 3.0, -np.inf] * 5 + [np.inf, 2.0]], np.float32)
    out = np.empty_like(a)
    K.span(K.SHIFT, a.reshape(1, -1, 1), a.reshape(1, -1, 1), out.reshape(1, -1, 1), 0, 1)
    # max = inf: finite - inf = -inf, inf - inf = NaN, NaN stays NaN
    with np.errstate(invalid="ignore"):
        want = a - np.float32(np.inf)
    np.testing.assert_array_equal(out, want)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    for shape, dim in [((512, 1000), 1), ((8, 64, 8, 8), 1), ((8, 64, 8, 8), -1)]:
        x = rng.standard_normal(shape).astype(np.float32) * 3
        x[0, 0] = np.nan                                # a NaN row/plane
        x[1, 0] = -np.inf
        gy = rng.standard_normal(shape).astype(np.float32)
        for log in (False, True):
            y, dx = _run(x, dim, log, gy)
            tx = torch.tensor(x, requires_grad=True)
            ty = (torch.log_softmax if log else torch.softmax)(tx, dim)
            ty.backward(torch.tensor(gy))
            _close(y, ty.detach().numpy(), log, np.float32)
            _close(dx, tx.grad.numpy(), log, np.float32)


@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_uses_the_same_log_softmax(probabilities):
    """cross_entropy's log-probabilities come from the kernels too: same loss and gradient
    as the NumPy path (with class targets, a masked -inf class included)."""
    from minicv.nn import functional as F
    rng = np.random.default_rng(8)
    z = rng.standard_normal((300, 50)).astype(np.float32)
    z[:, 7] = -np.inf                                  # never a target: finite loss
    if probabilities:                                  # (0·-inf would be NaN there)
        z[:, 7] = -30.0
        t = rng.random((300, 50)).astype(np.float32)
        target = mc.tensor(t / t.sum(1, keepdims=True))
    else:
        target = mc.tensor(rng.integers(0, 7, 300))
    results = []
    for fast in (True, False):
        with _fast_path(fast):
            zt = mc.tensor(z, requires_grad=True)
            loss = F.cross_entropy(zt, target)
            loss.backward()
            results.append((loss.data, zt.grad.data))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-7)
