"""Pooling, interpolate, unfold/fold as ops: gradchecks, the tie rule, PyTorch parity."""
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
