"""Layers: float64 gradchecks, BatchNorm statistics, dropout statistics, init, vs PyTorch."""
import math

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck


def t64(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return mc.tensor(rng.standard_normal(shape) * scale, dtype=mc.float64, requires_grad=True)


def check_module(module, x):
    """Gradcheck a module's output w.r.t. its input and every parameter (float64)."""
    module.double()
    params = list(module.parameters())

    def fn(inp, *ps):
        return module(inp)
    assert gradcheck(fn, (x, *params))


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Linear(5, 3), (4, 5)),
    (lambda: nn.Linear(5, 3, bias=False), (2, 3, 5)),
    (lambda: nn.BatchNorm1d(3), (6, 3)),
    (lambda: nn.BatchNorm1d(3), (4, 3, 5)),
    (lambda: nn.BatchNorm2d(3), (4, 3, 2, 3)),
    (lambda: nn.BatchNorm3d(2), (2, 2, 2, 2, 3)),
    (lambda: nn.LayerNorm(6), (3, 6)),
    (lambda: nn.LayerNorm((2, 3)), (2, 4, 2, 3)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda: nn.GroupNorm(4, 4, affine=False), (3, 4, 5)),
    (lambda: nn.ELU(), (3, 4)),
    (lambda: nn.GELU(), (3, 4)),
    (lambda: nn.Sigmoid(), (3, 4)),
    (lambda: nn.Tanh(), (3, 4)),
    (lambda: nn.Softmax(dim=1), (3, 4)),
    (lambda: nn.LogSoftmax(dim=1), (3, 4)),
    (lambda: nn.LeakyReLU(0.2), (3, 4)),
    (lambda: nn.Flatten(), (2, 3, 2)),
    (lambda: nn.Unflatten(1, (2, 3)), (2, 6)),
])
def test_layer_gradcheck(make, shape):
    check_module(make(), t64(*shape))


def test_batchnorm_eval_gradcheck():
    bn = nn.BatchNorm2d(3).double()
    bn.running_mean.data[...] = [0.5, -1, 2]
    bn.running_var.data[...] = [0.5, 2, 3]
    bn.eval()
    check_module(bn, t64(2, 3, 2, 2))


def test_embedding_gradcheck_and_padding():
    emb = nn.Embedding(6, 3, padding_idx=2)
    assert np.all(emb.weight.data[2] == 0)
    emb.double()
    idx = mc.tensor([[0, 2, 5], [2, 5, 5]])
    out = emb(idx)
    out.backward(mc.ones(2, 3, 3, dtype=mc.float64))
    g = emb.weight.grad.data
    assert np.all(g[2] == 0) and np.all(g[5] == 3) and np.all(g[0] == 1)
    with pytest.raises(IndexError, match=r"\[0, 5\]"):
        emb(mc.tensor([6]))


def test_embedding_gradcheck_without_padding():
    w = t64(5, 2)
    idx = mc.tensor([1, 3, 3, 0])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))


# ----------------------------------------------------------------------------- batch norm

def test_batchnorm_running_stats_momentum_one():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5, 5)) * 3 + 1
    bn = nn.BatchNorm2d(3, momentum=1.0).double()
    y = bn(mc.tensor(x))
    n = 4 * 5 * 5
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, var * n / (n - 1), rtol=1e-12)
    assert int(bn.num_batches_tracked.data) == 1
    ref = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-12)


def test_batchnorm_eval_uses_running_stats_and_leaves_buffers():
    bn = nn.BatchNorm2d(3)
    bn(mc.randn(4, 3, 5, 5) * 2 + 1)
    before = {k: v.data.copy() for k, v in bn.state_dict().items()}
    bn.eval()
    x = mc.randn(2, 3, 4, 4)
    y = bn(x)
    for k, v in bn.state_dict().items():
        assert np.array_equal(v.data, before[k]), k
    rm, rv = before["running_mean"], before["running_var"]
    ref = (x.data - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5)
    np.testing.assert_allclose(y.data, ref * before["weight"][:, None, None]
                               + before["bias"][:, None, None], rtol=1e-5, atol=1e-6)
    bn.eval()
    bn(mc.randn(1, 3, 1, 1))                         # one value per channel is fine in eval


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [np.random.default_rng(i).standard_normal((8, 2)) for i in range(3)]
    for x in xs:
        bn(mc.tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-12)
    bn2 = nn.BatchNorm1d(2, track_running_stats=False)
    assert bn2.running_mean is None and "running_mean" not in bn2.state_dict()
    bn2.eval()
    y = bn2(mc.randn(8, 2))                           # batch statistics even in eval
    np.testing.assert_allclose(y.data.mean(0), 0, atol=1e-5)


def test_batchnorm_one_value_per_channel_raises_with_hint():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match="drop_last=True"):
        bn(mc.randn(1, 4))
    assert int(bn.num_batches_tracked.data) == 0
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(4)(mc.randn(2, 4, 3))
    with pytest.raises(ValueError, match="channels-last"):
        nn.BatchNorm2d(4)(mc.randn(2, 3, 3, 4))


# ----------------------------------------------------------------------------- dropout / init

def test_dropout_statistics_and_seed():
    mc.manual_seed(0)
    x = mc.ones(200, 500)
    y = nn.Dropout(0.3)(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.01
    mc.manual_seed(0)
    assert np.array_equal(nn.Dropout(0.3)(x).data, y)
    d = nn.Dropout(0.3).eval()
    assert d(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_follows_mask():
    x = mc.ones(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_dropout2d_drops_whole_channels():
    mc.manual_seed(3)
    y = nn.Dropout2d(0.5)(mc.ones(64, 32, 4, 4)).data
    per_channel = y.reshape(64, 32, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert abs((per_channel[..., 0] != 0).mean() - 0.5) < 0.03


def test_init_distributions():
    mc.manual_seed(0)
    w = mc.empty(400, 300)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = 1 / math.sqrt(300)
    assert w.data.min() >= -bound and w.data.max() <= bound
    assert abs(w.data.std() - bound / math.sqrt(3)) / (bound / math.sqrt(3)) < 0.01
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2 / 400)) / math.sqrt(2 / 400) < 0.01
    nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))
    a = 5 / 3 * math.sqrt(6 / 700)
    assert w.data.max() <= a and abs(w.data.max() - a) < 0.01 * a
    nn.init.xavier_normal_(w)
    assert abs(w.data.std() - math.sqrt(2 / 700)) / math.sqrt(2 / 700) < 0.01
    nn.init.trunc_normal_(w, std=0.5, a=-0.4, b=0.6)
    assert w.data.min() >= -0.4 and w.data.max() <= 0.6
    q = mc.empty(30, 50)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.data @ q.data.T, np.eye(30), atol=1e-5)
    nn.init.constant_(q, 0.25)
    assert np.all(q.data == 0.25)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="fewer than 2"):
        nn.init.xavier_uniform_(mc.empty(3))


def test_default_init_bounds_like_pytorch():
    lin = nn.Linear(50, 20)
    b = 1 / math.sqrt(50)
    assert np.abs(lin.weight.data).max() <= b and np.abs(lin.bias.data).max() <= b
    conv = nn.Conv2d(4, 8, 3)
    b = 1 / math.sqrt(4 * 9)
    assert np.abs(conv.weight.data).max() <= b and np.abs(conv.bias.data).max() <= b
    assert conv.weight.shape == (8, 4, 3, 3)
    assert nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)


# ----------------------------------------------------------------------------- conv / pool layers

def test_conv_layers_gradcheck_and_shapes():
    pytest.importorskip("minicv.ops.conv")
    for conv, shape in [(nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
                        (nn.Conv2d(2, 4, 3, stride=2, groups=2, padding_mode="reflect",
                                   padding=1), (1, 2, 5, 6)),
                        (nn.Conv1d(2, 3, 3, padding="same"), (2, 2, 7)),
                        (nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1,
                                            output_padding=1), (1, 2, 3, 3))]:
        check_module(conv, t64(*shape))
    y = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)(mc.randn(1, 2, 4, 4),
                                                         output_size=(8, 8))
    assert y.shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="channels-last"):
        nn.Conv2d(3, 4, 3)(mc.randn(1, 8, 8, 3))


def test_pool_layers_shapes():
    pytest.importorskip("minicv.ops.pool")
    x = mc.randn(2, 3, 8, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(3, 2, 1, ceil_mode=True)(x).shape == (2, 3, 5, 5)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    assert nn.MaxPool1d(2)(mc.randn(2, 3, 8)).shape == (2, 3, 4)
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_upsample_layer():
    pytest.importorskip("minicv.ops.vision")
    assert nn.Upsample(scale_factor=2)(mc.randn(1, 2, 3, 3)).shape == (1, 2, 6, 6)
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"


# ----------------------------------------------------------------------------- vs PyTorch

def test_layers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 5))
    cases = [(nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), x),
             (nn.GroupNorm(3, 3), torch.nn.GroupNorm(3, 3), x),
             (nn.LayerNorm((5, 5)), torch.nn.LayerNorm((5, 5)), x),
             (nn.Linear(5, 2), torch.nn.Linear(5, 2), x)]
    for ours, theirs, inp in cases:
        ours.double()
        theirs.double()
        with torch.no_grad():
            for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
                assert n == tn
                tp.copy_(torch.from_numpy(p.data))
        xm = mc.tensor(inp, requires_grad=True)
        xt = torch.tensor(inp, requires_grad=True)
        ym, yt = ours(xm), theirs(xt)
        np.testing.assert_allclose(ym.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(ym.shape)
        ym.backward(mc.tensor(g))
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-8, atol=1e-10)
        for (n, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
            np.testing.assert_allclose(b.data, tb.numpy(), rtol=1e-10, err_msg=n)


def test_norm_layers_take_pytorchs_bias_flag():
    bn = nn.BatchNorm2d(3, bias=False)
    assert bn.bias is None and list(bn.state_dict()) == [
        "weight", "running_mean", "running_var", "num_batches_tracked"]
    gn = nn.GroupNorm(1, 4, bias=False)
    assert [n for n, _ in gn.named_parameters()] == ["weight"]
    x = mc.randn(2, 3, 4, 4, dtype=mc.float64)
    bn.double()
    y = bn(x)                                            # no shift: per-channel mean 0
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    bn.reset_parameters()


def test_hardtanh_and_mish_layers():
    x = mc.tensor([-3.0, -0.5, 0.5, 3.0], dtype=mc.float64)
    np.testing.assert_array_equal(nn.Hardtanh(-1.0, 2.0)(x).data, [-1, -0.5, 0.5, 2])
    sp = np.log1p(np.exp(x.data))
    np.testing.assert_allclose(nn.Mish()(x).data, x.data * np.tanh(sp), rtol=1e-12)
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)


def test_functional_signatures_follow_pytorch():
    x = mc.randn(2, 5)
    a = F.softmax(input=x, dim=1)                        # keyword `input`, as in PyTorch
    b = F.softmax(x, 1, 3, mc.float64)                   # 3rd positional is _stacklevel
    assert b.dtype == np.float64
    np.testing.assert_allclose(a.data, b.data, rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, dim=-1, dtype=mc.float64).data,
                               np.log(b.data), rtol=1e-6)
    assert F.relu(input=x).shape == (2, 5) and F.gelu(input=x).shape == (2, 5)
    assert F.pad(input=x, pad=(1, 1)).shape == (2, 7)
    assert len(mc.split(tensor=x, split_size_or_sections=2, dim=1)) == 3
