"""F.scaled_dot_product_attention, F.multi_head_attention_forward, nn.MultiheadAttention.

Inputs and weights come from seeded NumPy generators; the expected values were computed by
PyTorch 2.13 (CPU, float64) from the same arrays (weights copied in with load_state_dict)
and are written out, so the tests need no torch. Gradients: hard-coded torch values where
a convention matters (fully masked rows), float64 gradchecks otherwise.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck

INF = math.inf


def _t(a, grad=False):
    return mc.tensor(np.asarray(a), requires_grad=grad)


def _close(t, want, atol=1e-9):
    got, want = (a.detach().numpy() if isinstance(a, mc.Tensor) else np.asarray(a)
                 for a in (t, want))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=atol)


def _seeded(module, seed):
    """Fill every state_dict entry of ``module`` from a seeded generator (the torch probe
    loaded the same arrays into the torch module)."""
    rng = np.random.default_rng(seed)
    module.load_state_dict({k: rng.standard_normal(v.shape) * 0.5
                            for k, v in module.state_dict().items()})
    return module


# ============================================================================ SDPA values

def _qkv():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)),
            rng.standard_normal((2, 5, 3)), rng)


def test_sdpa_bool_mask_and_fully_masked_row_gives_zeros():
    q, k, v, _ = _qkv()
    mask = np.array([[True, False, True, True, False], [False] * 5,
                     [True, True, False, False, True]])
    tq, tk, tv = _t(q, True), _t(k, True), _t(v, True)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=_t(mask))
    _close(out, [[[-0.1627892076, 0.9314537692, 0.1638463663], [0.0, 0.0, 0.0],
                  [0.7024175394, 0.3925517205, -0.6469522425]],
                 [[0.0892239064, 1.0446391436, 0.5249445884], [0.0, 0.0, 0.0],
                  [0.4650856203, -0.675289336, -1.0481980852]]])
    out.backward(mc.ones(2, 3, 3, dtype=mc.float64))
    # torch: the fully masked query row gets a zero gradient, nothing is NaN
    assert np.all(tq.grad.numpy()[:, 1] == 0)
    for t in (tq, tk, tv):
        assert np.isfinite(t.grad.numpy()).all()


def test_sdpa_float_mask_broadcasts_and_scale():
    q, k, v, rng = _qkv()
    mask = rng.standard_normal((2, 1, 5))
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(mask), scale=0.7)
    _close(out, [[[0.349755933, 0.7047839222, -0.4006010539],
                  [-0.2606083008, 1.1289941645, -0.4456559096],
                  [0.841877744, 0.6201903956, -1.2050048203]],
                 [[0.3901597717, 0.7369219057, 0.9038746705],
                  [1.0427584806, 0.2943583464, 0.1931235659],
                  [0.241346733, 0.4093569302, 0.5285221814]]])


def test_sdpa_is_causal_is_top_left_aligned_for_l_neq_s():
    q, k, v, _ = _qkv()
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True)   # L=3 < S=5
    _close(out, [[[0.3289696295, -0.2585725455, 1.5834728788],
                  [0.9579452902, 0.3072980542, -0.8191302557],
                  [0.7309937994, 0.3889708771, -0.3450619755]],
                 [[2.0023925836, 0.1885191925, -0.6331940902],
                  [1.8306771869, 0.0961904989, -0.6796941844],
                  [0.4986668988, -0.0177764942, 0.1846364683]]])
    tril = _t(np.tril(np.ones((3, 5), bool)))
    _close(out, F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=tril))
    out = F.scaled_dot_product_attention(_t(k), _t(q), _t(q), is_causal=True)   # L=5 > S=3
    _close(out[0, :2], [[0.1257302211, -0.1321048633, 0.6404226504, 0.1049001172],
                        [-0.1691737596, 0.0880254066, 0.936297666, 0.4804106045]])
    _close(out[1, 4], [-1.0502617645, -0.1264716783, -0.198498678, 0.4331441087])


def test_sdpa_grouped_query_attention():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in ((1, 4, 3, 2), (1, 2, 5, 2), (1, 1, 5, 3)))
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), enable_gqa=True)
    want = F.scaled_dot_product_attention(_t(q), _t(np.repeat(k, 2, axis=1)),
                                          _t(np.repeat(v, 4, axis=1)))
    assert out.shape == (1, 4, 3, 3)
    _close(out, want, atol=1e-14)
    tk = _t(k, True)
    F.scaled_dot_product_attention(_t(q), tk, _t(v), enable_gqa=True).sum().backward()
    assert tk.grad.shape == (1, 2, 5, 2)             # summed over the shared query heads


def test_sdpa_awkward_inputs():
    q, k, v, _ = _qkv()
    # 2-D inputs, broadcasting batch dims, non-contiguous views
    two_d = F.scaled_dot_product_attention(_t(q[0]), _t(k[0]), _t(v[0]))
    _close(two_d, F.scaled_dot_product_attention(_t(q), _t(k), _t(v))[0], 1e-14)
    out = F.scaled_dot_product_attention(_t(q), _t(k[0]), _t(v[:1]))
    _close(out[1], F.scaled_dot_product_attention(_t(q[1]), _t(k[0]), _t(v[0])), 1e-14)
    kt = _t(k.transpose(0, 2, 1).copy()).transpose(1, 2)               # a strided view
    _close(F.scaled_dot_product_attention(_t(q), kt, _t(v)),
           F.scaled_dot_product_attention(_t(q), _t(k), _t(v)).detach().numpy(), 1e-14)
    # E = 0: all scores 0, the mean of v (torch too); S = 0: zeros
    z = mc.zeros(0, dtype=mc.float64)
    _close(F.scaled_dot_product_attention(z.reshape(3, 0), z.reshape(5, 0), _t(v[0])),
           np.broadcast_to(v[0].mean(0), (3, 3)), 1e-14)
    empty = F.scaled_dot_product_attention(_t(q[0]), mc.zeros(0, 4, dtype=mc.float64),
                                           mc.zeros(0, 6, dtype=mc.float64))
    assert empty.shape == (3, 6) and np.all(empty.detach().numpy() == 0)
    assert F.scaled_dot_product_attention(mc.zeros(0, 4), mc.zeros(5, 4),
                                          mc.zeros(5, 2)).shape == (0, 2)
    # float32 stays float32; a float32 mask with float64 inputs is allowed (torch too)
    assert F.scaled_dot_product_attention(mc.ones(3, 4), mc.ones(5, 4),
                                          mc.ones(5, 2)).dtype == mc.float32
    assert F.scaled_dot_product_attention(_t(q), _t(k), _t(v),
                                          attn_mask=mc.zeros(3, 5)).dtype == mc.float64


def test_sdpa_dropout_is_applied_whenever_p_is_positive():
    q, k, v, _ = _qkv()
    args = (_t(q), _t(k), _t(v))
    assert np.all(F.scaled_dot_product_attention(*args, dropout_p=1.0).detach().numpy() == 0)
    mc.manual_seed(0)
    a = F.scaled_dot_product_attention(*args, dropout_p=0.5).detach().numpy()
    mc.manual_seed(0)
    b = F.scaled_dot_product_attention(*args, dropout_p=0.5).detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, F.scaled_dot_product_attention(*args).detach().numpy())


def test_sdpa_errors():
    q, k, v, _ = _qkv()
    tq, tk, tv = _t(q), _t(k), _t(v)
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(ValueError, match="cannot be combined with is_causal"):
        sdpa(tq, tk, tv, attn_mask=mc.ones(3, 5, dtype=mc.bool), is_causal=True)
    with pytest.raises(ValueError, match=r"attn_mask of shape \[4, 5\].*\[2, 3, 5\]"):
        sdpa(tq, tk, tv, attn_mask=mc.ones(4, 5, dtype=mc.bool))
    with pytest.raises(ValueError, match=r"\[7, 2, 3, 5\]"):
        sdpa(tq, tk, tv, attn_mask=mc.ones(7, 2, 3, 5, dtype=mc.bool))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(tq, tk, tv, attn_mask=mc.ones(3, 5, dtype=mc.int64))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(mc.ones(3, 4), mc.ones(5, 4), mc.ones(5, 2), attn_mask=_t(np.zeros((3, 5))))
    with pytest.raises(TypeError, match="same dtype"):
        sdpa(tq, tk.float(), tv)
    with pytest.raises(TypeError, match="floating"):
        sdpa(mc.ones(3, 4, dtype=mc.int64), mc.ones(5, 4, dtype=mc.int64),
             mc.ones(5, 4, dtype=mc.int64))
    with pytest.raises(ValueError, match="at least 2-D"):
        sdpa(mc.ones(4), mc.ones(4), mc.ones(4))
    with pytest.raises(ValueError, match="must agree in E and S"):
        sdpa(tq, tk[..., :3], tv)
    with pytest.raises(ValueError, match="must agree in E and S"):
        sdpa(tq, tk, tv[:, :4])
    with pytest.raises(ValueError, match="do not broadcast"):
        sdpa(tq, _t(np.zeros((3, 5, 4))), _t(np.zeros((3, 5, 3))))
    with pytest.raises(ValueError, match="must divide the number of query heads"):
        sdpa(mc.ones(1, 3, 2, 4), mc.ones(1, 2, 5, 4), mc.ones(1, 2, 5, 4), enable_gqa=True)
    with pytest.raises(ValueError, match="enable_gqa needs a head dimension"):
        sdpa(mc.ones(3, 4), mc.ones(5, 4), mc.ones(5, 4), enable_gqa=True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sdpa(tq, tk, tv, dropout_p=1.5)


@given(L=hs.integers(1, 3), S=hs.integers(1, 3), seed=hs.integers(0, 2 ** 16),
       mode=hs.sampled_from(["none", "bool", "float", "causal"]))
def test_sdpa_gradcheck(L, S, seed, mode):
    rng = np.random.default_rng(seed)
    q, k, v = (_t(rng.standard_normal(s), True) for s in ((2, L, 3), (2, S, 3), (1, S, 2)))
    inputs, kw = [q, k, v], {}
    if mode == "bool":
        kw["attn_mask"] = _t(rng.random((L, S)) < 0.7)       # may mask whole rows
    elif mode == "causal":
        kw["is_causal"] = True
    elif mode == "float":
        inputs.append(_t(rng.standard_normal((2, 1, S)), True))

    def fn(*ts):
        mask = ts[3] if len(ts) > 3 else kw.get("attn_mask")
        return F.scaled_dot_product_attention(*ts[:3], attn_mask=mask,
                                              is_causal=kw.get("is_causal", False))
    gradcheck(fn, inputs)


# ============================================================================ MHA values

def test_mha_self_attention_with_bool_masks_matches_torch():
    mha = _seeded(nn.MultiheadAttention(4, 2, dtype=mc.float64), 1)
    rng = np.random.default_rng(1)
    x = _t(rng.standard_normal((3, 2, 4)), True)
    am = _t(np.array([[False, True, False], [False, False, True], [True, False, False]]))
    kpm = _t(np.array([[False, False, True], [False, False, False]]))
    out, w = mha(x, x, x, attn_mask=am, key_padding_mask=kpm)
    _close(out, [[[-0.119016806, -0.4434096243, -1.2504063817, -0.8733481061],
                  [0.7202801604, -0.9836007649, -1.5136262539, -0.8568079573]],
                 [[0.2986266147, -0.6827554102, -1.4106910145, -0.9394229466],
                  [0.4353334708, -0.866905465, -1.0854785943, -0.7823402905]],
                 [[0.5669262085, -0.8355712025, -1.5149612718, -0.9843194541],
                  [0.3633963381, -0.9398402299, -0.9409266045, -0.6147284776]]])
    _close(w, [[[1.0, 0.0, 0.0], [0.3883212498, 0.6116787502, 0.0], [0.0, 1.0, 0.0]],
               [[0.3458233544, 0.0, 0.6541766456], [0.4608963583, 0.5391036417, 0.0],
                [0.0, 0.5417104645, 0.4582895355]]])
    out.backward(_t(rng.standard_normal((3, 2, 4))))
    _close(x.grad, [[[-0.8975697201, -0.5177693224, -0.1919020927, -0.9261840088],
                     [-0.2424719953, -0.7468866599, -0.1217303173, -0.2262794834]],
                    [[-0.4501458543, 0.1603750501, -0.048413412, -0.6094950919],
                     [-0.042924295, -0.2378619115, -0.0019175432, 0.0241517134]],
                    [[0.0, 0.0, 0.0, 0.0],
                     [-0.1771951516, -0.9466593943, -0.4332715768, -0.4517139188]]])
    _close(mha.in_proj_bias.grad, [0.0267986089, -0.055262855, 0.2532429452, 0.4522006569,
                                   0.0, 0.0, 0.0, 0.0, -1.659379168, -0.6942465865,
                                   3.481343582, 0.5062164876])


def test_mha_separate_projections_bias_kv_zero_attn_batch_first():
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5,
                                batch_first=True, dtype=mc.float64)
    assert list(mha.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                      "in_proj_bias", "bias_k", "bias_v",
                                      "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_weight is None and mha.k_proj_weight.shape == (4, 3)
    _seeded(mha, 2)
    rng = np.random.default_rng(2)
    q, k, v = (_t(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 4, 3), (2, 4, 5)))
    out, w = mha(q, k, v, key_padding_mask=_t(rng.standard_normal((2, 4))),
                 need_weights=False)
    assert w is None
    _close(out, [[[0.4205942558, -0.6765765008, -1.2293244452, -0.116938042],
                  [0.8635665077, -1.1899974599, -1.5109394938, -0.3057675947],
                  [0.5827057526, -0.6903101749, -1.3253994508, -0.1461001126]],
                 [[-0.5131334364, 0.048483789, -0.7699294822, -0.3571290086],
                  [-0.4926532855, -0.005612545, -0.7854265061, -0.4058642637],
                  [-0.6378363756, 0.0440654108, -0.5653828193, -0.4996714098]]])


def test_mha_unbatched_3d_float_mask_per_head_weights():
    mha = _seeded(nn.MultiheadAttention(4, 2, dtype=mc.float64), 3)
    rng = np.random.default_rng(3)
    q, k = _t(rng.standard_normal((3, 4))), _t(rng.standard_normal((5, 4)))
    out, w = mha(q, k, k, attn_mask=_t(rng.standard_normal((2, 3, 5))),
                 average_attn_weights=False)
    _close(out, [[-0.0049481862, 0.3537389965, 0.2766346616, 0.6949540268],
                 [0.1047318267, 0.1519914197, -0.0779924006, -0.1443924386],
                 [1.0263213901, 0.6756540483, -0.7639953105, -1.5857344095]])
    assert w.shape == (2, 3, 5)
    _close(w[0, 0], [0.0046147508, 0.2632740107, 0.0227123371, 0.7093282197, 7.06817e-05])
    _close(w[1, 2], [2.981e-07, 0.0601262583, 0.0281596602, 0.911692844, 2.09394e-05])


def test_mha_weight_shapes_and_need_weights():
    mha = nn.MultiheadAttention(6, 3, kdim=2, vdim=5)
    q, k, v = mc.randn(4, 2, 6), mc.randn(7, 2, 2), mc.randn(7, 2, 5)
    out, w = mha(q, k, v)
    assert out.shape == (4, 2, 6) and w.shape == (2, 4, 7)
    assert mha(q, k, v, average_attn_weights=False)[1].shape == (2, 3, 4, 7)
    assert mha(q[:, 0], k[:, 0], v[:, 0])[1].shape == (4, 7)
    assert mha(q[:, 0], k[:, 0], v[:, 0], average_attn_weights=False)[1].shape == (3, 4, 7)
    out2, none = mha(q, k, v, need_weights=False)
    assert none is None
    _close(out2, out, atol=1e-5)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1, rtol=1e-5)


def test_mha_fully_masked_rows_nan_with_weights_bias_without():
    mha = _seeded(nn.MultiheadAttention(4, 2, dtype=mc.float64), 1)
    x = _t(np.random.default_rng(0).standard_normal((3, 2, 4)))
    kpm = _t(np.array([[True, True, True], [False, False, True]]))
    out, w = mha(x, x, x, key_padding_mask=kpm)           # torch: NaN for batch 0
    assert np.isnan(out.detach().numpy()[:, 0]).all() and np.isnan(w.detach().numpy()[0]).all()
    assert np.isfinite(out.detach().numpy()[:, 1]).all()
    out, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)   # torch: SDPA's zeros
    _close(out[:, 0], np.broadcast_to(mha.out_proj.bias, (3, 4)))


def test_mha_mask_forms_agree():
    mha = nn.MultiheadAttention(4, 2, dtype=mc.float64)
    x = _t(np.random.default_rng(5).standard_normal((3, 2, 4)))
    causal = np.triu(np.ones((3, 3), bool), 1)
    ref = mha(x, x, x, attn_mask=_t(causal))
    fl = mha(x, x, x, attn_mask=_t(np.where(causal, -INF, 0.0)))
    per_head = mha(x, x, x, attn_mask=_t(np.broadcast_to(causal, (4, 3, 3)).copy()))
    hint = mha(x, x, x, attn_mask=_t(causal), is_causal=True, need_weights=False)
    for other in (fl, per_head):
        _close(other[0], ref[0], 1e-13)
        _close(other[1], ref[1], 1e-13)
    _close(hint[0], ref[0], 1e-13)
    kb = _t(np.array([[False, True, False], [False, False, False]]))
    kf = _t(np.array([[0.0, -INF, 0.0], [0.0, 0.0, 0.0]]))
    _close(mha(x, x, x, key_padding_mask=kb)[0], mha(x, x, x, key_padding_mask=kf)[0])
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=kb, attn_mask=_t(np.zeros((3, 3))))


def test_mha_initialisation_and_parameters():
    mc.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                      "out_proj.weight", "out_proj.bias"]
    w = mha.in_proj_weight.detach().numpy()
    assert w.shape == (24, 8) and np.abs(w).max() <= math.sqrt(6 / (8 + 24))
    assert np.abs(w).max() > 0.8 * math.sqrt(6 / (8 + 24))        # xavier_uniform_ bound
    assert np.all(mha.in_proj_bias.detach().numpy() == 0)
    assert np.all(mha.out_proj.bias.detach().numpy() == 0)
    assert np.abs(mha.out_proj.weight.detach().numpy()).max() <= 1 / math.sqrt(8)   # Linear's init
    assert mha.bias_k.shape == (1, 1, 8) and np.any(mha.bias_k.detach().numpy() != 0)
    assert isinstance(mha.out_proj, nn.Linear) and mha.head_dim == 4
    no_bias = nn.MultiheadAttention(8, 2, bias=False)
    assert list(no_bias.state_dict()) == ["in_proj_weight", "out_proj.weight"]
    assert no_bias.bias_k is None and no_bias.in_proj_bias is None


def test_mha_dropout_only_in_training():
    x = mc.randn(5, 2, 8, dtype=mc.float64)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, dtype=mc.float64)
    plain = nn.MultiheadAttention(8, 2, dtype=mc.float64)
    plain.load_state_dict(mha.state_dict())
    mha.eval()
    _close(mha(x, x, x)[0], plain(x, x, x)[0], 1e-14)
    mha.train()
    mc.manual_seed(3)
    out, w = mha(x, x, x, average_attn_weights=False)
    mc.manual_seed(3)
    _close(mha(x, x, x, average_attn_weights=False)[0], out, 0)
    assert not np.allclose(out.detach().numpy(), plain(x, x, x)[0].detach().numpy())
    # torch returns the weights after dropout: zeros or scaled by 2
    assert np.any(w.detach().numpy() == 0) and np.any(w.detach().numpy() > 0)


def test_mha_functional_with_static_kv():
    mha = _seeded(nn.MultiheadAttention(4, 2, dtype=mc.float64), 7)
    x = _t(np.random.default_rng(7).standard_normal((3, 2, 4)))
    W, b = mha.in_proj_weight, mha.in_proj_bias
    k = F.linear(x, W[4:8], b[4:8]).reshape(3, 4, 2).transpose(0, 1)       # (N·H, S, hd)
    v = F.linear(x, W[8:], b[8:]).reshape(3, 4, 2).transpose(0, 1)
    args = (4, 2, W, b, None, None, False, 0.0, mha.out_proj.weight, mha.out_proj.bias)
    out, w = F.multi_head_attention_forward(x, x, x, *args, static_k=k, static_v=v)
    ref, rw = mha(x, x, x)
    _close(out, ref, 1e-13)
    _close(w, rw, 1e-13)
    with pytest.raises(ValueError, match="static_k"):
        F.multi_head_attention_forward(x, x, x, *args, static_k=k[:3], static_v=v)


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 1)
    mha = nn.MultiheadAttention(4, 2)
    x = mc.randn(3, 2, 4)
    with pytest.raises(ValueError, match=r"2D attn_mask is \[3, 4\], but should be \[3, 3\]"):
        mha(x, x, x, attn_mask=mc.zeros(3, 4))
    with pytest.raises(ValueError, match=r"3D attn_mask is \[2, 3, 3\], but should be "
                                         r"\[4, 3, 3\]"):
        mha(x, x, x, attn_mask=mc.zeros(2, 3, 3))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(N, S\) = \[2, 3\], "
                                         r"but got \[2, 4\]"):
        mha(x, x, x, key_padding_mask=mc.zeros(2, 4, dtype=mc.bool))
    with pytest.raises(TypeError, match="only bool and floating types of key_padding_mask"):
        mha(x, x, x, key_padding_mask=mc.zeros(2, 3, dtype=mc.int64))
    with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
        mha(x, x, x, attn_mask=mc.zeros(3, 3, dtype=mc.int64))
    with pytest.raises(ValueError, match="unbatched 2D or batched 3D"):
        mha(x[None], x[None], x[None])
    with pytest.raises(ValueError, match="expected `key` and `value` to be 3-D"):
        mha(x, x[:, 0], x)
    with pytest.raises(ValueError, match="expected `key_padding_mask` to be `None` or 2-D"):
        mha(x, x, x, key_padding_mask=mc.zeros(3, dtype=mc.bool))
    with pytest.raises(ValueError, match=r"Expected `attn_mask` shape to be \[2, 3, 3\]"):
        mha(x[:, 0], x[:, 0], x[:, 0], attn_mask=mc.zeros(1, 3, 3))
    with pytest.raises(ValueError, match="expecting embedding dimension of 4, but got 5"):
        mha(mc.randn(3, 2, 5), x, x)
    with pytest.raises(ValueError, match="key shape"):
        mha(x, x, mc.randn(2, 2, 4))
    with pytest.raises(ValueError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(TypeError, match="dtype"):
        mha(x.double(), x.double(), x.double())


@given(L=hs.integers(1, 3), S=hs.integers(1, 3), N=hs.integers(1, 2),
       seed=hs.integers(0, 2 ** 16), need_weights=hs.booleans())
def test_mha_gradcheck(L, S, N, seed, need_weights):
    rng = np.random.default_rng(seed)
    mha = _seeded(nn.MultiheadAttention(4, 2, dtype=mc.float64), seed)
    q, k = _t(rng.standard_normal((L, N, 4)), True), _t(rng.standard_normal((S, N, 4)), True)
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False                      # a fully masked row is NaN with need_weights
    kpm = _t(kpm)

    def fn(q, k, w_in, w_out):
        return F.multi_head_attention_forward(
            q, k, k, 4, 2, w_in, mha.in_proj_bias, None, None, False, 0.0, w_out,
            mha.out_proj.bias, key_padding_mask=kpm, need_weights=need_weights)[0]
    gradcheck(fn, (q, k, mha.in_proj_weight, mha.out_proj.weight))


# ============================================================================ torch sweep

def test_mha_matches_torch_on_a_random_sweep():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    for i in range(8):
        cfg = dict(batch_first=bool(i & 1), add_bias_kv=bool(i & 2), add_zero_attn=bool(i & 4))
        if i >= 4:
            cfg.update(kdim=3, vdim=5)
        tm = torch.nn.MultiheadAttention(6, 3, dtype=torch.float64, **cfg)
        mm = nn.MultiheadAttention(6, 3, dtype=mc.float64, **cfg)
        mm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
        shape = (lambda n, d: (2, n, d)) if cfg["batch_first"] else (lambda n, d: (n, 2, d))
        q = rng.standard_normal(shape(4, 6))
        k = rng.standard_normal(shape(5, cfg.get("kdim", 6)))
        v = rng.standard_normal(shape(5, cfg.get("vdim", 6)))
        am = rng.random((4, 5)) < 0.3
        kpm = rng.random((2, 5)) < 0.3
        nw = bool(i % 3)
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        mq, mk, mv = (_t(a, True) for a in (q, k, v))
        to, tw = tm(tq, tk, tv, attn_mask=torch.tensor(am), need_weights=nw,
                    key_padding_mask=torch.tensor(kpm))
        mo, mw = mm(mq, mk, mv, attn_mask=_t(am), key_padding_mask=_t(kpm), need_weights=nw)
        np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), atol=1e-12)
        if nw:
            np.testing.assert_allclose(mw.detach().numpy(), tw.detach().numpy(), atol=1e-12)
        g = rng.standard_normal(to.shape)
        to.backward(torch.tensor(g))
        mo.backward(_t(g))
        for a, b in ((tq, mq), (tk, mk), (tv, mv)):
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=1e-12)
        for name, p in tm.named_parameters():
            np.testing.assert_allclose(mm.get_parameter(name).grad.numpy(), p.grad.numpy(),
                                       atol=1e-12, err_msg=name)


@pytest.mark.parametrize("shape", [(3, 0, 8), (0, 2, 8), (0, 8)])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_of_an_empty_batch_or_sequence(shape, need_weights):
    # PyTorch 2.13: (3, 0, 8) -> weights (0, 3, 3); (0, 2, 8) -> (2, 0, 0); (0, 8) -> (0, 0)
    m = nn.MultiheadAttention(8, 2)
    x = mc.zeros(*shape, requires_grad=True)
    out, w = m(x, x, x, need_weights=need_weights)
    out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape
    weights = {(3, 0, 8): (0, 3, 3), (0, 2, 8): (2, 0, 0), (0, 8): (0, 0)}[shape]
    assert (w is None) if not need_weights else w.shape == weights
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
