"""Recycled output buffers for the activations a training step makes again every step.

glibc's malloc serves a block above its (moving, 128 KiB-32 MiB) threshold with a fresh
``mmap`` and gives the pages back when it is freed or when the heap's top grows past its
trim threshold, so the outputs of ReLU, Add and BatchNorm -- megabytes each, kept for the
backward pass and freed at its end -- arrive as untouched pages every step.  On the
dev VM that was 557 page faults a LeNet-5 step (270 of the 300 us of its first ReLU) and
4,000 a ResNet-20 step.

:func:`empty` hands out views of byte buffers kept in a free list per size.  A buffer is
reused only when no array refers to it any more: every view of it, however derived
(reshape, slice, transpose), holds it as its ``.base``, so its reference count says
whether anything still uses it.  Only minicv's own outputs come from here, and only sizes
of :data:`MIN_BYTES` and up (smaller blocks stay in malloc's heap anyway).  The buffers
kept are bounded by :data:`MAX_BYTES` in all: past it, unused buffers of other sizes are
dropped, then outputs come from ``np.empty`` again.  :func:`clear` releases them all.
"""
import sys

import numpy as np

MIN_BYTES = 1 << 17
MAX_BYTES = 1 << 29

_free = {}        # nbytes -> [uint8 buffer, ...]
_kept = [0]       # bytes held by all the lists


def empty(shape, dtype):
    """``np.empty(shape, dtype)``, its memory recycled from an earlier output when one of
    the same size is no longer referenced."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    bufs = _free.setdefault(nbytes, [])
    for buf in bufs:
        # references: the list, ``buf`` and getrefcount's argument -- no array uses it
        if sys.getrefcount(buf) == 3:
            return buf.view(dtype).reshape(shape)
    if _kept[0] + nbytes > MAX_BYTES:
        _drop_unused()
        if _kept[0] + nbytes > MAX_BYTES:
            return np.empty(shape, dtype)
    buf = np.empty(nbytes, np.uint8)
    bufs.append(buf)
    _kept[0] += nbytes
    return buf.view(dtype).reshape(shape)


def _drop_unused():
    """Forget the buffers no array uses now (e.g. of sizes an earlier model needed)."""
    for nbytes, bufs in list(_free.items()):  # (another thread may add a size meanwhile)
        used = [b for b in bufs if sys.getrefcount(b) > 3]  # the list, ``b``, the argument
        _kept[0] -= nbytes * (len(bufs) - len(used))
        bufs[:] = used


def empty_like(a):
    return empty(a.shape, a.dtype)


def clear():
    """Forget every kept buffer (those still in use live on as ordinary arrays)."""
    _free.clear()
    _kept[0] = 0
