"""Elementwise ops: forward against NumPy, float64 gradchecks over broadcastable shapes,
and PyTorch's edge cases (promotion, gradients at 0 and NaN) with hard-coded values."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as hs

import minicv as mc
from minicv.ops import elementwise as E
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


# ----------------------------------------------------------------------------- PyTorch parity
# Expected values below were computed with PyTorch 2.13 (CPU), float64 unless stated.

NAN, INF = float("nan"), float("inf")


def _grads(fn, *values):
    ts = [mc.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad.data for t in ts]


def test_zero_dim_tensor_of_a_higher_kind_keeps_its_dtype():
    i, b = mc.tensor([1, 2]), mc.tensor([True, False])
    assert (i + mc.tensor(1.5, dtype=mc.float64)).dtype == np.float64   # torch: float64
    assert (mc.tensor(1.5, dtype=mc.float64) * i).dtype == np.float64
    assert (i + mc.tensor(1.5, dtype=mc.float16)).dtype == np.float16
    assert (b + mc.tensor(2, dtype=mc.int32)).dtype == np.int32
    assert (b * mc.tensor(2.5, dtype=mc.float64)).dtype == np.float64
    assert (mc.tensor([1], dtype=mc.uint8) + mc.tensor(1)).dtype == np.uint8   # same kind
    assert (i + 1.5).dtype == np.float32              # a Python float: the default dtype


def test_integer_scalars_wrap_around_like_pytorch():
    u8 = mc.tensor([1, 2], dtype=mc.uint8)
    assert (u8 + 300).tolist() == [45, 46] and (u8 + 300).dtype == np.uint8
    assert (u8 - 1).tolist() == [0, 1]
    assert (mc.tensor([1], dtype=np.int8) + 200).tolist() == [-55]
    assert (u8 * 300).tolist() == [44, 88]


def test_pow_gradient_edges_match_pytorch():
    ga, gb = _grads(lambda a, b: a ** b, [0.0, -2.0, 0.0, 0.0, 2.0, -0.5], [0.0, 2.0, -1.0,
                                                                          0.5, 0.0, 3.0])
    np.testing.assert_array_equal(ga, [0.0, -4.0, -INF, INF, 0.0, 0.75])
    np.testing.assert_array_equal(gb, [0.0, NAN, -INF, 0.0, np.log(2), NAN])
    (gx,) = _grads(lambda x: x ** 0, [0.0, 2.0, -1.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])           # torch: x**0 is constant
    (gx,) = _grads(lambda x: x ** 3.0, [0.0, -2.0])
    np.testing.assert_array_equal(gx, [0.0, 12.0])
    (gx,) = _grads(lambda x: x ** -2.0, [0.0, -0.5])
    np.testing.assert_array_equal(gx, [-INF, 16.0])
    (ge,) = _grads(lambda e: 0.0 ** e, [0.0, 2.0, -1.0])          # scalar base 0
    np.testing.assert_array_equal(ge, [0.0, 0.0, -INF])
    (ge,) = _grads(lambda e: (-2.0) ** e, [2.0, 3.0])             # log of a negative base
    assert np.isnan(ge).all()


def test_abs_and_sign_at_nan_follow_pytorch():
    assert mc.sign(mc.tensor([NAN, -0.0, 0.0, -2.0])).tolist() == [0.0, 0.0, 0.0, -1.0]
    assert mc.sign(mc.tensor([-3, 0, 5])).tolist() == [-1, 0, 1]
    assert mc.sign(mc.tensor([True, False])).tolist() == [True, False]
    (gx,) = _grads(mc.abs, [1.0, NAN, -3.0, 0.0])
    np.testing.assert_array_equal(gx, [1.0, 0.0, -1.0, 0.0])     # torch: sgn(nan) = 0


def test_maximum_minimum_gradient_with_nan_and_ties():
    # torch: where the comparison is undecided by NaN both inputs get the whole gradient
    ga, gb = _grads(mc.maximum, [1.0, NAN, 2.0, 3.0], [2.0, 2.0, 2.0, NAN])
    np.testing.assert_array_equal(ga, [0.0, 1.0, 0.5, 1.0])
    np.testing.assert_array_equal(gb, [1.0, 1.0, 0.5, 1.0])
    ga, gb = _grads(mc.minimum, [1.0, NAN, 2.0], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(ga, [1.0, 1.0, 0.5])
    np.testing.assert_array_equal(gb, [0.0, 1.0, 0.5])


def test_rounded_division_is_differentiable_with_zero_gradient():
    x = mc.tensor([1.5, -1.5], requires_grad=True)
    d = mc.tensor([1.0, 2.0], requires_grad=True)
    out = mc.div(x, d, rounding_mode="floor")
    assert out.requires_grad and out.tolist() == [1.0, -1.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0] and d.grad.tolist() == [0.0, 0.0]
    assert mc.div(mc.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert E.floor_divide(mc.tensor([7, -7]), 2).tolist() == [3, -4]


@pytest.mark.parametrize("op", [lambda a: a // 0, lambda a: a % 0,
                                lambda a: mc.div(a, mc.tensor([1, 0]), rounding_mode="trunc"),
                                lambda a: mc.remainder(a, mc.tensor([0, 1]))])
def test_integer_division_by_zero_raises(op):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(mc.tensor([1, 2]))
    assert op(mc.tensor([1.0, 2.0])).dtype == np.float32     # floats give inf/nan instead


def test_bool_subtraction_and_negation_are_refused():
    b = mc.tensor([True, False])
    for op in (lambda: b - b, lambda: mc.tensor([1, 2]) - b, lambda: b - 1, lambda: 1 - b,
               lambda: mc.ones(2) - True):
        with pytest.raises(RuntimeError, match="Subtraction"):
            op()
    with pytest.raises(RuntimeError, match="Negation"):
        -b


def test_functions_take_pytorch_keyword_names():
    x, y = mc.tensor([1.0, 4.0]), mc.tensor([2.0, 2.0])
    assert mc.add(input=x, other=y, alpha=2).tolist() == [5.0, 8.0]
    assert mc.sub(x, other=y).tolist() == [-1.0, 2.0]
    assert mc.mul(x, other=y).tolist() == [2.0, 8.0]
    assert mc.div(x, other=y, rounding_mode="floor").tolist() == [0.0, 2.0]
    assert mc.pow(x, exponent=2).tolist() == [1.0, 16.0]
    assert mc.remainder(input=x, other=3).tolist() == [1.0, 1.0]
    assert mc.maximum(x, other=y).tolist() == [2.0, 4.0]
    assert mc.minimum(input=x, other=y).tolist() == [1.0, 2.0]
    assert mc.eq(x, other=y).tolist() == [False, False] and mc.ge(x, other=y).tolist() == [
        False, True]
    assert mc.exp(input=mc.zeros(1)).tolist() == [1.0]
    assert mc.abs(input=mc.tensor([-1.0])).tolist() == [1.0]
    assert x.add(other=y).tolist() == [3.0, 6.0] and x.pow(exponent=2).tolist() == [1.0, 16.0]


NEW_UNARY = {
    "log2": (np.log2, dict(min_value=0.1, max_value=5.0)),
    "log10": (np.log10, dict(min_value=0.1, max_value=5.0)),
    "tan": (np.tan, dict(min_value=-1.2, max_value=1.2)),
    "erf": (np.vectorize(math.erf), {}),
    "nan_to_num": (np.nan_to_num, {}),
}


@pytest.mark.parametrize("name", NEW_UNARY)
@given(data=hs.data())
def test_new_unary_functions(name, data):
    ref, bounds = NEW_UNARY[name]
    fn = getattr(E, name)
    x = data.draw(st.tensors(**bounds))
    np.testing.assert_allclose(fn(x).data, ref(x.data), rtol=1e-12, atol=1e-15)
    gradcheck(fn, (x,))


@given(data=hs.data())
def test_atan2_and_lerp_gradcheck(data):
    sa, sb, sw = data.draw(st.broadcastable_shapes(3))
    # away from the origin and from the branch cut (a = 0, b < 0), where atan2 jumps by 2π
    a = data.draw(st.tensors(sa, avoid=(0.0,), margin=0.1))
    b = data.draw(st.tensors(sb, avoid=(0.0,), margin=0.1))
    w = data.draw(st.tensors(sw))
    np.testing.assert_allclose(E.atan2(a, b).data, np.arctan2(a.data, b.data), rtol=1e-12)
    gradcheck(E.atan2, (a, b))
    np.testing.assert_allclose(E.lerp(a, b, w).data, a.data + w.data * (b.data - a.data),
                               rtol=1e-12, atol=1e-12)
    gradcheck(E.lerp, (a, b, w))
    gradcheck(lambda x, y: E.lerp(x, y, 0.25), (a, b))


def test_atan2_gradient_is_zero_at_the_origin():
    ga, gb = _grads(E.atan2, [0.0, 1.0], [0.0, 2.0])
    np.testing.assert_allclose(ga, [0.0, 0.4])                   # torch: [0, 0.4]
    np.testing.assert_allclose(gb, [0.0, -0.2])                  # torch: [0, -0.2]


def test_nan_to_num_values_and_gradient():
    x = mc.tensor([1.0, INF, NAN, -INF], requires_grad=True)
    out = E.nan_to_num(x)
    f32 = np.finfo(np.float32)
    assert out.tolist() == [1.0, float(f32.max), 0.0, float(f32.min)]
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]               # torch: [1, 0, 0, 0]
    assert E.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0).tolist() == [1, 9, -1, -9]
    assert E.nan_to_num(mc.tensor([1, 2])).tolist() == [1, 2]


def test_isclose():
    a, b = mc.tensor([1.0, NAN, 1.0]), mc.tensor([1.0 + 1e-9, NAN, 1.1])
    assert E.isclose(a, b).tolist() == [True, False, False]
    assert E.isclose(a, b, equal_nan=True).tolist() == [True, True, False]
    assert E.isclose(a, b, rtol=0.2).tolist() == [True, False, True]


def test_true_division_converts_integers_from_their_own_values():
    # PyTorch 2.13: uint8 [10, 20] / -2 -> [-5, -10] (no wrap of -2 to 254 first)
    x = mc.tensor([10, 20], dtype=mc.uint8)
    np.testing.assert_allclose((x / -2).data, [-5.0, -10.0])
    np.testing.assert_allclose((x / 300).data, [10 / 300, 20 / 300], rtol=1e-6)
    np.testing.assert_allclose((x / mc.tensor(-4)).data, [-2.5, -5.0])
    np.testing.assert_allclose(mc.atan2(x, mc.tensor(-1)).data, [1.670465, 1.6207547],
                               rtol=1e-6)
    assert (mc.tensor([1, 2]) / mc.tensor([2, 4])).dtype == np.float32


def test_lerp_is_two_sided_like_pytorch():
    # PyTorch 2.13 values: weight 1 gives end exactly; infinities as torch.lerp
    got = mc.lerp(mc.tensor([0.1, 1e8]), mc.tensor([1e8, 0.1]), 1.0)
    np.testing.assert_array_equal(got.data, np.array([1e8, 0.1], np.float32))
    assert mc.lerp(mc.tensor([-np.inf]), mc.tensor([0.0]), 0.7).item() == -np.inf
    assert np.isnan(mc.lerp(mc.tensor([1.0]), mc.tensor([np.inf]), 0.7).item())
    with pytest.raises(TypeError, match="expected dtype float32 for `end`"):
        mc.lerp(mc.ones(2), mc.ones(2, dtype=mc.float64), 0.5)


@settings(max_examples=25, deadline=None)
@given(hs.floats(-1.5, 1.5), hs.integers(0, 2**31 - 1))
def test_lerp_gradcheck(w0, seed):
    rng = np.random.default_rng(seed)
    a, b = (mc.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    w = mc.tensor(np.full(3, w0), requires_grad=True)
    assert gradcheck(mc.lerp, (a, b, w))


def test_integer_pow_with_negative_exponents_like_pytorch():
    # PyTorch 2.13: truncated 1 / a^|b| for tensor exponents; a negative number raises
    got = mc.pow(mc.tensor([2, 1, -1, 0, -1, 3]), mc.tensor([-1, -2, -3, -1, -2, 0]))
    assert got.tolist() == [0, 1, -1, 0, 1, 1] and got.dtype == np.int64
    assert (2 ** mc.tensor([-1, 2])).tolist() == [0, 4]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        mc.tensor([2, 3]) ** -1


def test_lerp_takes_a_0d_weight_of_another_dtype_as_a_number():
    got = mc.lerp(mc.zeros(2), mc.ones(2), mc.tensor(0.5, dtype=mc.float64))
    assert got.dtype == np.float32 and got.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("op", [
    lambda x: x / 0, lambda x: 1 / x, lambda x: x // 0.0, lambda x: x % 0.0,
    mc.reciprocal, mc.rsqrt, mc.sqrt, mc.log, mc.log2, mc.log10, mc.exp, mc.expm1,
    lambda x: mc.log1p(x - 1), lambda x: x ** -1, lambda x: x ** 0.5, lambda x: 0 ** x,
    mc.sin, mc.tan, lambda x: x.long().float()])
def test_inf_and_nan_results_come_without_numpy_warnings(op):
    # PyTorch computes 1/0, log(0), sqrt(-1), exp(1000) silently; NumPy would warn
    x = mc.tensor([0.0, -1.0, 1000.0, 2.0, float("inf"), float("nan")], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = op(x)
        if y.requires_grad:                              # (the cast has no gradient)
            y.backward(mc.ones_like(y))
    assert y.shape == (6,)
