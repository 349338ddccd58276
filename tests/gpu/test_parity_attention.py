"""CPU/GPU parity of scaled_dot_product_attention, MultiheadAttention and the Transformer
layers: values, gradients, dtypes and errors must agree between the NumPy and CuPy paths.
Marked ``gpu`` (skipped without CuPy; runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
from minicv.nn import functional as F
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(12)
MASK = np.array([[True, False, True, True, False], [False] * 5,
                 [True, True, False, False, True]])


def randn(*shape):
    return R.standard_normal(shape)


def _seeded(module, seed, device):
    rng = np.random.default_rng(seed)
    module.load_state_dict({k: rng.standard_normal(v.shape) * 0.5
                            for k, v in module.state_dict().items()})
    return module.to(device)


def test_sdpa_masks_causal_gqa_and_dropout():
    sdpa = F.scaled_dot_product_attention
    q, k, v = randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3)
    _same(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m), q, k, v, MASK)   # a dead row
    _same(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m, scale=0.7), q, k, v, randn(2, 1, 5))
    _same(lambda a, b, c: sdpa(a, b, c, is_causal=True), q, k, v)
    _same(lambda a, b, c: sdpa(a, b, c, is_causal=True), k, q, q)          # L > S
    _same(lambda a, b, c: sdpa(a, b, c, enable_gqa=True),
          randn(1, 4, 3, 2), randn(1, 2, 5, 2), randn(1, 1, 5, 3))
    _same(lambda a, b, c: sdpa(a, b, c), q.astype(np.float32), k.astype(np.float32),
          v.astype(np.float32), rtol=1e-5, atol=1e-6)

    def dropped(a, b, c):
        mc.manual_seed(0)                    # masks are drawn on the host: same on both
        return sdpa(a, b, c, dropout_p=0.5)
    _same(dropped, q, k, v)


def test_sdpa_errors():
    sdpa = F.scaled_dot_product_attention
    q, k, v = randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3)
    _same_error(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m), q, k, v, MASK[:, :4],
                match="does not broadcast")
    _same_error(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m, is_causal=True), q, k, v, MASK,
                match="is_causal")


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention(need_weights):
    def fn(q, k, v, kpm, am):
        mha = _seeded(nn.MultiheadAttention(4, 2, add_zero_attn=True, kdim=3,
                                            dtype=mc.float64), 1, q.device)
        out, w = mha(q, k, v, key_padding_mask=kpm, attn_mask=am, need_weights=need_weights)
        return out if w is None else out.sum() + (w * w).sum()
    kpm = np.array([[False, True, False, False, False], [False, False, False, True, True]])
    _same(fn, randn(3, 2, 4), randn(5, 2, 3), randn(5, 2, 4), kpm, MASK)

    def self_attn(x):
        mha = _seeded(nn.MultiheadAttention(4, 2, batch_first=True, dtype=mc.float64), 2,
                      x.device)
        return mha(x, x, x, average_attn_weights=False)[1]
    _same(self_attn, randn(2, 3, 4))


def test_transformer_layers():
    def enc(x):
        layer = nn.TransformerEncoderLayer(4, 2, 6, 0.0, "gelu", dtype=mc.float64)
        m = _seeded(nn.TransformerEncoder(layer, 2), 3, x.device)
        mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=mc.float64,
                                                              device=x.device)
        return m(x, mask=mask, is_causal=True)
    _same(enc, randn(3, 2, 4))

    def dec(t, mem, kpm):
        m = _seeded(nn.TransformerDecoderLayer(4, 2, 6, 0.0, norm_first=True,
                                               dtype=mc.float64), 4, t.device)
        return m(t, mem, memory_key_padding_mask=kpm)
    _same(dec, randn(3, 2, 4), randn(5, 2, 4), MASK[:2])
