"""Elementwise ops: forward against NumPy, float64 gradchecks over broadcastable shapes."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

BINARY = {
    "add": (lambda a, b: a + b, np.add, {}),
    "sub": (lambda a, b: a - b, np.subtract, {}),
    "mul": (lambda a, b: a * b, np.multiply, {}),
    "div": (lambda a, b: a / b, np.divide, {"b": dict(min_value=0.5, max_value=3.0)}),
    "pow": (lambda a, b: a ** b, np.power, {"a": dict(min_value=0.5, max_value=2.0)}),
    "maximum": (mc.maximum, np.maximum, {}),
    "minimum": (mc.minimum, np.minimum, {}),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=hs.data())
def test_binary_forward_and_gradient(name, data):
    fn, ref, bounds = BINARY[name]
    sa, sb = data.draw(st.broadcastable_shapes(2))
    a = data.draw(st.tensors(sa, **bounds.get("a", {})))
    b = data.draw(st.tensors(sb, **bounds.get("b", {})))
    if name in ("maximum", "minimum"):      # keep away from ties, where the kink is
        b = mc.tensor(b.data + np.where(np.abs(a.data - b.data) < 0.05, 0.1, 0.0),
                      requires_grad=True)
    np.testing.assert_allclose(fn(a, b).data, ref(a.data, b.data), rtol=1e-12)
    assert fn(a, b).shape == np.broadcast_shapes(sa, sb)
    gradcheck(fn, (a, b))


UNARY = {
    "neg": (lambda x: -x, np.negative, {}),
    "exp": (mc.exp, np.exp, {}),
    "log": (mc.log, np.log, dict(min_value=0.1, max_value=5.0)),
    "sqrt": (mc.sqrt, np.sqrt, dict(min_value=0.1, max_value=5.0)),
    "abs": (mc.abs, np.abs, dict(avoid=(0.0,))),
    "clamp": (lambda x: mc.clamp(x, -1.0, 1.5), lambda x: np.clip(x, -1.0, 1.5),
              dict(avoid=(-1.0, 1.5))),
    "clamp_min": (lambda x: x.clamp(min=0.5), lambda x: np.maximum(x, 0.5),
                  dict(avoid=(0.5,))),
    "pow_scalar": (lambda x: x ** 3, lambda x: x ** 3, {}),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, {}),
    "rsub": (lambda x: 1.0 - x, lambda x: 1.0 - x, {}),
    "rdiv": (lambda x: 2.0 / x, lambda x: 2.0 / x, dict(min_value=0.5)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=hs.data())
def test_unary_forward_and_gradient(name, data):
    fn, ref, bounds = UNARY[name]
    x = data.draw(st.tensors(**bounds))
    np.testing.assert_allclose(fn(x).data, ref(x.data), rtol=1e-12)
    gradcheck(fn, (x,))


@given(data=hs.data())
def test_where_routes_gradient(data):
    sa, sb = data.draw(st.broadcastable_shapes(2, min_dims=1))
    a, b = data.draw(st.tensors(sa)), data.draw(st.tensors(sb))
    shape = np.broadcast_shapes(a.shape, b.shape)
    cond = mc.tensor(np.arange(int(np.prod(shape))).reshape(shape) % 2 == 0)
    out = mc.where(cond, a, b)
    np.testing.assert_array_equal(out.data, np.where(cond.data, a.data, b.data))
    gradcheck(lambda x, y: mc.where(cond, x, y), (a, b))


def test_scalar_operands_keep_float32():
    x = mc.ones(3)
    assert (x * 2.0).dtype == np.float32
    assert (2 * x).dtype == np.float32
    assert (x / 3).dtype == np.float32
    assert (x + mc.tensor(1.0, dtype=mc.float64)).dtype == np.float32   # 0-d never widens
    assert (x + mc.ones(3, dtype=mc.float64)).dtype == np.float64       # documented rule
    assert (mc.arange(4) / 2).dtype == np.float32                        # true division
    assert (mc.arange(4) * 2).dtype == np.int64


def test_float32_and_float64_mix_gives_float32_gradient_to_float32_input():
    a = mc.ones(3, requires_grad=True)
    b = mc.ones(3, dtype=mc.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_comparisons_give_bool_without_grad():
    a = mc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (a > 1.5, a >= 2, a < 2, a <= 2, a == 2, a != 2):
        assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal((a > 1.5).data, [False, True, True])


def test_ndarray_on_the_left_calls_tensor_op():
    out = np.ones(3, dtype=np.float32) * mc.ones(3, requires_grad=True)
    assert isinstance(out, mc.Tensor) and out.requires_grad


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min"):
        mc.clamp(mc.ones(2))


def test_clamp_with_tensor_bounds_gradcheck():
    rng = np.random.default_rng(0)
    x = mc.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    lo = mc.tensor(rng.standard_normal(4) - 0.5, requires_grad=True)
    hi = mc.tensor(rng.standard_normal((3, 1)) + 0.5, requires_grad=True)
    out = x.clamp(lo, hi)
    np.testing.assert_array_equal(out.data, np.minimum(np.maximum(x.data, lo.data), hi.data))
    gradcheck(lambda a, b, c: mc.clamp(a, min=b, max=c), (x, lo, hi))
    gradcheck(lambda a, b: a.clamp(min=b), (x, lo))
    wide = mc.clamp(mc.zeros(4, dtype=mc.float64), min=mc.tensor(np.ones((2, 4))))
    assert wide.shape == (2, 4)                          # the output broadcasts with the bounds


def test_clamp_crossed_tensor_bounds_send_the_gradient_to_max():
    x = mc.tensor([0.0, 5.0, -5.0], requires_grad=True)
    lo = mc.tensor([1.0, 1.0, 1.0], requires_grad=True)
    hi = mc.tensor([0.5, 0.5, 0.5], requires_grad=True)       # min > max: output is max
    out = x.clamp(lo, hi)
    np.testing.assert_array_equal(out.data, [0.5, 0.5, 0.5])
    out.sum().backward()
    np.testing.assert_array_equal(hi.grad.data, [1, 1, 1])
    np.testing.assert_array_equal(lo.grad.data, [0, 0, 0])
    np.testing.assert_array_equal(x.grad.data, [0, 0, 0])


def test_clamp_of_integers_to_float_bounds_gives_floats():
    out = mc.arange(-3, 3).clamp(-1.5, 1.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [-1.5, -1.5, -1, 0, 1, 1.5])


def test_new_unary_ops_gradcheck_and_zero_gradients():
    x = mc.tensor(np.random.default_rng(2).uniform(0.1, 2.0, (3, 4)), requires_grad=True)
    for fn in (mc.sin, mc.cos, mc.log1p, mc.expm1):
        gradcheck(fn, (x,))
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        y = mc.tensor([-1.5, 0.4, 2.5], requires_grad=True)
        out = getattr(y, name)()
        np.testing.assert_array_equal(out.data, getattr(np, name)(y.data))
        out.sum().backward()                             # differentiable, gradient zero
        np.testing.assert_array_equal(y.grad.data, [0, 0, 0])
    assert mc.isnan(mc.tensor([1.0, float("nan")])).tolist() == [False, True]


def test_tensor_where_method_and_condition_only_form():
    a = mc.tensor([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(a.where(a > 0, 0.0).data, [1, 0, 3])
    (idx,) = mc.where(a > 0)
    np.testing.assert_array_equal(idx.data, [0, 2])
