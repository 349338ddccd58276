"""Pooling and resampling: Numba vs the NumPy reference, tie rule, views, bad inputs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicv.kernels import conv_algo as ca
from minicv.kernels import reference as ref
from minicv.kernels.cpu import pool, resample


@st.composite
def pool_configs(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 9))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 9))
    return (2, 3, h, w), k, s, p, d, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=50, deadline=None)
@given(pool_configs())
def test_max_pool_matches_reference(cfg):
    shape, k, s, p, d, ceil, _ = cfg
    x = np.random.default_rng(0).integers(-3, 3, shape).astype(np.float32)  # many ties
    y, idx = pool.max_pool2d(x, k, s, p, d, ceil)
    yr, idxr = ref.max_pool2d(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(idx, idxr)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(pool.max_pool2d_backward(gy, idx, shape),
                               ref.max_pool2d_backward(gy, idxr, shape), rtol=1e-6, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(pool_configs(), st.sampled_from([None, 3]))
def test_avg_pool_matches_reference(cfg, div):
    shape, k, s, p, _, ceil, cip = cfg
    x = np.random.default_rng(0).standard_normal(shape)
    y = pool.avg_pool2d(x, k, s, p, ceil, cip, div)
    np.testing.assert_allclose(y, ref.avg_pool2d(x, k, s, p, ceil, cip, div), rtol=1e-12)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = pool.avg_pool2d_backward(gy, shape, k, s, p, ceil, cip, div)
    np.testing.assert_allclose(gx, ref.avg_pool2d_backward(gy, shape, k, s, p, ceil, cip, div),
                               rtol=1e-12, atol=1e-12)
    assert np.isclose(np.sum(y * gy), np.sum(x * gx))  # adjoint


def test_max_pool_tie_rule():
    # window [1, 2, 2, 2]: the gradient sums to the upstream 1.0 and goes to the FIRST max
    x = np.array([[[[1.0, 2.0], [2.0, 2.0]]]], np.float32)
    for impl in (pool, ref):
        y, idx = impl.max_pool2d(x, 2)
        assert y.item() == 2.0 and idx.item() == 1
        gx = impl.max_pool2d_backward(np.ones_like(y), idx, x.shape)
        np.testing.assert_array_equal(gx, [[[[0, 1], [0, 0]]]])
    gx = ca.max_pool2d_backward(np.ones((1, 1, 1, 1), np.float32), idx, x.shape)
    assert gx.sum() == 1.0


@pytest.mark.parametrize("k, s, p, ceil", [(2, 2, 0, False), (2, 2, 1, False),
                                          (2, 2, 0, True), (3, 2, 1, False), (3, 1, 1, True)])
@pytest.mark.parametrize("n", [2, 160])  # 160 x 4 x 31 x 33: above the threads' split size
def test_max_pool_nan_ties_and_split(k, s, p, ceil, n):
    """NaNs win (a later NaN replaces an earlier one, as in PyTorch), ties go to the first
    maximum, in the 2x2 fast path, the generic in-image path and the padded edges, on one
    thread and split over threads."""
    rng = np.random.default_rng(n + k + s + p)
    x = rng.integers(-2, 2, (n, 4, 31, 33)).astype(np.float32)
    x[rng.random(x.shape) < 0.01] = np.nan
    y, idx = pool.max_pool2d(x, k, s, p, 1, ceil)
    yr, idxr = ref.max_pool2d(x, k, s, p, 1, ceil)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(idx, idxr)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(pool.max_pool2d_backward(gy, idx, x.shape),
                                  ref.max_pool2d_backward(gy, idxr, x.shape))


@pytest.mark.parametrize("kind", ["flipped", "transposed", "sliced"])
def test_pool_and_resample_views(views, kind):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(np.float32)
    v = views(x)[kind]
    for f in (lambda a: pool.max_pool2d(a, 3, 2, 1)[0], lambda a: pool.avg_pool2d(a, 3, 2, 1),
              lambda a: resample.interpolate_bilinear(a, (5, 11)),
              lambda a: resample.interpolate_nearest(a, (9, 5))):
        np.testing.assert_array_equal(f(v), f(x))


@pytest.mark.parametrize("size", [(5, 7), (14, 16), (3, 3), (1, 1), (20, 9)])
@pytest.mark.parametrize("align", [False, True])
def test_resample_matches_reference(size, align):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    gy = rng.standard_normal((2, 3) + size).astype(np.float32)
    np.testing.assert_array_equal(resample.interpolate_nearest(x, size),
                                  ref.interpolate_nearest(x, size))
    np.testing.assert_allclose(resample.interpolate_nearest_backward(gy, x.shape),
                               ref.interpolate_nearest_backward(gy, x.shape), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(resample.interpolate_bilinear(x, size, align),
                               ref.interpolate_bilinear(x, size, align), rtol=1e-5, atol=1e-6)
    gx = resample.interpolate_bilinear_backward(gy, x.shape, align)
    np.testing.assert_allclose(gx, ref.interpolate_bilinear_backward(gy, x.shape, align),
                               rtol=1e-5, atol=1e-5)
    y = resample.interpolate_bilinear(x, size, align)
    assert np.isclose(np.sum(y * gy), np.sum(x * gx), rtol=1e-4)  # adjoint


def test_adaptive_pools_cover_input():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 10))
    y = ca.adaptive_avg_pool2d_forward(x, (3, 4))
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = ca.adaptive_avg_pool2d_backward(gy, x.shape)
    assert np.isclose(np.sum(y * gy), np.sum(x * gx))
    np.testing.assert_allclose(ca.adaptive_avg_pool2d_forward(x, 1)[..., 0, 0], x.mean((2, 3)))
    y, idx = ca.adaptive_max_pool2d_forward(x, (1, 1))
    np.testing.assert_array_equal(y[..., 0, 0], x.max((2, 3)))
    np.testing.assert_array_equal(idx[..., 0, 0], x.reshape(2, 3, -1).argmax(-1))


def test_pool_1d_3d():
    x = np.random.default_rng(0).standard_normal((2, 3, 11))
    y, idx = ca.max_pool1d_forward(x, 3, 2, 1)
    np.testing.assert_array_equal(np.take_along_axis(x, idx, 2), y)
    gx = ca.max_pool1d_backward(np.ones_like(y), idx, x.shape)
    assert gx.sum() == y.size
    ya = ca.avg_pool1d_forward(x, 3, 2, 1)
    assert ya.shape == y.shape
    x3 = np.random.default_rng(0).standard_normal((1, 2, 5, 6, 7))
    y3, i3 = ca.max_pool3d_forward(x3, 2)
    np.testing.assert_array_equal(np.take_along_axis(x3.reshape(1, 2, -1),
                                                     i3.reshape(1, 2, -1), 2).ravel(),
                                  y3.ravel())
    assert ca.max_pool3d_backward(np.ones_like(y3), i3, x3.shape).sum() == y3.size


@pytest.mark.parametrize("call, match", [
    (lambda: ca.max_pool2d_forward(np.zeros((3, 8, 8), np.float32), 2), "4-D input"),
    (lambda: ca.max_pool2d_forward(np.zeros((1, 3, 8, 8), np.float32), 2, padding=2),
     "half of kernel"),
    (lambda: ca.avg_pool2d_forward(np.zeros((1, 3, 2, 2), np.float32), 5), "too small"),
    (lambda: ca.interpolate_forward(np.zeros((1, 3, 2, 2), np.float32), 4, "nearest", True),
     "align_corners"),
    (lambda: ca.interpolate_forward(np.zeros((1, 3, 2, 2), np.float32), 4, "cubic"), "mode"),
])
def test_bad_pool_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
