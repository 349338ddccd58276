"""Host-side index tables for the GPU kernels: pure NumPy, importable without CuPy (so the
CPU test suite checks them against the reference backward passes).
"""
import numpy as np


def contributions(in_size, sources, weights, dtype):
    """CSR lists inverting a 1-D resampling: for each input index, the outputs that read it.

    ``sources``/``weights`` are lists of per-output arrays: one pair for nearest
    (source index, weight 1), two for bilinear ((i0, l0) and (i1, l1)). Returns
    ``(ptr, out_index, weight)`` with ``ptr`` of length in_size + 1 (int32 NumPy arrays and
    a ``dtype`` weight array); the entries of one input are sorted by output index, which
    fixes the order in which the backward kernel sums them.

    The backward of a separable resampling is then, for input pixel (r, c)::

        gx[r, c] = sum_{k in row r} a[k] * sum_{l in col c} b[l] * gy[out_row[k], out_col[l]]
    """
    out_size = len(sources[0])
    src = np.concatenate([np.asarray(s, dtype=np.int64) for s in sources])
    dst = np.tile(np.arange(out_size), len(sources))
    wt = np.concatenate([np.asarray(w, dtype=dtype) for w in weights])
    order = np.lexsort((dst, src))                 # by input index, then by output index
    counts = np.bincount(src, minlength=in_size)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return ptr, dst[order].astype(np.int32), np.ascontiguousarray(wt[order], dtype=dtype)


def separable_backward_host(gy, x_shape, rows, cols):
    """NumPy model of the ``separable_bwd`` CUDA kernel (same loops, same order), used by the
    CPU tests to check the tables; far too slow for real use."""
    n, c, h, w = x_shape
    (rp, rs, rw), (cptr, cs, cw) = rows, cols
    gx = np.zeros(tuple(x_shape), dtype=gy.dtype)
    for r in range(h):
        for col in range(w):
            acc = np.zeros((n, c), dtype=gy.dtype)
            for k in range(rp[r], rp[r + 1]):
                inner = np.zeros((n, c), dtype=gy.dtype)
                for l in range(cptr[col], cptr[col + 1]):
                    inner += cw[l] * gy[:, :, rs[k], cs[l]]
                acc += rw[k] * inner
            gx[:, :, r, col] = acc
    return gx
