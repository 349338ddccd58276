"""Regression tests for review findings: NaN in threshold/shrink/elu-family gradients,
empty batches (N = 0) through norms, pools, convs and grid_sample, rms_norm's result dtype,
ConstantPad's stored value. Expected values are hard-coded from PyTorch 2.13."""
import math

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F

NAN = float("nan")


def _fwd_bwd(fn, values, grad):
    x = mc.tensor(values, dtype=mc.float64, requires_grad=True)
    y = fn(x)
    y.backward(mc.tensor(grad, dtype=mc.float64))
    return y.detach().numpy(), x.grad.numpy()


# ----------------------------------------------------------------------------- NaN

@pytest.mark.parametrize("fn, y_exp, g_exp", [
    (lambda x: F.threshold(x, 0.0, 5.0), [NAN, 5.0, 0.5], [1.0, 0.0, 3.0]),
    (F.hardshrink, [NAN, -1.0, 0.0], [1.0, 2.0, 0.0]),
    (F.softshrink, [NAN, -0.5, 0.0], [1.0, 2.0, 0.0]),
])
def test_nan_passes_threshold_and_shrink(fn, y_exp, g_exp):
    # torch: the "drop" test (x <= threshold; -lambd <= x <= lambd) is false for NaN, so
    # the NaN comes through with its gradient (torch's scalar kernel; small tensors)
    y, g = _fwd_bwd(fn, [NAN, -1.0, 0.5], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(y, y_exp)
    np.testing.assert_array_equal(g, g_exp)


def test_threshold_and_shrink_edges():
    x = [-0.5, 0.5, 1.0, math.inf, -math.inf]
    y, g = _fwd_bwd(F.hardshrink, x, [1.0] * 5)     # |x| == lambd is zeroed, gradient 0
    np.testing.assert_array_equal(y, [0.0, 0.0, 1.0, math.inf, -math.inf])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, 1.0, 1.0])
    y, g = _fwd_bwd(lambda t: F.threshold(t, 0.5, -1.0), x, [1.0] * 5)
    np.testing.assert_array_equal(y, [-1.0, -1.0, 1.0, math.inf, -1.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, 1.0, 0.0])
    # a NaN threshold drops nothing (torch: [1., nan])
    y = F.threshold(mc.tensor([1.0, NAN]), NAN, 9.0).numpy()
    np.testing.assert_array_equal(y, [1.0, NAN])
    assert F.threshold(mc.tensor([1, 2, 3]), 2, 9).tolist() == [9, 9, 3]


@pytest.mark.parametrize("fn, grad", [
    (F.selu, [2.101401974710961, 3.5161986816947532, 1.293537206069628, 2.101401974710961]),
    (F.celu, [2.0, 2.0, 0.7357588823428847, 2.0]),
    (lambda x: F.celu(x, 2.0), [2.0, 2.0, 1.2130613194252668, 2.0]),
    (lambda x: F.elu(x, 0.5), [2.0, 1.0, 0.36787944117144233, 2.0]),
])
def test_elu_family_gradient_at_nan(fn, grad):
    # torch's elu_backward tests x <= 0, so a NaN takes the positive branch: grad·scale
    y, g = _fwd_bwd(fn, [NAN, 0.0, -1.0, 1.0], [2.0] * 4)
    assert np.isnan(y[0])
    np.testing.assert_allclose(g, grad, rtol=1e-12)


# ----------------------------------------------------------------------------- empty batch

def _z(*shape):
    return mc.zeros(*shape, dtype=mc.float64, requires_grad=True)


def _i(*shape):
    return mc.zeros(*shape, dtype=mc.int64)


EMPTY = {   # name: (call, torch's output shape)
    "instance_norm": (lambda: F.instance_norm(_z(0, 3, 4)), (0, 3, 4)),
    "group_norm": (lambda: F.group_norm(_z(0, 4, 3), 2, _z(4), _z(4)), (0, 4, 3)),
    "grid_sample": (lambda: F.grid_sample(_z(0, 2, 3, 3), _z(0, 4, 5, 2),
                                          align_corners=False), (0, 2, 4, 5)),
    "grid_sample_nearest": (lambda: F.grid_sample(_z(0, 2, 3, 3), _z(0, 4, 5, 2), "nearest",
                                                  align_corners=True), (0, 2, 4, 5)),
    "max_unpool1d": (lambda: F.max_unpool1d(_z(0, 2, 2), _i(0, 2, 2), 2), (0, 2, 4)),
    "max_unpool2d": (lambda: F.max_unpool2d(_z(0, 2, 2, 2), _i(0, 2, 2, 2), 2), (0, 2, 4, 4)),
    "max_unpool3d": (lambda: F.max_unpool3d(_z(0, 2, 2, 2, 2), _i(0, 2, 2, 2, 2), 2),
                     (0, 2, 4, 4, 4)),
    "adaptive_max_pool1d": (lambda: F.adaptive_max_pool1d(_z(0, 2, 4), 2), (0, 2, 2)),
    "adaptive_max_pool2d": (lambda: F.adaptive_max_pool2d(_z(0, 2, 4, 4), 2), (0, 2, 2, 2)),
    "adaptive_max_pool3d": (lambda: F.adaptive_max_pool3d(_z(0, 2, 4, 4, 4), 2,
                                                          return_indices=True)[0],
                            (0, 2, 2, 2, 2)),
    "max_pool1d": (lambda: F.max_pool1d(_z(0, 2, 4), 2), (0, 2, 2)),
    "max_pool2d": (lambda: F.max_pool2d(_z(0, 2, 4, 4), 2), (0, 2, 2, 2)),
    "max_pool3d": (lambda: F.max_pool3d(_z(0, 2, 4, 4, 4), 2), (0, 2, 2, 2, 2)),
    "conv3d": (lambda: F.conv3d(_z(0, 2, 3, 3, 3), _z(4, 1, 2, 2, 2), _z(4), groups=2,
                                stride=2, padding=1), (0, 4, 2, 2, 2)),
    "conv_transpose3d": (lambda: F.conv_transpose3d(_z(0, 2, 3, 3, 3), _z(2, 4, 2, 2, 2)),
                         (0, 4, 4, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_batch(name):
    call, shape = EMPTY[name]
    y = call()
    assert y.shape == shape and y.dtype == mc.float64
    y.sum().backward()                                  # torch: backward works


def test_empty_batch_gradients_are_zero_with_input_shape():
    x, w = _z(0, 2, 3, 3, 3), _z(4, 2, 2, 2, 2)
    F.conv3d(x, w).sum().backward()
    assert x.grad.shape == (0, 2, 3, 3, 3) and w.grad.shape == (4, 2, 2, 2, 2)
    assert not w.grad.numpy().any()
    x = _z(0, 2, 4, 4, 4)
    F.max_pool3d(x, 2).sum().backward()
    assert x.grad.shape == (0, 2, 4, 4, 4)
    x = _z(0, 2, 2, 2)
    F.max_unpool2d(x, _i(0, 2, 2, 2), 2, output_size=(5, 5)).sum().backward()
    assert x.grad.shape == (0, 2, 2, 2)


def test_empty_batch_indices_and_running_stats():
    y, idx = F.adaptive_max_pool2d(_z(0, 2, 4, 4), (2, 3), return_indices=True)
    assert idx.shape == (0, 2, 2, 3) and idx.dtype == mc.int64
    # torch: no instances make the running buffers NaN
    rm, rv = mc.zeros(3, dtype=mc.float64), mc.ones(3, dtype=mc.float64)
    y = F.instance_norm(_z(0, 3, 4), rm, rv)
    assert y.shape == (0, 3, 4)
    assert np.isnan(rm.numpy()).all() and np.isnan(rv.numpy()).all()


# ----------------------------------------------------------------------------- rms_norm dtype

def test_rms_norm_keeps_input_dtype():
    x = mc.tensor([[1.0, 2.0, 3.0]], requires_grad=True)                    # float32
    w = mc.tensor([1.0, 0.5, 2.0], dtype=mc.float64, requires_grad=True)
    y = F.rms_norm(x, (3,), w)
    assert y.dtype == mc.float32
    np.testing.assert_allclose(y.detach().numpy(), [[0.4629100561141968, 0.4629100561141968,
                                            2.7774603366851807]], rtol=1e-6)
    y.backward(mc.tensor([[1.0, 2.0, 3.0]]))
    assert x.grad.dtype == mc.float32 and w.grad.dtype == mc.float64
    np.testing.assert_allclose(x.grad.numpy(), [[-0.2314550280570984, -0.9258201122283936,
                                                 0.6943650245666504]], rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), [0.4629100561141968, 1.851640224456787,
                                                 4.166190505027771], rtol=1e-6)
    x64 = mc.tensor([[1.0, 2.0, 3.0]], dtype=mc.float64)
    y = F.rms_norm(x64, (3,), mc.tensor([1.0, 0.5, 2.0]))
    assert y.dtype == mc.float64
    np.testing.assert_allclose(y.numpy(), [[0.4629100498862757, 0.4629100498862757,
                                            2.7774602993176543]], rtol=1e-7)


# ----------------------------------------------------------------------------- ConstantPad

def test_constant_pad_keeps_value_as_given():
    m = nn.ConstantPad2d(1, 2)
    assert repr(m) == "ConstantPad2d(padding=(1, 1, 1, 1), value=2)"
    assert type(m.value) is int
    assert repr(nn.ConstantPad1d(1, 2.5)) == "ConstantPad1d(padding=(1, 1), value=2.5)"
    assert repr(nn.ConstantPad3d(1, -1)) == \
        "ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=-1)"
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert m(mc.zeros(1, 1, 1, dtype=mc.int64)).tolist() == [[[2, 2, 2], [2, 0, 2],
                                                              [2, 2, 2]]]
