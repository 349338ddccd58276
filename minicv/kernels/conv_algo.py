"""Convolution algorithms used by the autograd ops (and, re-exported, the pooling ones).

Everything here takes and returns NumPy arrays (NCHW); nothing knows about ``Tensor``.
``minicv/ops/conv.py`` wraps these functions in ``Function`` classes; the pooling and
resampling entry points live in ``pool_algo.py`` (re-exported here).

Convolution algorithms (``algo=``)
----------------------------------
* ``"im2col"``: unfold the input into columns (Numba), one GEMM per group (NumPy/BLAS).
  Columns use the batch-wide "wide" layout ``(C*kh*kw, n_chunk*OH*wq)`` of
  :func:`~minicv.kernels.cpu.im2col.im2col_wide` (every row one memcpy; a few junk columns
  per output row are dropped after the GEMM).  Chunks are small (~1 MiB of columns, so
  im2col -> GEMM -> col2im stays in L2) and spread over minicv's threads with OpenBLAS
  single-threaded (:func:`_run_chunks`); all workers' buffers stay below the budget
  (:func:`set_im2col_budget`, default 128 MiB).  Two special cases skip im2col:
  a 1x1, stride-1, unpadded kernel (the input *is* the column matrix, Caffe's ``is_1x1``)
  and depthwise convolution (groups == C), which runs direct Numba loops because its
  GEMMs would be 1 x kh*kw.
* ``"winograd"``: F(2x2, 3x3) (Lavin & Gray, arXiv:1509.09308) for 3x3, stride-1,
  dilation-1, groups-1 float32 convolutions with padding <= 2: the forward pass, the input
  gradient (a forward pass of dY with the flipped filter) and the weight gradient, computed
  in the Winograd domain (``dU = V^T dM``, then the adjoint filter transform).  The
  transforms run channels-last (``cpu/winograd.py``) on batch chunks spread over threads
  like im2col.  Other layers fall back to im2col.
* ``"direct"``: direct Numba loops without columns or GEMM (``cpu/direct.py``) for
  dilation-1, ungrouped layers: 3x3 stride 1 (``"direct3x3"``), 3x3 stride 2 on the input's
  four phases (``"direct3x3s2"``) and kh x 5 stride 1 (``"direct5"``, LeNet-5's layers);
  "auto" picks them for few channels.  A call under
  :data:`SERIAL_MAX_FLOPS` runs on the calling thread (thread hand-off and OpenBLAS's
  spinning worker cost more than a second core gains on such small layers).
* ``"reference"``: the float64 direct loops of ``kernels/reference.py`` (slow; the oracle).

Threads: every path above splits its work (batch chunks, or a layer's dX and dW) over
minicv's threads.  Where Numba's OpenMP layer runs, the parts go to its native team
through the drivers of ``cpu/parallel.py`` (GEMMs called from the workers,
``cpu/blas.py``); otherwise to Python threads (:func:`_run_chunks`, :func:`_side_by_side`).
Both give each worker fixed parts (deterministic results for a thread count); the two
agree bit for bit where the kernels and sums are the same, to rounding where a GEMM or a
sum is grouped differently.
* ``"auto"``: a measured heuristic, see :func:`conv_plan`.

Winograd numerics (measured by ``tests/kernels/test_winograd.py``, N(0,1) data, C in
{16, 64, 256}, max abs error vs a float64 direct convolution, as a multiple of the error of
the float32 im2col path): F(2x2) 0.4-1.3x (bound 2x), F(4x4) with the paper's points
7.5-18x (target 8x: missed).  So ``auto`` uses only F(2x2), only on float32 data;
F(4x4) stays available to the tests and through the reference.
"""
import math
import os
import threading

import numpy as np

from ..backend import blas_thread_setter as _blas_setter, get_array_module
from . import reference as ref
from .cpu import depthwise as _dw
from .cpu import direct as _direct
from .cpu import im2col as _im
from .cpu import parallel as _par
from .cpu import winograd as _wg
# A layer's y and dX: uninitialised, their memory recycled across training steps
# (``cpu/buffers.py``: no fresh pages each step).
from .cpu.buffers import empty as _out
from .reference import _pair, conv_output_size
# Pooling and resampling live in pool_algo; re-exported so that ``conv_algo`` stays the one
# CPU kernel namespace that the ops and the GPU mirror dispatch on.
from .pool_algo import _kernels, _pool_window_check
from .pool_algo import (  # noqa: F401
    max_pool2d_forward, max_pool2d_backward, avg_pool2d_forward, avg_pool2d_backward,
    max_pool1d_forward, max_pool1d_backward, avg_pool1d_forward, avg_pool1d_backward,
    max_pool3d_forward, max_pool3d_backward, adaptive_avg_pool2d_forward,
    adaptive_avg_pool2d_backward, adaptive_max_pool2d_forward, adaptive_max_pool2d_backward,
    interpolate_forward, interpolate_backward)

ALGOS = ("auto", "im2col", "winograd", "direct", "reference")

_MiB = 1 << 20
_budget = 128 * _MiB


def set_im2col_budget(nbytes):
    """Cap the im2col column buffer (and Winograd's tile buffers) at ``nbytes`` bytes.

    The batch is processed in chunks of whole samples so that one chunk's buffer fits; a
    single sample that is larger than the budget is still processed (one sample a chunk).
    Returns the previous budget.
    """
    global _budget
    nbytes = int(nbytes)
    if nbytes < 1:
        raise ValueError(f"im2col budget must be a positive number of bytes, got {nbytes}")
    old, _budget = _budget, nbytes
    return old


def get_im2col_budget():
    """The current column-buffer budget in bytes (default 128 MiB)."""
    return _budget


# ============================================================================ validation

def _shape_str(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def check_conv_args(x_shape, w_shape, b_shape, stride, padding, dilation, groups, nd=2,
                    transposed=False, output_padding=0, output_padding_below_dilation=False):
    """Validate an nd-convolution; return (stride, padding, dilation) as nd-tuples.

    Raises ValueError naming the shapes and the fix, in PyTorch's words where it has some.

    A transposed conv's ``output_padding`` must be smaller than stride or dilation
    (PyTorch's rule). The kernels (col2im) need it smaller than stride; with
    ``output_padding_below_dilation`` the caller (``F.conv_transpose2d``) takes the rest.
    """
    name = f"conv{'_transpose' if transposed else ''}{nd}d"
    if len(x_shape) != nd + 2:
        raise ValueError(
            f"{name} expects a {nd + 2}-D input (batch, channels, {nd} spatial dims), got "
            f"input of shape {_shape_str(x_shape)}; add a batch dimension with "
            f"x[None] if this is a single sample")
    if len(w_shape) != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D weight, got weight of size "
                         f"{_shape_str(w_shape)}")
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups}")

    def tup(v, what, low):
        t = (int(v),) * nd if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)
        if len(t) != nd or min(t) < low:
            raise ValueError(f"{name}: {what} must be an int >= {low} or a tuple of {nd} such "
                             f"ints, got {v!r}")
        return t
    stride = tup(stride, "stride", 1)
    padding = tup(padding, "padding", 0)
    dilation = tup(dilation, "dilation", 1)
    c = x_shape[1]
    if transposed:
        cin = w_shape[0]
        if c != cin:
            raise ValueError(
                f"Given transposed=1, weight of size {_shape_str(w_shape)}, expected "
                f"input{_shape_str(x_shape)} to have {cin} channels, but got {c} channels "
                f"instead")
        if cin % groups:
            raise ValueError(f"{name}: in_channels ({cin}) must be divisible by groups "
                             f"({groups})")
        k_out = w_shape[1] * groups
        op = tup(output_padding, "output_padding", 0)
        if any(op[a] >= max(stride[a], dilation[a]) for a in range(nd)):
            raise ValueError(f"{name}: output padding must be smaller than either stride or "
                             f"dilation, but got output_padding {op}, stride {stride}, "
                             f"dilation {dilation}")
        if not output_padding_below_dilation and any(op[a] >= stride[a] for a in range(nd)):
            raise ValueError(f"{name}: the col2im kernel needs output_padding {op} smaller "
                             f"than stride {stride}; F.conv_transpose2d also takes "
                             f"output_padding < dilation {dilation}")
    else:
        k_out = w_shape[0]
        if c % groups:
            raise ValueError(f"{name}: input channels ({c}) must be divisible by groups "
                             f"({groups}); input{_shape_str(x_shape)}")
        if k_out % groups:
            raise ValueError(f"{name}: out_channels ({k_out}) of weight of size "
                             f"{_shape_str(w_shape)} must be divisible by groups ({groups})")
        if w_shape[1] * groups != c:
            hint = ""
            if nd == 2 and x_shape[-1] == w_shape[1] * groups:
                hint = " (is the input NHWC? minicv expects NCHW: use x.transpose(0, 3, 1, 2))"
            raise ValueError(
                f"Given groups={groups}, weight of size {_shape_str(w_shape)}, expected "
                f"input{_shape_str(x_shape)} to have {w_shape[1] * groups} channels, but got "
                f"{c} channels instead{hint}")
        for a in range(nd):
            k_eff = dilation[a] * (w_shape[2 + a] - 1) + 1
            padded = x_shape[2 + a] + 2 * padding[a]
            if k_eff > padded:
                raise ValueError(
                    f"{name}: kernel size {tuple(w_shape[2:])} (dilated: {k_eff} along dim "
                    f"{a}) can't be greater than the padded input size ({padded}) of "
                    f"input{_shape_str(x_shape)} with padding {padding}; use a smaller "
                    f"kernel or more padding")
    if b_shape is not None and tuple(b_shape) != (k_out,):
        raise ValueError(f"{name}: bias must have shape ({k_out},), got "
                         f"{_shape_str(b_shape)}")
    return stride, padding, dilation


def _check_algo(algo):
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")


def _check_float(*arrays):
    ref.check_float_dtype("convolution", *arrays)


# ============================================================================ the plan

def _winograd_ok(x_shape, w_shape, stride, padding, dilation, groups, dtype):
    return (np.dtype(dtype) == np.float32 and groups == 1 and tuple(w_shape[2:]) == (3, 3)
            and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and max(padding) <= 2)


def _direct_ok(w_shape, stride, padding, dilation, groups):
    """The direct kernel serves 3x3, stride-1, dilation-1, ungrouped convolutions with
    padding <= 2 (its input gradient runs the forward kernel with padding 2 - p)."""
    return (groups == 1 and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and max(padding) <= 2)


def _direct_s2_ok(w_shape, stride, dilation, groups):
    """The stride-2 direct kernel serves 3x3, stride-2, dilation-1, ungrouped layers."""
    return (groups == 1 and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (2, 2)
            and tuple(dilation) == (1, 1))


def _direct5_ok(w_shape, stride, padding, dilation, groups):
    """The 5-wide direct kernel serves kh x 5 (any kh), stride-1, dilation-1, ungrouped
    convolutions with padding <= (kh - 1, 4) (its input gradient runs the forward kernel
    with padding (kh - 1 - ph, 4 - pw))."""
    return (groups == 1 and w_shape[3] == 5 and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and padding[0] <= w_shape[2] - 1
            and padding[1] <= 4)


def _is_1x1(w_shape, stride, padding, groups):
    return (tuple(w_shape[2:]) == (1, 1) and tuple(stride) == (1, 1)
            and tuple(padding) == (0, 0) and groups == 1)


def _is_depthwise(x_shape, w_shape, groups):
    return groups > 1 and groups == x_shape[1] and w_shape[1] == 1


def conv_plan(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1,
              dtype=np.float32, algo="auto"):
    """The algorithm ``conv2d_forward(..., algo)`` will run for this layer, as a string.

    One of ``"gemm1x1"`` (1x1 kernel, no im2col), ``"depthwise"`` (direct Numba loops),
    ``"direct5"`` / ``"direct3x3"`` / ``"direct3x3s2"`` (direct kernels, see
    :data:`DIRECT5_MAX_CHANNELS`, :data:`DIRECT_S2_MAX_CHANNELS`),
    ``"im2col"``, ``"winograd-f2"``, ``"winograd-f4"``, ``"reference"``.

    ``"auto"`` is a fixed heuristic fitted to measurements on the 2-core dev machine (no
    timing at run time, so plans are deterministic): depthwise and 1x1 special cases, the
    direct kernels for few channels, Winograd F(2x2) for float32 3x3 stride-1 layers with
    C and K >= :data:`WINOGRAD_MIN_CHANNELS` and outputs of at least 8x8, else im2col.
    Measured (ms fwd / fwd+bwd, interleaved medians of 7, same machine and load; C = K = 32
    is a tie, so the direct kernel keeps it):

    ===========================  ===============  ===============  ===============
    layer (N, C, H, K), 3x3 p1    im2col           direct3x3        winograd-f2
    ===========================  ===============  ===============  ===============
    64, 16, 32, 16                4.7 / 14.1       2.3 / 9.1        4.2 / 14.2
    64, 32, 16, 32                2.8 / 9.5        2.4 / 8.6        2.6 / 8.5
    64, 32,  8, 64                1.4 / 4.6        1.6 / 5.9        1.2 / 4.2
    64, 64,  8, 64                2.3 / 7.9        2.9 / 10.8       1.7 / 5.7
    32, 64, 32, 64               14.9 / 46.4      15.6 / 54.4      10.9 / 37.9
    64, 128, 8, 128               7.5 / 22.6      11.3 / 40.3       4.8 / 15.7
    64, 64, 16, 64                7.9 / 24.2       8.7 / 30.6       5.4 / 18.3
    8, 256, 14, 256               7.9 / 25.5      13.0 / 45.6       7.9 / 25.9
    ===========================  ===============  ===============  ===============

    F(4x4) is never chosen (its error exceeds the documented bound); float64 never takes
    Winograd (its rounding would show in gradchecks) but may take the exact direct kernels.
    """
    _check_algo(algo)
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    if algo == "reference":
        return "reference"
    if _is_depthwise(x_shape, w_shape, groups):
        return "depthwise"
    if _is_1x1(w_shape, stride, padding, groups):
        return "gemm1x1"
    if _direct5_ok(w_shape, stride, padding, dilation, groups):
        if algo == "direct" or (algo == "auto" and x_shape[1] <= DIRECT5_MAX_CHANNELS
                                and w_shape[0] <= DIRECT5_MAX_CHANNELS):
            return "direct5"
    if _direct_s2_ok(w_shape, stride, dilation, groups):
        if algo == "direct" or (algo == "auto" and x_shape[1] <= DIRECT_S2_MAX_CHANNELS):
            return "direct3x3s2"
    direct = _direct_ok(w_shape, stride, padding, dilation, groups)
    if algo == "direct":
        return "direct3x3" if direct else "im2col"
    if algo == "auto" and direct and _direct_wins(x_shape, w_shape, padding):
        return "direct3x3"
    wino = _winograd_ok(x_shape, w_shape, stride, padding, dilation, groups, dtype)
    if algo == "winograd":
        return "winograd-f2" if wino else "im2col"
    if algo == "im2col" or not wino:
        return "im2col"
    c, k = x_shape[1], w_shape[0]
    oh = x_shape[2] + 2 * padding[0] - 2
    ow = x_shape[3] + 2 * padding[1] - 2
    if (AUTO_WINOGRAD and c >= WINOGRAD_MIN_CHANNELS and k >= WINOGRAD_MIN_CHANNELS
            and min(oh, ow) >= 8):
        return "winograd-f2"
    return "im2col"


def _direct_wins(x_shape, w_shape, padding):
    """Measured rule for "auto" (see :func:`conv_plan`): the direct kernel beats im2col
    when the channels are few (the GEMM is then mostly packing) and the rows long enough
    that the wide layout wastes little (<= 12%)."""
    ow = x_shape[3] + 2 * padding[1] - 2
    return (x_shape[1] <= DIRECT_MAX_CHANNELS and w_shape[0] <= DIRECT_MAX_CHANNELS
            and ow >= DIRECT_MIN_WIDTH)


# "auto" picks the direct 3x3 kernel up to this many input and output channels, from this
# output width on (measured: it loses to im2col at C = K = 64, and on 8x8 images).
DIRECT_MAX_CHANNELS = 32
DIRECT_MIN_WIDTH = 16


# "auto" picks the 5-wide direct kernel up to this many input and output channels
# (LeNet-5's layers: C, K <= 16).  Measured fwd+bwd, batch 64, both on 2 threads:
# 1x28x28 -> 6 pad 2 (with gx): 3.5 ms im2col vs 2.2 ms direct; 6x14x14 -> 16: 2.7 vs 1.8 ms.
DIRECT5_MAX_CHANNELS = 32

# "auto" picks the stride-2 direct kernel (3x3) up to this many input channels.  Measured
# fwd+bwd, batch 64, ms, im2col vs direct: 16x32x32 -> 32 7.2 vs 5.8; 32x16x16 -> 64 6.0 vs
# 5.3; 32x32x32 -> 64 16.4 vs 15.7; but 64x16x16 -> 128 13.8 vs 15.6.
DIRECT_S2_MAX_CHANNELS = 32


# Whether "auto" may pick Winograd F(2x2), from this many input and output channels on
# (see conv_plan for the measurements).  F(4x4) is never picked: its measured error (up to
# 18x that of direct fp32) exceeds the 8x bound.
AUTO_WINOGRAD = True
WINOGRAD_MIN_CHANNELS = 32


# ============================================================================ workspace

_tls = threading.local()


def _workspace(slot, shape, dtype):
    """A reusable scratch array (per thread): big fresh allocations cost page faults.

    Only intermediates (columns, tiles) live here; results are always fresh arrays.
    """
    ws = getattr(_tls, "ws", None)
    if ws is None:
        ws = _tls.ws = {}
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = ws.get(slot)
    if buf is None or buf.nbytes < nbytes:
        if nbytes > 2 * _budget + 64 * _MiB:  # don't keep a huge one-off buffer alive
            return np.empty(shape, dtype=dtype)
        buf = ws[slot] = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


# Target size of one chunk's column block: small enough that the columns, the GEMM output
# and the chunk's input stay in L2 (2 MiB per core on the dev machine) between im2col,
# GEMM and col2im.  Measured (fwd+bwd, N=32 C=K=64 32x32 and N=64 C=K=32 16x16):
# 256 KiB-4 MiB are within noise of each other; whole-batch columns (the old layout,
# multi-threaded BLAS) were 1.5-3x slower.
CHUNK_BYTES = 1 << 20

# Winograd's chunks: V and M about this size, but at least this many tiles (the P
# dimension of the alpha^2 GEMMs; OpenBLAS ran (64 x 128) @ (128 x 128) at half the rate
# of (256 x 128) @ (128 x 128) here).
WINOGRAD_CHUNK_BYTES = 1 << 20
WINOGRAD_MIN_TILES = 128


def _sample_bytes(a):
    """Bytes of one sample of batch array ``a`` (also when the batch is empty)."""
    return a.itemsize * int(np.prod(a.shape[1:]))


def _chunking(n, per_sample, flops=None, chunk_bytes=None):
    """(samples per chunk, worker threads) for a batch of n samples of ``per_sample``
    column bytes each: chunks near :data:`CHUNK_BYTES`, all workers' buffers within the
    im2col budget (fewer workers if a single sample is that large).  A call of fewer than
    :data:`SERIAL_MAX_FLOPS` ``flops`` runs on this thread alone."""
    serial = getattr(_tls, "serial", False) or (flops is not None and flops < SERIAL_MAX_FLOPS)
    workers = 1 if serial else _workers()
    if workers > 1:
        workers = int(max(1, min(workers, _budget // max(per_sample, 1))))
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    nb = max(1, min(n, chunk_bytes // max(per_sample, 1), _budget // max(per_sample, 1)))
    nb = max(1, min(nb, -(-n // (2 * workers))))  # >= 2 chunks a worker: load balance
    return int(nb), workers


# Below this many FLOPs a convolution call runs on the calling thread: handing a chunk to
# the pool thread costs 25-75 us here.  LeNet-5's layers (23-100 MFLOP a call) run
# threaded: measured on 2 threads, its conv2 (64x6x14x14 -> 16, 5x5) fwd+bwd 3.1 -> 1.8 ms
# against a threshold of 128 MFLOP, and the whole LeNet-5 step unchanged (6.0 ms; an
# earlier measurement, with OpenBLAS's worker spinning between calls, had favoured one
# thread).
SERIAL_MAX_FLOPS = 8e6


_CORES = os.cpu_count() or 1  # (a system call: looked up once)


def _workers():
    """Threads for batch-parallel kernels: minicv's thread count, if OpenBLAS can be made
    single-threaded meanwhile (otherwise 1 thread and BLAS's own parallelism)."""
    from ..backend import get_num_threads
    n = min(get_num_threads(), _CORES)
    return n if n > 1 and _blas_setter() is not None else 1


_executor_slot = [None, None]  # (executor, pid): a forked child, whose threads are gone, makes anew


def _executor(workers):
    from concurrent.futures import ThreadPoolExecutor
    ex, pid = _executor_slot
    if ex is None or pid != os.getpid() or ex._max_workers < workers - 1:
        ex = ThreadPoolExecutor(max_workers=max(1, workers - 1),
                                thread_name_prefix="minicv-conv")
        _executor_slot[:] = [ex, os.getpid()]
    return ex


def _run_chunks(task, n, nb, workers):
    """Call ``task(n0, n1, t)`` for the chunks [n0, n1) of range(n), nb samples each.

    With ``workers`` > 1, worker t = 0 (this thread) .. workers-1 (pool threads) takes the
    chunks t, t + workers, ... (a fixed assignment, so per-worker partial sums are
    deterministic) while OpenBLAS runs single-threaded: each thread does im2col (Numba,
    ``nogil``) -> GEMM (BLAS, GIL released) -> col2im on its own chunk, in its own cache,
    so nothing waits for or spins against another thread pool.  (Measured: Numba
    ``parallel=True`` kernels between multi-threaded GEMMs were slower than serial ones,
    see ``cpu/_config.py``.)  Tasks must write disjoint outputs.
    """
    chunks = [(n0, min(n, n0 + nb)) for n0 in range(0, n, nb)]
    workers = min(workers, len(chunks))
    if workers <= 1:
        for n0, n1 in chunks:
            task(n0, n1, 0)
        return

    def loop(t):
        for n0, n1 in chunks[t::workers]:
            task(n0, n1, t)

    from ..backend import get_num_threads
    setter = _blas_setter()
    setter(1)
    try:
        futures = [_executor(workers).submit(loop, t) for t in range(1, workers)]
        try:
            loop(0)
        finally:
            for f in futures:
                f.result()
    finally:
        setter(get_num_threads())


def _native(workers):
    """Whether ``workers`` threads can run a driver of ``cpu/parallel.py`` here (Numba's
    OpenMP team: a hand-off of ~3 us instead of the Python pool's 50-80 us)."""
    return (_par.native_workers(min(workers, _workers()))
            and not getattr(_tls, "serial", False))


def _native_gemm(workers, dtype):
    """The address of OpenBLAS's sgemm/dgemm for ``dtype`` (``cpu/blas.py``) if a chunk
    pipeline with GEMMs can run on Numba's native team here, else 0."""
    if not _native(workers):
        return 0
    from .cpu.blas import gemm_address
    return gemm_address(dtype)


def _native_workspaces(workers, rows, c, k, dtype):
    """Per-worker scratch for a native chunk pipeline: (workers, rows*c), (workers, rows*k)."""
    return (_workspace("native_in", (workers, rows * c), dtype),
            _workspace("native_out", (workers, rows * k), dtype))


def _blas_serial(driver, *args):
    """``driver(*args)`` with OpenBLAS single-threaded (its GEMMs run inside the workers)."""
    from ..backend import get_num_threads
    setter = _blas_setter()
    setter(1)
    try:
        driver(*args)
    finally:
        setter(get_num_threads())


def _side_by_side(first, second):
    """``(first(), second())`` with ``first`` on a pool thread and ``second`` on this one,
    each running its kernels serially (OpenBLAS single-threaded meanwhile).

    For a convolution's input and weight gradients, two independent jobs of similar size:
    one hand-off instead of one per batch split, and each thread keeps its own data in its
    own cache.  With one minicv thread both run here, one after the other.
    """
    if _workers() <= 1:
        return first(), second()

    def serially(fn):
        _tls.serial = True
        try:
            return fn()
        finally:
            _tls.serial = False

    from ..backend import get_num_threads
    setter = _blas_setter()
    setter(1)
    try:
        future = _executor(2).submit(serially, first)
        try:
            b = serially(second)
        finally:
            a = future.result()
    finally:
        setter(get_num_threads())
    return a, b


def run_split(task, n, nbytes=None, native=None):
    """Call ``task(i0, i1)`` on contiguous, disjoint parts [i0, i1) of range(n), one part
    per minicv thread (this thread takes the first), and wait for all of them.

    For memory-bound ``nogil`` kernels over independent slices (BatchNorm's channels):
    the parts are fixed by ``n`` and the thread count, and each part is one task, so as
    long as the tasks write disjoint outputs the results do not depend on scheduling.
    ``nbytes``: the bytes the whole call touches; under :data:`SPLIT_MIN_BYTES` it runs
    on this thread alone (handing work to another thread costs ~20-50 us).
    ``native(workers)``: the same split by a driver of ``cpu/parallel.py``, run instead
    where Numba's native team is available (:func:`_native`).
    """
    from ..backend import get_num_threads
    workers = min(get_num_threads(), _CORES, n)
    if workers <= 1 or (nbytes is not None and nbytes < SPLIT_MIN_BYTES):
        task(0, n)
        return
    if native is not None and _native(workers):
        native(workers)
        return
    bounds = [n * t // workers for t in range(workers + 1)]
    futures = [_executor(workers).submit(task, bounds[t], bounds[t + 1])
               for t in range(1, workers)]
    try:
        task(bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()


# Below this many bytes touched, :func:`run_split` stays on the calling thread.
SPLIT_MIN_BYTES = 1 << 18


def im2col_chunk_size(x_shape, w_shape, stride=1, padding=0, dilation=1, itemsize=4,
                      groups=1):
    """Samples per chunk so that the column buffer ``C*kh*kw*OH*OW*n`` fits the budget."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    n, c, h, w = x_shape
    kh, kw = w_shape[2:]
    oh = conv_output_size(h, kh, sh, ph, dh)
    ow = conv_output_size(w, kw, sw, pw, dw)
    per_sample = c * kh * kw * oh * ow * itemsize
    return int(max(1, min(n, _budget // max(per_sample, 1))))


# ============================================================================ conv2d

def _as_float_arrays(x, w, b=None):
    """x, w (and b) as float arrays of one dtype, on the device they are on."""
    xp = get_array_module(x, w)
    x, w = xp.asarray(x), xp.asarray(w)
    b = None if b is None else xp.asarray(b)
    _check_float(x, w, b)
    dt = np.result_type(x.dtype, w.dtype)
    return x.astype(dt, copy=False), w.astype(dt, copy=False), \
        (None if b is None else b.astype(dt, copy=False))


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, algo="auto"):
    """2-D convolution (cross-correlation) of NCHW ``x`` with ``w`` (K, C/groups, kh, kw).

    ``y[n, k, oy, ox] = b[k] + sum_{c,i,j} w[k, c, i, j] x[n, c, oy*s - p + i*d, ...]``.
    ``padding`` is an int or a symmetric pair.  Returns y (N, K, OH, OW) with
    ``OH = floor((H + 2p - d(kh-1) - 1)/s) + 1``.  See :func:`conv_plan` for ``algo``.
    """
    _check_algo(algo)
    x, w, b = _as_float_arrays(x, w, b)
    stride, padding, dilation = check_conv_args(
        x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups)
    plan = conv_plan(x.shape, w.shape, stride, padding, dilation, groups, x.dtype, algo)
    if plan == "reference":
        return ref.conv2d(x, w, b, stride, padding, dilation, groups)
    if plan == "depthwise":
        return _depthwise_forward(x, w, b, stride, padding, dilation)
    if plan == "gemm1x1":
        return _conv1x1(x, w, b)
    if plan.startswith("winograd"):
        return _winograd_forward(x, w, b, padding, 2 if plan == "winograd-f2" else 4)
    if plan == "direct3x3":
        return _direct_forward(x, w, b, padding)
    if plan == "direct3x3s2":
        return _direct_s2_forward(x, w, b, padding)
    if plan == "direct5":
        return _direct5_forward(x, w, b, padding)
    return _im2col_forward(x, w, b, stride, padding, dilation, groups)


def _depthwise3x3(w, stride):
    """Whether a depthwise layer has the 3x3, stride-1 kernels (and a native driver)."""
    return tuple(w.shape[2:]) == (3, 3) and tuple(stride) == (1, 1)


def _depthwise_forward(x, w, b, stride, padding, dilation):
    """Direct depthwise loops (``cpu/depthwise.py``, ``nogil``), batch chunks on threads."""
    n = x.shape[0]
    k = w.shape[0]
    oh = conv_output_size(x.shape[2], w.shape[2], stride[0], padding[0], dilation[0])
    ow = conv_output_size(x.shape[3], w.shape[3], stride[1], padding[1], dilation[1])
    y = _out((n, k, oh, ow), dtype=x.dtype)
    nb, workers = _chunking(n, 2 * _sample_bytes(x) + k * oh * ow * x.itemsize)
    if _depthwise3x3(w, stride) and _native(workers):
        bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
        _par.depthwise3x3_forward(np.ascontiguousarray(x), np.ascontiguousarray(w, x.dtype),
                                  bias, *padding, *dilation, y, nb, workers)
        return y

    def task(n0, n1, t):
        y[n0:n1] = _dw.depthwise_conv2d(x[n0:n1], w, b, stride, padding, dilation)

    _run_chunks(task, n, nb, workers)
    return y


def _depthwise_backward(x, w, gy, stride, padding, dilation, needs):
    """Gradients of :func:`_depthwise_forward`; gw summed per worker, then in worker order."""
    n = x.shape[0]
    gx = _out(x.shape, dtype=x.dtype) if needs[0] else None
    gws = {}
    nb, workers = _chunking(n, 3 * _sample_bytes(x) + 2 * _sample_bytes(gy))
    if _depthwise3x3(w, stride) and _native(workers) and (needs[0] or needs[1]):
        gwp = np.zeros((workers,) + w.shape, dtype=x.dtype)
        _par.depthwise3x3_backward(np.ascontiguousarray(x), np.ascontiguousarray(w, x.dtype),
                                   np.ascontiguousarray(gy, x.dtype), *padding, *dilation,
                                   needs[0], gx if needs[0] else np.empty((0,) * 4, x.dtype),
                                   gwp, nb, workers)
        for t in range(1, workers):  # a fixed order: deterministic
            gwp[0] += gwp[t]
        return gx, (gwp[0] if needs[1] else None), (gy.sum(axis=(0, 2, 3)) if needs[2]
                                                    else None)

    def task(n0, n1, t):
        gxc, gwc, _ = _dw.depthwise_conv2d_backward(x[n0:n1], w, gy[n0:n1], stride,
                                                    padding, dilation,
                                                    (needs[0], needs[1], False))
        if needs[0]:
            gx[n0:n1] = gxc
        if needs[1]:
            if t in gws:
                gws[t] += gwc
            else:
                gws[t] = gwc

    _run_chunks(task, n, nb, workers)
    gw = None
    if needs[1]:
        gw = np.zeros(w.shape, dtype=x.dtype)
        for t in sorted(gws):
            gw += gws[t]
    gb = gy.sum(axis=(0, 2, 3)) if needs[2] else None
    return gx, gw, gb


def _direct_forward(x, w, b, padding):
    """3x3 stride-1 convolution by the direct kernel of ``cpu/direct.py``, batch chunks
    on threads (:func:`_run_chunks`).  x (N, C, H, W), w (K, C, 3, 3) -> (N, K, OH, OW)."""
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w)
    n, c, h, wd = x.shape
    k = w.shape[0]
    ph, pw = padding
    oh, ow, hq, wq = _im.wide_geometry(h, wd, 3, 3, 1, padding, 1)
    bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b)
    y = _out((n, k, oh, ow), dtype=x.dtype)
    nb, workers = _chunking(n, _sample_bytes(x) + _sample_bytes(y))
    if _native(workers):
        _par.conv3x3_forward(x, w, bias, ph, pw, hq, wq, y, nb, workers)
        return y

    def task(n0, n1, t):
        _direct.conv3x3_forward(x[n0:n1], w, bias, ph, pw, hq, wq, y[n0:n1])

    _run_chunks(task, n, nb, workers)
    return y


def _direct_backward(x, w, gy, padding, needs):
    """(gx, gw) of :func:`_direct_forward`.

    gx: the forward kernel on dY with the flipped, C<->K-transposed filter and padding
    2 - p (a stride-1 3x3 convolution's adjoint).  gw: :func:`~minicv.kernels.cpu.direct.
    conv3x3_weight_grad` per chunk, summed per worker, then in worker order (deterministic).
    """
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    n, c, h, wd = x.shape
    ph, pw = padding
    wt = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C, K, 3, 3)
    flops = 18 * gy.size * c
    if needs[0] and needs[1] and flops >= SERIAL_MAX_FLOPS and _native(2):
        _, _, hq, wq = _im.wide_geometry(*gy.shape[2:], 3, 3, 1, (2 - ph, 2 - pw), 1)
        gx = _out(x.shape, dtype=x.dtype)
        gw = np.zeros(w.shape, dtype=x.dtype)
        nb, _ = _chunking(n, _sample_bytes(x) + _sample_bytes(gy))
        _par.conv3x3_backward(x, gy, wt, np.zeros(c, x.dtype), ph, pw, hq, wq, gx, gw, nb)
        return gx, gw

    def input_grad():
        return _direct_forward(gy, wt, None, (2 - ph, 2 - pw))

    def weight_grad():
        return _summed_over_chunks(_direct.conv3x3_weight_grad, x, gy, (w.shape,),
                                   ph, pw, wd + 2 * pw, native=_par.conv3x3_weight_grad)[0]

    return _gradients(needs, input_grad, weight_grad, flops)


def _gradients(needs, input_grad, weight_grad, flops):
    """(gx, gw): the jobs asked for; side by side on two threads when both are and the
    layer (``flops`` for one of them) is worth the hand-off."""
    if needs[0] and needs[1] and flops >= SERIAL_MAX_FLOPS and not _native(2):
        return _side_by_side(input_grad, weight_grad)
    return (input_grad() if needs[0] else None), (weight_grad() if needs[1] else None)


def _summed_over_chunks(kernel, x, gy, shapes, *args, native=None):
    """``sum_chunks kernel(x_chunk, gy_chunk, *args, *outs)`` for a kernel that accumulates
    into arrays of ``shapes`` (a weight gradient, and a bias gradient for some): batch
    chunks on threads, one partial sum per worker, the partial sums added in worker order
    (deterministic for a given thread count).  Returns the sums, one per shape.
    ``native``: the kernel's driver in ``cpu/parallel.py`` (same arguments, then ``nb,
    workers``): the same chunks and sums on the native team."""
    n = x.shape[0]
    nb, workers = _chunking(n, _sample_bytes(x) + _sample_bytes(gy),
                            2 * gy.size * int(np.prod(shapes[0][1:])))
    parts = [np.zeros((workers,) + tuple(shape), dtype=x.dtype) for shape in shapes]

    def task(n0, n1, t):
        kernel(x[n0:n1], gy[n0:n1], *args, *(p[t] for p in parts))

    if native is not None and _native(workers):
        native(x, gy, *args, *parts, nb, workers)
    else:
        _run_chunks(task, n, nb, workers)
    for p in parts:
        for t in range(1, workers):  # a fixed order: deterministic
            p[0] += p[t]
    return tuple(p[0] for p in parts)


def _pad_filters(w, b, dtype):
    """(w, b) with zero filters appended up to a multiple of 4 output channels, the block
    of the stride-2 and 5-wide direct kernels (whose extra outputs are never copied out):
    no remainder loop."""
    k = w.shape[0]
    k4 = -(-k // 4) * 4
    wp = np.zeros((k4,) + w.shape[1:], dtype=dtype)
    wp[:k] = w
    bias = np.zeros(k4, dtype)
    if b is not None:
        bias[:k] = b
    return wp, bias


def _direct_s2_forward(x, w, b, padding):
    """3x3 stride-2 convolution by :func:`~minicv.kernels.cpu.direct.conv3x3s2_forward`
    (the input split into its four phases), batch chunks on threads."""
    x = np.ascontiguousarray(x)
    n, c, h, wd = x.shape
    k = w.shape[0]
    ph, pw = padding
    oh, ow, hq, wq = _im.wide_geometry(h, wd, 3, 3, 2, padding, 1)
    wp, bias = _pad_filters(w, b, x.dtype)
    y = _out((n, k, oh, ow), dtype=x.dtype)
    nb, workers = _chunking(n, _sample_bytes(x) + _sample_bytes(y), 18 * n * k * c * oh * wq)

    if _native(workers):
        _par.conv3x3s2_forward(x, wp, bias, ph, pw, hq, wq, y, nb, workers)
        return y

    def task(n0, n1, t):
        _direct.conv3x3s2_forward(x[n0:n1], wp, bias, ph, pw, hq, wq, y[n0:n1])

    _run_chunks(task, n, nb, workers)
    return y


def _direct_s2_backward(x, w, gy, padding, needs):
    """(gx, gw) of :func:`_direct_s2_forward`: gx by im2col (col2im is the scatter a
    stride-2 adjoint needs), gw by :func:`~minicv.kernels.cpu.direct.conv3x3s2_weight_grad`
    per chunk, summed per worker and then in worker order (deterministic)."""
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    n, c, h, wd = x.shape
    ph, pw = padding

    def input_grad():
        return _im2col_backward(x, w, gy, (2, 2), padding, (1, 1), 1, (True, False))[0]

    def weight_grad():
        _, _, _, wq = _im.wide_geometry(h, wd, 3, 3, 2, padding, 1)
        rows = -(-(h + 2 * ph) // 2)  # phase rows of one padded plane
        return _summed_over_chunks(_direct.conv3x3s2_weight_grad, x, gy, (w.shape,),
                                   ph, pw, rows, wq, native=_par.conv3x3s2_weight_grad)[0]

    return _gradients(needs, input_grad, weight_grad, 18 * gy.size * c)


def _direct5_forward(x, w, b, padding):
    """kh x 5 stride-1 convolution by :func:`~minicv.kernels.cpu.direct.conv5_forward`,
    batch chunks on threads.  x (N, C, H, W), w (K, C, kh, 5) -> (N, K, OH, OW)."""
    x = np.ascontiguousarray(x)
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh, ow, hq, wq = _im.wide_geometry(h, wd, kh, kw, 1, padding, 1)
    wp, bias = _pad_filters(w, b, x.dtype)
    y = _out((n, k, oh, ow), dtype=x.dtype)
    flops = 2 * n * wp.shape[0] * c * kh * kw * oh * wq
    nb, workers = _chunking(n, _sample_bytes(x) + _sample_bytes(y), flops)

    if _native(workers):
        _par.conv5_forward(x, wp, bias, *padding, hq, wq, y, nb, workers)
        return y

    def task(n0, n1, t):
        _direct.conv5_forward(x[n0:n1], wp, bias, padding[0], padding[1], hq, wq, y[n0:n1])

    _run_chunks(task, n, nb, workers)
    return y


def _direct5_backward(x, w, gy, padding, needs):
    """(gx, gw, gb) of :func:`_direct5_forward`.

    gx: the forward kernel on dY with the flipped, C<->K-transposed filter and padding
    (kh - 1 - ph, 4 - pw), a stride-1 convolution's adjoint (im2col when C is not a
    multiple of the kernel's 4-channel block).  gw and gb together:
    :func:`~minicv.kernels.cpu.direct.conv5_weight_grad` over batch chunks
    (:func:`_summed_over_chunks`).
    """
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    ph, pw = padding

    def input_grad():
        if c % 4:
            # the forward kernel would pad dX's C output channels to a multiple of 4
            # (LeNet's conv2: 6 -> 8) on top of its junk columns: im2col measured 0.8 vs
            # 1.3 ms there
            return _im2col_backward(x, w, gy, (1, 1), padding, (1, 1), 1, (True, False))[0]
        wt = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, K, kh, 5)
        return _direct5_forward(gy, wt, None, (kh - 1 - ph, kw - 1 - pw))

    def weight_and_bias_grad():
        wq = wd + 2 * pw
        k2 = k + k % 2  # the kernel pairs output channels
        gw2, gb2 = _summed_over_chunks(_direct.conv5_weight_grad, x, gy,
                                       ((k2, c, kh, kw), (k2,)), ph, pw, wq,
                                       native=_par.conv5_weight_grad)
        return gw2[:k].copy(), gb2[:k].copy()

    gx, gwb = _gradients((needs[0], needs[1] or needs[2]), input_grad, weight_and_bias_grad,
                         2 * gy.size * c * kh * kw)
    gw = gwb[0] if needs[1] else None
    gb = gwb[1] if needs[2] else None
    return gx, gw, gb


def _conv1x1(x, w, b):
    n, c, h, wd = x.shape
    k = w.shape[0]
    x3 = np.ascontiguousarray(x).reshape(n, c, h * wd)  # (N, C, H*W) is the column matrix
    workers = _split_workers(n, 2 * n * k * c * h * wd)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        y = _out((n, k, h * wd), dtype=x.dtype)
        bias = np.zeros(0, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
        _blas_serial(_par.conv1x1_forward, x3, np.ascontiguousarray(w).reshape(k, c), bias, y,
                     workers, gemm)
        return y.reshape(n, k, h, wd)
    y = np.matmul(w.reshape(k, c), x3)  # (N, K, H*W)
    if b is not None:
        y += b.reshape(1, k, 1)
    return y.reshape(n, k, h, wd)


def _split_workers(n, flops):
    """Workers for ``n`` independent parts of ``flops`` in all: minicv's threads, one below
    :data:`SERIAL_MAX_FLOPS` or on a pool thread."""
    if getattr(_tls, "serial", False) or flops < SERIAL_MAX_FLOPS:
        return 1
    return max(1, min(_workers(), n))


def _im2col_forward(x, w, b, stride, padding, dilation, groups):
    """im2col + GEMM over batch chunks, the chunks spread over threads (:func:`_run_chunks`).

    Per chunk of m samples: cols (C*kh*kw, m, OH*wq) in the "wide" layout of
    :func:`~minicv.kernels.cpu.im2col.im2col_wide`, then ``W (G, K/G, CKK/G) @ cols`` and
    the valid columns (ox < OW) are copied to y[n0:n1] with the bias added.  A chunk's
    buffers (~1 MiB) stay in L2, so the columns never travel to DRAM.
    """
    x = np.ascontiguousarray(x)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow, hq, wq = _im.wide_geometry(h, wd, kh, kw, stride, padding, dilation)
    q = oh * wq
    ckk = c * kh * kw
    kg = k // groups
    wm = np.ascontiguousarray(w).reshape(groups, kg, cg * kh * kw)  # (G, K/G, CKK/G)
    y = _out((n, k, oh, ow), dtype=x.dtype)
    bias = None if b is None else b.reshape(1, k, 1, 1)
    nb, workers = _chunking(n, ckk * q * x.itemsize)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        cols, out = _native_workspaces(workers, nb * q, ckk, k, x.dtype)
        bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
        _blas_serial(_par.im2col_forward, x, wm, bias, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq,
                     wq, y, nb, workers, cols, out, gemm)
        return y

    def task(n0, n1, t):
        m = n1 - n0
        cols = _workspace("cols", (ckk, m, q), x.dtype)  # (C*kh*kw, m, OH*wq)
        _im.im2col_wide(x[n0:n1], kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, cols)
        out = _workspace("gemm", (groups, kg, m * q), x.dtype)  # (G, K/G, m*OH*wq)
        np.matmul(wm, cols.reshape(groups, ckk // groups, m * q), out=out)
        # (K, m, OH, wq) -> (m, K, OH, OW): drop the junk columns, back to NCHW
        yc = y[n0:n1]
        yc[...] = out.reshape(k, m, oh, wq)[..., :ow].transpose(1, 0, 2, 3)
        if bias is not None:
            yc += bias

    _run_chunks(task, n, nb, workers)
    return y


def _winograd_chunking(n, a2, tiles, channels, itemsize, flops):
    """:func:`_chunking` for Winograd: V and M (``a2 * tiles * channels`` values a sample)
    near :data:`WINOGRAD_CHUNK_BYTES` a chunk, but at least :data:`WINOGRAD_MIN_TILES`
    tiles, the GEMMs' inner (P) dimension, where the batch allows."""
    per_sample = a2 * tiles * channels * itemsize
    want = max(WINOGRAD_CHUNK_BYTES, per_sample * -(-WINOGRAD_MIN_TILES // tiles))
    return _chunking(n, per_sample, flops, want)


def _winograd_forward(x, w, b, padding, m):
    """Winograd F(m x m, 3 x 3) forward; x already validated, float32.

    Per batch chunk (spread over threads like im2col, :func:`_run_chunks`):
    V = input transform of the chunk, padded on the fly (alpha^2, P, C), the alpha^2 GEMMs
    M = V @ U (alpha^2, P, K), y = output transform of M (+ bias).  A chunk's V and M
    (~1 MiB) stay in L2 between the three steps.
    """
    x = np.ascontiguousarray(x)
    n, c, h, wd = x.shape
    k = w.shape[0]
    oh, ow, th, tw = _wg.winograd_tiles(h, wd, m, padding)
    u = _wg.filter_transform(w, m)  # (alpha^2, C, K)
    y = _out((n, k, oh, ow), dtype=x.dtype)
    bias = np.zeros(k, x.dtype) if b is None else b
    a2 = (m + 2) ** 2
    nb, workers = _winograd_chunking(n, a2, th * tw, c + k, x.itemsize, 18 * n * k * c * oh * ow)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        v, mt = _native_workspaces(workers, a2 * nb * th * tw, c, k, x.dtype)
        _blas_serial(_par.winograd_forward, x, u, np.asarray(bias, x.dtype), m, *padding,
                     th, tw, y, nb, workers, v, mt, gemm)
        return y

    def task(n0, n1, t):
        p = (n1 - n0) * th * tw
        v = _workspace("wino_v", (a2, p, c), x.dtype)  # (alpha^2, P, C)
        _wg.input_transform(x[n0:n1], m, padding, out=v)
        mt = _workspace("wino_m", (a2, p, k), x.dtype)  # (alpha^2, P, K)
        np.matmul(v, u, out=mt)
        _wg.output_transform(mt, m, n1 - n0, oh, ow, bias, out=y[n0:n1])

    _run_chunks(task, n, nb, workers)
    return y


def _winograd_weight_grad(x, gy, padding, m):
    """dW of a Winograd F(m x m, 3 x 3) convolution, in the Winograd domain.

    The forward is ``y = AT [sum_c U[:, c, k] * V[:, c]] A`` per tile, so
    ``dU[e] = sum_p V[e, p, :]^T dM[e, p, :]`` with ``dM = A dY AT`` (the adjoint of the
    output transform), and ``dW = GT dU G`` (the adjoint of the filter transform): alpha^2
    GEMMs of inner dimension P, 2.25x (F2) fewer multiplies than the im2col GEMM.  V is
    recomputed per chunk rather than kept from the forward (it is 4x the input, F2).
    Each thread sums its chunks; partial sums are added in worker order (deterministic).
    """
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
    n, c, h, wd = x.shape
    k = gy.shape[1]
    oh, ow, th, tw = _wg.winograd_tiles(h, wd, m, padding)
    a2 = (m + 2) ** 2
    nb, workers = _winograd_chunking(n, a2, th * tw, c + k, x.itemsize, 18 * n * k * c * oh * ow)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        v, mt = _native_workspaces(workers, a2 * nb * th * tw, c, k, x.dtype)
        du = np.zeros((workers, a2, c, k), x.dtype)
        _blas_serial(_par.winograd_weight_grad, x, gy, m, *padding, th, tw, du, nb, workers,
                     v, mt, gemm)
        for t in range(1, workers):  # a fixed order: deterministic
            du[0] += du[t]
        return _wg.filter_transform_adjoint(du[0], m)
    parts = {}  # per-worker partial sums of dU (alpha^2, C, K)

    def task(n0, n1, t):
        p = (n1 - n0) * th * tw
        v = _workspace("wino_v", (a2, p, c), x.dtype)  # (alpha^2, P, C)
        _wg.input_transform(x[n0:n1], m, padding, out=v)
        dm = _workspace("wino_m", (a2, p, k), x.dtype)  # (alpha^2, P, K)
        _wg.output_transform_adjoint(gy[n0:n1], m, out=dm)
        if t in parts:
            parts[t] += np.matmul(v.transpose(0, 2, 1), dm)
        else:
            parts[t] = np.matmul(v.transpose(0, 2, 1), dm)

    _run_chunks(task, n, nb, workers)
    du = parts[0]
    for t in sorted(parts)[1:]:  # a fixed order: deterministic
        du += parts[t]
    return _wg.filter_transform_adjoint(du, m)


def conv2d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1, algo="auto",
                    needs=(True, True, True)):
    """Gradients ``(gx, gw, gb)`` of :func:`conv2d_forward` given the output gradient gy.

    ``gx = col2im(W^T gy)`` (or, with the direct and Winograd plans, the stride-1
    correlation of gy with the flipped, C<->K-transposed filter), ``gw = sum_n gy_n cols_n^T``
    (an im2col GEMM, a direct kernel's dot products, or Winograd's ``dU = V^T dM``, by
    plan), ``gb = sum gy``.  Entries whose ``needs`` flag is False are None.  When both gx
    and gw are needed, the direct and Winograd plans compute them side by side, one
    thread each (:func:`_side_by_side`).
    """
    _check_algo(algo)
    x, w, _ = _as_float_arrays(x, w)
    gy = np.asarray(gy).astype(x.dtype, copy=False)
    stride, padding, dilation = check_conv_args(x.shape, w.shape, None, stride, padding,
                                                dilation, groups)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(wd, kw, stride[1], padding[1], dilation[1])
    if gy.shape != (n, k, oh, ow):
        raise ValueError(f"conv2d backward: grad_output must have shape "
                         f"{_shape_str((n, k, oh, ow))}, got {_shape_str(gy.shape)}")
    plan = conv_plan(x.shape, w.shape, stride, padding, dilation, groups, x.dtype, algo)
    if plan == "reference":
        gx, gw, gb = ref.conv2d_backward(x, w, gy, stride, padding, dilation, groups)
        return tuple(g if need else None for g, need in zip((gx, gw, gb), needs))
    if plan == "depthwise":
        return _depthwise_backward(x, w, gy, stride, padding, dilation, needs)
    if plan == "direct5":  # gb comes out of the weight-gradient kernel
        return _direct5_backward(x, w, gy, padding, needs)
    gb = gy.sum(axis=(0, 2, 3)) if needs[2] else None
    if plan == "gemm1x1":
        gx, gw = _conv1x1_backward(x, w, gy, needs)
        return gx, gw, gb
    if plan == "direct3x3":
        gx, gw = _direct_backward(x, w, gy, padding, needs)
        return gx, gw, gb
    if plan == "direct3x3s2":
        gx, gw = _direct_s2_backward(x, w, gy, padding, needs)
        return gx, gw, gb
    if plan.startswith("winograd"):
        m = 2 if plan == "winograd-f2" else 4

        def input_grad():
            # dX = correlation of dY with the flipped filter, C and K swapped, padding 2 - p
            wt = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C, K, 3, 3)
            return _winograd_forward(np.ascontiguousarray(gy), wt, None,
                                     (2 - padding[0], 2 - padding[1]), m)

        gx, gw = _gradients(needs, input_grad,
                            lambda: _winograd_weight_grad(x, gy, padding, m), 18 * gy.size * c)
        return gx, gw, gb
    gx, gw = _im2col_backward(x, w, gy, stride, padding, dilation, groups, needs[:2])
    return gx, gw, gb


def _conv1x1_backward(x, w, gy, needs):
    n, c, h, wd = x.shape
    k = w.shape[0]
    gy3 = np.ascontiguousarray(gy).reshape(n, k, h * wd)  # (N, K, H*W)
    wm = w.reshape(k, c)
    gx = gw = None
    workers = _split_workers(n, 2 * n * k * c * h * wd)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        x3 = np.ascontiguousarray(x).reshape(n, c, h * wd)
        gx = _out((n if needs[0] else 0, c, h * wd), dtype=x.dtype)
        gws = np.zeros((workers if needs[1] else 0, k, c), dtype=x.dtype)
        _blas_serial(_par.conv1x1_backward, x3, np.ascontiguousarray(wm), gy3, gx, gws, workers,
                     gemm)
        for t in range(1, len(gws)):  # a fixed order: deterministic
            gws[0] += gws[t]
        return (gx.reshape(x.shape) if needs[0] else None,
                gws[0].reshape(w.shape) if needs[1] else None)
    if needs[0]:
        gx = np.matmul(wm.T, gy3).reshape(n, c, h, wd)  # (N, C, H*W)
    if needs[1]:
        x3 = np.ascontiguousarray(x).reshape(n, c, h * wd)
        gw = np.zeros((k, c), dtype=x.dtype)
        for n0 in range(n):  # sum_n gy_n x_n^T, accumulated without an (N, K, C) temporary
            gw += gy3[n0] @ x3[n0].T
        gw = gw.reshape(w.shape)
    return gx, gw


def _im2col_backward(x, w, gy, stride, padding, dilation, groups, needs):
    """(gx, gw) by im2col + GEMM per batch chunk, in the layout of :func:`_im2col_forward`.

    Per chunk: dY is copied to (K, m, OH, wq) with zero junk columns; then
    ``gw += dY @ cols^T`` (cols recomputed: cheaper than keeping the whole batch's columns,
    which would not fit in cache) and ``gx = col2im(W^T @ dY)``.  Each thread sums its own
    gw over a fixed set of chunks; the partial sums are added in worker order at the end, so
    results are deterministic for a given thread count.
    """
    x = np.ascontiguousarray(x)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow, hq, wq = _im.wide_geometry(h, wd, kh, kw, stride, padding, dilation)
    q = oh * wq
    ckk = c * kh * kw
    kg, ckkg = k // groups, ckk // groups
    wm = np.ascontiguousarray(w).reshape(groups, kg, ckkg)  # (G, K/G, CKK/G)
    wmt = wm.transpose(0, 2, 1)  # (G, CKK/G, K/G)
    gx = _out(x.shape, dtype=x.dtype) if needs[0] else None
    gws = {}  # per-worker partial sums of gw
    nb, workers = _chunking(n, ckk * q * x.itemsize)
    gemm = _native_gemm(workers, x.dtype)
    if gemm:
        g, cols = _native_workspaces(workers, nb * q, k, ckk, x.dtype)
        gws = np.zeros((workers if needs[1] else 0, groups, kg, ckkg), dtype=x.dtype)
        _blas_serial(_par.im2col_backward, x, wm, np.ascontiguousarray(gy), kh, kw, sh, sw,
                     ph, pw, dh, dw, hq, wq, np.empty((0,) * 4, x.dtype) if gx is None else gx,
                     gws, nb, workers, g, cols, gemm)
        for t in range(1, len(gws)):  # a fixed order: deterministic
            gws[0] += gws[t]
        return gx, (gws[0].reshape(w.shape) if needs[1] else None)

    def task(n0, n1, t):
        m = n1 - n0
        g = _workspace("gy_t", (k, m, oh, wq), x.dtype)  # (K, m, OH, wq)
        g[..., ow:] = 0
        g[..., :ow] = gy[n0:n1].transpose(1, 0, 2, 3)
        g2 = g.reshape(groups, kg, m * q)  # (G, K/G, m*OH*wq)
        cols = _workspace("cols", (ckk, m, q), x.dtype)  # (C*kh*kw, m, OH*wq)
        if needs[1]:
            _im.im2col_wide(x[n0:n1], kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, cols)
            part = np.matmul(g2, cols.reshape(groups, ckkg, m * q).transpose(0, 2, 1))
            if t in gws:
                gws[t] += part  # (G, K/G, CKK/G)
            else:
                gws[t] = part
        if needs[0]:
            np.matmul(wmt, g2, out=cols.reshape(groups, ckkg, m * q))  # dcols
            _im.col2im_wide(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, hq, wq, gx[n0:n1])

    _run_chunks(task, n, nb, workers)
    gw = None
    if needs[1]:
        gw = np.zeros((groups, kg, ckkg), dtype=x.dtype)
        for t in sorted(gws):  # a fixed order: deterministic
            gw += gws[t]
        gw = gw.reshape(w.shape)
    return gx, gw


# ============================================================================ transposed

def conv_transpose2d_output_size(h, k, s, p, d, op):
    """``(H - 1)*s - 2p + d*(k - 1) + output_padding + 1`` (PyTorch's ConvTranspose2d)."""
    return (h - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """Transposed convolution: the input gradient of conv2d, used as a layer.

    x (N, Cin, H, W), w (Cin, Cout/groups, kh, kw) -> y (N, Cout, OH, OW) with
    OH = (H-1)*s - 2p + d(kh-1) + output_padding + 1.  Computed as ``col2im(W^T x)``.
    """
    x, w, b = _as_float_arrays(x, w, b)
    stride, padding, dilation = check_conv_args(
        x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups,
        transposed=True, output_padding=output_padding)
    op = _pair(output_padding)
    x = np.ascontiguousarray(x)
    n, cin, h, wd = x.shape
    _, coutg, kh, kw = w.shape
    cout = coutg * groups
    oh = conv_transpose2d_output_size(h, kh, stride[0], padding[0], dilation[0], op[0])
    ow = conv_transpose2d_output_size(wd, kw, stride[1], padding[1], dilation[1], op[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"conv_transpose2d: output size ({oh}, {ow}) is too small for "
                         f"input{_shape_str(x.shape)} and padding {padding}")
    if _tiled_transpose(x, w, stride, padding, dilation, op, groups):
        return _conv_transpose_tiled(x, w, b)
    cing = cin // groups
    wm = np.ascontiguousarray(w).reshape(groups, cing, coutg * kh * kw)  # (G, Cin/G, Cout/G*kk)
    y = np.empty((n, cout, oh, ow), dtype=x.dtype)
    per_sample = cout * kh * kw * h * wd * x.itemsize
    nb = int(max(1, min(n, _budget // max(per_sample, 1))))
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        xt = x[n0:n1].reshape(n1 - n0, groups, cing, h * wd).transpose(1, 2, 0, 3)
        xt = xt.reshape(groups, cing, (n1 - n0) * h * wd)  # (G, Cin/G, nb*H*W)
        cols = np.matmul(wm.transpose(0, 2, 1), xt)  # (G, Cout/G*kk, nb*H*W)
        cols = cols.reshape(cout * kh * kw, n1 - n0, h * wd).transpose(1, 0, 2)
        y[n0:n1] = _im.col2im(cols, (n1 - n0, cout, oh, ow), kh, kw, stride, padding,
                              dilation)
    if b is not None:
        y += b.reshape(1, cout, 1, 1)
    return y


def conv_transpose2d_backward(x, w, gy, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1, needs=(True, True, True)):
    """Gradients of :func:`conv_transpose2d_forward`.

    ``gx = conv2d(gy, w)`` (the transposed conv's adjoint is the plain conv), ``gw`` is the
    conv2d weight gradient with the roles of input and output swapped, ``gb = sum gy``.
    """
    x, w, _ = _as_float_arrays(x, w)
    gy = get_array_module(gy).asarray(gy).astype(x.dtype, copy=False)
    stride, padding, dilation = check_conv_args(
        x.shape, w.shape, None, stride, padding, dilation, groups, transposed=True,
        output_padding=output_padding)
    K = _kernels(x)              # written once: this module on the CPU, the mirror on GPU
    gx = gw = gb = None
    if _tiled_transpose(x, w, stride, padding, dilation, _pair(output_padding), groups):
        gx, gw = _conv_transpose_tiled_backward(x, w, gy, needs)
    elif needs[0]:
        gx = K.conv2d_forward(gy, w, None, stride, padding, dilation, groups, algo="im2col")
    if needs[1] and gw is None:
        # y = conv_transpose(x, w)  <=>  x = conv2d(y, w) is its adjoint, so
        # d<gy, convT(x, w)>/dw = d<x, conv2d(gy, w)>/dw: conv2d's weight gradient
        _, gw, _ = K.conv2d_backward(gy, w, x, stride, padding, dilation, groups,
                                     algo="im2col", needs=(False, True, False))
    if needs[2]:
        gb = gy.sum(axis=(0, 2, 3))
    return gx, gw, gb


def _tiled_transpose(x, w, stride, padding, dilation, output_padding, groups):
    """Whether a transposed conv is 1x1 conv + depth-to-space (``cpu/planes.py``): a NumPy
    float32/float64 input, kernel == stride, no padding, dilation, output padding or
    groups (U-Net's up-sampling, ConvTranspose2d(C, K, 2, stride=2))."""
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.size > 0
            and groups == 1 and tuple(stride) == tuple(w.shape[2:])
            and tuple(padding) == (0, 0) and tuple(dilation) == (1, 1)
            and tuple(output_padding) == (0, 0))


def _conv_transpose_tiled(x, w, b):
    """y = interleave(W^T x) + b: each input pixel makes one kh x kw output tile, so the
    transposed conv is the 1x1 conv to K*kh*kw channels (one GEMM per sample on minicv's
    threads) followed by a depth-to-space copy; col2im's zero fill and adds go.
    x (N, C, H, W), w (C, K, kh, kw) -> (N, K, H*kh, W*kw)."""
    from .cpu import planes
    c, k, kh, kw = w.shape
    wt = np.ascontiguousarray(w.reshape(c, k * kh * kw).T)  # (K*kh*kw, C)
    cols = _conv1x1(x, wt.reshape(k * kh * kw, c, 1, 1), None)  # (N, K*kh*kw, H, W)
    bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
    return planes.tiles_to_planes(cols, kh, kw, bias)


def _conv_transpose_tiled_backward(x, w, gy, needs):
    """(gx, gw) of :func:`_conv_transpose_tiled`: dY de-interleaved to (N, K*kh*kw, H, W),
    then the 1x1 conv's backward with the (K*kh*kw, C) weight."""
    from .cpu import planes
    c, k, kh, kw = w.shape
    wt = np.ascontiguousarray(w.reshape(c, k * kh * kw).T)  # (K*kh*kw, C)
    g = planes.planes_to_tiles(gy, kh, kw)                   # (N, K*kh*kw, H, W)
    gx, gwt = _conv1x1_backward(x, wt.reshape(k * kh * kw, c, 1, 1), g, needs)
    gw = None if gwt is None else np.ascontiguousarray(gwt.reshape(k * kh * kw, c).T)
    return gx, None if gw is None else gw.reshape(w.shape)


# ============================================================================ conv1d / conv3d

def conv1d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, algo="auto"):
    """1-D convolution as a 2-D one with H = 1: x (N, C, L), w (K, C/G, k) -> (N, K, OL).

    Written once for both backends: the 2-D call goes to the module serving ``x``."""
    (s,), (p,), (d,) = _nd_args(x, w, b, stride, padding, dilation, groups, 1)
    xp = get_array_module(x, w)
    x, w = xp.asarray(x), xp.asarray(w)
    y = _kernels(x).conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, (1, s), (0, p),
                                   (1, d), groups, algo)
    return y[:, :, 0, :]


def conv1d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1, algo="auto",
                    needs=(True, True, True)):
    (s,), (p,), (d,) = _nd_args(x, w, None, stride, padding, dilation, groups, 1)
    xp = get_array_module(x, w, gy)
    x, w, gy = xp.asarray(x), xp.asarray(w), xp.asarray(gy)
    gx, gw, gb = _kernels(x).conv2d_backward(x[:, :, None, :], w[:, :, None, :],
                                             gy[:, :, None, :], (1, s), (0, p), (1, d),
                                             groups, algo, needs)
    return (None if gx is None else gx[:, :, 0]), (None if gw is None else gw[:, :, 0]), gb


def _nd_args(x, w, b, stride, padding, dilation, groups, nd):
    xp = get_array_module(x, w)
    x, w = xp.asarray(x), xp.asarray(w)
    _check_float(x, w)
    return check_conv_args(x.shape, w.shape, None if b is None else tuple(b.shape), stride,
                           padding, dilation, groups, nd=nd)


def conv3d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution by vol2col + GEMM (reference-style NumPy; correctness first).

    x (N, C, D, H, W), w (K, C/G, kd, kh, kw) -> (N, K, OD, OH, OW).
    """
    s, p, d = _nd_args(x, w, b, stride, padding, dilation, groups, 3)
    x, w, b = _as_float_arrays(x, w, b)
    n, c = x.shape[:2]
    k, cg = w.shape[:2]
    ks = w.shape[2:]
    out = [conv_output_size(x.shape[2 + a], ks[a], s[a], p[a], d[a]) for a in range(3)]
    cols = ref.vol2col(x, ks, s, p, d)  # (N, C*kd*kh*kw, OD*OH*OW)
    cols = cols.reshape(n, groups, cols.shape[1] // groups, cols.shape[-1])  # (N,G,CKKK/G,P)
    wm = w.reshape(groups, k // groups, -1)  # (G, K/G, CKKK/G)
    y = np.matmul(wm[None], cols).reshape(n, k, *out)  # (N, K, OD, OH, OW)
    if b is not None:
        y += b.reshape(1, k, 1, 1, 1)
    return y


def conv3d_backward(x, w, gy, stride=1, padding=0, dilation=1, groups=1,
                    needs=(True, True, True)):
    s, p, d = _nd_args(x, w, None, stride, padding, dilation, groups, 3)
    x, w, _ = _as_float_arrays(x, w)
    gy = np.asarray(gy).astype(x.dtype, copy=False)
    n, c = x.shape[:2]
    k = w.shape[0]
    ks = w.shape[2:]
    q = int(np.prod(gy.shape[2:]))
    gy_g = gy.reshape(n, groups, k // groups, q)  # (N, G, K/G, P)
    wm = w.reshape(groups, k // groups, -1)  # (G, K/G, CKKK/G)
    gx = gw = gb = None
    if needs[0]:
        dcols = np.matmul(wm.transpose(0, 2, 1)[None], gy_g)  # (N, G, CKKK/G, P)
        gx = ref.col2vol(dcols.reshape(n, c * math.prod(ks), q), x.shape, ks, s, p, d)
    if needs[1]:
        cols = ref.vol2col(x, ks, s, p, d).reshape(n, groups, c // groups * math.prod(ks),
                                                   q)  # (N, G, CKKK/G, P)
        gw = np.einsum("ngkp,ngrp->gkr", gy_g, cols).reshape(w.shape)
    if needs[2]:
        gb = gy.sum(axis=(0, 2, 3, 4))
    return gx, gw, gb


def conv_transpose3d_forward(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """Transposed 3-D convolution: x (N, Cin, D, H, W), w (Cin, Cout/G, kd, kh, kw) ->
    (N, Cout, OD, OH, OW), O = (L - 1)*s - 2p + d*(k - 1) + output_padding + 1 per axis.

    It is conv3d's input gradient with x in the role of dy, so conv3d_backward computes it;
    that needs only the shape of conv3d's input (the output here), given as a broadcast
    zero. Written once for both backends (the module serving ``x`` does the work)."""
    x, w, b = _as_float_arrays(x, w, b)
    s, p, d = check_conv_args(x.shape, w.shape, None if b is None else b.shape, stride,
                              padding, dilation, groups, nd=3, transposed=True,
                              output_padding=output_padding)
    op = (output_padding,) * 3 if isinstance(output_padding, int) else tuple(output_padding)
    cout = w.shape[1] * groups
    out = [conv_transpose2d_output_size(x.shape[2 + a], w.shape[2 + a], s[a], p[a], d[a],
                                        op[a]) for a in range(3)]
    if min(out) < 1:
        raise ValueError(f"conv_transpose3d: output size {tuple(out)} is too small for "
                         f"input{_shape_str(x.shape)} and padding {p}")
    xp = get_array_module(x)
    y_shape = xp.broadcast_to(xp.zeros((), x.dtype), (x.shape[0], cout, *out))
    y, _, _ = _kernels(x).conv3d_backward(y_shape, w, x, s, p, d, groups,
                                          needs=(True, False, False))
    if b is not None:
        y += b.reshape(1, cout, 1, 1, 1)
    return y


def conv_transpose3d_backward(x, w, gy, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1, needs=(True, True, True)):
    """Gradients of :func:`conv_transpose3d_forward`: gx = conv3d(gy, w), gw = conv3d's
    weight gradient with input and output swapped, gb = sum gy (as in 2-D)."""
    x, w, _ = _as_float_arrays(x, w)
    gy = get_array_module(gy).asarray(gy).astype(x.dtype, copy=False)
    K = _kernels(x)
    gx = gw = gb = None
    if needs[0]:
        gx = K.conv3d_forward(gy, w, None, stride, padding, dilation, groups)
    if needs[1]:
        _, gw, _ = K.conv3d_backward(gy, w, x, stride, padding, dilation, groups,
                                     needs=(False, True, False))
    if needs[2]:
        gb = gy.sum(axis=(0, 2, 3, 4))
    return gx, gw, gb


# ============================================================================ unfold / fold

def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's ``F.unfold``: (N, C, H, W) -> (N, C*kh*kw, L), L = OH*OW (im2col)."""
    x = np.asarray(x)
    kh, kw = unfold_checks(x.shape, kernel_size, dilation, padding)
    return _im.im2col(x, kh, kw, stride, padding, dilation)


def unfold_checks(x_shape, kernel_size, dilation, padding):
    """F.unfold's checks on the input's shape (shared with the GPU's ``unfold``): a 4-D
    input and a window within the padded input; returns (kh, kw)."""
    if len(x_shape) != 4:
        raise ValueError(f"unfold expects a 4-D input (N, C, H, W), got shape "
                         f"{tuple(x_shape)}")
    kh, kw = _pair(kernel_size)
    _pool_window_check("unfold", x_shape, (kh, kw), _pair(padding), _pair(dilation))
    return kh, kw


def unfold_backward(gy, x_shape, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = _pair(kernel_size)
    return _im.col2im(np.ascontiguousarray(gy), x_shape, kh, kw, stride, padding, dilation)


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's ``F.fold``: (N, C*kh*kw, L) -> (N, C, *output_size), summing overlaps."""
    cols = np.asarray(cols)
    kh, kw, oh, ow = fold_checks(cols.shape, output_size, kernel_size, dilation, padding,
                                 stride)
    c = cols.shape[1] // (kh * kw)
    return _im.col2im(cols, (cols.shape[0], c, oh, ow), kh, kw, stride, padding, dilation)


def fold_checks(cols_shape, output_size, kernel_size, dilation, padding, stride):
    """F.fold's checks on the columns' shape (shared with the GPU's ``fold``, whose col2im
    kernel would read past columns with too few blocks): (N, C*kh*kw, L) with L the number
    of windows in ``output_size``; returns (kh, kw, oh, ow)."""
    kh, kw = _pair(kernel_size)
    oh, ow = _pair(output_size)
    if len(cols_shape) != 3 or cols_shape[1] % (kh * kw):
        raise ValueError(f"fold expects (N, C*kh*kw, L) with C*kh*kw divisible by "
                         f"kh*kw={kh * kw}, got shape {tuple(cols_shape)}")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    L = conv_output_size(oh, kh, sh, ph, dh) * conv_output_size(ow, kw, sw, pw, dw)
    if cols_shape[2] != L:
        raise ValueError(f"fold: expected L={L} blocks for output_size {(oh, ow)}, kernel "
                         f"{(kh, kw)}, stride {(sh, sw)}, padding {(ph, pw)}, dilation "
                         f"{(dh, dw)}, but input has shape {tuple(cols_shape)}")
    return kh, kw, oh, ow


def fold_backward(gy, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = _pair(kernel_size)
    return _im.im2col(gy, kh, kw, stride, padding, dilation)

