"""Samplers: which indices a map-style dataset is read at, and in what order.

A sampler is an iterable of indices with a ``__len__``; a batch sampler yields lists of
indices. The :class:`~minicv.data.DataLoader` builds one from ``shuffle`` and
``batch_size`` unless you pass your own.

Randomness: every random sampler takes ``generator``, which may be

* ``None``: draw from minicv's global generator (``minicv.backend.get_rng()``), so one
  ``mc.manual_seed(s)`` fixes the order of every epoch, and epochs still differ;
* an ``int``: a private ``numpy.random.Generator`` seeded once at construction (epochs
  differ, the run repeats);
* a :class:`minicv.Generator` (PyTorch's ``generator=torch.Generator().manual_seed(s)``)
  or a ``numpy.random.Generator``: drawn from, so its stream advances (and reseeding a
  ``minicv.Generator`` later reseeds the sampler too).
"""
import numpy as np

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "ClassBalancedSampler",
           "DistributedSampler"]


def _resolve_generator(generator):
    """The ``numpy.random.Generator`` to draw from now (see the module docstring)."""
    from .. import backend
    return backend.as_generator(generator) or backend.get_rng()


def _own_generator(generator):
    # An int seed becomes a Generator once, so successive epochs continue its stream.
    from ..backend import as_generator
    return as_generator(generator)


def _check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class: subclass and define ``__iter__`` (yielding indices) and ``__len__``."""

    def __iter__(self):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(num_samples={len(self)})"


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw indices independently (an index may repeat or be missed).
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement and above the length, further whole permutations are appended.
        generator: ``None``, an int seed, a ``minicv.Generator`` or a
            ``numpy.random.Generator``.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = _check_positive_int("num_samples", num_samples, allow_none=True)
        self.generator = _own_generator(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if n == 0:
            return iter(())
        rng = _resolve_generator(self.generator)
        m = self.num_samples
        if self.replacement:
            return iter(rng.integers(0, n, size=m).tolist())
        chunks = [rng.permutation(n) for _ in range((m + n - 1) // n)]
        return iter(np.concatenate(chunks)[:m].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, reshuffled every epoch."""

    def __init__(self, indices, generator=None):
        self.indices = [int(i) for i in indices]
        self.generator = _own_generator(generator)

    def __iter__(self):
        rng = _resolve_generator(self.generator)
        return iter([self.indices[i] for i in rng.permutation(len(self.indices))])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    Example (undo a 9:1 class imbalance)::

        w = np.where(labels == 1, 9.0, 1.0)
        sampler = WeightedRandomSampler(w, num_samples=len(w))
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights must be a non-empty 1-d sequence, got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        self.num_samples = _check_positive_int("num_samples", num_samples)
        self.replacement = bool(replacement)
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(f"cannot draw num_samples={self.num_samples} without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights; "
                             f"use replacement=True or a smaller num_samples")
        self.weights = w
        self.generator = _own_generator(generator)

    def __iter__(self):
        rng = _resolve_generator(self.generator)
        p = self.weights / self.weights.sum()
        idx = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(idx.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; the last, shorter
    list is dropped when ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last=False):
        self.sampler = sampler
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.drop_last = bool(drop_last)

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size


class ClassBalancedSampler(Sampler):
    """Every class equally often per epoch, by over- or under-sampling.

    * ``mode="over"``: each class contributes as many indices as the largest class;
      a smaller class gives all its indices once plus random repeats.
    * ``mode="under"``: each class contributes as many indices as the smallest class,
      drawn without replacement (a different subset every epoch).

    The result is shuffled. ``len`` is ``num_classes * per_class``.

    Example::

        sampler = ClassBalancedSampler(labels, mode="over")   # labels: one int per sample
    """

    def __init__(self, labels, mode="over", generator=None):
        labels = np.asarray(getattr(labels, "data", labels))
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"labels must be a non-empty 1-d sequence (one label per "
                             f"sample), got shape {labels.shape}")
        if mode not in ("over", "under"):
            raise ValueError(f"mode must be 'over' or 'under', got {mode!r}")
        self.mode = mode
        self.classes, inverse = np.unique(labels, return_inverse=True)
        self.class_indices = [np.flatnonzero(inverse == c) for c in range(len(self.classes))]
        counts = [len(ix) for ix in self.class_indices]
        self.per_class = max(counts) if mode == "over" else min(counts)
        self.generator = _own_generator(generator)

    def __iter__(self):
        rng = _resolve_generator(self.generator)
        parts = []
        for ix in self.class_indices:
            if self.mode == "under":
                parts.append(rng.choice(ix, size=self.per_class, replace=False))
            else:
                extra = rng.choice(ix, size=self.per_class - len(ix), replace=True)
                parts.append(np.concatenate([ix, extra]))
        out = np.concatenate(parts)
        return iter(out[rng.permutation(len(out))].tolist())

    def __len__(self):
        return self.per_class * len(self.class_indices)

    def __repr__(self):
        return (f"ClassBalancedSampler(mode={self.mode!r}, classes={len(self.classes)}, "
                f"per_class={self.per_class})")


class DistributedSampler(Sampler):
    """The shard of the indices that replica ``rank`` of ``num_replicas`` reads.

    PyTorch's algorithm: with ``shuffle`` the indices are permuted by a generator seeded
    with ``seed + epoch`` (identical on every rank, so shards are disjoint); without
    ``drop_last`` the list is padded by repeating its start until it divides evenly,
    with ``drop_last`` the tail is cut; rank ``r`` takes ``indices[r::num_replicas]``.
    Every rank gets ``ceil(n / W)`` (or ``floor(n / W)``) indices, so no rank waits on
    another at the end of an epoch.

    One deliberate difference from PyTorch: until you call :meth:`set_epoch`, the epoch
    advances by itself after every pass, so shards change every epoch even if you forget
    it (the classic "same shuffle every epoch" bug). Once you call ``set_epoch(e)``, the
    sampler uses exactly the epoch you set, as PyTorch does.

    ``world_size`` is accepted as an alias of ``num_replicas``.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False, world_size=None):
        if num_replicas is None:
            num_replicas = world_size
        if num_replicas is None or rank is None:
            raise ValueError(f"DistributedSampler needs num_replicas (or world_size) and "
                             f"rank, got num_replicas={num_replicas}, rank={rank}")
        num_replicas = _check_positive_int("num_replicas", num_replicas)
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or \
                not 0 <= rank < num_replicas:
            raise ValueError(f"rank must be an integer in [0, {num_replicas - 1}], "
                             f"got {rank!r}")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._auto_epoch = True
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Use ``epoch`` for the next shuffles (call it at the start of every epoch)."""
        self.epoch = int(epoch)
        self._auto_epoch = False

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            while pad > 0 and indices:
                indices += indices[:pad]
                pad = self.total_size - len(indices)
        else:
            indices = indices[:self.total_size]
        if self._auto_epoch:
            self.epoch += 1
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler(rank={self.rank}, num_replicas={self.num_replicas}, "
                f"shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch})")
