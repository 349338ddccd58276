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
