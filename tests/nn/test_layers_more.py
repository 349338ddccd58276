"""Dropout1d/3d, (feature) alpha dropout, instance/RMS/local-response norm, bilinear, and
the new activation modules (PReLU, RReLU, Softmax2d, ...). Expected values were computed
with PyTorch 2.13 (CPU) and are written out; gradients are checked by float64 gradcheck."""
import warnings

import numpy as np
import pytest
from hypothesis import given

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st


def _channels_constant(y, n_c):
    per = y.reshape(n_c + (-1,))
    return np.all(per.min(-1) == per.max(-1))


# ----------------------------------------------------------------------------- dropout

def test_dropout1d_and_dropout3d_drop_whole_channels():
    mc.manual_seed(0)
    y = F.dropout1d(mc.ones(16, 8, 5), 0.5).numpy()                   # mask (N, C, 1)
    assert set(np.unique(y)) == {0.0, 2.0} and _channels_constant(y, (16, 8))
    y = F.dropout1d(mc.ones(32, 5), 0.5).numpy()                      # unbatched (C, L)
    assert _channels_constant(y, (32,)) and 0 < (y == 0).mean() < 1
    y = F.dropout3d(mc.ones(4, 8, 2, 2, 2), 0.5).numpy()
    assert _channels_constant(y, (4, 8)) and set(np.unique(y)) == {0.0, 2.0}
    y = F.dropout3d(mc.ones(32, 2, 2, 2), 0.5).numpy()                # unbatched (C, D, H, W)
    assert _channels_constant(y, (32,)) and 0 < (y == 0).mean() < 1
    x = mc.ones(4, 3, 5, dtype=mc.float64, requires_grad=True)
    mc.manual_seed(1)
    y = F.dropout1d(x, 0.25)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # dx = mask
    assert F.dropout1d(x, 0.5, training=False) is x


def test_dropout1d_and_dropout3d_rank_rules():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received "
                                           "a 4D input"):
        F.dropout1d(mc.ones(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="received a 1D input"):
        F.dropout1d(mc.ones(3), training=False)                       # torch checks first
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        y = F.dropout3d(mc.ones(40, 3, 3), 0.5).numpy()               # channels: dim 0
    assert _channels_constant(y, (40,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.dropout3d(mc.ones(3), 0.5).shape == (3,)             # element-wise
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            F.dropout3d(mc.tensor(1.0), 0.5)
        assert F.dropout3d(mc.tensor(1.0), 1.0).tolist() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout3d(mc.ones(2, 2, 2, 2), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout1d(mc.ones(2, 3), 1.5)
    with pytest.raises(TypeError, match="floating"):
        F.dropout1d(mc.ones(2, 3, dtype=mc.int64), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout3d(-0.1)


def test_alpha_dropout_values_and_statistics():
    # torch: dropped values are a·α'·(p - 1) = -0.7791939 for p = 0.5; kept: a·x + 0.7791939
    mc.manual_seed(0)
    x = mc.tensor(np.arange(8.0), requires_grad=True)
    y = F.alpha_dropout(x, 0.5, True)
    yd, a = y.detach().numpy(), 0.886405
    kept = ~np.isclose(yd, -0.7791939)
    np.testing.assert_allclose(yd[kept], a * x.data[kept] + 0.7791939, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0), rtol=1e-6)
    mc.manual_seed(1)
    z = F.alpha_dropout(mc.randn(200000, dtype=mc.float64), 0.2, True).numpy()
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02           # N(0, 1) survives
    assert F.alpha_dropout(x, 0.5) is x                                # training=False default
    assert F.alpha_dropout(mc.ones(4), 1.0, True).tolist() == [0.0] * 4
    assert F.alpha_dropout(mc.tensor(2.0), 0.5, True).shape == ()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(x, 1.5, True)


def test_feature_alpha_dropout():
    mc.manual_seed(0)
    y = F.feature_alpha_dropout(mc.ones(8, 6, 3, 3), 0.5, True).numpy()
    assert _channels_constant(y, (8, 6))
    np.testing.assert_allclose(np.unique(y), [-0.7791939, 0.886405 + 0.7791939], rtol=1e-6)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(mc.ones(4), 0.5, True)
    assert F.feature_alpha_dropout(mc.ones(4), 1.0, True).tolist() == [0.0] * 4    # torch
    m = nn.FeatureAlphaDropout(0.2)
    assert repr(m) == "FeatureAlphaDropout(p=0.2, inplace=False)"
    x = mc.ones(2, 3, 4)
    assert m.eval()(x) is x


def test_dropout_modules():
    assert repr(nn.AlphaDropout()) == "AlphaDropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout1d()) == "Dropout1d(p=0.5, inplace=False)"
    assert repr(nn.Dropout3d(inplace=True)) == "Dropout3d(p=0.5, inplace=True)"
    mc.manual_seed(0)
    y = nn.Dropout1d(0.5)(mc.ones(4, 6, 5)).numpy()
    assert _channels_constant(y, (4, 6)) and set(np.unique(y)) == {0.0, 2.0}
    y = nn.AlphaDropout(0.5)(mc.ones(100)).numpy()
    assert len(np.unique(y.round(5))) == 2


# ----------------------------------------------------------------------------- instance norm

X_IN = (np.arange(24.).reshape(2, 3, 4) ** 1.5 / 10).astype(np.float32)


def test_instance_norm_values_and_running_stats():
    rm, rv = mc.zeros(3), mc.ones(3)
    y = F.instance_norm(mc.tensor(X_IN), rm, rv, mc.tensor([1., 2, 3]), mc.tensor([0., 1, 2]),
                        momentum=0.2)
    np.testing.assert_allclose(y.numpy()[0], [
        [-1.1408633, -0.6351939, 0.2893855, 1.4866717],
        [-1.5982854, 0.0221908, 1.8140008, 3.7620947],
        [-1.9525712, 0.5868542, 3.2715809, 6.0941334]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rm.numpy(), [0.5198598, 0.8641924, 1.2922579], rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), [0.8558044, 0.8861406, 0.9161810], rtol=1e-6)
    y = F.instance_norm(mc.tensor(X_IN), mc.tensor([1., 2, 3]), mc.tensor([4., 1, 0.25]),
                        use_input_stats=False)
    np.testing.assert_allclose(y.numpy().reshape(-1)[:6], [
        -0.4999994, -0.4499995, -0.3585782, -0.2401921, -1.199994, -0.8819616], rtol=1e-5)


@given(x=st.tensors(shape=(2, 2, 3)), w=st.tensors(shape=(2,)), b=st.tensors(shape=(2,)))
def test_instance_norm_gradcheck(x, w, b):
    gradcheck(lambda t, g, h: F.instance_norm(t, weight=g, bias=h), (x, w, b))


def test_instance_norm_errors():
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(mc.randn(2, 3, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(mc.randn(2, 3))
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(mc.randn(2, 3, 4), use_input_stats=False)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.instance_norm(mc.randn(2, 3, 4), mc.zeros(3))
    with pytest.raises(ValueError, match="should contain 3 elements"):
        F.instance_norm(mc.randn(2, 3, 4), mc.zeros(2), mc.ones(2))
    with pytest.raises(TypeError, match="floating"):
        F.instance_norm(mc.zeros(2, 3, 4, dtype=mc.int64))


def test_instance_norm_modules():
    m = nn.InstanceNorm1d(3)
    assert repr(m) == ("InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                       "track_running_stats=False)")
    assert list(m.state_dict()) == []
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    m(mc.randn(2, 3, 4, 4))
    assert m.num_batches_tracked.item() == 0                    # torch does not count either
    assert not np.allclose(m.running_mean.numpy(), 0)
    y = nn.InstanceNorm1d(3)(mc.randn(3, 5))                    # unbatched (C, L)
    np.testing.assert_allclose(y.numpy().mean(1), 0, atol=1e-6)
    ev = nn.InstanceNorm1d(3, track_running_stats=True).eval()  # eval: running statistics
    np.testing.assert_allclose(ev(mc.arange(6.).reshape(3, 2)).numpy(),
                               np.arange(6.).reshape(3, 2) / np.sqrt(1 + 1e-5), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        nn.InstanceNorm1d(3)(mc.randn(3))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 2D input\)"):
        nn.InstanceNorm3d(3)(mc.randn(3, 5))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(mc.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        assert nn.InstanceNorm1d(3)(mc.randn(2, 4, 5)).shape == (2, 4, 5)


# ----------------------------------------------------------------------------- RMS norm

def test_rms_norm_values_and_gradients():
    x = mc.tensor([[1., 2., 3.], [-1., 0.5, 0.]], requires_grad=True)
    w = mc.tensor([1., 2., 0.5], requires_grad=True)
    y = F.rms_norm(x, (3,), w)
    y.backward(mc.tensor([[1., 0, -1], [2, 1, 0]]))
    np.testing.assert_allclose(y.detach().numpy(), [[0.4629101, 1.8516402, 0.6943651],
                                                    [-1.5491931, 1.5491931, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [[0.4794426, 0.0330650, -0.1818575],
                                                [1.8590320, 3.7180634, 0.0]], rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), [-2.6354761, 0.7745966, -1.3887302], rtol=1e-6)
    y = F.rms_norm(mc.tensor([[1., 2., 3.], [-1., 0.5, 0.]]), [3], eps=0.5)
    np.testing.assert_allclose(y.numpy(), [[0.4399413, 0.8798827, 1.319824],
                                           [-1.044466, 0.522233, 0.0]], rtol=1e-6)
    assert F.rms_norm(mc.zeros(2, 3), (3,)).tolist() == [[0.0] * 3] * 2  # eps = finfo eps
    assert F.rms_norm(mc.zeros(0, 3), (3,)).shape == (0, 3)


@given(x=st.tensors(shape=(2, 2, 3)), w=st.tensors(shape=(2, 3)))
def test_rms_norm_gradcheck(x, w):
    gradcheck(lambda t, g: F.rms_norm(t, (2, 3), g, eps=1e-3), (x, w))
    gradcheck(lambda t: F.rms_norm(t.transpose(0, 2), (2,), eps=1e-3), (x,))  # strided


def test_rms_norm_errors_and_module():
    with pytest.raises(ValueError, match=r"normalized_shape=\[2\], expected input with shape"):
        F.rms_norm(mc.zeros(2, 3), (2,))
    with pytest.raises(TypeError, match="must be tuple of ints"):
        F.rms_norm(mc.zeros(2, 3), 3)
    with pytest.raises(ValueError, match="weight of shape \\[2\\]"):
        F.rms_norm(mc.zeros(2, 3), (3,), mc.ones(2))
    with pytest.raises(TypeError, match="floating"):
        F.rms_norm(mc.zeros(2, 3, dtype=mc.int64), (3,))
    m = nn.RMSNorm(3)
    assert repr(m) == "RMSNorm((3,), eps=None, elementwise_affine=True)"
    assert m.weight.tolist() == [1.0, 1.0, 1.0] and list(m.state_dict()) == ["weight"]
    m = nn.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False)
    assert repr(m) == "RMSNorm((2, 3), eps=1e-05, elementwise_affine=False)"
    assert m.weight is None and list(m.parameters()) == []
    y = m(mc.randn(4, 2, 3, dtype=mc.float64)).numpy()
    np.testing.assert_allclose((y ** 2).mean((1, 2)), 1, rtol=1e-4)


# ----------------------------------------------------------------------------- LRN

def test_local_response_norm_values_and_gradients():
    x = mc.tensor(np.arange(20.).reshape(2, 5, 2), requires_grad=True)
    y = F.local_response_norm(x, 3, alpha=0.1, beta=0.75, k=2.0)
    y.backward(mc.ones_like(y))
    np.testing.assert_allclose(y.detach().numpy()[0], [
        [0.0, 0.5296847], [0.9584146, 1.2637742], [1.4506326, 1.5499188],
        [1.5916871, 1.5981227], [2.2795072, 2.254334]], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy()[0], [
        [0.5665079, 0.4983799], [0.4057504, 0.2785703], [0.1614823, 0.0731742],
        [-0.0568833, -0.0881315], [0.0054512, -0.010042]], rtol=1e-5, atol=1e-7)
    assert F.local_response_norm(mc.zeros(0, 3, 2), 2).shape == (0, 3, 2)
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2"):
        F.local_response_norm(mc.randn(2, 3), 2)
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"


@given(x=st.tensors(shape=(1, 4, 2, 1)))
def test_local_response_norm_gradcheck(x):
    gradcheck(lambda t: F.local_response_norm(t, 3, alpha=0.5, k=1.5), (x,))
    gradcheck(lambda t: nn.LocalResponseNorm(2, 0.3)(t), (x,))


# ----------------------------------------------------------------------------- bilinear

def test_bilinear_values_and_gradients():
    x1 = mc.tensor([[1., 2.], [0.5, -1.]], requires_grad=True)
    x2 = mc.tensor([[1., 0., -1.], [2., 1., 0.5]], requires_grad=True)
    w = (mc.arange(12.).reshape(2, 2, 3) / 10 - 0.5).requires_grad_()
    b = mc.tensor([0.1, -0.2], requires_grad=True)
    y = F.bilinear(x1, x2, w, b)
    y.backward(mc.tensor([[1., 2.], [-1., 0.5]]))
    np.testing.assert_allclose(y.detach().numpy(), [[-0.5, -0.8], [-0.175, -1.525]], atol=1e-6)
    np.testing.assert_allclose(x1.grad.numpy(), [[-0.6, -0.6], [1.825, 1.3]], atol=1e-6)
    np.testing.assert_allclose(x2.grad.numpy(), [[0.9, 1.8, 2.7], [-0.125, -0.1, -0.075]],
                               atol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), [[[0., -0.5, -1.25], [4., 1., -1.5]],
                                                [[2.5, 0.25, -1.875], [3., -0.5, -4.25]]],
                               atol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [0., 2.5])
    assert F.bilinear(mc.zeros(2), mc.zeros(3), w).shape == (2,)
    assert F.bilinear(mc.zeros(5, 2, 2), mc.zeros(5, 2, 3), w).shape == (5, 2, 2)
    assert F.bilinear(mc.zeros(0, 2), mc.zeros(0, 3), w).shape == (0, 2)


@given(x1=st.tensors(shape=(2, 2)), x2=st.tensors(shape=(2, 3)), w=st.tensors(shape=(2, 2, 3)),
       b=st.tensors(shape=(2,)))
def test_bilinear_gradcheck(x1, x2, w, b):
    gradcheck(F.bilinear, (x1, x2, w, b))
    gradcheck(lambda a, c, v: F.bilinear(a.T.T, c, v), (x1, x2, w))


def test_bilinear_large_matches_float64_einsums():
    """N = 256, 128 x 128 x 128 in float32 (the matmul forms; three-operand einsums took
    1.8 s here, measured outside the tests): values and gradients as float64 einsums."""
    rng = np.random.default_rng(0)
    a, c, v = (rng.standard_normal(s).astype(np.float32) for s in ((256, 128), (256, 128),
                                                                   (128, 128, 128)))
    gy = rng.standard_normal((256, 128)).astype(np.float32)
    x1, x2, w = (mc.tensor(t, requires_grad=True) for t in (a, c, v))
    y = F.bilinear(x1, x2, w)
    y.backward(mc.tensor(gy))
    a, c, g, v = *(t[:16].astype(np.float64) for t in (a, c, gy)), v.astype(np.float64)
    for got, spec, ops in ((y, "ni,oij,nj->no", (a, v, c)), (x1.grad, "no,oij,nj->ni", (g, v, c)),
                           (x2.grad, "no,oij,ni->nj", (g, v, a))):
        want = np.einsum(spec, *ops)
        np.testing.assert_allclose(got.detach().numpy()[:16], want, rtol=1e-3,
                                   atol=1e-4 * np.abs(want).max())


def test_bilinear_errors_and_module():
    w = mc.zeros(2, 2, 3)
    with pytest.raises(ValueError, match="batch dimensions do not match"):
        F.bilinear(mc.zeros(2, 2), mc.zeros(3, 3), w)
    with pytest.raises(ValueError, match="input1 size does not match weight size: got 3"):
        F.bilinear(mc.zeros(2, 3), mc.zeros(2, 3), w)
    with pytest.raises(ValueError, match="input2 size does not match weight size: got 4"):
        F.bilinear(mc.zeros(2, 2), mc.zeros(2, 4), w)
    with pytest.raises(ValueError, match="bias size does not match"):
        F.bilinear(mc.zeros(2, 2), mc.zeros(2, 3), w, mc.zeros(3))
    with pytest.raises(TypeError, match="same dtype"):
        F.bilinear(mc.zeros(2, 2), mc.zeros(2, 3, dtype=mc.float64), w)
    m = nn.Bilinear(2, 3, 4)
    assert repr(m) == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"
    assert m.weight.shape == (4, 2, 3) and np.abs(m.weight.data).max() <= 1 / np.sqrt(2)
    assert [p.shape for p in nn.Bilinear(2, 3, 4, bias=False).parameters()] == [(4, 2, 3)]
    assert m(mc.randn(7, 2), mc.randn(7, 3)).shape == (7, 4)
    assert nn.Bilinear(2, 3, 4, dtype=mc.float64).weight.dtype == mc.float64


# ----------------------------------------------------------------------------- modules

def test_activation_module_reprs_match_torch():
    cases = [(nn.Hardswish(), "Hardswish()"), (nn.Hardsigmoid(True), "Hardsigmoid()"),
             (nn.SELU(), "SELU()"), (nn.SELU(True), "SELU(inplace=True)"),
             (nn.CELU(), "CELU(alpha=1.0)"), (nn.CELU(0.5, True), "CELU(alpha=0.5, inplace=True)"),
             (nn.LogSigmoid(), "LogSigmoid()"), (nn.Softsign(), "Softsign()"),
             (nn.Softshrink(), "Softshrink(0.5)"), (nn.Hardshrink(), "Hardshrink(0.5)"),
             (nn.Tanhshrink(), "Tanhshrink()"),
             (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"),
             (nn.Threshold(1, 2, True), "Threshold(threshold=1, value=2, inplace=True)"),
             (nn.GLU(), "GLU(dim=-1)"),
             (nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
             (nn.Softmin(1), "Softmin(dim=1)"), (nn.Softmax2d(), "Softmax2d()"),
             (nn.PReLU(), "PReLU(num_parameters=1)"), (nn.PReLU(3), "PReLU(num_parameters=3)")]
    for m, text in cases:
        assert repr(m) == text


def test_activation_modules_compute():
    x = mc.tensor([-4., -1., 0., 1., 4.])
    for m, fn in ((nn.Hardswish(), F.hardswish), (nn.Hardsigmoid(), F.hardsigmoid),
                  (nn.SELU(), F.selu), (nn.CELU(0.5), lambda t: F.celu(t, 0.5)),
                  (nn.LogSigmoid(), F.logsigmoid), (nn.Softsign(), F.softsign),
                  (nn.Softshrink(1.0), lambda t: F.softshrink(t, 1.0)),
                  (nn.Hardshrink(), F.hardshrink), (nn.Tanhshrink(), F.tanhshrink),
                  (nn.Threshold(0.5, -1.), lambda t: F.threshold(t, 0.5, -1.))):
        np.testing.assert_array_equal(m(x).numpy(), fn(x).numpy())
    assert nn.Threshold(0.5, -1.)(x).tolist() == [-1., -1., -1., 1., 4.]
    assert nn.GLU(0)(mc.tensor([1., 0.])).tolist() == [0.5]
    p = nn.Softmax2d()(mc.tensor([[[1.0]], [[2.0]]]))                  # (C, H, W)
    np.testing.assert_allclose(p.numpy().reshape(-1), [0.2689414, 0.7310586], rtol=1e-6)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(mc.zeros(2, 2))
    np.testing.assert_allclose(nn.Softmin(0)(mc.tensor([1., 2.])).numpy(), [0.731059, 0.268941],
                               atol=1e-6)
    r = nn.RReLU(0.1, 0.3)
    assert r.eval()(mc.tensor([-1.0])).tolist() == pytest.approx([-0.2])
    mc.manual_seed(0)
    y = r.train()(-mc.ones(100)).numpy()
    assert len(np.unique(y)) > 50 and y.min() >= -0.3 and y.max() <= -0.1


def test_prelu_module():
    m = nn.PReLU(3, init=0.1)
    assert m.weight.shape == (3,) and np.allclose(m.weight.data, 0.1)
    y = m(mc.tensor([[-1., -2., 3.]]))
    np.testing.assert_allclose(y.detach().numpy(), [[-0.1, -0.2, 3.]], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), [-1., -2., 0.])
    assert nn.PReLU(dtype=mc.float64).weight.dtype == mc.float64
    assert nn.PReLU()(mc.tensor([-2.0, 2.0])).tolist() == [-0.5, 2.0]
    m.weight.data[...] = 0
    m.reset_parameters()
    assert np.allclose(m.weight.data, 0.1)


# ----------------------------------------------------------------------------- embedding bag

W_BAG = np.arange(15.).reshape(5, 3) / 4 - 1
IN_BAG, OFF_BAG = [1, 2, 4, 4, 3, 0, 2], [0, 2, 2, 5]      # bags [1 2] [] [4 4 3] [0 2]
G_BAG = np.arange(12.).reshape(4, 3) - 4

# torch.nn.functional.embedding_bag(..., padding_idx=2): output, weight gradient for G_BAG
BAG_CASES = {
    "sum": ([[-0.25, 0., 0.25], [0., 0., 0.], [5.25, 6., 6.75], [-1., -0.75, -0.5]],
            [[5., 6., 7.], [-4., -3., -2.], [0., 0., 0.], [2., 3., 4.], [4., 6., 8.]]),
    "mean": ([[-0.25, 0., 0.25], [0., 0., 0.], [1.75, 2., 2.25], [-1., -0.75, -0.5]],
             [[5., 6., 7.], [-4., -3., -2.], [0., 0., 0.], [2 / 3, 1., 4 / 3], [4 / 3, 2., 8 / 3]]),
    "max": ([[-0.25, 0., 0.25], [0., 0., 0.], [2., 2.25, 2.5], [-1., -0.75, -0.5]],
            [[5., 6., 7.], [-4., -3., -2.], [0., 0., 0.], [0., 0., 0.], [2., 3., 4.]]),
}


@pytest.mark.parametrize("mode", BAG_CASES)
def test_embedding_bag_modes_match_torch(mode):
    w = mc.tensor(W_BAG, requires_grad=True)
    y = F.embedding_bag(mc.tensor(IN_BAG), w, mc.tensor(OFF_BAG), mode=mode, padding_idx=2)
    y.backward(mc.tensor(G_BAG))
    want, want_grad = BAG_CASES[mode]
    np.testing.assert_allclose(y.detach().numpy(), want, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), want_grad, atol=1e-12)
    # a (B, L) input is B bags of length L
    y2 = F.embedding_bag(mc.tensor([[1, 2], [4, 4]]), mc.tensor(W_BAG), mode=mode)
    y1 = F.embedding_bag(mc.tensor([1, 2, 4, 4]), mc.tensor(W_BAG), mc.tensor([0, 2]), mode=mode)
    np.testing.assert_array_equal(y2.numpy(), y1.numpy())


def test_embedding_bag_per_sample_weights_and_offsets():
    w = mc.tensor(W_BAG, requires_grad=True)
    psw = mc.tensor([1., 2, -1, 0.5, 3, 1, 2], dtype=mc.float64, requires_grad=True)
    y = F.embedding_bag(mc.tensor(IN_BAG), w, mc.tensor(OFF_BAG), mode="sum",
                        per_sample_weights=psw)
    y.backward(mc.tensor(G_BAG))
    np.testing.assert_allclose(y.detach().numpy(), [[0.75, 1.5, 2.25], [0., 0., 0.],
                                                    [2.75, 3.375, 4.], [0., 0.75, 1.5]])
    np.testing.assert_allclose(w.grad.numpy(), [[5., 6., 7.], [-4., -3., -2.], [2., 6., 10.],
                                                [6., 9., 12.], [-1., -1.5, -2.]])
    np.testing.assert_allclose(psw.grad.numpy(), [0.5, -6.25, 20.75, 20.75, 14., -13., 14.])
    # include_last_offset: the extra entry is the input's length (torch: the last bag runs
    # to the end of the input whatever it says)
    y = F.embedding_bag(mc.tensor(IN_BAG), mc.tensor(W_BAG), mc.tensor([0, 2, 7]),
                        include_last_offset=True)
    np.testing.assert_allclose(y.numpy(), [[0.125, 0.375, 0.625], [0.95, 1.2, 1.45]])
    empty = F.embedding_bag(mc.zeros(0, dtype=mc.int64), mc.tensor(W_BAG), mc.tensor([0, 0]))
    assert empty.tolist() == [[0.0] * 3] * 2


# torch (float64) for input [1, 2, 4, 5, 4, 3, 2, 9], W = arange(10)[:, None], offsets
# [0, 3, 5], include_last_offset, dy = [[1], [-2]]: the last bag runs to the end of the input
# (torch's float32 sum/mean kernel stops at offsets[-1]: a deliberate difference)
LAST_OFFSET_CASES = {
    ("sum", None): ([7., 23.], [0., 1., -1., -2., -1., -2., 0., 0., 0., -2.]),
    ("sum", 4): ([3., 19.], [0., 1., -1., -2., 0., -2., 0., 0., 0., -2.]),
    ("mean", None): ([7 / 3, 4.6], [0., 1 / 3, -1 / 15, -0.4, -1 / 15, -0.4, 0., 0., 0., -0.4]),
    ("mean", 4): ([1.5, 4.75], [0., 0.5, 0., -0.5, 0., -0.5, 0., 0., 0., -0.5]),
    ("max", None): ([4., 9.], [0., 0., 0., 0., 1., 0., 0., 0., 0., -2.]),
    ("max", 4): ([2., 9.], [0., 0., 1., 0., 0., 0., 0., 0., 0., -2.]),
}


@pytest.mark.parametrize("mode,pad", LAST_OFFSET_CASES)
def test_embedding_bag_include_last_offset_short_of_the_input(mode, pad):
    w = mc.arange(10., dtype=mc.float64).reshape(10, 1).requires_grad_()
    y = F.embedding_bag(mc.tensor([1, 2, 4, 5, 4, 3, 2, 9]), w, mc.tensor([0, 3, 5]),
                        mode=mode, include_last_offset=True, padding_idx=pad)
    y.backward(mc.tensor([[1.], [-2.]], dtype=mc.float64))
    want, want_grad = LAST_OFFSET_CASES[mode, pad]
    np.testing.assert_allclose(y.detach().numpy().ravel(), want, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy().ravel(), want_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_of_only_empty_bags_is_in_the_graph(mode):
    w = mc.tensor(W_BAG, requires_grad=True)
    for idx, off in ((mc.zeros(0, dtype=mc.int64), mc.tensor([0, 0])),
                     (mc.tensor([2, 2]), mc.tensor([0, 0, 2]))):    # padding only
        y = F.embedding_bag(idx, w, off, mode=mode, padding_idx=2)
        assert y.tolist() == [[0.0] * 3] * (off.shape[0]) and y.requires_grad
        y.sum().backward()
        assert w.grad.tolist() == [[0.0] * 3] * 5
    assert F.embedding_bag(mc.tensor([1, 2]), w, mc.tensor([0]), mode=mode,
                           include_last_offset=True).shape == (0, 3)


def test_embedding_bag_long_bag_is_not_padded():
    """200 bags of 1 entry and one of 3000, D = 16: a (bags, longest, D) float64 lookup
    would take 77 MB; the flat one takes 3200 x 16."""
    import tracemalloc
    rng = np.random.default_rng(0)
    lengths = np.array([1] * 200 + [3000])
    idx = rng.integers(0, 50, lengths.sum())
    off = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    wd = rng.standard_normal((50, 16))
    ends = np.cumsum(lengths)
    for mode, ref in (("sum", np.add), ("mean", np.add), ("max", np.maximum)):
        w = mc.tensor(wd, requires_grad=True)
        tracemalloc.start()
        y = F.embedding_bag(mc.tensor(idx), w, mc.tensor(off), mode=mode)
        y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8e6, f"{mode}: peak {peak / 1e6:.0f} MB"
        want = ref.reduceat(wd[idx], off, axis=0) / (lengths[:, None] if mode == "mean" else 1)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
        if mode == "max":                    # each bag's maximum row gets dy = 1 per column
            hits = np.zeros_like(wd)
            for s, e in zip(off, ends):
                np.add.at(hits, (idx[s + wd[idx[s:e]].argmax(0)], np.arange(16)), 1)
            np.testing.assert_array_equal(w.grad.numpy(), hits)


@given(w=st.tensors(shape=(4, 2), unique=True), psw=st.tensors(shape=(5,)))
def test_embedding_bag_gradcheck(w, psw):
    idx, off = mc.tensor([0, 3, 3, 1, 2]), mc.tensor([0, 2, 2])
    for mode in ("sum", "mean", "max"):
        gradcheck(lambda t: F.embedding_bag(idx, t, off, mode=mode), (w,))
    gradcheck(lambda t, p: F.embedding_bag(idx, t, off, mode="sum", per_sample_weights=p),
              (w, psw))


def test_embedding_bag_errors():
    w, idx, off = mc.tensor(W_BAG), mc.tensor(IN_BAG), mc.tensor(OFF_BAG)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(idx, w, off, per_sample_weights=mc.ones(7, dtype=mc.float64))
    with pytest.raises(ValueError, match="must have the same shape as the input"):
        F.embedding_bag(idx, w, off, mode="sum", per_sample_weights=mc.ones(3))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(idx, w, mc.tensor([1, 2]))
    with pytest.raises(ValueError, match="can not be greater than input's length 7"):
        F.embedding_bag(idx, w, mc.tensor([0, 9]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(idx, w, mc.tensor([0, 3, 2]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(idx.reshape(1, 7), w, off)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(idx, w, off, mode="foo")
    with pytest.raises(TypeError, match="integer tensor"):
        F.embedding_bag(idx.float(), w, off)
    with pytest.raises(IndexError, match="index 7 is out of range"):
        F.embedding_bag(mc.tensor([7]), w, mc.tensor([0]))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(idx, w, off, mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="-5 through 4, but got 7"):
        F.embedding_bag(idx, w, off, padding_idx=7)


def test_embedding_bag_module():
    assert repr(nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode='mean')"
    m = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0, max_norm=1.0, include_last_offset=True)
    assert repr(m) == "EmbeddingBag(10, 3, max_norm=1.0, mode='sum', padding_idx=0)"
    assert m.weight.data[0].tolist() == [0.0] * 3 and list(m.state_dict()) == ["weight"]
    y = m(mc.tensor([1, 2, 0, 4]), mc.tensor([0, 3, 4]))        # max_norm renormalises rows
    assert y.shape == (2, 3) and np.linalg.norm(m.weight.data[[1, 2, 4]], axis=1).max() <= 1
    bag = nn.EmbeddingBag.from_pretrained(mc.tensor(W_BAG), mode="max")
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(bag(mc.tensor([[1, 4, 0]])).numpy(), [[2.0, 2.25, 2.5]])
    x = mc.tensor([[1, 2], [3, 3]])
    s = nn.EmbeddingBag.from_pretrained(mc.tensor(W_BAG), mode="sum", freeze=False)
    np.testing.assert_allclose(s(x).detach().numpy(), W_BAG[x.numpy()].sum(1))
