"""CPU/GPU parity of the shape and indexing ops of ``test_shape_more.py``: values, dtypes,
gradients and errors alike (marked ``gpu``; ``test_emulated.py`` runs it on the CuPy
emulator)."""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)


def randn(*shape):
    return R.standard_normal(shape)


def test_rot90_stacks_and_splits():
    _same(lambda t: mc.rot90(t, 3, (2, 0)), randn(2, 3, 4))
    _same(lambda t: mc.fliplr(t) * mc.flipud(t), randn(3, 3))
    _same(lambda a, b: mc.column_stack([a, b]), randn(3), randn(3, 2))
    _same(lambda a, b: mc.dstack([a, b]) + mc.hstack([a, b]).sum(), randn(3), randn(3))
    _same(lambda t: mc.vstack(mc.atleast_2d(t, t)), np.arange(3))
    _same(lambda t: t.tensor_split([1, 3], dim=1)[1], randn(2, 5))
    _same(lambda t: mc.hsplit(t, 2)[1] * 2, randn(2, 4))
    _same(lambda t: t.split_with_sizes([2, 1])[0], randn(3, 2))
    _same(lambda t: t.tensor_split(mc.tensor([1, 2], device=t.device))[2], randn(4))
    _same_error(lambda t: mc.hsplit(t, 3), randn(7), match="not divisible")


def test_views_take_unfold_and_broadcasting():
    _same(lambda t: t.unflatten(1, (2, -1)).moveaxis(0, -1).swapdims(0, 1).ravel(),
          randn(2, 6))
    _same(lambda t: t.select(1, -1) * t.narrow_copy(1, 0, 1).squeeze(1), randn(3, 4))
    _same(lambda t: mc.take(t, mc.tensor([[0, -1], [5, 0]], device=t.device)), randn(2, 3))
    _same(lambda a, b: mc.broadcast_tensors(a, b)[0] * mc.broadcast_tensors(a, b)[1],
          randn(3, 1), randn(2))
    _same(lambda t: mc.stack(mc.unravel_index(t, (2, 3))), np.array([4, 1, 6, -1, -7]),
          grad=False)
    _same(lambda t: t.sum_to_size(3, 1), randn(2, 3, 4))
    _same(lambda t: (t * 1).t_(), randn(2, 3))
    _same_error(lambda t: t.take(mc.tensor([6], device=t.device)), randn(2, 3),
                error=IndexError, match="out of range")
    _same_error(lambda t: t.unfold(0, 8, 1), randn(7), match="maximum size")
    # Tensor.unfold's values come from cupy.lib.stride_tricks.as_strided
    _same(lambda t: t.unfold(1, 3, 2), randn(2, 7))
    _same(lambda t: t.t().unfold(0, 2, 1), randn(3, 4))


def test_unique_consecutive():
    u = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for k in range(3):
        _same(lambda t: mc.unique_consecutive(t, return_inverse=True,
                                              return_counts=True)[k], u, grad=False)
        _same(lambda t: mc.unique_consecutive(t, return_inverse=True, return_counts=True,
                                              dim=0)[k],
              np.array([[1, 1], [1, 1], [2, 3], [1, 1]]), grad=False)
    _same(lambda t: mc.unique_consecutive(t), np.array([np.nan, np.nan, 1.]), grad=False)


def test_index_add_copy_fill():
    i = np.array([0, 2, 0])
    _same(lambda x, s: x.index_add(1, mc.tensor(i, device=x.device), s, alpha=2),
          randn(2, 3), randn(2, 3))
    _same(lambda x, s: x.index_copy(0, mc.tensor([2, 0], device=x.device), s),
          randn(3, 2), randn(2, 2))
    _same(lambda x, v: x.index_fill(1, mc.tensor([-1, 0], device=x.device), v),
          randn(2, 3), np.array(2.))
    _same(lambda x: x.index_fill(0, mc.tensor([0], device=x.device), 1.5), np.arange(3))
    _same_error(lambda x: x.index_add(0, mc.tensor([3], device=x.device), x[:1]),
                randn(3, 2), error=IndexError, match="out of bounds")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce(reduce):
    idx = np.array([[2, 0, 2, 2], [1, 1, 0, 2]])
    x, s = randn(2, 3), randn(2, 5)
    s[0, 2], x[1, 0] = 0., 0.                                # prod's zero cases
    for include_self in (True, False):
        _same(lambda a, b: a.scatter_reduce(1, mc.tensor(idx, device=a.device), b, reduce,
                                            include_self=include_self), x, s)
    s[1, 1] = np.nan                                         # NaN wins amax/amin
    _same(lambda a, b: a.scatter_reduce(1, mc.tensor(idx, device=a.device), b, reduce), x, s)
    _same(lambda a, b: a.scatter_reduce(0, mc.tensor([0, 0, 1], device=a.device), b, reduce),
          np.array([1, 2, 3]), np.array([-2, -3, 4]))


def test_masked_scatter_and_scatters():
    m = np.array([[True, False, True], [False, True, False]])
    _same(lambda x, s: x.masked_scatter(mc.tensor(m, device=x.device), s), randn(2, 3),
          randn(4))
    _same(lambda x, s: x.masked_scatter(mc.tensor(m[0], device=x.device), s), randn(2, 3),
          randn(2, 3))
    _same(lambda x, s: x.select_scatter(s, 1, -1), randn(2, 3), randn(2))
    _same(lambda x, s: x.slice_scatter(s, 1, 1, None, 2), randn(2, 5), randn(2, 2))
    _same(lambda x, s: x.diagonal_scatter(s, -1, 1, 0), randn(4, 3), randn(2))
    _same(lambda x, s: x.diagonal_scatter(s, 0, 0, 2), randn(2, 3, 4), randn(3, 2))
    _same_error(lambda x, s: x.masked_scatter(mc.tensor(m, device=x.device), s),
                randn(2, 3), randn(2), match="number of ones")


@pytest.mark.parametrize("dtype", [np.float16, np.uint8, np.int8, np.int16, np.bool_])
def test_scatters_on_dtypes_that_cupy_at_lacks(dtype):
    """CuPy's maximum.at/minimum.at (and add.at) refuse these dtypes: minicv widens."""
    idx = np.array([2, 0, 2, 2])
    x, s = (np.array([1, 0, 1]).astype(dtype), np.array([1, 1, 0, 1]).astype(dtype))
    for reduce in ("sum", "amax", "amin") + (("mean",) if dtype != np.bool_ else ()):
        _same(lambda a, b: a.scatter_reduce(0, mc.tensor(idx, device=a.device), b, reduce),
              x, s, grad=False, rtol=1e-3)
    _same(lambda a, b: a.index_add(0, mc.tensor(idx, device=a.device), b), x, s, grad=False,
          rtol=1e-3)
    _same(lambda a, b: a.index_put((mc.tensor(idx, device=a.device),), b, accumulate=True),
          x, s, grad=False, rtol=1e-3)
