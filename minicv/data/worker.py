"""What runs inside a DataLoader worker process, and how batches travel back.

Life of a worker (one process per ``worker_id``, started with forkserver or spawn):

1. Limit itself to one BLAS/Numba thread, so W workers never oversubscribe the cores.
2. Seed NumPy's global generator, Python's ``random`` and minicv's generator with
   ``seed = f(base_seed, worker_id)`` (a ``numpy.random.SeedSequence`` hash). The loader
   draws a new ``base_seed`` every epoch, so random numbers differ across workers and
   epochs, and repeat when the run is seeded (``mc.manual_seed`` or ``DataLoader(seed=)``).
3. Unpickle the dataset, collate_fn and worker_init_fn, set :func:`get_worker_info`, call
   ``worker_init_fn(worker_id)``.
4. Loop: take a task ``(epoch, batch_number, indices)`` from its own index queue, fetch
   the samples, collate them, and write the batch's arrays into a shared-memory segment
   (:class:`SegmentRing`). Only a small description (segment name, offsets, shapes,
   dtypes, the non-array leaves) is pickled through the result queue; the parent copies
   the arrays out once and returns the segment for reuse with the next task. An
   exception is sent back with its traceback and the failing sample index.
5. Exit on ``None``, or when the parent process has died (checked every second), so an
   orphaned worker never lingers.
"""
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

from ..tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_ALIGN = 64                 # byte alignment of every array inside a segment
_PARENT_POLL_S = 1.0        # how often an idle worker checks that its parent lives


class WorkerInfo:
    """Facts a dataset can read inside a worker: ``id``, ``num_workers``, ``seed`` (this
    worker's seed for this epoch) and ``dataset`` (this worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, "
                f"seed={self.seed})")


_worker_info = None


def get_worker_info():
    """This worker's :class:`WorkerInfo`, or ``None`` in the main process.

    Use it in an :class:`~minicv.data.IterableDataset` to give each worker its own part::

        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
    """
    return _worker_info


def worker_seed(base_seed, worker_id):
    """The seed of ``worker_id`` for an epoch whose loader drew ``base_seed``: a
    SeedSequence hash, so nearby base seeds and worker ids give unrelated streams."""
    state = np.random.SeedSequence([int(base_seed), int(worker_id)]).generate_state(
        2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])          # < 2**63


def seed_worker(seed):
    """Seed minicv's, NumPy's global and Python's generators from one integer."""
    from .. import backend
    backend.manual_seed(seed)          # minicv's Generator, np.random and random
    np.random.seed(seed % 2**32)
    random.seed(seed)


def limit_threads():
    """One thread for BLAS, OpenMP and Numba in this process.

    Numba's thread pool is not launched here (launching it costs time and, in a
    forkserver child, a semaphore that outlives the worker); instead its configured
    count is lowered to 1, which is what a later parallel kernel will start with.
    """
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        from .. import backend
        backend._blas_set_threads(1)
        backend._num_threads = 1
    except Exception:               # a missing BLAS symbol must not kill a worker
        pass
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            from numba.np.ufunc import parallel
            if getattr(parallel, "_is_initialized", False):
                numba.set_num_threads(1)
            else:
                numba.config.NUMBA_NUM_THREADS = 1
        except Exception:
            pass


# ----------------------------------------------------------------------------- shared memory

class _ArrayRef:
    """Placeholder for an array that travels in the segment: where it is and what it was."""
    __slots__ = ("offset", "shape", "dtype", "is_tensor")

    def __init__(self, offset, shape, dtype, is_tensor):
        self.offset, self.shape, self.dtype, self.is_tensor = offset, shape, dtype, is_tensor

    def __getstate__(self):
        return (self.offset, self.shape, self.dtype, self.is_tensor)

    def __setstate__(self, state):
        self.offset, self.shape, self.dtype, self.is_tensor = state


def _split(obj, arrays):
    """Replace every array / Tensor in ``obj`` by an _ArrayRef; collect the arrays."""
    if isinstance(obj, Tensor) or (isinstance(obj, np.ndarray) and obj.dtype.kind not in "OV"):
        arr = obj.data if isinstance(obj, Tensor) else obj
        arrays.append(arr)
        return _ArrayRef(len(arrays) - 1, arr.shape, arr.dtype.str, isinstance(obj, Tensor))
    if isinstance(obj, dict):
        return {k: _split(v, arrays) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_split(v, arrays) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_split(v, arrays) for v in obj)
    return obj


class SegmentRing:
    """The worker's shared-memory segments, reused batch after batch.

    Creating a segment per batch costs system calls and page faults on both sides; a
    loader's batches have (nearly) the same size, so each worker keeps a few segments:
    it writes a batch into a free one, the parent copies the batch out and hands the
    segment back with the worker's next task. A segment that became too small is
    *retired*: the worker forgets it and the parent unlinks it.
    """

    def __init__(self, prefix, worker_id):
        self.prefix, self.worker_id = prefix, worker_id
        self.free = {}                     # name -> SharedMemory, usable now
        self.busy = {}                     # name -> SharedMemory, the parent is reading
        self.counter = 0

    def release(self, names):
        for name in names:
            shm = self.busy.pop(name, None)
            if shm is not None:
                self.free[name] = shm

    def acquire(self, nbytes):
        """(segment, names the parent should unlink)."""
        from multiprocessing import shared_memory
        retired = []
        for name, shm in list(self.free.items()):
            if shm.size >= nbytes:
                del self.free[name]
                self.busy[name] = shm
                return shm, retired
            shm.close()                    # too small: retire it
            del self.free[name]
            retired.append(name)
        self.counter += 1
        name = f"{self.prefix}_{self.worker_id}_{self.counter}"
        size = -(-nbytes * 9 // 8 // 4096) * 4096          # 1/8 headroom, whole pages
        shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        self.busy[name] = shm
        return shm, retired

    def close(self):
        for shm in list(self.free.values()) + list(self.busy.values()):
            shm.close()
        self.free.clear()
        self.busy.clear()


def pack(batch, ring):
    """Write the arrays of ``batch`` into a segment of ``ring``.

    Returns ``(skeleton, segment_name_or_None, nbytes, retired_names)``; the skeleton is
    ``batch`` with every array replaced by a reference (byte offset, shape, dtype).
    """
    arrays = []
    skeleton = _split(batch, arrays)
    offsets, total = [], 0
    for a in arrays:
        offsets.append(total)
        total += -(-a.nbytes // _ALIGN) * _ALIGN
    _set_offsets(skeleton, offsets)
    if total == 0:
        return skeleton, None, 0, []
    shm, retired = ring.acquire(total)
    for a, off in zip(arrays, offsets):
        dst = np.ndarray(a.shape, a.dtype, buffer=shm.buf, offset=off)
        dst[...] = a
        del dst
    return skeleton, shm.name.lstrip("/"), total, retired


def _set_offsets(obj, offsets):
    if isinstance(obj, _ArrayRef):
        obj.offset = offsets[obj.offset]
    elif isinstance(obj, dict):
        for v in obj.values():
            _set_offsets(v, offsets)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _set_offsets(v, offsets)


class SegmentReader:
    """The parent's side: segments stay mapped while the pool lives (``mapped``)."""

    def __init__(self):
        self.mapped = {}

    def unpack(self, skeleton, name, nbytes):
        """Copy the batch out of segment ``name`` (one memcpy) and rebuild it; every
        array of the batch is a view into that private block."""
        if name is None:
            return _join(skeleton, None)
        shm = self.mapped.get(name)
        if shm is None:
            from multiprocessing import shared_memory
            shm = self.mapped[name] = shared_memory.SharedMemory(name=name)
        block = np.empty(nbytes, np.uint8)
        block[:] = np.ndarray((nbytes,), np.uint8, buffer=shm.buf)
        return _join(skeleton, block)

    def drop(self, names):
        """Unmap and unlink segments the worker no longer uses."""
        for name in names:
            shm = self.mapped.pop(name, None)
            if shm is not None:
                shm.close()
            unlink_quietly(name)

    def close(self):
        for shm in self.mapped.values():
            shm.close()
        self.mapped.clear()


def _join(obj, block):
    if isinstance(obj, _ArrayRef):
        dtype = np.dtype(obj.dtype)
        count = int(np.prod(obj.shape, dtype=np.int64))
        arr = np.frombuffer(block, dtype, count=count, offset=obj.offset).reshape(obj.shape) \
            if count else np.empty(obj.shape, dtype)
        return Tensor(arr) if obj.is_tensor else arr
    if isinstance(obj, dict):
        return {k: _join(v, block) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_join(v, block) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_join(v, block) for v in obj)
    return obj


def unlink_quietly(name):
    """Remove a segment if it still exists (used when discarding unread batches)."""
    from multiprocessing import shared_memory
    try:
        shm = shared_memory.SharedMemory(name=name)
    except (FileNotFoundError, OSError, ValueError):
        return
    shm.close()
    try:
        shm.unlink()
    except FileNotFoundError:
        pass


# ----------------------------------------------------------------------------- the loop

def _error_payload(exc, index, worker_id):
    try:
        exc_type = pickle.loads(pickle.dumps(type(exc)))
    except Exception:
        exc_type = None
    return {"type": exc_type, "type_name": type(exc).__name__, "message": str(exc),
            "traceback": "".join(traceback.format_exception(type(exc), exc,
                                                            exc.__traceback__)),
            "index": index, "worker_id": worker_id}


def _fetch_map(dataset, indices, auto_collation, collate_fn, where):
    if auto_collation:
        samples = []
        for i in indices:
            where[0] = i
            samples.append(dataset[i])
        where[0] = list(indices)
        return collate_fn(samples)
    where[0] = indices
    return collate_fn(dataset[indices])


def _fetch_iter(iterator, batch_size, drop_last, auto_collation, collate_fn, where):
    where[0] = None
    if not auto_collation:
        return collate_fn(next(iterator))
    samples = []
    for sample in iterator:
        samples.append(sample)
        if len(samples) == batch_size:
            break
    if not samples or (drop_last and len(samples) < batch_size):
        raise StopIteration
    return collate_fn(samples)


def worker_loop(payload, index_queue, result_queue, worker_id, num_workers, base_seed,
                is_iterable, auto_collation, batch_size, drop_last, shm_prefix):
    """Entry point of a worker process (see the module docstring)."""
    global _worker_info
    import multiprocessing
    limit_threads()
    parent = multiprocessing.parent_process()
    try:
        dataset, collate_fn, worker_init_fn = pickle.loads(payload)
        del payload
        seed = worker_seed(base_seed, worker_id)
        seed_worker(seed)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        iterator = iter(dataset) if is_iterable else None
    except Exception as exc:                   # reported by the parent as fatal
        result_queue.put((-1, -1, worker_id, "fatal", _error_payload(exc, None, worker_id)))
        return
    ring = SegmentRing(shm_prefix, worker_id)
    exhausted = False
    while True:
        try:
            msg = index_queue.get(timeout=_PARENT_POLL_S)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            continue
        if msg is None:
            break
        if msg[0] == "seed":                    # a new epoch of a persistent worker
            _, epoch, base_seed = msg
            seed = worker_seed(base_seed, worker_id)
            seed_worker(seed)
            _worker_info.seed = seed
            if is_iterable:
                try:
                    iterator = iter(dataset)
                    exhausted = False
                except Exception as exc:
                    result_queue.put((epoch, -1, worker_id, "fatal",
                                      _error_payload(exc, None, worker_id)))
            continue
        _, epoch, send_idx, indices, freed = msg
        ring.release(freed)
        where = [indices]
        if exhausted:
            result_queue.put((epoch, send_idx, worker_id, "end", None))
            continue
        try:
            if is_iterable:
                batch = _fetch_iter(iterator, batch_size, drop_last, auto_collation,
                                    collate_fn, where)
            else:
                batch = _fetch_map(dataset, indices, auto_collation, collate_fn, where)
            packed = pack(batch, ring)
            del batch
        except StopIteration:
            exhausted = True
            result_queue.put((epoch, send_idx, worker_id, "end", None))
            continue
        except Exception as exc:
            result_queue.put((epoch, send_idx, worker_id, "error",
                              _error_payload(exc, where[0], worker_id)))
            continue
        result_queue.put((epoch, send_idx, worker_id, "ok", packed))
    # Told to stop: do not wait for the queue's feeder thread to flush to a parent that
    # may have stopped reading; unread segments are unlinked by the parent.
    ring.close()
    result_queue.cancel_join_thread()
    sys.stdout.flush()
