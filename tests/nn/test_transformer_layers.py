"""nn.TransformerEncoderLayer / TransformerEncoder / TransformerDecoderLayer /
TransformerDecoder / Transformer.

Weights come from a seeded NumPy generator through load_state_dict; the expected outputs
and gradients were computed by PyTorch 2.13 (CPU, float64) from the same arrays and are
written out, so the tests need no torch.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck
from test_attention_layers import _close, _seeded, _t

E, H, FF = 4, 2, 6


def _encoder():
    layer = nn.TransformerEncoderLayer(E, H, FF, dtype=mc.float64)
    return nn.TransformerEncoder(layer, 2, nn.LayerNorm(E, dtype=mc.float64))


# ============================================================================ values

def test_encoder_with_padding_mask_in_eval_matches_torch():
    enc = _seeded(_encoder(), 4).eval()
    rng = np.random.default_rng(4)
    x = _t(rng.standard_normal((4, 2, E)), True)
    kpm = _t(np.array([[False, False, False, True], [False, True, False, False]]))
    out = enc(x, src_key_padding_mask=kpm)
    _close(out[0], [[0.3263381689, -0.8721458998, 0.1039829207, -1.5652458316],
                    [0.433387698, -0.9065009699, 0.1199140374, -1.5823739883]])
    _close(out[3], [[0.3399647327, -0.8792999829, 0.1065688148, -1.5738849559],
                    [0.4374972072, -0.9243775997, 0.1293817537, -1.4804456687]])
    out.backward(_t(rng.standard_normal((4, 2, E))))
    _close(x.grad[:, 1], [[0.1966719432, -0.1597032847, -0.074176283, -0.0468617186],
                          [-0.0053414, 0.0017338801, -0.000476581, 0.0010818248],
                          [-0.0399774819, -0.1452268569, -0.1115472871, 0.1727571233],
                          [-0.0219525009, -0.0052421061, 0.0003184191, -0.0014532378]])
    _close(enc.layers[1].linear1.weight.grad[2:5],
           [[-0.7111267648, 0.3404664784, 0.374385163, -0.3429688928],
            [0.1380681625, -0.0096205092, -0.0877228508, 0.040409268],
            [0.0, 0.0, 0.0, 0.0]])


def test_decoder_layer_norm_first_gelu_batch_first_matches_torch():
    layer = nn.TransformerDecoderLayer(E, H, FF, 0.0, "gelu", batch_first=True,
                                       norm_first=True, dtype=mc.float64)
    _seeded(layer, 5)
    rng = np.random.default_rng(5)
    tgt, mem = _t(rng.standard_normal((2, 3, E))), _t(rng.standard_normal((2, 4, E)))
    mkpm = _t(np.array([[False, False, True, True], [False, False, False, False]]))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=mc.float64)
    out = layer(tgt, mem, tgt_mask=mask, memory_key_padding_mask=mkpm, tgt_is_causal=True)
    _close(out, [[[-1.5549764639, -3.2300508501, 0.1724159932, -0.2328625824],
                  [0.3732661749, -1.6268988775, 0.0343505084, -0.8833672859],
                  [-0.4209004549, 0.1918066386, 0.8837486638, -1.2144449049]],
                 [[-2.2471589361, 0.9996932582, 0.387878828, -1.2756101775],
                  [-1.4160411314, -0.957579951, -0.3043936096, 0.7721104896],
                  [-1.9941055698, 0.4322578996, 0.2358234126, 0.307212813]]])


def test_transformer_unbatched_matches_torch():
    model = _seeded(nn.Transformer(E, H, 1, 1, FF, 0.0, dtype=mc.float64), 6)
    rng = np.random.default_rng(6)
    src, tgt = _t(rng.standard_normal((4, E))), _t(rng.standard_normal((3, E)))
    out = model(src, tgt, src_key_padding_mask=_t(np.array([False, False, True, False])))
    _close(out, [[0.8736844557, 0.3856220253, -0.2779513566, -0.1559829129],
                 [0.8716235866, 0.387237539, -0.2912410884, -0.1493343553],
                 [0.8674155009, 0.3895637656, -0.3143351432, -0.1410125241]])


# ============================================================================ structure

def test_state_dict_keys_follow_torch():
    layer = nn.TransformerEncoderLayer(E, H, FF)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
    dec = nn.TransformerDecoderLayer(E, H, FF, bias=False)
    assert list(dec.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight",
        "multihead_attn.in_proj_weight", "multihead_attn.out_proj.weight", "linear1.weight",
        "linear2.weight", "norm1.weight", "norm2.weight", "norm3.weight"]
    keys = list(nn.Transformer(E, H, 2, 1, FF).state_dict())
    assert len(keys) == 2 * 12 + 2 + 18 + 2
    assert keys[0] == "encoder.layers.0.self_attn.in_proj_weight"
    assert "encoder.norm.weight" in keys and "decoder.layers.0.norm3.bias" in keys


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(E, H, FF)
    enc = nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and enc.num_layers == 3 and enc.norm is None
    w = [enc.layers[i].linear1.weight for i in range(3)]
    np.testing.assert_array_equal(w[0].detach().numpy(), w[2].detach().numpy())
    with mc.no_grad():
        w[0].mul_(2.0)
    assert not np.allclose(w[0].detach().numpy(), w[1].detach().numpy())
    assert w[1] is not layer.linear1.weight
    assert enc.enable_nested_tensor and not enc.use_nested_tensor


def test_transformer_reinitialises_matrices_with_xavier():
    mc.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()        # (16, 8)
    bound = math.sqrt(6 / (16 + 8))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.all(model.encoder.layers[0].self_attn.in_proj_bias.detach().numpy() == 0)
    assert model.d_model == 8 and model.nhead == 2 and not model.batch_first


def test_activations():
    assert nn.TransformerEncoderLayer(E, H, FF).activation is F.relu
    gelu = nn.TransformerEncoderLayer(E, H, FF, activation="gelu")
    assert gelu.activation is F.gelu and gelu.activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(E, H, FF, activation=nn.ReLU()).activation_relu_or_gelu == 1
    custom = nn.TransformerDecoderLayer(E, H, FF, activation=F.silu)
    assert custom.activation is F.silu
    with pytest.raises(ValueError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(E, H, FF, activation="tanh")
    x = mc.randn(3, 2, E, dtype=mc.float64)
    relu = _seeded(nn.TransformerEncoderLayer(E, H, FF, 0.0, dtype=mc.float64), 1)
    silu = nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=F.silu, dtype=mc.float64)
    silu.load_state_dict(relu.state_dict())
    assert not np.allclose(relu(x).detach().numpy(), silu(x).detach().numpy())


def test_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == mc.float32 and m.shape == (3, 3)
    assert m.tolist() == [[0.0, -math.inf, -math.inf], [0.0, 0.0, -math.inf],
                          [0.0, 0.0, 0.0]]
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=mc.float64).dtype \
        == mc.float64


# ============================================================================ semantics

def test_masks_and_causal_hints_agree():
    enc = _seeded(_encoder(), 2).eval()                 # no dropout
    x = mc.randn(4, 2, E, dtype=mc.float64)
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=mc.float64)
    ref = enc(x, mask=causal).detach().numpy()
    _close(enc(x, mask=causal, is_causal=True), ref, 1e-13)
    _close(enc(x, mask=_t(np.triu(np.ones((4, 4), bool), 1))), ref, 1e-13)
    bool_kpm = _t(np.array([[False, False, True, True], [False] * 4]))
    float_kpm = _t(np.where(bool_kpm.numpy(), -math.inf, 0.0))
    _close(enc(x, src_key_padding_mask=bool_kpm), enc(x, src_key_padding_mask=float_kpm))
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and mask"):
        enc(x, mask=causal, src_key_padding_mask=bool_kpm)
    with pytest.raises(ValueError, match="Need attn_mask if specifying the is_causal hint"):
        enc(x, is_causal=True)
    with pytest.raises(TypeError, match="only bool and floating types of src_mask"):
        enc.layers[0](x, src_mask=mc.zeros(4, 4, dtype=mc.int64))


def test_norm_first_differs_from_post_norm():
    post = nn.TransformerEncoderLayer(E, H, FF, 0.0, dtype=mc.float64)   # norm: γ=1, β=0
    pre = nn.TransformerEncoderLayer(E, H, FF, 0.0, norm_first=True, dtype=mc.float64)
    pre.load_state_dict(post.state_dict())
    x = mc.randn(3, 2, E, dtype=mc.float64)
    y = post(x).detach().numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)       # ends with a LayerNorm
    assert not np.allclose(pre(x).detach().numpy(), y)


def test_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.5, dtype=mc.float64)
    plain = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, dtype=mc.float64)
    plain.load_state_dict(layer.state_dict())
    x = mc.randn(3, 2, E, dtype=mc.float64)
    layer.eval()
    _close(layer(x), plain(x), 1e-14)
    layer.train()
    mc.manual_seed(1)
    a = layer(x).detach().numpy()
    mc.manual_seed(1)
    _close(layer(x), a, 0)
    assert not np.allclose(a, plain(x).detach().numpy())


def test_batch_first_and_unbatched_agree():
    seq = _seeded(nn.TransformerDecoderLayer(E, H, FF, 0.0, dtype=mc.float64), 8)
    bf = nn.TransformerDecoderLayer(E, H, FF, 0.0, batch_first=True, dtype=mc.float64)
    bf.load_state_dict(seq.state_dict())
    rng = np.random.default_rng(8)
    tgt, mem = rng.standard_normal((3, 2, E)), rng.standard_normal((5, 2, E))
    ref = seq(_t(tgt), _t(mem)).detach().numpy()
    _close(bf(_t(tgt.transpose(1, 0, 2)), _t(mem.transpose(1, 0, 2))), ref.transpose(1, 0, 2))
    _close(seq(_t(tgt[:, 1]), _t(mem[:, 1])), ref[:, 1])
    dec = nn.TransformerDecoder(seq, 2)
    assert dec(_t(tgt), _t(mem)).shape == (3, 2, E)


def test_custom_encoder_decoder_and_errors():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF), 1)
    model = nn.Transformer(E, H, custom_encoder=enc, num_decoder_layers=1, dim_feedforward=FF)
    assert model.encoder is enc
    src, tgt = mc.randn(5, 2, E), mc.randn(3, 2, E)
    assert model(src, tgt).shape == (3, 2, E)
    with pytest.raises(ValueError, match="batch number of src and tgt must be equal"):
        model(src, mc.randn(3, 1, E))
    with pytest.raises(ValueError, match="feature number of src and tgt must be equal to "
                                         "d_model=4"):
        model(src, mc.randn(3, 2, 5))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.TransformerEncoderLayer(6, 4)


# ============================================================================ gradients

@given(seed=hs.integers(0, 2 ** 16), norm_first=hs.booleans(), causal=hs.booleans())
def test_encoder_layer_gradcheck(seed, norm_first, causal):
    layer = nn.TransformerEncoderLayer(E, H, 3, 0.0, norm_first=norm_first, dtype=mc.float64)
    _seeded(layer, seed)
    x = _t(np.random.default_rng(seed).standard_normal((3, 1, E)), True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=mc.float64)
    fn = (lambda t: layer(t, src_mask=mask, is_causal=True)) if causal else layer
    gradcheck(fn, (x,))


@given(seed=hs.integers(0, 2 ** 16))
def test_decoder_layer_gradcheck(seed):
    layer = _seeded(nn.TransformerDecoderLayer(E, H, 3, 0.0, dtype=mc.float64), seed)
    rng = np.random.default_rng(seed)
    tgt, mem = _t(rng.standard_normal((2, E)), True), _t(rng.standard_normal((3, E)), True)
    gradcheck(lambda a, b: layer(a, b), (tgt, mem))
