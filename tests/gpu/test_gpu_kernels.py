"""The CUDA kernels of csrc/ against the NumPy reference, on random geometries.

Marked ``gpu``: on a machine with a GPU they run on it (``bash tests/gpu/check.sh``); on
a CPU-only machine ``tests/gpu/test_emulated.py`` runs them on the CuPy emulator, which
compiles the same .cu files with g++ and runs every thread. The configurations are drawn
as in the CPU kernel tests (odd sizes, strides, dilation, padding, ceil_mode, views), in
float64 so that any difference is a bug and not rounding, and float32 for the default.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicv.kernels import reference as ref

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")
gpu = pytest.importorskip("minicv.kernels.gpu.conv")      # noqa: F841 (imports cupy wrappers)
from minicv.kernels.gpu import im2col as g_im2col, pool as g_pool          # noqa: E402
from minicv.kernels.gpu import resample as g_resample, winograd as g_winograd  # noqa: E402

DTYPES = st.sampled_from([np.float32, np.float64])


def _special(x, kind, rng):
    """``x`` with ties (rounded values), or with NaN and -inf sprinkled in."""
    if kind == "ties":
        return np.round(x).astype(x.dtype)
    if kind == "nan_inf":
        x = x.copy()
        x[rng.random(x.shape) < 0.15] = np.nan
        x[rng.random(x.shape) < 0.3] = -np.inf
    return x


KINDS = st.sampled_from(["plain", "ties", "nan_inf"])


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _dev(a, layout="contiguous"):
    """``a`` on the device, C-contiguous or as a non-contiguous view with its values."""
    d = cp.asarray(a)
    if layout == "sliced":
        big = cp.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        big[..., ::2] = d
        return big[..., ::2]
    if layout == "flipped":
        return cp.ascontiguousarray(d[..., ::-1])[..., ::-1]
    return d


@st.composite
def windows(draw, pool=False):
    """(shape, k, s, p, d): a window geometry whose output has at least one cell."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = (1, 1) if pool == "avg" else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    cap = (kh // 2, kw // 2) if pool else (2, 2)     # pooling: padding <= half the window
    ph, pw = draw(st.integers(0, cap[0])), draw(st.integers(0, cap[1]))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 11))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 11))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)


@settings(max_examples=30, deadline=None)
@given(windows(), DTYPES, st.sampled_from(["contiguous", "sliced", "flipped"]))
def test_im2col_col2im_match_reference(cfg, dtype, layout):
    shape, k, s, p, d = cfg
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    cols = g_im2col.im2col(_dev(x, layout), *k, s, p, d)
    np.testing.assert_array_equal(cp.asnumpy(cols), ref.im2col(x, *k, s, p, d))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(cp.asnumpy(g_im2col.col2im(_dev(g, layout), shape, *k, s, p, d)),
                               ref.col2im(g, shape, *k, s, p, d), **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(windows(), st.integers(1, 2), DTYPES, st.booleans())
def test_depthwise_matches_reference(cfg, multiplier, dtype, bias):
    from minicv.kernels.gpu import depthwise as g_dw
    (n, c, h, w), k, s, p, d = cfg
    c += 1                                              # depthwise needs C > 1
    rng = np.random.default_rng(8)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((c * multiplier, 1) + k).astype(dtype)
    b = rng.standard_normal(c * multiplier).astype(dtype) if bias else None
    want = ref.conv2d(x, wt, b, s, p, d, groups=c)
    out = want.shape[2:]
    y = g_dw.forward(_dev(x), _dev(wt), None if b is None else _dev(b), s, p, d, out)
    np.testing.assert_allclose(cp.asnumpy(y), want, **_tol(dtype))
    gy = rng.standard_normal(want.shape).astype(dtype)
    gx_ref, gw_ref, _ = ref.conv2d_backward(x, wt, gy, s, p, d, groups=c)
    gx, gw = g_dw.backward(_dev(x), _dev(wt), _dev(gy), s, p, d, (True, True))
    np.testing.assert_allclose(cp.asnumpy(gx), gx_ref, **_tol(dtype))
    np.testing.assert_allclose(cp.asnumpy(gw), gw_ref, **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(windows(pool=True), DTYPES, st.booleans(), KINDS)
def test_max_pool_matches_reference(cfg, dtype, ceil_mode, kind):
    shape, k, s, p, d = cfg
    rng = np.random.default_rng(1)
    x = _special(rng.standard_normal(shape).astype(dtype), kind, rng)
    y, idx = g_pool.max_pool2d(_dev(x), k, s, p, d, ceil_mode)
    y_ref, idx_ref = ref.max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(cp.asnumpy(y), y_ref)
    np.testing.assert_array_equal(cp.asnumpy(idx), idx_ref)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    want = ref.max_pool2d_backward(gy, idx_ref, shape)
    by_window = g_pool.max_pool2d_backward(_dev(gy), _dev(idx_ref), shape, k, s, p, d,
                                           ceil_mode)
    by_plane = g_pool.max_pool2d_backward(_dev(gy), _dev(idx_ref), shape)
    np.testing.assert_allclose(cp.asnumpy(by_window), want, **_tol(dtype))
    np.testing.assert_allclose(cp.asnumpy(by_plane), want, **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(windows(pool="avg"), DTYPES, st.booleans(), st.booleans(),
       st.sampled_from([None, 1, 5]))
def test_avg_pool_matches_reference(cfg, dtype, ceil_mode, include_pad, divisor):
    shape, k, s, p, _ = cfg
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    args = (k, s, p, ceil_mode, include_pad, divisor)
    y = g_pool.avg_pool2d(_dev(x), *args)
    np.testing.assert_allclose(cp.asnumpy(y), ref.avg_pool2d(x, *args), **_tol(dtype))
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(cp.asnumpy(g_pool.avg_pool2d_backward(_dev(gy), shape, *args)),
                               ref.avg_pool2d_backward(gy, shape, *args), **_tol(dtype))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 9),
       st.integers(1, 9), DTYPES, st.booleans())
def test_winograd_transforms_match_reference(n, c, k, oh, ow, dtype, bias):
    rng = np.random.default_rng(3)
    th, tw = ref.winograd_tiles(oh, ow, 2)
    xp = rng.standard_normal((n, c, th * 2 + 2, tw * 2 + 2)).astype(dtype)
    v = g_winograd.input_transform(_dev(xp), 2)
    np.testing.assert_allclose(cp.asnumpy(v), ref.winograd_input_transform(xp, 2),
                               **_tol(dtype))
    w = rng.standard_normal((k, c, 3, 3)).astype(dtype)
    np.testing.assert_allclose(cp.asnumpy(g_winograd.filter_transform(_dev(w))),
                               ref.winograd_filter_transform(w.astype(np.float64))
                               .astype(dtype), **_tol(dtype))
    mt = rng.standard_normal((16, k, n * th * tw)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype) if bias else None
    y = g_winograd.output_transform(_dev(mt), 2, n, oh, ow,
                                    None if b is None else _dev(b))
    want = ref.winograd_output_transform(mt, 2, n, oh, ow)
    if bias:
        want = want + b[:, None, None]
    np.testing.assert_allclose(cp.asnumpy(y), want, **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 13), st.integers(1, 13),
       st.sampled_from(["nearest", "bilinear"]), st.booleans(), DTYPES)
def test_resample_matches_reference(h, w, oh, ow, mode, align, dtype):
    rng = np.random.default_rng(4)
    shape = (2, 3, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    gy = rng.standard_normal((2, 3, oh, ow)).astype(dtype)
    if mode == "nearest":
        y = g_resample.interpolate_nearest(_dev(x), (oh, ow))
        gx = g_resample.interpolate_nearest_backward(_dev(gy), shape)
        y_ref = ref.interpolate_nearest(x, (oh, ow))
        gx_ref = ref.interpolate_nearest_backward(gy, shape)
    else:
        y = g_resample.interpolate_bilinear(_dev(x), (oh, ow), align)
        gx = g_resample.interpolate_bilinear_backward(_dev(gy), shape, align)
        y_ref = ref.interpolate_bilinear(x, (oh, ow), align)
        gx_ref = ref.interpolate_bilinear_backward(gy, shape, align)
    np.testing.assert_allclose(cp.asnumpy(y), y_ref, **_tol(dtype))
    np.testing.assert_allclose(cp.asnumpy(gx), gx_ref, **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 12), st.integers(1, 12),
       st.booleans(), DTYPES)
def test_bicubic_and_nearest_exact_match_reference(h, w, oh, ow, align, dtype):
    rng = np.random.default_rng(5)
    shape = (2, 3, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    gy = rng.standard_normal((2, 3, oh, ow)).astype(dtype)
    got = (g_resample.interpolate_bicubic(_dev(x), (oh, ow), align),
           g_resample.interpolate_bicubic_backward(_dev(gy), shape, align),
           g_resample.interpolate_nearest(_dev(x), (oh, ow), exact=True),
           g_resample.interpolate_nearest_backward(_dev(gy), shape, exact=True))
    want = (ref.interpolate_bicubic(x, (oh, ow), align),
            ref.interpolate_bicubic_backward(gy, shape, align),
            ref.interpolate_nearest(x, (oh, ow), exact=True),
            ref.interpolate_nearest_backward(gy, shape, exact=True))
    for g, r in zip(got, want):
        np.testing.assert_allclose(cp.asnumpy(g), r, **_tol(dtype))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 11), st.integers(1, 11), st.integers(1, 6), st.integers(1, 6),
       DTYPES, KINDS)
def test_adaptive_pooling_matches_reference(h, w, oh, ow, dtype, kind):
    rng = np.random.default_rng(6)
    shape = (2, 3, h, w)
    x = _special(rng.standard_normal(shape).astype(dtype), kind, rng)
    gy = rng.standard_normal((2, 3, oh, ow)).astype(dtype)
    np.testing.assert_allclose(cp.asnumpy(g_resample.adaptive_avg_pool2d(_dev(x), (oh, ow))),
                               ref.adaptive_avg_pool2d(x, (oh, ow)), **_tol(dtype))
    np.testing.assert_allclose(
        cp.asnumpy(g_resample.adaptive_avg_pool2d_backward(_dev(gy), shape)),
        ref.adaptive_avg_pool2d_backward(gy, shape), **_tol(dtype))
    y, idx = g_pool.adaptive_max_pool2d(_dev(x), (oh, ow))
    y_ref, idx_ref = ref.adaptive_max_pool2d(x, (oh, ow))
    np.testing.assert_array_equal(cp.asnumpy(y), y_ref)
    np.testing.assert_array_equal(cp.asnumpy(idx), idx_ref)


@st.composite
def volumes(draw):
    """(shape, k, s, p, d) of a 3-D window with at least one output cell."""
    k = tuple(draw(st.integers(1, 3)) for _ in range(3))
    s = tuple(draw(st.integers(1, 2)) for _ in range(3))
    d = tuple(draw(st.integers(1, 2)) for _ in range(3))
    p = tuple(draw(st.integers(0, k[a] // 2)) for a in range(3))
    size = tuple(draw(st.integers(max(1, d[a] * (k[a] - 1) + 1 - 2 * p[a]), 6))
                 for a in range(3))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size, k, s, p, d


@settings(max_examples=25, deadline=None)
@given(volumes(), DTYPES, st.booleans(), KINDS)
def test_vol2col_col2vol_and_max_pool3d_match_reference(cfg, dtype, ceil_mode, kind):
    shape, k, s, p, d = cfg
    rng = np.random.default_rng(7)
    x = _special(rng.standard_normal(shape).astype(dtype), kind, rng)
    cols = g_im2col.vol2col(_dev(x), k, s, p, d)
    np.testing.assert_array_equal(cp.asnumpy(cols), ref.vol2col(x, k, s, p, d))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(cp.asnumpy(g_im2col.col2vol(_dev(g), shape, k, s, p, d)),
                               ref.col2vol(g, shape, k, s, p, d), **_tol(dtype))
    y, idx = g_pool.max_pool3d(_dev(x), k, s, p, d, ceil_mode)
    y_ref, idx_ref = ref.max_pool3d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(cp.asnumpy(y), y_ref)
    np.testing.assert_array_equal(cp.asnumpy(idx), idx_ref)


def test_kernels_loop_over_the_grid(monkeypatch):
    """With the grid capped at one block every kernel runs many laps of its grid-stride
    loop: the results do not change."""
    import minicv as mc
    from minicv.kernels.gpu import module
    from minicv.nn import functional as F

    def run():
        mc.manual_seed(0)
        x = mc.randn(2, 3, 9, 9, device="cuda", requires_grad=True)
        w = mc.randn(4, 3, 3, 3, device="cuda", requires_grad=True)
        bn = mc.nn.BatchNorm2d(4).to("cuda")
        y = F.interpolate(F.max_pool2d(mc.relu(bn(F.conv2d(x, w, padding=1))), 2),
                          scale_factor=1.5, mode="bicubic")
        y.sum().backward()
        opt = mc.optim.Adam([x, w] + list(bn.parameters()), lr=0.1)
        opt.step()
        return [t.detach().cpu().numpy() for t in (y, x, w, x.grad, w.grad)]
    full = run()
    monkeypatch.setattr(module, "MAX_BLOCKS", 1)
    for a, b in zip(run(), full):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("groups", [1, 2])
def test_weight_gradient_paths_agree(monkeypatch, groups):
    """The batched per-sample weight-gradient GEMM and the transposed one-GEMM path (taken
    above WGRAD_BATCHED_BYTES) give the reference's gradient."""
    from minicv.kernels.gpu import conv as g_conv
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 7, 6))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    gy = rng.standard_normal((3, 6, 4, 3))
    want = ref.conv2d_backward(x, w, gy, 2, 1, 1, groups)[1]
    for limit in (1 << 30, 0):
        monkeypatch.setattr(g_conv, "WGRAD_BATCHED_BYTES", limit)
        gw = g_conv.conv2d_backward(_dev(x), _dev(w), _dev(gy), 2, 1, 1, groups,
                                    needs=(False, True, False))[1]
        np.testing.assert_allclose(cp.asnumpy(gw), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd,groups", [(2, 1), (2, 2), (3, 1), (3, 2)])
def test_convolutions_in_batch_chunks_match_the_reference(monkeypatch, nd, groups):
    """With a workspace of one sample the column convolutions run sample by sample,
    forward and backward (the weight gradient summed over chunks): same results."""
    from minicv.kernels.gpu import conv as g_conv
    rng = np.random.default_rng(10)
    size = (5, 6) if nd == 2 else (4, 5, 3)
    x = rng.standard_normal((3, 4) + size)
    w = rng.standard_normal((6, 4 // groups) + (3,) * nd)
    monkeypatch.setattr(g_conv, "WORKSPACE_BYTES", 1)
    if nd == 2:
        y = g_conv.conv2d_forward(_dev(x), _dev(w), None, 1, 1, 1, groups)
        want = ref.conv2d(x, w, None, 1, 1, 1, groups)
        gy = rng.standard_normal(want.shape)
        got = g_conv.conv2d_backward(_dev(x), _dev(w), _dev(gy), 1, 1, 1, groups)
        grads = ref.conv2d_backward(x, w, gy, 1, 1, 1, groups)
    else:
        from minicv.kernels import conv_algo
        y = g_conv.conv3d_forward(_dev(x), _dev(w), None, 1, 1, 1, groups)
        want = conv_algo.conv3d_forward(x, w, None, 1, 1, 1, groups)
        gy = rng.standard_normal(want.shape)
        got = g_conv.conv3d_backward(_dev(x), _dev(w), _dev(gy), 1, 1, 1, groups)
        grads = conv_algo.conv3d_backward(x, w, gy, 1, 1, 1, groups)
    np.testing.assert_allclose(cp.asnumpy(y), want, rtol=1e-12, atol=1e-12)
    for g, r in zip(got, grads):
        np.testing.assert_allclose(cp.asnumpy(g), r, rtol=1e-12, atol=1e-12)


def test_kernel_arguments_must_fit_int32():
    from minicv.kernels.gpu.module import i32
    assert i32(2**31 - 1) == (np.int32(2**31 - 1),)
    with pytest.raises(ValueError, match="does not fit in int32"):
        i32(2**31)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 6), st.integers(1, 7), st.integers(1, 4),
       st.booleans(), st.booleans(), st.sampled_from(["a", "b", "none"]), DTYPES)
def test_matmul_shared_matches_numpy(m, k, n, batch, trans_a, trans_b, shared, dtype):
    """cuBLAS's strided-batched GEMM with a shared (stride-0) operand, every transpose."""
    from minicv.kernels.gpu.blas import matmul_shared
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal(((k, m) if trans_a else (m, k))
                            if shared == "a" else (batch,) + ((k, m) if trans_a else (m, k)))
    b = rng.standard_normal(((n, k) if trans_b else (k, n))
                            if shared == "b" else (batch,) + ((n, k) if trans_b else (k, n)))
    a, b = a.astype(dtype), b.astype(dtype)
    want = (a.swapaxes(-1, -2) if trans_a else a) @ (b.swapaxes(-1, -2) if trans_b else b)
    out = cp.full(want.shape, np.nan, dtype)
    got = matmul_shared(_dev(a), _dev(b), out, trans_a, trans_b)
    assert got is out
    np.testing.assert_allclose(cp.asnumpy(out), want, **_tol(dtype))


def test_matmul_shared_views_float16_and_errors():
    from minicv.kernels.gpu.blas import matmul_shared
    rng = np.random.default_rng(0)
    cols, w = rng.standard_normal((6, 2, 4, 5)), rng.standard_normal((3, 4))
    out = cp.empty((6, 2, 3, 5))
    matmul_shared(_dev(w), _dev(cols)[:, 1], out[:, 1])      # one group: strided batches
    np.testing.assert_allclose(cp.asnumpy(out[:, 1]), w @ cols[:, 1], rtol=1e-12)
    half = matmul_shared(_dev(w.astype(np.float16)), _dev(cols[:, 0].astype(np.float16)),
                         cp.empty((6, 3, 5), np.float16))   # CuPy's matmul serves float16
    np.testing.assert_allclose(cp.asnumpy(half), w @ cols[:, 0], rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError, match="C-contiguous"):
        matmul_shared(_dev(w).T, _dev(cols[:, 0]), cp.empty((6, 4, 5)))
    with pytest.raises(ValueError, match="do not match"):
        matmul_shared(_dev(w), _dev(cols[:, 0]), cp.empty((6, 3, 4)))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40), st.integers(1, 12), st.integers(1, 3),
       st.sampled_from(["maximum", "minimum"]),
       st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.float16]),
       st.booleans())
def test_scatter_extreme_and_reduceat_match_numpy(m, size, d, op, dtype, nans):
    """csrc/segment.cu: np.maximum.at / minimum.at (repeated, unsorted positions) and
    maximum.reduceat / minimum.reduceat (runs of rows), NaN winning, exactly."""
    from minicv.kernels.gpu.segment import reduceat, scatter_extreme
    rng = np.random.default_rng(m * 31 + size)
    values = (rng.standard_normal(m) * 50).astype(dtype)
    if nans and dtype in (np.float32, np.float64):
        values[rng.random(m) < 0.2] = np.nan
    target = (rng.standard_normal(size) * 50).astype(dtype)
    index = rng.integers(0, size, m)
    want = target.copy()
    getattr(np, op).at(want, index, values)
    got = scatter_extreme(op, _dev(target), _dev(index), _dev(values))
    np.testing.assert_array_equal(cp.asnumpy(got), want)
    rows = (rng.standard_normal((size, d)) * 50).astype(dtype)
    starts = np.flatnonzero(np.r_[True, rng.random(size - 1) < 0.4])  # strictly increasing
    want = getattr(np, op).reduceat(rows, starts, axis=0)
    got = reduceat(op, _dev(rows), starts)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(cp.asnumpy(got), want)
    with pytest.raises(ValueError, match="strictly increasing"):
        reduceat(op, _dev(rows), np.array([0, 0]))
