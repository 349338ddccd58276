"""conv1d/2d/3d and conv_transpose2d as ops: float64 gradchecks (hypothesis), every
algorithm on views, "same"/"valid" padding, PyTorch parity, and clear errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.kernels import conv_algo as K
from minicv.ops.conv import conv1d, conv2d, conv3d, conv_transpose2d
from minicv.testing import gradcheck, strategies as st


def _tensors(cfg, rng, dtype=np.float64):
    x = mc.tensor(rng.standard_normal((cfg["n"], cfg["cin"], cfg["h"], cfg["w"])),
                  dtype=dtype, requires_grad=True)
    w = mc.tensor(rng.standard_normal((cfg["cout"], cfg["cin"] // cfg["groups"], cfg["k"],
                                       cfg["k"])), dtype=dtype, requires_grad=True)
    b = mc.tensor(rng.standard_normal(cfg["cout"]), dtype=dtype, requires_grad=True) \
        if cfg["bias"] else None
    return x, w, b


@given(st.conv_configs(), hs.sampled_from(["auto", "im2col", "reference"]))
def test_conv2d_gradcheck(cfg, algo):
    x, w, b = _tensors(cfg, np.random.default_rng(0))
    args = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
                groups=cfg["groups"], algo=algo)
    inputs = (x, w) if b is None else (x, w, b)
    gradcheck(lambda *t: conv2d(*t, **args), inputs)


@given(st.conv_configs())
def test_conv_transpose2d_gradcheck(cfg):
    rng = np.random.default_rng(1)
    x = mc.tensor(rng.standard_normal((cfg["n"], cfg["cin"], cfg["h"] // 2 + 1, cfg["w"] // 2 + 1)),
                  dtype=np.float64, requires_grad=True)
    w = mc.tensor(rng.standard_normal((cfg["cin"], cfg["cout"] // cfg["groups"], cfg["k"],
                                       cfg["k"])), requires_grad=True)
    op = min(cfg["stride"], cfg["dilation"]) - 1
    gradcheck(lambda a, b: conv_transpose2d(a, b, stride=cfg["stride"], padding=0,
                                            output_padding=op, groups=cfg["groups"],
                                            dilation=cfg["dilation"]), (x, w))


def test_conv1d_conv3d_gradcheck():
    rng = np.random.default_rng(2)
    x1 = mc.tensor(rng.standard_normal((2, 4, 9)), requires_grad=True)
    w1 = mc.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    gradcheck(lambda a, b: conv1d(a, b, stride=2, padding=1, groups=2), (x1, w1))
    x3 = mc.tensor(rng.standard_normal((1, 2, 4, 5, 4)), requires_grad=True)
    w3 = mc.tensor(rng.standard_normal((3, 2, 2, 3, 2)), requires_grad=True)
    gradcheck(lambda a, b: conv3d(a, b, padding=1, stride=(1, 2, 1)), (x3, w3))


VIEWS = {
    "contiguous": lambda a: a,
    "flipped": lambda a: a[..., ::-1],
    "transposed": lambda a: a.transpose(0, 1, 3, 2),
    "sliced": lambda a: a[:, :, 1:-1:1, ::2],
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("algo", ["auto", "im2col", "winograd", "reference"])
def test_algorithms_agree_on_views(view, algo):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((2, 32, 14, 20)).astype(np.float32)
    xv = VIEWS[view](base)
    w = mc.tensor(rng.standard_normal((32, 32, 3, 3)).astype(np.float32) * 0.1)
    want = conv2d(mc.tensor(np.ascontiguousarray(xv).astype(np.float64)), w.double(),
                  padding=1, algo="reference").data
    got = conv2d(mc.Tensor(xv), w, padding=1, algo=algo).data
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("k,dil", [(3, 1), (4, 1), (3, 2)])
def test_same_and_valid_padding(k, dil):
    x = mc.randn(1, 2, 7, 8)
    w = mc.randn(3, 2, k, k)
    assert conv2d(x, w, padding="same", dilation=dil).shape == (1, 3, 7, 8)
    assert conv2d(x, w, padding="valid").shape == (1, 3, 8 - k, 9 - k)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"weight of size \[64, 3, 3, 3\], expected "
                                         r"input\[1, 1, 256, 256\] to have 3 channels"):
        conv2d(mc.zeros(1, 1, 256, 256), mc.zeros(64, 3, 3, 3))
    with pytest.raises(ValueError, match="can't be greater than the padded input"):
        conv2d(mc.zeros(1, 3, 2, 2), mc.zeros(4, 3, 5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        conv2d(mc.zeros(1, 3, 8, 8), mc.zeros(4, 1, 3, 3), groups=3)
    with pytest.raises(ValueError, match="4-D input"):
        conv2d(mc.zeros(8, 8), mc.zeros(4, 3, 3, 3))
    with pytest.raises(TypeError, match="should be the same"):
        conv2d(mc.zeros(1, 3, 8, 8, dtype=mc.float64), mc.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match="NHWC"):
        conv2d(mc.zeros(1, 8, 8, 3), mc.zeros(4, 3, 3, 3))


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("seed", range(12))
def test_matches_torch_on_random_configs(seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2, 4]))
    cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k, s, d, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 3)), \
        int(rng.integers(0, 3))
    h, w = int(rng.integers(k * d, 12)), int(rng.integers(k * d, 12))
    x = rng.standard_normal((2, cin, h, w))
    wt = rng.standard_normal((cout, cin // groups, k, k))
    b = rng.standard_normal(cout)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    mx, mw, mb = (mc.tensor(a, requires_grad=True) for a in (x, wt, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, s, p, d, groups)
    my = conv2d(mx, mw, mb, s, p, d, groups)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g))
    my.backward(mc.tensor(g))
    for m, t in ((mx, tx), (mw, tw), (mb, tb)):
        np.testing.assert_allclose(m.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-10)
    # the transposed convolution with the same geometry
    op = int(rng.integers(0, max(s, d)))
    wt2 = rng.standard_normal((cin, cout // groups, k, k))
    tx2, tw2 = torch.tensor(x, requires_grad=True), torch.tensor(wt2, requires_grad=True)
    mx2, mw2 = mc.tensor(x, requires_grad=True), mc.tensor(wt2, requires_grad=True)
    if op >= s:
        op = 0
    try:
        ty2 = torch.nn.functional.conv_transpose2d(tx2, tw2, None, s, p, op, groups, d)
    except RuntimeError:        # output too small for this padding: nothing to compare
        return
    my2 = conv_transpose2d(mx2, mw2, None, s, p, op, groups, d)
    np.testing.assert_allclose(my2.data, ty2.detach().numpy(), rtol=1e-10, atol=1e-10)
    g2 = rng.standard_normal(ty2.shape)
    ty2.backward(torch.tensor(g2))
    my2.backward(mc.tensor(g2))
    np.testing.assert_allclose(mx2.grad.data, tx2.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(mw2.grad.data, tw2.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_unbatched_inputs_match_batch_of_one():
    """PyTorch accepts (C, *spatial) inputs; the result is the batch-of-one result."""
    rng = np.random.default_rng(3)
    for fn, xs, ws in ((conv1d, (3, 7), (4, 3, 3)), (conv2d, (3, 7, 6), (4, 3, 3, 3)),
                       (conv3d, (2, 4, 3, 3), (3, 2, 2, 2, 2)),
                       (conv_transpose2d, (3, 7, 6), (3, 4, 3, 3))):
        x = mc.tensor(rng.standard_normal(xs), requires_grad=True)
        w = mc.tensor(rng.standard_normal(ws), requires_grad=True)
        y = fn(x, w, stride=1, padding=1)
        np.testing.assert_allclose(y.data, fn(x.unsqueeze(0), w, stride=1, padding=1).data[0],
                                   rtol=1e-12)
        gradcheck(lambda a, b: fn(a, b, padding=1), (x, w))
    y = mc.nn.Conv2d(3, 4, 3)(mc.randn(3, 7, 6))
    assert y.shape == (4, 5, 4)
    assert mc.nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect")(
        mc.randn(3, 7, 6)).shape == (4, 7, 6)
    assert mc.nn.ConvTranspose2d(3, 2, 2, stride=2)(mc.randn(3, 4, 5)).shape == (2, 8, 10)


def test_conv_transpose2d_output_padding_below_dilation():
    """output_padding >= stride is allowed while < dilation (PyTorch 2.13 values)."""
    x = mc.tensor(np.arange(8.0).reshape(1, 2, 2, 2) / 4, requires_grad=True)
    w = mc.tensor((np.arange(16.0).reshape(2, 2, 2, 2) - 7) / 8, requires_grad=True)
    b = mc.tensor([0.5, -1.0], dtype=mc.float64, requires_grad=True)
    y = conv_transpose2d(x, w, b, padding=1, output_padding=1, dilation=2)
    np.testing.assert_allclose(y.data, [[[[0.0625, 0.5, 0.375], [0.8125, 1, 1],
                                          [0.6875, 1, 1]],
                                         [[-0.1875, 0, 0.125], [0.0625, 0, 0.25],
                                          [0.4375, 0.5, 0.75]]]], rtol=1e-12)
    y = conv_transpose2d(x, w, b, stride=(1, 2), padding=(0, 1), output_padding=(1, 0),
                         dilation=(2, 1))
    np.testing.assert_allclose(y.data[0, 1], [[-0.25, -0.3125], [0, -0.1875], [0, 0.0625],
                                              [0.5, 0.4375], [-1, -1]], rtol=1e-12)
    gradcheck(lambda *t: conv_transpose2d(*t, stride=(1, 2), padding=(1, 0),
                                          output_padding=(1, 1), dilation=(2, 3)), (x, w, b))
    layer = mc.nn.ConvTranspose2d(2, 2, 2, dilation=2, output_padding=1)
    assert layer(mc.randn(1, 2, 3, 3)).shape == (1, 2, 6, 6)
    with pytest.raises(ValueError, match="smaller than either stride or dilation"):
        conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="col2im kernel needs output_padding"):
        K.conv_transpose2d_forward(x.data, w.data, None, 1, 0, 1, 1, 2)


@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose2d_large_output_padding_matches_torch(seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    s, d = [int(v) for v in rng.integers(1, 3, 2)], [int(v) for v in rng.integers(2, 4, 2)]
    op = [int(rng.integers(si, max(si, di))) if si < di else 0 for si, di in zip(s, d)]
    p, k = [int(v) for v in rng.integers(0, 3, 2)], [int(v) for v in rng.integers(1, 4, 2)]
    g = int(rng.choice([1, 2]))
    x = rng.standard_normal((2, 2 * g, int(rng.integers(2, 6)), int(rng.integers(2, 6))))
    w, b = rng.standard_normal((2 * g, 2, *k)), rng.standard_normal(2 * g)
    args = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    try:
        ty = torch.nn.functional.conv_transpose2d(*map(torch.tensor, (x, w, b)), **args)
    except RuntimeError:                          # an output size below 1: both refuse
        with pytest.raises(ValueError, match="too small"):
            conv_transpose2d(mc.tensor(x), mc.tensor(w), mc.tensor(b), **args)
        return
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ms = [mc.tensor(a, requires_grad=True) for a in (x, w, b)]
    ty = torch.nn.functional.conv_transpose2d(*ts, **args)
    my = conv_transpose2d(*ms, **args)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    gy = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(gy))
    my.backward(mc.tensor(gy))
    for m, t in zip(ms, ts):
        np.testing.assert_allclose(m.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-10)
