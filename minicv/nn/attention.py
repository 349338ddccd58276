"""Attention layers with PyTorch 2.13's names and semantics:
``F.scaled_dot_product_attention``, ``F.multi_head_attention_forward`` and
``nn.MultiheadAttention`` (Vaswani et al. 2017, "Attention Is All You Need").

Everything is composed of differentiable ops (matmul, softmax, masked_fill, dropout,
linear), so autograd derives the backward pass. Mask conventions differ between the two
levels, as in PyTorch:

* ``scaled_dot_product_attention``: a bool ``attn_mask`` is True where a query MAY attend;
  a float mask is added to the scores.
* ``MultiheadAttention``: a bool ``attn_mask`` / ``key_padding_mask`` is True where a query
  may NOT attend (it becomes -inf); a float mask is added.

Example::

    mha = nn.MultiheadAttention(64, 8, batch_first=True)
    out, weights = mha(x, x, x)          # x: (N, L, 64) -> (N, L, 64), (N, L, L)
"""
import math
import warnings

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..tensor import Tensor, as_tensor_arg, _fits
from ..ops.activation import softmax
from ..ops.linalg import _check_batch, matmul
from ..ops.nn_basic import dropout, linear
from ..ops.shape import cat, pad
from . import init
from .linear import NonDynamicallyQuantizableLinear
from .module import Module
from .parameter import Parameter


# ----------------------------------------------------------------------------- SDPA

def _shapes(*ts):
    return ", ".join(str(list(t.shape)) for t in ts)


def _check_qkv(query, key, value):
    """query (..., L, E), key (..., S, E), value (..., S, Ev): same floating dtype."""
    q, k, v = (as_tensor_arg(t) for t in (query, key, value))
    name = "scaled_dot_product_attention"
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError(f"{name}: query, key and value must be at least 2-D, (..., L, E), "
                         f"(..., S, E) and (..., S, Ev); got shapes {_shapes(q, k, v)}")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{name}: query, key and value must have the same dtype, got "
                        f"{q.dtype}, {k.dtype} and {v.dtype}: convert them with .to()")
    if q.dtype.kind != "f":
        raise TypeError(f"{name}: query, key and value must be floating tensors, got dtype "
                        f"{q.dtype}: convert them with .float()")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                         f"must agree in E and S; got shapes {_shapes(q, k, v)}")
    return q, k, v


def _repeat_kv_heads(q, k, v):
    """Grouped-query attention: repeat each key/value head for Hq/Hk query heads."""
    if min(q.ndim, k.ndim, v.ndim) < 3:
        raise ValueError(f"scaled_dot_product_attention: enable_gqa needs a head dimension, "
                         f"(..., H, L, E); got shapes {_shapes(q, k, v)}")
    hq = q.shape[-3]
    out = []
    for t in (k, v):
        if t.shape[-3] == 0 or hq % t.shape[-3]:
            raise ValueError(f"scaled_dot_product_attention: with enable_gqa the number of "
                             f"heads in key and value (dim -3 of {_shapes(k, v)}) must "
                             f"divide the number of query heads ({hq})")
        out.append(t.repeat_interleave(hq // t.shape[-3], dim=-3))   # (..., Hq, S, *)
    return out


def _check_sdpa_mask(mask, q, scores_shape):
    m = as_tensor_arg(mask)
    if m.dtype != np.bool_ and m.dtype not in (q.dtype, np.float32):
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool, float32 or "
                        f"the query's dtype ({q.dtype}), got {m.dtype}")
    if not _fits(m.shape, tuple(scores_shape)):
        raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {list(m.shape)} "
                         f"does not broadcast to the attention scores' shape (..., L, S) = "
                         f"{list(scores_shape)}")
    return m


def _safe_softmax(scores):
    """softmax over the last axis, except that a row whose scores are all -inf (nothing to
    attend to) gives zeros and a zero gradient, not NaN (PyTorch's ``_safe_softmax``)."""
    if scores.shape[-1] == 0:
        return scores
    xp = get_array_module(scores.data)
    dead = Tensor(xp.all(scores.data == -xp.inf, axis=-1, keepdims=True))   # (..., L, 1)
    return softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q Kᵀ · scale + mask) V, with dropout on the attention weights.

    Args:
        query, key, value: (N, ..., L, E), (N, ..., S, E), (N, ..., S, Ev); the batch
            dimensions broadcast.
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable
            to (N, ..., L, S).
        dropout_p: dropout on the attention weights, applied whenever it is > 0 (there is
            no ``training`` flag: pass 0.0 in evaluation).
        is_causal: query i attends to keys 0..i (the top-left aligned lower triangle of
            an L x S matrix, also when L != S); cannot be combined with ``attn_mask``.
        scale: defaults to 1/√E.
        enable_gqa: grouped-query attention: key/value have Hk heads (dim -3) dividing the
            Hq query heads; each is shared by Hq/Hk consecutive query heads.

    A query row with nothing to attend to (fully masked) gives zeros, as in PyTorch.

    Shape: (N, ..., L, E), (N, ..., S, E), (N, ..., S, Ev) -> (N, ..., L, Ev).

    Example::

        q, k, v = mc.randn(2, 4, 5, 8), mc.randn(2, 4, 7, 8), mc.randn(2, 4, 7, 3)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # (2, 4, 5, 3)
    """
    q, k, v = _check_qkv(query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got "
                         f"{dropout_p}")
    if enable_gqa:
        k, v = _repeat_kv_heads(q, k, v)
    _check_batch("scaled_dot_product_attention", q, k, v)
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0       # E = 0: the scores are all 0
    scores = matmul(q, k.transpose(-2, -1)) * scale     # (N, ..., L, S)
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: an explicit attn_mask cannot be "
                             "combined with is_causal=True: pass one or the other")
        xp = get_array_module(q.data)
        attn_mask = Tensor(xp.tril(xp.ones((L, S), np.bool_)))        # (L, S)
    if attn_mask is not None:
        m = _check_sdpa_mask(attn_mask, q, scores.shape)
        if m.dtype == np.bool_:
            xp = get_array_module(m.data)
            scores = scores.masked_fill(Tensor(xp.logical_not(m.data)), -math.inf)
        else:
            scores = scores + m
    attn = _safe_softmax(scores)                        # (N, ..., L, S)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p)
    return matmul(attn, v)                              # (N, ..., L, Ev)


# ----------------------------------------------------------------------------- masks

def _canonical_mask(mask, mask_name, other, other_name, target_dtype, check_other=True):
    """A bool mask (True = masked out) -> a float mask with -inf there and 0 elsewhere; a
    float mask is returned as it is (PyTorch's ``F._canonical_mask``)."""
    if mask is None:
        return None
    m = as_tensor_arg(mask)
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {mask_name} are supported, got "
                        f"{m.dtype}")
    if check_other and other is not None and as_tensor_arg(other).dtype != m.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      f"Use same type for both instead.", stacklevel=3)
    if m.dtype == np.bool_:
        xp = get_array_module(m.data)
        m = Tensor(xp.where(m.data, -np.inf, 0.0).astype(target_dtype))
    return m


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Raise unless the ranks fit; True for batched (3-D) input, False for unbatched."""
    q, k, v = query, key, value
    if q.ndim not in (2, 3):
        raise ValueError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{q.ndim}-D query tensor (shape {list(q.shape)})")
    batched = q.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"For {kind} `query`, expected `key` and `value` to be {q.ndim}-D but "
                         f"found {k.ndim}-D and {v.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != q.ndim - 1:
        raise ValueError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                         f"{q.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise ValueError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {attn_mask.ndim}-D tensor instead")
        want = (num_heads, q.shape[0], k.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != want:
            raise ValueError(f"Expected `attn_mask` shape to be {list(want)} "
                             f"(num_heads, L, S) but got {list(attn_mask.shape)}")
    return batched


def _attn_mask_3d(attn_mask, bsz, num_heads, tgt_len, src_len):
    """(L, S) -> (1, L, S); (N·num_heads, L, S) is checked and kept."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise ValueError(f"The shape of the 2D attn_mask is {list(attn_mask.shape)}, but "
                             f"should be {[tgt_len, src_len]} (L, S).")
        return attn_mask.unsqueeze(0)
    want = (bsz * num_heads, tgt_len, src_len)
    if tuple(attn_mask.shape) != want:
        raise ValueError(f"The shape of the 3D attn_mask is {list(attn_mask.shape)}, but "
                         f"should be {list(want)} (N·num_heads, L, S).")
    return attn_mask


# ----------------------------------------------------------------------------- MHA

def _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                   q_proj_weight, k_proj_weight, v_proj_weight, use_separate_proj_weight):
    """q, k, v = the three input projections (L, N, E), (S, N, E), (S, N, E)."""
    E = embed_dim
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    if use_separate_proj_weight:
        for w, x, name in ((q_proj_weight, query, "query"), (k_proj_weight, key, "key"),
                           (v_proj_weight, value, "value")):
            if w is None or tuple(w.shape) != (E, x.shape[-1]):
                got = None if w is None else list(w.shape)
                raise ValueError(f"expecting {name} weights shape of {[E, x.shape[-1]]}, "
                                 f"but got {got}")
        return (linear(query, q_proj_weight, bq), linear(key, k_proj_weight, bk),
                linear(value, v_proj_weight, bv))
    if in_proj_weight is None:
        raise ValueError("use_separate_proj_weight is False but in_proj_weight is None")
    if query is key and key is value:                   # self-attention: one GEMM
        return linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    wq, wk, wv = in_proj_weight.chunk(3)                # (E, E) each
    if key is value:                                    # encoder-decoder attention
        wkv = in_proj_weight[E:]
        bkv = None if in_proj_bias is None else in_proj_bias[E:]
        k, v = linear(key, wkv, bkv).chunk(2, dim=-1)
        return linear(query, wq, bq), k, v
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _check_static(static, name, bsz, num_heads, head_dim):
    if static.ndim != 3 or static.shape[0] != bsz * num_heads or static.shape[2] != head_dim:
        raise ValueError(f"expecting {name} of shape (N·num_heads, S, head_dim) = "
                         f"[{bsz * num_heads}, S, {head_dim}], but got {list(static.shape)}")
    return static


def _append_bias_kv(k, v, bias_k, bias_v, attn_mask, key_padding_mask, bsz):
    """One learned key/value at the end of the source sequence (``add_bias_kv``)."""
    k = cat([k, bias_k.repeat(1, bsz, 1)])                      # (S + 1, N, E)
    v = cat([v, bias_v.repeat(1, bsz, 1)])
    if attn_mask is not None:
        attn_mask = pad(attn_mask, (0, 1))
    if key_padding_mask is not None:
        key_padding_mask = pad(key_padding_mask, (0, 1))
    return k, v, attn_mask, key_padding_mask


def _append_zero_attn(k, v, attn_mask, key_padding_mask):
    """A zero key/value at the end of every head's source sequence (``add_zero_attn``)."""
    xp = get_array_module(k.data)
    zeros = Tensor(xp.zeros((k.shape[0], 1, k.shape[2]), k.dtype))   # (N·H, 1, hd)
    k = cat([k, zeros], dim=1)                                    # (N·H, S + 1, hd)
    v = cat([v, zeros.to(v.dtype)], dim=1)
    if attn_mask is not None:
        attn_mask = pad(attn_mask, (0, 1))
    if key_padding_mask is not None:
        key_padding_mask = pad(key_padding_mask, (0, 1))
    return k, v, attn_mask, key_padding_mask


def _merge_key_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len):
    """Add the (N, S) padding mask to every head's rows: (N·H, 1, S) or (N·H, L, S)."""
    if tuple(key_padding_mask.shape) != (bsz, src_len):
        raise ValueError(f"Expected key_padding_mask of shape (N, S) = {[bsz, src_len]}, but "
                         f"got {list(key_padding_mask.shape)}")
    kpm = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
           .reshape(bsz * num_heads, 1, src_len))                 # (N·H, 1, S)
    return kpm if attn_mask is None else attn_mask + kpm


def _weighted_attention(q, k, v, attn_mask, dropout_p):
    """The ``need_weights=True`` path: explicit weights softmax(q kᵀ/√hd + mask), after
    dropout, applied to v. A fully masked row gives NaN here, as in PyTorch. Returns
    (output, weights): q (N·H, L, hd), k and v (N·H, S, hd) -> (N·H, L, hd), (N·H, L, S)."""
    scores = matmul(q * math.sqrt(1.0 / q.shape[-1]), k.transpose(-2, -1))   # (N·H, L, S)
    if attn_mask is not None:
        scores = attn_mask + scores
    with np.errstate(invalid="ignore"):                 # all -inf rows: NaN, silently
        weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, v), weights


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
        training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
        use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
        is_causal=False):
    """Multi-head attention with explicit weights: what ``nn.MultiheadAttention`` runs.

    Project q, k, v, split E into ``num_heads`` heads of E/num_heads, attend per head, join
    the heads and apply the output projection. Masks: bool True = may NOT attend (becomes
    -inf), float = added. ``need_weights=True`` computes the weights explicitly (a fully
    masked row gives NaN); ``need_weights=False`` uses :func:`scaled_dot_product_attention`
    (a fully masked row gives zeros, then out_proj's bias). ``is_causal`` is a hint that
    ``attn_mask`` is the causal mask; it needs that mask.

    Shape (sequence first; unbatched inputs drop N): query (L, N, E), key (S, N, kdim),
    value (S, N, vdim), key_padding_mask (N, S), attn_mask (L, S) or (N·num_heads, L, S),
    static_k/static_v (N·num_heads, S, E/num_heads) -> output (L, N, E) and weights
    (N, L, S) averaged over heads, (N, num_heads, L, S) per head, or None.

    Example::

        m = nn.MultiheadAttention(8, 2)
        out, w = F.multi_head_attention_forward(x, x, x, 8, 2, m.in_proj_weight,
            m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias)
    """
    q_in, k_in, v_in = (as_tensor_arg(t) for t in (query, key, value))
    if query is key:                            # keep identities: they pick the projection
        k_in = q_in
    if key is value:
        v_in = k_in
    key_padding_mask = None if key_padding_mask is None else as_tensor_arg(key_padding_mask)
    attn_mask = None if attn_mask is None else as_tensor_arg(attn_mask)
    batched = _mha_shape_check(q_in, k_in, v_in, key_padding_mask, attn_mask, num_heads)
    if not batched:                             # pretend N = 1, squeeze it at the end
        q_in, k_in, v_in = _map_same(lambda t: t.unsqueeze(1), q_in, k_in, v_in)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = q_in.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask", q_in.dtype)
    if is_causal and attn_mask is None:
        raise ValueError("Need attn_mask if specifying the is_causal hint. You may use the "
                         "Transformer module method `generate_square_subsequent_mask` to "
                         "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None                        # SDPA builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", q_in.dtype, False)
        is_causal = is_causal and key_padding_mask is None
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                         f"got {embed_dim} (query shape {list(q_in.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    kv_dims = 2 if use_separate_proj_weight else 3
    if k_in.shape[:kv_dims] != v_in.shape[:kv_dims]:
        raise ValueError(f"key shape {list(k_in.shape)} does not match value shape "
                         f"{list(v_in.shape)}")

    q, k, v = _in_projection(q_in, k_in, v_in, embed_dim, in_proj_weight, in_proj_bias,
                             q_proj_weight, k_proj_weight, v_proj_weight,
                             use_separate_proj_weight)            # (L, N, E), (S, N, E) x2
    if attn_mask is not None:
        attn_mask = _attn_mask_3d(attn_mask, bsz, num_heads, tgt_len, k_in.shape[0])
    if (bias_k is None) != (bias_v is None):
        raise ValueError("bias_k and bias_v must be given together (or both None)")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("bias cannot be added to static key or value.")
        k, v, attn_mask, key_padding_mask = _append_bias_kv(k, v, bias_k, bias_v, attn_mask,
                                                            key_padding_mask, bsz)
    # heads into the batch: (L, N, E) -> (L, N·H, hd) -> (N·H, L, hd)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else _check_static(as_tensor_arg(static_k), "static_k", bsz, num_heads, head_dim))
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else _check_static(as_tensor_arg(static_v), "static_v", bsz, num_heads, head_dim))
    if add_zero_attn:
        k, v, attn_mask, key_padding_mask = _append_zero_attn(k, v, attn_mask,
                                                              key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        attn_mask = _merge_key_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len)
    if not training:
        dropout_p = 0.0

    if need_weights:
        out, weights = _weighted_attention(q, k, v, attn_mask, dropout_p)   # (N·H, L, hd)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)                                    # (N, L, S)
    else:
        if attn_mask is not None:       # (1, L, S) -> (1, 1, L, S); (N·H, *, S) -> (N, H, *, S)
            attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                         else attn_mask.reshape(bsz, num_heads, -1, src_len))
        q = q.reshape(bsz, num_heads, tgt_len, head_dim)
        k = k.reshape(bsz, num_heads, src_len, head_dim)
        v = v.reshape(bsz, num_heads, src_len, head_dim)
        out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)   # (L·N, E)
        weights = None
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape(tgt_len, bsz, out_proj_weight.shape[0])                # (L, N, E)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _map_same(fn, q, k, v):
    """fn applied to q, k, v, keeping ``q is k`` / ``k is v`` (they choose the projection:
    self-attention projects once)."""
    q2 = fn(q)
    k2 = q2 if k is q else fn(k)
    v2 = k2 if v is k else fn(v)
    return q2, k2, v2


# ----------------------------------------------------------------------------- module

class MultiheadAttention(Module):
    """Multi-head attention: ``out_proj(concat_h softmax(Q_h K_hᵀ/√d + mask) V_h)``.

    Args:
        embed_dim: E, the query (and output) size; split into ``num_heads`` heads of
            E/num_heads. dropout: on the attention weights (training only).
        bias: biases of the input and output projections.
        add_bias_kv: learn one extra key and value appended to the source sequence.
        add_zero_attn: append a zero key and value to every head's source sequence.
        kdim, vdim: key / value sizes (default E); when they differ from E the projections
            are separate parameters ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
            ``v_proj_weight`` (E, vdim) instead of the packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``; see
    :func:`multi_head_attention_forward` for masks and shapes. Parameters start as
    PyTorch's: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v.
    PyTorch's inference fast path is not used: in eval mode, a fully masked query row
    gives NaN there but zeros here (with ``need_weights=False``).

    Shape: query (L, N, E) or (L, E), key (S, N, kdim), value (S, N, vdim) ->
    (L, N, E) and weights (N, L, S) (per head: (N, num_heads, L, S)).

    Example::

        mha = nn.MultiheadAttention(16, 4, batch_first=True)
        out, w = mha(x, x, x)             # x (2, 10, 16): out (2, 10, 16), w (2, 10, 10)
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dtype = np.dtype(dtype or get_default_dtype())
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * E,), dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        self._place(device)

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        q = as_tensor_arg(query)
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                           "attn_mask", q.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", q.dtype, False)
        if self.batch_first and q.ndim == 3:    # (N, L, E) -> (L, N, E), keeping identities
            k = q if key is query else as_tensor_arg(key)
            v = k if value is key else as_tensor_arg(value)
            query, key, value = _map_same(lambda t: t.transpose(1, 0), q, k, v)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and q.ndim == 3:
            out = out.transpose(1, 0)
        return out, weights
