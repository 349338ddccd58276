"""Reductions: PyTorch's dim/keepdim semantics, gradchecks, max/min indices and ties."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.ops import reduce as R
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


# ----------------------------------------------------------------------------- PyTorch parity
# Expected values below were computed with PyTorch 2.13 (CPU), float64.

NAN, INF = float("nan"), float("inf")


def _grad(fn, values):
    x = mc.tensor(np.array(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


def test_std_gradient_is_zero_on_constant_slices():
    np.testing.assert_array_equal(_grad(lambda x: x.std(), [2.0, 2.0, 2.0]), [0, 0, 0])
    g = _grad(lambda x: x.std(dim=0), [[2.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(g, [[0.0, -0.7071067811865475], [0.0, 0.7071067811865475]])
    assert np.isnan(_grad(lambda x: x.std(), [2.0])).all()        # n - correction = 0


@pytest.mark.parametrize("p,values,want", [
    (3, [0.0, 0.0], [0.0, 0.0]),
    (3, [0.0, -2.0, 1.0], [0.0, -0.9244816991341795, 0.2311204247835449]),
    (0.5, [0.0, 1.0], [0.0, 1.0]),
    (0.5, [0.0, -2.0, 1.0], [0.0, -1.7071067811865472, 2.414213562373095]),
    (1.5, [0.0, 0.0], [0.0, 0.0]),
    (-1, [0.0, 1.0], [0.0, 0.0]),
    (-1, [-1.0, 1.0], [-0.25, 0.25]),
    (3, [INF, 1.0], [NAN, 0.0]),
    (0.5, [INF, 1.0], [NAN, INF]),
    (1, [NAN, 1.0], [0.0, 1.0]),
    (INF, [NAN, 1.0], [0.0, 0.0]),
    (INF, [-1.0, 1.0], [-0.5, 0.5]),
    (-INF, [0.0, -2.0, 1.0], [0.0, 0.0, 0.0]),
])
def test_norm_gradient_edges_match_pytorch(p, values, want):
    np.testing.assert_allclose(_grad(lambda x: x.norm(p=p), values), want, rtol=1e-12)


def test_norm_p0_counts_nonzeros_nan_included_with_zero_gradient():
    x = mc.tensor([[NAN, 1.0, 0.0], [0.0, 0.0, -2.0]], requires_grad=True)
    assert x.norm(p=0).item() == 3.0                              # torch: 3 (NaN != 0)
    out = x.norm(p=0, dim=1)
    assert out.tolist() == [2.0, 1.0]
    out.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


@given(data=hs.data())
def test_norm_general_p_gradcheck(data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1), avoid=(0.0,), margin=0.1))
    dim = data.draw(st.dims(x.shape))
    p = data.draw(hs.sampled_from([0.5, 1.5, 3, 4.0, -1.0]))
    want = (np.abs(x.data) ** p).sum(axis=dim) ** (1 / p)
    np.testing.assert_allclose(x.norm(p=p, dim=dim).data, want, rtol=1e-10)
    gradcheck(lambda t: t.norm(p=p, dim=dim), (x,))


def test_global_max_min_share_the_gradient_among_nans():
    np.testing.assert_array_equal(_grad(lambda x: x.max(), [1.0, NAN, 3.0]), [0, 1, 0])
    np.testing.assert_array_equal(_grad(lambda x: x.min(), [NAN, NAN, 1.0]), [0.5, 0.5, 0])
    np.testing.assert_array_equal(_grad(lambda x: x.max(), [[1.0, NAN], [2.0, 3.0]]),
                                  [[0, 1], [0, 0]])


def test_amax_nan_gives_nan_gradient_and_max_dim_picks_the_nan():
    # torch: amax/amin spread NaN over a slice that holds NaN; max(dim) sends 1 to it
    assert np.isnan(_grad(lambda x: x.amax(), [1.0, NAN, 3.0])).all()
    g = _grad(lambda x: x.amax(0), [[1.0, NAN], [2.0, 3.0]])
    np.testing.assert_array_equal(g[:, 0], [0, 1])
    assert np.isnan(g[:, 1]).all()
    g = _grad(lambda x: x.max(0)[0], [[1.0, NAN], [2.0, 3.0]])
    np.testing.assert_array_equal(g, [[0, 1], [1, 0]])
    g = _grad(lambda x: x.min(-1)[0], [[NAN, NAN, 1.0]])
    np.testing.assert_array_equal(g, [[1, 0, 0]])


def test_max_without_dim_refuses_keepdim():
    with pytest.raises(TypeError, match="amax"):
        mc.ones(2, 2).max(keepdim=True)
    assert mc.ones(2, 2).amax(keepdim=True).shape == (1, 1)


def test_reductions_over_empty_tensors():
    z = mc.zeros(0, 3)
    assert z.amax(1).shape == (0,) and z.amin(dim=1).shape == (0,)     # torch: shape (0,)
    assert z.max(1)[0].shape == (0,)
    with pytest.raises(IndexError, match="non-zero size"):
        z.amax(0)
    with pytest.raises(RuntimeError, match="empty"):
        z.max()
    assert mc.logsumexp(z, 0).tolist() == [-INF] * 3                    # torch: [-inf] * 3
    assert mc.logsumexp(z, 1).shape == (0,)
    for dim in (0, 1, None):
        x = mc.zeros(0, 3, dtype=mc.float64, requires_grad=True)
        (x.prod() if dim is None else x.prod(dim)).sum().backward()
        assert x.grad.shape == (0, 3)


def test_reductions_take_pytorch_keyword_names():
    x = mc.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert mc.sum(input=x, dim=0).tolist() == [4.0, 7.0]
    assert mc.mean(input=x, dim=1, keepdim=True).shape == (2, 1)
    assert mc.std(input=x, dim=0, correction=0).tolist() == [1.0, 1.5]
    assert mc.max(x, other=mc.full((2, 2), 2.5)).tolist() == [[2.5, 2.5], [3.0, 5.0]]
    assert mc.min(input=x, other=mc.full((2, 2), 2.5)).tolist() == [[1.0, 2.0], [2.5, 2.5]]
    assert mc.logsumexp(input=x, dim=0, keepdim=True).shape == (1, 2)


@given(data=hs.data())
def test_cumprod_gradcheck(data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1)))
    dim = data.draw(hs.integers(-x.ndim, x.ndim - 1))
    np.testing.assert_allclose(R.cumprod(x, dim).data, np.cumprod(x.data, dim), rtol=1e-12)
    gradcheck(lambda t: R.cumprod(t, dim), (x,))


def test_cumprod_gradient_with_zeros_is_exact():
    x = mc.tensor([[0.0, 2.0, 0.0, 4.0], [1.0, 0.0, 3.0, 2.0]], requires_grad=True)
    R.cumprod(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 0, 0, 0], [1, 10, 0, 0]])   # torch
    gradcheck(lambda t: R.cumprod(t, 1), (x.detach().double().requires_grad_(),))
    assert R.cumprod(mc.arange(1, 5), 0).tolist() == [1, 2, 6, 24]


def test_median_values_indices_and_gradients():
    # torch.median: the lower median; NaN is the largest value and a NaN slice gives NaN
    for values, want, index in (([3.0, 1.0, 3.0], 3.0, 0), ([3.0, 1.0, 3.0, 2.0], 2.0, 3),
                                ([1.0, NAN, 3.0, NAN], NAN, 1), ([2.0, 2.0, 2.0], 2.0, 1)):
        v, i = R.median(mc.tensor(values), dim=0)
        np.testing.assert_array_equal([v.item(), i.item()], [want, index])
        np.testing.assert_array_equal(R.median(mc.tensor(values)).item(), want)
    out = R.median(mc.tensor([[3.0, 1.0, 2.0], [4.0, 6.0, 5.0]]), dim=1, keepdim=True)
    assert out.values.tolist() == [[2.0], [5.0]] and out.indices.tolist() == [[2], [2]]
    np.testing.assert_array_equal(_grad(R.median, [2.0, 2.0, 1.0, 4.0]), [0.5, 0.5, 0, 0])
    np.testing.assert_array_equal(_grad(lambda x: R.median(x, 0)[0], [2.0, 2.0, 1.0, 4.0]),
                                  [1, 0, 0, 0])
    assert R.median(mc.tensor([1, 4, 2, 3])).item() == 2


@given(data=hs.data())
def test_median_gradcheck(data):
    x = data.draw(st.tensors(shape=st.shapes(min_dims=1), unique=True))
    dim = data.draw(hs.integers(-x.ndim, x.ndim - 1))
    gradcheck(lambda t: R.median(t), (x,))
    gradcheck(lambda t: R.median(t, dim)[0], (x,))


def test_var_mean_std_mean_count_nonzero_any_all():
    v, m = R.var_mean(mc.tensor([[1.0, 2.0], [3.0, 5.0]]), dim=1, correction=0)
    assert v.tolist() == [0.25, 1.0] and m.tolist() == [1.5, 4.0]
    s, m = R.std_mean(mc.tensor([1.0, 2.0, 4.0]))
    np.testing.assert_allclose([s.item(), m.item()], [1.5275252316519468, 7 / 3])
    x = mc.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    gradcheck(lambda t: R.std_mean(t, dim=1)[0] + R.std_mean(t, dim=1)[1], (x,))
    gradcheck(lambda t: R.var_mean(t, dim=0)[0] * R.var_mean(t, dim=0)[1], (x,))
    assert R.count_nonzero(mc.tensor([[0.0, 1.0], [NAN, 0.0]]), dim=0).tolist() == [1, 1]
    assert R.count_nonzero(mc.tensor([[0, 1], [2, 0]])).item() == 2
    assert R.any(mc.tensor([[0, 1], [0, 0]]), dim=1).tolist() == [True, False]
    assert R.all(mc.tensor([1.0, 2.0])).item() is True
    assert R.all(mc.tensor([[1, 2]], dtype=mc.uint8)).dtype == np.uint8     # torch: uint8
    assert R.any(mc.zeros(2, 3), dim=(0, 1), keepdim=True).shape == (1, 1)


def test_argmax_argmin_of_nothing_raise_pytorchs_index_error():
    # torch 2.13: IndexError "argmax(): Expected reduction dim to be specified for
    # input.numel() == 0." / "Expected reduction dim 0 to have non-zero size."
    for name in ("argmax", "argmin"):
        with pytest.raises(IndexError, match=rf"{name}\(\): Expected reduction dim to be spec"):
            getattr(mc.tensor([]), name)()
        with pytest.raises(IndexError, match="reduction dim to be specified"):
            getattr(mc.zeros(0, 3), name)(keepdim=True)
        with pytest.raises(IndexError, match="dim 0 to have non-zero size"):
            getattr(mc.zeros(0, 3), name)(0)
        assert getattr(mc.zeros(0, 3), name)(1).shape == (0,)      # nothing left to reduce


def test_median_of_an_empty_tensor_is_nan_in_the_graph():
    x = mc.zeros(0, 2, dtype=mc.float64, requires_grad=True)
    m = x.median()                             # torch: tensor(nan, grad_fn=<MedianBackward0>)
    assert np.isnan(m.item()) and m.dtype == mc.float64 and m.requires_grad
    m.backward()
    assert x.grad.shape == (0, 2)
    assert not mc.zeros(0).median().requires_grad


def test_mean_of_nothing_is_nan_without_numpy_warnings():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert np.isnan(mc.tensor([]).mean().item())
        assert np.isnan(mc.zeros(0, 3).mean(0).data).all()
        assert mc.zeros(0, 3).mean(1).shape == (0,)
