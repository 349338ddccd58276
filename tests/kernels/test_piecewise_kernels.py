"""The one-pass piecewise activation kernels (``kernels/cpu/piecewise.py``) against the
NumPy forms of ``ops/activation.py`` (forced by turning the fast path off): values and
gradients equal bit for bit (prelu's weight gradient, summed in another order: to a
relative 1e-5 in float32, 1e-12 in float64), special values at the kinks, contiguous,
broadcast and strided upstream gradients, in-place forms, and one or two threads."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicv as mc
from minicv.nn import functional as F
from minicv.ops import activation as A

# (name, function of a tensor): each piecewise op, with bounds and slopes of both signs
OPS = [
    ("relu", F.relu),
    ("hardtanh", F.hardtanh),
    ("hardtanh(-2.5, 0.5)", lambda t: F.hardtanh(t, -2.5, 0.5)),
    ("relu6", F.relu6),
    ("leaky_relu", F.leaky_relu),
    ("leaky_relu(-0.5)", lambda t: F.leaky_relu(t, -0.5)),
    ("elu", F.elu),
    ("elu(0.3)", lambda t: F.elu(t, 0.3)),
    ("selu", F.selu),
    ("celu(0.5)", lambda t: F.celu(t, 0.5)),
    ("hardswish", F.hardswish),
    ("hardsigmoid", F.hardsigmoid),
    ("threshold", lambda t: F.threshold(t, 0.1, 20.0)),
]
INPLACE = [F.relu_, F.leaky_relu_, F.elu_, F.selu_, F.celu_, F.hardtanh_,
           lambda t: F.threshold_(t, 0.5, -2.0)]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, -3.0, 3.0, 6.0, -1.0, 1.0, -2.5, 0.5, 0.1,
           -1e-30, 1e-30, 100.0, -100.0]


@pytest.fixture
def fast(monkeypatch):
    """``run(f)``: f() with the fast path on (True) or forced off (False)."""
    def run(f, on):
        if not on:
            monkeypatch.setattr(A, "_piecewise_ok", lambda x: False)
        try:
            return f()
        finally:
            monkeypatch.undo()
    return run


def _data(shape, dtype, seed):
    """Normal values spread over the kinks, the special values at the front."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    flat = x.reshape(-1)
    flat[:len(SPECIAL)] = SPECIAL
    flat[len(SPECIAL):2 * len(SPECIAL)] = rng.choice([-3.0, 3.0, 0.0, -1.0, 1.0, 6.0],
                                                      len(SPECIAL))
    g = rng.standard_normal(shape).astype(dtype)
    g.reshape(-1)[-3:] = (np.nan, np.inf, -np.inf)
    return x, g


def _step(fn, x, g, mode):
    """(y, dx) of ``fn`` on x with dY = g ("contiguous"), broadcast from ``y.sum()``
    ("sum") or a transposed, strided view of g ("strided")."""
    xt = mc.tensor(x, requires_grad=True)
    y = fn(xt)
    if mode == "contiguous":
        y.backward(mc.tensor(g))
    elif mode == "sum":
        y.sum().backward()
    else:
        gt = np.ascontiguousarray(np.swapaxes(g, 0, -1))
        (y.transpose(0, -1) * mc.tensor(gt)).sum().backward()
    return y.data, xt.grad.data


def _same(a, b):
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))   # -0.0 stays -0.0


@settings(max_examples=8, deadline=None)
@given(shape=st.sampled_from([(2, 2048), (4097,), (3, 5, 17, 17), (1, 64, 33, 31),
                              (2, 3, 5, 7, 11, 13)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_ops_match_numpy_forms(shape, dtype, seed):
    x, g = _data(shape, dtype, seed)
    with np.errstate(all="ignore"):
        for name, fn in OPS:
            for mode in ("contiguous", "sum", "strided"):
                old = A._piecewise_ok
                try:
                    A._piecewise_ok = lambda a: False
                    ref = _step(fn, x, g, mode)
                finally:
                    A._piecewise_ok = old
                got = _step(fn, x, g, mode)
                for r, o in zip(ref, got):
                    _same(o, r)


@pytest.mark.parametrize("size", [4095, 4096, 1 << 16, (1 << 19) + 3])
def test_sizes_around_thresholds(size, fast):
    x, g = _data((size,), np.float32, size)
    with np.errstate(all="ignore"):
        for name, fn in OPS:
            ref = fast(lambda: _step(fn, x, g, "contiguous"), False)
            got = fast(lambda: _step(fn, x, g, "contiguous"), True)
            for r, o in zip(ref, got):
                _same(o, r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_input_keeps_numpy_path(dtype, fast):
    x, g = _data((8, 16, 40), dtype, 3)
    view = x[:, :, ::2]                                       # (8, 16, 20), strided
    for name, fn in OPS[:8]:
        ref = fast(lambda: fn(mc.tensor(np.ascontiguousarray(view))).data, False)
        _same(fn(mc.tensor(view)).data, ref)


def _prelu_step(x, w, g):
    xt, wt = mc.tensor(x, requires_grad=True), mc.tensor(w, requires_grad=True)
    y = F.prelu(xt, wt)
    y.backward(mc.tensor(g))
    return y.data, xt.grad.data, wt.grad.data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,nw", [((4, 8, 16, 16), 8), ((4, 8, 16, 16), 1),
                                      ((64, 96), 96), ((5000,), 1)])
def test_prelu(shape, nw, dtype, fast):
    x, g = _data(shape, dtype, 7)
    x[~np.isfinite(x)] = 0                      # finite sums: a comparable weight gradient
    g[~np.isfinite(g)] = 1
    w = np.linspace(-0.5, 0.75, nw).astype(dtype)
    ref = fast(lambda: _prelu_step(x, w, g), False)
    got = fast(lambda: _prelu_step(x, w, g), True)
    _same(got[0], ref[0])
    _same(got[1], ref[1])
    exact = (np.where(x > 0, 0, x * g).astype(np.float64)
             .reshape(shape[0], nw, -1) if len(shape) > 1 and nw > 1
             else np.where(x > 0, 0, x * g).astype(np.float64).reshape(1, 1, -1))
    exact = exact.sum(axis=(0, 2))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[2], exact, rtol=rtol, atol=rtol * np.abs(x * g).sum())
    assert got[2].dtype == dtype and got[2].shape == w.shape


def test_prelu_weight_only_and_broadcast_grad(fast):
    x, _ = _data((4, 8, 16, 16), np.float32, 9)
    x[~np.isfinite(x)] = 0
    w = mc.tensor(np.full(8, 0.25, np.float32), requires_grad=True)
    for on in (False, True):
        w.grad = None
        fast(lambda: F.prelu(mc.tensor(x), w).sum().backward(), on)
        if not on:
            ref = w.grad.data.copy()
    np.testing.assert_allclose(w.grad.data, ref, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_forms(dtype, fast):
    x, g = _data((4, 8, 16, 16), dtype, 11)

    def step(fn):
        xt = mc.tensor(x, requires_grad=True)
        h = xt * 1                                  # a non-leaf: recorded in place
        out = fn(h)
        assert out is h
        h.backward(mc.tensor(g))
        return h.data, xt.grad.data

    with np.errstate(all="ignore"):
        for fn in INPLACE:
            ref = fast(lambda: step(fn), False)
            got = fast(lambda: step(fn), True)
            for r, o in zip(ref, got):
                _same(o, r)
    a = mc.tensor(x.copy())                         # unrecorded: written straight in
    F.leaky_relu_(a, 0.1)
    _same(a.data, np.where(x > 0, x, x * dtype(0.1)))


def test_same_bits_on_one_and_two_threads():
    x, g = _data((8, 32, 32, 32), np.float32, 5)
    x[~np.isfinite(x)] = 0
    w = np.linspace(0.1, 0.3, 32).astype(np.float32)
    old = mc.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            mc.set_num_threads(n)
            with np.errstate(all="ignore"):
                runs.append([_step(fn, x, g, "contiguous") for _, fn in OPS]
                            + [_prelu_step(x, w, g)])
    finally:
        mc.set_num_threads(old)
    for one, two in zip(*runs):
        for a, b in zip(one, two):
            _same(a, b)


def test_kinks_against_torch():
    torch = pytest.importorskip("torch")
    x = np.tile(np.array([-3.0, 3.0, 0.0, -1.0, 1.0, 6.0, -2.0, 0.5, 2.0], np.float32), 512)
    cases = [(F.hardtanh, torch.nn.functional.hardtanh),
             (F.relu6, torch.nn.functional.relu6),
             (F.leaky_relu, torch.nn.functional.leaky_relu),
             (F.elu, torch.nn.functional.elu), (F.selu, torch.nn.functional.selu),
             (lambda t: F.celu(t, 0.5), lambda t: torch.nn.functional.celu(t, 0.5)),
             (F.hardswish, torch.nn.functional.hardswish),
             (F.hardsigmoid, torch.nn.functional.hardsigmoid)]
    for ours, theirs in cases:
        y, gx = _step(ours, x, None, "sum")
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-6, atol=1e-7)
