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
def test_input_and_output_transforms_match_reference(m):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2 * m + 2, 3 * m + 2)).astype(np.float32)
    np.testing.assert_allclose(cpu.input_transform(x, m), ref.winograd_input_transform(x, m),
                               rtol=1e-5, atol=1e-5)
    mt = rng.standard_normal(((m + 2) ** 2, 4, 2 * 2 * 3)).astype(np.float32)
    np.testing.assert_allclose(cpu.output_transform(mt, m, 2, 2 * m - 1, 3 * m - 1),
                               ref.winograd_output_transform(mt, m, 2, 2 * m - 1, 3 * m - 1),
                               rtol=1e-5, atol=1e-4)


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
