"""Transformer layers with PyTorch 2.13's names, arguments and state_dict keys:
``TransformerEncoderLayer``, ``TransformerEncoder``, ``TransformerDecoderLayer``,
``TransformerDecoder`` and ``Transformer`` (Vaswani et al. 2017).

A layer is attention and a two-layer feed-forward block, each wrapped in a residual
connection with LayerNorm after it (post-norm, the paper's choice) or before it
(``norm_first=True``, pre-norm: Xiong et al. 2020, more stable to train deep stacks)::

    post-norm:  x = norm1(x + sa(x));       x = norm2(x + ff(x))
    pre-norm:   x = x + sa(norm1(x));       x = x + ff(norm2(x))

Masks follow ``nn.MultiheadAttention``: bool True = may NOT attend, float = added.
PyTorch's inference fast paths (nested tensors, fused encoder layers) are not used:
``enable_nested_tensor`` is accepted and ignored, and in eval mode with a
``src_key_padding_mask`` the padded positions keep their computed values (PyTorch's
nested-tensor path sets them to 0 before the final norm).

Example::

    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, batch_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=2)
    y = encoder(mc.randn(8, 10, 32))                     # (8, 10, 32)
"""
import copy
import math

from ..backend import get_default_dtype
from ..factories import full
from ..ops.linalg import triu
from ..tensor import as_tensor_arg
from . import functional as F
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention, _canonical_mask
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .norm import LayerNorm


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i attends
    to positions 0..i)."""
    return triu(full((sz, sz), -math.inf, dtype=dtype or get_default_dtype(), device=device),
                diagonal=1)


def _get_activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _add_feed_forward_and_norms(layer, n_blocks, d_model, dim_feedforward, dropout,
                                activation, layer_norm_eps, bias, kw):
    """linear1, dropout, linear2, norm1..n, dropout1..n (PyTorch's registration order, so
    the state_dict keys come in its order) and the activation."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
    for i in range(1, n_blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
    for i in range(1, n_blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = (_get_activation_fn(activation) if isinstance(activation, str)
                        else activation)


def _feed_forward(layer, x):
    """linear2(dropout(activation(linear1(x)))): (*, d_model) -> (*, d_model)."""
    return layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))


def _causal_flag(is_causal):
    """PyTorch detects a causal ``mask`` when ``is_causal`` is None, to pick a faster kernel
    with the same result; minicv reads None as False (no host round trip to compare)."""
    return is_causal is True


# ----------------------------------------------------------------------------- encoder

class TransformerEncoderLayer(Module):
    """Self-attention and feed-forward, each in a residual block with LayerNorm.

    Args:
        d_model: feature size E. nhead: attention heads (must divide d_model).
        dim_feedforward: hidden size of the feed-forward block (default 2048).
        dropout: after attention, inside and after the feed-forward block (default 0.1).
        activation: a callable, or "relu" / "gelu" (default F.relu).
        layer_norm_eps: LayerNorm's eps. batch_first: (N, S, E) instead of (S, N, E).
        norm_first: pre-norm instead of post-norm. bias: biases of linears and norms.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; masks as
    in :class:`MultiheadAttention` (``src_mask`` is its ``attn_mask``).

    Shape: (S, N, E), (N, S, E) with batch_first, or unbatched (S, E) -> same shape.

    Example::

        layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32)
        y = layer(mc.randn(10, 2, 16))                   # (10, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.norm_first = norm_first
        _add_feed_forward_and_norms(self, 2, d_model, dim_feedforward, dropout, activation,
                                    layer_norm_eps, bias, kw)
        activation = self.activation
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = as_tensor_arg(src)
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src_mask, "src_mask", x.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", x.dtype, False)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(_feed_forward(self, x))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then ``norm`` if given.

    Args:
        encoder_layer: the layer to copy (its parameters are copied too: the copies are
            independent). num_layers: how many. norm: a final module (e.g. LayerNorm).
        enable_nested_tensor: accepted; minicv has no nested tensors (see the module
            docstring). mask_check: accepted (it only guards that fast path).

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.
    State dict keys: ``layers.0.self_attn.in_proj_weight``, ..., ``norm.weight``.

    Shape: as :class:`TransformerEncoderLayer`.

    Example::

        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4), num_layers=3)
        y = enc(mc.randn(10, 2, 16))                      # (10, 2, 16)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = as_tensor_arg(src)
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               mask, "mask", x.dtype)
        mask = _canonical_mask(mask, "mask", None, "", x.dtype, False)
        is_causal = _causal_flag(is_causal)
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=is_causal,
                      src_key_padding_mask=src_key_padding_mask)
        return x if self.norm is None else self.norm(x)


# ----------------------------------------------------------------------------- decoder

class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention to the encoder's ``memory``, and
    feed-forward, each in a residual block with LayerNorm (norm1, norm2, norm3).

    Args: as :class:`TransformerEncoderLayer`.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``;
    ``tgt_mask`` (T, T) masks the self-attention, ``memory_mask`` (T, S) the attention to
    memory; the key padding masks are (N, T) and (N, S).

    Shape: tgt (T, N, E), memory (S, N, E) (batch_first: (N, T, E), (N, S, E); unbatched:
    (T, E), (S, E)) -> tgt's shape.

    Example::

        layer = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
        y = layer(mc.randn(7, 2, 16), mc.randn(10, 2, 16))   # (7, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.norm_first = norm_first
        _add_feed_forward_and_norms(self, 3, d_model, dim_feedforward, dropout, activation,
                                    layer_norm_eps, bias, kw)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = as_tensor_arg(tgt)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                              tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(_feed_forward(self, x))


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then ``norm`` if given.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.

    Shape: as :class:`TransformerDecoderLayer`.

    Example::

        dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4), num_layers=2)
        y = dec(mc.randn(7, 2, 16), mc.randn(10, 2, 16))     # (7, 2, 16)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        tgt_is_causal = _causal_flag(tgt_is_causal)
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


# ----------------------------------------------------------------------------- full model

class Transformer(Module):
    """The encoder-decoder Transformer: ``decoder(tgt, encoder(src))``.

    Args: d_model (512), nhead (8), num_encoder_layers (6), num_decoder_layers (6),
    dim_feedforward (2048), dropout (0.1), activation, layer_norm_eps, batch_first,
    norm_first, bias as in :class:`TransformerEncoderLayer`; custom_encoder /
    custom_decoder replace the stacks. Both stacks end with a LayerNorm; every parameter
    with more than one dimension is then re-initialised with xavier_uniform_.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``.

    Shape: src (S, N, E), tgt (T, N, E) (batch_first: (N, S, E), (N, T, E); unbatched:
    (S, E), (T, E)) -> (T, N, E).

    Example::

        model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2,
                               num_decoder_layers=2, dim_feedforward=32)
        mask = nn.Transformer.generate_square_subsequent_mask(7)
        y = model(mc.randn(10, 2, 16), mc.randn(7, 2, 16), tgt_mask=mask)   # (7, 2, 16)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False,
                 norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*args, **kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*args, **kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        src, tgt = as_tensor_arg(src), as_tensor_arg(tgt)
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]):
            raise ValueError(f"the batch number of src and tgt must be equal, got shapes "
                             f"{list(src.shape)} and {list(tgt.shape)} (batch_first="
                             f"{self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"the feature number of src and tgt must be equal to d_model="
                             f"{self.d_model}, got shapes {list(src.shape)} and "
                             f"{list(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) causal mask: 0 on and below the diagonal, -inf above.

        Example::

            nn.Transformer.generate_square_subsequent_mask(3)   # [[0, -inf, -inf], ...]
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
