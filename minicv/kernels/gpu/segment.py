"""Max and min over runs of equal keys on the GPU (``csrc/segment.cu``): what NumPy's
``maximum.at`` / ``minimum.at`` and ``maximum.reduceat`` / ``minimum.reduceat`` do, for
CuPy arrays. CuPy 14 has no ``reduceat``, and its ``maximum.at`` on float64 rounds what
it writes to float32 (seen on an H200): these kernels are exact and deterministic.
"""
import math

import cupy as cp
import numpy as np

from .module import i32, kernel, launch

_KERNEL_DTYPES = ("float32", "float64", "int64")


def _work_dtype(dtype):
    """The kernel dtype that holds ``dtype`` exactly (max and min commute with the cast)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.dtype(np.float64) if dtype.itemsize == 8 else np.dtype(np.float32)
    if dtype.kind in "biu" and dtype.itemsize < 8 or dtype == np.int64:
        return np.dtype(np.int64)
    raise TypeError(f"GPU max/min over runs: unsupported dtype {dtype}")


def runs_reduce(op, target, keys, values):
    """``target[keys[i]] = op(target[keys[i]], values[i])`` for every i, in place, with
    ``keys`` (M,) sorted ascending (int64 row numbers of target).

    target: C-contiguous (T, ...) of a kernel dtype (float32, float64, int64); values:
    (M, ...) with target's trailing shape. op: "maximum" or "minimum" (a NaN wins).
    """
    m = keys.shape[0]
    d = math.prod(target.shape[1:])
    if m == 0 or d == 0:
        return target
    values = cp.ascontiguousarray(values, dtype=target.dtype)
    fn = kernel("segment", "runs_max" if op == "maximum" else "runs_min", target.dtype,
                _KERNEL_DTYPES)
    launch(fn, m * d, (target, cp.ascontiguousarray(keys, dtype=np.int64), values,
                       *i32(m, d)))
    return target


def scatter_extreme(op, target, index, values):
    """``np.<op>.at(target, index, values)`` for a C-contiguous 1-D ``target``, 1-D
    ``index`` (non-negative positions) and ``values``: the writes are sorted by position,
    then each run is reduced by one thread."""
    work = target if target.dtype == _work_dtype(target.dtype) else \
        target.astype(_work_dtype(target.dtype))
    order = cp.argsort(index)
    runs_reduce(op, work, index[order].astype(np.int64, copy=False), values[order])
    if work is not target:
        target[...] = work.astype(target.dtype)
    return target


def reduceat(op, a, starts):
    """``np.<op>.reduceat(a, starts, axis=0)`` for a CuPy array ``a`` (N, ...) and strictly
    increasing host ``starts`` (K,) in [0, N): row k of the result reduces rows
    starts[k] to starts[k + 1] - 1 (the last: to N - 1)."""
    starts = np.asarray(starts, dtype=np.int64)
    n = a.shape[0]
    if starts.size == 0:
        return cp.empty((0,) + a.shape[1:], a.dtype)
    if starts[0] < 0 or starts[-1] >= n or np.any(np.diff(starts) <= 0):
        raise ValueError(f"reduceat on the GPU needs strictly increasing starts in "
                         f"[0, {n}), got {starts.tolist()}")
    a = a[int(starts[0]):]
    starts = cp.asarray(starts - starts[0])                   # one host-to-device copy
    marks = cp.zeros(a.shape[0], np.int64)
    marks[starts[1:]] = 1
    keys = cp.cumsum(marks)                                   # (N,) run of each row
    out = cp.ascontiguousarray(a[starts], dtype=_work_dtype(a.dtype))  # (K, ...) first rows
    runs_reduce(op, out, keys, a)
    return out.astype(a.dtype, copy=False)
