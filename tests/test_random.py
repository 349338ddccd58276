"""minicv.random (bernoulli, multinomial, normal, poisson, the in-place fills and the
global stream's state), dtype utilities (result_type, promote_types, can_cast, finfo,
iinfo), the smaller factories (asarray, scalar_tensor, logspace, randint_like) and the
Tensor attributes PyTorch code reads (is_cuda, nbytes, get_device, ...). Expected dtypes
and errors were checked against PyTorch 2.13; random values are checked by their laws
(ranges, means over many draws, reproducibility under a seed)."""
import numpy as np
import pytest

import minicv as mc


@pytest.fixture(autouse=True)
def _seed():
    mc.manual_seed(0)


# ----------------------------------------------------------------------------- sampling

def test_bernoulli_follows_probabilities_and_keeps_dtype():
    p = mc.tensor([0.0, 1.0, 0.3], dtype=mc.float64).expand(20000, 3)
    b = mc.bernoulli(p)
    assert b.dtype == mc.float64 and b.shape == (20000, 3)
    m = b.mean(0).tolist()
    assert m[0] == 0.0 and m[1] == 1.0 and abs(m[2] - 0.3) < 0.02
    assert set(np.unique(b.numpy())) <= {0.0, 1.0}
    half = mc.bernoulli(mc.zeros(20000), 0.5)                 # bernoulli(input, p)
    assert abs(half.mean().item() - 0.5) < 0.02


def test_bernoulli_of_a_tensor_that_requires_grad_has_a_zero_gradient():
    p = mc.tensor([0.2, 0.9], requires_grad=True)
    b = mc.bernoulli(p)
    assert b.requires_grad                                    # as in PyTorch
    (b * 3).sum().backward()
    assert p.grad.tolist() == [0.0, 0.0]


def test_bernoulli_errors():
    with pytest.raises(RuntimeError, match="0 <= p <= 1"):
        mc.bernoulli(mc.tensor([1.5]))
    with pytest.raises(TypeError, match="floating"):
        mc.bernoulli(mc.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="0 <= p <= 1"):
        mc.zeros(3).bernoulli_(-0.1)


def test_multinomial_with_and_without_replacement():
    w = mc.tensor([0.0, 1.0, 3.0])
    draws = mc.multinomial(w, 8000, replacement=True)
    assert draws.dtype == mc.int64 and draws.shape == (8000,)
    counts = np.bincount(draws.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 8000 - 0.75) < 0.03
    rows = mc.multinomial(mc.ones(4, 5), 5)                   # a permutation per row
    assert rows.shape == (4, 5)
    assert all(sorted(r) == [0, 1, 2, 3, 4] for r in rows.tolist())
    assert sorted(mc.multinomial(w, 2).tolist()) == [1, 2]    # zero weight never drawn


@pytest.mark.parametrize("weights, n, kwargs, words", [
    ([0.0, 0.0], 1, {}, "sum of probabilities"),
    ([-1.0, 1.0], 1, {}, "element < 0"),
    ([float("nan"), 1.0], 1, {}, "nan"),
    ([1.0, 1.0], 3, {}, "without replacement"),
    ([0.0, 1.0, 1.0], 3, {}, "non-zero probability"),
    ([1.0, 2.0], 0, {}, "n_sample <= 0"),
    ([[[1.0]]], 1, {}, "1 or 2 dim"),
])
def test_multinomial_errors(weights, n, kwargs, words):
    with pytest.raises(RuntimeError, match=words):
        mc.multinomial(mc.tensor(weights), n, **kwargs)
    with pytest.raises(RuntimeError, match="floating-point"):
        mc.multinomial(mc.tensor([1, 2]), 1)


def test_normal_overloads():
    x = mc.normal(mc.full((20000,), 3.0, dtype=mc.float64), 0.5)
    assert x.dtype == mc.float64
    assert abs(x.mean().item() - 3.0) < 0.02 and abs(x.std().item() - 0.5) < 0.02
    y = mc.normal(0.0, mc.tensor([1.0, 2.0, 4.0]).expand(30000, 3))
    assert np.allclose(y.std(0).numpy(), [1.0, 2.0, 4.0], rtol=0.05)
    assert mc.normal(mc.zeros(2, dtype=mc.float64), mc.ones(3, 1)).shape == (3, 2)
    z = mc.normal(2.0, 3.0, size=(2, 4))
    assert z.shape == (2, 4) and z.dtype == mc.float32
    with pytest.raises(RuntimeError, match="std >= 0"):
        mc.normal(mc.zeros(2), -1.0)
    with pytest.raises(TypeError, match="size="):
        mc.normal(0.0, 1.0)


def test_normal_mean_gets_a_zero_gradient():
    mean = mc.zeros(3, requires_grad=True)
    out = mc.normal(mean, 1.0)
    assert out.requires_grad
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0, 0.0]


def test_poisson():
    x = mc.poisson(mc.full((20000,), 4.0))
    assert x.dtype == mc.float32 and abs(x.mean().item() - 4.0) < 0.1
    assert np.all(x.numpy() == np.round(x.numpy()))
    with pytest.raises(RuntimeError, match="non-negative"):
        mc.poisson(mc.tensor([-1.0]))


def test_random_fill_ranges_by_dtype():
    assert set(mc.zeros(500).random_(3).tolist()) == {0.0, 1.0, 2.0}
    assert set(mc.zeros(500).random_(2, 4).tolist()) == {2.0, 3.0}
    u8 = mc.zeros(2000, dtype=mc.uint8).random_()
    assert u8.dtype == mc.uint8 and u8.max().item() > 240
    i8 = mc.zeros(2000, dtype=mc.int8).random_()
    assert i8.min().item() >= 0 and i8.max().item() > 110                # [0, 127]
    f16 = mc.zeros(2000, dtype=mc.float16).random_()
    assert f16.max().item() <= 2048                                     # [0, 2**11]
    assert mc.zeros(4, dtype=mc.int64).random_(**{"from": -5, "to": -2}).max().item() < -2
    with pytest.raises(RuntimeError, match="less than 'to'"):
        mc.zeros(3).random_(4, 2)
    with pytest.raises(RuntimeError, match="out of bounds"):
        mc.zeros(3, dtype=mc.uint8).random_(0, 300)


def test_continuous_fills_and_their_errors():
    x = mc.zeros(20000, dtype=mc.float64)
    assert abs(x.exponential_(2.0).mean().item() - 0.5) < 0.02
    g = x.geometric_(0.25)
    assert g.min().item() >= 1 and abs(g.mean().item() - 4.0) < 0.15
    assert abs(x.cauchy_(3.0, 0.1).median().item() - 3.0) < 0.01
    assert abs(np.log(x.log_normal_(1.0, 0.5).numpy()).mean() - 1.0) < 0.02
    for name, args, words in [("exponential_", (-1.0,), "lambda > 0"),
                              ("geometric_", (0.0,), r"in \(0, 1\)"),
                              ("cauchy_", (0.0, -1.0), "sigma > 0"),
                              ("log_normal_", (1.0, 0.0), "std > 0")]:
        with pytest.raises(RuntimeError, match=words):
            getattr(mc.zeros(2), name)(*args)
    with pytest.raises(RuntimeError, match="floating dtype"):
        mc.zeros(2, dtype=mc.int64).exponential_()
    assert mc.zeros(3, dtype=mc.int64).geometric_(0.5).dtype == mc.int64


def test_generator_argument_and_seed_reproduce_draws():
    a = mc.zeros(5).exponential_(generator=mc.Generator().manual_seed(3))
    b = mc.zeros(5).exponential_(generator=mc.Generator().manual_seed(3))
    assert a.tolist() == b.tolist()
    mc.manual_seed(1)
    c = mc.multinomial(mc.ones(6), 6)
    mc.manual_seed(1)
    assert mc.multinomial(mc.ones(6), 6).tolist() == c.tolist()


def test_rng_state_round_trip():
    state = mc.get_rng_state()
    assert state.dtype == mc.uint8 and state.ndim == 1
    first = mc.rand(4).tolist()
    mc.set_rng_state(state)
    assert mc.rand(4).tolist() == first
    s = mc.seed()
    assert mc.initial_seed() == s


def test_recorded_fill_on_a_non_leaf_cuts_the_gradient():
    x = mc.ones(3, requires_grad=True)
    y = x * 2
    y.bernoulli_(1.0)                          # overwrites every value: no gradient to x
    (y * x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # only the direct use of x


# ----------------------------------------------------------------------------- dtype utilities

def test_result_type_and_promote_types_follow_pytorch():
    i32 = mc.tensor([1], dtype=mc.int32)
    assert mc.result_type(i32, 2.5) == mc.float32
    assert mc.result_type(mc.tensor(1.0, dtype=mc.float64), mc.tensor([1.0])) == mc.float32
    assert mc.result_type(2, 3.0) == mc.float32
    assert mc.result_type(True, mc.tensor([1], dtype=mc.uint8)) == mc.uint8
    assert mc.result_type(i32, mc.tensor([1], dtype=mc.int64)) == mc.int64
    assert mc.promote_types(mc.uint8, mc.int8) == mc.int16
    assert mc.promote_types(mc.int32, mc.float32) == mc.float32       # NumPy: float64
    assert mc.promote_types(mc.bool, mc.float16) == mc.float16


def test_can_cast_finfo_iinfo():
    assert mc.can_cast(mc.int8, mc.uint8) and mc.can_cast(mc.int64, mc.int8)
    assert mc.can_cast(mc.bool, mc.float16)
    assert not mc.can_cast(mc.float16, mc.bool) and not mc.can_cast(mc.float32, mc.int32)
    assert mc.finfo().eps == np.finfo(np.float32).eps
    assert mc.finfo(mc.float64).tiny == np.finfo(np.float64).tiny
    assert mc.iinfo(mc.int8).max == 127 and mc.iinfo(mc.uint8).min == 0


# ----------------------------------------------------------------------------- factories

def test_asarray_shares_or_copies_as_asked():
    a = np.arange(3.0, dtype=np.float32)
    t = mc.asarray(a)
    a[0] = 7
    assert t[0].item() == 7                                  # shared
    assert mc.asarray(a, copy=True).data is not a
    with pytest.raises(ValueError, match="copy=False"):
        mc.asarray([1, 2], copy=False)
    assert mc.asarray([1, 2]).dtype == mc.int64 and mc.asarray(3.0).shape == ()
    x = mc.ones(2)
    assert mc.asarray(x) is x
    assert mc.asarray(x, requires_grad=True).requires_grad and not x.requires_grad


def test_scalar_tensor_logspace_randint_like():
    s = mc.scalar_tensor(3)
    assert s.shape == () and s.dtype == mc.float32 and s.item() == 3.0
    assert mc.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    assert mc.logspace(0, 3, 4, base=2).tolist() == [1.0, 2.0, 4.0, 8.0]
    r = mc.randint_like(mc.zeros(50, 2), 5)
    assert r.dtype == mc.float32 and r.shape == (50, 2) and set(r.unique().tolist()) <= set(
        range(5))
    r = mc.randint_like(mc.zeros(50, dtype=mc.int32), 2, 4)
    assert r.dtype == mc.int32 and set(r.tolist()) <= {2, 3}


# ----------------------------------------------------------------------------- attributes

def test_tensor_attributes_pytorch_code_reads():
    x = mc.zeros(3)
    assert (x.is_cuda, x.is_cpu, x.nbytes, x.itemsize, x.get_device()) == (False, True, 12,
                                                                          4, -1)
    assert x.ndimension() == 1 and x.is_signed() and not x.is_complex()
    assert not mc.zeros(2, dtype=mc.uint8).is_signed()
    assert not (x.is_sparse or x.is_quantized or x.is_meta)
    assert mc.tensor([2.0]).is_nonzero() and not mc.is_nonzero(mc.tensor([0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        mc.tensor([1.0, 2.0]).is_nonzero()
    assert x.is_same_size(mc.ones(3)) and not mc.is_same_size(x, mc.ones(1, 3))
    assert mc.equal(x, mc.zeros(3)) and not mc.equal(x, mc.ones(3))
    assert x.data_ptr() == x.data.__array_interface__["data"][0]
    assert x[1:].data_ptr() == x.data_ptr() + 4


def test_retains_grad_property():
    x = mc.ones(2, requires_grad=True)
    y = x * 2
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad


def test_asarray_keeps_a_tensor_in_the_graph_as_pytorch():
    t = mc.tensor([1.0, 2.0], requires_grad=True)
    assert mc.asarray(t) is t
    c = mc.asarray(t, copy=True)                       # PyTorch: CloneBackward
    assert c.requires_grad and c.grad_fn is not None and c.data is not t.data
    d = mc.asarray(t, dtype=mc.float64)                # PyTorch: ToCopyBackward
    (c.sum() + d.sum() * 2).backward()
    assert d.dtype == mc.float64 and t.grad.tolist() == [3.0, 3.0]
    assert not mc.asarray(t, requires_grad=False).requires_grad and t.requires_grad
    with pytest.raises(ValueError, match="without a copy"):
        mc.asarray(t, dtype=mc.float64, copy=False)


def test_sampling_methods_and_normal_gradients_to_both_inputs():
    p = mc.full((4, 3), 0.5)
    assert p.bernoulli().shape == (4, 3)
    assert p.multinomial(2).shape == (4, 2)
    m, s = mc.zeros(3, requires_grad=True), mc.ones(3, requires_grad=True)
    mc.normal(m, s).sum().backward()
    assert m.grad.tolist() == [0.0] * 3 and s.grad.tolist() == [0.0] * 3
