"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

Single process (``num_workers=0``): the sampler yields index lists, samples are fetched
and collated in the caller's process. Nothing is reseeded.

Worker processes (``num_workers=W > 0``):

* Workers are started with **forkserver** (or **spawn**), never fork: a fork after a
  Numba/OpenMP parallel kernel kills the child, and forking copies locks held by other
  threads. The dataset, collate_fn and worker_init_fn are pickled once, **before** any
  worker starts, so an unpicklable piece (a lambda, a local function) is reported with
  its attribute path and the fix. Under forkserver/spawn the module that defines the
  dataset is imported in each worker: guard scripts with ``if __name__ == "__main__":``.
* The main process hands batch ``k`` (a list of indices) to worker ``k mod W`` (skipping
  finished workers) and keeps ``prefetch_factor`` batches queued per worker. Results come
  back in any order and are handed out in order ``0, 1, 2, ...``.
* Batches travel through shared memory (see :mod:`minicv.data.worker`): each worker
  reuses a few segments, which the main process copies out of once per batch.
* Randomness: each epoch the loader draws ``base_seed`` from its generator (``seed=`` or
  ``generator=``) or minicv's global one, in the main process; worker ``w`` seeds NumPy,
  ``random`` and minicv with a hash of ``(base_seed, w)``. So numbers differ across
  workers and epochs and repeat under ``mc.manual_seed(s)`` (or a reseeded generator).
  Shuffling draws from the same generator, so the order of samples does not depend on
  ``num_workers``.
* Faults never hang: the main process waits in slices of 0.1 s and checks between them
  that every worker is alive; a dead worker (e.g. SIGKILL by the out-of-memory killer)
  raises within a fraction of a second. An exception inside a worker is re-raised in the
  caller with the worker's traceback and the sample index. ``timeout > 0`` bounds the
  wait for one batch.
* Shutdown: when an epoch ends, when the iterator is garbage-collected mid-epoch, on an
  error, and at interpreter exit, workers are told to stop, joined (terminated if they
  do not stop within 2 s), and every unread shared-memory segment is unlinked.
"""
import multiprocessing
import os
import pickle
import queue
import secrets
import signal
import time
import types
import weakref

import numpy as np

from ..backend import as_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from . import worker as _worker

__all__ = ["DataLoader"]

_POLL_S = 0.1               # main-process wait slice between liveness checks
_JOIN_S = 2.0               # how long a stopping worker may take before terminate()


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _context(spec):
    """The multiprocessing context workers start with: forkserver where it exists."""
    if spec is None:
        methods = multiprocessing.get_all_start_methods()
        spec = "forkserver" if "forkserver" in methods else "spawn"
    if isinstance(spec, str):
        if spec == "fork":
            raise ValueError(
                "DataLoader workers cannot use the 'fork' start method: a fork after a "
                "Numba/OpenMP parallel kernel kills the child. Use multiprocessing_context="
                "'forkserver' (the default) or 'spawn'")
        ctx = multiprocessing.get_context(spec)
    else:
        ctx = spec
        if ctx.get_start_method() == "fork":
            raise ValueError("DataLoader workers cannot use a 'fork' multiprocessing "
                             "context; pass 'forkserver' or 'spawn'")
    if ctx.get_start_method() == "forkserver":
        # Import the heavy modules once in the fork server, so forking a worker is cheap.
        # (Has no effect if another part of the program already started the server.)
        ctx.set_forkserver_preload(["minicv.data", "numba"])
    return ctx


def _find_unpicklable(obj, path, depth=0):
    """The deepest ``(path, object, error)`` inside ``obj`` that pickle refuses."""
    try:
        pickle.dumps(obj)
        return None
    except Exception as e:
        err = e
    if depth < 8:
        if isinstance(obj, dict):
            children = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
        elif isinstance(obj, (list, tuple)):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif hasattr(obj, "__dict__") and not isinstance(
                obj, (type, types.FunctionType, types.ModuleType)):
            children = [(f"{path}.{k}", v) for k, v in vars(obj).items()]
        else:
            children = []
        for child_path, child in children:
            found = _find_unpicklable(child, child_path, depth + 1)
            if found is not None:
                return found
    return path, obj, err


def _pickle_for_workers(dataset, collate_fn, worker_init_fn, num_workers):
    """Pickle what every worker needs, once; explain what to fix if that fails."""
    from multiprocessing.reduction import ForkingPickler
    try:
        return bytes(ForkingPickler.dumps((dataset, collate_fn, worker_init_fn)))
    except Exception:
        pass
    for name, obj in (("dataset", dataset), ("collate_fn", collate_fn),
                      ("worker_init_fn", worker_init_fn)):
        found = _find_unpicklable(obj, name)
        if found is None:
            continue
        path, culprit, err = found
        what = getattr(culprit, "__qualname__", type(culprit).__name__)
        raise TypeError(
            f"DataLoader(num_workers={num_workers}) must send the {name} to worker "
            f"processes by pickling, but {path} ({type(culprit).__name__} {what!r}) cannot "
            f"be pickled: {err}. Fix: define it at module level (a `def` or class at the "
            f"top of a module, not a lambda or a function nested inside another function), "
            f"or use num_workers=0") from None
    raise TypeError(f"DataLoader(num_workers={num_workers}) cannot pickle the dataset for "
                    f"its workers; use module-level classes and functions, or "
                    f"num_workers=0")


class DataLoader:
    """Iterate over a dataset in batches, optionally shuffled, optionally in parallel.

    Args (PyTorch's names and defaults):
        dataset: a map-style :class:`~minicv.data.Dataset` or an
            :class:`~minicv.data.IterableDataset`.
        batch_size: samples per batch; ``None`` yields single samples, uncollated
            except that arrays become tensors.
        shuffle: reshuffle the indices every epoch (a :class:`RandomSampler`).
        sampler: where the indices come from (excludes ``shuffle``).
        batch_sampler: yields index lists (excludes batch_size, shuffle, sampler, drop_last).
        num_workers: worker processes; 0 loads in the calling process.
        collate_fn: list of samples -> batch (default :func:`default_collate`).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for one batch from the workers before raising (0: no
            limit, but a dead worker is still detected).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after
            seeding; must be picklable (a module-level function).
        pin_memory, pin_memory_device: accepted for PyTorch compatibility and ignored:
            batches are ordinary host arrays (PyTorch also ignores them without a GPU).
        prefetch_factor: batches queued per worker (default 2; only with workers).
        in_order: accepted; batches always come in sampler order.
        persistent_workers: keep the workers alive between epochs (they are reseeded
            each epoch).
        seed: seed of this loader's own generator, which shuffles and draws the workers'
            base seeds; ``None`` uses minicv's global generator (``mc.manual_seed``).
        generator: PyTorch's way to say the same: a ``minicv.Generator`` (or a
            ``numpy.random.Generator``) that shuffles and gives one base seed per epoch,
            drawn in this process when iteration starts. Give ``seed`` or ``generator``,
            not both.
        multiprocessing_context: ``"forkserver"`` (default where available) or
            ``"spawn"``, or a context object; ``"fork"`` is refused.

    Example::

        loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True,
                            num_workers=2, seed=0)
        for xb, yb in loader:       # xb: Tensor (128, ...), yb: Tensor (128,)
            ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None,
                 batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
                 drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True, seed=None):
        self.dataset = dataset
        self._is_iterable = isinstance(dataset, IterableDataset)
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got "
                             f"{num_workers!r}")
        if batch_size is not None and (not _is_int(batch_size) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer or None, got "
                             f"{batch_size!r}")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"timeout must be a non-negative number of seconds, got "
                             f"{timeout!r}")
        if prefetch_factor is not None and num_workers == 0:
            raise ValueError("prefetch_factor can only be given with num_workers > 0 (it "
                             "counts batches queued per worker process); leave it None")
        prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
        if not _is_int(prefetch_factor) or prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be a positive integer, got "
                             f"{prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers=True needs num_workers > 0")
        if seed is not None and not _is_int(seed):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader got both seed= and generator=: give one (seed=s "
                             "is the same as generator=mc.Generator().manual_seed(s))")
        if not self._is_iterable and not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a Dataset (with __getitem__ and __len__) or "
                            f"an IterableDataset, got {type(dataset).__name__}")
        if not self._is_iterable and len(dataset) == 0:
            raise ValueError(
                f"DataLoader got an empty dataset: {_describe(dataset)} has length 0. "
                f"Check the path, the file filter or the split that built it")
        if self._is_iterable and (shuffle or sampler is not None or
                                  batch_sampler is not None):
            raise ValueError(f"an IterableDataset ({type(dataset).__name__}) decides its "
                             f"own order: shuffle, sampler and batch_sampler must be unset")
        if sampler is not None and shuffle:
            raise ValueError("sampler and shuffle=True are mutually exclusive; shuffle "
                             "inside the sampler (e.g. RandomSampler)")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler is mutually exclusive with batch_size, shuffle, "
                             "sampler and drop_last")
        self.num_workers = int(num_workers)
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = int(prefetch_factor)
        self.persistent_workers = bool(persistent_workers)
        self.seed = seed
        self.generator = generator
        self.drop_last = bool(drop_last)
        # the NumPy generator that shuffles and draws base seeds; None: the global one
        self._generator = np.random.default_rng(int(seed)) if seed is not None \
            else as_generator(generator)
        self.multiprocessing_context = multiprocessing_context
        if self._is_iterable:
            self.sampler = None
            self.batch_sampler = None
            self.batch_size = batch_size
        else:
            if batch_sampler is not None:
                batch_size = None
            elif sampler is None:
                sampler = RandomSampler(dataset, generator=self._generator) if shuffle \
                    else SequentialSampler(dataset)
            if batch_sampler is None and batch_size is not None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
            self.sampler = sampler
            self.batch_sampler = batch_sampler
            self.batch_size = batch_size
        self._auto_collation = batch_sampler is not None or \
            (self._is_iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._pool = None                # the persistent workers, if any
        self._mp_ctx = None

    # ------------------------------------------------------------------ helpers
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _draw_base_seed(self):
        from .. import backend
        rng = self._generator if self._generator is not None else backend.get_rng()
        return int(rng.integers(0, 2**63 - 1))

    def __len__(self):
        if self._is_iterable:
            n = len(self.dataset)          # TypeError if the dataset has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler())

    def __iter__(self):
        base_seed = self._draw_base_seed()
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._pool is None or self._pool.closed:
                self._pool = _WorkerPool(self, base_seed)
            else:
                self._pool.reseed(base_seed)
            return _MultiProcessIter(self, self._pool, owns_pool=False)
        return _MultiProcessIter(self, _WorkerPool(self, base_seed), owns_pool=True)

    def __repr__(self):
        return (f"DataLoader({_describe(self.dataset)}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers})")


def _describe(dataset):
    r = repr(dataset)
    if r.startswith("<") or len(r) > 200:
        r = type(dataset).__name__
    return r


# ----------------------------------------------------------------------------- one process

class _SingleProcessIter:
    def __init__(self, loader):
        self.loader = loader
        if loader._is_iterable:
            self._it = iter(loader.dataset)
        else:
            self._it = iter(loader._index_sampler())

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.loader)

    def __next__(self):
        ld = self.loader
        if ld._is_iterable:
            if not ld._auto_collation:
                return ld.collate_fn(next(self._it))
            samples = []
            for s in self._it:
                samples.append(s)
                if len(samples) == ld.batch_size:
                    break
            if not samples or (ld.drop_last and len(samples) < ld.batch_size):
                raise StopIteration
            return ld.collate_fn(samples)
        idx = next(self._it)
        if ld._auto_collation:
            return ld.collate_fn([ld.dataset[i] for i in idx])
        return ld.collate_fn(ld.dataset[idx])


# ----------------------------------------------------------------------------- workers

def _shutdown_pool(processes, index_queues, result_queue, prefix, state, reader):
    """Stop workers, reap them, unlink every segment they made. Safe to call twice.

    After an error (``state["fast"]``) busy workers are not waited for: they are
    terminated at once, so a fault or a timeout is reported without delay.
    """
    if state["closed"]:
        return
    state["closed"] = True
    for q in index_queues:
        try:
            q.put(None)
        except Exception:
            pass
    deadline = time.monotonic() + (0.1 if state.get("fast") else _JOIN_S)
    for p in processes:
        if p._popen is None:        # never started
            continue
        p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        if p._popen is not None and p.is_alive():
            p.terminate()
            p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join()
    # Batches that were produced but never read: unlink their segments.
    while True:
        try:
            msg = result_queue.get(timeout=0.01)
        except (queue.Empty, EOFError, OSError, ValueError):
            break
        if msg[3] == "ok":
            reader.drop(msg[4][3])
    # A worker killed between creating a segment and reporting it leaves one behind;
    # segment names start with the pool's prefix, so find them in /dev/shm (Linux).
    try:
        leftovers = [n for n in os.listdir("/dev/shm") if n.startswith(prefix + "_")]
    except OSError:
        leftovers = []
    reader.close()
    for name in leftovers:
        _worker.unlink_quietly(name)
    for q in list(index_queues) + [result_queue]:
        try:
            q.cancel_join_thread()
            q.close()
        except Exception:
            pass


_GUARD = "`if __name__ == \"__main__\":`"
_UNGUARDED_MAIN = (
    f"minicv starts workers with 'forkserver' (never 'fork', which kills a child after "
    f"Numba/OpenMP kernels), and each worker imports the script that builds the loader, so "
    f"its unguarded top-level code runs again there. Put the training code in a main() "
    f"called under {_GUARD} (PyTorch needs the same on macOS and Windows), or use "
    f"num_workers=0.")


class _WorkerPool:
    """The worker processes of one loader and their queues."""

    def __init__(self, loader, base_seed):
        if getattr(multiprocessing.current_process(), "_inheriting", False):
            raise RuntimeError(f"DataLoader: a worker process, importing your script, got to "
                               f"a loader of its own: the script has no {_GUARD} guard. "
                               f"{_UNGUARDED_MAIN}")
        ctx = loader._mp_ctx or _context(loader.multiprocessing_context)
        loader._mp_ctx = ctx
        n = loader.num_workers
        payload = _pickle_for_workers(loader.dataset, loader.collate_fn,
                                      loader.worker_init_fn, n)
        self.num_workers = n
        self.epoch = 0
        self.prefix = f"mcv{os.getpid():x}{secrets.token_hex(3)}"
        self.result_queue = ctx.Queue()
        self.index_queues = [ctx.Queue() for _ in range(n)]
        self.processes = []
        self._state = {"closed": False}
        self.reader = _worker.SegmentReader()
        self.freed = [[] for _ in range(n)]     # segments to hand back to each worker
        self._finalizer = weakref.finalize(self, _shutdown_pool, self.processes,
                                           self.index_queues, self.result_queue,
                                           self.prefix, self._state, self.reader)
        try:
            for w in range(n):
                p = ctx.Process(
                    target=_worker.worker_loop, name=f"minicv-data-worker-{w}",
                    args=(payload, self.index_queues[w], self.result_queue, w, n,
                          base_seed, loader._is_iterable, loader._auto_collation,
                          loader.batch_size, loader.drop_last, self.prefix),
                    daemon=True)
                self.processes.append(p)
                p.start()
        except (BrokenPipeError, EOFError, ConnectionError) as e:   # the child died at once
            self.shutdown()
            raise RuntimeError(f"DataLoader: worker {w} died while starting; most often the "
                               f"script has no {_GUARD} guard. {_UNGUARDED_MAIN}") from e
        except BaseException:
            self.shutdown()
            raise

    @property
    def closed(self):
        return self._state["closed"]

    def reseed(self, base_seed):
        """Start a new epoch: every worker reseeds (and restarts an iterable dataset)."""
        self.epoch += 1
        for q in self.index_queues:
            q.put(("seed", self.epoch, base_seed))

    def dead_worker(self):
        for w, p in enumerate(self.processes):
            if not p.is_alive():
                return w, p
        return None

    def shutdown(self, fast=False):
        self._state["fast"] = fast
        self._finalizer()


_END = object()


def _worker_died_message(w, p):
    code = p.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        how = f"was killed by signal {name}"
        hint = (" SIGKILL often comes from the out-of-memory killer: use fewer workers, "
                "a smaller batch_size or prefetch_factor.") if name == "SIGKILL" else ""
    else:
        how = f"exited unexpectedly with exit code {code}"
        hint = (" If its stderr shows an error while unpickling the dataset, define the "
                "dataset class in an importable module (not in an interactive session) "
                "and guard the script with `if __name__ == \"__main__\":`.")
    return f"DataLoader worker {w} (pid {p.pid}) {how}.{hint}"


def _reraise(err, send_idx):
    idx = err["index"]
    if isinstance(idx, list):
        where = f"while collating the batch of sample indices {idx}"
    elif idx is None:
        where = "while starting (worker_init_fn or iter(dataset))" if send_idx < 0 \
            else "while reading the next samples of the iterable dataset"
    else:
        where = f"while loading sample index {idx}"
    msg = (f"Caught {err['type_name']} in DataLoader worker {err['worker_id']} {where}: "
           f"{err['message']}\nOriginal traceback in the worker:\n{err['traceback']}")
    exc_type = err["type"]
    exc = None
    if isinstance(exc_type, type) and issubclass(exc_type, Exception):
        try:
            exc = exc_type(msg)
        except Exception:
            exc = None
    if exc is None:
        exc = RuntimeError(msg)
    raise exc from None


class _MultiProcessIter:
    """One epoch over a worker pool (see the loader's module docstring)."""

    def __init__(self, loader, pool, owns_pool):
        self.loader = loader
        self.pool = pool
        self.owns_pool = owns_pool
        self.epoch = pool.epoch
        n = pool.num_workers
        self._batches = None if loader._is_iterable else iter(loader._index_sampler())
        self._sampler_done = False
        self._active = [True] * n
        self._outstanding = [0] * n
        self._next_worker = 0
        self._task_worker = {}
        self._buffer = {}
        self._send_idx = 0
        self._rcvd_idx = 0
        self._done = False
        for _ in range(loader.prefetch_factor * n):
            if not self._put_task():
                break

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.loader)

    def _put_task(self):
        n = self.pool.num_workers
        for k in range(n):
            w = (self._next_worker + k) % n
            if self._active[w] and self._outstanding[w] < self.loader.prefetch_factor:
                break
        else:
            return False
        if self._batches is not None:
            if self._sampler_done:
                return False
            try:
                indices = next(self._batches)
            except StopIteration:
                self._sampler_done = True
                return False
        else:
            indices = None
        freed, self.pool.freed[w] = self.pool.freed[w], []
        self.pool.index_queues[w].put(("task", self.epoch, self._send_idx, indices, freed))
        self._task_worker[self._send_idx] = w
        self._outstanding[w] += 1
        self._send_idx += 1
        self._next_worker = (w + 1) % n
        return True

    def _receive(self):
        """Wait for one message of this epoch, checking workers and the timeout."""
        timeout = self.loader.timeout
        start = time.monotonic()
        while True:
            wait = _POLL_S
            if timeout > 0:
                wait = min(wait, max(0.0, start + timeout - time.monotonic()))
            try:
                msg = self.pool.result_queue.get(timeout=wait)
            except queue.Empty:
                dead = self.pool.dead_worker()
                if dead is not None:
                    self._fail()
                    raise RuntimeError(_worker_died_message(*dead)) from None
                waited = time.monotonic() - start
                if timeout > 0 and waited >= timeout:
                    w = self._task_worker.get(self._rcvd_idx, "?")
                    self._fail()
                    raise RuntimeError(
                        f"DataLoader timed out after {waited:.2f} s "
                        f"(timeout={timeout:g}) waiting for batch {self._rcvd_idx} from "
                        f"worker {w}; the worker is alive but slow. Increase timeout= or "
                        f"look for a blocking read in the dataset") from None
                continue
            epoch, send_idx, w, kind, payload = msg
            if kind == "fatal":
                self._fail()
                _reraise(payload, -1)
            if kind == "ok":
                self.pool.reader.drop(payload[3])
            if epoch != self.epoch:                 # left over from an abandoned epoch
                if kind == "ok" and payload[1] is not None:
                    self.pool.freed[w].append(payload[1])
                continue
            return send_idx, w, kind, payload

    def __next__(self):
        if self._done:
            raise StopIteration
        while True:
            if self._rcvd_idx in self._buffer:
                item = self._buffer.pop(self._rcvd_idx)
                w = self._task_worker.pop(self._rcvd_idx)
                self._outstanding[w] -= 1
                self._rcvd_idx += 1
                self._put_task()
                if item is _END:
                    continue
                return item
            if self._rcvd_idx == self._send_idx:
                self._finish()
                raise StopIteration
            send_idx, w, kind, payload = self._receive()
            if kind == "ok":
                skeleton, name, nbytes, _ = payload
                self._buffer[send_idx] = self.pool.reader.unpack(skeleton, name, nbytes)
                if name is not None:
                    self.pool.freed[w].append(name)
            elif kind == "end":
                self._active[w] = False
                self._buffer[send_idx] = _END
            else:
                self._fail()
                _reraise(payload, send_idx)

    def _finish(self):
        self._done = True
        if self.owns_pool:
            self.pool.shutdown()

    def _fail(self):
        # After an error the epoch is over; workers that belong to this iterator stop.
        # Persistent workers stay; their unread batches are discarded by epoch number.
        self._done = True
        if self.owns_pool or self.pool.dead_worker() is not None:
            self.pool.shutdown(fast=True)

    def __del__(self):
        try:
            if self.owns_pool:
                self.pool.shutdown()
        except Exception:
            pass
