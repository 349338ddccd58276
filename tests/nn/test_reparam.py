"""nn.utils.weight_norm / spectral_norm (and their removal): the recomputed weight, its
gradients (float64 gradcheck), the power iteration against an SVD, PyTorch's state-dict
keys, and the errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
from minicv.testing import gradcheck


@given(dim=hs.sampled_from([0, 1, None]), seed=hs.integers(0, 100))
def test_weight_norm_recomputes_weight_and_gradchecks(dim, seed):
    mc.manual_seed(seed)
    conv = nn.Conv2d(2, 3, 3).double()
    w0 = conv.weight.detach().numpy().copy()
    nn.utils.weight_norm(conv, dim=dim)
    assert {"weight_g", "weight_v"} <= set(dict(conv.named_parameters()))
    assert "weight" not in dict(conv.named_parameters())
    expected = {0: (3, 1, 1, 1), 1: (1, 2, 1, 1), None: ()}[dim]
    assert conv.weight_g.shape == expected
    x = mc.randn(1, 2, 4, 4, dtype=mc.float64)
    np.testing.assert_allclose(conv(x).detach().numpy(),
                               mc.nn.functional.conv2d(x, mc.tensor(w0), conv.bias).detach()
                               .numpy(), rtol=1e-12, atol=1e-12)   # same function at start

    # gradcheck perturbs the parameters themselves, which the hook reads
    gradcheck(lambda g, v: conv(x), (conv.weight_g, conv.weight_v))


def test_weight_norm_g_scales_each_output_channel():
    lin = nn.utils.weight_norm(nn.Linear(4, 3).double())
    with mc.no_grad():
        lin.weight_g.fill_(2.0)
    lin(mc.zeros(1, 4, dtype=mc.float64))             # the hook recomputes the weight
    np.testing.assert_allclose(np.linalg.norm(lin.weight.detach().numpy(), axis=1),
                               [2.0, 2.0, 2.0])
    nn.utils.remove_weight_norm(lin)
    assert sorted(dict(lin.named_parameters())) == ["bias", "weight"]
    np.testing.assert_allclose(np.linalg.norm(lin.weight.detach().numpy(), axis=1), 2.0)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(lin)


def test_spectral_norm_estimates_the_largest_singular_value():
    mc.manual_seed(0)
    conv = nn.utils.spectral_norm(nn.Conv2d(3, 5, 3).double(), n_power_iterations=30)
    assert sorted(conv.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert conv.weight_u.shape == (5,) and conv.weight_v.shape == (27,)
    conv(mc.zeros(1, 3, 5, 5, dtype=mc.float64))
    w = conv.weight.detach().numpy().reshape(5, -1)
    assert abs(np.linalg.svd(w, compute_uv=False)[0] - 1.0) < 1e-6       # W / σ: norm 1
    sigma = np.linalg.svd(conv.weight_orig.detach().numpy().reshape(5, -1),
                          compute_uv=False)[0]
    np.testing.assert_allclose(conv.weight_orig.detach().numpy() / sigma,
                               conv.weight.detach().numpy(), rtol=1e-6)


def test_spectral_norm_iterates_only_in_training_and_gradchecks_in_eval():
    mc.manual_seed(1)
    lin = nn.utils.spectral_norm(nn.Linear(4, 3).double())
    u = lin.weight_u.detach().numpy().copy()
    lin.eval()
    x = mc.randn(2, 4, dtype=mc.float64)
    lin(x)
    np.testing.assert_array_equal(lin.weight_u.numpy(), u)                # eval: frozen
    gradcheck(lambda w: lin(x), (lin.weight_orig,))
    lin.train()
    lin(x)
    assert not np.array_equal(lin.weight_u.numpy(), u)                   # one step
    assert sorted(dict(nn.utils.remove_spectral_norm(lin).named_parameters())) == [
        "bias", "weight"]


def test_spectral_norm_dim_for_transposed_convs_and_errors():
    t = nn.utils.spectral_norm(nn.ConvTranspose2d(3, 5, 3))
    assert t.weight_u.shape == (5,) and t.weight_v.shape == (27,)        # dim=1: C_out
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(t)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter `kernel`"):
        nn.utils.weight_norm(nn.Linear(2, 2), name="kernel")
    lin = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        nn.utils.weight_norm(lin)
