"""Hypothesis strategies for property-based tests of ops (yours or minicv's).

They draw float64 tensors of small, awkward shapes (rank 0 to 4, sides 1 to 4), shapes
that broadcast against each other, and valid ``dim`` arguments. Values stay inside
``[min_value, max_value]`` and at least ``margin`` away from the points in ``avoid``
(the kinks of relu, abs, max...), where finite differences would be meaningless.

Example::

    from hypothesis import given
    from minicv.testing import gradcheck, strategies as st

    @given(st.tensors(avoid=(0.0,)))
    def test_relu(x):
        gradcheck(lambda t: t.relu(), (x,))
"""
import numpy as np
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Array shapes such as (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=4):
    """A tuple of ``num_shapes`` shapes that broadcast together (sizes of 1 included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: b.input_shapes)


def _push_away(a, avoid, margin):
    for k in avoid:
        close = np.abs(a - k) < margin
        a = np.where(close, k + np.where(a >= k, margin, -margin), a)
    return a


@hs.composite
def tensors(draw, shape=None, dtype=np.float64, min_value=-3.0, max_value=3.0,
            avoid=(), margin=1e-2, requires_grad=True, unique=False):
    """A tensor of ``shape`` (drawn from :func:`shapes` when None) with bounded values.

    Args:
        avoid: points (kinks) the values keep ``margin`` away from, e.g. ``(0.0,)``.
        unique: make all values distinct by at least ``margin`` (for max/min/sort ties).
    """
    if shape is None:
        shape = draw(shapes())
    elif not isinstance(shape, tuple):
        shape = draw(shape)
    elements = hs.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                         width=64)
    a = draw(hnp.arrays(np.float64, shape, elements=elements))
    if unique and a.size > 1:                   # sorted neighbours end >= 2·margin apart
        order = np.argsort(a, axis=None, kind="stable")
        ranks = np.empty(a.size)
        ranks[order] = np.arange(a.size)
        a = a + (ranks * 2 * margin).reshape(a.shape)
    # after the spreading, which could move a value onto a kink; at most one value lies
    # within margin of a kink, and moving it by < margin keeps it apart from the others
    a = _push_away(a, avoid, margin)
    return Tensor(a.astype(dtype), requires_grad=requires_grad and
                  np.dtype(dtype).kind == "f")


@hs.composite
def dims(draw, shape, allow_none=True, allow_tuple=True):
    """A valid ``dim`` argument for a tensor of ``shape``: None, an int, or a tuple."""
    ndim = len(shape)
    choices = ["int"] if ndim else []
    if allow_none or not ndim:
        choices.append("none")
    if allow_tuple and ndim:
        choices.append("tuple")
    kind = draw(hs.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(hs.integers(-ndim, ndim - 1))
    axes = draw(hs.lists(hs.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(axes)


@hs.composite
def conv_configs(draw, max_side=8, max_groups=2):
    """Small, valid conv2d configurations: a dict with n, cin, cout, k, h, w, stride,
    padding, dilation, groups and bias (odd sizes, strides and dilations included)."""
    groups = draw(hs.integers(1, max_groups))
    cin = groups * draw(hs.integers(1, 2))
    cout = groups * draw(hs.integers(1, 2))
    k = draw(hs.integers(1, 3))
    stride, dilation = draw(hs.integers(1, 2)), draw(hs.integers(1, 2))
    padding = draw(hs.integers(0, 2))
    h = draw(hs.integers((k - 1) * dilation + 1, max_side - 1))
    return dict(n=draw(hs.integers(1, 2)), cin=cin, cout=cout, k=k, h=h,
                w=draw(hs.integers(h, max_side)), stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(hs.booleans()))
