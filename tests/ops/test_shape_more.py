"""rot90, flips, the *stack family, atleast_nd, tensor_split and the named splits,
unflatten, select, take, narrow_copy, Tensor.unfold, broadcast_tensors/shapes,
unravel_index, unique_consecutive, sum_to_size, t_/transpose_, index_add/copy/fill,
scatter_reduce, masked_scatter and the select/slice/diagonal scatters.

Expected values were computed with PyTorch 2.13 (CPU) and are written out, so the tests
need no torch; gradients are checked by float64 gradcheck and, where PyTorch has a
convention (ties, zeros, NaN), against its values.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

NAN = float("nan")


def grads(fn, *inputs):
    """Gradients of fn(*inputs) for the output gradient 1, 2, 3... (PyTorch's probes)."""
    ins = [mc.tensor(t, dtype=mc.float32, requires_grad=True) for t in inputs]
    out = fn(*ins)
    out.backward(mc.arange(1., out.numel() + 1).reshape(out.shape))
    return [None if t.grad is None else t.grad.tolist() for t in ins]


X = mc.arange(6.).reshape(2, 3)


# ----------------------------------------------------------------------------- rot90, flips

def test_rot90_values():
    assert mc.rot90(X).tolist() == [[2, 5], [1, 4], [0, 3]]
    assert X.rot90(2, [1, 0]).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert X.rot90(-1).tolist() == [[3, 0], [4, 1], [5, 2]]
    assert X.rot90(5).tolist() == mc.rot90(X).tolist()
    y = X.rot90(0)
    assert y.tolist() == X.tolist() and not np.shares_memory(y.data, X.data)   # a copy
    assert X.fliplr().tolist() == [[2, 1, 0], [5, 4, 3]]
    assert mc.flipud(mc.arange(3)).tolist() == [2, 1, 0]


@given(x=st.tensors(shape=(2, 3, 2)), k=hs.integers(-3, 4))
def test_rot90_gradcheck(x, k):
    np.testing.assert_array_equal(mc.rot90(x, k, (2, 0)).data, np.rot90(x.data, k, (2, 0)))
    gradcheck(lambda t: mc.rot90(t, k, (2, 0)), (x,))


def test_rot90_and_flip_errors():
    with pytest.raises(ValueError, match="total rotation dims == 2"):
        X.rot90(1, [0])
    with pytest.raises(ValueError, match="total dims >= 2"):
        mc.rot90(mc.arange(3.))
    with pytest.raises(ValueError, match="to be different"):
        X.rot90(1, [0, -2])
    with pytest.raises(IndexError, match="Dimension out of range"):
        X.rot90(1, [0, 2])
    with pytest.raises(ValueError, match=">= 2-d"):
        mc.fliplr(mc.arange(3))
    with pytest.raises(ValueError, match=">= 1-d"):
        mc.flipud(mc.tensor(1.))


# ----------------------------------------------------------------------------- stacks

def test_stack_family_values():
    assert mc.hstack([mc.tensor(1), mc.tensor([2, 3])]).tolist() == [1, 2, 3]
    assert mc.hstack([X, X]).shape == (2, 6)
    v = mc.vstack([mc.tensor(1.), mc.tensor(2)])                 # promotes, as cat
    assert v.tolist() == [[1], [2]] and v.dtype == np.float32
    assert mc.row_stack([mc.tensor([1, 2]), mc.tensor([3, 4])]).tolist() == [[1, 2], [3, 4]]
    assert mc.dstack([mc.tensor([1, 2]), mc.tensor([3, 4])]).tolist() == [[[1, 3], [2, 4]]]
    assert mc.dstack([X, X]).shape == (2, 3, 2)
    c = mc.column_stack([mc.tensor([1, 2]), mc.tensor([[3], [4]]), mc.tensor([5., 6.])])
    assert c.tolist() == [[1, 3, 5], [2, 4, 6]] and c.dtype == np.float32
    assert mc.column_stack([mc.tensor(1), mc.tensor(2)]).tolist() == [[1, 2]]


@given(a=st.tensors(shape=(2,)), b=st.tensors(shape=(2, 3)))
def test_stack_family_gradcheck(a, b):
    gradcheck(lambda a, b: mc.column_stack([a, b]), (a, b))
    gradcheck(lambda a, b: mc.vstack([a.reshape(1, 2), b.t()]), (a, b))
    gradcheck(lambda b: mc.dstack([b, b * 2]), (b,))


def test_stack_family_errors():
    with pytest.raises(ValueError, match="non-empty"):
        mc.hstack([])
    with pytest.raises(ValueError, match="sizes of tensors must match"):
        mc.vstack([X, mc.zeros(2)])


def test_atleast():
    a0 = mc.tensor(1.)
    assert mc.atleast_1d(a0).shape == (1,) and mc.atleast_1d(X) is X
    assert mc.atleast_2d(mc.arange(3)).tolist() == [[0, 1, 2]]
    assert mc.atleast_3d(a0).shape == (1, 1, 1)
    assert mc.atleast_3d(mc.arange(3)).tolist() == [[[0], [1], [2]]]
    assert mc.atleast_3d(X).shape == (2, 3, 1)
    assert mc.atleast_3d(mc.zeros(2, 3, 4, 5)).shape == (2, 3, 4, 5)
    pair = mc.atleast_1d(a0, X)
    assert isinstance(pair, tuple) and [t.shape for t in pair] == [(1,), (2, 3)]
    assert [t.shape for t in mc.atleast_2d((a0, X))] == [(1, 1), (2, 3)]
    assert [t.shape for t in mc.atleast_1d([a0])] == [(1,)]
    b = mc.zeros(3)
    mc.atleast_2d(b)[0, 1] = 5.                                  # a view
    assert b.tolist() == [0, 5, 0]


# ----------------------------------------------------------------------------- splits

def _lists(ts):
    return [t.tolist() for t in ts]


def test_tensor_split_values():
    y = mc.arange(7)
    assert _lists(mc.tensor_split(y, 3)) == [[0, 1, 2], [3, 4], [5, 6]]
    assert _lists(y.tensor_split([1, 5])) == [[0], [1, 2, 3, 4], [5, 6]]
    assert _lists(y.tensor_split((6, 2, 9))) == [[0, 1, 2, 3, 4, 5], [], [2, 3, 4, 5, 6], []]
    assert _lists(y.tensor_split(mc.tensor([1, 5]))) == [[0], [1, 2, 3, 4], [5, 6]]
    assert _lists(y.tensor_split(mc.tensor(3))) == [[0, 1, 2], [3, 4], [5, 6]]
    assert _lists(y.tensor_split([-2])) == [[0, 1, 2, 3, 4], [5, 6]]
    assert _lists(X.tensor_split(2, dim=1)) == [[[0, 1], [3, 4]], [[2], [5]]]
    assert _lists(mc.hsplit(mc.arange(6), 3)) == [[0, 1], [2, 3], [4, 5]]
    assert _lists(mc.hsplit(X, [1])) == [[[0], [3]], [[1, 2], [4, 5]]]
    assert _lists(mc.vsplit(X, [1])) == [[[0, 1, 2]], [[3, 4, 5]]]
    assert [t.shape for t in mc.dsplit(mc.zeros(2, 2, 4), 2)] == [(2, 2, 2)] * 2
    assert _lists(y.split_with_sizes([3, 4])) == [[0, 1, 2], [3, 4, 5, 6]]
    assert _lists(mc.split_with_sizes(X, [1, 2], dim=1)) == [[[0], [3]], [[1, 2], [4, 5]]]


def test_splits_are_views():
    y = mc.arange(7.)
    for pieces in (y.tensor_split(3), y.split_with_sizes([3, 4]), mc.hsplit(y[:6], 2)):
        pieces[1][0] = -1.
        assert y[3].item() == -1. and pieces[0]._version == y._version
        y[3] = 3.


@given(x=st.tensors(shape=(5, 2)), k=hs.integers(1, 6))
def test_splits_gradcheck(x, k):
    gradcheck(lambda t: t.tensor_split(k), (x,))
    gradcheck(lambda t: t.tensor_split([1, 3], dim=0), (x,))
    gradcheck(lambda t: t.split_with_sizes([2, 0, 3]), (x,))


def test_split_errors():
    y = mc.arange(7)
    with pytest.raises(ValueError, match="larger than 0"):
        y.tensor_split(0)
    with pytest.raises(ValueError, match="at least a 1-dimensional"):
        mc.tensor(1).tensor_split(1)
    with pytest.raises(TypeError, match="int64"):
        y.tensor_split(mc.tensor([1.]))
    with pytest.raises(ValueError, match="one-dimensional"):
        y.tensor_split(mc.tensor([[1]]))
    with pytest.raises(ValueError, match="not divisible by the split_size 3"):
        mc.hsplit(y, 3)
    with pytest.raises(ValueError, match="not divisible by the split_size 0"):
        mc.hsplit(y, 0)
    with pytest.raises(ValueError, match="at least 2 dimension"):
        mc.vsplit(y, 1)
    with pytest.raises(ValueError, match="at least 3 dimension"):
        mc.dsplit(X, 1)
    with pytest.raises(ValueError, match="sum exactly to 7"):
        y.split_with_sizes([3, 3])
    with pytest.raises(ValueError, match="non-negative"):
        y.split_with_sizes([8, -1])


# ----------------------------------------------------------------------------- reshaping views

def test_unflatten_moveaxis_swapdims_ravel():
    assert mc.unflatten(mc.arange(6), 0, (2, 3)).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert X.unflatten(-1, (-1, 1)).shape == (2, 3, 1)
    assert X.unflatten(1, [1, 3]).shape == (2, 1, 3)
    assert np.shares_memory(X.unflatten(1, (3, 1)).data, X.data)
    z = mc.zeros(2, 3, 4)
    assert mc.moveaxis(z, 0, -1).shape == (3, 4, 2)
    assert z.moveaxis((0, 1), (2, 0)).shape == (3, 4, 2)
    assert z.swapdims(0, 2).shape == (4, 3, 2) and mc.swapdims(z, 0, 1).shape == (3, 2, 4)
    assert X.t().ravel().tolist() == [0, 3, 1, 4, 2, 5]
    assert mc.ravel(mc.tensor(1.)).shape == (1,)
    assert np.shares_memory(X.ravel().data, X.data)
    with pytest.raises(ValueError, match="don't multiply up"):
        X.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match="only one dimension can be inferred"):
        X.unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match="non-empty"):
        X.unflatten(1, ())
    with pytest.raises(IndexError, match="no dimensions"):
        mc.tensor(1.).unflatten(0, (1,))


def test_select_take_narrow_copy():
    assert X.select(1, -1).tolist() == [2, 5]
    assert np.shares_memory(X.select(0, 1).data, X.data)
    assert mc.take(X, mc.tensor([[0, -1], [5, 2]])).tolist() == [[0, 5], [5, 2]]
    assert mc.tensor(3.).take(mc.tensor([0, 0])).tolist() == [3, 3]
    assert X.take(mc.tensor(2)).shape == () and X.take(mc.tensor(2)).item() == 2
    assert X.take(mc.tensor([], dtype=mc.int64)).shape == (0,)
    assert grads(lambda t: t.take(mc.tensor([0, 0, -1])), X) == [[[3, 0, 0], [0, 0, 3]]]
    y = X.narrow_copy(1, 1, 2)
    assert y.tolist() == [[1, 2], [4, 5]] and not np.shares_memory(y.data, X.data)
    assert mc.narrow_copy(X, 0, -1, 1).tolist() == [[3, 4, 5]]
    assert grads(lambda t: t.narrow_copy(1, 1, 2), X) == [[[0, 1, 2], [0, 3, 4]]]
    with pytest.raises(IndexError, match="out of range for tensor of size"):
        mc.select(X, 0, 2)
    with pytest.raises(IndexError, match="0-dim"):
        mc.tensor(1.).select(0, 0)
    with pytest.raises(IndexError, match="index 6 on a tensor of 6"):
        X.take(mc.tensor([6]))
    with pytest.raises(IndexError, match="index -7"):
        X.take(mc.tensor([-7]))
    with pytest.raises(TypeError, match="int64"):
        X.take(mc.tensor([1], dtype=mc.int32))
    with pytest.raises(IndexError, match="empty tensor"):
        mc.zeros(0).take(mc.tensor([0]))
    with pytest.raises(IndexError, match="exceeds"):
        X.narrow_copy(1, 2, 2)


@given(x=st.tensors(shape=(3, 2)), i=hs.integers(-3, 2))
def test_select_take_gradcheck(x, i):
    gradcheck(lambda t: t.select(0, i), (x,))
    gradcheck(lambda t: mc.take(t, mc.tensor([[i, 0], [i, 5]])), (x,))


# ----------------------------------------------------------------------------- Tensor.unfold

def test_unfold_values_strides_and_view():
    y = mc.arange(7.)
    w = y.unfold(0, 3, 2)
    assert w.tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]] and w.stride() == (2, 1)
    assert X.unfold(1, 2, 1).tolist() == [[[0, 1], [1, 2]], [[3, 4], [4, 5]]]
    assert X.unfold(1, 2, 1).stride() == (3, 1, 1)
    assert X.unfold(0, 2, 1).tolist() == [[[0, 3], [1, 4], [2, 5]]]
    assert y.unfold(0, 0, 1).shape == (8, 0)
    assert y.unfold(0, 7, 3).shape == (1, 7) and y.unfold(-1, 3, 5).tolist() == [[0, 1, 2]]
    assert mc.tensor(2.).unfold(0, 1, 1).tolist() == [2.]
    y[2] = -1.                                       # the windows see it: a view
    assert w[0, 2].item() == -1. and w[1, 0].item() == -1.
    assert grads(lambda t: t.unfold(0, 3, 2), mc.arange(7.)) == [[1, 2, 7, 5, 13, 8, 9]]


@given(x=st.tensors(shape=(2, 7)), size=hs.integers(1, 4), step=hs.integers(1, 3))
def test_unfold_gradcheck(x, size, step):
    gradcheck(lambda t: t.unfold(1, size, step), (x,))
    gradcheck(lambda t: t.t().unfold(0, size, step) * 1, (x,))    # a non-contiguous input


def test_unfold_errors():
    y = mc.arange(7.)
    with pytest.raises(ValueError, match="maximum size for tensor at dimension 0 is 7"):
        y.unfold(0, 8, 1)
    with pytest.raises(ValueError, match="step is 0"):
        y.unfold(0, 2, 0)
    with pytest.raises(ValueError, match="size is -1"):
        y.unfold(0, -1, 1)
    with pytest.raises(ValueError, match="is 1 but size is 2"):
        mc.tensor(2.).unfold(0, 2, 1)


# ----------------------------------------------------------------------------- broadcasting

def test_broadcast_tensors_and_shapes():
    a, b = mc.broadcast_tensors(mc.tensor([1, 2]), mc.tensor([[1.], [2.]]))
    assert a.tolist() == [[1, 2], [1, 2]] and b.tolist() == [[1, 1], [2, 2]]
    assert a.dtype == np.int64 and b.dtype == np.float32
    base = mc.zeros(2)
    c, _ = mc.broadcast_tensors(base, mc.zeros(3, 1))
    assert c.shape == (3, 2) and np.shares_memory(c.data, base.data)
    assert mc.broadcast_tensors() == ()
    assert mc.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert mc.broadcast_shapes(2, (3, 1)) == (3, 2)
    assert mc.broadcast_shapes() == () and mc.broadcast_shapes((0,), (1,)) == (0,)
    with pytest.raises(ValueError, match="single shape"):
        mc.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match="negative length"):
        mc.broadcast_shapes((-1,), (3,))
    with pytest.raises(ValueError, match="single shape"):
        mc.broadcast_tensors(mc.zeros(2), mc.zeros(3))


@given(x=st.tensors(shape=(3, 1)), y=st.tensors(shape=(2,)))
def test_broadcast_tensors_gradcheck(x, y):
    gradcheck(lambda a, b: mc.broadcast_tensors(a, b), (x, y))


def test_unravel_index():
    r, c = mc.unravel_index(mc.tensor([4, 1]), (2, 3))
    assert r.tolist() == [1, 0] and c.tolist() == [1, 1] and r.dtype == np.int64
    r, c = mc.unravel_index(mc.tensor(5), (2, 3))
    assert r.shape == () and (r.item(), c.item()) == (1, 2)
    # PyTorch wraps out-of-range indices (Python's modulo) without an error
    assert [t.tolist() for t in mc.unravel_index(mc.tensor([6, -1, -7]), (2, 3))] == [
        [0, 1, 1], [0, 2, 2]]
    assert mc.unravel_index(mc.tensor([0]), ()) == ()
    (k,) = mc.unravel_index(mc.tensor([[1, 2]], dtype=mc.int32), 3)
    assert k.tolist() == [[1, 2]] and k.dtype == np.int64
    with pytest.raises(TypeError, match="integer dtype"):
        mc.unravel_index(mc.tensor([1.]), (2, 3))
    with pytest.raises(ValueError, match="negative values"):
        mc.unravel_index(mc.tensor([0]), (2, -1))


# ----------------------------------------------------------------------------- unique_consecutive

def test_unique_consecutive():
    u = mc.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    assert mc.unique_consecutive(u).tolist() == [1, 2, 3, 1, 2]
    out, inv, cnt = mc.unique_consecutive(u, return_inverse=True, return_counts=True)
    assert inv.tolist() == [0, 0, 1, 1, 2, 3, 3, 4] and cnt.tolist() == [2, 2, 1, 2, 1]
    assert [t.tolist() for t in u.unique_consecutive(return_counts=True)] == [
        [1, 2, 3, 1, 2], [2, 2, 1, 2, 1]]
    m = mc.tensor([[1, 1], [1, 1], [2, 3], [1, 1]])
    out, inv, cnt = mc.unique_consecutive(m, return_inverse=True, return_counts=True, dim=0)
    assert out.tolist() == [[1, 1], [2, 3], [1, 1]]
    assert inv.tolist() == [0, 0, 1, 2] and cnt.tolist() == [2, 1, 1]
    out, inv = mc.unique_consecutive(m, return_inverse=True, dim=1)
    assert out.tolist() == m.tolist() and inv.tolist() == [0, 1]
    out, inv, cnt = mc.unique_consecutive(m, return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 3, 1] and inv.tolist() == [[0, 0], [0, 0], [1, 2], [3, 3]]
    assert cnt.tolist() == [4, 1, 1, 2]
    out, inv, cnt = mc.unique_consecutive(mc.tensor(2.), return_inverse=True,
                                          return_counts=True)
    assert out.tolist() == [2.] and inv.shape == () and cnt.tolist() == [1]
    out, inv, cnt = mc.unique_consecutive(mc.zeros(0), return_inverse=True,
                                          return_counts=True)
    assert out.shape == inv.shape == cnt.shape == (0,)
    assert mc.unique_consecutive(mc.zeros(0, 2), dim=0).shape == (0, 2)
    out, cnt = mc.unique_consecutive(mc.tensor([NAN, NAN, 1.]), return_counts=True)
    assert cnt.tolist() == [1, 1, 1]                                 # NaNs all differ
    assert mc.unique_consecutive(mc.tensor([True, True, False])).tolist() == [True, False]
    assert not mc.unique_consecutive(mc.ones(3, requires_grad=True)).requires_grad
    with pytest.raises(IndexError, match="no dimensions"):
        mc.unique_consecutive(mc.tensor(2.), dim=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mc.unique_consecutive(m, dim=2)
    with pytest.raises(ValueError, match="0 sized dimensions"):
        mc.unique_consecutive(mc.zeros(2, 0), dim=0)


# ----------------------------------------------------------------------------- sum_to_size, t_

def test_sum_to_size():
    z = mc.arange(24.).reshape(2, 3, 4)
    assert z.sum_to_size(3, 1).tolist() == [[60], [92], [124]]
    assert z.sum_to_size((1, 3, 1)).shape == (1, 3, 1)
    assert z.sum_to_size(size=(4,)).tolist() == [60, 66, 72, 78]
    assert z.sum_to_size(2, 3, 4) is z
    s = mc.arange(4).sum_to_size(1)
    assert s.tolist() == [6] and s.dtype == np.int64
    for bad in ((2, 3), (4, 1), (1, 1, 1, 4)):
        with pytest.raises(ValueError, match="is not expandable to size"):
            z.sum_to_size(*bad)


@given(x=st.tensors(shape=(2, 3, 2)))
def test_sum_to_size_gradcheck(x):
    gradcheck(lambda t: t.sum_to_size(3, 1), (x,))


def test_inplace_transposes():
    w = mc.arange(6.).reshape(2, 3)
    data = w.data
    assert w.t_() is w and w.shape == (3, 2) and w.stride() == (1, 3)
    assert np.shares_memory(w.data, data)
    assert w.transpose_(0, 1).shape == (2, 3) and w.swapdims_(0, 1).shape == (3, 2)
    assert w.swapaxes_(0, 1).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert mc.zeros(3).t_().shape == (3,)
    a = mc.arange(6.).reshape(2, 3).requires_grad_()
    b = a * 1
    b.t_()                                            # recorded: b's history is t(a * 1)
    b.backward(mc.tensor([[1., 2.], [3., 4.], [5., 6.]]))
    assert a.grad.tolist() == [[1, 3, 5], [2, 4, 6]]
    with pytest.raises(ValueError, match="<= 2 dimensions"):
        mc.zeros(2, 3, 4).t_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mc.zeros(2, 3, requires_grad=True).t_()


# ----------------------------------------------------------------------------- index_add, ...

I3 = mc.tensor([0, 2, 0])
S = mc.tensor([[1., 2, 3], [4, 5, 6]])


def test_index_add_copy_fill_values():
    assert X.index_add(1, I3, S).tolist() == [[4, 1, 4], [13, 4, 10]]
    assert X.index_add(1, I3, S, alpha=2).tolist() == [[8, 1, 6], [23, 4, 15]]
    assert mc.index_add(X, 0, mc.tensor([1]), mc.ones(1, 3)).tolist() == [[0, 1, 2], [4, 5, 6]]
    assert X.index_add(1, I3.int(), S).tolist() == [[4, 1, 4], [13, 4, 10]]
    assert mc.arange(3).index_add(0, mc.tensor([0]), mc.tensor([2]), alpha=2).tolist() == [
        4, 1, 2]
    assert mc.tensor(1.).index_add(0, mc.tensor(0), mc.tensor(2.)).item() == 3.
    assert X.index_copy(1, mc.tensor([2, 0]), S[:, :2]).tolist() == [[2, 1, 1], [5, 4, 4]]
    assert X.index_copy(1, mc.tensor([0, 0]), S[:, :2]).tolist() == [[2, 1, 2], [5, 4, 5]]
    assert mc.tensor(1.).index_copy(0, mc.tensor([0]), mc.tensor([5.])).item() == 5.
    assert X.index_fill(1, mc.tensor([2, 0]), -1).tolist() == [[-1, 1, -1], [-1, 4, -1]]
    assert X.index_fill(1, mc.tensor([2, 0]), mc.tensor(-1., dtype=mc.float64)).dtype == \
        np.float32
    assert X.index_fill(1, mc.tensor([-1]), 7).tolist() == [[0, 1, 7], [3, 4, 7]]
    assert mc.arange(3).index_fill(0, mc.tensor([0]), 1.5).tolist() == [1, 1, 2]
    assert mc.tensor(1.).index_fill(0, mc.tensor([0]), 5).item() == 5.
    y = X.clone()
    assert y.index_add_(1, I3, S) is y and y.tolist() == [[4, 1, 4], [13, 4, 10]]
    y.index_copy_(0, mc.tensor([1]), mc.zeros(1, 3)).index_fill_(1, mc.tensor([1]), 9.)
    assert y.tolist() == [[4, 9, 4], [0, 9, 0]]


def test_index_add_copy_fill_gradients():
    # PyTorch: each source slice gets its target's gradient (also a repeated index)
    assert grads(lambda a, b: a.index_add(1, I3, b, alpha=2), X, S) == [
        [[1, 2, 3], [4, 5, 6]], [[2, 6, 2], [8, 12, 8]]]
    assert grads(lambda a, b: a.index_copy(1, mc.tensor([2, 0]), b), X, S[:, :2]) == [
        [[0, 2, 0], [0, 5, 0]], [[3, 1], [6, 4]]]
    assert grads(lambda a, b: a.index_copy(1, mc.tensor([0, 0]), b), X, S[:, :2]) == [
        [[0, 2, 3], [0, 5, 6]], [[1, 1], [4, 4]]]
    assert grads(lambda a, v: a.index_fill(1, mc.tensor([2, 0]), v), X, 3.) == [
        [[0, 2, 0], [0, 5, 0]], 14.0]


@given(x=st.tensors(shape=(3, 2)), s=st.tensors(shape=(3, 3)), v=st.tensors(shape=()))
def test_index_ops_gradcheck(x, s, v):
    i = mc.tensor([1, 1, 0])
    gradcheck(lambda a, b: a.t().index_add(1, i, b[:2], alpha=-1.5), (x, s))
    gradcheck(lambda a, b: a.index_copy(0, mc.tensor([2, 0, 1]), b[:, :2]), (x, s))
    gradcheck(lambda a, w: a.index_fill(0, mc.tensor([-1]), w), (x, v))


def test_index_ops_errors():
    with pytest.raises(TypeError, match="same dtype"):
        X.index_add(1, I3, S.double())
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1"):
        X.index_add(1, mc.tensor([3, 0, 0]), S)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        X.index_add(1, mc.tensor([-1, 0, 0]), S)
    with pytest.raises(ValueError, match="expected \\[2, 3\\]"):
        X.index_add(1, I3, S[:, :2])
    with pytest.raises(IndexError, match="supposed to be a vector"):
        X.index_add(1, I3.reshape(3, 1), S)
    with pytest.raises(TypeError, match="int32/int64"):
        X.index_add(1, I3.float(), S)
    with pytest.raises(ValueError, match="expected \\[2, 2\\]"):
        X.index_copy(1, mc.tensor([2, 0]), S)
    with pytest.raises(IndexError, match="out of bounds"):
        X.index_fill(1, mc.tensor([3]), 7)
    with pytest.raises(ValueError, match="0-dimensional value tensor"):
        X.index_fill(1, mc.tensor([0]), mc.tensor([-1.]))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mc.zeros(3, requires_grad=True).index_fill_(0, mc.tensor([0]), 1.)


# ----------------------------------------------------------------------------- scatter_reduce

SR_X = [1., 2., 3., 4.]
SR_I = mc.tensor([0, 1, 0, 1, 2, 1])
SR_S = [5., 2., 5., 3., 6., 2.]
# reduce, include_self: (out, d input, d src) from PyTorch, output gradient [1, 2, 3, 4]
SR_TORCH = {
    ("sum", True): ([11, 9, 9, 4], [1, 2, 3, 4], [1, 2, 1, 2, 3, 2]),
    ("sum", False): ([10, 7, 6, 4], [0, 0, 0, 4], [1, 2, 1, 2, 3, 2]),
    ("prod", True): ([25, 24, 18, 4], [25, 24, 18, 4], [5, 24, 5, 16, 9, 24]),
    ("prod", False): ([25, 12, 6, 4], [0, 0, 0, 4], [5, 12, 5, 8, 3, 12]),
    ("mean", True): ([11 / 3, 2.25, 4.5, 4], [1 / 3, .5, 1.5, 4],
                     [1 / 3, .5, 1 / 3, .5, 1.5, .5]),
    ("mean", False): ([5, 7 / 3, 6, 4], [0, 0, 0, 4], [.5, 2 / 3, .5, 2 / 3, 3, 2 / 3]),
    ("amax", True): ([5, 3, 6, 4], [0, 0, 0, 4], [.5, 0, .5, 2, 3, 0]),
    ("amax", False): ([5, 3, 6, 4], [0, 0, 0, 4], [.5, 0, .5, 2, 3, 0]),
    ("amin", True): ([1, 2, 3, 4], [1, 2 / 3, 3, 4], [0, 2 / 3, 0, 0, 0, 2 / 3]),
    ("amin", False): ([5, 2, 6, 4], [0, 0, 0, 4], [.5, 2 / 3, .5, 0, 3, 2 / 3]),
}


@pytest.mark.parametrize("reduce, include_self", sorted(SR_TORCH))
def test_scatter_reduce_matches_torch(reduce, include_self):
    out = mc.tensor(SR_X).scatter_reduce(0, SR_I, mc.tensor(SR_S), reduce,
                                         include_self=include_self)
    want, gx, gs = SR_TORCH[reduce, include_self]
    np.testing.assert_allclose(out.data, want, rtol=1e-6)
    got = grads(lambda a, b: a.scatter_reduce(0, SR_I, b, reduce, include_self=include_self),
                SR_X, SR_S)
    np.testing.assert_allclose(got[0], gx, rtol=1e-6)
    np.testing.assert_allclose(got[1], gs, rtol=1e-6)


def test_scatter_reduce_conventions():
    # ties share the gradient, input's value counted even without include_self (PyTorch)
    i = mc.tensor([0, 0, 1])
    g = grads(lambda a, b: a.scatter_reduce(0, i, b, "amax"), [5., 2., 3.], [5., 5., 1.])
    np.testing.assert_allclose(g[0], [1 / 3, 2, 3], rtol=1e-6)
    np.testing.assert_allclose(g[1], [1 / 3, 1 / 3, 0], rtol=1e-6)
    g = grads(lambda a, b: a.scatter_reduce(0, i, b, "amax", include_self=False),
              [5., 2., 3.], [5., 5., 1.])
    np.testing.assert_allclose(g[0], [0, 0, 3])
    np.testing.assert_allclose(g[1], [1 / 3, 1 / 3, 2], rtol=1e-6)
    # prod with zeros: the product of the other members
    i5 = mc.tensor([0, 0, 1, 1, 2])
    assert grads(lambda a, b: a.scatter_reduce(0, i5, b, "prod"), [0., 2., 0.],
                 [3., 0., 0., 4., 5.]) == [[0, 0, 15], [0, 0, 16, 0, 0]]
    assert grads(lambda a, b: a.scatter_reduce(0, i5, b, "prod", include_self=False),
                 [0., 2., 0.], [3., 0., 0., 0., 5.]) == [[0, 0, 0], [0, 3, 0, 0, 3]]
    # NaN wins amax/amin; its group's gradients are NaN
    out = mc.tensor([1., 2.]).scatter_reduce(0, i, mc.tensor([NAN, 3., 1.]), "amin",
                                             include_self=False)
    assert np.isnan(out[0].item()) and out[1].item() == 1.
    g = grads(lambda a, b: a.scatter_reduce(0, i, b, "amax"), [1., 2.], [NAN, 3., 1.])
    np.testing.assert_array_equal(g[0], [NAN, 2])
    np.testing.assert_array_equal(g[1], [NAN, NAN, 0])
    # integer mean rounds down; no scattered entry keeps the value
    assert mc.tensor([1, 2, 3]).scatter_reduce(0, i, mc.tensor([2, 2, 4]),
                                               "mean").tolist() == [1, 3, 3]
    assert mc.tensor([1, 2, 3]).scatter_reduce(0, i, mc.tensor([-2, -3, 4]), "mean",
                                               include_self=False).tolist() == [-3, 4, 3]
    for reduce in ("prod", "amax"):
        assert mc.tensor([7., 8.]).scatter_reduce(0, mc.tensor([0]), mc.tensor([3.]),
                                                  reduce, include_self=False).tolist() == [
            3, 8]
    m = mc.zeros(2, 3).scatter_reduce(1, mc.tensor([[0, 0], [2, 1]]),
                                      mc.tensor([[1., 2, 9], [3, 4, 9]]), "amax",
                                      include_self=False)
    assert m.tolist() == [[2, 0, 0], [0, 4, 3]]
    assert mc.tensor(1.).scatter_reduce(0, mc.tensor(0), mc.tensor(4.), "sum").item() == 5.
    e = mc.tensor(SR_X).scatter_reduce(0, mc.tensor([], dtype=mc.int64), mc.tensor([]), "mean")
    assert e.tolist() == SR_X
    y = mc.tensor(SR_X)
    assert y.scatter_reduce_(0, SR_I, mc.tensor(SR_S), "amax") is y and y.tolist() == [
        5, 3, 6, 4]


@settings(max_examples=10)
@given(x=st.tensors(shape=(2, 3), unique=True, min_value=0.5, max_value=2.),
       s=st.tensors(shape=(2, 4), unique=True, min_value=0.5, max_value=2.),
       reduce=hs.sampled_from(["sum", "prod", "mean", "amax", "amin"]),
       include_self=hs.booleans())
def test_scatter_reduce_gradcheck(x, s, reduce, include_self):
    index = mc.tensor([[2, 0, 2, 2], [1, 1, 0, 2]])
    # b + 0.005 keeps src off input's values (the unique grids are 0.02 apart): no ties
    gradcheck(lambda a, b: mc.scatter_reduce(a, 1, index, b + 0.005, reduce,
                                             include_self=include_self), (x, s))


def test_scatter_reduce_errors():
    x, s = mc.tensor(SR_X), mc.tensor(SR_S)
    with pytest.raises(ValueError, match="reduce argument must be one of"):
        x.scatter_reduce(0, SR_I, s, "max")
    with pytest.raises(TypeError, match="src has dtype float64"):
        x.scatter_reduce(0, SR_I, s.double(), "sum")
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        x.scatter_reduce(0, mc.tensor([4]), s, "sum")
    with pytest.raises(TypeError, match="integer tensor"):
        x.scatter_reduce(0, SR_I.float(), s, "sum")
    with pytest.raises(ValueError, match="larger than src"):
        x.scatter_reduce(0, SR_I, s[:3], "sum")


# ----------------------------------------------------------------------------- masked_scatter

M = mc.tensor([[True, False, True], [False, True, False]])


def test_masked_scatter():
    src = mc.arange(1., 7.).reshape(2, 3)
    assert mc.zeros(2, 3).masked_scatter(M, src).tolist() == [[1, 0, 2], [0, 3, 0]]
    row = mc.tensor([True, False, True])
    assert mc.zeros(2, 3).masked_scatter(row, src).tolist() == [[1, 0, 2], [3, 0, 4]]
    assert mc.zeros(2, 3).masked_scatter(M, mc.arange(1., 4.)).tolist() == [
        [1, 0, 2], [0, 3, 0]]
    big = mc.zeros(2, 3).masked_scatter(mc.ones(3, 2, 3, dtype=mc.bool), mc.ones(18))
    assert big.shape == (3, 2, 3)                                 # input broadcasts too
    assert grads(lambda a, b: a.masked_scatter(M, b), mc.zeros(2, 3), src) == [
        [[0, 2, 0], [4, 0, 6]], [[1, 3, 5], [0, 0, 0]]]
    assert grads(lambda a, b: a.masked_scatter(row, b), mc.zeros(2, 3), src) == [
        [[0, 2, 0], [0, 5, 0]], [[1, 3, 4], [6, 0, 0]]]
    y = mc.zeros(2, 3)
    assert y.masked_scatter_(M, src) is y and y.tolist() == [[1, 0, 2], [0, 3, 0]]
    with pytest.raises(ValueError, match="number of ones in mask"):
        mc.zeros(2, 3).masked_scatter(M, mc.tensor([1., 2.]))
    with pytest.raises(TypeError, match="must be a bool tensor"):
        mc.zeros(2, 3).masked_scatter(M.int(), src)
    with pytest.raises(TypeError, match="same dtypes"):
        mc.zeros(2, 3).masked_scatter(M, src.double())
    with pytest.raises(ValueError, match="do not broadcast"):
        mc.zeros(2, 3).masked_scatter(mc.tensor([True, False]), src)


@given(x=st.tensors(shape=(2, 3)), s=st.tensors(shape=(5,)))
def test_masked_scatter_gradcheck(x, s):
    gradcheck(lambda a, b: a.masked_scatter(M, b), (x, s))
    gradcheck(lambda a, b: a.t().masked_scatter(M.t(), b), (x, s))


# ----------------------------------------------------------------------------- *_scatter

def test_select_slice_diagonal_scatter_values():
    z = mc.zeros(2, 3)
    assert mc.select_scatter(z, mc.tensor([1., 2, 3]), 0, 1).tolist() == [[0, 0, 0], [1, 2, 3]]
    assert z.select_scatter(mc.tensor([1., 2]), 1, -1).tolist() == [[0, 0, 1], [0, 0, 2]]
    assert z.select_scatter(mc.tensor([1, 2, 3]), 0, 0).dtype == np.float32
    assert mc.slice_scatter(mc.zeros(5), mc.ones(2), start=1, end=5, step=2).tolist() == [
        0, 1, 0, 1, 0]
    assert mc.zeros(2, 4).slice_scatter(mc.ones(2, 2), dim=1, start=-2).tolist() == [
        [0, 0, 1, 1]] * 2
    assert mc.zeros(2, 4).slice_scatter(mc.ones(2, 2), dim=1, start=1, end=100,
                                        step=2).tolist() == [[0, 1, 0, 1]] * 2
    assert mc.zeros(5).slice_scatter(mc.ones(0), start=4, end=2).tolist() == [0] * 5
    d = mc.zeros(3, 4)
    assert mc.diagonal_scatter(d, mc.tensor([1., 2, 3])).tolist() == [
        [1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0]]
    assert d.diagonal_scatter(mc.tensor([1., 2]), 2).tolist() == [
        [0, 0, 1, 0], [0, 0, 0, 2], [0, 0, 0, 0]]
    assert d.diagonal_scatter(mc.tensor([1., 2]), -1).tolist() == [
        [0, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0]]
    assert d.diagonal_scatter(mc.tensor([]), 5).tolist() == d.tolist()
    assert d.diagonal_scatter(mc.tensor([1., 2, 3]), 0, 1, 0).tolist() == \
        mc.diagonal_scatter(d, mc.tensor([1., 2, 3])).tolist()
    t3 = mc.zeros(2, 3, 4).diagonal_scatter(mc.arange(6.).reshape(3, 2), 0, 0, 2)
    assert t3.tolist() == [[[0, 0, 0, 0], [2, 0, 0, 0], [4, 0, 0, 0]],
                           [[0, 1, 0, 0], [0, 3, 0, 0], [0, 5, 0, 0]]]


def test_select_slice_diagonal_scatter_gradients_and_errors():
    assert grads(lambda a, b: a.select_scatter(b, 1, 1), mc.zeros(2, 3), [1., 2.]) == [
        [[1, 0, 3], [4, 0, 6]], [2, 5]]
    assert grads(lambda a, b: a.slice_scatter(b, 0, 1, 5, 2), mc.zeros(5), [1., 1.]) == [
        [1, 0, 3, 0, 5], [2, 4]]
    assert grads(lambda a, b: a.diagonal_scatter(b, 1), mc.zeros(3, 4), [1., 2., 3.]) == [
        [[1, 0, 3, 4], [5, 6, 0, 8], [9, 10, 11, 0]], [2, 7, 12]]
    z = mc.zeros(2, 3)
    with pytest.raises(IndexError, match="out of range"):
        z.select_scatter(mc.tensor([1., 2, 3]), 0, 2)
    with pytest.raises(ValueError, match="src size = \\[2\\], slice size = \\[3\\]"):
        z.select_scatter(mc.tensor([1., 2]), 0, 0)
    with pytest.raises(ValueError, match="src size = \\[2, 3\\], slice size = \\[2, 2\\]"):
        mc.zeros(2, 4).slice_scatter(mc.ones(2, 3), dim=1, start=2)
    with pytest.raises(ValueError, match="step must be positive"):
        mc.zeros(5).slice_scatter(mc.ones(2), step=0)
    with pytest.raises(ValueError, match="slice size = \\[3\\]"):
        mc.zeros(3, 4).diagonal_scatter(mc.tensor([1., 2]))
    with pytest.raises(ValueError, match="cannot be identical"):
        mc.zeros(3, 4).diagonal_scatter(mc.tensor([1., 2]), 0, 0, 0)


@given(x=st.tensors(shape=(3, 4)), s=st.tensors(shape=(3,)), off=hs.integers(-1, 1))
def test_scatters_gradcheck(x, s, off):
    gradcheck(lambda a, b: a.select_scatter(b[:3], 1, off), (x, s))
    gradcheck(lambda a, b: a.slice_scatter(b.reshape(3, 1), 1, 1, None, 5), (x, s))
    k = 2 if off < 0 else 3                          # the diagonal's length
    gradcheck(lambda a, b: a.t().diagonal_scatter(b[:k], off, 1, 0), (x, s))


def test_split_family_backward_is_linear_and_pieces_are_views():
    """One Split node for all pieces (the backward concatenates once, no zero input per
    piece); the pieces stay views of the input, as PyTorch's."""
    x = mc.randn(4000, 8, requires_grad=True)
    pieces = mc.tensor_split(x, 2000)
    mc.stack([p.sum() for p in pieces]).sum().backward()
    assert x.grad.tolist() == np.ones((4000, 8)).tolist()
    assert pieces[0].grad_fn is pieces[-1].grad_fn
    a = mc.arange(6.)
    first, rest = a.split_with_sizes([2, 4])
    first[0] = 9.
    assert a.tolist()[0] == 9 and first._base is a
    # torch.tensor_split(torch.arange(7), [-2, 10]) and ([5, 2]): clipped, overlapping
    assert [p.tolist() for p in mc.arange(7).tensor_split([-2, 10])] == \
        [[0, 1, 2, 3, 4], [5, 6], []]
    assert [p.tolist() for p in mc.arange(7).tensor_split([5, 2])] == \
        [[0, 1, 2, 3, 4], [], [2, 3, 4, 5, 6]]
    w = mc.arange(12., requires_grad=True)
    p, q = mc.hsplit(w, [5])
    (p * 2).sum().backward()
    assert w.grad.tolist() == [2.] * 5 + [0.] * 7


def test_unfold_of_a_scalar_with_size_0_and_index_copy_of_scalars():
    # torch.tensor(3.).unfold(0, 0, 1): shape (0,); zeros(3).index_copy(0, tensor(1), tensor(5.))
    assert mc.tensor(3.).unfold(0, 0, 1).shape == (0,)
    assert mc.tensor(3.).unfold(0, 1, 1).tolist() == [3.]
    assert mc.zeros(3).index_copy(0, mc.tensor(1), mc.tensor(5.)).tolist() == [0, 5, 0]
