"""PyTorch's same-size and double-size shortcuts in the resampling index tables, and the
Numba kernels that read those tables, compared with the NumPy reference.

Expected values come from PyTorch 2.13 (CPU), ``F.interpolate(..., scale_factor=...)``.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicv.kernels import reference as ref
from minicv.kernels.cpu import resample


def test_nearest_copies_same_size_and_halves_double_size():
    # in 2, scale_factor 1.3 -> out 2: PyTorch's 2-D "nearest" copies (src = dst) where the
    # plain rule floor(dst / 1.3) gives [0, 0]
    np.testing.assert_array_equal(ref.nearest_indices(2, 2, 1.3), [0, 1])
    np.testing.assert_array_equal(ref.nearest_indices(2, 2, 1.3, shortcut=False), [0, 0])
    # in 5, scale_factor 2.1 -> out 10: src = dst // 2
    np.testing.assert_array_equal(ref.nearest_indices(5, 10, 2.1),
                                  [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(ref.nearest_indices(5, 10, 2.1, shortcut=False),
                                  [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
    # "nearest-exact" has no shortcut: in 10, scale_factor 1.09 -> out 10, last src 8
    assert ref.nearest_indices(10, 10, 1.09, exact=True)[-1] == 8


def test_linear_copies_a_same_size_axis():
    i0, i1, l0, l1 = ref.linear_weights(3, 3, False, 1.2, np.float64)
    np.testing.assert_array_equal(i0, [0, 1, 2])
    np.testing.assert_array_equal(i1, [0, 1, 2])
    np.testing.assert_array_equal(l0, [1, 1, 1])
    np.testing.assert_array_equal(l1, [0, 0, 0])
    # a changed size still interpolates: PyTorch's row 1 of arange(10).reshape(2, 5) at
    # scale_factor 1.3 is [5, 5.6538..., 6.4230..., 7.1923..., 7.9615..., 8.7307...]
    x = np.arange(10.0).reshape(1, 1, 2, 5)
    y = ref.interpolate_bilinear(x, (2, 6), scale_factor=1.3)
    np.testing.assert_allclose(y[0, 0, 1], [5.0, 5.6538461538, 6.4230769231, 7.1923076923,
                                            7.9615384615, 8.7307692308], rtol=1e-10)


def test_bicubic_has_no_shortcut():
    # PyTorch: bicubic, scale_factor 1.3 on arange(10).reshape(2, 5), row 1 starts at 3.2886
    x = np.arange(10.0).reshape(1, 1, 2, 5)
    y = ref.interpolate_bicubic(x, (2, 6), scale_factor=1.3)
    np.testing.assert_allclose(y[0, 0, 1, :2], [3.2885611061, 3.9165481338], rtol=1e-9)


@st.composite
def resample_cases(draw):
    """Input sizes with scale factors that often land on out == in or out == 2 in."""
    hw, sizes, scales = [], [], []
    for _ in range(2):
        n = draw(st.integers(1, 9))
        f = draw(st.one_of(st.floats(1.0, 1.0 + 0.99 / n), st.floats(2.0, 2.0 + 1.99 / n),
                           st.floats(0.4, 3.0)))
        hw.append(n)
        sizes.append(max(1, math.floor(n * f)))
        scales.append(f)
    return tuple(hw), tuple(sizes), tuple(scales)


@settings(max_examples=60, deadline=None)
@given(resample_cases(), st.booleans(), st.booleans())
def test_numba_kernels_follow_the_reference_tables(case, align, exact):
    hw, size, scales = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + hw)[..., ::-1]          # a strided view, odd sizes
    gy = rng.standard_normal((2, 3) + size)
    np.testing.assert_array_equal(resample.interpolate_nearest(x, size, scales, exact),
                                  ref.interpolate_nearest(x, size, scales, exact))
    np.testing.assert_allclose(resample.interpolate_nearest_backward(gy, x.shape, scales, exact),
                               ref.interpolate_nearest_backward(gy, x.shape, scales, exact),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(resample.interpolate_bilinear(x, size, align, scales),
                               ref.interpolate_bilinear(x, size, align, scales), rtol=1e-12,
                               atol=1e-12)
    gx = resample.interpolate_bilinear_backward(gy, x.shape, align, scales)
    np.testing.assert_allclose(gx, ref.interpolate_bilinear_backward(gy, x.shape, align, scales),
                               rtol=1e-12, atol=1e-12)
    y = resample.interpolate_bilinear(x, size, align, scales)
    assert np.isclose(np.sum(y * gy), np.sum(x * gx))        # the backward is the adjoint


@pytest.mark.parametrize("scale", [1.3, 2.1])
def test_numba_nearest_matches_pytorch_values(scale):
    # PyTorch 2.13: arange(10).reshape(1, 1, 2, 5), mode="nearest"
    want = {1.3: [5, 5, 6, 7, 8, 8], 2.1: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]}[scale]
    row = {1.3: 1, 2.1: 0}[scale]
    x = np.arange(10.0).reshape(1, 1, 2, 5)
    size = (math.floor(2 * scale), math.floor(5 * scale))
    y = resample.interpolate_nearest(x, size, scale)
    np.testing.assert_array_equal(y[0, 0, row], want)
