"""pixel_shuffle / pixel_unshuffle / channel_shuffle, the deprecated upsample aliases,
conv_transpose1d / conv_transpose3d, affine_grid and grid_sample. Expected values were
computed with PyTorch 2.13 (CPU) and are written out, so the tests need no torch;
gradients are checked by float64 gradcheck."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st


def _t(values):
    return mc.tensor(np.array(values, dtype=np.float64))


# ----------------------------------------------------------------------------- rearrangements

def test_pixel_shuffle_values():
    x = mc.arange(96.).reshape(2, 8, 2, 3)
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (2, 2, 4, 6)
    assert y[0, 0].tolist() == [[0, 6, 1, 7, 2, 8], [12, 18, 13, 19, 14, 20],
                                [3, 9, 4, 10, 5, 11], [15, 21, 16, 22, 17, 23]]
    u = F.pixel_unshuffle(x[:, :, :, :2], 2)
    assert u.shape == (2, 32, 1, 1)
    assert u[0, :8, 0, 0].tolist() == [0, 1, 3, 4, 6, 7, 9, 10]
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).data, x.data)     # inverse
    assert F.pixel_shuffle(mc.zeros(3, 2, 4, 1, 1), 2).shape == (3, 2, 1, 2, 2)
    assert F.pixel_shuffle(mc.zeros(0, 4, 1, 1), 2).shape == (0, 1, 2, 2)
    assert F.pixel_shuffle(mc.arange(4).reshape(4, 1, 1), 2).dtype == np.int64


def test_channel_shuffle_values():
    c = mc.arange(24.).reshape(2, 6, 2)
    assert F.channel_shuffle(c, 3)[0].tolist() == [[0, 1], [4, 5], [8, 9], [2, 3], [6, 7],
                                                   [10, 11]]
    assert F.channel_shuffle(c.transpose(1, 2).transpose(1, 2), 1).tolist() == c.tolist()


@given(x=st.tensors(shape=(1, 8, 2, 3)), r=hs.sampled_from([1, 2]))
def test_rearrangements_gradcheck(x, r):
    gradcheck(lambda t: F.pixel_shuffle(t, r), (x,))
    gradcheck(lambda t: F.pixel_unshuffle(t.transpose(2, 3)[..., :2, :], 2), (x,))
    gradcheck(lambda t: F.channel_shuffle(t, 4), (x,))


def test_rearrangement_errors():
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        F.pixel_shuffle(mc.zeros(4, 1), 2)
    with pytest.raises(ValueError, match="divisible by the square"):
        F.pixel_shuffle(mc.zeros(3, 1, 1), 2)
    with pytest.raises(ValueError, match="positive upscale_factor"):
        F.pixel_shuffle(mc.zeros(4, 1, 1), 0)
    with pytest.raises(TypeError, match="must be int"):
        F.pixel_shuffle(mc.zeros(4, 1, 1), 2.0)
    with pytest.raises(ValueError, match=r"input.size\(-1\)=3 is not divisible by 2"):
        F.pixel_unshuffle(mc.zeros(1, 4, 3), 2)
    with pytest.raises(ValueError, match="6 channels and 4 groups"):
        F.channel_shuffle(mc.zeros(1, 6, 2), 4)
    with pytest.raises(ValueError, match="> 2 dims"):
        F.channel_shuffle(mc.zeros(6, 2), 3)


def test_upsample_aliases_warn_and_match_interpolate():
    x = mc.randn(1, 2, 3, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        y = F.upsample_bilinear(x, scale_factor=2)
    np.testing.assert_array_equal(y.data, F.interpolate(x, scale_factor=2, mode="bilinear",
                                                        align_corners=True).data)
    with pytest.warns(UserWarning, match="deprecated"):
        y = F.upsample_nearest(x, size=(5, 4))
    np.testing.assert_array_equal(y.data, F.interpolate(x, size=(5, 4)).data)
    with pytest.warns(UserWarning, match="deprecated"):
        y = F.upsample(x, scale_factor=2, mode="bicubic", align_corners=False)
    np.testing.assert_array_equal(y.data, F.interpolate(x, scale_factor=2,
                                                        mode="bicubic").data)


# ----------------------------------------------------------------------------- transposed conv

def test_conv_transpose1d_values():
    x = mc.arange(1., 7).reshape(1, 2, 3).double()
    w = _t([[[1., -1]], [[0.5, 2]]])
    y = F.conv_transpose1d(x, w, _t([0.5]), stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(y.data, [[[7.5, 5.0, 8.5, 6.5, 9.5]]])
    np.testing.assert_allclose(F.conv_transpose1d(x[0], w, _t([0.5]), 2, 1, 1).data, y.data[0])


def test_conv_transpose3d_values():
    x = mc.arange(1., 9).reshape(1, 1, 2, 2, 2).double()
    w = _t([[[[[1., 0], [0, -1]], [[2, 0], [0, 1]]], [[[0, 1], [1, 0]], [[0, 0], [3, 0]]]]])
    y = F.conv_transpose3d(x, w, stride=(1, 2, 1), padding=(0, 1, 0))
    np.testing.assert_allclose(y.data, [[
        [[[0, -1, -2], [3, 4, 0]], [[0, -4, -4], [13, 16, 0]], [[0, 5, 6], [14, 16, 0]]],
        [[[1, 2, 0], [0, 3, 4]], [[8, 12, 0], [0, 7, 8]], [[15, 18, 0], [0, 0, 0]]]]])
    # output_padding below dilation but not stride (the cropped path)
    assert F.conv_transpose3d(x, w, stride=2, output_padding=1,
                              dilation=(1, 2, 1)).shape == (1, 2, 5, 6, 5)


@given(nd=hs.sampled_from([1, 3]), s=hs.integers(1, 2), p=hs.integers(0, 1),
       d=hs.integers(1, 2), groups=hs.sampled_from([1, 2]), bias=hs.booleans(),
       data=hs.data())
def test_conv_transpose_gradcheck(nd, s, p, d, groups, bias, data):
    rng = np.random.default_rng(0)
    x = mc.tensor(rng.standard_normal((1, 2) + (3,) * nd), requires_grad=True)
    w = mc.tensor(rng.standard_normal((2, 2 // groups) + (2,) * nd), requires_grad=True)
    b = mc.tensor(rng.standard_normal(2), requires_grad=True) if bias else None
    op = data.draw(hs.integers(0, max(s, d) - 1))
    fn = getattr(F, f"conv_transpose{nd}d")
    inputs = (x, w) + ((b,) if bias else ())
    gradcheck(lambda *t: fn(t[0], t[1], t[2] if bias else None, s, p, op, groups, d), inputs)


def test_conv_transpose_errors():
    x = mc.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="3-D input"):
        F.conv_transpose1d(mc.zeros(1, 2, 3, 3), mc.zeros(2, 1, 2))
    with pytest.raises(ValueError, match="output padding must be smaller"):
        F.conv_transpose1d(x, mc.zeros(2, 1, 2), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="to have 3 channels"):
        F.conv_transpose3d(mc.zeros(1, 2, 2, 2, 2), mc.zeros(3, 1, 1, 1, 1))
    with pytest.raises(TypeError, match="should be the same"):
        F.conv_transpose3d(mc.zeros(1, 2, 2, 2, 2), mc.zeros(2, 1, 1, 1, 1).double())
    with pytest.raises(ValueError, match="5-D input"):
        F.conv_transpose3d(mc.zeros(2, 2, 2), mc.zeros(2, 1, 1, 1, 1))


# ----------------------------------------------------------------------------- grid_sample

GRID_EXPECTED = {     # F.grid_sample(arange(12).reshape(1, 1, 3, 4), _grid(), ...) in torch
    ("bilinear", "zeros", False): [0.0, 2.75, 4.7, 0.0, 0.28, 5.5],
    ("bilinear", "zeros", True): [0.0, 11.0, 5.05, 1.75, 5.04, 5.5],
    ("bilinear", "border", False): [0.0, 11.0, 4.7, 7.0, 8.0, 5.5],
    ("bilinear", "border", True): [0.0, 11.0, 5.05, 7.0, 8.0, 5.5],
    ("bilinear", "reflection", False): [0.0, 11.0, 4.7, 6.5, 8.0, 5.5],
    ("bilinear", "reflection", True): [0.0, 11.0, 5.05, 6.25, 7.9, 5.5],
    ("nearest", "zeros", False): [0.0, 0.0, 6.0, 0.0, 0.0, 6.0],
    ("nearest", "zeros", True): [0.0, 11.0, 6.0, 0.0, 8.0, 6.0],
    ("nearest", "border", False): [0.0, 11.0, 6.0, 7.0, 8.0, 6.0],
    ("nearest", "border", True): [0.0, 11.0, 6.0, 7.0, 8.0, 6.0],
    ("nearest", "reflection", False): [0.0, 11.0, 6.0, 6.0, 8.0, 6.0],
    ("nearest", "reflection", True): [0.0, 11.0, 6.0, 6.0, 8.0, 6.0],
}


def _grid():
    return _t([[[[-1., -1.], [1., 1.], [0.5, -0.3]], [[1.5, 0.], [-1.2, 1.1], [0., 0.]]]])


@pytest.mark.parametrize("key", sorted(GRID_EXPECTED))
def test_grid_sample_values(key):
    x = mc.arange(12.).reshape(1, 1, 3, 4).double()
    mode, padding_mode, align = key
    y = F.grid_sample(x, _grid(), mode, padding_mode, align)
    np.testing.assert_allclose(y.data.ravel(), GRID_EXPECTED[key], atol=1e-6)


def test_grid_sample_gradients_and_nonfinite():
    x = mc.arange(12.).reshape(1, 1, 3, 4).double().requires_grad_()
    g = _grid().requires_grad_()
    y = F.grid_sample(x, g, padding_mode="reflection", align_corners=False)
    (y * mc.arange(6.).reshape(1, 1, 2, 3).double()).sum().backward()
    np.testing.assert_allclose(x.grad.data[0, 0], [[0, 0, 0.45, 0.45], [0, 2.5, 4.55, 2.05],
                                                   [4, 0, 0, 1]], atol=1e-12)
    # on the border and on a reflection point the grid gradient is 0 (PyTorch's rule)
    np.testing.assert_allclose(g.grad.data[0], [[[0, 0], [0, 0], [4, 12]],
                                                [[-6, 18], [0, 0], [10, 30]]], atol=1e-12)
    odd = _t([[[[np.nan, 0.], [np.inf, 0.]]]])
    x = mc.arange(12.).reshape(1, 1, 3, 4).double()
    assert np.isnan(F.grid_sample(x, odd, align_corners=False).data).all()
    assert F.grid_sample(x, odd, padding_mode="border",
                         align_corners=False).tolist() == [[[[4.0, 7.0]]]]
    assert F.grid_sample(x, odd, padding_mode="reflection",
                         align_corners=False).tolist() == [[[[4.0, 4.0]]]]


def _kinks(size, align):
    """Normalised coordinates of the pixel centres (kinks of the bilinear weights) and of
    the half-way points between them (where 'nearest' jumps)."""
    k = np.arange(-4, 2 * size + 4) / 2
    return tuple(2 * k / (size - 1) - 1 if align else (2 * k + 1) / size - 1)


@given(mode=hs.sampled_from(["bilinear", "nearest"]),
       padding_mode=hs.sampled_from(["zeros", "border", "reflection"]),
       align=hs.booleans(), data=hs.data())
def test_grid_sample_gradcheck(mode, padding_mode, align, data):
    x = data.draw(st.tensors(shape=(2, 2, 3, 4)))
    avoid = _kinks(3, align) + _kinks(4, align) + (-1.0, 1.0)
    g = data.draw(st.tensors(shape=(2, 2, 3, 2), min_value=-1.3, max_value=1.3,
                             avoid=avoid, margin=1e-3))
    gradcheck(lambda a, b: F.grid_sample(a, b, mode, padding_mode, align), (x, g))


def test_grid_sample_views_and_float32():
    x = mc.randn(2, 3, 5, 4)
    g = mc.rand(2, 2, 6, 2) * 2 - 1
    ref = F.grid_sample(x, g, align_corners=True)
    got = F.grid_sample(x.transpose(2, 3).transpose(2, 3), g.transpose(1, 2).transpose(1, 2),
                        align_corners=True)
    np.testing.assert_array_equal(got.data, ref.data)
    assert ref.dtype == np.float32 and ref.shape == (2, 3, 2, 6)
    assert F.grid_sample(x, g[:, :0], align_corners=False).shape == (2, 3, 0, 6)


def test_grid_sample_errors():
    x, g = mc.zeros(1, 1, 3, 4), mc.zeros(1, 2, 3, 2)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.grid_sample(x, g)
    with pytest.raises(ValueError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(ValueError, match="size 2 in last dimension"):
        F.grid_sample(x, g[..., :1], align_corners=False)
    with pytest.raises(ValueError, match="same batch size"):
        F.grid_sample(x, mc.zeros(2, 2, 3, 2), align_corners=False)
    with pytest.raises(ValueError, match="4-D input"):
        F.grid_sample(x[0], g, align_corners=False)
    with pytest.raises(TypeError, match="same dtype"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.grid_sample(x.long(), g, align_corners=False)
    with pytest.raises(ValueError, match="non-empty spatial"):
        F.grid_sample(x[:, :, :0], g, align_corners=False)


# ----------------------------------------------------------------------------- affine_grid

def test_affine_grid_values():
    th = _t([[[1., 0.2, 0.1], [0.3, 0.9, -0.2]]])
    np.testing.assert_allclose(F.affine_grid(th, (1, 3, 2, 3), align_corners=False).data, [[
        [[-0.666667, -0.85], [0.0, -0.65], [0.666667, -0.45]],
        [[-0.466667, 0.05], [0.2, 0.25], [0.866667, 0.45]]]], atol=1e-6)
    np.testing.assert_allclose(F.affine_grid(th, (1, 3, 2, 3), align_corners=True).data, [[
        [[-1.1, -1.4], [-0.1, -1.1], [0.9, -0.8]],
        [[-0.7, 0.4], [0.3, 0.7], [1.3, 1.0]]]], atol=1e-12)
    th3 = _t([[[1., 0, 0, 0.5], [0, 2, 0, 0], [0, 0, 1, -1]]])
    np.testing.assert_allclose(F.affine_grid(th3, (1, 1, 2, 1, 2), align_corners=False).data,
                               [[[[[0, 0, -1.5], [1, 0, -1.5]]], [[[0, 0, -0.5], [1, 0, -0.5]]]]],
                               atol=1e-12)
    assert F.affine_grid(th.float(), (1, 1, 2, 2), False).dtype == np.float32


@given(theta=st.tensors(shape=(2, 2, 3)), align=hs.booleans())
def test_affine_grid_gradcheck_and_identity(theta, align):
    gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align), (theta,))
    theta3 = mc.tensor(theta.data.reshape(1, 3, 4), requires_grad=True)
    gradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 3, 2), align), (theta3,))
    eye = mc.tensor([[[1.0, 0, 0], [0, 1, 0]]]).double()
    x = mc.randn(1, 2, 3, 4).double()
    y = F.grid_sample(x, F.affine_grid(eye, (1, 2, 3, 4), align), align_corners=align)
    np.testing.assert_allclose(y.data, x.data, atol=1e-12)


def test_affine_grid_errors():
    th = mc.zeros(1, 2, 3)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(th, (1, 1, 2, 2))
    with pytest.raises(ValueError, match="floating point"):
        F.affine_grid(th.long(), (1, 1, 2, 2), False)
    with pytest.raises(ValueError, match="Nx3x4"):
        F.affine_grid(th, (1, 1, 2, 2, 2), False)
    with pytest.raises(NotImplementedError, match="4D and 5D sizes"):
        F.affine_grid(th, (1, 3, 2), False)
    with pytest.raises(ValueError, match="positive output size"):
        F.affine_grid(th, (1, 3, 0, 2), False)
    with pytest.raises(ValueError, match="batch of 2"):
        F.affine_grid(th, (2, 3, 2, 2), False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="unit-size"):
            F.affine_grid(th, (1, 3, 1, 2), True)
