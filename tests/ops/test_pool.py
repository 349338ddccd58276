"""Pooling, interpolate, unfold/fold as ops: gradchecks, the tie rule, PyTorch parity."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.ops import pool as P
from minicv.ops.vision import fold, interpolate, unfold
from minicv.nn import functional as F
from minicv.testing import gradcheck, strategies as st


@given(x=st.tensors(shape=(2, 2, 7, 7), unique=True), k=hs.sampled_from([(2, 2), (3, 1)]),
       ceil=hs.booleans())
def test_max_pool_gradcheck_7x7(x, k, ceil):
    """pitfalls.md: 7x7 input with k=2, s=2 and k=3, s=1, both ceil modes."""
    gradcheck(lambda t: P.max_pool2d(t, k[0], k[1], ceil_mode=ceil), (x,))


@given(x=st.tensors(shape=(1, 2, 7, 6)), ceil=hs.booleans(), cip=hs.booleans())
def test_avg_pool_gradcheck(x, ceil, cip):
    gradcheck(lambda t: P.avg_pool2d(t, 3, 2, padding=1, ceil_mode=ceil,
                                     count_include_pad=cip), (x,))


@given(x=st.tensors(shape=(1, 2, 7, 5), unique=True))
def test_adaptive_gradcheck(x):
    gradcheck(lambda t: P.adaptive_avg_pool2d(t, (3, 2)), (x,))
    gradcheck(lambda t: P.adaptive_max_pool2d(t, (3, 2)), (x,))


def test_max_pool_tie_goes_to_first_maximum():
    x = mc.tensor([[[[1.0, 2.0], [2.0, 2.0]]]], requires_grad=True)
    y, idx = P.max_pool2d(x, 2, return_indices=True)
    assert idx.item() == 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])
    assert x.grad.data.sum() == 1.0


def test_1d_3d_and_unbatched():
    x1 = mc.randn(2, 3, 9, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: P.max_pool1d(t, 3, 2) + 0 * P.avg_pool1d(t, 3, 2), (x1,))
    x3 = mc.tensor(np.random.default_rng(0).permutation(96).reshape(1, 2, 4, 3, 4) * 0.1,
                   requires_grad=True)
    gradcheck(lambda t: P.max_pool3d(t, 2, padding=1), (x3,))
    assert P.max_pool2d(mc.randn(3, 8, 8), 2).shape == (3, 4, 4)


@given(x=st.tensors(shape=(1, 2, 5, 4)),
       mode=hs.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic"]),
       align=hs.booleans())
def test_interpolate_gradcheck(x, mode, align):
    ac = align if mode in ("bilinear", "bicubic") else None
    gradcheck(lambda t: interpolate(t, size=(7, 3), mode=mode, align_corners=ac), (x,))
    gradcheck(lambda t: interpolate(t, scale_factor=2, mode=mode, align_corners=ac), (x,))


def test_unfold_fold_gradcheck_and_adjoint():
    x = mc.randn(1, 2, 5, 6, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: unfold(t, 3, padding=1, stride=2), (x,))
    cols = mc.randn(1, 2 * 9, 9, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda c: fold(c, (5, 6), 3, padding=1, stride=(2, 2)), (cols,))
    # <unfold(x), c> == <x, fold(c)>: fold is unfold's adjoint
    lhs = (unfold(x, 3, padding=1, stride=2) * cols).sum().item()
    rhs = (x * fold(cols, (5, 6), 3, padding=1, stride=2)).sum().item()
    assert np.isclose(lhs, rhs)


@pytest.mark.parametrize("seed", range(8))
def test_pooling_matches_torch(seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, int(rng.integers(5, 12)), int(rng.integers(5, 12))))
    k, s = int(rng.integers(2, 4)), int(rng.integers(1, 3))
    p, ceil = int(rng.integers(0, k // 2 + 1)), bool(rng.integers(0, 2))
    cases = [
        (lambda m, t: P.max_pool2d(t, k, s, p, ceil_mode=ceil),
         lambda t: F.max_pool2d(t, k, s, p, ceil_mode=ceil)),
        (lambda m, t: P.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=False),
         lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=False)),
        (lambda m, t: P.avg_pool2d(t, k, s, p, ceil_mode=ceil),
         lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=ceil)),
        (lambda m, t: P.adaptive_avg_pool2d(t, (3, 4)),
         lambda t: F.adaptive_avg_pool2d(t, (3, 4))),
        (lambda m, t: P.adaptive_max_pool2d(t, 3), lambda t: F.adaptive_max_pool2d(t, 3)),
        (lambda m, t: interpolate(t, scale_factor=1.5, mode="bilinear", align_corners=False),
         lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear", align_corners=False)),
        (lambda m, t: interpolate(t, size=(4, 9), mode="bilinear", align_corners=True),
         lambda t: F.interpolate(t, size=(4, 9), mode="bilinear", align_corners=True)),
        (lambda m, t: interpolate(t, size=(13, 5)), lambda t: F.interpolate(t, size=(13, 5))),
        (lambda m, t: unfold(t, 3, padding=1, stride=s), lambda t: F.unfold(t, 3, padding=1,
                                                                             stride=s)),
    ]
    for mine, theirs in cases:
        mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        my, ty = mine(mc, mx), theirs(tx)
        np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(ty.shape)
        my.backward(mc.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_interpolate_ranks_and_modes():
    # 3-D input as one image row, 5-D as (H, W) slices then D: gradchecked; a mode of
    # another rank is refused naming the modes that fit
    x1 = mc.randn(1, 2, 5, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: interpolate(t, size=8, mode="linear", align_corners=True), (x1,))
    x3 = mc.randn(1, 1, 3, 4, 3, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: interpolate(t, scale_factor=(2, 0.5, 1.5), mode="trilinear"), (x3,))
    assert interpolate(x3, size=(2, 2, 2), mode="nearest").shape == (1, 1, 2, 2, 2)
    with pytest.raises(ValueError, match="for 3-D input use one of nearest"):
        interpolate(x1, size=8, mode="bilinear")
    with pytest.raises(ValueError, match="size must have 3 elements"):
        interpolate(x3, size=(2, 2), mode="trilinear")


def test_adaptive_max_pool_nan_rule_is_pytorchs():
    """A NaN wins over numbers and the index is the last NaN in scan order (PyTorch 2.13:
    value nan, index 3 here)."""
    x = mc.tensor([[[[1., np.nan, 2., np.nan], [0., 0., 0., 0.]]]])
    y, idx = F.adaptive_max_pool2d(x, (1, 1), return_indices=True)
    assert np.isnan(y.item()) and idx.item() == 3


def test_max_pool3d_all_minus_inf_window_reports_its_first_voxel():
    """Windows that hold only -inf (or padding) report their first in-bounds voxel, as
    PyTorch's kernel starts from it (indices from PyTorch 2.13)."""
    z = mc.full((1, 1, 2, 4, 4), float("-inf"))
    idx = F.max_pool3d(z, 2, 1, 1, return_indices=True)[1].numpy()[0, 0, 0]
    want = [[0, 0, 1, 2, 3], [0, 0, 1, 2, 3], [4, 4, 5, 6, 7], [8, 8, 9, 10, 11],
            [12, 12, 13, 14, 15]]
    np.testing.assert_array_equal(idx, want)


# ---------------------------------------------------------------- PyTorch-parity fixes
# Expected values below were computed with PyTorch 2.13 (CPU).

def _x2x5():
    return mc.tensor(np.arange(10.0).reshape(1, 1, 2, 5), requires_grad=True)


def test_interpolate_same_size_axis_shortcuts_match_pytorch():
    x = _x2x5()
    np.testing.assert_array_equal(interpolate(x, scale_factor=1.3).data[0, 0, 1],
                                  [5, 5, 6, 7, 8, 8])
    np.testing.assert_array_equal(interpolate(x, scale_factor=2.1).data[0, 0, 0],
                                  [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    y = interpolate(x, scale_factor=1.3, mode="bilinear")
    np.testing.assert_allclose(y.data[0, 0, 1, :3], [5.0, 5.6538461538, 6.4230769231],
                               rtol=1e-10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data[0, 0, 0], [1.3461538462, 1.2307692308,
                                                      1.2692307692, 1.4230769231,
                                                      0.7307692308], rtol=1e-9)
    line = mc.arange(3.0).reshape(1, 1, 3)
    np.testing.assert_array_equal(interpolate(line, scale_factor=1.2, mode="linear").data,
                                  [[[0, 1, 2]]])
    vol = mc.tensor(np.arange(20.0).reshape(1, 1, 2, 2, 5))
    np.testing.assert_allclose(interpolate(vol, scale_factor=1.3, mode="trilinear").data[
        0, 0, 1, 1, :2], [15.0, 15.6538461538], rtol=1e-10)


def test_interpolate_1d_3d_nearest_forward_has_no_shortcut():
    """PyTorch's 1-D and 3-D "nearest" forwards compute floor(dst / scale_factor) even
    for same-size axes (its 2-D one copies them); minicv follows each forward, and its
    gradients are the adjoints of those forwards."""
    x1 = mc.tensor([[[0.0, 1.0]]], requires_grad=True)
    y1 = interpolate(x1, scale_factor=1.3)
    np.testing.assert_array_equal(y1.data, [[[0, 0]]])
    y1.sum().backward()
    np.testing.assert_array_equal(x1.grad.data, [[[2, 0]]])    # PyTorch says [[[1, 1]]]
    np.testing.assert_array_equal(
        interpolate(mc.arange(5.0).reshape(1, 1, 5), scale_factor=2.1).data[0, 0],
        [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
    vol = mc.tensor(np.arange(20.0).reshape(1, 1, 2, 2, 5))
    y3 = interpolate(vol, scale_factor=1.3)
    np.testing.assert_array_equal(y3.data[0, 0, :, :, 0], [[0, 0], [0, 0]])
    np.testing.assert_array_equal(y3.data[0, 0, 1, 1], [0, 0, 1, 2, 3, 3])
    x3 = mc.randn(1, 2, 2, 3, 4, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: interpolate(t, scale_factor=(1.3, 2.1, 1.1)), (x3,))


def test_interpolate_area_is_adaptive_average_pooling():
    np.testing.assert_allclose(interpolate(mc.arange(5.0).reshape(1, 1, 5), size=3,
                                           mode="area").data, [[[0.5, 2.0, 3.5]]])
    np.testing.assert_allclose(interpolate(mc.arange(12.0).reshape(1, 1, 3, 4), size=(2, 3),
                                           mode="area").data,
                               [[[[2.5, 3.5, 4.5], [6.5, 7.5, 8.5]]]])
    np.testing.assert_allclose(interpolate(mc.arange(24.0).reshape(1, 1, 2, 3, 4),
                                           size=(1, 2, 3), mode="area").data,
                               [[[[[8.5, 9.5, 10.5], [12.5, 13.5, 14.5]]]]])
    x1 = mc.randn(2, 3, 7, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: interpolate(t, size=4, mode="area"), (x1,))
    x3 = mc.randn(1, 2, 3, 5, 4, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: interpolate(t, scale_factor=(0.7, 0.5, 1.5), mode="area"), (x3,))


def test_interpolate_argument_errors_match_pytorch():
    x = mc.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        interpolate(x, size=3, recompute_scale_factor=True)
    for mode in ("nearest", "nearest-exact", "area"):
        with pytest.raises(ValueError, match="align_corners option can only be set"):
            interpolate(x, size=3, mode=mode, align_corners=False)
    with pytest.raises(ValueError, match="must be positive"):
        interpolate(mc.randn(1, 1, 4), scale_factor=0.1)


def test_interpolate_area_to_size_zero_is_empty_as_pytorch():
    # PyTorch 2.13: interpolate(ones(1, 1, 1), scale_factor=0.5, mode="area") has shape
    # (1, 1, 0) (adaptive pooling to 0); nearest, linear, bilinear, bicubic and trilinear
    # raise "Input and output sizes should be greater than 0"; a negative size raises in
    # every mode. PyTorch's backward of the empty area output raises; minicv's gradient is 0.
    x = mc.ones(1, 1, 1, requires_grad=True)
    y = interpolate(x, scale_factor=0.5, mode="area")
    assert y.shape == (1, 1, 0)
    y.sum().backward()
    assert x.grad.tolist() == [[[0.0]]]
    assert interpolate(mc.ones(2, 3, 3, 3), size=(0, 2), mode="area").shape == (2, 3, 0, 2)
    for size in ((0, 2, 2), (2, 0, 2), (2, 2, 0)):
        assert interpolate(mc.ones(2, 3, 3, 3, 3), size=size, mode="area").shape == \
            (2, 3) + size
    for rank, mode in ((3, "nearest"), (3, "linear"), (4, "nearest-exact"), (4, "bilinear"),
                       (4, "bicubic"), (5, "trilinear")):
        with pytest.raises(ValueError, match=rf"must be positive for mode '{mode}'"):
            interpolate(mc.ones(*[1] * rank), scale_factor=0.5, mode=mode)
    with pytest.raises(ValueError, match=r"output size \[-1, 2\] must be >= 0"):
        interpolate(mc.ones(1, 1, 3, 3), size=(-1, 2), mode="area")


@pytest.mark.parametrize("seed", range(6))
def test_interpolate_scale_factor_matches_torch(seed):
    """Random sizes and scale factors near 1 and 2 (where the shortcuts apply) in every
    rank and mode; forwards must agree everywhere. Gradients agree except where PyTorch's
    backward is not the adjoint of its forward (1-D/3-D nearest, bicubic of an unchanged
    size), which are skipped."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    for nd, modes in ((1, ["nearest", "nearest-exact", "linear", "area"]),
                      (2, ["nearest", "nearest-exact", "bilinear", "bicubic", "area"]),
                      (3, ["nearest", "nearest-exact", "trilinear", "area"])):
        hw = [int(v) for v in rng.integers(1, 7, nd)]
        sf = [float(rng.choice([rng.uniform(1, 1 + 1 / n), rng.uniform(2, 2 + 2 / n),
                                rng.uniform(0.5, 3)])) for n in hw]
        if min(math.floor(n * f) for n, f in zip(hw, sf)) < 1:
            continue
        x = rng.standard_normal([2, 3] + hw)
        for mode in modes:
            mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            my = interpolate(mx, scale_factor=sf, mode=mode)
            ty = torch.nn.functional.interpolate(tx, scale_factor=sf, mode=mode)
            np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
            same = [math.floor(n * f) in (n, 2 * n) for n, f in zip(hw, sf)]
            if (mode == "nearest" and nd != 2 and any(same)) or mode == "bicubic":
                continue
            g = rng.standard_normal(ty.shape)
            my.backward(mc.tensor(g))
            ty.backward(torch.tensor(g))
            np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unbatched_pooling_with_indices_and_unfold_fold():
    x = mc.randn(2, 5, 6)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    yb, idxb = F.max_pool2d(x.unsqueeze(0), 2, return_indices=True)
    assert y.shape == idx.shape == (2, 2, 3)
    np.testing.assert_array_equal(idx.data, idxb.data[0])
    y, idx = F.adaptive_max_pool2d(x, 2, return_indices=True)
    assert y.shape == idx.shape == (2, 2, 2)
    cols = unfold(mc.randn(3, 6, 7), 2)
    assert cols.shape == (12, 30)
    assert fold(mc.randn(12, 12), (4, 5), 2).shape == (3, 4, 5)
    xu = mc.randn(3, 6, 7, dtype=mc.float64, requires_grad=True)
    gradcheck(lambda t: unfold(t, 2, stride=2), (xu,))
    np.testing.assert_array_equal(unfold(xu, 2).data, unfold(xu.unsqueeze(0), 2).data[0])


def test_max_pool3d_checks_match_the_2d_ones():
    with pytest.raises(ValueError, match="should be at most half of kernel size"):
        F.max_pool3d(mc.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        F.max_pool3d(mc.randn(1, 1, 2, 2, 2), 3)


def test_ceil_mode_window_may_overhang_the_input():
    """PyTorch checks only that each axis has an output: length 4, kernel 3, stride 2,
    dilation 2, ceil_mode has one window (taps 0, 2, 4; tap 4 outside) -> [[[2.]]]."""
    x = mc.arange(4.0).reshape(1, 1, 4).requires_grad_()
    y, idx = F.max_pool1d(x, 3, 2, dilation=2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y.data, [[[2.0]]])
    assert idx.item() == 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[0, 0, 1, 0]]])
    np.testing.assert_array_equal(F.max_pool3d(mc.arange(27.0).reshape(1, 1, 3, 3, 3), 2, 2,
                                               dilation=2, ceil_mode=True).data, [[[[[26.]]]]])
    with pytest.raises(ValueError, match="too small"):      # floor mode: no window
        F.max_pool1d(x, 3, 2, dilation=2)


def test_adaptive_pool_to_size_zero_is_empty():
    x = mc.randn(1, 2, 4, 4, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, 0)
    assert y.shape == (1, 2, 0, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((1, 2, 4, 4)))
    assert F.adaptive_avg_pool2d(mc.randn(2, 4, 4), (0, 3)).shape == (2, 0, 3)
    y, idx = F.adaptive_max_pool2d(x, (2, 0), return_indices=True)
    assert y.shape == idx.shape == (1, 2, 2, 0)
    with pytest.raises(ValueError, match=">= 0"):
        F.adaptive_avg_pool2d(x, -1)
