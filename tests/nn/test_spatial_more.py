"""Padding, pixel-shuffle, fold, transposed-convolution and pooling modules: PyTorch 2.13's
constructor arguments, reprs (written out from torch), rank checks, and forward = the
functional op."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck


# ----------------------------------------------------------------------------- padding

def test_padding_module_values_and_reprs():
    x = mc.arange(4.).reshape(1, 1, 4)
    assert nn.ReflectionPad1d(2)(x).tolist() == [[[2, 1, 0, 1, 2, 3, 2, 1]]]
    assert nn.ReplicationPad1d((1, 2))(x).tolist() == [[[0, 0, 1, 2, 3, 3, 3]]]
    assert nn.CircularPad1d(1)(x).tolist() == [[[3, 0, 1, 2, 3, 0]]]
    assert nn.ConstantPad1d((0, 1), 2.5)(x).tolist() == [[[0, 1, 2, 3, 2.5]]]
    assert nn.ZeroPad1d(-1)(x).tolist() == [[[1, 2]]]                # negative crops
    img = mc.arange(6.).reshape(1, 2, 3)
    assert nn.ZeroPad2d((1, 0, 0, 1))(img).tolist() == [[[0, 0, 1, 2], [0, 3, 4, 5],
                                                         [0, 0, 0, 0]]]
    assert nn.ReflectionPad2d((1, 1, 1, 0))(img).tolist() == [[[4, 3, 4, 5, 4],
                                                               [1, 0, 1, 2, 1],
                                                               [4, 3, 4, 5, 4]]]
    vol = mc.zeros(1, 2, 2, 3)
    assert nn.ReplicationPad3d((1, 0, 0, 1, 2, 0))(vol).shape == (1, 4, 3, 4)
    assert nn.CircularPad3d(1)(mc.zeros(1, 1, 2, 2, 2)).shape == (1, 1, 4, 4, 4)
    assert nn.ConstantPad3d(1, 3.0)(mc.zeros(2, 2, 2)).sum().item() == 3.0 * (64 - 8)
    assert repr(nn.ZeroPad1d(1)) == "ZeroPad1d((1, 1))"
    assert repr(nn.ZeroPad3d(1)) == "ZeroPad3d((1, 1, 1, 1, 1, 1))"
    assert repr(nn.ConstantPad2d((1, 2, 0, 1), 2.0)) == \
        "ConstantPad2d(padding=(1, 2, 0, 1), value=2.0)"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    assert repr(nn.CircularPad1d((1, 2))) == "CircularPad1d((1, 2))"
    assert nn.ReflectionPad1d([1, 2, 3]).padding == (1, 2, 3)       # kept, as in torch


def test_padding_module_gradients():
    x = mc.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)), requires_grad=True)
    for m in (nn.ReflectionPad2d((2, 1, 1, 2)), nn.ReplicationPad2d(2), nn.CircularPad2d(1),
              nn.ConstantPad2d(1, 7.0)):
        gradcheck(m, (x,))


@pytest.mark.parametrize("ndim, ok", [(1, False), (2, True), (3, True), (4, False)])
def test_padding_module_rank_checks(ndim, ok):
    x = mc.zeros(*([3] * ndim))
    for m in (nn.ReflectionPad1d(1), nn.ReplicationPad1d(1), nn.CircularPad1d(1)):
        if ok:
            assert m(x).shape[-1] == 5
        else:
            with pytest.raises((ValueError, NotImplementedError)):
                m(x)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(mc.zeros(3, 3))
    with pytest.raises(ValueError, match="at most 2\\*ndim"):
        nn.ZeroPad3d(1)(mc.zeros(3, 3))
    assert nn.ZeroPad1d(1)(mc.zeros(3)).shape == (5,)                 # constant: any rank


# ----------------------------------------------------------------------------- rearrangements

def test_shuffle_and_fold_modules():
    x = mc.arange(72.).reshape(1, 8, 3, 3)
    assert nn.PixelShuffle(2)(x).tolist() == F.pixel_shuffle(x, 2).tolist()
    assert nn.PixelUnshuffle(3)(x).shape == (1, 72, 1, 1)
    assert nn.ChannelShuffle(2)(x)[0, :, 0, 0].tolist() == [0, 36, 9, 45, 18, 54, 27, 63]
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    fold, unfold = nn.Fold(output_size=(4, 5), kernel_size=2), nn.Unfold((2, 3), stride=2)
    assert repr(fold) == ("Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, "
                          "stride=1)")
    assert repr(unfold) == "Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=2)"
    cols = nn.Unfold(2)(mc.ones(1, 3, 4, 5))
    assert cols.shape == (1, 12, 12)
    assert fold(cols)[0, 0].tolist() == [[1, 2, 2, 2, 1], [2, 4, 4, 4, 2], [2, 4, 4, 4, 2],
                                         [1, 2, 2, 2, 1]]


# ----------------------------------------------------------------------------- transposed conv

def test_conv_transpose_modules():
    mc.manual_seed(0)
    m = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert m.weight.shape == (4, 3, 3) and m.bias.shape == (6,)
    x = mc.randn(2, 4, 5)
    y = m(x)
    assert y.shape == (2, 6, 10)
    np.testing.assert_allclose(y.data, F.conv_transpose1d(x, m.weight, m.bias, 2, 1, 1, 2).data)
    assert m(x, output_size=[9]).shape == (2, 6, 9)
    assert m(x[0]).shape == (6, 10)                                     # unbatched
    m3 = nn.ConvTranspose3d(2, 3, (2, 3, 1), stride=(2, 1, 1), bias=False, dilation=(1, 1, 2))
    assert m3.weight.shape == (2, 3, 2, 3, 1) and m3.bias is None
    assert m3(mc.randn(1, 2, 3, 4, 5)).shape == (1, 3, 6, 6, 5)
    assert m3(mc.randn(1, 2, 3, 4, 5), output_size=(1, 3, 7, 6, 5)).shape == (1, 3, 7, 6, 5)
    assert repr(m3) == ("ConvTranspose3d(2, 3, kernel_size=(2, 3, 1), stride=(2, 1, 1), "
                        "dilation=(1, 1, 2), bias=False)")
    with pytest.raises(ValueError, match="valid sizes range from"):
        m3(mc.randn(1, 2, 3, 4, 5), output_size=(8, 6, 5))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose1d(2, 2, 3, stride=2, output_padding=2)(mc.randn(1, 2, 4))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="expected input"):
        m(mc.randn(2, 3, 5))


# ----------------------------------------------------------------------------- pooling

def test_pooling_modules_match_functional():
    mc.manual_seed(0)
    v = mc.randn(2, 3, 4, 5, 6)
    np.testing.assert_array_equal(nn.AvgPool3d(2, 1, 1, True, False)(v).data,
                                  F.avg_pool3d(v, 2, 1, 1, True, False).data)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool3d((2, None, 3))(v).data,
                                  F.adaptive_avg_pool3d(v, (2, None, 3)).data)
    y, i = nn.AdaptiveMaxPool3d(2, return_indices=True)(v)
    assert y.shape == i.shape == (2, 3, 2, 2, 2)
    s = v[:, :, 0, 0]
    np.testing.assert_array_equal(nn.AdaptiveAvgPool1d(4)(s).data,
                                  F.adaptive_avg_pool1d(s, 4).data)
    assert nn.AdaptiveMaxPool1d(4)(s).shape == (2, 3, 4)
    np.testing.assert_array_equal(nn.LPPool2d(2, 3, stride=2)(v[:, :, 0]).data,
                                  F.lp_pool2d(v[:, :, 0], 2, 3, 2).data)
    assert nn.LPPool1d(1.5, 2)(s.abs()).shape == (2, 3, 3)
    assert nn.LPPool3d(2, 2)(v).shape == (2, 3, 2, 2, 3)
    for nd, t in ((1, s), (2, v[:, :, 0]), (3, v)):
        pooled, idx = getattr(nn, f"MaxPool{nd}d")(2, return_indices=True)(t)
        back = getattr(nn, f"MaxUnpool{nd}d")(2)(pooled, idx, output_size=t.shape)
        assert back.shape == t.shape
        np.testing.assert_array_equal(np.where(back.data != 0, t.data, 0), back.data)


def test_pooling_module_reprs():
    assert repr(nn.AvgPool3d(2)) == "AvgPool3d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool1d(3)) == "AdaptiveAvgPool1d(output_size=3)"
    assert repr(nn.AdaptiveMaxPool3d(2)) == "AdaptiveMaxPool3d(output_size=2)"
    assert repr(nn.AdaptiveMaxPool1d(2, True)) == "AdaptiveMaxPool1d(output_size=2)"
    assert repr(nn.MaxUnpool2d(2)) == \
        "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool1d(3, 2, 1)) == \
        "MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(1,))"
    assert repr(nn.LPPool2d(2, 3)) == \
        "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"
    assert repr(nn.LPPool1d(1.5, 2, 1)) == \
        "LPPool1d(norm_type=1.5, kernel_size=2, stride=1, ceil_mode=False)"
