"""roll, broadcast_to, meshgrid, repeat_interleave, addmm, unique, bincount, index_put,
bit shifts, autograd.backward and uniform_'s keywords. Expected values were computed with
PyTorch 2.13 (CPU) and are written out, so the tests need no torch; gradients are checked
by float64 gradcheck."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st


# ----------------------------------------------------------------------------- roll

def test_roll_values():
    x = mc.arange(6.).reshape(2, 3)
    # torch.roll(x, 1); torch.roll(x, (1, -1), (0, 1))
    assert mc.roll(x, 1).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert x.roll((1, -1), (0, 1)).tolist() == [[4, 5, 3], [1, 2, 0]]
    assert x.roll((1,)).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert x.roll((1, 1), (1, 1)).tolist() == [[1, 2, 0], [4, 5, 3]]     # shifts add up
    assert mc.roll(mc.tensor(3.), 1).item() == 3.0
    assert x.roll(2, -1).dtype == x.dtype


@given(x=st.tensors(shape=(2, 3, 4)), s=hs.integers(-5, 5), d=hs.integers(-3, 2))
def test_roll_matches_numpy_and_gradcheck(x, s, d):
    np.testing.assert_array_equal(mc.roll(x, s, d).data, np.roll(x.data, s, d))
    np.testing.assert_array_equal(mc.roll(x, s).data, np.roll(x.data, s))
    gradcheck(lambda t: mc.roll(t, (s, 1), (d, 0)), (x,))
    gradcheck(lambda t: mc.roll(t, s), (x,))


def test_roll_errors():
    x = mc.zeros(2, 3)
    with pytest.raises(ValueError, match="shifts and dimensions must align"):
        mc.roll(x, (1, 2))
    with pytest.raises(ValueError, match="shifts and dimensions must align"):
        mc.roll(x, (1, 2), (0,))
    with pytest.raises(IndexError, match="Dimension out of range"):
        mc.roll(x, 1, 2)


# ----------------------------------------------------------------------------- broadcast_to

@given(x=st.tensors(shape=(3, 1)))
def test_broadcast_to(x):
    y = mc.broadcast_to(x, (2, 3, 4))
    np.testing.assert_array_equal(y.data, np.broadcast_to(x.data, (2, 3, 4)))
    assert np.shares_memory(y.data, x.data)                             # a view
    assert x.broadcast_to((3, -1)).shape == (3, 1)
    gradcheck(lambda t: mc.broadcast_to(t, (2, 3, 4)) * mc.arange(4.).double(), (x,))


def test_broadcast_to_errors():
    with pytest.raises(ValueError, match="does not match"):
        mc.broadcast_to(mc.zeros(3), (2, 4))
    with pytest.raises(ValueError, match="number of sizes"):
        mc.broadcast_to(mc.zeros(2, 3), (3,))


# ----------------------------------------------------------------------------- meshgrid

def test_meshgrid_ij_and_xy():
    a, b = mc.meshgrid(mc.tensor([1, 2]), mc.tensor([3, 4, 5]), indexing="ij")
    assert a.tolist() == [[1, 1, 1], [2, 2, 2]] and b.tolist() == [[3, 4, 5], [3, 4, 5]]
    a, b = mc.meshgrid([mc.tensor([1, 2]), mc.tensor([3, 4, 5])], indexing="xy")
    assert a.tolist() == [[1, 2]] * 3 and b.tolist() == [[3, 3], [4, 4], [5, 5]]
    # torch: shape (3, 2, 4); strides (0, 1, 0) and (1, 0, 0): views of the inputs
    a, b, c = mc.meshgrid(mc.arange(2), mc.arange(3), mc.arange(4), indexing="xy")
    assert a.shape == b.shape == c.shape == (3, 2, 4)
    assert a.stride() == (0, 1, 0) and b.stride() == (1, 0, 0) and c.stride() == (0, 0, 1)
    a, b = mc.meshgrid(mc.tensor(1.), mc.arange(2.), indexing="ij")     # 0-d counts as 1
    assert a.tolist() == [[1, 1]] and b.tolist() == [[0, 1]]
    for out, want in zip(mc.meshgrid(mc.arange(2), mc.arange(3), indexing="xy"),
                         np.meshgrid(np.arange(2), np.arange(3), indexing="xy")):
        np.testing.assert_array_equal(out.data, want)


def test_meshgrid_warns_without_indexing():
    with pytest.warns(UserWarning, match="indexing"):
        a, _ = mc.meshgrid(mc.arange(2), mc.arange(3))
    assert a.shape == (2, 3)                                            # 'ij'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mc.meshgrid(mc.arange(2), indexing="ij")


@given(x=st.tensors(shape=(2,)), y=st.tensors(shape=(3,)))
def test_meshgrid_gradcheck(x, y):
    w = mc.arange(6.).double().reshape(3, 2)
    gradcheck(lambda a, b: [g * w for g in mc.meshgrid(a, b, indexing="xy")], (x, y))


def test_meshgrid_errors():
    with pytest.raises(TypeError, match="same dtype"):
        mc.meshgrid(mc.arange(2), mc.arange(3.), indexing="ij")
    with pytest.raises(ValueError, match="0-d or 1-d"):
        mc.meshgrid(mc.zeros(2, 2), indexing="ij")
    with pytest.raises(ValueError, match="'xy' or 'ij'"):
        mc.meshgrid(mc.arange(2), indexing="foo")
    with pytest.raises(ValueError, match="non-empty"):
        mc.meshgrid(indexing="ij")


# ----------------------------------------------------------------------------- repeat_interleave

def test_repeat_interleave_values():
    x = mc.tensor([[1., 2], [3, 4]])
    # torch.repeat_interleave(...) for each case
    assert mc.repeat_interleave(mc.tensor([1, 2])).tolist() == [0, 1, 1]
    assert mc.repeat_interleave(x, 2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert x.repeat_interleave(mc.tensor([1, 2]), dim=0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert x.repeat_interleave(mc.tensor([2]), dim=1).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    assert x.repeat_interleave(mc.tensor([0, 3]), dim=-1, output_size=3).tolist() == [
        [2, 2, 2], [4, 4, 4]]
    assert mc.repeat_interleave(mc.tensor(3.), 2).tolist() == [3, 3]
    assert mc.repeat_interleave(mc.tensor([1, 2]), 0).shape == (0,)
    assert mc.repeat_interleave(x.long(), 2, 0).dtype == np.int64


@given(x=st.tensors(shape=(3, 2)), reps=hs.lists(hs.integers(0, 3), min_size=3, max_size=3))
def test_repeat_interleave_gradcheck(x, reps):
    r = mc.tensor(reps)
    np.testing.assert_array_equal(x.repeat_interleave(r, 0).data, np.repeat(x.data, reps, 0))
    if sum(reps):
        gradcheck(lambda t: t.repeat_interleave(r, dim=0), (x,))
    gradcheck(lambda t: t.repeat_interleave(2, dim=1), (x,))
    gradcheck(lambda t: t.repeat_interleave(3), (x,))


def test_repeat_interleave_errors():
    x = mc.zeros(2, 2)
    with pytest.raises(ValueError, match="non-negative"):
        mc.repeat_interleave(x, -1)
    with pytest.raises(ValueError, match="can not be negative"):
        mc.repeat_interleave(x, mc.tensor([1, -2]), dim=0)
    with pytest.raises(ValueError, match="same size as input"):
        mc.repeat_interleave(x, mc.tensor([1, 2, 3]), dim=0)
    with pytest.raises(TypeError, match="integer tensor"):
        mc.repeat_interleave(x, mc.tensor([1., 2.]), dim=0)
    with pytest.raises(ValueError, match="output_size"):
        mc.repeat_interleave(x, mc.tensor([1, 2]), dim=0, output_size=4)


# ----------------------------------------------------------------------------- addmm

def test_addmm_values():
    m1, m2 = mc.arange(6.).reshape(2, 3), mc.arange(6.).reshape(3, 2)
    # torch.addmm(ones(2, 2), m1, m2) and torch.addmm(ones(2), m1, m2, beta=2, alpha=.5)
    assert mc.addmm(mc.ones(2, 2), m1, m2).tolist() == [[11, 14], [29, 41]]
    assert mc.addmm(mc.ones(2), m1, m2, beta=2, alpha=.5).tolist() == [[7, 8.5], [16, 22]]
    assert mc.ones(3).addmm(mc.ones(3, 2), mc.ones(2, 3)).tolist() == [[3] * 3] * 3
    # integer tensors: torch truncates beta to 0 here
    i = mc.ones(2, dtype=mc.int64)
    assert mc.addmm(i, mc.ones(2, 3, dtype=mc.int64), mc.ones(3, 2, dtype=mc.int64),
                    beta=0.5).tolist() == [[3, 3], [3, 3]]


def test_addmm_beta_zero_ignores_nan_input():
    nan = mc.full((2, 2), float("nan"), requires_grad=True)
    out = mc.addmm(nan, mc.arange(6.).reshape(2, 3), mc.arange(6.).reshape(3, 2), beta=0)
    assert out.tolist() == [[10, 13], [28, 40]]
    out.sum().backward()
    assert nan.grad.tolist() == [[0, 0], [0, 0]]                        # as torch


@given(c=st.tensors(shape=(2,)), a=st.tensors(shape=(3, 4)), b=st.tensors(shape=(4, 2)),
       beta=hs.sampled_from([0, 1, -0.5]), alpha=hs.sampled_from([1, 2.5]))
def test_addmm_gradcheck(c, a, b, beta, alpha):
    want = beta * c.data + alpha * a.data @ b.data
    np.testing.assert_allclose(mc.addmm(c, a, b, beta=beta, alpha=alpha).data, want)
    gradcheck(lambda x, y, z: mc.addmm(x, y, z, beta=beta, alpha=alpha), (c, a, b))


def test_addmm_errors():
    m1, m2 = mc.ones(2, 3), mc.ones(3, 2)
    with pytest.raises(TypeError, match="same dtype"):
        mc.addmm(mc.ones(2).double(), m1, m2)
    with pytest.raises(ValueError, match="does not broadcast"):
        mc.addmm(mc.ones(3), m1, m2)
    with pytest.raises(ValueError, match=r"cannot be multiplied \(2x3 and 2x3\)"):
        mc.addmm(mc.ones(2, 2), m1, m1)
    with pytest.raises(ValueError, match="mat1 must be a matrix"):
        mc.addmm(mc.ones(2, 2), m1[0], m2)


# ----------------------------------------------------------------------------- unique, bincount

def test_unique():
    x = mc.tensor([3., 1, 2, 1, 3])
    # torch.unique(x, return_inverse=True, return_counts=True)
    out, inverse, counts = mc.unique(x, return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 3] and out.dtype == np.float32
    assert inverse.tolist() == [2, 0, 1, 0, 2] and inverse.dtype == np.int64
    assert counts.tolist() == [2, 1, 2] and counts.dtype == np.int64
    assert x.unique(sorted=False).tolist() == [1, 2, 3]
    out, counts = mc.unique(mc.tensor([3, 1, 3]), return_counts=True)
    assert out.tolist() == [1, 3] and counts.tolist() == [1, 2]
    _, inverse = mc.unique(mc.tensor([[1, 2], [1, 2], [0, 5]]), return_inverse=True)
    assert inverse.tolist() == [[1, 2], [1, 2], [0, 3]]                 # input's shape
    assert np.isnan(mc.unique(mc.tensor([float("nan"), float("nan"), 1.])).data[1:]).all()
    assert mc.unique(mc.tensor([True, False, True])).tolist() == [False, True]
    out, inverse, counts = mc.unique(mc.tensor(5), return_inverse=True, return_counts=True)
    assert out.tolist() == [5] and inverse.shape == () and counts.tolist() == [1]


def test_unique_dim_and_no_grad():
    rows = mc.tensor([[1, 2], [1, 2], [0, 5]])
    out, inverse, counts = rows.unique(dim=0, return_inverse=True, return_counts=True)
    assert out.tolist() == [[0, 5], [1, 2]] and inverse.tolist() == [1, 1, 0]
    assert counts.tolist() == [1, 2]
    assert rows.unique(dim=1).tolist() == [[1, 2], [1, 2], [0, 5]]
    x = mc.tensor([1., 2., 1.], requires_grad=True)
    assert not mc.unique(x).requires_grad


def test_bincount():
    x = mc.tensor([0, 1, 1, 3])
    # torch.bincount(x), (x, minlength=6), weights float32 / float64 / int64
    assert mc.bincount(x).tolist() == [1, 2, 0, 1] and mc.bincount(x).dtype == np.int64
    assert x.bincount(minlength=6).tolist() == [1, 2, 0, 1, 0, 0]
    assert mc.bincount(mc.tensor([], dtype=mc.int64)).shape == (0,)
    w = mc.bincount(x, weights=mc.tensor([.5, 1, 1, 2]))
    assert w.tolist() == [0.5, 2, 0, 2] and w.dtype == np.float32
    assert mc.bincount(x, mc.tensor([.5, 1, 1, 2]).double()).dtype == np.float64
    assert mc.bincount(x, mc.tensor([1, 2, 3, 4])).dtype == np.float64
    assert mc.bincount(mc.tensor([1, 2], dtype=mc.uint8)).tolist() == [0, 1, 1]


def test_bincount_errors():
    with pytest.raises(ValueError, match="non-negative"):
        mc.bincount(mc.tensor([-1, 2]))
    with pytest.raises(TypeError, match="1-d non-negative integral"):
        mc.bincount(mc.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="1-d non-negative integral"):
        mc.bincount(mc.tensor([1., 2.]))
    with pytest.raises(ValueError, match="same length"):
        mc.bincount(mc.tensor([0, 1]), weights=mc.tensor([1.]))
    with pytest.raises(ValueError, match="minlength"):
        mc.bincount(mc.tensor([0, 1]), minlength=-1)


# ----------------------------------------------------------------------------- index_put

def test_index_put_values():
    a = mc.zeros(3, 4)
    rows, cols = mc.tensor([0, 0, 2]), mc.tensor([1, 1, 3])
    # torch: a.index_put((rows, cols), tensor([1., 2., 3.]), accumulate=True)
    assert a.index_put((rows, cols), mc.tensor([1., 2, 3]), accumulate=True).tolist() == [
        [0, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 3]]
    assert a.index_put((mc.tensor([0, 2]),), mc.tensor(5.)).tolist() == [
        [5] * 4, [0] * 4, [5] * 4]
    mask = mc.tensor([True, False, True])
    assert a.index_put((mask,), mc.tensor([1., 2, 3, 4]), accumulate=True).tolist() == [
        [1, 2, 3, 4], [0] * 4, [1, 2, 3, 4]]
    assert a.index_put([mc.tensor(1), mc.tensor(2)], mc.tensor(7.),
                       accumulate=True)[1].tolist() == [0, 0, 7, 0]
    assert a.index_put((None, mc.tensor([1])), mc.tensor(2.))[:, 1].tolist() == [2, 2, 2]
    assert a.sum().item() == 0                                          # out of place
    b = mc.zeros(3)
    assert b.index_put_((mc.tensor([0, 0, 2]),), mc.tensor(1.), accumulate=True) is b
    assert b.tolist() == [2, 0, 1]
    assert mc.index_put(mc.zeros(2, dtype=mc.int64), (mc.tensor([1]),),
                        mc.tensor([3])).tolist() == [0, 3]


def test_index_put_gradients_match_torch():
    idx = (mc.tensor([0, 0, 2]), mc.tensor([1, 1, 3]))
    w = mc.arange(12.).reshape(3, 4)
    for accumulate, gx in ((True, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]),
                           (False, [[0, 0, 2, 3], [4, 5, 6, 7], [8, 9, 10, 0]])):
        x = mc.zeros(3, 4, requires_grad=True)
        v = mc.tensor([1., 2, 3], requires_grad=True)
        y = x * 1
        y.index_put_(idx, v * 1, accumulate=accumulate)
        (y * w).sum().backward()
        assert x.grad.tolist() == gx and v.grad.tolist() == [1, 1, 11]   # torch's


@given(x=st.tensors(shape=(3, 4)), v=st.tensors(shape=(2, 1)), accumulate=hs.booleans())
def test_index_put_gradcheck(x, v, accumulate):
    # a repeated row only when accumulating: an overwrite keeps one write, yet (as in
    # PyTorch) every duplicate gets its target's gradient, which finite differences deny
    idx = (mc.tensor([[2], [2]] if accumulate else [[2], [0]]),)      # v broadcast
    gradcheck(lambda a, b: mc.index_put(a, idx, b.reshape(2, 1, 1), accumulate), (x, v))
    gradcheck(lambda a, b: a.index_put((mc.tensor([1, 1]), mc.tensor([0, 3])), b[:, 0],
                                       accumulate), (x, v))


def test_index_put_errors():
    a = mc.zeros(3, 4)
    with pytest.raises(TypeError, match="dtypes to match"):
        a.index_put((mc.tensor([0]),), mc.tensor(1))
    with pytest.raises(TypeError, match="tuple of index tensors"):
        a.index_put(mc.tensor([0]), mc.tensor(1.))
    with pytest.raises(IndexError, match="too many indices"):
        a.index_put((mc.tensor([0]),) * 3, mc.tensor(1.))
    with pytest.raises(IndexError, match="out of bounds"):
        a.index_put((mc.tensor([5]),), mc.tensor(1.), accumulate=True)
    leaf = mc.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.index_put_((mc.tensor([0]),), mc.tensor(1.))


# ----------------------------------------------------------------------------- shifts

def test_shift_values_and_dtypes():
    # expected values: the same expressions in torch
    for dt in (mc.int64, mc.int32, mc.int8):
        x = mc.tensor([1, 3, -8], dtype=dt)
        assert (x << 2).tolist() == [4, 12, -32] and (x << 2).dtype == dt
        assert (x >> 1).tolist() == [0, 1, -4] and (x >> 1).dtype == dt
    u = mc.tensor([1, 3, 248], dtype=mc.uint8)
    assert (u << 2).tolist() == [4, 12, 224] and (u >> 1).tolist() == [0, 1, 124]
    assert (u << mc.tensor(1)).dtype == np.uint8
    assert (mc.tensor([1, 2], dtype=mc.uint8) << mc.tensor([1])).dtype == np.int64
    assert (1 << mc.tensor([1, 2])).tolist() == [2, 4]
    assert (16 >> mc.tensor([1, 2])).tolist() == [8, 4]
    assert (mc.tensor([True]) << 1).tolist() == [2]
    assert mc.bitwise_left_shift(mc.tensor([3]), 1).tolist() == [6]
    assert mc.tensor([-3]).bitwise_right_shift(1).tolist() == [-2]


def test_shift_counts_out_of_range_follow_torch():
    big = mc.tensor([1, 1, 1, -8, -8]) << mc.tensor([63, 64, 70, 64, -1])
    assert big.tolist() == [-2 ** 63, 0, 0, 0, 0]
    assert (mc.tensor([-8, -8, 8, 5]) >> mc.tensor([-1, 100, 100, 2])).tolist() == [
        -1, -1, 0, 1]
    assert (mc.tensor([1, 1], dtype=mc.uint8) << mc.tensor([8, 9], dtype=mc.uint8)).tolist() \
        == [0, 0]
    assert (mc.tensor([200], dtype=mc.uint8) >> mc.tensor([9], dtype=mc.uint8)).tolist() == [0]
    assert (mc.tensor([1, 1], dtype=mc.int8) << mc.tensor([7, 8], dtype=mc.int8)).tolist() == [
        -128, 0]
    assert (mc.tensor([1, 2], dtype=mc.int32) << 40).tolist() == [0, 0]


def test_shift_in_place_and_errors():
    u = mc.tensor([1, 2])
    u <<= 2
    assert u.tolist() == [4, 8]
    u >>= mc.tensor([1, 0])
    assert u.tolist() == [2, 8]
    with pytest.raises(TypeError, match="'<<' needs bool or integer"):
        mc.tensor([1.5]) << 1
    with pytest.raises(TypeError, match="'>>' needs bool or integer"):
        mc.tensor([4]) >> mc.tensor([1.])
    with pytest.raises(TypeError, match="not implemented for bool"):
        mc.tensor([True]) << mc.tensor([True])


def test_shifts_match_torch_sweep():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dt in (np.int64, np.int32, np.int16, np.int8, np.uint8):
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, 50, dtype=dt, endpoint=True)
        b = rng.integers(-3, 8 * a.itemsize + 3, 50).astype(dt)
        for op in ("__lshift__", "__rshift__"):
            want = getattr(torch.from_numpy(a), op)(torch.from_numpy(b)).numpy()
            got = getattr(mc.tensor(a), op)(mc.tensor(b))
            np.testing.assert_array_equal(got.data, want, err_msg=f"{dt} {op}")


# ----------------------------------------------------------------------------- autograd.backward

def test_autograd_backward_sums_roots():
    p = mc.tensor([1., 2.], requires_grad=True)
    mc.autograd.backward([(p * p).sum(), p * 3], [None, mc.tensor([1., 10.])])
    assert p.grad.tolist() == [5, 34]                           # 2p + 3·[1, 10]
    q = mc.tensor([1., 2.], requires_grad=True)
    loss = (q * q).sum()
    mc.autograd.backward(loss, retain_graph=True)
    mc.autograd.backward(loss)
    assert q.grad.tolist() == [4, 8]


def test_autograd_backward_inputs_and_errors():
    a = mc.tensor(2., requires_grad=True)
    b = mc.tensor(3., requires_grad=True)
    mc.autograd.backward([a * b, a + b], inputs=[b])
    assert a.grad is None and b.grad.item() == 3.0              # a + 1
    with pytest.raises(RuntimeError, match="does not require grad"):
        mc.autograd.backward([(a * b), mc.tensor(1.)])
    with pytest.raises(RuntimeError, match="one per tensor"):
        mc.autograd.backward([a * b], [None, None])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        mc.autograd.backward(mc.stack([a, b]) * 2)
    with pytest.raises(RuntimeError, match="inputs= must not be empty"):
        mc.autograd.backward(a * b, inputs=[])


# ----------------------------------------------------------------------------- uniform_

def test_uniform_takes_torch_keywords():
    mc.manual_seed(0)
    x = mc.zeros(1000).uniform_(**{"from": 2, "to": 3})
    assert 2 <= x.min().item() and x.max().item() < 3
    y = mc.zeros(1000).uniform_(-1, to=0)
    assert -1 <= y.min().item() and y.max().item() < 0
    assert 0 <= mc.zeros(10).uniform_().min().item()
    assert mc.zeros(3).normal_(mean=1, std=0).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match=r"\[from, to\) range"):
        mc.zeros(3).uniform_(3, 2)
    with pytest.raises(TypeError, match="'a'"):
        mc.zeros(3).uniform_(a=1)
    with pytest.raises(TypeError, match="'from'"):
        mc.zeros(3).uniform_(1, **{"from": 2})
