"""Host-side index tables for the GPU kernels: pure NumPy, importable without CuPy (so the
CPU test suite checks them against the reference passes).

Separable resampling (nearest, bilinear, bicubic, adaptive average pooling) is one linear
map per axis. ``csrc/resample.cu``'s ``separable`` kernel applies two of them, given as
CSR lists ``(ptr, src, weight)``: for destination index i along an axis, the entries
``ptr[i]:ptr[i + 1]`` name the source indices and their weights. The forward pass uses
the lists of :func:`gathers` or :func:`bins`, the backward pass their transpose,
:func:`invert`.
"""
import numpy as np


def gathers(sources, weights, dtype):
    """CSR lists of a resampling with a fixed number of taps: ``sources``/``weights`` are
    lists of per-output arrays, one pair per tap (one for nearest, two for bilinear, four
    for bicubic). The entries of one output come in tap order."""
    taps, out_size = len(sources), len(sources[0])
    src = np.stack([np.asarray(s, dtype=np.int64) for s in sources], axis=1).reshape(-1)
    wt = np.stack([np.broadcast_to(np.asarray(w, dtype=dtype), (out_size,))
                   for w in weights], axis=1).reshape(-1)
    ptr = np.arange(0, taps * out_size + 1, taps, dtype=np.int32)
    return ptr, src.astype(np.int32), np.ascontiguousarray(wt, dtype=dtype)


def bins(start, end, dtype):
    """CSR lists of adaptive average pooling along one axis: output i averages the inputs
    ``start[i]:end[i]`` (PyTorch's bins, possibly overlapping), each with weight 1/length."""
    lengths = (np.asarray(end) - np.asarray(start)).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    src = np.concatenate([np.arange(s, e) for s, e in zip(start, end)]).astype(np.int32)
    wt = np.repeat(1.0 / lengths, lengths).astype(dtype)
    return ptr, src, wt


def invert(in_size, lists):
    """The transpose of CSR ``lists`` (the backward pass's lists): for each source index,
    the destinations that read it, sorted by destination index (which fixes the order in
    which the kernel sums them)."""
    ptr, src, wt = lists
    dst = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    order = np.lexsort((dst, src))                 # by source index, then destination
    counts = np.bincount(src, minlength=in_size)
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return new_ptr, dst[order].astype(np.int32), np.ascontiguousarray(wt[order])


def separable_host(x, out_hw, rows, cols):
    """NumPy model of the ``separable`` CUDA kernel (same loops, same order), used by the
    CPU tests to check the tables; far too slow for real use."""
    n, c = x.shape[:2]
    (rp, rs, rw), (cptr, cs, cw) = rows, cols
    y = np.zeros((n, c) + tuple(out_hw), dtype=x.dtype)
    for r in range(out_hw[0]):
        for col in range(out_hw[1]):
            acc = np.zeros((n, c), dtype=x.dtype)
            for k in range(rp[r], rp[r + 1]):
                inner = np.zeros((n, c), dtype=x.dtype)
                for l in range(cptr[col], cptr[col + 1]):
                    inner += cw[l] * x[:, :, rs[k], cs[l]]
                acc += rw[k] * inner
            y[:, :, r, col] = acc
    return y

