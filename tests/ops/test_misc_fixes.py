"""Fixes found by comparing minicv with PyTorch 2.13: the ``*_like`` random factories'
``generator=``, ``diff`` with n=0, ``index_fill``'s value gradient, quantile's gradient in
q, empty multinomial/normal, integer bernoulli, randint's requires_grad, and the NumPy fast
paths of the scans and of ``scatter_reduce('prod')``. Expected values from PyTorch 2.13."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

NAN = float("nan")


def _close(t, want, **kw):
    np.testing.assert_allclose(np.asarray(t.data), np.asarray(want, dtype=float),
                               equal_nan=True, **kw)


# ----------------------------------------------------------------------------- M1

@pytest.mark.parametrize("fn", [mc.rand_like, mc.randn_like])
def test_random_like_takes_generator(fn):
    x = mc.zeros(2, 3, dtype=mc.float64)
    a = fn(x, generator=mc.Generator().manual_seed(7))
    b = fn(x, generator=mc.Generator().manual_seed(7))
    c = fn(x, generator=mc.Generator().manual_seed(8))
    assert a.shape == (2, 3) and a.dtype == mc.float64
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    with pytest.raises(TypeError):
        fn(x, None, mc.float32)                 # generator and dtype are keyword-only


# ----------------------------------------------------------------------------- M2

def test_diff_n0_ignores_prepend_and_append():
    x = mc.tensor([1., 4., 9.], requires_grad=True)
    y = mc.diff(x, n=0, prepend=mc.tensor([0.]), append=mc.tensor([2., 3.]))
    assert y.tolist() == [1., 4., 9.]
    y.backward(mc.tensor([1., 2., 3.]))
    assert x.grad.tolist() == [1., 2., 3.]
    r = mc.diff(mc.tensor([1, 2]), n=0, prepend=mc.tensor([0.5]))
    assert r.dtype == mc.int64 and r.tolist() == [1, 2]
    with pytest.raises(ValueError, match="prepend"):       # still checked, as torch
        mc.diff(x, n=0, prepend=mc.tensor([[0.]]))


# ----------------------------------------------------------------------------- M3

@pytest.mark.parametrize("index, want", [([0, 0, 2], 10.), ([2, -1], 7.), ([1, 1, 1], 5.)])
def test_index_fill_value_gradient_counts_each_place_once(index, want):
    # torch ([0, 0, 2]): v.grad 10 = 0 + 3 + 2 + 5 (torch's backward fails on [2, -1])
    v = mc.tensor(2., requires_grad=True)
    x = mc.zeros(2, 3, requires_grad=True)
    y = x.index_fill(1, mc.tensor(index), v)
    (y * mc.arange(6.).reshape(2, 3)).sum().backward()
    assert v.grad.item() == want
    filled = sorted({i % 3 for i in index})
    assert y.tolist() == [[2. if j in filled else 0. for j in range(3)]] * 2
    assert x.grad.tolist() == [[0. if j in filled else 3. * i + j for j in range(3)]
                               for i in range(2)]


# ----------------------------------------------------------------------------- M4

@pytest.mark.parametrize("fn", [mc.quantile, mc.nanquantile])
@pytest.mark.parametrize("interpolation, values, q_grad", [
    ("linear", [1.9, 3.5, 7.1], [3., 18., 27.]),
    ("lower", [1., 2., 5.], None), ("higher", [2., 5., 8.], None),
    ("midpoint", [1.5, 3.5, 6.5], None), ("nearest", [2., 5., 8.], None)])
def test_quantile_gradient_in_q(fn, interpolation, values, q_grad):
    x = mc.tensor([1., 5., 2., 8.], dtype=mc.float64, requires_grad=True)
    q = mc.tensor([0.3, 0.5, 0.9], dtype=mc.float64, requires_grad=True)
    r = fn(x, q, interpolation=interpolation)
    r.backward(mc.tensor([1., 2., 3.], dtype=mc.float64))
    _close(r, values, rtol=1e-12)
    assert (q.grad is None) == (q_grad is None)
    if q_grad is not None:
        _close(q.grad, q_grad, rtol=1e-12)


def test_quantile_q_gradient_with_nan_slices():
    x = mc.tensor([[1., 5., NAN, 8.], [3., 1., 2., 0.]], dtype=mc.float64)
    for fn, want in ((mc.quantile, 3.), (mc.nanquantile, 11.)):
        q = mc.tensor(0.4, dtype=mc.float64, requires_grad=True)
        fn(x, q, dim=1).sum().backward()
        assert q.grad.item() == pytest.approx(want, rel=1e-12)
    q = mc.tensor([0.2, 0.7], dtype=mc.float64, requires_grad=True)
    mc.nanquantile(mc.tensor([[NAN, NAN]], dtype=mc.float64), q, dim=1).sum().backward()
    assert q.grad.tolist() == [0., 0.]               # all-NaN slice: the rank is clamped


# q·(n - 1) away from the integers: there the rank's gradient has a kink
@given(x=st.tensors(shape=(2, 5)),
       q=hs.lists(hs.sampled_from([0.05, 0.3, 0.4, 0.6, 0.9]), min_size=1, max_size=3))
def test_quantile_q_gradcheck(x, q):
    qt = mc.tensor(q, dtype=mc.float64, requires_grad=True)
    spread = mc.tensor([[0., 7., 14., 21., 28.], [35., 0., 21., 7., 14.]], dtype=mc.float64)
    gradcheck(lambda a, b: mc.quantile(a + spread, b, dim=1, keepdim=True), (x, qt))
    gradcheck(lambda b: mc.nanquantile(x.detach(), b), (qt,))


# ----------------------------------------------------------------------------- M5, M7

def test_multinomial_on_zero_rows():
    for replacement, k in ((False, 2), (True, 5)):
        r = mc.multinomial(mc.ones(0, 3), k, replacement=replacement)
        assert r.shape == (0, k) and r.dtype == mc.int64
    with pytest.raises(RuntimeError, match="without replacement"):
        mc.multinomial(mc.ones(0, 3), 5)


def test_bernoulli_of_integer_and_bool_tensors_with_p():
    r = mc.bernoulli(mc.tensor([2, 3]), 0.0)
    assert r.dtype == mc.int64 and r.tolist() == [0, 0]
    r = mc.bernoulli(mc.tensor([2, 3], dtype=mc.int32), 1.0)
    assert r.dtype == mc.int32 and r.tolist() == [1, 1]
    assert mc.bernoulli(mc.tensor([True, False]), 1.0).tolist() == [True, True]
    with pytest.raises(TypeError, match="floating"):    # torch: NotImplementedError
        mc.bernoulli(mc.tensor([0, 1]))


def test_randint_requires_grad():
    r = mc.randint(0, 5, (3,), dtype=mc.float32, requires_grad=True)
    assert r.requires_grad and r.dtype == mc.float32
    assert set(r.tolist()) <= {0., 1., 2., 3., 4.}
    assert not mc.randint(5, (2,)).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mc.randint(0, 5, (3,), requires_grad=True)


@pytest.mark.parametrize("mean, std, dtype", [
    (mc.empty(0, dtype=mc.int64), 1.0, mc.int64),
    (0.0, mc.empty(0, dtype=mc.int64), mc.int64),
    (mc.empty(0, dtype=mc.int32), mc.empty(0, dtype=mc.int32), mc.int32),
    (mc.empty(0, dtype=mc.bool), 1.0, mc.bool),
    (mc.empty(0, dtype=mc.float64), mc.empty(0, dtype=mc.int64), mc.float64)])
def test_normal_of_empty_integer_tensors(mean, std, dtype):
    r = mc.normal(mean, std)
    assert r.shape == (0,) and r.dtype == dtype


def test_normal_of_nonempty_integer_tensor_raises():
    with pytest.raises(TypeError, match="floating"):    # torch: NotImplementedError
        mc.normal(mc.tensor([1]), 1.0)


# ----------------------------------------------------------------------------- M6

def test_scans_nan_and_ties():
    x = mc.tensor([[1., 3., NAN, 2., 5.], [2., 2., 1., 2., 0.]])
    v, i = mc.cummax(x, 1)
    _close(v, [[1, 3, NAN, NAN, NAN], [2, 2, 2, 2, 2]])
    assert i.tolist() == [[0, 1, 2, 2, 2], [0, 1, 1, 3, 3]]
    v, i = mc.cummin(x, 1)
    _close(v, [[1, 1, NAN, NAN, NAN], [2, 2, 1, 1, 0]])
    assert i.tolist() == [[0, 0, 2, 2, 2], [0, 1, 2, 2, 4]]
    y = mc.logcumsumexp(mc.tensor([[0., -np.inf, 1e3, NAN], [1., 2., 3., 4.]]), 1)
    _close(y, [[0., 0., 1000., NAN], [1., 2.3132617, 3.4076059, 4.4401898]], rtol=1e-6)


@pytest.mark.parametrize("include_self, out, gx, gsrc", [
    (True, [[0., NAN, 9.], [4., -20., 3.]], [[0., NAN, 9.], [4., -20., 3.]],
     [[0., 2., 9., NAN], [100., -50., -50., 36.]]),
    (False, [[0., NAN, 3.], [4., -4., 0.5]], [[0., 0., 0.], [4., 0., 0.]],
     [[0., 2., 3., NAN], [20., -10., -10., 6.]])])
def test_scatter_reduce_prod(include_self, out, gx, gsrc):
    x = mc.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
    src = mc.tensor([[2., 0., 3., NAN], [-1., 2., 2., 0.5]], requires_grad=True)
    index = mc.tensor([[0, 0, 2, 1], [1, 1, 1, 2]])
    y = mc.scatter_reduce(x, 1, index, src, "prod", include_self=include_self)
    y.backward(mc.tensor([[1., 2., 3.], [4., 5., 6.]]))
    _close(y, out)
    _close(x.grad, gx)
    _close(src.grad, gsrc)


# ----------------------------------------------------------------------------- M8

def test_ldexp_values_dtypes_and_gradient():
    assert mc.ldexp(mc.tensor([1, 2]), mc.tensor([2, 3])).tolist() == [4., 16.]
    assert mc.ldexp(mc.tensor([1, 2]), mc.tensor([2, 3])).dtype == mc.float32
    for a, b, want in ((mc.float32, mc.float64, mc.float64), (mc.float16, mc.float32,
                       mc.float32), (mc.float16, mc.int32, mc.float16),
                       (mc.int32, mc.float64, mc.float64)):
        assert mc.ldexp(mc.ones(2, dtype=a), mc.ones(2, dtype=b)).dtype == want
    r = mc.ldexp(mc.tensor([1., 2.], dtype=mc.float64), mc.tensor(2.5))
    _close(r, [5.656854249492381, 11.313708498984761], rtol=1e-15)
    x = mc.tensor([1., 3.], requires_grad=True)
    o = mc.tensor([2., 1.], requires_grad=True)
    y = x.ldexp(o)
    y.sum().backward()
    assert y.tolist() == [4., 6.] and x.grad.tolist() == [4., 2.]
    _close(o.grad, [2.7725887, 4.1588831], rtol=1e-6)
    t = mc.tensor([1., 2.])
    assert t.ldexp_(mc.tensor([1, -1])) is t and t.tolist() == [2., 1.]
    with pytest.raises(RuntimeError, match="cast"):
        mc.tensor([1, 2]).ldexp_(mc.tensor([1, 1]))
    with pytest.raises(ValueError, match="broadcast"):
        mc.ldexp(mc.ones(2), mc.ones(3))


@given(x=st.tensors(shape=(2, 3)), e=st.tensors(shape=(3,)))
def test_ldexp_gradcheck(x, e):
    gradcheck(mc.ldexp, (x, e))


def test_nextafter():
    r = mc.nextafter(mc.tensor([1., 0., 2.]), mc.tensor([2., -1., 2.]))
    assert r.dtype == mc.float32
    assert r.tolist() == [1.0000001192092896, -1.401298464324817e-45, 2.0]
    r = mc.tensor([1.], dtype=mc.float64).nextafter(mc.tensor([2.], dtype=mc.float64))
    assert r.tolist() == [1.0000000000000002]
    assert mc.nextafter(mc.tensor([1.]), mc.tensor([2.], dtype=mc.float64)).dtype == mc.float64
    assert mc.nextafter(mc.tensor([1.]), mc.tensor(2., dtype=mc.float64)).dtype == mc.float32
    assert not mc.nextafter(mc.tensor([1.], requires_grad=True), mc.ones(1)).requires_grad
    t = mc.tensor([1.])
    assert t.nextafter_(mc.tensor([0.])) is t and t.tolist() == [0.9999999403953552]
    with pytest.raises(TypeError, match="floating"):   # torch: NotImplementedError
        mc.nextafter(mc.tensor([1]), mc.tensor([2]))
