"""Winograd F(2x2,3x3) and F(4x4,3x3): exact tiling on every size, and measured error."""
import numpy as np
import pytest

from minicv.kernels import conv_algo
from minicv.kernels import reference as ref
from minicv.kernels.cpu import winograd as cpu

# Max abs error vs a float64 direct convolution, as a multiple of the float32 im2col error,
# N(0, 1) data.  The target (pitfalls.md) is 2x for F(2x2) and 8x for F(4x4).  F(2x2)
# meets it (measured 0.4-1.3x).  F(4x4) with the paper's points 0, +-1, +-2 measured
# 7.5x (C=16), 15x (C=64), 18x (C=256): above the 8x target, so "auto" never uses it
# (test_auto_never_picks_f4 below) and this test only bounds what we measured.
ERROR_BOUND = {2: 2.0, 4: 25.0}
TARGET = {2: 2.0, 4: 8.0}


def _winograd_cpu(x, w, p, m):
    """Numba transforms + the alpha^2 GEMMs, assembled as conv_algo does."""
    return conv_algo._winograd_forward(x, w, None, (p, p), m)


def test_matrices_are_exact_in_float64():
    # Y = AT[(G g GT) * (BT d B)]A must equal the direct correlation of d with g
    rng = np.random.default_rng(0)
    for m, (bt, g_mat, at) in ref.WINOGRAD_MATRICES.items():
        a = m + 2
        d = rng.standard_normal((a, a))
        g = rng.standard_normal((3, 3))
        y = at @ ((g_mat @ g @ g_mat.T) * (bt @ d @ bt.T)) @ at.T
        direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(m)]
                           for i in range(m)])
        np.testing.assert_allclose(y, direct, rtol=0, atol=1e-13)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("p", [0, 1])
def test_every_size_3_to_20(m, p):
    rng = np.random.default_rng(m * 10 + p)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    tol = 1e-5 if m == 2 else 1e-4
    for h in range(3, 21):
        for wd in range(3, 21):
            x = rng.standard_normal((1, 2, h, wd)).astype(np.float32)
            exact = ref.conv2d(x.astype(np.float64), w.astype(np.float64), None, 1, p)
            scale = np.abs(exact).max()
            for y in (ref.winograd_conv2d(x, w, None, p, m), _winograd_cpu(x, w, p, m)):
                assert y.shape == exact.shape, (h, wd)
                err = np.abs(y - exact).max()
                assert err <= tol * scale, (m, p, h, wd, err, scale)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("shape,pad", [((2, 3, 6, 8), (0, 0)), ((3, 11, 7, 5), (1, 1)),
                                       ((1, 17, 9, 12), (2, 0))])
def test_input_and_output_transforms_match_reference(m, shape, pad):
    # channels-last layouts: V (alpha^2, P, C) and M (alpha^2, P, K) are the reference's
    # (alpha^2, C, P) and (alpha^2, K, P) transposed; channel counts over 8 cross the
    # 8-channel blocks of the NCHW <-> channels-last copies
    rng = np.random.default_rng(3)
    n, c, h, wd = shape
    x = rng.standard_normal(shape).astype(np.float32)
    oh, ow, th, tw = cpu.winograd_tiles(h, wd, m, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], th * m + 2 - h - pad[0]),
                    (pad[1], tw * m + 2 - wd - pad[1])))
    np.testing.assert_allclose(cpu.input_transform(x, m, pad).transpose(0, 2, 1),
                               ref.winograd_input_transform(xp, m), rtol=1e-5, atol=1e-5)
    k = c + 2
    mt = rng.standard_normal(((m + 2) ** 2, n * th * tw, k)).astype(np.float32)
    bias = rng.standard_normal(k).astype(np.float32)
    np.testing.assert_allclose(cpu.output_transform(mt, m, n, oh, ow, bias),
                               ref.winograd_output_transform(mt.transpose(0, 2, 1), m, n, oh, ow)
                               + bias.reshape(1, k, 1, 1), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("c", [16, 64, 256])
def test_error_ratio_vs_direct_fp32(c, capsys):
    rng = np.random.default_rng(c)
    x = rng.standard_normal((1, c, 26, 26)).astype(np.float32)
    w = rng.standard_normal((16, c, 3, 3)).astype(np.float32)
    exact = ref.conv2d(x.astype(np.float64), w.astype(np.float64), None, 1, 1)
    direct = conv_algo.conv2d_forward(x, w, None, 1, 1, algo="im2col")
    err_direct = np.abs(direct - exact).max()
    for m in (2, 4):
        err = np.abs(_winograd_cpu(x, w, 1, m) - exact).max()
        ratio = err / err_direct
        with capsys.disabled():
            print(f"\n  winograd F({m}x{m},3x3) C={c}: max err {err:.2e}, "
                  f"direct fp32 {err_direct:.2e}, ratio {ratio:.2f}")
        assert ratio <= ERROR_BOUND[m], (m, c, ratio)


def test_auto_never_picks_f4():
    # F(4x4) misses its 8x error target (see ERROR_BOUND): no layer may be planned on it
    for c, k, h in [(32, 32, 16), (64, 64, 8), (64, 64, 32), (128, 128, 8), (256, 256, 56)]:
        for algo in ("auto", "winograd"):
            plan = conv_algo.conv_plan((64, c, h, h), (k, c, 3, 3), 1, 1, 1, 1,
                                       np.float32, algo)
            assert plan in ("winograd-f2", "im2col", "direct3x3"), plan


def test_auto_never_uses_winograd_for_float64():
    assert conv_algo.conv_plan((8, 64, 32, 32), (64, 64, 3, 3), 1, 1, 1, 1,
                               np.float64) == "im2col"
    assert conv_algo.conv_plan((8, 64, 32, 32), (64, 64, 3, 3), 1, 1, 1, 1,
                               np.float64, algo="winograd") == "im2col"


def test_winograd_input_gradient(rng):
    x = rng.standard_normal((2, 8, 9, 10)).astype(np.float32)
    w = rng.standard_normal((5, 8, 3, 3)).astype(np.float32)
    for p in (0, 1, 2):
        y = ref.conv2d(x, w, None, 1, p)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        gx_ref, gw_ref, _ = ref.conv2d_backward(x.astype(np.float64), w, gy, 1, p)
        gx, gw, gb = conv_algo.conv2d_backward(x, w, gy, 1, p, algo="winograd")
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-4, atol=1e-4 * np.abs(gx_ref).max())
        np.testing.assert_allclose(gw, gw_ref, rtol=1e-4, atol=1e-4 * np.abs(gw_ref).max())


@pytest.mark.parametrize("m", [2, 4])
def test_adjoint_transforms_are_transposes(m):
    # <output_transform(M), dY> == <M, output_transform_adjoint(dY)>, and the same for
    # the filter transform: exact in float64, so the weight gradient is the true one
    rng = np.random.default_rng(m)
    for n, k, oh, ow in [(2, 3, 5, 7), (1, 11, 8, 8), (3, 9, 9, 4)]:
        th, tw = -(-oh // m), -(-ow // m)
        mt = rng.standard_normal(((m + 2) ** 2, n * th * tw, k))
        dy = rng.standard_normal((n, k, oh, ow))
        lhs = np.sum(cpu.output_transform(mt, m, n, oh, ow) * dy)
        assert np.isclose(lhs, np.sum(mt * cpu.output_transform_adjoint(dy, m)),
                          rtol=1e-12, atol=1e-12)
        du = rng.standard_normal(((m + 2) ** 2, 5, k))
        w = rng.standard_normal((k, 5, 3, 3))
        assert np.isclose(np.sum(cpu.filter_transform(w, m) * du),
                          np.sum(w * cpu.filter_transform_adjoint(du, m)), rtol=1e-12)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("p", [0, 1, 2])
def test_winograd_weight_gradient_every_size(m, p):
    # the Winograd-domain dW against float64 im2col, tiling edges included
    rng = np.random.default_rng(10 * m + p)
    tol = 1e-5 if m == 2 else 1e-4
    for h in range(3, 14, 2):
        for wd in range(3, 14, 3):
            x = rng.standard_normal((2, 3, h, wd)).astype(np.float32)
            w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
            gy = rng.standard_normal((2, 4, h + 2 * p - 2, wd + 2 * p - 2)).astype(np.float32)
            _, gw_ref, _ = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64),
                                               gy.astype(np.float64), 1, p)
            gw = conv_algo._winograd_weight_grad(x, gy, (p, p), m)
            assert gw.shape == w.shape and gw.dtype == np.float32
            err = np.abs(gw - gw_ref).max()
            assert err <= tol * np.abs(gw_ref).max(), (m, p, h, wd, err)


@pytest.mark.parametrize("m", [2, 4])
def test_chunks_and_threads_do_not_change_the_result(m, monkeypatch):
    # an odd batch split into uneven chunks of one or two images (spread over the
    # threads): forward, dX and dW equal the float64 reference, and two runs agree bit
    # for bit (the per-worker partial sums of dU are added in a fixed order)
    rng = np.random.default_rng(m)
    x = rng.standard_normal((7, 9, 9, 11)).astype(np.float32)
    w = rng.standard_normal((10, 9, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((7, 10, 9, 11)).astype(np.float32)
    monkeypatch.setattr(conv_algo, "WINOGRAD_CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_algo, "WINOGRAD_MIN_TILES", 1)
    tol = 1e-5 if m == 2 else 1e-4
    y = _winograd_cpu(x, w, 1, m)
    exact = ref.conv2d(x.astype(np.float64), w.astype(np.float64), None, 1, 1)
    assert np.abs(y - exact).max() <= tol * np.abs(exact).max()
    gx_r, gw_r, _ = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64),
                                        gy.astype(np.float64), 1, 1)
    gw = conv_algo._winograd_weight_grad(x, gy, (1, 1), m)
    assert np.abs(gw - gw_r).max() <= tol * np.abs(gw_r).max()
    assert np.array_equal(gw, conv_algo._winograd_weight_grad(x, gy, (1, 1), m))
    assert np.array_equal(y, _winograd_cpu(x, w, 1, m))
    if m == 2:  # dX: the forward of dY with the flipped filter, through conv2d_backward
        gx = conv_algo.conv2d_backward(x, w, gy, 1, 1, algo="winograd")[0]
        assert np.abs(gx - gx_r).max() <= tol * np.abs(gx_r).max()
