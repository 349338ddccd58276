"""The fused kernels of ``kernels/cpu/smooth.py`` (sigmoid, tanh, gelu, silu, mish,
softplus, logsigmoid, softsign): the same bits as the NumPy reference of
``ops/activation.py`` (the float32 GELU: its erf within 2^-23 of erff), forward and backward, on
every size, dtype and special value; the same bits on one and two threads; and within
float32 rounding of PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as hs

import minicv as mc
from minicv.kernels.cpu import smooth
from minicv.nn import functional as F
from minicv.ops import activation as A
from minicv.testing import gradcheck, strategies as st

OPS = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "gelu": F.gelu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu, "mish": F.mish,
    "softplus": F.softplus, "softplus_b2_t5": lambda t: F.softplus(t, 2.0, 5.3),
    "softplus_int": lambda t: F.softplus(t, 3, 7),
    "logsigmoid": F.logsigmoid, "softsign": F.softsign,
}
# Tails, kinks and IEEE specials (softplus switches at βx = threshold: 20 and 5.3/2).
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 20.0, 20.000002, 2.65, 2.6500001,
           -10.0, 10.0, -88.8, 88.8, -104.0, 3e38, -3e38, 1e-45]


def _data(n, dtype, scale, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * scale).astype(dtype)
    x[rng.integers(0, n, len(SPECIAL))] = SPECIAL
    return x, rng.standard_normal(n).astype(dtype)


def _step(fn, x, g):
    t = mc.tensor(x, requires_grad=True)
    y = fn(t)
    y.backward(mc.tensor(g))
    return y.data.copy(), t.grad.data.copy()


def _reference(monkeypatch, fn, x, g):
    """fn's forward and backward with the kernels switched off (the NumPy expressions)."""
    with monkeypatch.context() as m:
        m.setattr(A, "_fast", lambda *args, **kw: None)
        return _step(fn, x, g)


def _assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)                         # NaN where NaN
    num = ~np.isnan(a)                                          # (a NaN's sign is no promise)
    np.testing.assert_array_equal(np.signbit(a[num]), np.signbit(b[num]))   # -0.0 where -0.0


@settings(max_examples=40, deadline=None)
@given(name=hs.sampled_from(sorted(OPS)), dtype=hs.sampled_from([np.float32, np.float64]),
       n=hs.sampled_from([smooth.MIN_SIZE, smooth.MIN_SIZE + 1, smooth.CHUNK - 1,
                          smooth.CHUNK + 3, 2 * smooth.CHUNK + 17, 70001]),
       scale=hs.sampled_from([1.0, 6.0, 60.0]))
def test_kernel_matches_numpy_reference_bit_for_bit(monkeypatch, name, dtype, n, scale):
    x, g = _data(n, dtype, scale)
    calls = []
    apply = smooth.apply
    with monkeypatch.context() as m:
        m.setattr(smooth, "apply", lambda *a, **k: calls.append(a[0]) or apply(*a, **k))
        fast = _step(OPS[name], x, g)
    assert len(calls) == 2                                      # forward and backward ran here
    _assert_matches(name, x, g, fast, _reference(monkeypatch, OPS[name], x, g))


def _assert_matches(name, x, g, fast, ref):
    """The same bits, except the float32 GELU: the kernel's erf (float32 fits, vectorised)
    is within 2^-23 of the reference's (libm's erff, of x/√2; the kernel's of x·(1/√2)), so
    Φ = (1 + erf)/2 may differ by 2^-24, x·Φ by |x|·2^-24 and the gradient
    gy·(Φ + x·φ) by |gy|·(2^-24 + an ulp of Φ + x·φ < 2), each plus a rounding of the
    result; NaN, ±inf and zeros exactly where the reference has them."""
    if name != "gelu" or x.dtype != np.float32:
        for a, b in zip(fast, ref):
            _assert_same_bits(a, b)
        return
    for got, want, bound in ((fast[0], ref[0], np.abs(x) * 2.0 ** -24),
                             (fast[1], ref[1], np.abs(g) * 2.0 ** -22)):
        special = ~np.isfinite(want) | (want == 0)
        _assert_same_bits(got[special], want[special])
        w = want[~special]
        assert np.all(np.abs(got[~special] - w) <= bound[~special] + np.spacing(np.abs(w)))


@pytest.mark.parametrize("name", sorted(OPS))
def test_views_shapes_and_small_arrays_take_the_reference(monkeypatch, name):
    """A strided view, a 4-D array and a small array give what the kernel gives on the
    same values (the first and last through the NumPy path)."""
    x, g = _data(3 * smooth.MIN_SIZE, np.float32, 5.0, seed=1)
    whole = _step(OPS[name], x, g)
    wide = np.stack([x, x], axis=1)[:, 0]                       # stride 2: not contiguous
    _assert_matches(name, x, g, whole, _step(OPS[name], wide, g))
    four = _step(OPS[name], x.reshape(3, 4, 32, -1), g.reshape(3, 4, 32, -1))
    for a, b in zip(four, whole):
        _assert_same_bits(a.reshape(-1), b)
    _assert_matches(name, x[:100], g[:100], [a[:100] for a in whole],
                    _step(OPS[name], x[:100], g[:100]))


def test_same_bits_on_one_and_two_threads():
    x, g = _data(5 * smooth.CHUNK + 7, np.float32, 4.0, seed=2)
    old = mc.get_num_threads()
    try:
        mc.set_num_threads(1)
        one = [_step(fn, x, g) for fn in OPS.values()]
        mc.set_num_threads(2)
        two = [_step(fn, x, g) for fn in OPS.values()]
    finally:
        mc.set_num_threads(old)
    for (a, b), (c, d) in zip(one, two):
        _assert_same_bits(a, c)
        _assert_same_bits(b, d)


def test_upstream_gradient_of_another_layout_or_dtype(monkeypatch):
    """A float64 or strided upstream gradient takes the reference backward."""
    x, g = _data(2 * smooth.MIN_SIZE, np.float32, 3.0, seed=3)
    for gy in (g.astype(np.float64), np.stack([g, g], axis=1)[:, 0]):
        for name, fn in OPS.items():
            _assert_matches(name, x, gy, _step(fn, x, gy), _reference(monkeypatch, fn, x, gy))


def test_dtypes_and_in_place_forms():
    x = mc.tensor(np.linspace(-8, 8, 8192, dtype=np.float32))
    for fn in OPS.values():                                     # float16 keeps its dtype
        assert fn(x.half()).dtype == mc.float16
    assert F.sigmoid(mc.arange(5000)).dtype == mc.get_default_dtype()
    assert F.softsign(mc.arange(5000)).dtype == mc.get_default_dtype()
    with pytest.raises(TypeError):
        F.silu(mc.arange(5000))
    with pytest.raises(TypeError):
        F.mish(mc.arange(5000))
    for method, fn in (("sigmoid_", F.sigmoid), ("tanh_", F.tanh)):
        t = x.clone()
        getattr(t, method)()
        np.testing.assert_array_equal(t.data, fn(x).data)
    np.testing.assert_array_equal(F.silu(x, inplace=True).data, F.silu(x).data)
    np.testing.assert_array_equal(F.mish(x, inplace=True).data, F.mish(x).data)


@pytest.mark.parametrize("fn", [A.silu, A.mish, A.softsign,
                                lambda t: A.softplus(t, 1.5, 3.0), A.logsigmoid])
@given(x=st.tensors(avoid=(0.0, 2.0)))
def test_gradcheck(fn, x):
    gradcheck(fn, (x,))


def test_tails_of_the_fixed_formulas():
    """softplus's gradient in the left tail is exp(βx)/(1 + exp(βx)), not 0 (the old
    0.5(1 + tanh(βx/2)) cancelled); mish and silu are ~x·e^x far left, not 0 or NaN."""
    x = mc.tensor([-30.0, -20.0, -5.0], requires_grad=True)
    F.softplus(x).backward(mc.ones(3))
    np.testing.assert_allclose(x.grad.data, 1 / (1 + np.exp(-x.data)), rtol=2e-7)
    x = mc.tensor([-60.0], dtype=mc.float64)
    np.testing.assert_allclose(F.mish(x).data, -60 * np.exp(-60.0), rtol=1e-12)
    np.testing.assert_allclose(F.silu(x).data, -60 * np.exp(-60.0), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_close_to_torch(name):
    """float32 on 60,000 values in [-40, 40], gradients for an upstream gradient of 1:
    |minicv - torch| <= 5e-7·|torch| + 3e-7·(1 + |x|), a few float32 roundings of the
    result or of x. The |x| term absorbs the float32 cancellations the formulas share,
    scaled by x: (1 + erf) below x = -4 in gelu; 1 + tanh(u) and 1 - tanh²(u) once NumPy's
    tanh is 1 ulp off -1 in gelu_tanh's gradient (-1.2e-6 near x = -5.4, torch 0); and
    mish's gradient near x = 8.7, where minicv, in float64, gives the correctly rounded
    1.00000095 and torch 1.0."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": tf.gelu,
           "gelu_tanh": lambda t: tf.gelu(t, approximate="tanh"), "silu": tf.silu,
           "mish": tf.mish, "softplus": tf.softplus,
           "softplus_b2_t5": lambda t: tf.softplus(t, 2.0, 5.3),
           "softplus_int": lambda t: tf.softplus(t, 3, 7),
           "logsigmoid": tf.logsigmoid, "softsign": tf.softsign}
    x = np.concatenate([np.linspace(-40, 40, 40001), np.linspace(-3, 3, 20001)])
    x = x.astype(np.float32)
    y, gx = _step(OPS[name], x, np.ones_like(x))
    tx = torch.tensor(x, requires_grad=True)
    ty = fns[name](tx)
    ty.backward(torch.ones_like(tx))
    for got, want in ((y, ty.detach().numpy()), (gx, tx.grad.numpy())):
        err = np.abs(got.astype(np.float64) - want)
        bound = 5e-7 * np.abs(want) + 3e-7 * (1 + np.abs(x))
        if name == "tanh" and not np.all(err <= bound):
            # Three cold full-suite runs saw torch and minicv differ by up to 4e-5 here
            # (minicv's forward is NumPy's own tanh loop); not reproduced since. Judge
            # minicv by the float64 tanh as well, and say who was off.
            y64 = np.tanh(x.astype(np.float64))
            ref = y64 if got is y else 1 - y64 * y64
            near = np.abs(got - ref) <= bound
            assert np.all(near | (err <= bound)), (
                "minicv off the float64 tanh by", np.abs(got - ref).max(),
                "torch off it by", np.abs(want - ref).max())
            continue
        assert np.all(err <= bound), (x[np.argmax(err / bound)], np.max(err / bound))


def test_float32_erf_within_2_to_minus_23_of_erff():
    """``smooth._erf`` (float32 fits, given the GELU's e = exp(-x²/2)) at z = x·(1/√2)
    against libm's ``erff`` at x/√2 (the reference's), on 1M x in [-8, 8] with both fits'
    seams (|z| = 1, 4) and IEEE specials: within 2^-23 (an ulp of values in [0.5, 1));
    NaN for NaN, ±1 at ±inf."""
    from numba import njit

    @njit
    def erf32(z, e):
        out = np.empty_like(z)
        for i in range(z.size):
            out[i] = smooth._erf(z[i], e[i])
        return out

    seams = np.float32(np.sqrt(2)) * np.array([1, 4], np.float32)
    x = np.concatenate([np.linspace(-8, 8, 1 << 20, dtype=np.float32),
                        np.nextafter(seams, 0), seams, np.nextafter(seams, 9), -seams,
                        np.array(SPECIAL, np.float32)])
    with np.errstate(over="ignore"):                            # x² of ±3e38: inf
        e = np.exp(np.float32(-0.5) * x * x)
    got = erf32(x * np.float32(1 / np.sqrt(2)), e)
    want = A._erf(x / np.float32(np.sqrt(2)))
    assert want.dtype == np.float32 and np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.all(np.abs(got[ok].astype(np.float64) - want[ok]) <= 2.0 ** -23)
    assert got[x == np.inf] == 1 and got[x == -np.inf] == -1


def test_numpy_expressions_where_numpys_loops_are_not_found(monkeypatch):
    """Without NumPy's loops by address (``ufunc_loops`` found none) no op takes the
    kernels: the NumPy expressions of ``ops/activation.py`` run (the reference)."""
    x, g = _data(3 * smooth.CHUNK + 5, np.float32, 6.0, seed=3)
    fast = {name: _step(fn, x, g) for name, fn in OPS.items()}
    monkeypatch.setattr(smooth.ufunc_loops, "_ADDRESSES", [{}])
    assert not smooth.fast_ok(x)
    monkeypatch.setattr(smooth, "apply", None)                  # would fail if called
    for name, fn in OPS.items():
        _assert_matches(name, x, g, fast[name], _step(fn, x, g))


def test_numpys_loops_are_found_here():
    """On this machine's NumPy the six loops are found and pass their check."""
    assert smooth._loops(smooth.SOFTPLUS, np.float64) is not None
    assert sorted(smooth.ufunc_loops._find()) == [(f, c) for f in ("exp", "log1p", "tanh")
                                                  for c in "df"]
