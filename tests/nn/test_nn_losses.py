"""Losses: float64 gradchecks of every loss, values and gradients vs PyTorch, bad labels."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5))
Y = np.array([1, 0, 4, 2])
X4 = rng.standard_normal((2, 3, 2, 2))
Y4 = np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])
P = rng.random((4, 5))
P /= P.sum(1, keepdims=True)
W = np.array([0.5, 1.0, 2.0, 1.5, 0.7])
Z = rng.standard_normal((3, 4))
T01 = rng.random((3, 4))
PROB = 1 / (1 + np.exp(-Z))


def x64(a):
    return mc.tensor(a, dtype=mc.float64, requires_grad=True)


def const(a):
    return mc.tensor(a)


CASES = {   # name -> (minicv fn, torch fn name, float inputs, constant args, kwargs)
    "ce": (F.cross_entropy, "cross_entropy", [X], [Y], {}),
    "ce_weight_ignore": (F.cross_entropy, "cross_entropy", [X], [np.array([1, -100, 4, 1])],
                         {"weight": W, "ignore_index": -100}),
    "ce_smooth_weight": (F.cross_entropy, "cross_entropy", [X], [Y],
                         {"weight": W, "label_smoothing": 0.2}),
    "ce_smooth_none": (F.cross_entropy, "cross_entropy", [X], [Y],
                       {"label_smoothing": 0.1, "reduction": "none"}),
    "ce_sum": (F.cross_entropy, "cross_entropy", [X], [Y], {"reduction": "sum"}),
    "ce_prob": (F.cross_entropy, "cross_entropy", [X, P], [], {}),
    "ce_prob_smooth_w": (F.cross_entropy, "cross_entropy", [X, P], [],
                         {"label_smoothing": 0.3, "weight": W}),
    "ce_2d": (F.cross_entropy, "cross_entropy", [X4], [Y4], {}),
    "ce_2d_smooth_none": (F.cross_entropy, "cross_entropy", [X4], [Y4],
                          {"label_smoothing": 0.1, "reduction": "none",
                           "weight": np.array([1.0, 2.0, 0.5])}),
    "ce_unbatched": (F.cross_entropy, "cross_entropy", [X[0]], [np.array(3)], {}),
    "nll": (F.nll_loss, "nll_loss", [X], [Y], {"weight": W}),
    "nll_2d_none": (F.nll_loss, "nll_loss", [X4], [Y4], {"reduction": "none"}),
    "bce": (F.binary_cross_entropy, "binary_cross_entropy", [PROB, T01], [], {}),
    "bce_weight_sum": (F.binary_cross_entropy, "binary_cross_entropy", [PROB, T01], [],
                       {"weight": np.array([1.0, 2.0, 0.5, 1.0]), "reduction": "sum"}),
    "bce_logits": (F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits",
                   [Z * 3, T01], [], {}),
    "bce_logits_pw_w": (F.binary_cross_entropy_with_logits,
                        "binary_cross_entropy_with_logits", [Z * 3, T01], [],
                        {"pos_weight": np.array([1.0, 3.0, 0.5, 2.0]),
                         "weight": np.array([[1.0], [2.0], [0.5]]), "reduction": "none"}),
    "mse": (F.mse_loss, "mse_loss", [Z, T01], [], {}),
    "l1_sum": (F.l1_loss, "l1_loss", [Z, T01], [], {"reduction": "sum"}),
    "smooth_l1": (F.smooth_l1_loss, "smooth_l1_loss", [Z, T01], [], {"beta": 0.5}),
    "smooth_l1_beta0": (F.smooth_l1_loss, "smooth_l1_loss", [Z, T01], [], {"beta": 0.0}),
    "huber_none": (F.huber_loss, "huber_loss", [Z, T01], [],
                   {"delta": 0.7, "reduction": "none"}),
    "kl_batchmean": (F.kl_div, "kl_div", [np.log(P), P[::-1].copy()], [],
                     {"reduction": "batchmean"}),
    "kl_log_target": (F.kl_div, "kl_div", [np.log(P), np.log(P[::-1])], [],
                      {"reduction": "sum", "log_target": True}),
    "kl_mean": (F.kl_div, "kl_div", [np.log(P), P[::-1].copy()], [], {"reduction": "mean"}),
    # elementwise weight (PyTorch 2.13): 'mean' divides by Σw for mse/l1, by n for huber
    "mse_weight": (F.mse_loss, "mse_loss", [Z, T01], [], {"weight": T01[::-1] + 0.5}),
    "l1_weight_sum": (F.l1_loss, "l1_loss", [Z, T01], [],
                      {"weight": T01[::-1] + 0.5, "reduction": "sum"}),
    "huber_weight": (F.huber_loss, "huber_loss", [Z, T01], [],
                     {"weight": T01[::-1] + 0.5, "delta": 0.7}),
}
THREE = {   # losses with (x1, x2, target)
    "cosine_emb": (F.cosine_embedding_loss, "cosine_embedding_loss", [Z, Z[::-1] + 0.3],
                   [np.array([1, -1, 1])], {"margin": 0.1}),
    "margin_rank": (F.margin_ranking_loss, "margin_ranking_loss", [Z[:, 0], Z[:, 1]],
                    [np.array([1.0, -1.0, 1.0])], {"margin": 0.2}),
    "triplet": (F.triplet_margin_loss, "triplet_margin_loss",
                [Z, Z[::-1] * 0.5, T01], [], {"margin": 1.5}),
    "triplet_swap_p1": (F.triplet_margin_loss, "triplet_margin_loss",
                        [Z, Z[::-1] * 0.5, T01 * 2], [], {"swap": True, "p": 1.0,
                                                          "reduction": "none"}),
}
ALL = {**CASES, **THREE}


def _kw(kw, lib):
    out = {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            v = mc.tensor(v, dtype=mc.float64) if lib is mc else lib.from_numpy(v)
        out[k] = v
    return out


@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
@pytest.mark.parametrize("name", ALL)
def test_loss_gradcheck(name):
    fn, _, floats, consts, kw = ALL[name]
    inputs = [x64(a) for a in floats]
    args = [const(c) for c in consts]
    kw = _kw(kw, mc)
    assert gradcheck(lambda *xs: fn(*xs, *args, **kw), inputs)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ALL)
def test_loss_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, tname, floats, consts, kw = ALL[name]
    ours = [x64(a) for a in floats]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in floats]
    lo = fn(*ours, *[const(c) for c in consts], **_kw(kw, mc))
    lt = getattr(torch.nn.functional, tname)(*theirs, *[torch.from_numpy(np.asarray(c))
                                                        for c in consts], **_kw(kw, torch))
    np.testing.assert_allclose(lo.data, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(lo.shape)
    lo.backward(mc.tensor(g))
    lt.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_label_out_of_range_names_range_and_ignore_index():
    with pytest.raises(IndexError, match=r"\[0, 4\].*ignore_index=-100"):
        F.cross_entropy(mc.randn(2, 5), mc.tensor([1, 5]))
    with pytest.raises(ValueError, match="255"):            # also a ValueError
        F.cross_entropy(mc.randn(2, 3, 4, 4), mc.full((2, 4, 4), 255))
    loss = F.cross_entropy(mc.randn(2, 3, 4, 4), mc.full((2, 4, 4), 255), ignore_index=255,
                           reduction="sum")
    assert loss.item() == 0
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(mc.randn(2, 5), mc.tensor([-1, 0]))


def test_loss_input_errors():
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(mc.randn(4, 5), mc.tensor([1, 2]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(mc.tensor([1.5]), mc.tensor([1.0]))
    with pytest.raises(ValueError, match="same shape"):
        F.binary_cross_entropy_with_logits(mc.randn(4, 1), mc.rand(4))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(mc.randn(2), mc.randn(2), reduction="avg")
    with pytest.raises(TypeError, match="int64 class labels"):
        F.cross_entropy(mc.randn(2, 3), mc.tensor([True, False]))


def test_loss_modules():
    x, y = mc.randn(4, 5), mc.tensor(Y)
    w = mc.tensor(W.astype(np.float32))
    m = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert np.allclose(m(x, y).data, F.cross_entropy(x, y, weight=w, label_smoothing=0.1).data)
    assert "weight" in m.state_dict()
    assert nn.MSELoss(reduction="none")(x, x * 0).shape == (4, 5)
    with pytest.warns(UserWarning, match="reduction='sum' instead"):   # as PyTorch
        l1 = nn.L1Loss(size_average=False)
    assert l1(x, x * 0).item() == pytest.approx(np.abs(x.data).sum(), rel=1e-5)
    assert nn.HuberLoss(delta=2.0)(x, x).item() == 0
    assert nn.BCEWithLogitsLoss(pos_weight=mc.ones(5))(x, mc.rand(4, 5)).ndim == 0
    assert nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x, 1), F.softmax(x, 1)).item() \
        == pytest.approx(0, abs=1e-6)
    assert nn.TripletMarginLoss()(x, x, x + 10).item() == 0
    assert nn.CosineEmbeddingLoss()(x, x, mc.ones(4)).item() == pytest.approx(0, abs=1e-6)
    assert nn.MarginRankingLoss()(x[:, 0], x[:, 1], mc.ones(4)).ndim == 0
    assert nn.NLLLoss()(F.log_softmax(x, 1), y).ndim == 0
    assert nn.BCELoss()(mc.tensor([0.5]), mc.tensor([1.0])).item() == pytest.approx(np.log(2))
    assert nn.SmoothL1Loss()(x, x).item() == 0


def test_cross_entropy_is_stable_for_huge_logits():
    x = mc.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mc.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    assert np.all(np.isfinite(x.grad.data))


def test_weighted_regression_losses_by_hand():
    x, t = mc.tensor([1.0, 3.0]), mc.tensor([0.0, 0.0])
    w = mc.tensor([1.0, 3.0])
    assert F.mse_loss(x, t, weight=w).item() == pytest.approx((1 + 27) / 4)
    assert F.l1_loss(x, t, weight=w, reduction="none").tolist() == [1.0, 9.0]
    assert F.huber_loss(x, t, weight=w).item() == pytest.approx((0.5 + 3 * 2.5) / 2)
    with pytest.raises(ValueError, match=r"weight of shape \[3\].*\[2\]"):
        F.mse_loss(x, t, weight=mc.ones(3))


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_mean_over_only_ignored_targets_is_nan_with_zero_gradient(loss):
    """PyTorch 2.13: every target ignored -> the 'mean' loss is NaN (0/0) but its gradient
    is zero, not NaN."""
    x = mc.randn(3, 5, requires_grad=True)
    out = getattr(F, loss)(x, mc.tensor([-100, -100, -100]))
    out.backward()
    assert np.isnan(out.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 5), np.float32))


# ----------------------------------------------------------------------------- edge cases
# Expected values below were computed with PyTorch 2.13.

def test_class_losses_ignore_minus_inf_and_nan_of_other_classes():
    """PyTorch picks out the target's entry: a masked class (-inf logit) or a NaN in an
    ignored row does not make the loss NaN."""
    inf = np.inf
    x = mc.tensor([[2.0, -inf, 0.5]], dtype=mc.float64, requires_grad=True)
    loss = F.cross_entropy(x, mc.tensor([0]))
    assert loss.item() == pytest.approx(0.2014132779827524, rel=1e-12)
    loss.backward()
    assert np.isfinite(x.grad.data).all() and x.grad.data[0, 1] == 0
    logp = mc.tensor([[-0.2, -inf, -1.7]])
    assert F.nll_loss(logp, mc.tensor([0])).item() == pytest.approx(0.2)
    x = mc.tensor([[np.nan, 0.0, 1.0], [1.0, 0.0, -1.0]], dtype=mc.float64)
    assert F.cross_entropy(x, mc.tensor([-100, 2])).item() == pytest.approx(2.4076059644443806)


def test_class_weights_summing_to_zero_divide_by_zero_like_torch():
    x = mc.tensor([[0.3, -0.2]], dtype=mc.float64, requires_grad=True)
    loss = F.cross_entropy(x, mc.tensor([0]), weight=mc.tensor([0.0, 1.0], dtype=mc.float64))
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(x.grad.data).all()
    x = mc.tensor([[0.3, -0.2], [1.0, 2.0]], dtype=mc.float64, requires_grad=True)
    loss = F.cross_entropy(x, mc.tensor([0, 1]), weight=mc.tensor([1.0, -1.0], mc.float64))
    assert np.isinf(loss.item())
    x = mc.tensor([[0.3, -0.2]], dtype=mc.float64, requires_grad=True)   # all ignored
    loss = F.cross_entropy(x, mc.tensor([-100]))
    loss.backward()
    assert np.isnan(loss.item()) and (x.grad.data == 0).all()


def test_binary_cross_entropy_at_exact_zero_and_one(recwarn):
    loss = F.binary_cross_entropy(mc.tensor([0.0, 1.0]), mc.tensor([0.0, 1.0]))
    assert loss.item() == 0 and not [w for w in recwarn if "divide" in str(w.message)]
    x = mc.tensor([0.0, 1e-50], dtype=mc.float64)
    t = mc.tensor([0.0, 1.0], dtype=mc.float64, requires_grad=True)
    F.binary_cross_entropy(x, t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.data, [np.inf, 115.12925464970229])  # unclamped


def test_binary_losses_check_target_and_weight_shapes():
    with pytest.raises(ValueError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(mc.tensor([0.5, 0.5]), mc.tensor([0.0, 1.5]))
    x, t = mc.rand(2), mc.rand(2)
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"weight of shape \[3, 2\] does not broadcast"):
            fn(x, t, weight=mc.rand(3, 2))
        assert fn(x, t, weight=mc.rand(1), reduction="none").shape == (2,)
    with pytest.raises(ValueError, match=r"pos_weight of shape \[2, 1\]"):
        F.binary_cross_entropy_with_logits(x, t, pos_weight=mc.rand(2, 1))


def test_losses_promote_float32_input_with_float64_target():
    x, t = mc.rand(3), mc.rand(3, dtype=mc.float64)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy_with_logits):
        assert fn(x, t).dtype == np.float64, fn.__name__
    assert F.huber_loss(x, t).dtype == np.float32                # PyTorch keeps the input's
    assert F.kl_div(x.log(), t, reduction="batchmean").dtype == np.float64
    x = mc.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, mc.rand(2, 3, dtype=mc.float64))
    loss.backward()
    assert loss.dtype == np.float64 and x.grad.dtype == np.float32


def test_probability_targets_refuse_ignore_index():
    x, t = mc.randn(2, 3), F.softmax(mc.randn(2, 3), dim=1)
    F.cross_entropy(x, t, ignore_index=-1)                      # negative: accepted, unused
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, t, ignore_index=0)


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(mc.randn(2, 3), mc.rand(2, 3))


def test_pairwise_distance_norms_and_zero_gradient():
    u, v = mc.tensor([[1.0, 2.0, 3.0]]), mc.tensor([[1.0, 0.0, 1.0]])
    assert F.pairwise_distance(u, v, p=0).item() == 3      # non-zeros of u - v + eps
    assert F.pairwise_distance(u, u, p=-np.inf).item() == pytest.approx(1e-6)
    x = mc.tensor([[1.0, 2.0]], dtype=mc.float64, requires_grad=True)
    F.pairwise_distance(x, x.detach(), eps=0).sum().backward()
    assert (x.grad.data == 0).all()                         # PyTorch: 0, not NaN


def test_triplet_margin_loss_margin_and_ranks():
    a = mc.randn(2, 2, 4)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(a, a, a, margin=0.0)
    assert F.triplet_margin_loss(a, a + 1, a - 1, reduction="none").shape == (2, 2)


def test_cosine_embedding_loss_broadcasts_inputs():
    x1 = mc.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=mc.float64)
    x2 = mc.tensor([[1.0, 0.0]], dtype=mc.float64)
    loss = F.cosine_embedding_loss(x1, x2, mc.tensor([1, -1, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1 - 1 / np.sqrt(2)], atol=1e-9)


def test_l1_gradient_is_zero_where_the_difference_is_nan_and_kl_negative_target_is_nan():
    # PyTorch 2.13: l1 grad [0, 1] (sign(nan) = 0); kl_div with a negative target: nan
    a = mc.tensor([np.inf, 1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        F.l1_loss(a, mc.tensor([np.inf, 0.0]), reduction="sum").backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 1.0])
    assert np.isnan(F.kl_div(mc.tensor([-1.0, -1.0]), mc.tensor([-0.1, 1.1]),
                             reduction="sum").item())


def test_class_weights_summing_to_zero_give_nan_only_where_torch_does():
    # PyTorch 2.13: the 'mean' gradient is -w[y]·g/Σw[y] at each kept target entry (0·inf
    # = NaN, or ±inf) and 0 elsewhere; cross_entropy passes it through log_softmax's
    # backward, so a kept row turns NaN/inf and an ignored row stays 0
    nan, inf = np.nan, np.inf
    x = mc.zeros(2, 3, requires_grad=True)
    F.nll_loss(x, mc.tensor([0, 1]), weight=mc.zeros(3)).backward()
    np.testing.assert_array_equal(x.grad.data, [[nan, 0, 0], [0, nan, 0]])
    x = mc.zeros(2, 3, requires_grad=True)
    F.nll_loss(x, mc.tensor([0, 1]), weight=mc.tensor([1.0, -1.0, 0.0])).backward()
    np.testing.assert_array_equal(x.grad.data, [[-inf, 0, 0], [0, inf, 0]])
    x = mc.zeros(2, 3, requires_grad=True)
    F.cross_entropy(x, mc.tensor([0, -100]), weight=mc.zeros(3)).backward()
    np.testing.assert_array_equal(x.grad.data, [[nan, nan, nan], [0, 0, 0]])
    x = mc.zeros(2, 3, requires_grad=True)
    F.cross_entropy(x, mc.tensor([0, 1]), weight=mc.tensor([1.0, -1.0, 0.0])).backward()
    np.testing.assert_array_equal(x.grad.data, [[nan, inf, inf], [-inf, nan, -inf]])
    x = mc.zeros(2, 3, requires_grad=True)
    F.cross_entropy(x, mc.tensor([0, -100]), weight=mc.zeros(3),
                    label_smoothing=0.1).backward()
    np.testing.assert_array_equal(x.grad.data, [[nan, nan, nan], [0, 0, 0]])


def test_one_element_target_of_an_unbatched_input_is_read_as_0d():
    # PyTorch 2.13: cross_entropy(tensor([1., 2., 3.]), tensor([1])) = 1.4076 (0-d, any
    # reduction), nll_loss(...) = -2.0; a longer 1-D target is refused
    x = mc.tensor([1.0, 2.0, 3.0], dtype=mc.float64)
    for reduction in ("mean", "sum", "none"):
        ce = F.cross_entropy(x, mc.tensor([1]), reduction=reduction)
        assert ce.shape == () and ce.item() == pytest.approx(1.4076059644443806, rel=1e-12)
        assert F.nll_loss(x, mc.tensor([1]), reduction=reduction).item() == -2.0
    with pytest.raises(ValueError, match=r"expected target of shape \[\]"):
        F.cross_entropy(x, mc.tensor([1, 2]))


def test_losses_of_empty_or_infinite_inputs_stay_silent_like_torch():
    # PyTorch 2.13 returns these values without a warning: NaN for a 'mean' over nothing,
    # NaN for (inf - inf)², and an l1 gradient of 0 there
    import warnings
    inf = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
            assert np.isnan(fn(mc.tensor([]), mc.tensor([])).item())
        for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
            a = mc.tensor([inf, 1.0, -inf], requires_grad=True)
            loss = fn(a, mc.tensor([inf, 0.0, inf]))
            loss.backward()
            assert np.isnan(loss.item()) and a.grad.data[1] > 0
        x = mc.zeros(2, 3, requires_grad=True)
        loss = F.nll_loss(x, mc.tensor([0, 1]), weight=mc.zeros(3))
        loss.backward()
        assert np.isnan(loss.item())
