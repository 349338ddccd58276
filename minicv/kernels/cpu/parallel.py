"""Drivers that run minicv's serial Numba kernels on Numba's native thread team.

Why not Python threads?  ``conv_algo._run_chunks`` hands chunks to a Python thread pool:
the pool thread sleeps on a lock, wakes, takes the GIL, runs a few lines of Python and
enters the ``nogil`` kernel.  On the 2-core dev machine (a KVM guest) one such hand-off
costs 50-80 us (a sleeping virtual CPU wakes slowly, and two threads reaching for the GIL
at once put one of them back to sleep), and a ResNet-20 training step makes ~150 of
them.  A ``prange`` over the workers runs on Numba's threading layer instead: with
OpenMP (GNU libgomp) the team's threads take no GIL, run only compiled code and spin
for ~5 ms after each region (GNU OpenMP's default; ``OMP_WAIT_POLICY=passive`` stops
that, at the price of the slow wake-ups again), and an empty region costs 2-3 us.

Each driver is a ``prange`` over the workers around the serial kernels of ``cpu/``:
convolutions over batch chunks (worker ``t`` takes chunks t, t + workers, ..., the fixed
assignment of ``_run_chunks``, so per-worker partial sums of a weight gradient, added in
worker order by the caller, are bit-for-bit those of the Python path), BatchNorm over
channel ranges, element-wise ops and pooling over element or sample ranges, matmuls over
row ranges.  GEMMs inside a worker call OpenBLAS by address (``cpu/blas.py``), with
OpenBLAS single-threaded meanwhile (``conv_algo._blas_serial``).

:func:`native_workers` decides whether a call may use them: only under the OpenMP or TBB
layer (Numba's ``workqueue`` fallback is slower than the Python pool and not safe from
several threads), only from the main thread of the process that started the team (GNU
OpenMP does not survive ``fork``: a DataLoader worker falls back to the serial path), and
never with ``MINICV_NATIVE_THREADS=0``.
"""
import os
import threading

from numba import njit, prange

from . import activation as _act
from . import blas as _blas
from . import depthwise as _dw
from . import direct as _direct
from . import im2col as _im
from . import norm as _norm
from . import pool as _pool
from . import winograd as _wg

_state = {"pid": None, "ok": False}
_lock = threading.Lock()


def native_workers(workers):
    """Whether ``workers`` (> 1) threads may run a driver of this module from here.  (A
    ``prange(workers)`` is correct with any size of team; ``backend.set_num_threads`` sizes
    Numba's together with minicv's.)"""
    pid = os.getpid()
    if _state["pid"] != pid:
        with _lock:
            if _state["pid"] != pid:
                _state["ok"] = _state["pid"] is None and _start_team()  # never in a child
                _state["pid"] = pid
    return (_state["ok"] and workers > 1
            and threading.current_thread() is threading.main_thread())


def _start_team():
    """Start Numba's threading layer (preferring OpenMP) and say whether it is usable."""
    import numba
    from numba.core import config
    if os.environ.get("MINICV_NATIVE_THREADS", "1") == "0":
        return False
    if not os.environ.get("NUMBA_THREADING_LAYER"):
        config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
    try:
        from numba.np.ufunc.parallel import _launch_threads
        _launch_threads()
        return numba.threading_layer() in ("omp", "tbb")
    except Exception:  # no threading layer at all: the Python pool stays
        return False


# The direct kernels (``cpu/direct.py``) over batch chunks, one driver per kernel (Numba
# compiles what a driver calls: a shared driver would compile all six for one model).

@njit(cache=True, nogil=True, parallel=True)
def conv3x3_forward(x, w, b, ph, pw, hq, wq, y, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv3x3_forward(x[n0:n0 + nb], w, b, ph, pw, hq, wq, y[n0:n0 + nb])


@njit(cache=True, nogil=True, parallel=True)
def conv3x3s2_forward(x, w, b, ph, pw, hq, wq, y, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv3x3s2_forward(x[n0:n0 + nb], w, b, ph, pw, hq, wq, y[n0:n0 + nb])


@njit(cache=True, nogil=True, parallel=True)
def conv5_forward(x, w, b, ph, pw, hq, wq, y, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv5_forward(x[n0:n0 + nb], w, b, ph, pw, hq, wq, y[n0:n0 + nb])


# Weight gradients: worker t accumulates its chunks into gw[t] (and gb[t]).

@njit(cache=True, nogil=True, parallel=True)
def conv3x3_weight_grad(x, gy, ph, pw, wq, gw, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv3x3_weight_grad(x[n0:n0 + nb], gy[n0:n0 + nb], ph, pw, wq, gw[t])


@njit(cache=True, nogil=True, parallel=True)
def conv3x3s2_weight_grad(x, gy, ph, pw, rows, wq, gw, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv3x3s2_weight_grad(x[n0:n0 + nb], gy[n0:n0 + nb], ph, pw, rows, wq,
                                          gw[t])


@njit(cache=True, nogil=True, parallel=True)
def conv5_weight_grad(x, gy, ph, pw, wq, gw, gb, nb, workers):
    for t in prange(workers):
        for n0 in range(t * nb, x.shape[0], workers * nb):
            _direct.conv5_weight_grad(x[n0:n0 + nb], gy[n0:n0 + nb], ph, pw, wq, gw[t],
                                      gb[t])


@njit(cache=True, nogil=True, parallel=True)
def conv3x3_backward(x, gy, wt, zero, ph, pw, hq, wq, gx, gw, nb):
    """Both gradients of a direct 3x3 convolution side by side, one thread each.

    Thread 0: gx = the forward kernel on dY with the flipped, C<->K-transposed filter
    ``wt`` and padding 2 - p (``hq``, ``wq``: that convolution's wide geometry).
    Thread 1: gw += the weight gradient over chunks of ``nb`` samples (in batch order).
    """
    n, c, h, wd = x.shape
    for t in prange(2):
        if t == 0:
            _direct.conv3x3_forward(gy, wt, zero, 2 - ph, 2 - pw, hq, wq, gx)
        else:
            for n0 in range(0, n, nb):
                _direct.conv3x3_weight_grad(x[n0:n0 + nb], gy[n0:n0 + nb], ph, pw,
                                            wd + 2 * pw, gw)


# ------------------------------------------------------------ element-wise and BatchNorm
#
# One contiguous range per worker, the bounds of ``conv_algo.run_split`` (n·t // workers):
# element-wise results do not depend on the split, and BatchNorm sums each channel on one
# thread in a fixed order, so these agree bit for bit with the Python path.

RELU, RELU_BACKWARD, ADD = 0, 1, 2


@njit(cache=True, nogil=True, parallel=True)
def elementwise(op, a, b, out, workers):
    """out = relu(a) (``RELU``, b unused), 0 where b <= 0 else a (``RELU_BACKWARD``), a + b
    (``ADD``) over flat arrays (``cpu/activation.py``'s kernels). Numba's cache of this
    function keys on this file only: after changing those kernels, touch this file."""
    n = a.size
    for t in prange(workers):
        i0, i1 = n * t // workers, n * (t + 1) // workers
        if op == RELU:
            _act.relu_flat(a[i0:i1], out[i0:i1])
        elif op == RELU_BACKWARD:
            _act.relu_backward_flat(a[i0:i1], b[i0:i1], out[i0:i1])
        else:
            _act.add_flat(a[i0:i1], b[i0:i1], out[i0:i1])


@njit(cache=True, nogil=True, parallel=True)
def bn_forward_train(x, gamma, beta, eps, mean, var, out, workers):
    """:func:`~minicv.kernels.cpu.norm.forward_train`, a range of channels per worker."""
    c = x.shape[1]
    for t in prange(workers):
        _norm.forward_train(x, gamma, beta, eps, c * t // workers, c * (t + 1) // workers,
                            mean, var, out)


@njit(cache=True, nogil=True, parallel=True)
def bn_scale_shift(x, a, b, out, workers):
    """:func:`~minicv.kernels.cpu.norm.scale_shift`, a range of channels per worker."""
    c = x.shape[1]
    for t in prange(workers):
        _norm.scale_shift(x, a, b, c * t // workers, c * (t + 1) // workers, out)


@njit(cache=True, nogil=True, parallel=True)
def bn_backward(dy, x, mean, invstd, gamma, sdy, sdyx, out, workers):
    """:func:`~minicv.kernels.cpu.norm.backward_train` (with ``out``) or
    :func:`~minicv.kernels.cpu.norm.backward_sums` (``out`` of size 0), a range of
    channels per worker."""
    c = x.shape[1]
    for t in prange(workers):
        c0, c1 = c * t // workers, c * (t + 1) // workers
        if out.size:
            _norm.backward_train(dy, x, mean, invstd, gamma, c0, c1, sdy, sdyx, out)
        else:
            _norm.backward_sums(dy, x, mean, invstd, c0, c1, sdy, sdyx)


# ------------------------------------------------------------------------- Winograd
#
# A chunk's whole pipeline on one worker: input transform -> alpha^2 GEMMs (OpenBLAS's
# sgemm by address, ``cpu/blas.py``; single-threaded meanwhile) -> output transform.
# ``v`` and ``mt`` are per-worker workspaces (workers, >= alpha^2 * nb * TH*TW * C or K),
# reused across calls (fresh megabytes would cost page faults every call).

@njit(inline="always")
def _winograd_chunk(x, n0, n1, m, ph, pw, th, tw, vt, mt, a2, k):
    """V of the chunk x[n0:n1] (alpha^2, P, C) in worker scratch ``vt`` (flat), and the
    matching (alpha^2, P, K) view of ``mt`` for M or dM; returns (V, M, M flat)."""
    c = x.shape[1]
    p = (n1 - n0) * th * tw
    vf = vt[:a2 * p * c]
    mf = mt[:a2 * p * k]
    _wg._input_transform(x[n0:n1], m, ph, pw, th, tw, vf)
    return vf.reshape((a2, p, c)), mf.reshape((a2, p, k)), mf


@njit(cache=True, nogil=True, parallel=True)
def winograd_forward(x, u, bias, m, ph, pw, th, tw, y, nb, workers, v, mt, gemm):
    """y = Winograd F(m x m, 3 x 3) of x with the transformed filter u (alpha^2, C, K)."""
    n = x.shape[0]
    a2, k = u.shape[0], u.shape[2]
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            n1 = min(n, n0 + nb)
            v3, m3, mf = _winograd_chunk(x, n0, n1, m, ph, pw, th, tw, v[t], mt[t], a2, k)
            for e in range(a2):
                _blas.gemm(gemm, v3[e], u[e], m3[e], 0.0)          # M = V U
            _wg._output_transform(mf, m, bias, th, tw, y[n0:n1])


@njit(cache=True, nogil=True, parallel=True)
def winograd_weight_grad(x, gy, m, ph, pw, th, tw, du, nb, workers, v, mt, gemm):
    """du[t] += worker t's chunks of V^T dM (alpha^2, C, K), dM = A dY A^T."""
    n = x.shape[0]
    a2, k = du.shape[1], du.shape[3]
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            n1 = min(n, n0 + nb)
            v3, m3, mf = _winograd_chunk(x, n0, n1, m, ph, pw, th, tw, v[t], mt[t], a2, k)
            _wg._output_transform_adjoint(gy[n0:n1], m, th, tw, mf)
            for e in range(a2):
                _blas.gemm(gemm, v3[e], m3[e], du[t, e], 1.0, True)  # dU += V^T dM


# --------------------------------------------------------------------------- im2col

# Per chunk, in the wide layout of ``cpu/im2col.py``: ``cols`` (C*kh*kw, m*OH*wq) and
# ``out`` (K, m*OH*wq) are per-worker scratch (workers, >= that size); w (G, K/G, CKK/G),
# one GEMM per group on the matching row blocks.

@njit(cache=True, nogil=True, parallel=True)
def im2col_forward(x, w, bias, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, y, nb, workers,
                   cols, out, gemm):
    """y = W @ im2col(x) + bias over batch chunks, the junk columns dropped."""
    n = x.shape[0]
    groups, kg, ckkg = w.shape
    q = oh * wq
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            n1 = min(n, n0 + nb)
            mq = (n1 - n0) * q
            c2 = cols[t, :groups * ckkg * mq].reshape((groups * ckkg, mq))
            o2 = out[t, :groups * kg * mq].reshape((groups * kg, mq))
            _im.im2col_wide(x[n0:n1], kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq,
                            c2.reshape((groups * ckkg, n1 - n0, q)))
            for g in range(groups):
                _blas.gemm(gemm, w[g], c2[g * ckkg:(g + 1) * ckkg],
                           o2[g * kg:(g + 1) * kg], 0.0)
            _im.crop_wide(o2, bias, wq, y[n0:n1])


@njit(cache=True, nogil=True, parallel=True)
def im2col_backward(x, w, gy, kh, kw, sh, sw, ph, pw, dh, dw, hq, wq, gx, gw, nb, workers,
                    g, cols, gemm):
    """gw[t] += worker t's chunks of dY @ cols^T (when gw.size) and gx = col2im(W^T dY)
    (when gx.size); ``g`` holds dY in the wide layout (K, m*OH*wq), zero junk columns."""
    n, k, oh = gy.shape[0], gy.shape[1], gy.shape[2]
    groups, kg, ckkg = w.shape
    q = oh * wq
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            n1 = min(n, n0 + nb)
            mq = (n1 - n0) * q
            g2 = g[t, :k * mq].reshape((k, mq))
            c2 = cols[t, :groups * ckkg * mq].reshape((groups * ckkg, mq))
            c3 = c2.reshape((groups * ckkg, n1 - n0, q))
            _im.wide_rows(gy[n0:n1], wq, g2)
            if gw.size:
                _im.im2col_wide(x[n0:n1], kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, c3)
                for j in range(groups):
                    _blas.gemm(gemm, g2[j * kg:(j + 1) * kg], c2[j * ckkg:(j + 1) * ckkg],
                               gw[t, j], 1.0, False, True)
            if gx.size:
                for j in range(groups):
                    _blas.gemm(gemm, w[j], g2[j * kg:(j + 1) * kg],
                               c2[j * ckkg:(j + 1) * ckkg], 0.0, True, False)
                _im.col2im_wide(c3, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, gx[n0:n1])


# 1x1 convolutions: x (N, C, M) is already the column matrix; a range of samples per worker.

@njit(cache=True, nogil=True, parallel=True)
def conv1x1_forward(x, w, bias, y, workers, gemm):
    """y[s] = w @ x[s] (+ bias if bias.size) for x (N, C, M), w (K, C), y (N, K, M)."""
    n = x.shape[0]
    for t in prange(workers):
        for s in range(n * t // workers, n * (t + 1) // workers):
            _blas.gemm(gemm, w, x[s], y[s], 0.0)
            for kk in range(bias.size):
                row = y[s, kk]
                for i in range(row.size):
                    row[i] += bias[kk]


@njit(cache=True, nogil=True, parallel=True)
def conv1x1_backward(x, w, gy, gx, gw, workers, gemm):
    """gx[s] = w^T gy[s] (when gx.size) and gw[t] += gy[s] x[s]^T over worker t's samples
    (when gw.size; gw (workers, K, C))."""
    n = x.shape[0]
    for t in prange(workers):
        for s in range(n * t // workers, n * (t + 1) // workers):
            if gx.size:
                _blas.gemm(gemm, w, gy[s], gx[s], 0.0, True, False)
            if gw.size:
                _blas.gemm(gemm, gy[s], x[s], gw[t], 1.0, False, True)


# Depthwise 3x3, stride 1 (``cpu/depthwise.py``'s one-pass kernels), over batch chunks.

@njit(cache=True, nogil=True, parallel=True)
def depthwise3x3_forward(x, w, bias, ph, pw, dh, dw, y, nb, workers):
    n = x.shape[0]
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            _dw._dw3_fwd(x[n0:n0 + nb], w, bias, ph, pw, dh, dw, y[n0:n0 + nb])


@njit(cache=True, nogil=True, parallel=True)
def depthwise3x3_backward(x, w, gy, ph, pw, dh, dw, need_gx, gx, gw, nb, workers):
    """gx (if ``need_gx``) and gw[t] += worker t's chunks; gw (workers, K, 1, 3, 3)."""
    n = x.shape[0]
    for t in prange(workers):
        for n0 in range(t * nb, n, workers * nb):
            _dw._dw3_bwd(x[n0:n0 + nb], w, gy[n0:n0 + nb], ph, pw, dh, dw, need_gx,
                         gx[n0:n0 + nb] if need_gx else gx, gw[t])


# Max pooling (``cpu/pool.py``): a range of samples (forward) or planes (backward) each.

@njit(cache=True, nogil=True, parallel=True)
def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, y, idx, workers):
    n = x.shape[0]
    for t in prange(workers):
        i0, i1 = n * t // workers, n * (t + 1) // workers
        _pool._max_fwd(x[i0:i1], kh, kw, sh, sw, ph, pw, dh, dw, y[i0:i1], idx[i0:i1])


@njit(cache=True, nogil=True, parallel=True)
def max_pool_backward(gy, idx, gx, workers):
    n = gy.shape[0]
    for t in prange(workers):
        i0, i1 = n * t // workers, n * (t + 1) // workers
        _pool._scatter_bwd(gy[i0:i1], idx[i0:i1], gx[i0:i1])


# --------------------------------------------------------------------------- matmul

@njit(cache=True, nogil=True, parallel=True)
def matmul(a, b, c, trans_a, trans_b, workers, gemm):
    """c = op(a) @ op(b) (``cpu/blas.py``'s ``gemm``), a range of c's rows per worker."""
    m = c.shape[0]
    for t in prange(workers):
        r0, r1 = m * t // workers, m * (t + 1) // workers
        if r1 > r0:
            if trans_a:
                _blas.gemm(gemm, a[:, r0:r1], b, c[r0:r1], 0.0, True, trans_b)
            else:
                _blas.gemm(gemm, a[r0:r1], b, c[r0:r1], 0.0, False, trans_b)
