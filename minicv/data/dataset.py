"""Datasets: the two protocols a :class:`~minicv.data.DataLoader` reads from.

* A **map-style** dataset (:class:`Dataset`) has ``__len__`` and ``__getitem__(i)``; the
  loader asks a sampler for indices and fetches samples one by one.
* An **iterable-style** dataset (:class:`IterableDataset`) has ``__iter__``; each worker
  iterates its own copy, so the dataset must split the stream itself with
  :func:`~minicv.data.get_worker_info` or every worker yields everything.

The helpers here compose datasets without copying data: :class:`TensorDataset` indexes
arrays along their first axis, :class:`ConcatDataset` chains datasets
(:class:`ChainDataset` streams iterable ones), :class:`StackDataset` zips them,
:class:`Subset` views a list of indices, and :func:`random_split` cuts one dataset into
disjoint subsets.
"""
import bisect
import math

import numpy as np

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "StackDataset", "Subset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclass it and define ``__getitem__`` and
    ``__len__``.

    Example::

        class Squares(Dataset):
            def __len__(self):
                return 10
            def __getitem__(self, i):
                return np.float32(i), np.float32(i * i)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of stream datasets: subclass it and define ``__iter__``.

    With ``num_workers > 0`` every worker holds a copy; split the work with
    :func:`~minicv.data.get_worker_info` (``info.id``, ``info.num_workers``), e.g.
    ``for i in range(info.id, n, info.num_workers)``.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other, streamed lazily (``a + b`` of two
    iterable datasets builds one)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _each(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only chains IterableDatasets, got "
                                f"{type(d).__name__}: use ConcatDataset for map-style ones")
            yield d

    def __iter__(self):
        for d in self._each():
            yield from d

    def __len__(self):
        return sum(len(d) for d in self._each())


class StackDataset(Dataset):
    """Several datasets of one length side by side: item ``i`` is the tuple of their
    items ``i`` (``StackDataset(images, labels)``), or a dict with keyword datasets
    (``StackDataset(image=images, text=texts)[i] == {"image": ..., "text": ...}``)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset takes datasets either positionally (items are "
                             "tuples) or by keyword (items are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset needs at least one dataset")
        self.datasets = args or kwargs
        parts = list(args or kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths "
                             f"{lengths}")
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def _as_array(x):
    data = getattr(x, "data", x)      # a minicv Tensor -> its ndarray
    return np.asarray(data)


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given arrays or tensors: ``(a[i], b[i], ...)``.

    All arguments must have the same length along the first axis. Rows are NumPy arrays
    (views, no copy); the default collate stacks them into tensors.

    Example::

        ds = TensorDataset(np.zeros((100, 3, 32, 32), np.float32), np.arange(100))
        x, y = ds[5]          # x.shape == (3, 32, 32), y == 5
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or tensor, got none")
        arrays = [_as_array(t) for t in tensors]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset argument {i} is a 0-d array (a scalar); "
                                 f"give arrays with a first axis of samples")
        n = arrays[0].shape[0]
        lengths = [a.shape[0] for a in arrays]
        if any(m != n for m in lengths):
            raise ValueError(f"TensorDataset arguments differ in length along the first "
                             f"axis: {lengths}; give one row per sample in each")
        self.tensors = tuple(arrays)

    def __getitem__(self, index):
        return tuple(a[index] for a in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.tensors)
        return f"TensorDataset({shapes})"


class ConcatDataset(Dataset):
    """The datasets one after the other: index ``i`` falls in the first dataset whose
    cumulative length exceeds ``i`` (found by bisection)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset, got an empty list")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset takes map-style datasets, got the "
                                f"IterableDataset {type(d).__name__}")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"index {index} is out of range for a dataset of "
                                 f"length {n}")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a dataset of length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (no copy)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (then
    ``floor(frac * n)`` each and the remainder handed out one by one, first subsets
    first, as PyTorch does). The permutation comes from ``generator`` (a
    ``minicv.Generator``, a ``numpy.random.Generator`` or an int seed) or else minicv's
    global generator.

    Example::

        train, val = random_split(ds, [0.9, 0.1], generator=0)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:   # PyTorch's test
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"fraction at position {i} is {frac}; fractions must lie "
                                 f"in [0, 1]")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"sum of lengths {lengths} = {sum(lengths)} does not equal the "
                         f"dataset's length {n}")
    from .sampler import _resolve_generator
    perm = _resolve_generator(generator).permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + int(length)]))
        start += int(length)
    return out
