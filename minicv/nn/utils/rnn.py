"""Variable-length sequences for the recurrent layers, PyTorch's ``nn.utils.rnn``:
``pad_sequence``, ``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pack_sequence``, ``unpack_sequence``, ``unpad_sequence``.

A *packed* batch stores only the real time steps: step t holds ``batch_sizes[t]`` rows, the
sequences still running at t, longest sequence first. ``nn.RNN``/``LSTM``/``GRU`` run on it
directly, so padding never enters the recurrence and ``h_n`` is each sequence's state at
its own last step. Every conversion is one differentiable row gather (``ops.rnn.GatherRows``).

Example::

    packed = pack_padded_sequence(x, lengths=[5, 3, 2], enforce_sorted=False)   # x (5, 3, I)
    out, (h, c) = lstm(packed)
    y, lengths = pad_packed_sequence(out)                                      # (5, 3, H)
"""
from collections import namedtuple

import numpy as np

from ...backend import to_numpy, get_array_module
from ...ops.rnn import GatherRows
from ...ops.shape import cat, transpose
from ...tensor import Tensor, as_tensor_arg

_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


class PackedSequence(_Fields):
    """A packed batch of sequences (build it with :func:`pack_padded_sequence` or
    :func:`pack_sequence`, not by hand).

    Attributes:
        data: (sum of lengths, *) the steps, time-major: all sequences' step 0, then step 1...
        batch_sizes: int64 CPU tensor (T,): how many sequences are running at each step.
        sorted_indices: int64 tensor (B,) or None: ``data``'s sequence j is input sequence
            ``sorted_indices[j]``. unsorted_indices: its inverse permutation.
    """
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: without batch_sizes, data must be a pair "
                                "(data, batch_sizes)")
            data, batch_sizes = data
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of "
                             "PackedSequence should never be created manually. They should "
                             "be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn.")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` moved/cast as ``Tensor.to``; the indices follow ``data``'s device and
        ``batch_sizes`` stays on the CPU. Returns self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        si, ui = (None if t is None else t.to(data.device)
                  for t in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, si, ui)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def is_pinned(self):
        """False: minicv has no pinned host memory."""
        return False

    @property
    def is_cuda(self):
        return self.data.is_cuda


# PackedSequence.double() ... .byte(): ``data`` cast as the Tensor methods of those names
for _name, _dtype in (("double", np.float64), ("float", np.float32), ("half", np.float16),
                      ("long", np.int64), ("int", np.int32), ("short", np.int16),
                      ("char", np.int8), ("byte", np.uint8)):
    setattr(PackedSequence, _name, lambda self, dtype=_dtype: self.to(dtype))
del _name, _dtype


def _invert_permutation(perm):
    """The inverse of an index permutation tensor, on its device."""
    p = perm.data
    inv = get_array_module(p).empty_like(p)
    inv[p] = get_array_module(p).arange(p.shape[0], dtype=p.dtype)
    return Tensor(inv)


def _lengths(lengths):
    """``lengths`` as a 1-D int64 NumPy array (torch also reads them on the CPU); float
    lengths are truncated toward zero, as torch's ``as_tensor(lengths, dtype=int64)``."""
    a = to_numpy(lengths.data) if isinstance(lengths, Tensor) else np.asarray(lengths)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iuf"):
        raise ValueError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                         f"{a.ndim}D tensor of dtype {a.dtype}")
    return a.astype(np.int64)


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (descending) lengths exceed t."""
    steps = np.arange(sorted_lengths[0] if sorted_lengths.size else 0)
    return (sorted_lengths[:, None] > steps).sum(axis=0).astype(np.int64)      # (T,)


def _packed_positions(batch_sizes):
    """For each packed row: its time step t and its position j in the sorted batch."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    j = np.arange(t.size) - np.repeat(np.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    return t, j


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch: keep only the first ``lengths[b]`` steps of each sequence.

    Args:
        input: (T, B, *) padded sequences, or (B, T, *) with ``batch_first``.
        lengths: B lengths, each in [1, T] (a list or an integer tensor, read on the CPU).
        enforce_sorted: require lengths in decreasing order; with False the batch is
            sorted here and ``sorted_indices`` records the order.

    Shape: data (sum(lengths), *); batch_sizes (max(lengths),).

    Minicv raises when a length exceeds T (PyTorch reads past the input).

    Example::

        p = pack_padded_sequence(mc.randn(4, 2, 3), [4, 2])      # p.data (6, 3)
    """
    x = as_tensor_arg(input)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be (T, B, *) or, with "
                         f"batch_first, (B, T, *), got shape {list(x.shape)}")
    lengths = _lengths(lengths)
    T, B = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if lengths.shape[0] != B:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{lengths.shape[0]} (batch_size={B})")
    if B and lengths.min() <= 0:
        raise ValueError("Length of all samples has to be greater than 0, but found an "
                         "element in 'lengths' that is <= 0")
    if B and lengths.max() > T:
        raise ValueError(f"pack_padded_sequence: a length of {lengths.max()} exceeds the "
                         f"input's {T} time steps")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError("`lengths` array must be sorted in decreasing order when "
                             "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                             "to pack_padded_sequence and/or pack_sequence to sidestep this "
                             "requirement if you do not need ONNX exportability.")
        order, sorted_indices = np.arange(B), None
    else:
        order = np.argsort(-lengths, kind="stable")
        xp = get_array_module(x.data)
        sorted_indices = Tensor(xp.asarray(order, dtype=np.int64))
    batch_sizes = _batch_sizes(lengths[order])
    t, j = _packed_positions(batch_sizes)
    b = order[j]                                  # each packed row's input sequence
    rows = b * T + t if batch_first else t * B + b
    flat = x.reshape((T * B,) + tuple(x.shape[2:]))                        # (T·B, *)
    data = GatherRows.apply(flat, index=rows)
    return PackedSequence(data, Tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of :func:`pack_padded_sequence`: padded sequences in the original order.

    Args:
        total_length: pad to this many steps (at least the longest sequence), e.g. so
            that the outputs of data-parallel replicas line up.

    Returns:
        ``(padded, lengths)``: padded (T, B, *) or (B, T, *) with ``batch_first``, filled
        with ``padding_value``; lengths an int64 CPU tensor (B,).

    Example::

        y, lengths = pad_packed_sequence(lstm(packed)[0], batch_first=True)
    """
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    batch_sizes = to_numpy(batch_sizes.data).astype(np.int64)
    T_max, B = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0
    T = T_max if total_length is None else int(total_length)
    if T < T_max:
        raise ValueError(f"Expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max "
                         f"sequence length being {T_max}")
    lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1)     # sorted order
    order = np.arange(B)
    if sorted_indices is not None:              # the index is read on the host, as torch does
        order = to_numpy(sorted_indices.data)
        lengths = lengths[to_numpy(unsorted_indices.data)]
    t, j = _packed_positions(batch_sizes)
    b = order[j]
    rows = np.full(T * B, -1, np.int64)
    rows[b * T + t if batch_first else t * B + b] = np.arange(t.size)
    shape = (B, T) if batch_first else (T, B)
    padded = GatherRows.apply(data, index=rows, fill=padding_value)
    return padded.reshape(shape + tuple(data.shape[1:])), Tensor(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of different lengths (L_i, *) into one padded tensor.

    Args:
        sequences: a list of tensors that agree in every dimension but the first (a tensor
            counts as the list of its rows).
        padding_side: ``"right"`` (pad after each sequence) or ``"left"`` (before).

    Shape: (max L_i, B, *), or (B, max L_i, *) with ``batch_first``; the dtype is the
    first sequence's (the others are cast to it, as in PyTorch).

    Example::

        pad_sequence([mc.ones(2), mc.ones(3)], batch_first=True)   # [[1, 1, 0], [1, 1, 1]]
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    seqs = [as_tensor_arg(s) for s in sequences]
    if not seqs:
        raise ValueError("received an empty list of sequences")
    rest = tuple(seqs[0].shape[1:])
    for s in seqs:
        if s.ndim == 0 or tuple(s.shape[1:]) != rest:
            raise ValueError(f"pad_sequence: every sequence must have shape (L, "
                             f"{', '.join(map(str, rest)) or '*'}) , got "
                             f"{[list(q.shape) for q in seqs]}")
    lengths = np.array([s.shape[0] for s in seqs], np.int64)
    T, B = int(lengths.max()), len(seqs)
    starts = np.cumsum(lengths) - lengths               # first row of each in the cat
    rows = np.full((B, T), -1, np.int64)
    for b, (start, n) in enumerate(zip(starts, lengths)):
        steps = np.arange(n) if padding_side == "right" else np.arange(T - n, T)
        rows[b, steps] = start + np.arange(n)
    rows = rows if batch_first else rows.T
    seqs = [s if s.dtype == seqs[0].dtype else s.to(seqs[0].dtype) for s in seqs]
    out = GatherRows.apply(cat(seqs), index=rows.reshape(-1), fill=padding_value)
    return out.reshape(rows.shape + rest)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) directly: ``pack_padded_sequence`` of their
    :func:`pad_sequence`.

    Example::

        p = pack_sequence([mc.ones(3, 2), mc.ones(1, 2)])       # batch_sizes [2, 1, 1]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) in a PackedSequence, in their original order.

    Example::

        seqs = unpack_sequence(pack_sequence([a, b], enforce_sorted=False))   # [a, b]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [seq[:n] for seq, n in zip(padded, lengths.tolist())]


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences in a padded batch: sequence b is its first ``lengths[b]``
    steps.

    Args:
        padded_sequences: (T, B, *), or (B, T, *) with ``batch_first``.

    Example::

        a, b = unpad_sequence(pad_sequence([mc.ones(2), mc.ones(3)]), mc.tensor([2, 3]))
    """
    x = as_tensor_arg(padded_sequences)
    if not batch_first:
        x = transpose(x, 0, 1)                                              # (B, T, *)
    return [seq[:n] for seq, n in zip(x, _lengths(lengths).tolist())]
