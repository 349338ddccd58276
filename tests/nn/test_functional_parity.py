"""``F.normalize``, ``F.cosine_similarity``, ``F.embedding(scale_grad_by_freq)``, ``F.linear``
with a vector weight, ``F.dropout2d`` on other ranks, ``F.layer_norm`` dtypes: PyTorch 2.13's
behaviour, with expected values computed with torch and written out (CI has no torch)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st


def t64(data, grad=True):
    return mc.tensor(np.asarray(data, np.float64), requires_grad=grad)


# ----------------------------------------------------------------------------- normalize

@pytest.mark.parametrize("p,want,grad", [      # torch 2.13: F.normalize(x, p, dim=1)
    (2, [0.6, -0.8], [0.32, 0.24]),
    (1, [3 / 7, -4 / 7], [0.24489795918367346, 0.18367346938775508]),
    (float("inf"), [0.75, -1.0], [0.25, 0.1875]),
    (-float("inf"), [1.0, -4 / 3], [0.8888888888888888, 0.6666666666666666]),
])
def test_normalize_matches_pytorch_and_a_zero_row_gets_one_over_eps(p, want, grad):
    x = t64([[0.0, 0.0], [3.0, -4.0]])
    y = F.normalize(x, p=p, dim=1)
    y.backward(t64([[1.0, 2.0], [1.0, 2.0]], grad=False))
    np.testing.assert_allclose(y.data, [[0.0, 0.0], want], rtol=1e-12)
    # the zero row: x / eps, its norm's gradient is 0 (not NaN) -> 1/eps = 1e12
    np.testing.assert_allclose(x.grad.data, [[1e12, 2e12], grad], rtol=1e-12)


@given(x=st.tensors(shape=st.shapes(min_dims=1), min_value=0.2, max_value=3.0, unique=True),
       seed=hs.integers(0, 2 ** 16), p=hs.sampled_from([2, 1, float("inf"), -float("inf")]))
def test_normalize_gradcheck(x, seed, p):
    # magnitudes distinct and away from 0 (no max/min ties, no |x| kink); random signs
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=x.shape)
    x = t64(x.data * signs)
    for dim in range(-x.ndim, x.ndim):
        y = F.normalize(x, p=p, dim=dim)
        norm = np.linalg.norm(np.moveaxis(x.data, dim, -1), ord=p, axis=-1)
        np.testing.assert_allclose(y.data, x.data / np.expand_dims(norm, dim), rtol=1e-12)
        gradcheck(lambda t: F.normalize(t, p=p, dim=dim), (x,))


def test_normalize_refuses_integers():
    with pytest.raises(TypeError, match=r"normalize\(\) needs a floating tensor"):
        F.normalize(mc.tensor([[3, 4]]))


# ----------------------------------------------------------------------------- cosine

def test_cosine_similarity_is_finite_at_zero_and_small_vectors():
    """torch 2.13 divides each input by max(‖x‖, eps), the floor applied to the value only:
    the gradient flows through the norm as if unclamped (row 0: ‖x1‖ < eps)."""
    x1 = t64([[1e-9, 2e-9], [0.0, 0.0], [1.0, 2.0]])
    x2 = t64([[1.0, 1.0], [3.0, 1.0], [0.0, 0.0]])
    y = F.cosine_similarity(x1, x2, dim=1)
    y.backward(t64([1.0, 2.0, 3.0], grad=False))
    np.testing.assert_allclose(y.data, [0.21213203435596426, 0.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(x1.grad.data, [[61223845.138149604, 51737012.157644466],
                                              [189736659.61010274, 63245553.20336758],
                                              [0.0, 0.0]], rtol=1e-9)
    np.testing.assert_allclose(x2.grad.data, [[-0.03535533905932736, 0.03535533905932739],
                                              [0.0, 0.0],
                                              [134164078.64998738, 268328157.29997477]],
                               rtol=1e-9)


def test_cosine_similarity_broadcasts_before_taking_norms():
    # x1 (2, 1) expands to (2, 3) along dim=1 first (torch 2.13 values)
    a = t64([[1.0], [-2.0]])
    b = t64([[1.0, 2.0, 2.0], [0.5, -1.0, 0.0]])
    y = F.cosine_similarity(a, b, dim=1)
    y.sum().backward()
    np.testing.assert_allclose(y.data, [0.9622504486493763, 0.25819888974716115], rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, [[0.0], [0.0]], atol=1e-15)
    np.testing.assert_allclose(b.grad.data, [[0.08553337321327793, -0.021383343303319424,
                                              -0.021383343303319424],
                                             [-0.6196773353931868, -0.3098386676965934,
                                              -0.5163977794943223]], rtol=1e-12)


@given(x1=st.tensors(shape=(3, 4), avoid=(0.0,)), x2=st.tensors(shape=(3, 4), avoid=(0.0,)),
       dim=hs.sampled_from([0, 1, -1]))
def test_cosine_similarity_gradcheck(x1, x2, dim):
    a, b = x1.data, x2.data
    want = (a * b).sum(dim) / (np.linalg.norm(a, axis=dim) * np.linalg.norm(b, axis=dim))
    np.testing.assert_allclose(F.cosine_similarity(x1, x2, dim=dim).data, want, rtol=1e-12)
    gradcheck(lambda s, t: F.cosine_similarity(s, t, dim=dim), (x1, x2))


def test_cosine_similarity_dtypes():
    y = F.cosine_similarity(mc.tensor([[3, 4]]), mc.tensor([[3.0, 4.0]]))  # one int: ok
    assert y.dtype == np.float32 and abs(y.item() - 1) < 1e-6
    with pytest.raises(TypeError, match="at least one input must be a floating tensor"):
        F.cosine_similarity(mc.tensor([[3, 4]]), mc.tensor([[3, 4]]))


# ----------------------------------------------------------------------------- embedding

def test_embedding_scale_grad_by_freq_matches_pytorch():
    w = mc.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    idx = mc.tensor([[1, 1, 0], [3, 1, 0]])
    gy = mc.tensor(np.arange(18.0).reshape(2, 3, 3))
    F.embedding(idx, w, padding_idx=0, scale_grad_by_freq=True).backward(gy)
    # torch 2.13: row 1 occurs 3 times -> (0+3+12, 1+4+13, 2+5+14) / 3; padding row 0 gets 0
    np.testing.assert_allclose(w.grad.data, [[0, 0, 0], [5, 6, 7], [0, 0, 0], [9, 10, 11]])
    emb = nn.Embedding(4, 3, scale_grad_by_freq=True)
    emb(mc.tensor([2, 2])).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.data[2], [1.0, 1.0, 1.0])   # 2 / 2


@given(w=st.tensors(shape=(5, 3)), data=hs.data())
def test_embedding_scale_grad_by_freq_divides_by_counts(w, data):
    """The scaled gradient is the true gradient (gradchecked) divided by each index's count
    in the batch; the padding row gets none (by design, so it is not gradchecked)."""
    idx = np.array(data.draw(hs.lists(hs.integers(0, 4), min_size=1, max_size=8)))
    pad = data.draw(hs.sampled_from([None, 0, 3]))
    gy = mc.tensor(np.random.default_rng(len(idx)).standard_normal((len(idx), 3)))
    gradcheck(lambda t: F.embedding(mc.tensor(idx), t), (w,))
    grads = []
    for scale in (False, True):
        w.grad = None
        F.embedding(mc.tensor(idx), w, padding_idx=pad, scale_grad_by_freq=scale).backward(gy)
        grads.append(w.grad.data)
    counts = np.maximum(np.bincount(idx, minlength=5), 1)[:, None]
    np.testing.assert_allclose(grads[1], grads[0] / counts, rtol=1e-12)
    if pad is not None:
        np.testing.assert_array_equal(grads[1][pad], 0)


# ----------------------------------------------------------------------------- linear

def test_linear_with_a_vector_weight_is_a_matrix_vector_product():
    rng = np.random.default_rng(0)
    x, w = t64(rng.standard_normal((2, 3))), t64(rng.standard_normal(3))
    y = F.linear(x, w)                                   # torch: x @ w, shape (2,)
    assert y.shape == (2,)
    np.testing.assert_allclose(y.data, x.data @ w.data, rtol=1e-12)
    assert F.linear(x[0], w).shape == ()
    gradcheck(lambda a, b: F.linear(a, b), (x, w))
    with pytest.raises(ValueError, match="1-D weight .* only without a bias"):
        F.linear(x, w, t64([1.0]))                       # torch raises too
    with pytest.raises(ValueError, match="in_features=4"):
        F.linear(x, t64(np.ones(4)))


# ----------------------------------------------------------------------------- dropout2d

def test_dropout2d_on_other_ranks_warns_like_pytorch():
    mc.manual_seed(0)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = F.dropout2d(mc.ones(64, 32), 0.5).data       # mask (N, C): element-wise
    assert set(np.unique(y)) == {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    with pytest.warns(UserWarning, match="5-D input"):
        y = F.dropout2d(mc.ones(8, 6, 2, 2, 2), 0.5).data    # mask (N, C, 1, 1, 1)
    per_channel = y.reshape(8, 6, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(F.dropout2d(mc.ones(3), 0.5, training=False).data, 1)
        np.testing.assert_array_equal(F.dropout2d(mc.ones(3), 1.0).data, 0)
        with pytest.raises(ValueError, match="at least 2 dimensions"):
            F.dropout2d(mc.ones(3), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # 3-D and 4-D: silent
        F.dropout2d(mc.ones(2, 3, 4), 0.5)
        F.dropout2d(mc.ones(2, 3, 4, 4), 0.5)


# ----------------------------------------------------------------------------- layer_norm

def test_layer_norm_refuses_mixed_dtypes():
    x = mc.randn(2, 4, dtype=mc.float64)
    with pytest.raises(TypeError, match="input dtype float64 does not match the weight"):
        F.layer_norm(x, (4,), mc.ones(4))
    with pytest.raises(TypeError, match="does not match the bias dtype float32"):
        F.layer_norm(x, (4,), None, mc.zeros(4))
    with pytest.raises(TypeError, match="float32 does not match the weight dtype float64"):
        nn.LayerNorm(4).double()(mc.randn(2, 4))
