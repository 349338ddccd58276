"""``Embedding``: a lookup table of learnable vectors indexed by integers; ``EmbeddingBag``:
sums, means or maxima of bags of them."""
import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Row ``i`` of ``weight`` is the vector for index ``i``; initialised N(0, 1).

    Args:
        num_embeddings: table size. embedding_dim: vector size.
        padding_idx: this row starts at zero and never receives gradient.
        max_norm: renormalise looked-up rows to at most this norm (in place).

    Shape: (*) int64 -> (*, embedding_dim).

    Example::

        emb = nn.Embedding(10, 3, padding_idx=0)
        y = emb(mc.tensor([[1, 2, 0]]))        # (1, 3, 3); y[0, 2] is zero
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"(in [{-num_embeddings}, {num_embeddings - 1}]), got "
                                 f"{padding_idx}")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            dtype = np.dtype(dtype or get_default_dtype())
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape [{num_embeddings}, "
                                 f"{embedding_dim}], got {list(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self._place(device)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (a 2-D tensor), frozen by default."""
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        w = embeddings if isinstance(embeddings, Tensor) else Tensor(np.asarray(embeddings))
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=w, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s


class EmbeddingBag(Embedding):
    """Sums, means or maxima of bags of embeddings, without materialising the lookups:
    ``EmbeddingBag(mode='sum')(x)`` is ``Embedding(x).sum(1)`` for a (B, L) input.

    Args:
        num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, sparse,
            padding_idx: as in ``Embedding`` (entries equal to padding_idx are left out of
            their bag).
        mode: 'sum', 'mean' (default) or 'max'.
        include_last_offset: ``offsets`` has one more entry, the input's length.

    Shape: (B, L), or (N,) with ``offsets`` (B,) -> (B, embedding_dim).

    Example::

        bag = nn.EmbeddingBag(10, 3, mode="sum")
        y = bag(mc.tensor([1, 2, 4, 5, 4, 3]), mc.tensor([0, 4]))     # (2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, device=device, dtype=dtype)
        self.mode, self.include_last_offset = mode, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (a 2-D tensor), frozen by default."""
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        w = embeddings if isinstance(embeddings, Tensor) else Tensor(np.asarray(embeddings))
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, w,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
