"""Regression tests for the differences from PyTorch found by the core and reduction fuzz
reviews: missing in-place methods and top-level names, dtype inference of ``tensor``,
``full``, ``linspace`` and ``arange``, ``view(dtype)``, ``add``'s alpha, ReLU's gradient at
NaN, bool arithmetic, empty matrix products, mixed-dtype matmul, and reductions (sort,
median, cat, var/std, mean, argmax). Expected values were computed with PyTorch 2.13 (CPU)
and are written out, so the tests need no torch."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

NAN, INF = float("nan"), float("inf")


def _same(t, values, dtype):
    np.testing.assert_array_equal(t.numpy(), np.asarray(values, dtype=dtype))
    assert t.dtype == np.dtype(dtype)


# ----------------------------------------------------------------------------- 1. names

@pytest.mark.parametrize("name, args, want", [
    ("floor_divide_", (2,), [0., 1., 1.]),
    ("clip_", (0, 2), [1., 2., 2.]),
    ("expm1_", (), [1.7182819, 6.389056, 19.085537]),
    ("log1p_", (), [0.6931472, 1.0986123, 1.3862944]),
    ("log2_", (), [0., 1., 1.5849625]),
    ("log10_", (), [0., 0.30103, 0.4771213]),
    ("tan_", (), [1.5574077, -2.18504, -0.14254653]),
    ("erf_", (), [0.8427008, 0.9953223, 0.9999779]),
    ("erfc_", (), [1.5729921e-01, 4.6777348e-03, 2.2090499e-05]),
    ("lerp_", (mc.tensor([3., 3., 3.]), 0.5), [2., 2.5, 3.]),
    ("nan_to_num_", (), [1., 2., 3.]),
    ("cumsum_", (0,), [1., 3., 6.]),
    ("cumprod_", (0,), [1., 2., 6.]),
    ("eq_", (mc.tensor([1., 3., 3.]),), [1., 0., 1.]),
    ("lt_", (2,), [1., 0., 0.]),
    ("greater_equal_", (2,), [0., 1., 1.]),
    ("not_equal_", (2,), [1., 0., 1.]),
    ("logical_and_", (mc.tensor([1., 0., 1.]),), [1., 0., 1.]),
    ("logical_not_", (), [0., 0., 0.]),
])
def test_inplace_methods_write_the_result_into_self(name, args, want):
    x = mc.tensor([1., 2., 3.])
    assert getattr(x, name)(*args) is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-6)
    assert x.dtype == np.float32


def test_inplace_bitwise_tril_and_casts():
    x = mc.tensor([1, 2])
    x.bitwise_and_(3)
    _same(x, [1, 2], np.int64)
    x.bitwise_left_shift_(1)
    _same(x, [2, 4], np.int64)
    m = mc.tensor([True, False])
    m.lt_(1.5)                                          # torch: [True, True]
    _same(m, [True, True], np.bool_)
    a = mc.tensor([[1., 2.], [3., 4.]])
    a.triu_()
    _same(a, [[1., 2.], [0., 4.]], np.float32)
    with pytest.raises(RuntimeError, match="can't be cast"):
        mc.tensor([1, 2]).log2_()                       # float into int64, as torch
    _same(mc.tensor([1, 2]).byte(), [1, 2], np.uint8)
    _same(mc.tensor([1, 2]).char(), [1, 2], np.int8)


def test_fill_diagonal_():
    # torch.zeros(5, 3).fill_diagonal_(2, wrap=True) etc.
    _same(mc.zeros(5, 3).fill_diagonal_(2, wrap=True),
          [[2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0], [2, 0, 0]], np.float32)
    _same(mc.zeros(5, 3).fill_diagonal_(2),
          [[2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0], [0, 0, 0]], np.float32)
    _same(mc.zeros(3, 7).fill_diagonal_(2, wrap=True)[:, :4],
          [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], np.float32)
    _same(mc.zeros(2, 2, 2).fill_diagonal_(2), [[[2, 0], [0, 0]], [[0, 0], [0, 2]]],
          np.float32)
    _same(mc.zeros(3, 3, dtype=mc.int64).fill_diagonal_(2.7), np.eye(3) * 2, np.int64)
    base = mc.zeros(3, 3)
    base.t().fill_diagonal_(1)                          # through a view: base sees it
    _same(base, np.eye(3), np.float32)
    x = mc.tensor([[1., 0.], [2., 3.]], requires_grad=True)
    y = x.clone()
    y.fill_diagonal_(5)
    y.sum().backward()
    _same(y.detach(), [[5, 0], [2, 5]], np.float32)
    _same(x.grad, [[0, 1], [1, 0]], np.float32)         # torch: diagonal gradient 0
    with pytest.raises(ValueError, match="larger than 1"):
        mc.zeros(3).fill_diagonal_(1)
    with pytest.raises(ValueError, match="equal length"):
        mc.zeros(2, 3, 2).fill_diagonal_(1)


def test_conj_storage_offset_and_matrix_transposes():
    x = mc.tensor([1., 2.])
    assert x.conj() is x and x.resolve_conj() is x and x.resolve_neg() is x
    assert not x.is_conj() and not x.is_neg()
    assert mc.arange(6.).view(2, 3)[:, 1:].storage_offset() == 1
    assert mc.arange(6.).view(2, 3).t().storage_offset() == 0
    assert mc.arange(6.)[4:].storage_offset() == 4
    m = mc.arange(6.).view(2, 3)
    assert m.H.shape == m.mH.shape == m.mT.shape == m.adjoint().shape == (3, 2)
    assert mc.zeros(2, 3, 4).mH.shape == mc.zeros(2, 3, 4).adjoint().shape == (2, 4, 3)
    assert mc.tensor(1.).H.item() == 1.0
    for expr in (lambda: x.H, lambda: mc.zeros(2, 3, 4).H, lambda: x.mH, lambda: x.mT,
                 lambda: x.adjoint()):
        with pytest.raises(ValueError, match="only supported on matrices"):
            expr()


def test_isposinf_isneginf_dist():
    v = mc.tensor([1., INF, -INF, NAN])
    _same(mc.isposinf(v), [False, True, False, False], np.bool_)
    _same(v.isneginf(), [False, False, True, False], np.bool_)
    _same(mc.isposinf(mc.tensor([1, 2])), [False, False], np.bool_)
    # torch.dist(tensor([1., 2]), tensor([[3.], [4]]), 3) = 3.5303
    d = mc.dist(mc.tensor([1., 2.]), mc.tensor([[3.], [4.]]), 3)
    assert d.shape == () and d.item() == pytest.approx(3.5303485, rel=1e-6)
    x = mc.tensor([1., 2.], requires_grad=True)
    x.dist(mc.tensor([1., 2.])).backward()              # gradient 0 at distance 0
    _same(x.grad, [0, 0], np.float32)
    with pytest.raises(TypeError, match="must be tensors"):
        mc.dist(mc.tensor([1.]), 3.)
    with pytest.raises(TypeError):
        mc.dist(mc.tensor([1, 2]), mc.tensor([3, 4]))


@given(x=st.tensors(shape=(3, 2), min_value=-0.4, max_value=0.4),
       p=hs.sampled_from([1.0, 2.0, 3.0]))
def test_dist_and_pdist_gradcheck(x, p):
    # rows kept apart in every coordinate: |a - b| has a kink at 0
    apart = mc.tensor([[0., 0.], [1., -1.], [-2., 3.]], dtype=mc.float64)
    gradcheck(lambda t: mc.dist(t + apart, mc.tensor([5., 5.], dtype=mc.float64), p), (x,))
    gradcheck(lambda t: mc.pdist(t + apart, p), (x,))


def test_pdist_values_and_errors():
    # torch.pdist(tensor([[0., 1], [0, 1], [3, 5]])) and its gradient (summed)
    x = mc.tensor([[0., 1.], [0., 1.], [3., 5.]], requires_grad=True)
    y = mc.pdist(x)
    y.sum().backward()
    _same(y.detach(), [0, 5, 5], np.float32)
    np.testing.assert_allclose(x.grad.numpy(), [[-0.6, -0.8], [-0.6, -0.8], [1.2, 1.6]])
    np.testing.assert_allclose(mc.nn.functional.pdist(x, 1.5).detach().numpy(),
                               [0., 5.5842509, 5.5842509], rtol=1e-6)
    assert mc.pdist(mc.zeros(1, 3)).shape == (0,) == mc.pdist(mc.zeros(0, 3)).shape
    with pytest.raises(ValueError, match="2D"):
        mc.pdist(mc.zeros(3))
    with pytest.raises(TypeError, match="floating"):
        mc.pdist(mc.zeros(3, 2, dtype=mc.int64))
    with pytest.raises(ValueError, match="non-negative"):
        mc.pdist(mc.zeros(3, 2), -1)


def test_top_level_inplace_functions_and_detach():
    x = mc.tensor([-1., 2.])
    assert mc.relu_(x) is x
    _same(x, [0, 2], np.float32)
    _same(mc.clamp_(mc.tensor([-3., 3.]), -1, 1), [-1, 1], np.float32)
    _same(mc.zero_(mc.ones(2)), [0, 0], np.float32)
    _same(mc.fill_(mc.ones(2), 7), [7, 7], np.float32)
    _same(mc.log2_(mc.tensor([4.])), [2], np.float32)
    t = mc.ones(2, requires_grad=True)
    d = mc.detach(t)
    assert not d.requires_grad and np.shares_memory(d.data, t.data)
    for name in ("sigmoid_", "tanh_", "exp_", "sqrt_", "erfc_", "xlogy_", "nan_to_num_",
                 "detach_"):
        assert callable(getattr(mc, name))


def test_top_level_functional_aliases_use_torch_signatures():
    x = mc.tensor([[[1., -2., 3., 0.5, -1.]]])
    _same(mc.max_pool1d(x, 2), [[[1, 3]]], np.float32)
    _same(mc.max_pool1d(x, 2, 1), [[[1, 3, 3, 0.5]]], np.float32)
    _same(mc.avg_pool1d(x, 2), [[[-0.5, 1.75]]], np.float32)
    values, indices = mc.adaptive_max_pool1d(x, 2)
    _same(values, [[[3, 3]]], np.float32)
    _same(indices, [[[2, 2]]], np.int64)
    _same(mc.conv1d(x, mc.ones(1, 1, 2), padding=1), [[[1, -1, 1, 3.5, -0.5, -1]]],
          np.float32)
    w = mc.tensor([[1., 2.], [3., 4.], [5., 6.]])
    _same(mc.embedding(w, mc.tensor([2, 0])), [[5, 6], [1, 2]], np.float32)   # weight first
    a, b = mc.tensor([[1., 2.], [3., 0.]]), mc.tensor([[0.5, -1.], [2., 2.]])
    out = mc.batch_norm(a, mc.tensor([2., 1.]), mc.tensor([0., 1.]), None, None, True, 0.1,
                        1e-5, False)
    np.testing.assert_allclose(out.numpy(), [[-1.99999, 1.999995], [1.99999, 5.00679e-06]],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mc.layer_norm(a, (2,)).numpy(),
                               [[-0.99998, 0.99998], [0.999998, -0.999998]], rtol=1e-5)
    _same(mc.dropout(a, 0.5, False), a.numpy(), np.float32)
    np.testing.assert_allclose(mc.rms_norm(a, (2,)).numpy(),
                               [[0.632456, 1.264911], [1.414214, 0.]], rtol=1e-5)
    lq, p = mc.tensor([[-1., -0.5], [-2., -0.1]]), mc.tensor([[0.3, 0.7], [0.1, 0.9]])
    # torch.kl_div(lq, p) is unreduced: the Python binding's default reduction is 0
    np.testing.assert_allclose(mc.kl_div(lq, p).numpy(),
                               [[-0.061192, 0.100328], [-0.030259, -0.004824]], atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # torch.kl_div(..., 1) does not warn
        assert mc.kl_div(lq, p, 1).item() == pytest.approx(0.00101317, rel=1e-4)
    assert mc.kl_div(lq, p, 2).item() == pytest.approx(0.004053, rel=1e-3)
    _same(mc.hinge_embedding_loss(a, mc.tensor([[1., -1.], [-1., 1.]])), [[1, 0], [0, 0]],
          np.float32)
    assert mc.margin_ranking_loss(a[0], a[1], mc.tensor([1., -1.]), 0.5, 2).item() == 5.0
    assert mc.poisson_nll_loss(a, b.abs(), True, False, 1e-8, 2).item() == \
        pytest.approx(22.692875, rel=1e-6)
    np.testing.assert_allclose(mc.cosine_similarity(a, b).numpy(), [-0.6, 0.707107],
                               rtol=1e-5)
    np.testing.assert_allclose(mc.pairwise_distance(a, b).numpy(), [3.041382, 2.236068],
                               rtol=1e-5)
    _same(mc.threshold(a, 1.5, -1.), [[-1, 2], [3, -1]], np.float32)
    _same(mc.hardshrink(a, 1.5), [[0, 2], [3, 0]], np.float32)
    with pytest.raises(ValueError, match="reduction must be 0"):
        mc.kl_div(lq, p, "mean")


# ----------------------------------------------------------------------------- 2. tensor()

@pytest.mark.parametrize("data, dtype", [
    ([np.float64(1.), np.float64(2.)], np.float64),
    ([np.int32(1)], np.int32),
    ([np.int32(1), 2.5], np.float32),
    ([np.int32(1), 2], np.int64),
    ([np.float16(1), 2], np.float16),
    ([np.float16(1), 2.5], np.float32),
    ([np.int32(1), True], np.int32),
    ([np.uint8(1), np.int8(1)], np.int16),
    ([[np.float64(1.)], [2.]], np.float64),
    ([np.array([1, 2], dtype=np.int32)], np.int32),
    ([1., 2.], np.float32),
    ([[1, 2], [3, 4]], np.int64),
    ([True, False], np.bool_),
])
def test_tensor_infers_the_dtype_of_each_element(data, dtype):
    assert mc.tensor(data).dtype == dtype


def test_tensor_constructor_keeps_the_default_dtype():
    assert mc.Tensor([np.float64(1.), 2.]).dtype == np.float32     # torch.Tensor: float32
    assert mc.Tensor([np.int32(1)]).dtype == np.float32


def test_tensor_of_tensors_promotes_their_dtypes():
    assert mc.tensor([mc.tensor(1, dtype=mc.int32), mc.tensor(2, dtype=mc.int32)]).dtype \
        == np.int32
    assert mc.tensor([mc.tensor(1, dtype=mc.int32), 2]).dtype == np.int64
    assert mc.tensor([mc.tensor(1.5, dtype=mc.float64), 2]).dtype == np.float64


# ----------------------------------------------------------------------------- 3. view(dtype)

def test_view_dtype_reinterprets_the_bits():
    x = mc.tensor([1., 2.])
    _same(x.view(mc.int32), [1065353216, 1073741824], np.int32)
    _same(x.view(dtype=mc.int32), [1065353216, 1073741824], np.int32)
    _same(x.view(mc.float16), [0, 1.875, 0, 2], np.float16)
    _same(mc.tensor([[1., 2.]]).view(mc.int64), [[4611686019492741120]], np.int64)
    _same(mc.tensor([[1., 2.], [3., 4.]]).t().view(mc.int32),
          [[1065353216, 1077936128], [1073741824, 1082130432]], np.int32)
    _same(mc.tensor([[1., 2.], [3., 4.]])[:, :1].view(mc.float16), [[0, 1.875], [0, 2.125]],
          np.float16)
    _same(mc.tensor([True, False]).view(mc.uint8), [1, 0], np.uint8)
    assert mc.zeros(0, 4).view(mc.float64).shape == (0, 2)
    v = x.view(mc.int32)
    v[0] = 5                                            # shares memory, as in torch
    assert x[0].item() == pytest.approx(7.0065e-45, rel=1e-3)
    assert not mc.ones(2, requires_grad=True).view(mc.float64).requires_grad
    with pytest.raises(RuntimeError, match="divisible by 2"):
        mc.tensor([1., 2., 3.]).view(mc.float64)
    with pytest.raises(RuntimeError, match="dim.. cannot be 0"):
        mc.tensor(1.).view(mc.float16)
    with pytest.raises(RuntimeError, match="stride.-1. must be 1"):
        mc.tensor([[1., 2.], [3., 4.]]).t().view(mc.float16)


# ----------------------------------------------------------------------------- 4. alpha

def test_add_alpha_keeps_the_promoted_dtype():
    out = mc.add(mc.tensor([1, 2], dtype=mc.int32), mc.tensor([True, False]), alpha=2)
    _same(out, [3, 2], np.int32)
    _same(mc.add(mc.tensor([True]), mc.tensor([True]), alpha=2), [True], np.bool_)
    _same(mc.add(mc.tensor([1., 2.]), mc.tensor([1, 2]), alpha=2.5), [3.5, 7], np.float32)
    _same(mc.sub(mc.tensor([1, 2]), mc.tensor([1., 2.]), alpha=2.5), [-1.5, -3], np.float32)
    for fn in (mc.add, mc.sub):
        for other in (mc.tensor([1, 2]), 3):
            with pytest.raises(RuntimeError, match="alpha must not be a floating"):
                fn(mc.tensor([1, 2]), other, alpha=2.5)
    x = mc.tensor([1., 2.], requires_grad=True)
    y = mc.tensor([3., 4.], requires_grad=True)
    mc.sub(x, y, alpha=3).sum().backward()
    _same(y.grad, [-3, -3], np.float32)


# ----------------------------------------------------------------------------- 5. relu at NaN

def test_relu_gradient_passes_at_nan():
    # torch: relu's backward masks with y <= 0, which is False at NaN
    x = mc.tensor([NAN, 0., 6., -1., 1.], requires_grad=True)
    mc.relu(x).sum().backward()
    _same(x.grad, [1, 0, 1, 0, 1], np.float32)


def test_relu_gradient_passes_at_nan_on_the_fast_kernel():
    x = mc.zeros(4096, requires_grad=True)
    with mc.no_grad():
        x[0] = NAN
    mc.relu(x).backward(mc.ones(4096))          # a contiguous gradient: the Numba path
    assert x.grad[0].item() == 1.0


# ----------------------------------------------------------------------------- 6. factories

def test_full_counts_numpy_scalars_as_python_numbers():
    assert mc.full((2,), np.float64(2.)).dtype == np.float32
    assert mc.full((2,), np.int32(2)).dtype == np.int64
    assert mc.full((2,), np.bool_(True)).dtype == np.float32
    assert mc.full((2,), True).dtype == np.bool_
    assert mc.full((2,), 2).dtype == np.int64


def test_linspace_and_arange_into_integer_dtypes():
    _same(mc.linspace(-1, 1, 7, dtype=mc.int64), [-1, 0, 0, 0, 0, 0, 1], np.int64)
    _same(mc.linspace(-1.5, 3.7, 5, dtype=mc.int32), [-1, 0, 1, 2, 3], np.int32)
    _same(mc.linspace(-96.69, 62.65, 10, dtype=mc.int64),
          [-96, -78, -60, -43, -25, -8, 9, 26, 44, 62], np.int64)
    _same(mc.linspace(0, 1, 3, dtype=mc.uint8), [0, 0, 1], np.uint8)
    _same(mc.linspace(3.7, 10, 1, dtype=mc.int64), [3], np.int64)
    _same(mc.arange(2.5, dtype=mc.int64), [0, 1], np.int64)
    _same(mc.arange(5, 0, -0.5, dtype=mc.int32), [5] * 10, np.int32)
    _same(mc.arange(-2.5, 2, 1.2, dtype=mc.int64), [-2, -1, 0, 1], np.int64)
    _same(mc.arange(-0.5, 2, 1, dtype=mc.int32), [0, 1, 2], np.int32)
    _same(mc.arange(0, -2.5, -1, dtype=mc.int64), [0, -1], np.int64)
    _same(mc.arange(0, 7, 2.9, dtype=mc.int64), [0, 2, 4, 6], np.int64)
    _same(mc.arange(0, 7, 2.9, dtype=mc.uint8), [0, 2, 4], np.uint8)
    assert mc.arange(0.9, dtype=mc.int64).shape == (0,)
    with pytest.raises(ValueError, match="step must be nonzero"):
        mc.arange(0.5, 3, 0.7, dtype=mc.int64)
    with pytest.raises(ValueError, match="inconsistent"):
        mc.arange(1.5, 0.5, dtype=mc.int64)


# ----------------------------------------------------------------------------- 7, 8. bool, /0

def test_integer_division_ops_of_empty_tensors_by_zero():
    empty = mc.zeros(0, dtype=mc.int64)
    for out in (mc.fmod(empty, 0), mc.remainder(empty, 0), empty // 0,
                mc.fmod(empty, mc.zeros(0, dtype=mc.int64))):
        _same(out, [], np.int64)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mc.remainder(mc.tensor([1]), 0)


def test_bool_clamp_square_pow_fmod_follow_torch():
    b = mc.tensor([True, False])
    _same(mc.clamp(b, 0, 1), [1, 0], np.int64)
    _same(mc.clip(b, 0, 1), [1, 0], np.int64)
    _same(mc.clamp_min(b, 0), [1, 0], np.int64)
    _same(mc.clamp_max(b, 0), [0, 0], np.int64)
    _same(mc.clamp(b, min=0.5), [1, 0.5], np.float32)
    _same(mc.clamp(b, min=0, max=True), [1, 0], np.int64)
    _same(mc.square(b), [1, 0], np.int64)
    _same(b ** True, [True, False], np.bool_)
    _same(b ** False, [True, True], np.bool_)
    _same(b ** 2, [1, 0], np.int64)
    _same(mc.pow(2, b), [2, 1], np.int64)
    _same(mc.fmod(b, 1), [0, 0], np.int64)
    c = b.clone()
    c **= True
    _same(c, [True, False], np.bool_)
    for op in (lambda: mc.clamp(b, min=True), lambda: b ** mc.tensor([True, False]),
               lambda: True ** b, lambda: mc.fmod(b, b), lambda: mc.fmod(b, True),
               lambda: mc.remainder(b, b), lambda: b // b):
        with pytest.raises(TypeError, match="bool"):
            op()
    for inplace in (lambda t: t.clamp_(0, 1), lambda t: t.square_(),
                    lambda t: t.pow_(2)):
        with pytest.raises(RuntimeError, match="can't be cast"):
            inplace(b.clone())


# ----------------------------------------------------------------------------- 9, 10. matmul

@pytest.mark.parametrize("fn, shapes, grad_shapes", [
    (mc.matmul, [(0,), (0,)], [(0,), (0,)]),
    (mc.matmul, [(0,), (0, 3)], [(0,), (0, 3)]),
    (mc.matmul, [(2, 3, 0), (0,)], [(2, 3, 0), (0,)]),
    (mc.matmul, [(0,), (2, 0, 3)], [(0,), (2, 0, 3)]),
    (mc.dot, [(0,), (0,)], [(0,), (0,)]),
    (mc.vdot, [(0,), (0,)], [(0,), (0,)]),
    (mc.mv, [(3, 0), (0,)], [(3, 0), (0,)]),
    (lambda a, b: mc.linalg.multi_dot([a, b]), [(0,), (0,)], [(0,), (0,)]),
])
def test_matrix_products_of_empty_vectors_backward(fn, shapes, grad_shapes):
    a, b = (mc.zeros(*s, dtype=mc.float64, requires_grad=True) for s in shapes)
    y = fn(a, b)
    y.sum().backward()
    assert not y.detach().numpy().any()
    assert (a.grad.shape, b.grad.shape) == tuple(grad_shapes)


@given(a=st.tensors(shape=(2, 3, 4)), b=st.tensors(shape=(4,)))
def test_matmul_with_a_vector_gradcheck(a, b):
    gradcheck(mc.matmul, (a, b))
    gradcheck(lambda v, m: mc.matmul(v, m.transpose(-1, -2)), (b, a))


def test_matrix_products_refuse_mixed_dtypes():
    f, d, i = mc.ones(2, 2), mc.ones(2, 2, dtype=mc.float64), mc.ones(2, 2, dtype=mc.int64)
    for op in (lambda: f @ d, lambda: mc.mm(f, d), lambda: mc.matmul(f, i),
               lambda: i @ mc.ones(2, 2, dtype=mc.int32), lambda: mc.bmm(f[None], d[None]),
               lambda: mc.dot(f[0], d[0]), lambda: mc.mv(f, d[0])):
        with pytest.raises(TypeError, match="same dtype.*float32 and float64|same dtype"):
            op()
    _same(i @ i, [[2, 2], [2, 2]], np.int64)
    assert mc.outer(f[0], d[0]).dtype == np.float64     # torch.outer promotes
    assert mc.outer(f[0], i[0]).dtype == np.float32


# ----------------------------------------------------------------------------- 12-16. reductions

def test_sort_of_a_0d_bool_keeps_its_dtype():
    values, indices = mc.sort(mc.tensor(True))
    _same(values, True, np.bool_)
    _same(indices, 0, np.int64)
    x = mc.tensor(2., requires_grad=True)
    mc.sort(x).values.backward()
    assert x.grad.item() == 1.0


def test_median_of_empty_integer_tensors_is_the_smallest_value():
    _same(mc.median(mc.zeros(0, dtype=mc.int64)), np.iinfo(np.int64).min, np.int64)
    _same(mc.median(mc.zeros(0, dtype=mc.int32)), -2147483648, np.int32)
    _same(mc.median(mc.zeros(0, dtype=mc.uint8)), 0, np.uint8)
    _same(mc.nanmedian(mc.zeros(0, dtype=mc.int64)), np.iinfo(np.int64).min, np.int64)
    assert np.isnan(mc.median(mc.zeros(0)).item())


def test_cat_keeps_an_empty_input_that_requires_grad_in_the_graph():
    x = mc.zeros(0, requires_grad=True)
    for others in ([], [mc.ones(2)], [mc.ones(2, 3)]):
        y = mc.cat(others + [x])
        assert y.requires_grad
        y.sum().backward()
        assert x.grad.shape == (0,)
        x.grad = None
    w = mc.ones(1, 3, requires_grad=True)
    mc.cat([mc.ones(2, 3), x, w]).sum().backward()
    _same(w.grad, [[1, 1, 1]], np.float32)
    assert mc.cat([mc.ones(2, 3), mc.zeros(0, dtype=mc.float64)]).dtype == np.float64


@pytest.mark.parametrize("fn, shape, kw, correction, want", [
    ("var", (1,), dict(dim=0), 2, [-0.]),
    ("var", (2,), {}, 2, [INF, INF]),
    ("var", (3,), {}, 3, [INF, INF, INF]),
    ("var", (1,), {}, 2, [NAN]),
    ("var", (), dict(dim=0), 2, NAN),
    ("var", (1, 2), dict(dim=(0, 1)), 2, [[-INF, INF]]),
    ("var", (1, 2), {}, 2, [[INF, INF]]),
    ("var_mean", (1, 2), {}, 2, [[INF, INF]]),
    ("std", (1, 2), dict(dim=(0, 1)), 3, [[0., -0.]]),
    ("std", (2,), {}, 2, [NAN, NAN]),
    ("var", (3,), {}, 1, [-1.0, -0.5, 1.5]),
])
def test_var_std_gradients_without_degrees_of_freedom(fn, shape, kw, correction, want):
    n = int(np.prod(shape))
    x = mc.tensor([1.5, 2.0, 4.0][:max(n, 1)]).reshape(shape).clone().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(mc, fn)(x, correction=correction, **kw)
    (y[0] if fn == "var_mean" else y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.asarray(want, np.float32))
    number = ~np.isnan(np.asarray(want))
    assert np.array_equal(np.signbit(x.grad.numpy())[number], np.signbit(want)[number])


def test_reductions_refuse_what_torch_refuses():
    b = mc.tensor([True, False])
    for op in (mc.argmax, mc.argmin, lambda t: mc.argmax(t, 0), mc.median,
               lambda t: mc.median(t, 0), mc.nanmedian, lambda t: mc.topk(t, 1),
               lambda t: mc.kthvalue(t, 1)):
        with pytest.raises(TypeError, match="bool"):
            op(b)
    for op in (lambda: mc.mean(mc.tensor([1., 2.]), dtype=mc.int64),
               lambda: mc.mean(mc.tensor([1, 2]), dtype=mc.int64),
               lambda: mc.nanmean(mc.tensor([1., 2.]), dtype=mc.int64)):
        with pytest.raises(TypeError, match="Optional dtype must be either a floating"):
            op()
    _same(mc.mean(mc.tensor([1, 2]), dtype=mc.float64), 1.5, np.float64)
    _same(mc.max(b), True, np.bool_)


def test_alpha_wraps_integers_silently_and_numpy_float_alpha_is_a_float():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert mc.add(mc.tensor([5], dtype=mc.uint8), 2, alpha=-1).tolist() == [3]
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        mc.add(mc.tensor([5]), 2, alpha=np.float64(1.0))
