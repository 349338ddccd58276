"""avg_pool3d, adaptive 1-D/3-D pooling, lp_pool, max_unpool and max_pool*_with_indices.
Expected values were computed with PyTorch 2.13 (CPU) and are written out, so the tests
need no torch; gradients are checked by float64 gradcheck."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st


def _t(values):
    return mc.tensor(np.array(values, dtype=np.float64))


def _cube():
    return (mc.arange(48.).reshape(1, 1, 3, 4, 4) / 4).double()


# ----------------------------------------------------------------------------- avg_pool3d

def test_avg_pool3d_values():
    x = _cube()
    y = F.avg_pool3d(x, 2, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(y.data, [[[
        [[0.0, 0.375, 0.75], [1.5, 1.875, 2.25], [3.0, 3.375, 3.75]],
        [[6.0, 6.375, 6.75], [7.5, 7.875, 8.25], [9.0, 9.375, 9.75]]]]], atol=1e-6)
    y = F.avg_pool3d(x, 2, 2, 1, ceil_mode=True)              # padding counts in the divisor
    np.testing.assert_allclose(y.data[0, 0, 0], [[0.0, 0.09375, 0.09375],
                                                 [0.375, 0.9375, 0.5625],
                                                 [0.375, 0.84375, 0.46875]], atol=1e-6)
    y = F.avg_pool3d(x, (3, 2, 2), (1, 2, 2), (1, 0, 1), divisor_override=3)
    np.testing.assert_allclose(y.data[0, 0], [
        [[3.333333, 7.666667, 4.333333], [6.0, 13.0, 7.0]],
        [[9.0, 19.5, 10.5], [13.0, 27.5, 14.5]],
        [[8.666667, 18.333333, 9.666667], [11.333333, 23.666667, 12.333333]]], atol=1e-6)


def test_avg_pool3d_unbatched_views_and_dtype():
    x = _cube()
    np.testing.assert_allclose(F.avg_pool3d(x[0], 2).data, F.avg_pool3d(x, 2).data[0])
    view = x.transpose(3, 4)                                # non-contiguous
    np.testing.assert_allclose(F.avg_pool3d(view, 2).data,
                               F.avg_pool3d(view.contiguous(), 2).data)
    assert F.avg_pool3d(x.float(), 2).dtype == np.float32


@given(x=st.tensors(shape=(1, 2, 3, 4, 5)), k=hs.integers(1, 3), s=hs.integers(1, 2),
       ceil=hs.booleans(), cip=hs.booleans(), div=hs.sampled_from([None, 2]))
def test_avg_pool3d_gradcheck(x, k, s, ceil, cip, div):
    gradcheck(lambda t: F.avg_pool3d(t, k, s, k // 2, ceil, cip, div), (x,))


def test_avg_pool3d_errors():
    with pytest.raises(TypeError, match="floating"):
        F.avg_pool3d(mc.zeros(1, 1, 2, 2, 2, dtype=mc.int64), 2)
    with pytest.raises(ValueError, match="at most half"):
        F.avg_pool3d(_cube(), 3, 2, 2)
    with pytest.raises(ValueError, match="5-D input"):
        F.avg_pool3d(mc.zeros(2, 2, 2), 2)
    with pytest.raises(ValueError, match="not zero"):
        F.avg_pool3d(_cube(), 2, divisor_override=0)


# ----------------------------------------------------------------------------- adaptive

def test_adaptive_pool1d_values():
    a = _t([[[1., 3, 2, 5, 4, 0, 7]]])
    np.testing.assert_allclose(F.adaptive_avg_pool1d(a, 3).data, [[[2.0, 3.666667, 3.666667]]],
                               atol=1e-6)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(a[0], (5,)).data,
                               [[2.0, 2.5, 3.666667, 2.0, 3.5]], atol=1e-6)
    v, i = F.adaptive_max_pool1d(a, 5, return_indices=True)
    assert v.tolist() == [[[3.0, 3.0, 5.0, 4.0, 7.0]]]
    assert i.tolist() == [[[1, 1, 3, 4, 6]]] and i.dtype == np.int64
    assert F.adaptive_avg_pool1d(a, 0).shape == (1, 1, 0)


def _ties():
    return _t([[[[[1., 2, 2], [0, 2, 1]], [[2, 0, 1], [1, 1, 2]], [[0, 3, 3], [1, 0, 3]]]]])


def test_adaptive_pool3d_values():
    t = _ties()                                  # ties: the first maximum in scan order
    v, i = F.adaptive_max_pool3d(t, (2, 1, 2), return_indices=True)
    assert v.tolist() == [[[[[2.0, 2.0]], [[3.0, 3.0]]]]]
    assert i.tolist() == [[[[[1, 1]], [[13, 13]]]]]
    np.testing.assert_allclose(F.adaptive_avg_pool3d(t, (2, 1, 2)).data,
                               [[[[[1.125, 1.375]], [[1.0, 1.625]]]]])
    assert F.adaptive_avg_pool3d(t, (None, 1, None)).shape == (1, 1, 3, 1, 3)
    v, i = F.adaptive_max_pool3d(t[0], 1, True)                # unbatched
    assert v.tolist() == [[[[3.0]]]] and i.tolist() == [[[[13]]]]
    v, i = F.adaptive_max_pool3d(t, (0, 2, 2), True)
    assert v.shape == i.shape == (1, 1, 0, 2, 2)


@given(x=st.tensors(shape=(1, 2, 4, 3, 5), unique=True),
       size=hs.tuples(hs.integers(1, 5), hs.integers(1, 4), hs.integers(1, 6)))
def test_adaptive_pool3d_gradcheck_and_indices(x, size):
    gradcheck(lambda t: F.adaptive_avg_pool3d(t, size), (x,))
    gradcheck(lambda t: F.adaptive_max_pool3d(t, size), (x,))
    v, i = F.adaptive_max_pool3d(x, size, True)
    flat = x.data.reshape(1, 2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, i.data.reshape(1, 2, -1), 2),
                                  v.data.reshape(1, 2, -1))


@given(x=st.tensors(shape=(2, 7), unique=True), size=hs.integers(1, 9))
def test_adaptive_pool1d_gradcheck(x, size):
    gradcheck(lambda t: F.adaptive_avg_pool1d(t, size), (x,))
    gradcheck(lambda t: F.adaptive_max_pool1d(t, size), (x,))


def test_adaptive_pool_errors():
    with pytest.raises(ValueError, match="3 ints"):
        F.adaptive_avg_pool3d(_ties(), (1, 2))
    with pytest.raises(ValueError, match=">= 0"):
        F.adaptive_max_pool1d(_t([[[1., 2]]]), -1)
    with pytest.raises(ValueError, match="3-D input"):
        F.adaptive_avg_pool1d(mc.zeros(1, 1, 2, 2), 1)


# ----------------------------------------------------------------------------- lp_pool

def test_lp_pool_values():
    p = _t([[[1., -2, 3, 0.5, 2, 1]]])
    np.testing.assert_allclose(F.lp_pool1d(p, 2, 2).data, [[[2.236068, 3.041381, 2.236068]]],
                               atol=1e-6)
    np.testing.assert_allclose(F.lp_pool1d(p, 3, 3, 2, ceil_mode=True).data,
                               [[[2.714418, 3.274956, 2.381102]]], atol=1e-6)
    # p = 1 keeps a negative window sum (sign(s)·relu(|s|) = s), as PyTorch
    np.testing.assert_allclose(F.lp_pool1d(p, 1, 2).data, [[[-1.0, 3.5, 3.0]]], atol=1e-12)
    p2 = mc.arange(1., 17).reshape(1, 1, 4, 4).double()
    np.testing.assert_allclose(F.lp_pool2d(p2, 1.5, (2, 3), 1).data, [[[
        [14.184501, 17.286027], [26.898171, 30.146212], [39.944489, 43.221647]]]], atol=1e-6)
    p.requires_grad = True
    F.lp_pool1d(p, 2, 2).sum().backward()
    np.testing.assert_allclose(p.grad.data, [[[0.447214, -0.894427, 0.986394, 0.164399,
                                               0.894427, 0.447214]]], atol=1e-6)


@given(x=st.tensors(shape=(1, 2, 3, 4, 4), min_value=0.2, max_value=2.0),
       p=hs.sampled_from([1.0, 2.0, 2.5]), ceil=hs.booleans())
def test_lp_pool_gradcheck(x, p, ceil):
    gradcheck(lambda t: F.lp_pool3d(t, p, 2, ceil_mode=ceil), (x,))
    gradcheck(lambda t: F.lp_pool2d(t[0], p, (2, 3), 1), (x,))
    gradcheck(lambda t: F.lp_pool1d(t[0, 0], p, 3, 2, ceil), (x,))


# ----------------------------------------------------------------------------- max_unpool

def _pooled():
    x = _t([[[[1., 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 2, 3]]]])
    return F.max_pool2d_with_indices(x, 2)


def test_max_unpool_values():
    y, i = _pooled()
    assert i.tolist() == [[[[1, 6], [12, 11]]]]
    assert F.max_unpool2d(y, i, 2).tolist() == [[[[0, 5, 0, 0], [0, 0, 8, 0], [0, 0, 0, 7],
                                                  [9, 0, 0, 0]]]]
    z = F.max_unpool2d(y, i, 2, output_size=(1, 1, 5, 5))     # flat indices in a 5x5 plane
    assert z.tolist()[0][0][:3] == [[0, 5, 0, 0, 0], [0, 8, 0, 0, 0], [0, 7, 9, 0, 0]]
    assert F.max_unpool2d(y[0], i[0], 2).shape == (1, 4, 4)    # unbatched
    got = F.max_unpool1d(_t([[[5., 7]]]), mc.tensor([[[1, 3]]]), 3, stride=2)
    assert got.tolist() == [[[0, 5, 0, 7, 0]]]
    v, j = F.max_pool3d_with_indices(_cube(), 2)
    np.testing.assert_array_equal(F.max_unpool3d(v, j, 2).data[0, 0, :2],
                                  np.where(np.isin(np.arange(32), j.data),
                                           _cube().data.ravel()[:32], 0).reshape(2, 4, 4))


@given(x=st.tensors(shape=(2, 3, 4, 6), unique=True))
def test_max_unpool_gradcheck(x):
    _, i = F.max_pool2d(x, 2, return_indices=True)
    v = mc.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 3)), requires_grad=True)
    gradcheck(lambda t: F.max_unpool2d(t, i, 2), (v,))
    gradcheck(lambda t: F.max_unpool2d(*F.max_pool2d(t, 2, return_indices=True), 2), (x,))


def test_max_unpool_errors():
    y, i = _pooled()
    with pytest.raises(ValueError, match=r"dim 0 must be between 2 and 6"):
        F.max_unpool2d(y, i, 2, output_size=(6, 6))
    with pytest.raises(ValueError, match="2 or 4 elements"):
        F.max_unpool2d(y, i, 2, output_size=(3,))
    with pytest.raises(IndexError, match="invalid max index 21"):
        F.max_unpool2d(y, i + 20, 2)
    with pytest.raises(ValueError, match="same as that of the input"):
        F.max_unpool2d(y, i[..., :1], 2)
    with pytest.raises(TypeError, match="integer"):
        F.max_unpool2d(y, i.double(), 2)


def test_max_pool_with_indices_always_returns_indices():
    x = _cube()[0]
    for nd, t in ((1, x[0, 0]), (2, x[0]), (3, x)):
        fn = getattr(F, f"max_pool{nd}d_with_indices")
        v, i = fn(t, 2)
        v2, i2 = getattr(F, f"max_pool{nd}d")(t, 2, return_indices=True)
        assert v.tolist() == v2.tolist() and i.tolist() == i2.tolist()
