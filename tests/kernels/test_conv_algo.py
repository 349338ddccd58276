"""conv_algo: every algorithm against the float64 reference and PyTorch, views, errors."""
import numpy as np
import pytest

from minicv.kernels import conv_algo as ca
from minicv.kernels import reference as ref

CONFIGS = [  # (N, C, H, W, K, kernel, stride, padding, dilation, groups)
    (2, 3, 9, 11, 4, (3, 3), 1, 1, 1, 1),
    (2, 4, 9, 8, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2),
    (1, 6, 7, 7, 6, (3, 3), 1, 1, 1, 6),        # depthwise
    (2, 4, 8, 9, 8, (3, 3), 2, 1, 2, 4),        # depthwise, channel multiplier 2
    (2, 5, 6, 7, 3, (1, 1), 1, 0, 1, 1),        # 1x1
    (1, 32, 10, 9, 32, (3, 3), 1, 1, 1, 1),     # winograd-eligible
    (2, 3, 12, 12, 5, (5, 5), 3, 2, 1, 1),
    (1, 2, 5, 5, 2, (5, 5), 1, 0, 1, 1),        # kernel == input
    (3, 5, 11, 10, 6, (3, 3), 2, 1, 1, 1),      # 3x3 stride 2: the phase kernel
]


def _data(cfg, dtype, seed=0):
    n, c, h, w, k, ks, s, p, d, g = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((k, c // g) + ks).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    return x, wt, b, (s, p, d, g)


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("algo", ["auto", "im2col", "winograd", "direct", "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_matches_reference(cfg, algo, dtype):
    x, w, b, args = _data(cfg, dtype)
    exact = ref.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), *args)
    y = ca.conv2d_forward(x, w, b, *args, algo=algo)
    assert y.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(y, exact, rtol=tol, atol=tol * np.abs(exact).max())
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    gx_r, gw_r, gb_r = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64), gy,
                                           *args)
    gx, gw, gb = ca.conv2d_backward(x, w, gy, *args, algo=algo)
    for got, want in ((gx, gx_r), (gw, gw_r), (gb, gb_r)):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    gx, gw, gb = ca.conv2d_backward(x, w, gy, *args, algo=algo, needs=(False, True, False))
    assert gx is None and gb is None and gw is not None


@pytest.mark.parametrize("kind", ["flipped", "transposed", "sliced"])
@pytest.mark.parametrize("cfg", [CONFIGS[0], CONFIGS[2], CONFIGS[4], CONFIGS[5], CONFIGS[8]])
@pytest.mark.parametrize("algo", ["auto", "im2col", "winograd", "direct"])
def test_conv2d_views_equal_contiguous(cfg, kind, algo, views):
    x, w, b, args = _data(cfg, np.float32)
    y = ca.conv2d_forward(x, w, b, *args, algo=algo)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    want = ca.conv2d_backward(x, w, gy, *args, algo=algo)
    # equal up to float32 rounding: BLAS may sum a transposed operand in another order
    np.testing.assert_allclose(ca.conv2d_forward(views(x)[kind], views(w)[kind], b, *args,
                                                 algo=algo), y, rtol=1e-5, atol=1e-5)
    got = ca.conv2d_backward(views(x)[kind], views(w)[kind], views(gy)[kind], *args,
                             algo=algo)
    for g1, g2 in zip(got, want):
        np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-5 * np.abs(g2).max())


def test_chunked_equals_unchunked():
    x, w, b, args = _data((5, 3, 9, 9, 4, (3, 3), 1, 1, 1, 1), np.float64)
    y = ca.conv2d_forward(x, w, b, *args, algo="im2col")
    gy = np.ones_like(y)
    g = ca.conv2d_backward(x, w, gy, *args, algo="im2col")
    old = ca.set_im2col_budget(3 * 9 * 81 * 8 * 2)  # two samples a chunk
    try:
        assert ca.im2col_chunk_size(x.shape, w.shape, *args[:3], itemsize=8) == 2
        np.testing.assert_allclose(ca.conv2d_forward(x, w, b, *args, algo="im2col"), y)
        for a, b_ in zip(ca.conv2d_backward(x, w, gy, *args, algo="im2col"), g):
            np.testing.assert_allclose(a, b_)
    finally:
        ca.set_im2col_budget(old)


@pytest.mark.parametrize("h, w", [(3, 3), (5, 4), (8, 8), (11, 6), (16, 17)])
@pytest.mark.parametrize("p, d", [(0, 1), (1, 1), (2, 1), (2, 2), (3, 1), ((0, 2), (2, 1))])
@pytest.mark.parametrize("mult", [1, 3])
def test_depthwise3x3_edges(h, w, p, d, mult):
    """The one-pass 3x3 stride-1 depthwise kernels against the float64 reference: odd and
    tiny planes, padding 0-3 (also unequal), dilation, channel multiplier, and the
    backward with only one of gx / gw asked for."""
    rng = np.random.default_rng(h * 100 + w)
    x = rng.standard_normal((2, 3, h, w))
    wt = rng.standard_normal((3 * mult, 1, 3, 3))
    b = rng.standard_normal(3 * mult)
    args = (1, p, d, 3)
    try:
        exact = ref.conv2d(x, wt, b, *args)
    except ValueError:
        pytest.skip("kernel larger than the padded input")
    assert ca.conv_plan(x.shape, wt.shape, *args) == "depthwise"
    np.testing.assert_allclose(ca.conv2d_forward(x, wt, b, *args), exact, rtol=1e-12,
                               atol=1e-12)
    gy = rng.standard_normal(exact.shape)
    want = ref.conv2d_backward(x, wt, gy, *args)
    for got, exp in zip(ca.conv2d_backward(x, wt, gy, *args), want):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.abs(exp).max())
    gx, gw, _ = ca.conv2d_backward(x, wt, gy, *args, needs=(False, True, False))
    assert gx is None
    np.testing.assert_allclose(gw, want[1], rtol=1e-12, atol=1e-12 * np.abs(want[1]).max())
    gx, gw, _ = ca.conv2d_backward(x, wt, gy, *args, needs=(True, False, False))
    assert gw is None
    np.testing.assert_allclose(gx, want[0], rtol=1e-12, atol=1e-12 * np.abs(want[0]).max())


@pytest.mark.parametrize("h, w", [(3, 3), (3, 7), (5, 4), (8, 8), (11, 6), (17, 20)])
@pytest.mark.parametrize("p", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_direct3x3_edges(h, w, p, k):
    """The direct kernel against the float64 reference: tiny and odd planes, every padding
    it serves, K a multiple of its 4-channel block or not, fwd, gx, gw, gb, bias."""
    rng = np.random.default_rng(h * 100 + w * 10 + p + k)
    x = rng.standard_normal((3, 5, h, w))
    wt = rng.standard_normal((k, 5, 3, 3))
    b = rng.standard_normal(k)
    args = (1, p, 1, 1)
    assert ca.conv_plan(x.shape, wt.shape, 1, p, algo="direct") == "direct3x3"
    y = ca.conv2d_forward(x, wt, b, *args, algo="direct")
    np.testing.assert_allclose(y, ref.conv2d(x, wt, b, *args), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    want = ref.conv2d_backward(x, wt, gy, *args)
    for got, exp in zip(ca.conv2d_backward(x, wt, gy, *args, algo="direct"), want):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.abs(exp).max())
    # float32 too (the path "auto" takes), deterministic: two runs agree bit for bit
    x32, w32, gy32 = x.astype(np.float32), wt.astype(np.float32), gy.astype(np.float32)
    g1 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    g2 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    for got, again, exp in zip(g1, g2, want):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, again)
        np.testing.assert_allclose(got, exp, rtol=2e-5, atol=2e-5 * np.abs(exp).max())


@pytest.mark.parametrize("h, w", [(3, 3), (4, 7), (8, 8), (9, 6), (16, 17)])
@pytest.mark.parametrize("p", [0, 1, 2, (1, 0)])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_direct3x3_stride2_edges(h, w, p, k):
    """The stride-2 phase kernel against the float64 reference: odd and even planes (the
    phases differ in size), every padding, K a multiple of 4 or not; gx by im2col."""
    rng = np.random.default_rng(h * 100 + w * 10 + k)
    x = rng.standard_normal((3, 5, h, w))
    wt = rng.standard_normal((k, 5, 3, 3))
    b = rng.standard_normal(k)
    args = (2, p, 1, 1)
    assert ca.conv_plan(x.shape, wt.shape, *args, algo="direct") == "direct3x3s2"
    assert ca.conv_plan(x.shape, wt.shape, *args) == "direct3x3s2"   # C <= 32: auto too
    y = ca.conv2d_forward(x, wt, b, *args, algo="direct")
    np.testing.assert_allclose(y, ref.conv2d(x, wt, b, *args), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    want = ref.conv2d_backward(x, wt, gy, *args)
    for got, exp in zip(ca.conv2d_backward(x, wt, gy, *args, algo="direct"), want):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.abs(exp).max())
    x32, w32, gy32 = x.astype(np.float32), wt.astype(np.float32), gy.astype(np.float32)
    g1 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    g2 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    for a, c in zip(g1, g2):
        assert np.array_equal(a, c)                                 # deterministic


@pytest.mark.parametrize("h, w", [(5, 5), (5, 9), (8, 6), (14, 14), (17, 20)])
@pytest.mark.parametrize("kh, p", [(5, 0), (5, 2), (5, 4), (3, (1, 3)), (1, (0, 2))])
@pytest.mark.parametrize("c, k", [(1, 6), (3, 1), (6, 16), (4, 7)])
def test_direct5_edges(h, w, kh, p, c, k):
    """The 5-wide direct kernel (kh x 5, stride 1) against the float64 reference: odd
    planes, every padding it serves, K not a multiple of its 4-channel block or odd (the
    weight gradient pairs channels), fwd, gx, gw, gb, bias; float32 deterministic."""
    rng = np.random.default_rng(h * 100 + w * 10 + kh + c * 7 + k)
    x = rng.standard_normal((3, c, h, w))
    wt = rng.standard_normal((k, c, kh, 5))
    b = rng.standard_normal(k)
    args = (1, p, 1, 1)
    assert ca.conv_plan(x.shape, wt.shape, 1, p, algo="direct") == "direct5"
    y = ca.conv2d_forward(x, wt, b, *args, algo="direct")
    np.testing.assert_allclose(y, ref.conv2d(x, wt, b, *args), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    want = ref.conv2d_backward(x, wt, gy, *args)
    for got, exp in zip(ca.conv2d_backward(x, wt, gy, *args, algo="direct"), want):
        assert got.shape == exp.shape
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.abs(exp).max())
    gx, gw, gb = ca.conv2d_backward(x, wt, gy, *args, algo="direct", needs=(False, True,
                                                                             False))
    assert gx is None and gb is None
    np.testing.assert_allclose(gw, want[1], rtol=1e-12, atol=1e-12 * np.abs(want[1]).max())
    x32, w32, gy32 = x.astype(np.float32), wt.astype(np.float32), gy.astype(np.float32)
    g1 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    g2 = ca.conv2d_backward(x32, w32, gy32, *args, algo="direct")
    for got, again, exp in zip(g1, g2, want):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, again)
        np.testing.assert_allclose(got, exp, rtol=2e-5, atol=2e-5 * np.abs(exp).max())


def test_direct_falls_back_where_it_does_not_apply():
    # 5-wide kernels: direct5 only for stride 1, dilation 1, groups 1, padding <= (kh-1, 4)
    assert ca.conv_plan((2, 4, 12, 12), (8, 4, 5, 5), 1, 2, algo="direct") == "direct5"
    for w_shape, s, p, d, g in [((8, 4, 5, 5), 2, 2, 1, 1), ((8, 4, 5, 5), 1, 2, 2, 1),
                                ((8, 2, 5, 5), 1, 2, 1, 2), ((8, 4, 3, 5), 1, (3, 0), 1, 1),
                                ((8, 4, 5, 5), 1, (0, 5), 1, 1)]:
        assert ca.conv_plan((2, 4, 12, 12), w_shape, s, p, d, g, algo="direct") == "im2col"
    for w_shape, s, p, d, g in [((8, 4, 5, 4), 1, 2, 1, 1), ((8, 4, 3, 3), 3, 1, 1, 1),
                                ((8, 4, 3, 3), 1, 1, 2, 1), ((8, 2, 3, 3), 1, 1, 1, 2),
                                ((8, 4, 3, 3), 1, 3, 1, 1), ((8, 4, 3, 3), (2, 1), 1, 1, 1),
                                ((8, 4, 3, 3), 2, 1, 2, 1), ((8, 2, 3, 3), 2, 1, 1, 2)]:
        assert ca.conv_plan((2, 4, 12, 12), w_shape, s, p, d, g, algo="direct") == "im2col"
    # 3x3 stride 2: the phase kernel (any padding), auto up to 32 input channels
    assert ca.conv_plan((2, 4, 12, 12), (8, 4, 3, 3), 2, 1, algo="direct") == "direct3x3s2"
    assert ca.conv_plan((2, 64, 12, 12), (8, 64, 3, 3), 2, 1) == "im2col"


def test_plan_is_inspectable():
    # few channels, rows >= 16 wide: the direct kernel; few channels on 8x8: im2col;
    # C, K >= 32 on 8x8 or more (float32): Winograd F(2x2)
    assert ca.conv_plan((8, 3, 32, 32), (16, 3, 3, 3), 1, 1) == "direct3x3"
    assert ca.conv_plan((8, 32, 16, 16), (32, 32, 3, 3), 1, 1) == "direct3x3"
    assert ca.conv_plan((8, 16, 8, 8), (16, 16, 3, 3), 1, 1) == "im2col"
    assert ca.conv_plan((8, 64, 32, 32), (64, 64, 3, 3), 1, 1) == "winograd-f2"
    assert ca.conv_plan((8, 32, 8, 8), (64, 32, 3, 3), 1, 1) == "winograd-f2"
    assert ca.conv_plan((8, 64, 6, 6), (64, 64, 3, 3), 1, 1) == "im2col"
    assert ca.conv_plan((8, 64, 32, 32), (64, 64, 3, 3), 1, 1, 1, 1, np.float64) == "im2col"
    # LeNet-5's 5x5 layers (few channels): the 5-wide direct kernel; many channels: im2col
    assert ca.conv_plan((64, 1, 28, 28), (6, 1, 5, 5), 1, 2) == "direct5"
    assert ca.conv_plan((64, 6, 14, 14), (16, 6, 5, 5), 1, 0) == "direct5"
    assert ca.conv_plan((8, 64, 16, 16), (64, 64, 5, 5), 1, 2) == "im2col"
    assert ca.conv_plan((8, 64, 16, 16), (64, 64, 3, 3), 1, 1, algo="im2col") == "im2col"
    assert ca.conv_plan((8, 64, 16, 16), (64, 64, 3, 3), 1, 1, algo="winograd") == "winograd-f2"
    assert ca.conv_plan((8, 64, 16, 16), (128, 64, 1, 1), 1, 0) == "gemm1x1"
    assert ca.conv_plan((8, 64, 16, 16), (64, 1, 3, 3), 1, 1, 1, 64) == "depthwise"
    assert ca.conv_plan((8, 64, 16, 16), (64, 64, 3, 3), 2, 1) == "im2col"
    assert ca.conv_plan((8, 64, 16, 16), (64, 64, 3, 3), 1, 1, algo="reference") == "reference"
    with pytest.raises(ValueError, match="algo"):
        ca.conv_plan((8, 64, 16, 16), (64, 64, 3, 3), algo="fft")


# ----------------------------------------------------------------- bad inputs

def test_channel_mismatch_message():
    x = np.zeros((1, 1, 256, 256), np.float32)
    w = np.zeros((64, 3, 3, 3), np.float32)
    with pytest.raises(ValueError) as e:
        ca.conv2d_forward(x, w)
    assert str(e.value) == ("Given groups=1, weight of size [64, 3, 3, 3], expected "
                            "input[1, 1, 256, 256] to have 3 channels, but got 1 channels "
                            "instead")


def test_nhwc_hint():
    with pytest.raises(ValueError, match="NHWC"):
        ca.conv2d_forward(np.zeros((1, 32, 32, 3), np.float32), np.zeros((8, 3, 3, 3), np.float32))


@pytest.mark.parametrize("x_shape, w_shape, kw, match", [
    ((1, 3, 4, 4), (8, 3, 7, 7), {}, "can't be greater than the padded input"),
    ((1, 3, 4, 4), (8, 3, 3, 3), {"dilation": 3}, "can't be greater"),
    ((1, 6, 8, 8), (8, 2, 3, 3), {"groups": 4}, "divisible by groups"),
    ((1, 6, 8, 8), (9, 3, 3, 3), {"groups": 2}, "out_channels"),
    ((3, 8, 8), (8, 3, 3, 3), {}, "4-D input"),
    ((1, 3, 8, 8), (8, 3, 3), {}, "4-D weight"),
    ((1, 3, 8, 8), (8, 3, 3, 3), {"stride": 0}, "stride"),
    ((1, 3, 8, 8), (8, 3, 3, 3), {"padding": -1}, "padding"),
])
def test_bad_conv_inputs(x_shape, w_shape, kw, match):
    with pytest.raises(ValueError, match=match):
        ca.conv2d_forward(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kw)


def test_bad_dtype_and_bias():
    with pytest.raises(TypeError, match="astype"):
        ca.conv2d_forward(np.zeros((1, 3, 8, 8), np.uint8), np.zeros((4, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="bias"):
        ca.conv2d_forward(np.zeros((1, 3, 8, 8), np.float32),
                          np.zeros((4, 3, 3, 3), np.float32), np.zeros(5, np.float32))


# ----------------------------------------------------------------- transposed, 1-d, 3-d

def test_conv_transpose_is_adjoint_of_conv(rng):
    # <conv(x, w), y> == <x, conv_transpose(y, w)> for every (s, p, d, g)
    for s, p, d, g in [(1, 0, 1, 1), (2, 1, 1, 1), (2, 1, 2, 2), (3, 2, 1, 1)]:
        x = rng.standard_normal((2, 4, 11, 10))
        w = rng.standard_normal((6, 4 // g, 3, 3))
        y = ca.conv2d_forward(x, w, None, s, p, d, g)
        r = rng.standard_normal(y.shape)
        op = tuple((x.shape[2 + a] + 2 * p - d * 2 - 1) % s for a in range(2))
        xt = ca.conv_transpose2d_forward(r, w, None, s, p, op, g, d)
        assert xt.shape == x.shape
        assert np.isclose(np.sum(y * r), np.sum(x * xt), rtol=1e-10)


def test_conv1d_matches_conv2d(rng):
    x = rng.standard_normal((2, 4, 17))
    w = rng.standard_normal((6, 2, 3))
    y = ca.conv1d_forward(x, w, None, 2, 1, 2, 2)
    y2 = ref.conv2d(x[:, :, None], w[:, :, None], None, (1, 2), (0, 1), (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(y, y2, rtol=1e-12)
    gx, gw, gb = ca.conv1d_backward(x, w, np.ones_like(y), 2, 1, 2, 2)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (6,)


def test_conv1d_rejects_4d():
    with pytest.raises(ValueError, match="3-D input"):
        ca.conv1d_forward(np.zeros((1, 2, 3, 4)), np.zeros((2, 2, 3)))


def test_conv3d_adjoint(rng):
    x = rng.standard_normal((2, 4, 5, 6, 7))
    w = rng.standard_normal((6, 2, 3, 2, 3))
    args = ((1, 2, 1), (1, 0, 1), (1, 1, 2), 2)
    y = ca.conv3d_forward(x, w, None, *args)
    r = rng.standard_normal(y.shape)
    gx, gw, gb = ca.conv3d_backward(x, w, r, *args)
    assert np.isclose(np.sum(y * r), np.sum(x * gx))
    assert np.isclose(np.sum(y * r), np.sum(w * gw))


def test_side_by_side_gradients_propagate_errors_and_recover(monkeypatch):
    # dX and dW run on two Python threads at once (the path without Numba's native
    # team): an error in either reaches the caller, and the next call (serial flags and
    # the pool intact) still matches the reference
    monkeypatch.setattr(ca, "_native", lambda workers: False)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 16, 16, 16)).astype(np.float32)   # ~19 MFLOP a job
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((16, 16, 16, 16)).astype(np.float32)

    def boom(*args):
        raise RuntimeError("weight-gradient kernel failed")

    for target in ("conv3x3_weight_grad", "conv3x3_forward"):   # dW here, dX on the pool
        with monkeypatch.context() as m:
            m.setattr(ca._direct, target, boom)
            with pytest.raises(RuntimeError, match="kernel failed"):
                ca.conv2d_backward(x, w, gy, 1, 1, algo="direct")
    assert not getattr(ca._tls, "serial", False)
    gx, gw, _ = ca.conv2d_backward(x, w, gy, 1, 1, algo="direct")
    gx_r, gw_r, _ = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64),
                                        gy.astype(np.float64), 1, 1)
    np.testing.assert_allclose(gx, gx_r, rtol=1e-4, atol=1e-4 * np.abs(gx_r).max())
    np.testing.assert_allclose(gw, gw_r, rtol=1e-4, atol=1e-4 * np.abs(gw_r).max())
