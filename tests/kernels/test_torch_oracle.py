"""PyTorch as an independent oracle (skipped when torch is not installed)."""
import numpy as np
import pytest

from minicv.kernels import conv_algo as ca

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(a):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64, requires_grad=True)


def _close(got, want, tol=1e-4):
    want = want.detach().numpy() if hasattr(want, "detach") else want
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


def _random_conv_configs(count, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        g = int(rng.choice([1, 1, 2, 3]))
        c, k = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
        ks = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        d = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        p = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        h = int(rng.integers(max(1, d[0] * (ks[0] - 1) + 1 - 2 * p[0]), 12))
        w = int(rng.integers(max(1, d[1] * (ks[1] - 1) + 1 - 2 * p[1]), 12))
        out.append(((int(rng.integers(1, 3)), c, h, w), (k, c // g) + ks, s, p, d, g))
    out.append(((2, 32, 9, 10), (32, 32, 3, 3), (1, 1), (1, 1), (1, 1), 1))  # winograd
    out.append(((2, 8, 9, 10), (16, 1, 3, 3), (2, 2), (1, 1), (1, 1), 8))  # depthwise
    out.append(((2, 8, 5, 6), (4, 8, 1, 1), (1, 1), (0, 0), (1, 1), 1))  # 1x1
    return out


@pytest.mark.parametrize("algo", ["auto", "im2col", "winograd", "direct"])
@pytest.mark.parametrize("cfg", _random_conv_configs(25))
def test_conv2d_vs_torch(cfg, algo):
    xs, ws, s, p, d, g = cfg
    rng = np.random.default_rng(7)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    xt, wt, bt = _t(x), _t(w), _t(b)
    yt = F.conv2d(xt, wt, bt, s, p, d, g)
    gy = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(gy, dtype=torch.float64))
    # a flipped view of x: non-contiguous input must not matter
    xv = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    _close(ca.conv2d_forward(xv, w, b, s, p, d, g, algo=algo), yt)
    gx, gw, gb = ca.conv2d_backward(xv, w, gy, s, p, d, g, algo=algo)
    _close(gx, xt.grad)
    _close(gw, wt.grad)
    _close(gb, bt.grad)


@pytest.mark.parametrize("cfg", _random_conv_configs(15, seed=1)[:15])
def test_conv_transpose2d_vs_torch(cfg):
    xs, ws, s, p, d, g = cfg
    rng = np.random.default_rng(3)
    cin, coutg = ws[1] * g, ws[0] // g  # reuse the shapes: weight (Cin, Cout/G, kh, kw)
    x = rng.standard_normal((xs[0], cin, xs[2], xs[3]))
    w = rng.standard_normal((cin, coutg) + ws[2:])
    b = rng.standard_normal(coutg * g)
    op = (int(rng.integers(0, s[0])), int(rng.integers(0, s[1])))
    p = (min(p[0], (xs[2] - 1) * s[0] // 2), min(p[1], (xs[3] - 1) * s[1] // 2))
    xt, wt, bt = _t(x), _t(w), _t(b)
    try:
        yt = F.conv_transpose2d(xt, wt, bt, s, p, op, g, d)
    except RuntimeError:
        pytest.skip("torch rejects this configuration")
    gy = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    _close(ca.conv_transpose2d_forward(x, w, b, s, p, op, g, d), yt, 1e-10)
    gx, gw, gb = ca.conv_transpose2d_backward(x, w, gy, s, p, op, g, d)
    _close(gx, xt.grad, 1e-10)
    _close(gw, wt.grad, 1e-10)
    _close(gb, bt.grad, 1e-10)


def test_conv1d_conv3d_vs_torch():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 13)), rng.standard_normal((6, 2, 3)), \
        rng.standard_normal(6)
    xt, wt, bt = _t(x), _t(w), _t(b)
    yt = F.conv1d(xt, wt, bt, 2, 1, 2, 2)
    yt.backward(torch.ones_like(yt))
    _close(ca.conv1d_forward(x, w, b, 2, 1, 2, 2), yt, 1e-10)
    gx, gw, gb = ca.conv1d_backward(x, w, np.ones(tuple(yt.shape)), 2, 1, 2, 2)
    _close(gx, xt.grad, 1e-10)
    _close(gw, wt.grad, 1e-10)
    x, w = rng.standard_normal((2, 4, 5, 6, 7)), rng.standard_normal((6, 2, 3, 2, 3))
    xt, wt = _t(x), _t(w)
    yt = F.conv3d(xt, wt, None, (1, 2, 1), (1, 0, 1), (1, 1, 2), 2)
    gy = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    _close(ca.conv3d_forward(x, w, None, (1, 2, 1), (1, 0, 1), (1, 1, 2), 2), yt, 1e-10)
    gx, gw, _ = ca.conv3d_backward(x, w, gy, (1, 2, 1), (1, 0, 1), (1, 1, 2), 2)
    _close(gx, xt.grad, 1e-10)
    _close(gw, wt.grad, 1e-10)


POOL_CONFIGS = [  # (H, W, kernel, stride, padding, dilation, ceil_mode)
    (7, 7, 2, 2, 0, 1, False), (7, 7, 2, 2, 0, 1, True), (7, 7, 3, 1, 1, 1, False),
    (7, 7, 3, 1, 1, 1, True), (8, 9, (3, 2), (2, 1), (1, 1), (2, 1), True),
    (10, 6, 3, 2, 1, 1, True), (5, 5, 3, 3, 1, 1, True), (6, 7, 1, 2, 0, 1, False),
]


@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_max_pool2d_vs_torch(cfg):
    h, w, k, s, p, d, ceil = cfg
    x = np.random.default_rng(0).integers(-3, 4, (2, 3, h, w)).astype(np.float64)
    xt = _t(x)
    yt, it = F.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    gy = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    y, idx = ca.max_pool2d_forward(x, k, s, p, d, ceil)
    _close(y, yt, 0)
    np.testing.assert_array_equal(idx, it.numpy())  # same tie-break: the first maximum
    _close(ca.max_pool2d_backward(gy, idx, x.shape), xt.grad, 1e-12)


@pytest.mark.parametrize("cfg", POOL_CONFIGS)
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("div", [None, 2])
def test_avg_pool2d_vs_torch(cfg, cip, div):
    h, w, k, s, p, _, ceil = cfg
    x = np.random.default_rng(0).standard_normal((2, 3, h, w))
    xt = _t(x)
    yt = F.avg_pool2d(xt, k, s, p, ceil, cip, div)
    gy = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    _close(ca.avg_pool2d_forward(x, k, s, p, ceil, cip, div), yt, 1e-12)
    _close(ca.avg_pool2d_backward(gy, x.shape, k, s, p, ceil, cip, div), xt.grad, 1e-12)


def test_pool1d_3d_vs_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 13))
    yt, it = F.max_pool1d(_t(x), 3, 2, 1, 1, True, return_indices=True)
    y, idx = ca.max_pool1d_forward(x, 3, 2, 1, 1, True)
    _close(y, yt, 0)
    np.testing.assert_array_equal(idx, it.numpy())
    _close(ca.avg_pool1d_forward(x, 3, 2, 1, True, False),
           F.avg_pool1d(_t(x), 3, 2, 1, True, False), 1e-12)
    x3 = np.random.default_rng(0).standard_normal((1, 2, 5, 6, 7))
    yt, it = F.max_pool3d(_t(x3), 3, 2, 1, 1, True, return_indices=True)
    y, idx = ca.max_pool3d_forward(x3, 3, 2, 1, 1, True)
    _close(y, yt, 0)
    np.testing.assert_array_equal(idx, it.numpy())


@pytest.mark.parametrize("out", [(1, 1), (3, 4), (7, 10), (4, 3), (5, 7)])
def test_adaptive_pools_vs_torch(out):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 10))
    xt = _t(x)
    yt = F.adaptive_avg_pool2d(xt, out)
    gy = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    _close(ca.adaptive_avg_pool2d_forward(x, out), yt, 1e-12)
    _close(ca.adaptive_avg_pool2d_backward(gy, x.shape), xt.grad, 1e-12)
    xt = _t(x)
    yt, it = F.adaptive_max_pool2d(xt, out, return_indices=True)
    yt.backward(torch.tensor(gy))
    y, idx = ca.adaptive_max_pool2d_forward(x, out)
    _close(y, yt, 0)
    np.testing.assert_array_equal(idx, it.numpy())
    _close(ca.adaptive_max_pool2d_backward(gy, idx, x.shape), xt.grad, 1e-12)


@pytest.mark.parametrize("size", [(14, 16), (5, 3), (7, 8), (1, 1), (21, 17), (13, 5)])
@pytest.mark.parametrize("mode, align", [("nearest", None), ("nearest-exact", None),
                                         ("bilinear", False), ("bilinear", True),
                                         ("bicubic", False), ("bicubic", True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_vs_torch(size, mode, align, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.interpolate(xt, size=size, mode=mode, align_corners=align)
    gy = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(gy))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    _close(ca.interpolate_forward(x, size, mode, align), yt, tol)
    _close(ca.interpolate_backward(gy, x.shape, mode, align), xt.grad, tol)


@pytest.mark.parametrize("sf", [2.0, 0.5, 1.7, 3.0])
@pytest.mark.parametrize("mode, align", [("nearest", None), ("nearest-exact", None),
                                         ("bilinear", False), ("bicubic", False)])
def test_interpolate_scale_factor_vs_torch(sf, mode, align):
    x = np.random.default_rng(0).standard_normal((1, 2, 7, 9)).astype(np.float32)
    yt = F.interpolate(torch.tensor(x), scale_factor=sf, mode=mode, align_corners=align)
    size = tuple(yt.shape[2:])
    _close(ca.interpolate_forward(x, size, mode, align, scale_factor=sf), yt, 1e-5)


@pytest.mark.parametrize("k, d, p, s", [(3, 1, 1, 1), ((2, 3), (2, 1), (1, 0), (2, 3)),
                                        (1, 1, 0, 2), (4, 1, 2, 3)])
def test_unfold_fold_vs_torch(k, d, p, s):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    xt = _t(x)
    ct = F.unfold(xt, k, d, p, s)
    gy = np.random.default_rng(1).standard_normal(tuple(ct.shape))
    ct.backward(torch.tensor(gy))
    _close(ca.unfold(x, k, d, p, s), ct, 1e-12)
    _close(ca.unfold_backward(gy, x.shape, k, d, p, s), xt.grad, 1e-12)
    gt = _t(gy)
    ft = F.fold(gt, (9, 8), k, d, p, s)
    ft.backward(torch.tensor(x))
    _close(ca.fold(gy, (9, 8), k, d, p, s), ft, 1e-12)
    _close(ca.fold_backward(x, k, d, p, s), gt.grad, 1e-12)
