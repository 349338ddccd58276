"""Tensor API parity with PyTorch: x[key] = v, in-place ops and operators (x += y) with
autograd, indexing that mixes integers and index arrays, formatting, conversions, and the
``Tensor(...)`` constructor. Expected values are written out (they are PyTorch's), so the
tests run without PyTorch; the last ones compare with it when it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st


# ----------------------------------------------------------------------------- x[key] = v

def test_setitem_writes_in_place_and_views_see_it():
    x = mc.zeros(4)
    view = x[1:3]
    x[0] = 1
    x[1:3] = mc.tensor([2.5, 3.5])
    x[x > 3] = -1.0                                       # a bool mask
    np.testing.assert_array_equal(x.data, [1.0, 2.5, -1.0, 0.0])
    np.testing.assert_array_equal(view.data, [2.5, -1.0])
    m = mc.zeros(2, 3)
    m[:, [0, 2]] = mc.tensor([7.0, 8.0])                  # broadcast over the rows
    np.testing.assert_array_equal(m.data, [[7, 0, 8], [7, 0, 8]])
    m[:] = mc.ones(1, 1, 3)                               # extra leading 1s are fine
    np.testing.assert_array_equal(m.data, np.ones((2, 3)))


def test_setitem_casts_the_value_to_the_tensor_dtype():
    a = mc.zeros(3, dtype=mc.int64)
    a[0] = 1.7
    a[1:] = mc.tensor([2.9, -1.5])
    assert a.dtype == np.int64
    np.testing.assert_array_equal(a.data, [1, 2, -1])


def test_setitem_mixed_integer_and_array_key_follows_pytorch():
    x = mc.zeros(2, 3, 4)
    x[0, :, mc.tensor([0, 2])] = mc.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(x.data[0], [[0, 0, 1, 0], [2, 0, 3, 0], [4, 0, 5, 0]])
    assert not x.data[1].any()


def test_setitem_errors_name_the_shapes_and_refuse_a_leaf_requiring_grad():
    with pytest.raises(ValueError, match=r"shape \[3\] does not broadcast to x\[key\] of "
                                         r"shape \[2\]"):
        mc.zeros(3)[0:2] = mc.ones(3)
    leaf = mc.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
        leaf[0] = 2.0
    with mc.no_grad():
        leaf[0] = 2.0                                     # as an optimizer or an init
    np.testing.assert_array_equal(leaf.data, [2, 1, 1])


def test_setitem_gradients():
    x = mc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mc.tensor([5.0, 6.0], requires_grad=True)
    y = x * 1
    y[[0, 2]] = w * 2
    assert y.grad_fn is not None
    (y * mc.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 10, 0])   # overwritten: no gradient
    np.testing.assert_array_equal(w.grad.data, [2, 200])


def test_setitem_of_a_value_requiring_grad_into_a_plain_tensor():
    w = mc.tensor(2.0, requires_grad=True)
    buf = mc.zeros(3)
    buf[1] = w
    assert buf.requires_grad
    (buf * mc.tensor([1.0, 3.0, 5.0])).sum().backward()
    assert w.grad.item() == 3.0


def test_setitem_repeated_index_last_write_wins():
    w = mc.tensor([5.0, 6.0], requires_grad=True)
    y = mc.zeros(3) * 1
    y[[0, 0]] = w
    np.testing.assert_array_equal(y.data, [6, 0, 0])
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [1, 1])    # as PyTorch: g[key] for each


_SET_KEYS = [(slice(None), 1), (slice(1, 3), slice(None)), np.array([2, 0]),
             (np.array([0, 2]), np.array([1, 3])), (slice(None), [True, False, True, False]),
             (2, [0, 3]), (mc.tensor([1, 2]), slice(None), )]


@given(data=hs.data())
def test_setitem_gradcheck(data):
    x = data.draw(st.tensors((3, 4)))
    for key in _SET_KEYS:
        v = data.draw(st.tensors(x[key].shape[-1:]))      # broadcast over the rest

        def put(a, b):
            y = a * 1
            y[key] = b
            return y
        gradcheck(put, (x, v))


# ----------------------------------------------------------------------------- in place

def test_inplace_on_a_non_leaf_is_recorded():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [12, 20])   # PyTorch's values


_INPLACE = [
    (lambda y, w: y.add_(w, alpha=2), lambda y, w: y + 2 * w),
    (lambda y, w: y.sub_(w), lambda y, w: y - w),
    (lambda y, w: y.mul_(w), lambda y, w: y * w),
    (lambda y, w: y.div_(w), lambda y, w: y / w),
    (lambda y, w: y.clamp_(min=w * mc.tensor([1.0, 0.0, 1.0])),      # w > y > 0
     lambda y, w: mc.tensor([1.0, 0.0, 1.0]) * w + mc.tensor([0.0, 1.0, 0.0]) * y),
    (lambda y, w: y.addcmul_(w, w, value=0.5), lambda y, w: y + 0.5 * w * w),
    (lambda y, w: y.addcdiv_(w, w + 1), lambda y, w: y + w / (w + 1)),
    (lambda y, w: y.copy_(w), lambda y, w: w * 1),
    (lambda y, w: y.fill_(w[0]), lambda y, w: w[0].expand(3)),
    (lambda y, w: y.masked_fill_(mc.tensor([True, False, True]), w[1]),
     lambda y, w: mc.where(mc.tensor([True, False, True]), w[1], y)),
    (lambda y, w: y.zero_().add_(w), lambda y, w: w * 1),
    (lambda y, w: y.exp_().mul_(w), lambda y, w: y.exp() * w),
    (lambda y, w: y.sigmoid_().tanh_().neg_(), lambda y, w: -(y.sigmoid().tanh())),
    (lambda y, w: y.abs_().sqrt_().pow_(3), lambda y, w: y.abs().sqrt() ** 3),
    (lambda y, w: y.clamp_min_(0.45).clamp_max_(0.6).relu_(),
     lambda y, w: y.clamp(0.45, 0.6).relu()),
]


@given(data=hs.data())
def test_inplace_methods_gradcheck_against_their_out_of_place_forms(data):
    x = data.draw(st.tensors((3,), min_value=0.2, max_value=0.7, avoid=(0.45, 0.6)))
    w = data.draw(st.tensors((3,), min_value=1.0, max_value=2.0))
    for inplace, reference in _INPLACE:
        y = x * 1
        out = inplace(y, w)
        assert out is y
        np.testing.assert_allclose(y.data, reference(x, w).data, rtol=1e-12)
        gradcheck(lambda a, b: inplace(a * 1, b), (x, w))


def test_inplace_change_of_a_saved_output_still_raises():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                          # Exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward"):
        y.sum().backward()


def test_inplace_through_a_view_of_a_plain_tensor_is_seen_by_its_base():
    w = mc.ones(3, requires_grad=True)
    a = mc.ones(3)
    z = (w * a).sum()                    # Mul saves a
    a[0:2].add_(1)                       # the view shares a's version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_inplace_on_views_with_autograd_raises_clearly():
    x = mc.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0:2].mul_(2)
    y = x * 2
    with pytest.raises(RuntimeError, match="on a view .* base"):
        y[0:2].mul_(2)
    view = y[0:2]
    y.mul_(3)                            # y's history changes: the old view is stale
    with pytest.raises(RuntimeError, match="Take the view again"):
        view.sum()
    y[0:2].sum().backward()              # a view taken afterwards is fine
    np.testing.assert_array_equal(x.grad.data, [6, 6, 0])


def test_inplace_operators_mutate_and_keep_the_dtype():
    x = mc.zeros(2)
    alias = x[:]
    x += 1
    x *= 3
    x -= mc.tensor([1.0, 0.0])
    x /= 2
    np.testing.assert_array_equal(alias.data, [1.0, 1.5])
    f = mc.zeros(2)
    f += mc.tensor([1.0, 2.0], dtype=mc.float64)
    assert f.dtype == np.float32
    i = mc.tensor([5, 6], dtype=mc.int32)
    i += mc.tensor([1, 2])                      # int64 into int32: same kind, allowed
    assert i.dtype == np.int32
    i //= 2
    np.testing.assert_array_equal(i.data, [3, 4])
    i **= 2
    i %= 5
    np.testing.assert_array_equal(i.data, [4, 1])
    i |= 2
    i &= 3
    i ^= 1
    np.testing.assert_array_equal(i.data, [3, 2])


def test_inplace_results_the_dtype_cannot_hold_raise_like_pytorch():
    i = mc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        i /= 2
    with pytest.raises(RuntimeError, match="Float can't be cast"):
        i += 1.5
    with pytest.raises(RuntimeError, match="Long can't be cast to the desired output type "
                                           "Bool"):
        mc.tensor([True]).add_(1)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        mc.zeros(3).add_(mc.ones(2, 3))
    np.testing.assert_array_equal(i.data, [1, 2])      # unchanged by the failures


def test_inplace_operator_on_a_leaf_requiring_grad_raises():
    x = mc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    with mc.no_grad():
        x += 1
    assert x.is_leaf and x.requires_grad
    np.testing.assert_array_equal(x.data, [2, 2])


def test_inplace_argument_checks():
    with pytest.raises(ValueError, match="at least one of 'min' and 'max'"):
        mc.ones(1).clamp_()
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        mc.zeros(3).fill_(mc.ones(2))


def test_unary_inplace_forms_match_out_of_place():
    x = mc.tensor([-2.0, 0.5, 4.0])
    for name in ("relu", "exp", "abs", "neg", "sigmoid", "tanh", "floor", "ceil"):
        y = x.clone()
        assert getattr(y, name + "_")() is y
        np.testing.assert_array_equal(y.data, getattr(x, name)().data)
    np.testing.assert_array_equal(x.clone().pow_(2).data, [4, 0.25, 16])
    np.testing.assert_array_equal(x.clone().abs_().sqrt_().data, np.sqrt([2, 0.5, 4],
                                                                         dtype=np.float32))
    np.testing.assert_array_equal(x.clone().clamp_min_(0).clamp_max_(1).data, [0, 0.5, 1])


def test_unsqueeze_and_squeeze_in_place():
    x = mc.ones(2, 3)
    assert x.unsqueeze_(1) is x and x.shape == (2, 1, 3)
    assert x.squeeze_().shape == (2, 3)
    a = mc.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    y.unsqueeze_(0)
    (y * mc.tensor([[3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [3, 4])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        a.unsqueeze_(0)


# ----------------------------------------------------------------------------- indexing

@pytest.mark.parametrize("key, shape", [
    ((0, slice(None), [0, 2]), (3, 2)),                 # NumPy: (2, 3)
    ((None, 0, slice(None), [1, 2]), (1, 3, 2)),
    (([0, 1], 1, [0, 1]), (2,)),
    ((slice(None), 0, [0, 1]), (2, 2)),
    ((Ellipsis, 0, [1, 2]), (2, 2)),
    ((0, [[0, 1], [2, 0]], slice(1, 3)), (2, 2, 2)),
    ((1, None, [0, 2], None, 3), (1, 2, 1)),
    ((0, [True, False, True]), (2, 4)),
    ([[0, 1], [1, 0]], (2, 4)),                         # a list of lists is a tuple
    ([[0, 1]], (2, 3, 4)),
])
def test_getitem_with_integers_and_index_arrays_follows_pytorch(key, shape):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = mc.tensor(a, dtype=mc.float64, requires_grad=True)
    y = x[key]
    assert y.shape == shape
    # PyTorch's reading: the integers first (basic indexing), then the arrays
    items = key if isinstance(key, tuple) else tuple(key)
    first = tuple(slice(None) if isinstance(k, list) else k for k in items)
    then = tuple(np.asarray(k) if isinstance(k, list) else (slice(None) if k is None
                                                             or isinstance(k, slice) else k)
                 for k in items if not isinstance(k, int))
    np.testing.assert_array_equal(y.data, a[first][then])
    gradcheck(lambda t: t[key], (x,))


def test_getitem_with_a_0d_integer_tensor_is_an_integer():
    x = mc.zeros(2, 3, 4)
    assert x[mc.tensor(0), :, mc.tensor([0, 2])].shape == (3, 2)


# ----------------------------------------------------------------------------- small API

def test_format_follows_pytorch():
    assert f"{mc.tensor(2.5):.2f}" == "2.50"
    assert f"{mc.tensor(3):d}" == "3"
    t = mc.tensor([1.0, 2.0])
    assert f"{t}" == str(t)
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{t:.2f}"
    with pytest.raises(TypeError):
        f"{mc.tensor([2.5]):.1f}"                     # one element but 1-D: as PyTorch


def test_to_accepts_pytorch_keywords():
    x = mc.ones(2)
    assert x.to("cpu", non_blocking=True) is x
    assert x.to(memory_format=None, dtype=mc.float64).dtype == np.float64
    assert x.cpu(memory_format=None) is x
    assert x.to(mc.zeros(1, dtype=mc.float64)).dtype == np.float64   # to(other)


def test_comparison_with_none():
    t = mc.tensor([1, 2])
    assert (t == None) is False       # noqa: E711 (the operator itself is under test)
    assert (t != None) is True        # noqa: E711


def test_tensor_constructor_follows_torch_tensor():
    assert mc.Tensor([1, 2]).dtype == np.float32
    np.testing.assert_array_equal(mc.Tensor([True, False]).data, [1.0, 0.0])
    z = mc.Tensor(2, 3)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.data.any()
    assert mc.Tensor((2, 3)).tolist() == [2.0, 3.0]     # a tuple is data, as in PyTorch
    assert mc.Tensor().shape == (0,)
    with pytest.raises(TypeError, match="must be a sequence"):
        mc.Tensor(2.5)
    a = np.arange(3)
    wrapped = mc.Tensor(a)                              # an ndarray: wrapped, dtype kept
    assert wrapped.dtype == np.int64 and wrapped.data is a
    assert mc.tensor([1, 2]).dtype == np.int64          # the factory is unchanged


def test_dtype_names_and_type_queries():
    assert (mc.float, mc.double, mc.half) == (np.float32, np.float64, np.float16)
    assert (mc.int, mc.short, mc.long) == (np.int32, np.int16, np.int64)
    assert isinstance(1.5, float) and int("3") == 3     # Python's builtins untouched here
    x = mc.ones(2, 3)
    assert mc.is_tensor(x) and not mc.is_tensor(x.data)
    assert mc.is_floating_point(x) and not x.long().is_floating_point()
    assert x.half().dtype == np.float16 and x.short().dtype == np.int16
    assert x.type() == "minicv.FloatTensor"
    assert [t.type() for t in (x.double(), x.long(), x.int(), x.bool(), x.to(mc.uint8))] == [
        "minicv.DoubleTensor", "minicv.LongTensor", "minicv.IntTensor", "minicv.BoolTensor",
        "minicv.ByteTensor"]
    assert x.type(mc.float64).dtype == np.float64
    assert x.type("torch.LongTensor").dtype == np.int64
    with pytest.raises(ValueError, match="invalid type"):
        x.type("minicv.FooTensor")


def test_stride_and_element_size():
    x = mc.ones(2, 3)
    assert x.stride() == (3, 1) and x.stride(0) == 3 and x.t().stride() == (1, 3)
    assert x[:, ::2].stride() == (3, 2)
    assert x[:1].expand(4, 3).stride() == (0, 1)
    assert x.element_size() == 4 and x.double().element_size() == 8


# ----------------------------------------------------------------------------- GPU

@pytest.mark.gpu
def test_setitem_inplace_and_mixed_indexing_on_the_gpu():
    for device in ("cpu", "cuda"):
        x = mc.zeros(2, 3, 4, device=device)
        x[0, :, mc.tensor([0, 2])] = mc.arange(6.0).reshape(3, 2)
        x[x > 4] = -1.0
        x[1] += 2
        a = mc.tensor([1.0, 2.0], device=device, requires_grad=True)
        y = a * 2
        y.add_(1)
        y[0] = a[1] * 3
        (y * y).sum().backward()
        if device == "cpu":
            want_x, want_g = x.data, a.grad.data
            got_y = x[0, :, [0, 2]].data
        else:
            np.testing.assert_array_equal(x.cpu().data, want_x)
            np.testing.assert_array_equal(a.grad.cpu().data, want_g)
            np.testing.assert_array_equal(x[0, :, [0, 2]].cpu().data, got_y)
    np.testing.assert_array_equal(want_g, [0, 20 + 36])


# ----------------------------------------------------------------------------- PyTorch

def test_setitem_and_getitem_match_pytorch():
    torch = pytest.importorskip("torch")
    keys = [lambda L: (0, slice(None), L.tensor([0, 2])), lambda L: (L.tensor(1), [0, 2]),
            lambda L: (slice(None), [True, False, True], 2), lambda L: ([1, 0], Ellipsis, 1),
            lambda L: (L.tensor([[True, False, True], [True, True, False]]), 1)]
    base = np.arange(24.0).reshape(2, 3, 4)
    rng = np.random.default_rng(0)
    for key in keys:
        t = torch.tensor(base, requires_grad=True)
        m = mc.tensor(base, requires_grad=True)
        want, got = t[key(torch)], m[key(mc)]
        np.testing.assert_array_equal(got.data, want.detach().numpy())
        g = rng.random(want.shape)
        want.backward(torch.tensor(g))
        got.backward(mc.tensor(g))
        np.testing.assert_allclose(m.grad.data, t.grad.numpy())
        v = rng.random(want.shape[-1:])
        tv, mv = torch.tensor(v, requires_grad=True), mc.tensor(v, requires_grad=True)
        ty, my = t * 1, m * 1
        ty[key(torch)] = tv
        my[key(mc)] = mv
        np.testing.assert_array_equal(my.data, ty.detach().numpy())
        (ty * ty).sum().backward()
        (my * my).sum().backward()
        np.testing.assert_allclose(mv.grad.data, tv.grad.numpy())
        np.testing.assert_allclose(m.grad.data, t.grad.numpy())


def test_unrecorded_arithmetic_in_place_writes_into_the_array():
    x = mc.tensor([1.0, 2.0])
    data, view = x.data, x[0:1]
    x.mul_(3).add_(mc.tensor([1.0, 1.0]), alpha=2).sub_(1).div_(2)
    assert x.data is data and x.tolist() == [2.0, 3.5] and view.tolist() == [2.0]
    i = mc.tensor([1, 2])
    i.add_(300)                                   # integers take the general route
    assert i.tolist() == [301, 302]
    with pytest.raises(ValueError, match="does not broadcast|shape"):
        x.mul_(mc.ones(3))


def test_positional_requires_grad_is_refused_clearly():
    with pytest.raises(TypeError, match="requires_grad= and dtype= by keyword"):
        mc.Tensor(np.ones(2), True)
