"""Loss kernels (``kernels/cpu/loss.py``) against the NumPy path of ``ops/loss.py``
(forced by switching the fast path off), forward and backward.

The pointwise losses with reduction='none' compute the NumPy path's formulas in its
order: equal bit for bit.  Cross-entropy divides exp(z - max) by its sum where NumPy
takes exp of the log-probabilities and sums in another order, and the pointwise
'mean'/'sum' add float64 blocks where NumPy adds float32 pairwise: float32 within rtol
1e-5 (atol 1e-6), float64 within 1e-12, NaN at the same places.
binary_cross_entropy_with_logits computes softplus and sigmoid by other formulas (log1p of
exp(-|x|) for logaddexp, a ratio for tanh): the same tolerances, NaN and inf at the same
places.
"""
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicv as mc
from minicv.ops import loss as L

F = mc.nn.functional


@contextlib.contextmanager
def _fast_path(on):
    """The kernels on (as they are) or off (``ops/loss.py``'s NumPy code)."""
    saved = L._class_fast, L._pointwise_fast, L._bce_fast
    if not on:
        L._class_fast = lambda *args: None
        L._pointwise_fast = L._bce_fast = lambda *args: False
    try:
        yield
    finally:
        L._class_fast, L._pointwise_fast, L._bce_fast = saved


def _run(fn, x, others, g, fast):
    """(loss, grad of x, grads of the float tensors in ``others``) of ``fn``."""
    with _fast_path(fast):
        tx = mc.tensor(x, requires_grad=True)
        to = [mc.tensor(o, requires_grad=o.dtype.kind == "f") for o in others]
        out = fn(tx, *to)
        out.backward(mc.tensor(g))
        return [out.data, tx.grad.data] + [o.grad.data for o in to if o.grad is not None]


def _compare(fn, x, others, g, exact):
    for a, b in zip(_run(fn, x, others, g, True), _run(fn, x, others, g, False)):
        assert a.dtype == b.dtype and a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            tol = 1e-12 if a.dtype == np.float64 else 1e-5
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol / 10)


def _grad(red, shape, dtype, rng):
    return (rng.standard_normal(shape) if red == "none" else np.array(1.5)).astype(dtype)


# ----------------------------------------------------------------------------- cross entropy

@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), c=st.sampled_from([2, 5, 21, 64, 1000]),
       spatial=st.sampled_from([(), (1,), (7,), (9, 13), (3, 4, 5)]),
       dtype=st.sampled_from([np.float32, np.float64]), ls=st.sampled_from([0.0, 0.1, 1.0]),
       weighted=st.booleans(), ignore=st.sampled_from([-100, 0, 1]),
       red=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_matches_numpy_path(n, c, spatial, dtype, ls, weighted, ignore, red,
                                          seed):
    rng = np.random.default_rng(seed)
    reps = -(-(1 << 12) // (n * c * int(np.prod(spatial))))    # around the size threshold
    n *= rng.integers(max(1, reps - 1), reps + 2)
    x = (rng.standard_normal((n, c) + spatial) * 3).astype(dtype)
    t = rng.integers(0, c, (n,) + spatial)
    t[rng.random(t.shape) < 0.2] = ignore
    w = rng.random(c).astype(dtype) if weighted else None

    def fn(z, target):
        return F.cross_entropy(z, target, weight=None if w is None else mc.tensor(w),
                               ignore_index=ignore, reduction=red, label_smoothing=ls)
    _compare(fn, x, [t], _grad(red, t.shape, dtype, rng), exact=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_cross_entropy_special_values(dtype, ls):
    """NaN rows (kept and ignored), -inf logits (a masked class, also the target), +inf.
    float32 on the native threads (2^16+ elements), float64 on this one (the compile of
    each driver costs seconds: one dtype each)."""
    rng = np.random.default_rng(0)
    s = 128 if dtype == np.float32 else 8
    x = rng.standard_normal((64, 10, s)).astype(dtype)
    t = rng.integers(0, 10, (64, s))
    x[0, 3, 2] = np.nan                      # kept NaN row
    x[1, :, 0] = np.nan
    t[1, 0] = -100                           # ignored NaN row: NaN gradient as PyTorch
    x[2, 5, :] = -np.inf                     # a masked class
    t[3, 1] = 4
    x[3, 4, 1] = -np.inf                     # -inf at the target: inf loss
    x[4, 1, 1] = np.inf
    x[5, :, 3] = -np.inf                     # all -inf
    for red in ("mean", "sum", "none"):
        def fn(z, target):
            return F.cross_entropy(z, target, reduction=red, label_smoothing=ls)
        _compare(fn, x, [t], _grad(red, t.shape, dtype, rng), exact=False)


def test_cross_entropy_all_ignored_and_zero_weights():
    """'mean' of an all-ignored batch is NaN with a zero gradient; class weights summing
    to 0 over the kept targets keep the NumPy path (and its NaN/inf pattern)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((512, 16)).astype(np.float32)
    t = np.full(512, -100)
    _compare(lambda z, target: F.cross_entropy(z, target), x, [t], np.array(1.0, np.float32),
             exact=True)
    out = _run(lambda z, target: F.cross_entropy(z, target), x, [t],
               np.array(1.0, np.float32), True)
    assert np.isnan(out[0]) and not out[1].any()
    w = np.zeros(16, np.float32)
    t = rng.integers(0, 16, 512)
    _compare(lambda z, target: F.cross_entropy(z, target, weight=mc.tensor(w)), x, [t],
             np.array(1.0, np.float32), exact=True)


def test_cross_entropy_torch_oracle():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 21, 16, 16)).astype(np.float32)
    t = rng.integers(0, 21, (8, 16, 16))
    t[:, :2] = 255
    w = rng.random(21).astype(np.float32)
    for ls in (0.0, 0.1):
        kw = dict(ignore_index=255, label_smoothing=ls)
        a = mc.tensor(x, requires_grad=True)
        F.cross_entropy(a, mc.tensor(t), weight=mc.tensor(w), **kw).backward()
        b = torch.tensor(x, requires_grad=True)
        out = torch.nn.functional.cross_entropy(b, torch.tensor(t), weight=torch.tensor(w),
                                                **kw)
        out.backward()
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- pointwise

_POINTWISE = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
              ("smooth_l1_loss", {"beta": 0.0}), ("smooth_l1_loss", {"beta": 0.3}),
              ("huber_loss", {}), ("huber_loss", {"delta": 2.5})]


def _with_specials(a, rng, param):
    """Random values, with NaN, ±inf, ±0 and differences exactly at the kinks (±β)."""
    f = a.reshape(-1)
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, param, -param, 2 * param], a.dtype)
    f[rng.integers(0, f.size, 64)] = vals[rng.integers(0, vals.size, 64)]
    return a


@settings(max_examples=30, deadline=None)
@given(loss=st.sampled_from(_POINTWISE), size=st.sampled_from([4096, 4097, 8191, 8193,
                                                               70001, 1 << 19]),
       dtype=st.sampled_from([np.float32, np.float64]), red=st.sampled_from(["mean", "sum",
                                                                            "none"]),
       special=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_pointwise_matches_numpy_path(loss, size, dtype, red, special, seed):
    name, kw = loss
    rng = np.random.default_rng(seed)
    size = size if dtype == np.float32 else min(size, 8193)   # (one dtype compiles threads)
    param = float(next(iter(kw.values()), 1.0)) or 1.0
    x = (rng.standard_normal(size) * 2).astype(dtype)
    t = (rng.standard_normal(size) * 2).astype(dtype)
    x[:8] = t[:8] + np.array([param, -param, 0, 0.5 * param, -2 * param, 1, -1, 0], dtype)
    if special:
        x, t = _with_specials(x, rng, param), _with_specials(t, rng, param)
    shape = (size,) if size % 2 else (2, size // 2)

    def fn(a, b):
        return getattr(F, name)(a, b, reduction=red, **kw)
    _compare(fn, x.reshape(shape), [t.reshape(shape)], _grad(red, shape, dtype, rng),
             exact=red == "none")


def test_pointwise_noncontiguous_keeps_numpy_path():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 128)).astype(np.float32)
    t = rng.standard_normal((64, 128)).astype(np.float32)
    a = F.smooth_l1_loss(mc.tensor(x.T), mc.tensor(t.T), reduction="none")
    b = F.smooth_l1_loss(mc.tensor(np.ascontiguousarray(x.T)),
                         mc.tensor(np.ascontiguousarray(t.T)), reduction="none")
    np.testing.assert_array_equal(a.data, b.data)


# ----------------------------------------------------------------------------- bce with logits

@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # NumPy path, NaN
@settings(max_examples=25, deadline=None)
@given(size=st.sampled_from([4096, 4099, 8193, 70001]),
       dtype=st.sampled_from([np.float32, np.float64]),
       pos_weight=st.sampled_from([None, "class", "full"]),
       red=st.sampled_from(["mean", "sum", "none"]), special=st.booleans(),
       target_grad=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_bce_with_logits_matches_numpy_path(size, dtype, pos_weight, red, special,
                                            target_grad, seed):
    rng = np.random.default_rng(seed)
    size = size if dtype == np.float32 else min(size, 8193)   # (one dtype compiles threads)
    shape = (size,) if size % 2 else (2, size // 2)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if special:
        f = x.reshape(-1)
        vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 90, -90, 1e-30], dtype)
        f[rng.integers(0, f.size, 64)] = vals[rng.integers(0, vals.size, 64)]
    t = rng.random(shape).astype(dtype)
    t.reshape(-1)[:4] = [0, 1, 0, 1]
    pw = None if pos_weight is None else (rng.random(
        shape[-1:] if pos_weight == "class" else shape) * 3).astype(dtype)

    def fn(a, b):
        if not target_grad:
            b = b.detach()
        return F.binary_cross_entropy_with_logits(
            a, b, reduction=red, pos_weight=None if pw is None else mc.tensor(pw))
    _compare(fn, x, [t], _grad(red, shape, dtype, rng), exact=False)


def test_bce_with_logits_weight_and_torch_oracle():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((16, 8, 64)) * 5).astype(np.float32)
    t = (rng.random((16, 8, 64)) > 0.5).astype(np.float32)
    w = rng.random((8, 64)).astype(np.float32)
    pw = (rng.random(64) * 3).astype(np.float32)
    for red in ("mean", "sum", "none"):
        a = mc.tensor(x, requires_grad=True)
        out = F.binary_cross_entropy_with_logits(a, mc.tensor(t), weight=mc.tensor(w),
                                                 pos_weight=mc.tensor(pw), reduction=red)
        out.sum().backward()
        b = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            b, torch.tensor(t), weight=torch.tensor(w), pos_weight=torch.tensor(pw),
            reduction=red)
        ref.sum().backward()
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-5, atol=1e-6)
