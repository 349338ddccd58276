"""Reductions: PyTorch's dim/keepdim semantics, gradchecks, max/min indices and ties."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st


def _axes(dim):
    return None if dim is None else dim


@pytest.mark.parametrize("op", ["sum", "mean"])
@given(data=hs.data())
def test_sum_mean(op, data):
    x = data.draw(st.tensors())
    dim = data.draw(st.dims(x.shape))
    keepdim = data.draw(hs.booleans())
    out = getattr(x, op)(dim=dim, keepdim=keepdim)
    want = getattr(np, op)(x.data, axis=_axes(dim), keepdims=keepdim)
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    gradcheck(lambda t: getattr(t, op)(dim=dim, keepdim=keepdim), (x,))


@pytest.mark.parametrize("op", ["var", "std"])
@given(data=hs.data())
def test_var_std(op, data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1, min_side=2), unique=True))
    dim = data.draw(st.dims(x.shape))
    correction = data.draw(hs.sampled_from([0, 1]))
    out = getattr(x, op)(dim=dim, correction=correction)
    want = getattr(np, op)(x.data, axis=dim, ddof=correction)
    np.testing.assert_allclose(out.data, want, rtol=1e-10)
    gradcheck(lambda t: getattr(t, op)(dim=dim, correction=correction), (x,))


def test_var_unbiased_flag():
    x = mc.tensor([1.0, 2.0, 4.0])
    assert np.isclose(x.var().item(), np.var([1, 2, 4], ddof=1))
    assert np.isclose(x.var(unbiased=False).item(), np.var([1, 2, 4]))
    assert np.isclose(x.std(dim=0, unbiased=False).item(), np.std([1, 2, 4]))


@pytest.mark.parametrize("op", ["max", "min"])
@given(data=hs.data())
def test_max_min_with_dim(op, data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1), unique=True))
    dim = data.draw(hs.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(hs.booleans())
    values, indices = getattr(x, op)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.data, getattr(np, op)(x.data, axis=dim,
                                                               keepdims=keepdim))
    argf = np.argmax if op == "max" else np.argmin
    np.testing.assert_array_equal(indices.data, argf(x.data, axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    gradcheck(lambda t: getattr(t, op)(dim=dim, keepdim=keepdim)[0], (x,))
    gradcheck(lambda t: getattr(t, op)(), (x,))


def test_max_ties():
    x = mc.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()                         # global: shared evenly, as PyTorch
    np.testing.assert_allclose(x.grad.data, [0, 0.5, 0.5])
    x.grad = None
    v, i = x.max(dim=0)
    assert i.item() == 1                       # the first maximum
    v.backward()
    np.testing.assert_allclose(x.grad.data, [0, 1, 0])


def test_argmax_argmin():
    x = mc.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    assert x.argmax().item() == 3
    np.testing.assert_array_equal(x.argmax(dim=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).data, [[0, 1, 0]])


@given(data=hs.data())
def test_logsumexp(data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1)))
    dim = data.draw(st.dims(x.shape, allow_none=False))
    want = np.log(np.exp(x.data).sum(axis=dim))
    np.testing.assert_allclose(mc.logsumexp(x, dim).data, want, rtol=1e-10, atol=1e-12)
    gradcheck(lambda t: mc.logsumexp(t, dim), (x,))


def test_logsumexp_large_values():
    x = mc.tensor([1000.0, 1000.0])
    assert np.isclose(mc.logsumexp(x, 0).item(), 1000 + np.log(2))


def test_bad_dim_raises():
    with pytest.raises(IndexError, match="range"):
        mc.ones(2, 3).sum(dim=2)
    with pytest.raises(TypeError, match="float"):
        mc.arange(3).mean()


def test_max_and_argmax_take_one_dim():
    x = mc.tensor([[1.0, 5.0], [7.0, 2.0]])
    for fn in (x.max, x.min, x.argmax, x.argmin):
        with pytest.raises(TypeError, match="single int dim"):
            fn(dim=(0, 1))
    assert x.amax(dim=(0, 1)).item() == 7.0


def test_argmax_without_dim_keepdim_keeps_every_dimension():
    x = mc.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.argmax(keepdim=True).shape == (1, 1, 1)            # PyTorch's shape
    assert mc.argmin(x, keepdim=True).shape == (1, 1, 1)
    assert x.argmax().shape == () and x.argmax().item() == 23


def test_prod_gradcheck_including_zeros():
    x = mc.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    for dim, keep in ((None, False), (0, False), (1, True), (-1, False)):
        gradcheck(lambda t: t.prod() if dim is None else t.prod(dim, keepdim=keep), (x,))
    z = mc.tensor([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]], requires_grad=True)
    z.prod(1).sum().backward()                         # exact where y / x would be 0 / 0
    np.testing.assert_array_equal(z.grad.data, [[0, 3, 0], [0, 0, 0]])
    assert mc.arange(1, 5).prod().dtype == np.int64 and mc.arange(1, 5).prod().item() == 24


def test_cumsum_and_norm_gradcheck():
    x = mc.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    np.testing.assert_allclose(x.cumsum(1).data, np.cumsum(x.data, 1))
    gradcheck(lambda t: mc.cumsum(t, dim=0), (x,))
    assert mc.arange(4).cumsum(0).tolist() == [0, 1, 3, 6]
    np.testing.assert_allclose(x.norm().item(), np.linalg.norm(x.data))
    for p in ("fro", 1, 3):
        gradcheck(lambda t: t.norm(p=p, dim=1, keepdim=True), (x,))
    np.testing.assert_allclose(x.norm(p=float("inf"), dim=0).data, np.abs(x.data).max(0))
    zero = mc.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    zero.norm(dim=1).sum().backward()                  # PyTorch: gradient 0 at the origin
    np.testing.assert_allclose(zero.grad.data, [[0, 0], [0.6, 0.8]])
