"""CPU/GPU parity of the nn fixes of ``tests/nn/test_fuzz_fixes_nn.py``: empty batches
(depthwise convolutions, BatchNorm, Linear with a zero-size feature), integer max pooling and
nearest resampling, float16 input into float32 norms, group_norm's one-value check and
adaptive_max_pool*_with_indices. Marked ``gpu`` (runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F

from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)


def test_depthwise_conv_of_an_empty_batch():
    _same(lambda x, w: F.conv2d(x, w, groups=3, padding=1), np.ones((0, 3, 5, 5)),
          R.standard_normal((3, 1, 3, 3)))
    _same(lambda x, w: F.conv1d(x, w, stride=3, dilation=2, groups=2), np.ones((0, 2, 6)),
          R.standard_normal((4, 1, 3)))
    _same(lambda x, w: F.conv_transpose2d(x, w, groups=3, stride=2), np.ones((0, 3, 4, 4)),
          R.standard_normal((3, 1, 3, 3)))


def test_batch_norm_and_linear_on_empty_inputs():
    rm, rv = np.zeros(3), np.ones(3)
    _same(lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=True),
          np.ones((0, 3, 2, 2)), np.ones(3), np.zeros(3), rm, rv)
    _same(lambda x, w, b: F.linear(x, w, b), np.ones((2, 0)), np.ones((3, 0)), np.zeros(3))
    _same(lambda x, w, b: F.linear(x, w, b), np.ones((2, 3)), np.ones((0, 3)), np.zeros(0))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_integer_max_pool_and_nearest(dtype):
    x = R.integers(0, 9, (2, 3, 5, 6)).astype(dtype)
    _same(lambda t: F.max_pool2d(t, 3, 2, 1), x)
    _same(lambda t: F.max_pool2d(t, 2, return_indices=True)[1], x)
    _same(lambda t: F.max_pool1d(t, 2), x[:, :, 0])
    _same(lambda t: F.max_pool3d(t, 2, 1), x.reshape(1, 2, 3, 5, 6))
    _same(lambda t: F.interpolate(t, scale_factor=1.5), x)
    _same(lambda t: F.interpolate(t, size=(3, 9), mode="nearest-exact"), x)
    _same(lambda t: F.interpolate(t, scale_factor=1.3), x[:, :, 0])
    _same_error(lambda t: F.max_pool2d(t, 2), np.zeros((1, 1, 2, 2), bool), error=TypeError)


def test_float16_into_float32_norms_and_group_norm_check():
    x = R.standard_normal((4, 3, 2, 2)).astype(np.float16)
    w, b = R.standard_normal(3).astype(np.float32), R.standard_normal(3).astype(np.float32)
    _same(lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True), x, w, b,
          rtol=1e-3, atol=1e-3)
    _same(lambda t, w, b: F.layer_norm(t, (2,), w, b), x, w[:2], b[:2], rtol=1e-3, atol=1e-3)
    _same_error(lambda t: F.group_norm(t, 2), np.ones((1, 2)), match="more than 1 value")


def test_adaptive_max_pool_with_indices():
    x = R.standard_normal((2, 3, 7))
    _same(lambda t: F.adaptive_max_pool1d_with_indices(t, 3)[1], x, grad=False)
    _same(lambda t: F.adaptive_max_pool2d_with_indices(t, (2, 3))[0], x.reshape(2, 3, 1, 7))
    _same(lambda t: F.adaptive_max_pool3d_with_indices(t, 2)[1],
          R.standard_normal((1, 2, 3, 4, 5)), grad=False)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialiased_interpolation(mode):
    x = R.standard_normal((2, 3, 9, 7))
    _same(lambda t: F.interpolate(t, size=(4, 10), mode=mode, antialias=True), x)
    _same(lambda t: F.interpolate(t, scale_factor=0.45, mode=mode, align_corners=True,
                                  antialias=True), x.astype(np.float32), rtol=1e-5, atol=1e-6)
