"""Activations: forward against NumPy formulas, gradchecks away from kinks, stability."""
import math

import numpy as np
import pytest
from hypothesis import given

import minicv as mc
from minicv.ops import activation as A
from minicv.testing import gradcheck, strategies as st

_erf = np.vectorize(math.erf)

CASES = {
    "relu": (A.relu, lambda x: np.maximum(x, 0), (0.0,)),
    "leaky_relu": (lambda x: A.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   (0.0,)),
    "elu": (lambda x: A.elu(x, 1.3), lambda x: np.where(x > 0, x, 1.3 * np.expm1(x)),
            (0.0,)),
    "gelu": (A.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), ()),
    "gelu_tanh": (lambda x: A.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) *
                                                   (x + 0.044715 * x ** 3))), ()),
    "sigmoid": (A.sigmoid, lambda x: 1 / (1 + np.exp(-x)), ()),
    "tanh": (A.tanh, np.tanh, ()),
    "softplus": (lambda x: A.softplus(x, beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2, ()),
}


@pytest.mark.parametrize("name", CASES)
@given(data=st.tensors(avoid=(0.0,)))
def test_activation(name, data):
    fn, ref, _ = CASES[name]
    np.testing.assert_allclose(fn(data).data, ref(data.data), rtol=1e-10, atol=1e-12)
    gradcheck(fn, (data,))


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax])
@given(x=st.tensors(shape=st.shapes(min_dims=1)))
def test_softmax_family(fn, x):
    for dim in range(-x.ndim, x.ndim):
        gradcheck(lambda t: fn(t, dim=dim), (x,))
    e = np.exp(x.data - x.data.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    want = p if fn is A.softmax else np.log(p)
    np.testing.assert_allclose(fn(x, dim=-1).data, want, rtol=1e-10, atol=1e-12)


def test_softmax_is_stable_for_large_logits():
    x = mc.tensor([[1000.0, 0.0, -1000.0]])
    assert np.all(np.isfinite(A.softmax(x, dim=1).data))
    np.testing.assert_allclose(A.log_softmax(x, dim=1).data, [[0.0, -1000.0, -2000.0]])
    assert np.all(np.isfinite(A.sigmoid(mc.tensor([-1000.0, 1000.0])).data))


def test_softplus_threshold_is_linear():
    x = mc.tensor([30.0], dtype=mc.float64, requires_grad=True)
    y = A.softplus(x)
    y.backward()
    assert y.item() == 30.0 and x.grad.item() == 1.0


def test_relu_gradient_at_zero_is_zero():
    x = mc.tensor([0.0, 1.0], requires_grad=True)
    A.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0])


@pytest.mark.parametrize("n", [6, 5000])          # the NumPy path and the Numba kernel
def test_relu_backward_is_a_select_nan_gradients_stay_out(n):
    """As PyTorch's threshold_backward: where the output is 0 the gradient is 0, even a NaN
    one (a product gy * (y > 0) would give NaN)."""
    x = mc.tensor(np.tile([-1.0, 0.0, 2.0], n // 3 + 1)[:n].astype(np.float32),
                  requires_grad=True)
    gy = np.tile([np.nan, np.nan, 3.0], n // 3 + 1)[:n].astype(np.float32)
    A.relu(x).backward(mc.tensor(gy))
    np.testing.assert_array_equal(x.grad.data, np.where(x.data > 0, gy, 0))


def test_hardtanh_and_relu6_pass_no_gradient_at_the_bounds():
    """PyTorch's hardtanh_backward passes the gradient only where min_val < x < max_val
    (clamp passes it at the bounds too). Expected values computed with torch 2.13."""
    x = mc.tensor([-1.0, 0.0, 1.0, 6.0, 7.0], dtype=mc.float64, requires_grad=True)
    A.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 1, 0, 0])
    x.grad = None
    A.hardtanh(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 0, 0, 0])
    x.grad = None                     # a select: NaN gradients stay out where clamped
    A.hardtanh(x, 0.0, 6.0).backward(mc.tensor([np.nan, np.nan, 2.0, np.nan, np.nan],
                                               dtype=mc.float64))
    np.testing.assert_array_equal(x.grad.data, [0, 0, 2, 0, 0])


@given(x=st.tensors(avoid=(-0.5, 1.5)))
def test_hardtanh_gradcheck(x):
    np.testing.assert_array_equal(A.hardtanh(x, -0.5, 1.5).data, np.clip(x.data, -0.5, 1.5))
    gradcheck(lambda t: A.hardtanh(t, -0.5, 1.5), (x,))


@given(x=st.tensors(min_value=-3.0, max_value=9.0, avoid=(0.0, 6.0)))
def test_relu6_gradcheck(x):
    np.testing.assert_array_equal(A.relu6(x).data, np.clip(x.data, 0, 6))
    gradcheck(A.relu6, (x,))


def test_inplace_flag_is_accepted_and_returns_a_new_tensor():
    x = mc.tensor([-2.0, 0.5, 8.0])
    for fn in (A.relu, A.relu6, A.hardtanh):
        y = fn(x, inplace=True)
        assert y is not x
    np.testing.assert_array_equal(x.data, [-2.0, 0.5, 8.0])


def test_integer_input_follows_pytorch():
    """relu / relu6 / hardtanh keep the integer dtype, sigmoid / tanh return the default
    float, the rest raise (torch 2.13: NotImplementedError "not implemented for 'Long'")."""
    x = mc.tensor([1, -2, 7])
    for y, want in ((A.relu(x), [1, 0, 7]), (A.relu6(x), [1, 0, 6]),
                    (A.hardtanh(x), [1, -1, 1]),
                    (A.hardtanh(x, -2.5, 3.5), [1, -2, 3])):     # truncated, as in torch
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y.data, want)
    u = A.relu(mc.tensor(np.array([3, 0], np.uint8)))
    assert u.dtype == np.uint8
    assert A.sigmoid(x).dtype == np.float32 and A.tanh(x).dtype == np.float32
    for fn in (A.leaky_relu, A.elu, A.gelu, A.softplus, lambda t: A.softmax(t, 0),
               lambda t: A.log_softmax(t, 0)):
        with pytest.raises(TypeError, match="floating tensor, got int64"):
            fn(x)
    assert A.softmax(x, 0, dtype=mc.float64).dtype == np.float64      # explicit dtype: ok
    with pytest.raises(TypeError, match="bool"):
        A.relu(mc.tensor([True, False]))
    with pytest.raises(TypeError, match="unsigned"):
        A.hardtanh(mc.tensor(np.array([3], np.uint8)))
    with pytest.raises(ValueError, match="max_val"):
        A.hardtanh(x, 1.0, -1.0)
