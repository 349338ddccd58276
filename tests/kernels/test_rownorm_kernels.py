"""The Numba LayerNorm/GroupNorm/InstanceNorm path (``ops.norm.AffineNormCPU``,
``kernels/cpu/rownorm.py``) against the NumPy op ``AffineNorm`` it replaces on CPU.

The kernels accumulate the statistics and the parameter sums in float64 and write in the
input's dtype; NumPy's op works in the input's dtype throughout, so the two agree to a
few float32 (float64) roundings, relative to the size of the values: TOL below.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicv as mc
import minicv.nn.functional as F
from minicv.ops.norm import AffineNorm, AffineNormCPU

TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _layer_norm_pair(x, w, b, k, eps=1e-5):
    """(fast, reference) layer_norm over the last k dims, the same call for both."""
    lead = x.shape[:x.ndim - k]
    m = math.prod(x.shape[x.ndim - k:])
    fast = AffineNormCPU.apply(x, w, b, view=(math.prod(lead), m), eps=eps)
    ref = AffineNorm.apply(x, w, b, axes=(len(lead),), eps=eps, view=lead + (m,),
                           wshape=(1,) * len(lead) + x.shape[x.ndim - k:],
                           sum_axes=tuple(range(len(lead))))
    return fast, ref


def _group_norm_pair(x, g, w, b, eps=1e-5):
    n, c = x.shape[:2]
    s = math.prod(x.shape[2:])
    fast = AffineNormCPU.apply(x, w, b, view=(n * g, c // g * s), groups=g, spatial=s,
                               eps=eps)
    ref = AffineNorm.apply(x, w, b, axes=(2,), eps=eps, view=(n, g, c // g * s),
                           wshape=(1, c) + (1,) * (x.ndim - 2),
                           sum_axes=(0,) + tuple(range(2, x.ndim)))
    return fast, ref


def _grads(make, x, params, gy):
    """Forward values and gradients of x and the parameters for both paths."""
    out = []
    for i in range(2):
        xt = mc.tensor(x, requires_grad=True)
        pt = [None if p is None else mc.tensor(p, requires_grad=True) for p in params]
        y = make(xt, *pt)[i]
        y.backward(mc.tensor(gy))
        out.append([y.data, xt.grad.data] + [p.grad.data for p in pt if p is not None])
    return out


def _close(fast, ref, dtype, scale_y=1.0, scale_dx=1.0):
    """Equal to TOL relative to each result's largest value, and for y and dx to the size
    of their cancelling terms: y = x·a_c + b_c (GroupNorm, as BatchNorm and PyTorch)
    rounds x·a_c, of size max|x|·rstd·|γ|; dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) of
    size max|dy·γ|·rstd."""
    for a, r, extra in zip(fast, ref, (scale_y, scale_dx) + (1.0,) * len(fast)):
        assert a.dtype == r.dtype and a.shape == r.shape
        scale = max(1.0, float(np.nanmax(np.abs(r), initial=0.0)), extra)
        np.testing.assert_allclose(a, r, rtol=0, atol=TOL[dtype] * scale)


def _scales(x2, gy, params):
    """(scale_y, scale_dx) of :func:`_close` for the rows of x2 (R, M)."""
    rstd = 1 / np.sqrt(x2.astype(np.float64).var(axis=1).min() + 1e-5)
    wmax = max([1.0] + [np.abs(p).max() for p in params[:1]])
    return (float(np.abs(x2).max() * rstd * wmax), float(np.abs(gy).max() * wmax * rstd))


def _arrays(rng, shape, dtype, offset=0.0):
    return (rng.standard_normal(shape) * 2 + offset).astype(dtype)


@settings(max_examples=25, deadline=None)
@given(lead=st.lists(st.integers(1, 5), min_size=1, max_size=2),
       tail=st.lists(st.integers(1, 9), min_size=1, max_size=2),
       dtype=st.sampled_from([np.float32, np.float64]), affine=st.booleans(),
       offset=st.sampled_from([0.0, 50.0]), seed=st.integers(0, 99))
def test_layer_norm_matches_numpy(lead, tail, dtype, affine, offset, seed):
    rng = np.random.default_rng(seed)
    x = _arrays(rng, tuple(lead + tail), dtype, offset)
    params = [_arrays(rng, tuple(tail), dtype), _arrays(rng, tuple(tail), dtype)] \
        if affine else []
    gy = _arrays(rng, x.shape, dtype)
    fast, ref = _grads(lambda xt, *p: _layer_norm_pair(xt, *(p or (None, None)), len(tail)),
                       x, params, gy)
    _close(fast, ref, dtype, *_scales(x.reshape(-1, math.prod(tail)), gy, params))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), groups=st.integers(1, 4), per_group=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 6), min_size=0, max_size=2),
       dtype=st.sampled_from([np.float32, np.float64]), affine=st.booleans(),
       seed=st.integers(0, 99))
def test_group_norm_matches_numpy(n, groups, per_group, spatial, dtype, affine, seed):
    c = groups * per_group
    if per_group * math.prod(spatial) < 2:
        spatial = [2]
    rng = np.random.default_rng(seed)
    x = _arrays(rng, (n, c, *spatial), dtype, 3.0)
    params = [_arrays(rng, (c,), dtype), _arrays(rng, (c,), dtype)] if affine else []
    gy = _arrays(rng, x.shape, dtype)
    fast, ref = _grads(lambda xt, *p: _group_norm_pair(xt, groups, *(p or (None, None))),
                       x, params, gy)
    _close(fast, ref, dtype, *_scales(x.reshape(n * groups, -1), gy, params))


@pytest.mark.parametrize("shape,k,groups", [((64, 40, 256), 1, 0), ((8, 16, 64, 64), 3, 0),
                                            ((16, 32, 24, 24), 0, 8)])
def test_large_inputs_on_threads_do_not_depend_on_the_thread_count(shape, k, groups):
    """Large enough for the native team (and several slots of partials); the results of
    one and two threads are bit-identical, and match NumPy."""
    rng = np.random.default_rng(0)
    x, gy = _arrays(rng, shape, np.float32), _arrays(rng, shape, np.float32)
    pshape = shape[len(shape) - k:] if k else (shape[1],)
    params = [_arrays(rng, pshape, np.float32), _arrays(rng, pshape, np.float32)]
    make = (lambda xt, w, b: _layer_norm_pair(xt, w, b, k)) if k else \
        (lambda xt, w, b: _group_norm_pair(xt, groups, w, b))
    before = mc.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            mc.set_num_threads(threads)
            results.append(_grads(make, x, params, gy))
    finally:
        mc.set_num_threads(before)
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    _close(results[0][0], results[0][1], np.float32)


@pytest.mark.filterwarnings("ignore:invalid value")
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_special_values_poison_their_row_only(value):
    """A NaN or ±inf makes its row's μ or σ² NaN/inf: that row (group) is NaN in both
    paths, the others are unaffected."""
    rng = np.random.default_rng(1)
    x = _arrays(rng, (4, 6, 5), np.float32)
    x[1, 2, 3] = value
    fast, ref = _layer_norm_pair(mc.tensor(x), None, None, 2)
    assert np.isnan(fast.data[1]).all() and np.isnan(ref.data[1]).all()
    _close([fast.data[[0, 2, 3]]], [ref.data[[0, 2, 3]]], np.float32)
    fast, ref = _group_norm_pair(mc.tensor(x), 3, None, None)
    np.testing.assert_array_equal(np.isnan(fast.data), np.isnan(ref.data))


def test_constant_rows_give_zero_and_finite_gradients():
    """σ² = 0: x̂ = 0 (rstd = 1/√ε), as NumPy's op (no division by zero)."""
    x = np.full((3, 8), 2.5, np.float32)
    gy = _arrays(np.random.default_rng(2), x.shape, np.float32)
    fast, ref = _grads(lambda xt: _layer_norm_pair(xt, None, None, 1), x, [], gy)
    _close(fast, ref, np.float32)


def test_dispatch_keeps_numpy_op_for_other_dtypes_and_mixed_parameters():
    from minicv.ops.norm import _affine_norm_fn
    x32 = mc.tensor(np.ones((2, 4, 3), np.float32))
    assert _affine_norm_fn(x32, None, None) is AffineNormCPU
    assert _affine_norm_fn(x32, mc.ones(3, dtype=mc.float64), None) is AffineNorm
    assert _affine_norm_fn(mc.tensor(np.ones((2, 3), np.float16)), None, None) is AffineNorm
    assert _affine_norm_fn(mc.tensor(np.ones((0, 3), np.float32)), None, None) is AffineNorm


def test_instance_norm_running_statistics_from_the_kernel():
    """The running buffers move towards the batch mean of each instance's mean and
    unbiased variance (computed here in float64)."""
    rng = np.random.default_rng(3)
    x = _arrays(rng, (5, 3, 4, 6), np.float32, 1.0)
    rm, rv = mc.zeros(3), mc.ones(3)
    y = F.instance_norm(mc.tensor(x), rm, rv, momentum=0.25)
    x64 = x.astype(np.float64).reshape(5, 3, -1)
    np.testing.assert_allclose(rm.data, 0.25 * x64.mean(axis=2).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(rv.data, 0.75 + 0.25 * x64.var(axis=2, ddof=1).mean(axis=0),
                               rtol=1e-6)
    ref = F.group_norm(mc.tensor(x), 3)
    np.testing.assert_array_equal(y.data, ref.data)
