"""minicv.ops.stats: nansum, nanmean, nanmedian, aminmax, msort, cummax, cummin,
logcumsumexp, quantile, nanquantile, kthvalue, mode, diff, bucketize, searchsorted, isin,
histc, cov and corrcoef.

Expected values were computed with PyTorch 2.13 (CPU) and are written out, so the tests
need no torch; gradients are checked by float64 gradcheck on hypothesis-drawn inputs.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

NAN, INF = float("nan"), float("inf")


def _close(t, want, **kw):
    np.testing.assert_allclose(np.asarray(t.data), np.asarray(want, dtype=float),
                               equal_nan=True, **kw)


def _grad(fn, data, g=None, dtype=np.float64):
    """The gradient reaching a leaf made of ``data`` through ``fn`` (seeded with g)."""
    x = mc.tensor(np.array(data, dtype=dtype), requires_grad=True)
    y = fn(x)
    y.backward(None if g is None else mc.tensor(np.array(g, dtype=dtype)))
    return x.grad


# ----------------------------------------------------------------------------- nan reductions

def test_nansum_nanmean_values_and_gradients():
    data = [[1., NAN, 3.], [NAN, NAN, NAN]]
    assert mc.nansum(mc.tensor(data), 1).tolist() == [4., 0.]
    _close(_grad(lambda t: mc.nansum(t, 1), data, [1., 2.]), [[1, 0, 1], [0, 0, 0]])
    _close(mc.nanmean(mc.tensor(data), 1), [2., NAN])
    # torch: the all-NaN row's gradient is inf·0 = NaN
    _close(_grad(lambda t: mc.nanmean(t, 1).sum(), data), [[.5, 0, .5], [NAN] * 3])
    x = mc.tensor(data)
    assert x.nansum().item() == 4. and x.nanmean().item() == 2.
    assert mc.nansum(x, (0, 1), keepdim=True).shape == (1, 1)
    assert mc.nansum(mc.tensor([1, 2], dtype=mc.int32)).dtype == np.int64
    assert mc.nansum(mc.tensor([True, True])).item() == 2
    y = mc.nansum(mc.tensor([1., NAN]), 0, keepdim=True, dtype=mc.float64)
    assert y.dtype == np.float64 and y.tolist() == [1.]
    assert mc.nansum(mc.zeros(0)).item() == 0 and np.isnan(mc.nanmean(mc.zeros(0)).item())
    assert mc.nanmean(mc.tensor([[1., 2.]]), dtype=mc.float64).dtype == np.float64


@given(x=st.tensors(), d=hs.data())
def test_nansum_nanmean_gradcheck(x, d):
    dim = d.draw(st.dims(x.shape))
    x.data[x.data > 2] = NAN                   # some NaNs, which get no gradient
    gradcheck(lambda t: mc.nansum(t, dim), (x,))
    if not np.isnan(x.data).all():
        gradcheck(lambda t: mc.nanmean(t).nan_to_num(), (x,))


def test_nanmean_refuses_integers():
    with pytest.raises(TypeError, match="floating"):
        mc.nanmean(mc.tensor([1, 2]))
    with pytest.raises(TypeError, match="floating"):      # as torch, even with a dtype
        mc.nanmean(mc.tensor([1, 2]), dtype=mc.float32)


def test_nanmedian():
    x = mc.tensor([[2., NAN, 1., 2.], [NAN] * 4, [3., 1., 3., NAN]])
    values, indices = mc.nanmedian(x, 1)
    _close(values, [2., NAN, 3.])
    # torch: [0, 2, 0]; an all-NaN row's index is unspecified, minicv gives its first NaN
    assert indices.tolist() == [0, 0, 0]
    _close(_grad(lambda t: mc.nanmedian(t, 1).values[0], x.tolist()), [[1, 0, 0, 0]] +
           [[0] * 4] * 2)
    assert x.nanmedian().item() == 2.
    _close(_grad(mc.nanmedian, x.tolist()), [[.5, 0, 0, .5], [0] * 4, [0] * 4])
    _close(_grad(mc.nanmedian, [NAN, NAN]), [.5, .5])       # shared among the NaNs
    _close(_grad(mc.nanmedian, [2., 1., 2., NAN]), [.5, 0, .5, 0])
    assert np.isnan(mc.nanmedian(mc.zeros(0)).item())
    assert mc.nanmedian(mc.tensor([3, 1, 2])).item() == 2
    assert mc.nanmedian(mc.tensor([3, 1, 2, 4]), 0).indices.item() == 2
    v, i = mc.nanmedian(mc.tensor([2., 1, 2, 1, NAN, 1]), 0)
    assert (v.item(), i.item()) == (1., 5)
    v, i = mc.nanmedian(mc.tensor(5.), -1, keepdim=True)
    assert (v.item(), i.item(), v.shape) == (5., 0, ())
    assert mc.nanmedian(mc.zeros(2, 0), 0).values.shape == (0,)
    with pytest.raises(IndexError, match="non-zero size"):
        mc.nanmedian(mc.zeros(0, 3), 0)


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3), unique=True), d=hs.data())
def test_nanmedian_gradcheck(x, d):
    dim = d.draw(hs.integers(-x.ndim, x.ndim - 1))
    gradcheck(lambda t: mc.nanmedian(t, dim).values, (x,))
    gradcheck(mc.nanmedian, (x,))


def test_aminmax():
    x = mc.tensor([[1., 3., 3.], [2., 0., 0.]])
    lo, hi = mc.aminmax(x)
    assert (lo.item(), hi.item()) == (0., 3.) and type(x.aminmax()).__name__ == "aminmax"
    g = _grad(lambda t: (lambda r: r.min * 2 + r.max)(mc.aminmax(t)), x.tolist())
    _close(g, [[0, .5, .5], [0, 1, 1]])                     # ties share evenly
    r = mc.aminmax(x, dim=1)
    assert r.min.tolist() == [1., 0.] and r.max.tolist() == [3., 2.]
    assert mc.aminmax(x, keepdim=True).max.shape == (1, 1)
    assert mc.aminmax(mc.tensor([1, 5])).max.dtype == np.int64
    assert mc.aminmax(mc.tensor(3.), dim=0).min.item() == 3.
    assert mc.aminmax(mc.zeros(0, 3), dim=1).min.shape == (0,)
    _close(_grad(lambda t: sum(mc.aminmax(t)), [1., NAN, 2.]), [NAN] * 3)
    with pytest.raises(TypeError, match="single int dim"):
        mc.aminmax(x, dim=(0, 1))
    with pytest.raises(RuntimeError, match="empty"):
        mc.aminmax(mc.zeros(0))
    with pytest.raises(IndexError, match="non-zero size"):
        mc.aminmax(mc.zeros(0, 3), dim=0)


@given(x=st.tensors(shape=(3, 4), unique=True), dim=hs.sampled_from([None, 0, -1]))
def test_aminmax_gradcheck(x, dim):
    gradcheck(lambda t: mc.aminmax(t, dim=dim), (x,))


def test_msort():
    x = mc.tensor([[3., 1.], [1., NAN], [2., 0.]])
    _close(mc.msort(x), [[1., 0.], [2., 1.], [3., NAN]])
    assert x.msort().shape == (3, 2) and mc.msort(mc.tensor(3.)).item() == 3.


# ----------------------------------------------------------------------------- scans

def test_cummax_cummin_ties_and_nan():
    data = [1., 3., 2., 3., NAN, 0., NAN, 5.]
    values, indices = mc.cummax(mc.tensor(data), 0)
    _close(values, [1., 3., 3., 3.] + [NAN] * 4)
    assert indices.tolist() == [0, 1, 1, 3, 4, 4, 6, 6]     # latest tie, latest NaN
    _close(_grad(lambda t: mc.cummax(t, 0).values, data, np.arange(8.)),
           [0, 3, 0, 3, 9, 0, 13, 0])
    values, indices = mc.tensor(data).cummin(0)
    _close(values, [1.] * 4 + [NAN] * 4)
    assert indices.tolist() == [0, 0, 0, 0, 4, 4, 6, 6]
    _close(_grad(lambda t: mc.cummin(t, 0).values, data, np.arange(8.)),
           [6, 0, 0, 0, 9, 0, 13, 0])
    r = mc.cummax(mc.tensor([2, 1, 2, 3]), 0)
    assert r.values.tolist() == [2, 2, 2, 3] and r.indices.tolist() == [0, 0, 2, 3]
    assert mc.cummax(mc.tensor([True, False, True]), 0).indices.tolist() == [0, 0, 2]
    r = mc.cummax(mc.tensor(3.), -1)
    assert (r.values.item(), r.indices.item()) == (3., 0)
    assert mc.cummax(mc.zeros(0, 2), 0).indices.shape == (0, 2)
    x = mc.tensor([[1., 5.], [4., 2.], [3., 6.]])
    assert mc.cummax(x.t(), 1).indices.tolist() == [[0, 1, 1], [0, 0, 2]]   # a view
    with pytest.raises(IndexError, match="out of range"):
        mc.cummax(x, 2)
    with pytest.raises(TypeError, match="single int dim"):
        mc.cummin(x, None)


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3), unique=True), d=hs.data())
def test_cummax_cummin_gradcheck(x, d):
    dim = d.draw(hs.integers(-x.ndim, x.ndim - 1))
    gradcheck(lambda t: mc.cummax(t, dim).values, (x,))
    gradcheck(lambda t: mc.cummin(t, dim).values, (x,))


def test_logcumsumexp_is_stable():
    data = [-1000., 0., 1., -INF, 2.]
    _close(mc.logcumsumexp(mc.tensor(data, dtype=mc.float64), 0),
           [-1000., 0., 1.3132616875182228, 1.3132616875182228, 2.40760596444438],
           rtol=1e-14)
    _close(_grad(lambda t: mc.logcumsumexp(t, 0), data, [1., -2., .5, 1., 3.]),
           [1., -1.3264961484338658, 1.8307732811094006, 0., 1.9957228673244662],
           rtol=1e-12)
    _close(mc.logcumsumexp(mc.tensor([1., NAN, 2.]), 0), [1., NAN, NAN])
    _close(mc.logcumsumexp(mc.tensor([INF, 1., -INF]), 0), [INF] * 3)
    _close(mc.tensor([-INF, -INF, 1.]).logcumsumexp(0), [-INF, -INF, 1.])
    _close(_grad(lambda t: mc.logcumsumexp(t, 0), [-INF, -INF, 1.], [1., 1., 1.]),
           [NAN, NAN, 1.])                                  # torch's formula gives NaN
    _close(_grad(lambda t: mc.logcumsumexp(t, 0), [1., 2.], [0., 0.]), [0., 0.])
    assert mc.logcumsumexp(mc.tensor(2.), 0).item() == 2.
    with pytest.raises(TypeError, match="floating"):
        mc.logcumsumexp(mc.tensor([1, 2]), 0)


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3, max_side=5)), d=hs.data())
def test_logcumsumexp_gradcheck(x, d):
    dim = d.draw(hs.integers(-x.ndim, x.ndim - 1))
    y = mc.logcumsumexp(x, dim)
    want = np.log(np.cumsum(np.exp(x.data), axis=dim))
    np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)
    gradcheck(lambda t: mc.logcumsumexp(t, dim), (x,))


# ----------------------------------------------------------------------------- quantiles

QS = [0., .3, .5, .625, .875, 1.]
# torch.quantile / nanquantile of [[0, 1, 2, 3, 4], [5, 1, nan, 2, 2]] at QS along dim 1
QUANTILES = {
    "linear": ([0., 1.2000000476837158, 2., 2.5, 3.5, 4.], [1., 1.9000000953674316, 2., 2.,
                                                             3.875, 5.]),
    "lower": ([0., 1., 2., 2., 3., 4.], [1., 1., 2., 2., 2., 5.]),
    "higher": ([0., 2., 2., 3., 4., 4.], [1., 2., 2., 2., 5., 5.]),
    "midpoint": ([0., 1.5, 2., 2.5, 3.5, 4.], [1., 1.5, 2., 2., 3.5, 5.]),
    "nearest": ([0., 1., 2., 2., 4., 4.], [1., 2., 2., 2., 5., 5.]),
}


@pytest.mark.parametrize("interpolation", sorted(QUANTILES))
def test_quantile_interpolations(interpolation):
    x = mc.tensor([[0., 1., 2., 3., 4.], [5., 1., NAN, 2., 2.]])
    q = mc.tensor(QS)
    first, second = QUANTILES[interpolation]
    got = mc.quantile(x, q, dim=1, interpolation=interpolation)
    assert got.shape == (6, 2) and got.dtype == np.float32
    assert got[:, 0].tolist() == first and np.isnan(got[:, 1].data).all()
    got = x.nanquantile(q, 1, interpolation=interpolation)
    assert got[:, 0].tolist() == first and got[:, 1].tolist() == second


def test_quantile_shapes_and_special_cases():
    x = mc.tensor([[0., 1., 2., 3., 4.], [5., 1., NAN, 2., 2.]])
    assert mc.quantile(x, .5, dim=1, keepdim=True).shape == (2, 1)
    assert mc.quantile(x, mc.tensor(.5), dim=1, keepdim=True).shape == (2, 1)
    assert mc.quantile(x, mc.tensor([.5]), dim=1, keepdim=True).shape == (1, 2, 1)
    assert mc.quantile(x, mc.tensor([.5, .2]), keepdim=True).shape == (2, 1, 1)
    assert mc.quantile(x, mc.tensor([])).shape == (0,)
    _close(mc.quantile(x.t(), .3, dim=0), mc.quantile(x, .3, dim=1).data)      # a view
    assert np.isnan(x.quantile(.5).item()) and x.nanquantile(.5).item() == 2.
    assert mc.quantile(mc.tensor(3.), .5, dim=0, keepdim=True).item() == 3.
    assert mc.quantile(mc.tensor(3.), mc.tensor([.5, .1]), dim=0).tolist() == [3., 3.]
    assert np.isnan(mc.nanquantile(mc.tensor([NAN, NAN]), .5).item())
    four = mc.tensor([1., 2., 3., 4.])          # 'nearest' rounds half to even
    assert mc.quantile(four, mc.tensor([.125, .375, .625, .875]),
                       interpolation="nearest").tolist() == [1., 2., 3., 4.]
    assert mc.quantile(four, .5, interpolation="nearest").item() == 3.
    x32 = mc.tensor([.1, .7, .3, .9, .2, .55, .33])
    got = mc.quantile(x32, mc.tensor([.1, .3, .7, .9, .33]))
    assert got.dtype == np.float32                          # torch's lerp rounds once (FMA)
    _close(got, [0.1600000113248825, 0.2800000309944153, 0.5799999833106995,
                 0.7799999117851257, 0.2980000078678131], rtol=2e-7)


def test_quantile_gradients():
    g = [[1.], [10.]]
    q = mc.tensor([.4, .5], dtype=mc.float64)
    _close(_grad(lambda t: mc.quantile(t, q, dim=1), [[3., 1., 2., 1.]], g),
           [[0., 0., 5.2, 5.8]])
    _close(_grad(lambda t: mc.nanquantile(t, q, dim=1), [[3., NAN, 2., 1.]], g),
           [[0., 0., 10.8, .2]])
    _close(_grad(lambda t: mc.quantile(t, q, dim=1), [[3., NAN, 2., 1.]], g),
           [[0., 11., 0., 0.]])                             # all of it to the NaN


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3), unique=True), d=hs.data())
def test_quantile_gradcheck(x, d):
    dim = d.draw(hs.sampled_from([None] + list(range(-x.ndim, x.ndim))))
    q = mc.tensor(d.draw(hs.lists(hs.floats(0, 1), min_size=1, max_size=3)),
                  dtype=mc.float64)
    interpolation = d.draw(hs.sampled_from(["linear", "lower", "midpoint"]))
    keepdim = d.draw(hs.booleans())
    gradcheck(lambda t: mc.quantile(t, q, dim, keepdim, interpolation=interpolation), (x,))
    gradcheck(lambda t: mc.nanquantile(t, .3, dim, interpolation=interpolation), (x,))


def test_quantile_errors():
    x = mc.tensor([[1., 2., 3.], [4., 5., 6.]])
    with pytest.raises(ValueError, match=r"range \[0, 1\] but got 1.5"):
        mc.quantile(x, 1.5)
    with pytest.raises(ValueError, match="q values must be in the range"):
        mc.quantile(x, mc.tensor([.5, 1.2]))
    with pytest.raises(ValueError, match="scalar or 1D"):
        mc.quantile(x, mc.tensor([[.5]]))
    with pytest.raises(TypeError, match="same dtype"):
        mc.quantile(x, mc.tensor([.5], dtype=mc.float64))
    with pytest.raises(TypeError, match="float or double"):
        mc.quantile(mc.tensor([1, 2]), .5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        mc.nanquantile(x, .5, interpolation="foo")
    with pytest.raises(ValueError, match="non-empty"):
        mc.quantile(mc.zeros(0, 3), .5, dim=1)
    with pytest.raises(IndexError, match="out of range"):
        mc.quantile(x, .5, dim=2)


# ----------------------------------------------------------------------------- selection

def test_kthvalue():
    x = mc.tensor([[3., 1., 2., 1., NAN], [2., 2., 2., 0., 5.]])
    want = [[1., 0.], [1., 2.], [2., 2.], [3., 2.], [NAN, 5.]]
    for k in range(1, 6):
        _close(mc.kthvalue(x, k).values, want[k - 1])
    assert mc.kthvalue(x, 5).indices.tolist() == [4, 4]
    r = mc.tensor([3., 1., 2.]).kthvalue(2)
    assert (r.values.item(), r.indices.item()) == (2., 2)
    r = mc.kthvalue(x, 2, 0, keepdim=True)
    _close(r.values, [[3., 2., 2., 1., NAN]])
    assert r.indices.shape == (1, 5)
    _close(_grad(lambda t: mc.kthvalue(t, 2, 1).values.sum(), [[3., 1., 2.], [0., 5., 4.]]),
           [[0, 0, 1], [0, 0, 1]])
    assert mc.kthvalue(mc.tensor(3.), 1).indices.item() == 0
    assert mc.kthvalue(mc.tensor([3, 1, 2]), 2).values.item() == 2
    assert mc.kthvalue(mc.zeros(0, 3), 1, 1).values.shape == (0,)
    with pytest.raises(ValueError, match="out of range"):
        mc.kthvalue(x, 0)
    with pytest.raises(ValueError, match="out of range"):
        mc.kthvalue(x, 6)
    with pytest.raises(IndexError, match="non-zero size"):
        mc.kthvalue(mc.zeros(0, 3), 1, 0)


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3), unique=True), d=hs.data())
def test_kthvalue_gradcheck(x, d):
    dim = d.draw(hs.integers(-x.ndim, x.ndim - 1))
    k = d.draw(hs.integers(1, x.shape[dim]))
    got = mc.kthvalue(x, k, dim)
    np.testing.assert_array_equal(got.values.data, np.sort(x.data, axis=dim).take(k - 1, dim))
    gradcheck(lambda t: mc.kthvalue(t, k, dim).values, (x,))


def test_mode():
    x = mc.tensor([[3., 1., 2., 1., 3.], [2., 2., 2., 0., 5.], [NAN, 1., NAN, 4., 4.]])
    values, indices = mc.mode(x)
    assert values.tolist() == [1., 2., 4.] and indices.tolist() == [3, 2, 4]
    _close(_grad(lambda t: t.mode().values.sum(), x.tolist()),
           [[0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1]])
    r = mc.mode(mc.tensor([5, 1, 5, 1, 7, 1, 5]))            # smallest value, last index
    assert (r.values.item(), r.indices.item()) == (1, 5)
    r = mc.mode(mc.tensor([[1, 2], [1, 3], [2, 2]]), 0, keepdim=True)
    assert r.values.tolist() == [[1, 2]] and r.indices.tolist() == [[1, 2]]
    assert mc.mode(mc.tensor([True, False, True])).indices.item() == 2
    r = mc.mode(mc.tensor([-0., 0., 1.]))
    assert (r.values.item(), r.indices.item()) == (0., 1)
    assert mc.mode(mc.tensor(3.)).indices.item() == 0
    assert mc.mode(mc.zeros(0, 3), 1).values.shape == (0,)
    with pytest.raises(IndexError, match="non-zero size"):
        mc.mode(mc.zeros(0, 3), 0)


@given(x=st.tensors(shape=(3, 4), unique=True), d=hs.data())
def test_mode_gradcheck(x, d):
    # a tie is where the mode jumps (a nudge breaks it), so only distinct values have a
    # derivative: each occurs once and the mode is the smallest
    dim = d.draw(hs.integers(-2, 1))
    values, indices = mc.mode(x, dim)
    np.testing.assert_array_equal(indices.data, np.argmin(x.data, axis=dim))
    gradcheck(lambda t: mc.mode(t, dim).values, (x,))


# ----------------------------------------------------------------------------- diff

def test_diff_values():
    x = mc.tensor([[1., 4., 9., 16.], [2., 3., 5., 7.]])
    assert mc.diff(x).tolist() == [[3., 5., 7.], [1., 2., 2.]]
    assert x.diff(2).tolist() == [[2., 2.], [1., 0.]]
    assert mc.diff(x, 0).tolist() == x.tolist() and mc.diff(x, 5).shape == (2, 0)
    assert mc.diff(x, dim=0).tolist() == [[1., -1., -4., -9.]]
    assert mc.diff(x, prepend=mc.zeros(2, 1), append=mc.full((2, 1), 100.)).tolist() == [
        [1., 3., 5., 7., 84.], [2., 1., 2., 2., 93.]]
    assert mc.diff(mc.tensor([1, 3, 2])).tolist() == [2, -1]
    y = mc.diff(mc.tensor([1, 3, 2], dtype=mc.uint8))
    assert y.dtype == np.uint8 and y.tolist() == [2, 255]   # wraps, as torch
    assert mc.diff(mc.tensor([True, False, False, True])).tolist() == [True, False, True]
    assert mc.diff(mc.tensor([1, 3]), prepend=mc.tensor([1.5])).tolist() == [-.5, 2.]
    assert mc.diff(mc.zeros(2, 0)).shape == (2, 0)
    _close(_grad(lambda t: mc.diff(t, append=mc.tensor([1.])), [1., 3.], [1., 1.]), [-1, 0])


@given(x=st.tensors(shape=st.shapes(min_dims=1, max_dims=3)), d=hs.data())
def test_diff_gradcheck(x, d):
    dim = d.draw(hs.integers(-x.ndim, x.ndim - 1))
    n = d.draw(hs.integers(0, 3))
    side = list(x.shape)
    side[dim] = 2
    p = mc.tensor(np.ones(side), requires_grad=True)
    np.testing.assert_allclose(mc.diff(x, n, dim).data, np.diff(x.data, n, dim))
    gradcheck(lambda t, u: mc.diff(t, n, dim, prepend=u, append=u * 2), (x, p))


def test_diff_errors():
    x = mc.zeros(2, 3)
    with pytest.raises(ValueError, match="non-negative"):
        mc.diff(x, -1)
    with pytest.raises(TypeError, match="must be Tensor"):
        mc.diff(x, prepend=0.)
    with pytest.raises(ValueError, match="shape of tensor to prepend"):
        mc.diff(x, prepend=mc.zeros(1))
    with pytest.raises(ValueError, match="shape of tensor to append"):
        mc.diff(x, append=mc.zeros(3, 1))
    with pytest.raises(ValueError, match="one-dimensional"):
        mc.diff(mc.tensor(3.))


# ----------------------------------------------------------------------------- searching

def test_bucketize():
    b = mc.tensor([1., 3., 5., 7.])
    v = mc.tensor([[0., 1., 3.5], [7., 9., NAN]])
    assert mc.bucketize(v, b).tolist() == [[0, 0, 2], [3, 4, 4]]
    assert mc.bucketize(v, b, right=True).tolist() == [[0, 1, 2], [4, 4, 4]]
    assert mc.bucketize(v, b, out_int32=True).dtype == np.int32
    y = mc.bucketize(3, b)
    assert y.shape == () and y.item() == 1
    assert mc.bucketize(3.5, mc.tensor([1, 3, 5])).item() == 2
    assert mc.bucketize(mc.tensor([3, 4]), b).tolist() == [1, 2]
    assert mc.bucketize(v, mc.zeros(0)).tolist() == [[0] * 3] * 2
    assert mc.bucketize(v[:, ::2], b).tolist() == [[0, 2], [3, 4]]          # a view
    with pytest.raises(ValueError, match="1 dimension"):
        mc.bucketize(v, mc.tensor([[1., 2.]]))


def test_searchsorted():
    s = mc.tensor([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
    v = mc.tensor([[3, 6, 9], [3, 6, 9]])
    assert mc.searchsorted(s, v).tolist() == [[1, 3, 4], [1, 2, 4]]
    assert mc.searchsorted(s, v, right=True).tolist() == [[2, 3, 5], [1, 3, 4]]
    assert mc.searchsorted(s, v, side="right").tolist() == [[2, 3, 5], [1, 3, 4]]
    assert mc.searchsorted(s[0], 3).item() == 1
    assert mc.searchsorted(s[0], mc.tensor([[3, 4], [5, 11]])).tolist() == [[1, 2], [2, 5]]
    nans = mc.tensor([1., 2., NAN])               # torch's binary search steps past NaN
    assert mc.searchsorted(nans, mc.tensor([NAN, 2., 5.])).tolist() == [3, 1, 3]
    assert mc.searchsorted(nans, mc.tensor([NAN, 2., 5.]), right=True).tolist() == [3] * 3
    unsorted = mc.tensor([3., 1., 2.])
    assert mc.searchsorted(unsorted, mc.tensor([2.5, 0.]),
                           sorter=mc.tensor([1, 2, 0])).tolist() == [2, 0]
    assert mc.searchsorted(mc.tensor([1., 2.]), mc.tensor([2, 0])).tolist() == [1, 0]
    assert mc.searchsorted(mc.tensor([1, 2]), 1.5).item() == 1
    assert mc.searchsorted(mc.zeros(2, 0), mc.zeros(2, 3)).tolist() == [[0] * 3] * 2
    assert mc.searchsorted(mc.zeros(2, 3), mc.zeros(2, 0)).shape == (2, 0)
    assert mc.searchsorted(s, v, out_int32=True).dtype == np.int32


@given(n=hs.integers(1, 9), m=hs.integers(0, 6), right=hs.booleans(), seed=hs.integers(0, 99))
def test_searchsorted_matches_numpy(n, m, right, seed):
    rng = np.random.default_rng(seed)
    s = np.sort(rng.integers(0, 5, (2, n)).astype(np.float64), axis=-1)
    v = rng.integers(-1, 6, (2, m)).astype(np.float64)
    side = "right" if right else "left"
    got = mc.searchsorted(mc.tensor(s), mc.tensor(v), right=right).numpy()
    for row in range(2):
        np.testing.assert_array_equal(got[row], np.searchsorted(s[row], v[row], side))


def test_searchsorted_errors():
    x = mc.tensor([[1., 2., 3.], [4., 5., 6.]])
    with pytest.raises(ValueError, match="'left' or 'right'"):
        mc.searchsorted(x, x, side="foo")
    with pytest.raises(ValueError, match="opposites"):
        mc.searchsorted(x, x, side="left", right=True)
    with pytest.raises(ValueError, match="first N-1 dimensions"):
        mc.searchsorted(x, mc.tensor([1.]))
    with pytest.raises(ValueError, match="first N-1 dimensions"):
        mc.searchsorted(x, 3.)
    with pytest.raises(ValueError, match="same size"):
        mc.searchsorted(x[0], 2., sorter=mc.tensor([1]))
    with pytest.raises(IndexError, match="out of range"):
        mc.searchsorted(x[0], 2., sorter=mc.tensor([1, 5, 0]))
    with pytest.raises(TypeError, match="long"):
        mc.searchsorted(x[0], 2., sorter=mc.tensor([1., 0., 2.]))
    with pytest.raises(TypeError, match="bool"):
        mc.searchsorted(mc.tensor([True]), mc.tensor([True]))


def test_isin():
    e = mc.tensor([[1, 2], [3, 4]])
    assert mc.isin(e, mc.tensor([2, 3])).tolist() == [[False, True], [True, False]]
    assert mc.isin(e, mc.tensor([2, 3]), invert=True).tolist() == [[True, False],
                                                                      [False, True]]
    assert mc.isin(e, 2).tolist() == [[False, True], [False, False]]
    y = mc.isin(2, e)
    assert y.shape == () and y.item() is True
    assert mc.isin(e, mc.tensor([2., 3.5])).tolist() == [[False, True], [False, False]]
    assert mc.isin(mc.tensor([1., NAN, 2.]), mc.tensor([NAN, 2.])).tolist() == [
        False, False, True]
    assert mc.isin(mc.tensor([1., 2.]), mc.tensor([[1.], [3.]]),
                   assume_unique=True).tolist() == [True, False]
    assert mc.isin(mc.zeros(0), mc.tensor([1.])).shape == (0,)
    assert mc.isin(mc.tensor([-0.]), mc.tensor([0.])).tolist() == [True]
    with pytest.raises(TypeError, match="tensor"):
        mc.isin(1, 2)
    with pytest.raises(TypeError, match="bool"):
        mc.isin(mc.tensor([True]), mc.tensor([True]))


# ----------------------------------------------------------------------------- histc

def test_histc():
    x = mc.tensor([1., 2., 1., 2.5, 4., .9, 7.])
    assert mc.histc(x, bins=4, min=0, max=3).tolist() == [0., 3., 1., 1.]
    assert x.histc(bins=4).tolist() == [4., 1., 1., 1.]              # data range
    assert mc.histc(x, bins=4, min=1, max=4).tolist() == [2., 1., 1., 1.]
    y = mc.histc(x.double(), bins=3, min=1, max=4)
    assert y.dtype == np.float64 and y.tolist() == [2., 2., 1.]
    assert mc.histc(mc.tensor([2., 2., 2.]), bins=4).tolist() == [0., 0., 3., 0.]
    assert mc.histc(mc.tensor([1., NAN, INF]), bins=4, min=0, max=2).tolist() == [0, 0, 1, 0]
    assert mc.histc(mc.zeros(0), bins=3).tolist() == [0., 0., 0.]
    assert mc.histc(mc.tensor(.5), bins=3).tolist() == [0., 1., 0.]
    assert mc.histc(mc.tensor([[.5, 1.], [2., 3.]]), bins=2).tolist() == [2., 2.]
    assert mc.histc(x, bins=4, min=1, max=1).tolist() == [4., 1., 1., 1.]
    assert mc.histc(mc.tensor([.1, .2, .3, .7, .9, 1., .6]), bins=10, min=.1,
                    max=1.).tolist() == [1., 1., 1., 0., 0., 1., 1., 0., 1., 1.]
    assert mc.histc(mc.tensor([1., 2.], dtype=mc.float16), bins=2).dtype == np.float16
    assert not mc.histc(mc.tensor([1., 2.], requires_grad=True), bins=2).requires_grad


def test_histc_errors():
    x = mc.tensor([1., 2.])
    with pytest.raises(TypeError, match="floating"):
        mc.histc(mc.tensor([1, 2]))
    with pytest.raises(ValueError, match="bins must be > 0"):
        mc.histc(x, bins=0)
    with pytest.raises(TypeError, match="must be int"):
        mc.histc(x, bins=2.5)
    with pytest.raises(ValueError, match="max must be larger than min"):
        mc.histc(x, 4, 3, 1)
    with pytest.raises(ValueError, match="not finite"):
        mc.histc(mc.tensor([1., NAN]))
    with pytest.raises(ValueError, match="not finite"):
        mc.histc(x, 3, INF, 1)


# ----------------------------------------------------------------------------- cov, corrcoef

COV_X = [[0., 1., 2., 4.], [3., 1., 0., 2.], [1., 1., 1., 1.]]


def test_cov_values():
    x = mc.tensor(COV_X, dtype=mc.float64)
    fw, aw = mc.tensor([1, 2, 1, 3]), mc.tensor([.5, 1., 2., 1.], dtype=mc.float64)
    _close(mc.cov(x), [[2.9166666666666665, -.5, 0.], [-.5, 1.6666666666666667, 0.],
                       [0.] * 3], rtol=1e-14)
    _close(x.cov(correction=0), [[2.1875, -.375, 0.], [-.375, 1.25, 0.], [0.] * 3])
    _close(mc.cov(x, fweights=fw), [[2.9047619047619047, .1428571428571428, 0.],
                                    [.1428571428571428, .9523809523809522, 0.], [0.] * 3],
           rtol=1e-14)
    _close(mc.cov(x, aweights=aw), [[2.25, 0., 0.], [0., 1.6071428571428572, 0.], [0.] * 3],
           atol=1e-15)
    assert abs(mc.cov(mc.tensor([1., 2., 4.])).item() - 2.33333349) < 1e-6
    y = mc.cov(mc.tensor([1, 2, 4]))
    assert y.dtype == np.float32 and y.shape == ()
    assert mc.cov(mc.ones(2, 3), aweights=mc.tensor([1., 2., 3.], dtype=mc.float64)
                  ).dtype == np.float64
    assert mc.cov(mc.zeros(0, 3)).shape == (0, 0)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert mc.cov(mc.tensor([1., 2.]), correction=3).item() == INF
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(mc.cov(mc.tensor(2.)).item())


def test_cov_weighted_gradients():
    x = mc.tensor(COV_X, dtype=mc.float64, requires_grad=True)
    aw = mc.tensor([.5, 1., 2., 1.], dtype=mc.float64, requires_grad=True)
    c = mc.cov(x, fweights=mc.tensor([1, 2, 1, 3]), aweights=aw, correction=2)
    _close(c, [[2.940397350993378, .6357615894039734, 0.],
               [.6357615894039736, 1.28476821192053, 0.], [0.] * 3], rtol=1e-13)
    c.backward(mc.arange(9.).reshape(3, 3).double())
    _close(x.grad, [[.6887417218543047, -.423841059602649, -2.013245033112583,
                     1.7483443708609274],
                    [.423841059602649, -3.072847682119206, -4.66225165562914,
                     7.311258278145696],
                    [.15894039735099333, -5.721854304635762, -7.311258278145696,
                     12.874172185430465]], rtol=1e-12)
    _close(aw.grad, [-2.5395377395728267, -1.7220297355379155, 1.2774878294811636,
                     .43682294636200103], rtol=1e-12)


@given(x=st.tensors(shape=(2, 4), unique=True),
       w=st.tensors(shape=(4,), min_value=.5, max_value=2.),
       correction=hs.integers(0, 2))
def test_cov_corrcoef_gradcheck(x, w, correction):
    want = np.cov(x.data, ddof=correction, aweights=w.data)
    _close(mc.cov(x, correction=correction, aweights=w), want, rtol=1e-10, atol=1e-12)
    gradcheck(lambda t, u: mc.cov(t, correction=correction, aweights=u), (x, w))
    gradcheck(lambda t: mc.corrcoef(t)[0, 1], (x,))


def test_corrcoef():
    x = mc.tensor(COV_X[:2], dtype=mc.float64, requires_grad=True)
    r = mc.corrcoef(x)
    _close(r, [[1., -.22677868380553637], [-.22677868380553634, 1.]], rtol=1e-14)
    r.backward(mc.tensor([[1., 2.], [3., 4.]], dtype=mc.float64))
    _close(x.grad, [[.9071147352221451, -.4751553374973142, -1.1014964641983194,
                     .6695370664734883],
                    [-.9827076298239907, -.680336051416609, -.15118578920369094,
                     1.8142294704442907]], rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(mc.corrcoef(mc.tensor(COV_X)), [[1., -.22677868, NAN], [-.22677868, 1., NAN],
                                               [NAN] * 3], rtol=1e-6)
    assert mc.corrcoef(mc.tensor([1., 2., 4.])).item() == 1.
    assert mc.tensor([[1, 2, 4], [2, 1, 0]]).corrcoef().dtype == np.float32


def test_cov_errors():
    x = mc.ones(2, 3)
    with pytest.raises(ValueError, match="two or fewer dimensions"):
        mc.cov(mc.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="two or fewer dimensions"):
        mc.corrcoef(mc.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="bool"):
        mc.cov(mc.tensor([True, False]))
    with pytest.raises(TypeError, match="'correction' must be int"):
        mc.cov(x, correction=1.5)
    with pytest.raises(TypeError, match="integral"):
        mc.cov(x, fweights=mc.tensor([1., 2., 3.]))
    with pytest.raises(ValueError, match="same numel"):
        mc.cov(x, fweights=mc.tensor([1, 2]))
    with pytest.raises(ValueError, match="one or fewer dimensions"):
        mc.cov(x, fweights=mc.tensor([[1, 2, 3]]))
    with pytest.raises(ValueError, match="fweights cannot be negative"):
        mc.cov(x, fweights=mc.tensor([1, -2, 3]))
    with pytest.raises(TypeError, match="floating point"):
        mc.cov(x, aweights=mc.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="aweights cannot be negative"):
        mc.cov(x, aweights=mc.tensor([1., -2., 3.]))
    with pytest.raises(ValueError, match="sum to zero"):
        mc.cov(x, fweights=mc.tensor([0, 0, 0]))


def test_nanmean_counts_past_float16s_range():
    x = mc.full((70000,), 0.5).half()
    assert mc.nanmean(x).item() == 0.5                  # the count 70000 overflowed float16


def test_corrcoef_of_a_constant_variable_is_nan_without_a_warning():
    import warnings as w
    with w.catch_warnings():
        w.simplefilter("error")
        assert mc.corrcoef(mc.tensor([1.0, 1.0, 1.0])).isnan().item()
