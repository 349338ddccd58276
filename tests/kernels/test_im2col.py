"""Numba im2col/col2im against the NumPy reference, on random configurations and views."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicv.kernels import reference as ref
from minicv.kernels.cpu import im2col as cpu
from minicv.kernels import conv_algo


@st.composite
def im2col_configs(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)


@settings(max_examples=40, deadline=None)
@given(im2col_configs(), st.sampled_from([np.float32, np.float64]))
def test_im2col_col2im_match_reference(cfg, dtype):
    shape, k, s, p, d = cfg
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    cols = cpu.im2col(x, *k, s, p, d)
    np.testing.assert_array_equal(cols, ref.im2col(x, *k, s, p, d))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(cpu.col2im(g, shape, *k, s, p, d),
                               ref.col2im(g, shape, *k, s, p, d), rtol=1e-6, atol=1e-6)


def test_col2im_is_adjoint_of_im2col(rng):
    # <im2col(x), g> == <x, col2im(g)>: the defining property of the backward
    x = rng.standard_normal((2, 3, 8, 7))
    g = rng.standard_normal(ref.im2col(x, 3, 2, (2, 1), 1, (1, 2)).shape)
    lhs = np.sum(cpu.im2col(x, 3, 2, (2, 1), 1, (1, 2)) * g)
    rhs = np.sum(x * cpu.col2im(g, x.shape, 3, 2, (2, 1), 1, (1, 2)))
    assert abs(lhs - rhs) < 1e-10 * max(1, abs(lhs))


@pytest.mark.parametrize("kind", ["contiguous", "flipped", "transposed", "sliced"])
def test_im2col_views(rng, views, kind):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    v = views(x)[kind]
    np.testing.assert_array_equal(cpu.im2col(v, 3, 3, 2, 1, 1), ref.im2col(x, 3, 3, 2, 1, 1))
    cols = ref.im2col(x, 3, 3, 1, 1, 1)
    cv = views(cols)[kind]
    np.testing.assert_allclose(cpu.col2im(cv, x.shape, 3, 3, 1, 1, 1),
                               ref.col2im(cols, x.shape, 3, 3, 1, 1, 1), rtol=1e-6, atol=1e-6)


def test_chunking_bounds_the_column_buffer():
    # 1x3x512x512, 7x7 stride 2: one sample's columns are 3*49*253*253*4 B ~ 36 MiB
    shape, w_shape = (4, 3, 512, 512), (64, 3, 7, 7)
    assert conv_algo.im2col_chunk_size(shape, w_shape, 2, 3, 1, 4) == 3
    old = conv_algo.set_im2col_budget(40 << 20)
    try:
        assert conv_algo.im2col_chunk_size(shape, w_shape, 2, 3, 1, 4) == 1
    finally:
        conv_algo.set_im2col_budget(old)
    with pytest.raises(ValueError):
        conv_algo.set_im2col_budget(0)


def test_large_layer_runs_in_bounded_memory():
    import tracemalloc
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 512, 512)).astype(np.float32)
    w = rng.standard_normal((8, 3, 7, 7)).astype(np.float32)
    old = conv_algo.set_im2col_budget(8 << 20)
    try:
        conv_algo.conv2d_forward(x[:1, :, :64, :64], w, None, 2, 3)  # compile outside
        tracemalloc.start()
        y = conv_algo.conv2d_forward(x, w, None, 2, 3, algo="im2col")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        conv_algo.set_im2col_budget(old)
        conv_algo._tls.ws = {}
    cols_full = 2 * 3 * 49 * 256 * 256 * 4  # 77 MiB without chunking
    out_bytes = y.nbytes
    # columns for one chunk (a single sample: 36 MiB > 8 MiB budget) plus the output
    assert peak < out_bytes + cols_full / 2 + (8 << 20), peak
    ref_y = ref.conv2d(x[:, :, :40, :40].astype(np.float64), w, None, 2, 3)
    np.testing.assert_allclose(y[:, :, :17, :17], ref_y[:, :, :17, :17], rtol=1e-4, atol=1e-4)
