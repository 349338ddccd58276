"""Edge cases where minicv must behave as PyTorch does, or fail with a clear message."""
import numpy as np
import pytest

import minicv as mc
from minicv import nn
from minicv.nn import functional as F
from minicv.testing import gradcheck


def test_second_backward_through_nodes_that_saved_nothing():
    a = mc.ones(3, requires_grad=True)
    y = a + 1                      # Add saves nothing: PyTorch allows a second backward
    y.sum().backward()
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0, 2.0])


def test_remainder_matches_python_mod_and_has_gradients():
    a = mc.tensor([-3.5, 2.0, 7.25], dtype=mc.float64, requires_grad=True)
    b = mc.tensor([2.0, -1.5, 3.0], dtype=mc.float64, requires_grad=True)
    np.testing.assert_allclose((a % b).data, np.remainder(a.data, b.data))
    gradcheck(lambda x, y: x % y, (a, b))
    assert (mc.arange(7) % 3).tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_mask_operators():
    x = mc.tensor([-1.0, 0.5, 2.0])
    m = (x > 0) & (x < 1)
    assert m.tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, True]
    assert ((x > 0) | (x < 0)).tolist() == [True, True, True]
    assert (mc.arange(4) ^ 1).tolist() == [1, 0, 3, 2]
    with pytest.raises(TypeError, match="bool or integer"):
        x & x


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \[2, 3\] and \[4\] do not broadcast"):
        mc.ones(2, 3) + mc.ones(4)


def test_empty_index_and_empty_batch():
    x = mc.randn(3, 4)
    assert x[[]].shape == (0, 4)
    assert nn.BatchNorm2d(3)(mc.zeros(0, 3, 4, 4)).shape == (0, 3, 4, 4)


def test_adaptive_pool_keeps_a_none_size():
    x = mc.randn(1, 2, 6, 5)
    assert F.adaptive_avg_pool2d(x, (None, 2)).shape == (1, 2, 6, 2)
    assert F.adaptive_max_pool2d(x, (3, None)).shape == (1, 2, 3, 5)


def test_interpolate_keywords():
    x = mc.randn(1, 1, 4, 6)
    assert F.interpolate(x, scale_factor=1.5, recompute_scale_factor=True).shape == \
        (1, 1, 6, 9)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(x, size=(2, 3), mode="nearest", antialias=True)


def test_contiguous_and_array_copy():
    x = mc.randn(3, 4, requires_grad=True)
    y = x.t().contiguous()
    assert y.is_contiguous()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))
    t = mc.zeros(2)
    a = np.array(t, copy=True)
    a[0] = 5
    assert t.data[0] == 0


def test_layers_honour_device():
    assert nn.Linear(2, 3, device="cpu").weight.device == mc.device("cpu")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            nn.Conv2d(1, 2, 3, device="cuda")


def test_linear_rejects_a_1d_weight_clearly():
    # a 1-D weight without bias is x @ w (PyTorch); with a bias it is refused, as there
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(mc.randn(4, 3), mc.randn(3), mc.randn(1))


def test_save_into_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mc.save({"a": 1}, tmp_path / "no" / "such" / "x.ckpt")


def test_tensor_factory_methods_and_type_as_follow_pytorch():
    import minicv as mc
    x = mc.zeros(2, dtype=mc.float64)
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros((2, 3)).dtype == np.float64
    assert x.new_ones(2, dtype=mc.int64).dtype == np.int64
    assert x.new_full((2,), 1.5).tolist() == [1.5, 1.5]
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert mc.ones(2).type_as(x).dtype == np.float64
    assert mc.arange(5).floor().dtype == np.int64          # integer rounding keeps dtype
