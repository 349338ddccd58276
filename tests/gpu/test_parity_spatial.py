"""CPU/GPU parity of the spatial ops added for PyTorch 2.13: padding modules, pixel and
channel shuffles, conv_transpose1d/3d, avg_pool3d, adaptive 1-D/3-D pooling, lp_pool,
max_unpool, affine_grid and grid_sample: values, gradients, dtypes and errors alike.

Marked ``gpu`` (skipped without CuPy and a CUDA device; runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
from minicv.nn import functional as F
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)


def randn(*shape):
    return R.standard_normal(shape)


def test_padding_modules_and_shuffles():
    x = randn(2, 3, 4, 5)
    for m in (nn.ReflectionPad2d((1, 2, 0, 1)), nn.ReplicationPad2d(1), nn.CircularPad2d(1),
              nn.ZeroPad2d((1, 0, -1, 2)), nn.ConstantPad3d(1, 2.0)):
        _same(m, x)
    _same(lambda t: F.pixel_shuffle(t, 2), randn(1, 8, 2, 3))
    _same(lambda t: F.pixel_unshuffle(t, 2), x[..., :4])
    _same(lambda t: F.channel_shuffle(t, 3), x)
    _same(lambda t: F.pixel_shuffle(t, 2), np.arange(8).reshape(8, 1, 1), grad=False)
    _same_error(lambda t: F.pixel_shuffle(t, 2), randn(3, 1, 1))


def test_transposed_convolutions():
    _same(lambda t, w, b: F.conv_transpose1d(t, w, b, 2, 1, 1, 2, 1),
          randn(2, 4, 5), randn(4, 3, 3), randn(6))
    _same(lambda t, w: F.conv_transpose3d(t, w, None, (1, 2, 1), (0, 1, 1), (0, 1, 0), 1,
                                          (1, 1, 2)), randn(1, 2, 3, 3, 2), randn(2, 3, 2, 3, 2))
    _same(lambda t, w, b: F.conv_transpose3d(t, w, b, 2, 0, 1, 2, (2, 1, 1)),
          randn(1, 4, 2, 2, 2), randn(4, 1, 2, 2, 2), randn(2))
    _same(lambda t, w: F.conv_transpose3d(t, w, stride=2),
          randn(1, 2, 2, 2, 2).astype(np.float32), randn(2, 2, 2, 2, 2).astype(np.float32),
          rtol=1e-5, atol=1e-6)
    _same_error(lambda t, w: F.conv_transpose3d(t, w), randn(1, 2, 2, 2, 2),
                randn(3, 1, 1, 1, 1))


def test_new_pooling_ops():
    v = randn(2, 3, 5, 6, 7)
    _same(lambda t: F.avg_pool3d(t, 3, 2, 1, True, False), v)
    _same(lambda t: F.avg_pool3d(t, (2, 3, 2), 1, (1, 0, 1), divisor_override=5), v)
    _same(lambda t: F.adaptive_avg_pool3d(t, (2, None, 3)), v)
    _same(lambda t: F.adaptive_max_pool3d(t, (3, 4, 2)), v)
    _same(lambda t: F.adaptive_max_pool3d(t, (3, 4, 2), True)[1], v, grad=False)
    _same(lambda t: F.adaptive_avg_pool1d(t, 4), v[0, 0])
    _same(lambda t: F.adaptive_max_pool1d(t, 4, True)[1], v[0, 0], grad=False)
    _same(lambda t: F.lp_pool2d(t, 2.5, (2, 3), 1), np.abs(v[:, :, 0]) + 0.1)
    _same(lambda t: F.lp_pool3d(t, 1, 2, ceil_mode=True), v)
    _same_error(lambda t: F.avg_pool3d(t, 3, 2, 2), v)


def test_max_unpool():
    x = randn(2, 3, 4, 6)
    _same(lambda t: F.max_unpool2d(*F.max_pool2d(t, 2, return_indices=True), 2,
                                   output_size=(5, 7)), x)
    _same(lambda t: F.max_unpool3d(*F.max_pool3d(t, 2, return_indices=True), 2),
          randn(1, 2, 4, 4, 2))
    _same_error(lambda t: F.max_unpool1d(*F.max_pool1d(t, 2, return_indices=True), 2,
                                         output_size=(9,)), randn(1, 2, 4))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_and_affine_grid(mode, padding_mode, align):
    grid = R.uniform(-1.4, 1.4, (2, 3, 5, 2))
    grid[0, 0, :3] = [[-1, -1], [1, 1], [0, 0]]                # borders, ties
    grid[1, 0, :2] = [[np.nan, 0], [np.inf, 0.5]]
    _same(lambda t, g: F.grid_sample(t, g, mode, padding_mode, align), randn(2, 3, 4, 5),
          grid)
    _same(lambda th: F.grid_sample(mc.ones(2, 1, 3, 3, device=th.device).double(),
                                   F.affine_grid(th, (2, 1, 4, 3), align), mode,
                                   padding_mode, align), randn(2, 2, 3))
    _same(lambda th: F.affine_grid(th, (1, 2, 2, 3, 2), align), randn(1, 3, 4))
    _same_error(lambda t, g: F.grid_sample(t, g, mode, padding_mode, align),
                randn(1, 1, 3, 3), randn(2, 2, 2, 2))


def test_review_fixes_nan_and_empty_batch():
    # NaN passes threshold/shrink with its gradient; elu-family gradient at NaN is scale
    x = np.array([np.nan, -1.0, 0.5, 0.0, 2.0])
    for fn in (lambda t: F.threshold(t, 0.0, 5.0), F.hardshrink, F.softshrink, F.selu,
               lambda t: F.celu(t, 2.0)):
        _same(fn, x)
    # N = 0: empty results of the right shape and gradients on both devices
    _same(lambda t: F.max_pool2d(t, 2), randn(0, 2, 4, 4))
    _same(lambda t: F.adaptive_max_pool3d(t, 2), randn(0, 2, 4, 4, 4))
    _same(lambda t: F.max_unpool2d(t, mc.zeros(0, 2, 2, 2, dtype=mc.int64, device=t.device),
                                   2), randn(0, 2, 2, 2))
    _same(lambda t: F.group_norm(t, 2), randn(0, 4, 3))
    _same(lambda t, g: F.grid_sample(t, g, align_corners=False), randn(0, 2, 3, 3),
          randn(0, 4, 5, 2))
    _same(lambda t, w: F.conv3d(t, w), randn(0, 2, 3, 3, 3), randn(4, 2, 2, 2, 2))
    _same(lambda t, w: F.conv2d(t, w), randn(0, 2, 3, 3), randn(4, 2, 2, 2))
    _same(lambda t, w: F.conv_transpose3d(t, w), randn(0, 2, 3, 3, 3), randn(2, 4, 2, 2, 2))
