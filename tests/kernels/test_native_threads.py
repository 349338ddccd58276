"""The batch-parallel drivers on Numba's native team (``kernels/cpu/parallel.py``) give the
results of the Python-thread path they replace, and are never used where they would be
unsafe (a forked child, one thread)."""
import multiprocessing as mp

import numpy as np
import pytest

import minicv as mc
from minicv.kernels import conv_algo as ca
from minicv.kernels import reference as ref
from minicv.kernels.cpu import blas
from minicv.kernels.cpu import parallel as par
from minicv.nn import functional as F

pytestmark = pytest.mark.skipif(
    mc.get_num_threads() < 2 or not par.native_workers(2),
    reason="needs 2 threads and Numba's OpenMP/TBB threading layer")


@pytest.fixture
def python_threads(monkeypatch):
    """A function running ``fn(*args)`` on the Python-thread path instead."""
    def run(fn, *args):
        with monkeypatch.context() as m:
            m.setattr(ca, "_native", lambda workers: False)
            return fn(*args)
    return run


@pytest.fixture
def used(monkeypatch):
    """The names of the drivers called (so that a test knows the native path ran)."""
    names = []
    for name in ("conv3x3_forward", "conv3x3s2_forward", "conv5_forward",
                 "conv3x3_weight_grad", "conv3x3s2_weight_grad", "conv5_weight_grad",
                 "conv3x3_backward",
                 "winograd_forward", "winograd_weight_grad", "im2col_forward", "im2col_backward",
                 "conv1x1_forward", "conv1x1_backward", "depthwise3x3_forward",
                 "depthwise3x3_backward", "max_pool2d", "max_pool_backward", "matmul",
                 "elementwise", "bn_forward_train", "bn_backward"):
        fn = getattr(par, name)
        monkeypatch.setattr(par, name, lambda *a, _f=fn, _n=name: names.append(_n) or _f(*a))
    return names


def _data(shape_x, shape_w, shape_gy, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape_x).astype(np.float32),
            rng.standard_normal(shape_w).astype(np.float32),
            rng.standard_normal(shape_gy).astype(np.float32))


# (x shape, w shape, stride, padding, plan): batches big enough for two workers,
# odd sizes so the last chunk is short
CASES = [((37, 16, 17, 19), (12, 16, 3, 3), 1, 1, "direct3x3"),
         ((33, 16, 18, 17), (20, 16, 3, 3), 2, 1, "direct3x3s2"),
         ((41, 6, 14, 14), (16, 6, 5, 5), 1, 0, "direct5"),
         ((29, 32, 9, 11), (40, 32, 3, 3), 1, 1, "winograd-f2")]


@pytest.mark.parametrize("xs, ws, stride, padding, plan", CASES)
def test_native_conv_equals_python_threads_and_reference(xs, ws, stride, padding, plan,
                                                         python_threads, used):
    algo = "winograd" if plan.startswith("winograd") else "direct"
    assert ca.conv_plan(xs, ws, stride, padding, algo=algo) == plan
    y_ref = ref.conv2d(*(a.astype(np.float64) for a in _data(xs, ws, (1,))[:2]),
                       None, stride, padding)
    x, w, gy = _data(xs, ws, y_ref.shape)
    y = ca.conv2d_forward(x, w, None, stride, padding, algo=algo)
    fwd = {"direct3x3": "conv3x3", "direct3x3s2": "conv3x3s2", "direct5": "conv5"}.get(plan)
    assert used == ["winograd_forward" if fwd is None else fwd + "_forward"]
    y_py = python_threads(ca.conv2d_forward, x, w, None, stride, padding, 1, 1, algo)
    if plan.startswith("winograd"):     # the GEMMs may block differently
        np.testing.assert_allclose(y, y_py, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(y, y_py)
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-3)
    g = ca.conv2d_backward(x, w, gy, stride, padding, algo=algo)
    g_py = python_threads(ca.conv2d_backward, x, w, gy, stride, padding, 1, 1, algo)
    g_ref = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64),
                                gy.astype(np.float64), stride, padding)
    for a, b, r in zip(g, g_py, g_ref):
        scale = np.abs(r).max()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * scale)
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * scale)
    # the weight gradient alone: per-worker sums over the same chunks as the Python path
    gw = ca.conv2d_backward(x, w, gy, stride, padding, algo=algo, needs=(False, True, False))
    gw_py = python_threads(ca.conv2d_backward, x, w, gy, stride, padding, 1, 1, algo,
                           (False, True, False))
    if not plan.startswith("winograd"):
        np.testing.assert_array_equal(gw[1], gw_py[1])
    assert used[-1] == ("winograd" if fwd is None else fwd) + "_weight_grad"


def test_native_results_are_deterministic():
    x, w, gy = _data((37, 16, 17, 19), (12, 16, 3, 3), (37, 12, 17, 19))
    first = ca.conv2d_backward(x, w, gy, 1, 1, algo="direct")
    for _ in range(3):
        again = ca.conv2d_backward(x, w, gy, 1, 1, algo="direct")
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", [
    ((35, 24, 15, 16), (10, 24, 3, 3), 2, 1, 1, 1),       # stride 2: col2im scatters
    ((33, 12, 13, 11), (18, 6, 3, 5), 1, (2, 1), 2, 2),   # groups, dilation, odd sizes
    ((31, 40, 9, 9), (64, 40, 5, 5), 1, 2, 1, 1)])        # more channels than direct5 takes
def test_native_im2col_equals_python_threads(xs, ws, stride, padding, dilation, groups,
                                             dtype, python_threads, used):
    x, w, _ = (a.astype(dtype) for a in _data(xs, ws, (1,)))
    x = x[:, :, ::-1]                                     # a view: flipped rows
    args = (x, w, None, stride, padding, dilation, groups, "im2col")
    y = ca.conv2d_forward(*args)
    y_py = python_threads(ca.conv2d_forward, *args)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, y_py, rtol=tol, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    for needs in ((True, True, False), (True, False, False), (False, True, False)):
        bargs = (x, w, gy, stride, padding, dilation, groups, "im2col", needs)
        g = ca.conv2d_backward(*bargs)
        g_py = python_threads(ca.conv2d_backward, *bargs)
        for a, b in zip(g, g_py):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())
    assert used[0] == "im2col_forward" and used[1:] == ["im2col_backward"] * 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_conv1x1_equals_python_threads(dtype, python_threads, used):
    x, w, _ = (a.astype(dtype) for a in _data((37, 64, 9, 11), (24, 64, 1, 1), (1,)))
    b = np.arange(24, dtype=dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    y = ca.conv2d_forward(x, w, b)
    np.testing.assert_allclose(y, python_threads(ca.conv2d_forward, x, w, b), rtol=tol,
                               atol=tol)
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
    for needs in ((True, True, True), (False, True, False), (True, False, False)):
        g = ca.conv2d_backward(x, w, gy, needs=needs)
        g_py = python_threads(ca.conv2d_backward, x, w, gy, 1, 0, 1, 1, "auto", needs)
        for a, r in zip(g, g_py):
            assert (a is None) == (r is None)
            if a is not None:
                np.testing.assert_allclose(a, r, rtol=tol, atol=tol * np.abs(r).max())
    assert used == ["conv1x1_forward"] + ["conv1x1_backward"] * 3


@pytest.mark.parametrize("mult, padding, dilation", [(1, 1, 1), (2, (0, 2), 2)])
def test_native_depthwise_equals_python_threads(mult, padding, dilation, python_threads,
                                                used):
    x, w, _ = _data((37, 24, 17, 15), (24 * mult, 1, 3, 3), (1,))
    args = (x, w, None, 1, padding, dilation, 24)
    y = ca.conv2d_forward(*args)
    np.testing.assert_array_equal(y, python_threads(ca.conv2d_forward, *args))
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    for needs in ((True, True, True), (False, True, False), (True, False, False)):
        bargs = (x, w, gy, 1, padding, dilation, 24, "auto", needs)
        g = ca.conv2d_backward(*bargs)
        g_py = python_threads(ca.conv2d_backward, *bargs)
        for a, r in zip(g, g_py):
            assert (a is None) == (r is None)
            if a is not None:   # gw: chunk sums grouped differently, so not bit-equal
                np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-5 * np.abs(r).max())
    assert used == ["depthwise3x3_forward"] + ["depthwise3x3_backward"] * 3


def test_native_max_pool_bit_equal(python_threads, used):
    x = np.random.default_rng(6).standard_normal((64, 16, 32, 33)).astype(np.float32)
    x[:, :, ::2] = x[:, :, 1::2].copy()[:, :, :16]       # ties: the first maximum wins

    def run():
        xt = mc.tensor(x, requires_grad=True)
        y = F.max_pool2d(xt, 3, 2, 1)
        y.sum().backward()
        return y.data, xt.grad.data

    native = run()
    assert used == ["max_pool2d", "max_pool_backward"]
    for a, b in zip(native, python_threads(run)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(64, 16, 32, 32), (7, 3, 301, 211)])
def test_native_batch_norm_relu_add_bit_equal(shape, python_threads, used):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[:4] = (np.nan, -0.0, 0.0, -1.0)
    dy = rng.standard_normal(shape).astype(np.float32)

    def step():
        xt = mc.tensor(x, requires_grad=True)
        g = mc.tensor(rng.standard_normal(shape[1]).astype(np.float32), requires_grad=True)
        y = F.relu(F.batch_norm(xt, None, None, g, None, training=True) + xt)
        (y * mc.tensor(dy)).sum().backward()
        return y.data, xt.grad.data, F.relu(xt).data

    rng = np.random.default_rng(4)
    native = step()
    assert {"elementwise", "bn_forward_train", "bn_backward"} <= set(used)
    rng = np.random.default_rng(4)
    python = python_threads(step)
    for a, b in zip(native, python):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(native[2], np.maximum(x, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(64, 400, 120), (3, 300, 301), (257, 1100, 1)])
def test_native_matmul_matches_numpy_on_views(dtype, m, k, n, used):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    big = rng.standard_normal((k + 3, 2 * n + 1)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    pairs = [(a, b.T),                                   # B transposed (a view)
             (np.asfortranarray(a), b.T),                # A transposed too
             (a, big[:k, :n]),                           # rows of a wider matrix
             (a[::-1], big[1:k + 1, ::2][:, :n]),        # negative / non-unit strides
             (a, np.ascontiguousarray(b.T))]
    for left, right in pairs:
        np.testing.assert_allclose(blas.matmul(left, right), left @ right, rtol=tol,
                                   atol=tol * k)
    assert used == ["matmul"] * len(pairs)


def test_products_openblas_runs_serially_skip_the_native_team(used):
    # m·n·k <= 262144: OpenBLAS uses the calling thread anyway, np.matmul is cheaper
    a, b = np.ones((16, 64), np.float32), np.ones((64, 256), np.float32)
    np.testing.assert_array_equal(blas.matmul(a, b), np.full((16, 256), 64, np.float32))
    assert used == []


def _child_conv(queue):
    x, w, _ = _data((37, 16, 17, 19), (12, 16, 3, 3), (1,))
    queue.put((par.native_workers(2), ca.conv2d_forward(x, w, None, 1, 1, algo="direct")))


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_forked_child_does_not_use_the_parents_team():
    # GNU OpenMP does not survive fork: a child (a DataLoader worker) must fall back
    x, w, _ = _data((37, 16, 17, 19), (12, 16, 3, 3), (1,))
    y = ca.conv2d_forward(x, w, None, 1, 1, algo="direct")   # the team is running here
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_child_conv, args=(queue,))
    p.start()
    used, y_child = queue.get(timeout=120)
    p.join(timeout=60)
    assert p.exitcode == 0 and used is False
    np.testing.assert_array_equal(y_child, y)


def test_one_thread_never_uses_the_team(used):
    old = mc.get_num_threads()
    try:
        mc.set_num_threads(1)
        x, w, gy = _data((37, 16, 17, 19), (12, 16, 3, 3), (37, 12, 17, 19))
        ca.conv2d_forward(x, w, None, 1, 1, algo="direct")
        ca.conv2d_backward(x, w, gy, 1, 1, algo="direct")
        F.relu(mc.tensor(x)).sum()
    finally:
        mc.set_num_threads(old)
    assert used == []


def test_other_threads_use_the_python_path(used):
    # the team belongs to the main thread; a user's worker thread gets Python threads
    import threading
    x, w, _ = _data((37, 16, 17, 19), (12, 16, 3, 3), (1,))
    out = {}
    t = threading.Thread(target=lambda: out.update(
        y=ca.conv2d_forward(x, w, None, 1, 1, algo="direct"), native=par.native_workers(2)))
    t.start()
    t.join(timeout=120)
    assert out["native"] is False and used == []
    np.testing.assert_array_equal(out["y"], ca.conv2d_forward(x, w, None, 1, 1, algo="direct"))
    assert used == ["conv3x3_forward"]


@pytest.mark.parametrize("shapes", [((4, 3, 5), (4, 5, 2)), ((2, 1, 3, 5), (4, 5, 6)),
                                    ((3, 4, 5), (5,)), ((6, 7, 3), (3, 2))])
def test_batched_matmul_matches_numpy(shapes):
    # batched products run with OpenBLAS serial next to the native team: same values
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(s) for s in shapes)
    np.testing.assert_allclose(blas.batched_matmul(a, b), a @ b, rtol=1e-12)
    at = np.swapaxes(rng.standard_normal(shapes[0][:-2] + shapes[0][-1:] + shapes[0][-2:-1]),
                     -1, -2)                                   # a transposed view
    np.testing.assert_allclose(blas.batched_matmul(at, b), at @ b, rtol=1e-12)


def test_sequence_times_matrix_is_one_product_with_the_batch_summed_in_b_grad():
    # (N, L, k) @ (k, m) runs as one (N·L, k) @ (k, m) GEMM; dB = A_flatᵀ dC_flat
    import minicv as mc
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((6, 70, 40)), rng.standard_normal((40, 30))
    ta, tb = mc.tensor(a, requires_grad=True), mc.tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-12)
    gc = rng.standard_normal(out.shape)
    out.backward(mc.tensor(gc))
    np.testing.assert_allclose(tb.grad.data, np.einsum("nlk,nlm->km", a, gc), rtol=1e-10)
    np.testing.assert_allclose(ta.grad.data, gc @ b.T, rtol=1e-12)
