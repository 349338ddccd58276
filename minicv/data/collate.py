"""Collate: turn a list of samples into one batch.

:func:`default_collate` follows PyTorch's rules, recursively, with two deliberate
differences (in bold; PyTorch raises on the first and gives float64 for the second):

* arrays and tensors of one shape are stacked along a new first axis into a ``Tensor``;
  arrays whose shapes differ (a box list per image) stay a **list** of tensors;
* Python ints become an int64 tensor, bools a bool tensor, and Python floats a
  **float32** tensor (PyTorch gives float64 here; minicv computes in float32 by default,
  so we keep labels and weights in the dtype the model uses);
* NumPy scalars keep their dtype;
* dicts are collated key by key, tuples and lists element by element (a namedtuple stays
  that namedtuple); sequences of different lengths stay a list of lists;
* strings, bytes and ``None`` stay lists.

Example::

    default_collate([(np.zeros((3, 2, 2)), 1), (np.ones((3, 2, 2)), 0)])
    # -> [Tensor of shape (2, 3, 2, 2), Tensor([1, 0]) int64]
"""
import collections.abc

import numpy as np

from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _tensor(array):
    return Tensor(array)


def _is_tensor(x):
    return isinstance(x, Tensor)


def _fail(elem):
    return TypeError(
        f"default_collate cannot batch samples of type {type(elem).__name__}; it handles "
        f"arrays, minicv Tensors, numbers, strings, dicts, lists and tuples. Convert the "
        f"sample in the dataset or a transform (e.g. ToTensor() for a PIL image), or pass "
        f"collate_fn=")


def default_collate(batch):
    """Stack a list of samples into a batch (rules in the module docstring)."""
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        raise ValueError(f"default_collate expects a non-empty list of samples, got "
                         f"{type(batch).__name__} of length "
                         f"{len(batch) if hasattr(batch, '__len__') else '?'}")
    elem = batch[0]
    if _is_tensor(elem) or isinstance(elem, np.ndarray):
        arrays = [x.data if _is_tensor(x) else np.asarray(x) for x in batch]
        if arrays[0].dtype.kind in "OUS":
            return list(batch)
        shape = arrays[0].shape
        if any(a.shape != shape for a in arrays):
            return [_tensor(a) for a in arrays]       # variable-size targets
        return _tensor(np.stack(arrays))
    if isinstance(elem, (bool, np.bool_)):
        return _tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return _tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, int):
        return _tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _tensor(np.array(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)) or elem is None:
        return batch                      # as it comes: a list, or a tuple inside tuples
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem.keys())
        for s in batch:
            if not isinstance(s, collections.abc.Mapping) or list(s.keys()) != keys:
                raise ValueError(f"default_collate: samples are dicts with different keys "
                                 f"({keys} vs {list(getattr(s, 'keys', lambda: [])())}); "
                                 f"give every sample the same keys")
        return {k: default_collate([s[k] for s in batch]) for k in keys}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):         # namedtuple
        return type(elem)(*(default_collate(f) for f in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        if any(not isinstance(s, (tuple, list)) or len(s) != len(elem) for s in batch):
            return [list(s) for s in batch]          # ragged: keep per-sample lists
        return [default_collate(col) for col in zip(*batch)]
    if hasattr(elem, "__array__") and not hasattr(elem, "getpixel"):
        return default_collate([np.asarray(x) for x in batch])
    raise _fail(elem)


def default_convert(data):
    """What the loader applies when ``batch_size=None``: arrays and NumPy scalars become
    tensors, containers are converted element by element, nothing is stacked."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUS" else _tensor(data)
    if isinstance(data, np.generic) and data.dtype.kind in "biuf":
        return _tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(v) for v in data]
    return data
