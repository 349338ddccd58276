"""The padding and pooling fast paths (``kernels/cpu/pad.py``, ``kernels/cpu/pool.py``)
against the readable NumPy paths they replace: the same bits, forward and backward, on
drawn shapes, odd sizes, non-contiguous inputs, NaN / inf / -0.0, one and two threads."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicv as mc
from minicv.kernels.cpu import pad as pad_kernels
from minicv.nn import functional as F

MODES = ("constant", "reflect", "replicate", "circular")


def _bits(a):
    """The bytes of ``a`` (NaN payloads and the sign of zero included)."""
    return np.ascontiguousarray(a).view(np.uint8)


def _pad_step(x, pad, mode, gy_seed, fast, monkeypatch, value=1.5):
    """(y, dx) of F.pad with a drawn upstream gradient, on the fast path or forced off it."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(pad_kernels, "fast_ok", lambda *a: False)
        t = mc.tensor(x, requires_grad=True)
        y = F.pad(t, pad, mode, value) if mode == "constant" else F.pad(t, pad, mode)
        rng = np.random.default_rng(gy_seed)
        gy = rng.standard_normal(y.shape).astype(x.dtype)
        if gy.size:
            gy.flat[rng.integers(0, gy.size, 3)] = (-0.0, np.inf, -0.0)
            if gy_seed % 3 == 0:
                gy[...] = -0.0                  # 0 + (-0.0) folds to +0.0, a crop keeps it
        y.backward(mc.tensor(gy))
        return y.data, t.grad.data


def _assert_same_pad(x, pad, mode, seed, monkeypatch):
    ref = _pad_step(x, pad, mode, seed, False, monkeypatch)
    got = _pad_step(x, pad, mode, seed, True, monkeypatch)
    for a, b in zip(ref, got):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(_bits(a), _bits(b))


@st.composite
def _pad_cases(draw):
    """(shape, pad, mode): 1 to 3 padded dims of a batched or unbatched input (any rank
    for constant padding), widths that PyTorch accepts, negative ones (crops) included."""
    mode = draw(st.sampled_from(MODES))
    nd = draw(st.integers(1, 3))
    lead = draw(st.lists(st.integers(1, 3), min_size=1 if mode != "constant" else 0,
                         max_size=2 if mode != "constant" else 3))
    spatial = draw(st.lists(st.integers(1, 7), min_size=nd, max_size=nd))
    pad = []
    for n in reversed(spatial):             # last dimension first
        if mode == "reflect":
            lo, hi = (draw(st.integers(0, n - 1)) for _ in range(2))
        elif mode == "replicate":
            lo, hi = (draw(st.integers(-min(n - 1, 2), n + 1)) for _ in range(2))
        else:
            lo, hi = (draw(st.integers(-min(n, 2), n)) for _ in range(2))
            if mode == "circular" and lo < 0 and hi < 0:
                lo = 0
        pad += [lo, hi]
    return tuple(lead) + tuple(spatial), tuple(pad), mode


@settings(max_examples=120, deadline=None)
@given(case=_pad_cases(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_pad_fast_path_same_bits_as_numpy(case, dtype, seed, monkeypatch):
    shape, pad, mode = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[rng.integers(0, x.size, 3)] = (np.nan, -0.0, -np.inf)
    try:
        F.pad(mc.tensor(x), pad, mode, 1.5) if mode == "constant" else \
            F.pad(mc.tensor(x), pad, mode)
    except ValueError:                       # widths PyTorch refuses: not this test's job
        return
    _assert_same_pad(x, pad, mode, seed, monkeypatch)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,pad,mode", [
    ((32, 64, 32, 32), (1, 1, 1, 1), "reflect"),        # the sweep's layer, native team
    ((8, 16, 40, 40), (3, 2, -1, 4), "replicate"),
    ((3, 8, 6, 20, 20), (2, 2, 1, 0, 3, 3), "circular"),
    ((16, 64, 64), (1, 2), "constant"),                 # 65,536: the native threshold
    ((7, 5, 31, 33), (0, 0, 2, 0), "reflect"),          # only H padded
])
def test_pad_threads_and_views(shape, pad, mode, threads, views, monkeypatch):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    old = mc.get_num_threads()
    try:
        mc.set_num_threads(threads)
        for v in views(x).values():
            _assert_same_pad(v, pad, mode, 4, monkeypatch)
    finally:
        mc.set_num_threads(old)


@pytest.mark.parametrize("shape,pad", [((2, 0, 3), (1, 1, 1, 1)), ((0, 4), (2, 1)),
                                       ((3, 2, 2), (0, 0, -1, -1))])
def test_pad_empty_input_or_output(shape, pad, monkeypatch):
    """An empty input padded into a non-empty output (and back), or cropped to nothing."""
    x = np.ones(shape, np.float32)
    _assert_same_pad(x, pad, "constant", 1, monkeypatch)


def test_pad_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float64)
    for mode, pad in (("constant", (1, 2, 0, 2)), ("reflect", (2, 1, 1, 1)),
                      ("replicate", (3, 0, 2, 2)), ("circular", (2, 2, 1, 0))):
        t = mc.tensor(x, requires_grad=True)
        y = F.pad(t, pad, mode)
        gy = rng.standard_normal(y.shape)
        y.backward(mc.tensor(gy))
        tt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.pad(tt, pad, mode)
        yt.backward(torch.tensor(gy))
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        # the sums of folded cells may associate differently from PyTorch's
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-15, atol=1e-15)


# ------------------------------------------------------------------ average and adaptive

def _pool_step(fn, x, gy_seed, ref, monkeypatch):
    """(y, dx[, indices]) of ``fn`` on x with a drawn upstream gradient, on the box kernels
    or (``ref``) on the NumPy reference they replace."""
    from minicv.kernels.cpu import pool as pool_kernels
    with monkeypatch.context() as m:
        if ref:
            m.setattr(pool_kernels, "adaptive_ok", lambda *a: False)
        t = mc.tensor(x, requires_grad=True)
        out = fn(t)
        y, extra = (out[0], (out[1].data,)) if isinstance(out, tuple) else (out, ())
        gy = np.random.default_rng(gy_seed).standard_normal(y.shape).astype(x.dtype)
        y.backward(mc.tensor(gy))
        return (y.data, t.grad.data) + extra


def _mean_oracle(x, bins_h, bins_w):
    """Adaptive average pooling in float64 (the kernels sum in float64, round once)."""
    x64 = x.astype(np.float64)
    return np.array([[x64[..., a:b, c:d].mean(axis=(-2, -1)) for c, d in zip(*bins_w)]
                     for a, b in zip(*bins_h)]).transpose(2, 3, 0, 1)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 13), w=st.integers(1, 13),
       oh=st.integers(1, 15), ow=st.integers(1, 15), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_adaptive_pools_match_reference(n, c, h, w, oh, ow, seed, dtype, monkeypatch):
    """Max: the same values, indices and gradient bits (first maximum wins a tie, the last
    NaN wins over numbers); average: within one rounding of the float64 mean (the
    reference sums in the input dtype), the gradient within a rounding (a cell in two
    overlapping bins adds dy / area in float64 here, in the input dtype there)."""
    from minicv.kernels.reference import adaptive_bins
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((n, c, h, w)) * 2).astype(dtype)   # ties
    if seed % 2:
        x.flat[rng.integers(0, x.size, 2)] = (np.nan, -np.inf)
    size = (oh, ow) if seed % 5 else (1, 1)

    def amax(t):
        return F.adaptive_max_pool2d(t, size, return_indices=True)
    ref, got = (_pool_step(amax, x, seed, r, monkeypatch) for r in (True, False))
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(_bits(a), _bits(b))

    x = rng.standard_normal((n, c, h, w)).astype(dtype)

    def aavg(t):
        return F.adaptive_avg_pool2d(t, size)
    ref, got = (_pool_step(aavg, x, seed, r, monkeypatch) for r in (True, False))
    oracle = _mean_oracle(x, adaptive_bins(h, size[0]), adaptive_bins(w, size[1]))
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got[1], ref[1], rtol=tol, atol=tol)
    np.testing.assert_allclose(got[0], oracle, rtol=tol, atol=tol)


@pytest.mark.parametrize("size", [(4, 5), (1, 1)])
def test_adaptive_pools_native_threads(size, monkeypatch):
    """Big enough for the threaded driver: the same bits on one and two threads, max
    (values and indices) the same as the NumPy reference."""
    x = np.random.default_rng(13).standard_normal((64, 16, 9, 11)).astype(np.float32)
    x[3, 4, 5, :] = np.nan
    outs = []
    old = mc.get_num_threads()
    try:
        for threads in (1, 2):
            mc.set_num_threads(threads)
            outs.append(_pool_step(lambda t: F.adaptive_max_pool2d(t, size, True), x, 1, False,
                                   monkeypatch)
                        + _pool_step(lambda t: F.adaptive_avg_pool2d(t, size), x, 2, False,
                                     monkeypatch))
    finally:
        mc.set_num_threads(old)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(_bits(a), _bits(b))
    ref = _pool_step(lambda t: F.adaptive_max_pool2d(t, size, True), x, 1, True, monkeypatch)
    for a, b in zip(ref, outs[0][:3]):
        np.testing.assert_array_equal(_bits(a), _bits(b))


@pytest.mark.parametrize("args", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(3, 1), divisor_override=5),
    dict(kernel_size=(9, 11)),                                  # the whole plane: global
])
def test_avg_pool2d_box_kernels(args):
    """avg_pool2d against a float64 oracle (the kernels sum in float64 and round once),
    the same bits on one and two threads, and its gradient against PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 16, 9, 11)).astype(np.float32)    # 1.3 MB: threads
    x[0, 0, 0, 0], x[1, 1, 1, 1] = np.nan, np.inf
    outs = []
    old = mc.get_num_threads()
    try:
        for threads in (1, 2):
            mc.set_num_threads(threads)
            t = mc.tensor(x, requires_grad=True)
            y = F.avg_pool2d(t, **args)
            gy = np.random.default_rng(8).standard_normal(y.shape).astype(np.float32)
            y.backward(mc.tensor(gy))
            outs.append((y.data, t.grad.data))
    finally:
        mc.set_num_threads(old)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(_bits(a), _bits(b))
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, **args)
    ty.backward(torch.tensor(gy.astype(np.float64)))
    np.testing.assert_allclose(outs[0][0], ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], tx.grad.numpy(), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------ channel dropout

@pytest.mark.parametrize("fn,shape", [(F.dropout2d, (32, 64, 16, 16)), (F.dropout2d, (2, 3, 5)),
                                      (F.dropout3d, (4, 5, 2, 3, 3)),
                                      (F.dropout1d, (3, 70, 1000))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_dropout_plane_scale_same_bits(fn, shape, dtype, monkeypatch):
    """x * mask (N, C, 1, ...) by planes (``kernels/cpu/planes.py``): NumPy's products
    bit for bit, NaN and inf in dropped and kept channels, forward and backward."""
    from minicv.kernels.cpu import planes
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:4] = (np.nan, np.inf, -0.0, -np.inf)
    gy = rng.standard_normal(shape).astype(dtype)
    outs = []
    for fast in (False, True):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(planes, "fast_ok", lambda *a: False)
            mc.manual_seed(3)
            t = mc.tensor(x, requires_grad=True)
            y = fn(t, 0.4)
            y.backward(mc.tensor(gy))
            outs.append((y.data, t.grad.data))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(_bits(a), _bits(b))


# ------------------------------------------------- transposed conv, kernel == stride

@pytest.mark.parametrize("n,c,h,w,k,kh,kw,bias", [
    (8, 16, 16, 16, 8, 2, 2, True), (3, 5, 7, 6, 4, 3, 2, False), (1, 2, 1, 1, 3, 1, 1, True),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_tiled_matches_col2im_path(n, c, h, w, k, kh, kw, bias, dtype,
                                                  monkeypatch):
    """1x1 conv + depth-to-space (``conv_algo._conv_transpose_tiled``) against the col2im
    path: the same sums, grouped by other GEMM blockings (tolerance: a few float32
    roundings of the dot products)."""
    from minicv.kernels import conv_algo
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((c, k, kh, kw)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype) if bias else None
    outs = []
    for fast in (False, True):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(conv_algo, "_tiled_transpose", lambda *a: False)
            ts = [mc.tensor(a, requires_grad=True) for a in (x, wt, b) if a is not None]
            y = F.conv_transpose2d(ts[0], ts[1], ts[2] if bias else None, stride=(kh, kw))
            gy = np.random.default_rng(12).standard_normal(y.shape).astype(dtype)
            y.backward(mc.tensor(gy))
            outs.append([y.data] + [t.grad.data for t in ts])
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, f in zip(*outs):
        assert a.shape == f.shape and a.dtype == f.dtype
        np.testing.assert_allclose(f, a, rtol=tol, atol=tol * np.abs(a).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_tiles_take_a_read_only_gradient(dtype):
    # a batch of one summed over the batch: dY reaches the de-interleave as a read-only
    # broadcast view (Numba refused to compile the shared kernel for it)
    m = mc.nn.ConvTranspose2d(8, 4, 2, stride=2).to(dtype)
    x = mc.tensor(np.random.default_rng(0).standard_normal((1, 8, 16, 16)).astype(dtype),
                  requires_grad=True)
    t = mc.tensor(np.random.default_rng(1).standard_normal((4, 32, 32)).astype(dtype))
    (m(x).sum(0) * t).sum().backward()
    ref = F.conv2d(t.reshape(1, 4, 32, 32), m.weight, stride=2)   # the adjoint, by hand
    np.testing.assert_allclose(x.grad.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-4)
