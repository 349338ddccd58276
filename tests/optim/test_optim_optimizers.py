"""Optimizers: one step by hand, 20-step trajectories vs PyTorch, state dicts, clipping."""
import math
import re

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.optim as optim


def quad_grad(p, t):
    """Gradient of a fixed, slightly non-quadratic loss at step t (same in both libraries)."""
    return np.cos(p) * 0.5 + p * (0.1 + 0.05 * t)


def test_sgd_momentum_nesterov_by_hand():
    p = mc.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    g1, g2 = np.array([0.5, 1.0]), np.array([-1.0, 0.25])
    p.grad = mc.tensor(g1)
    opt.step()
    d1 = g1 + 0.01 * np.array([1.0, -2.0])
    b1 = d1
    want = np.array([1.0, -2.0]) - 0.1 * (d1 + 0.9 * b1)
    np.testing.assert_allclose(p.data, want, rtol=1e-6)
    p.grad = mc.tensor(g2)
    opt.step()
    d2 = g2 + 0.01 * want
    b2 = 0.9 * b1 + d2
    np.testing.assert_allclose(p.data, want - 0.1 * (d2 + 0.9 * b2), rtol=1e-6)


def test_adam_first_step_is_lr_times_sign():
    p = mc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    p.grad = mc.tensor([0.3, -5.0, 1e-3])
    opt.step()
    # m̂ = g, v̂ = g² on the first step, so the update is lr·g/(|g| + eps)
    np.testing.assert_allclose(p.data, [0.99, -1.99, 3.0 - 0.01 * 1e-3 / (1e-3 + 1e-8)],
                               rtol=1e-6)


def test_adamw_decays_before_the_step_and_rmsprop_by_hand():
    p = mc.tensor([2.0], requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = mc.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 * (1 - 0.05) - 0.1], rtol=1e-6)
    q = mc.tensor([1.0], requires_grad=True)
    opt = optim.RMSprop([q], lr=0.01, alpha=0.9, momentum=0.5, centered=True)
    q.grad = mc.tensor([2.0])
    opt.step()
    v, gbar = 0.1 * 4, 0.1 * 2
    avg = math.sqrt(v - gbar ** 2) + 1e-8
    np.testing.assert_allclose(q.data, [1.0 - 0.01 * 2 / avg], rtol=1e-6)


CONFIGS = {
    "sgd": (lambda ps, lib: lib.SGD(ps, lr=0.1)),
    "sgd_momentum_wd": (lambda ps, lib: lib.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2,
                                                dampening=0.1)),
    "sgd_nesterov_max": (lambda ps, lib: lib.SGD(ps, lr=0.05, momentum=0.8, nesterov=True,
                                                 maximize=True)),
    "adam": (lambda ps, lib: lib.Adam(ps, lr=0.05)),
    "adam_amsgrad_wd": (lambda ps, lib: lib.Adam(ps, lr=0.05, betas=(0.8, 0.99),
                                                 weight_decay=0.1, amsgrad=True)),
    "adamw": (lambda ps, lib: lib.AdamW(ps, lr=0.05, weight_decay=0.1)),
    "adamw_amsgrad": (lambda ps, lib: lib.AdamW(ps, lr=0.02, amsgrad=True, eps=1e-6)),
    "rmsprop": (lambda ps, lib: lib.RMSprop(ps, lr=0.01)),
    "rmsprop_all": (lambda ps, lib: lib.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5,
                                                centered=True, weight_decay=0.01)),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_twenty_step_trajectory_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    starts = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [mc.tensor(s, dtype=mc.float64, requires_grad=True) for s in starts]
    theirs = [torch.tensor(s, requires_grad=True) for s in starts]
    o1, o2 = CONFIGS[name](ours, optim), CONFIGS[name](theirs, torch.optim)
    for t in range(20):
        for a, b in zip(ours, theirs):
            g = quad_grad(a.data, t)
            a.grad = mc.tensor(g)
            b.grad = torch.from_numpy(quad_grad(b.detach().numpy(), t))
        o1.step()
        o2.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-13,
                                       err_msg=f"step {t}")


def test_float32_trajectory_close_to_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    s = rng.standard_normal((8, 8)).astype(np.float32)
    a, b = mc.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)
    o1, o2 = optim.Adam([a], lr=0.01), torch.optim.Adam([b], lr=0.01)
    for t in range(20):
        a.grad = mc.tensor(quad_grad(a.data, t).astype(np.float32))
        b.grad = torch.from_numpy(quad_grad(b.detach().numpy(), t).astype(np.float32))
        o1.step()
        o2.step()
    np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_param_groups_and_state_dict_round_trip():
    lin1, lin2 = nn.Linear(3, 3), nn.Linear(3, 1)
    opt = optim.SGD([{"params": lin1.parameters()},
                     {"params": lin2.parameters(), "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    x = mc.randn(4, 3)
    lin2(lin1(x)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["param_groups"][1]["params"] == [2, 3]
    opt2 = optim.SGD([{"params": lin1.parameters()},
                      {"params": lin2.parameters()}], lr=0.3, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.5
    buf = opt2.state[lin1.weight]["momentum_buffer"]
    np.testing.assert_array_equal(buf.data, opt.state[lin1.weight]["momentum_buffer"].data)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD(lin1.parameters(), lr=0.1).load_state_dict(sd)
    extra = nn.Linear(1, 1)
    opt.add_param_group({"params": extra.parameters(), "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [extra.weight]})


def test_optimizer_argument_errors():
    p = mc.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(p)


def test_zero_grad_skip_none_and_closure():
    p = mc.tensor([1.0], requires_grad=True)
    q = mc.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p, q], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 1.0
    assert p.data[0] == 0.0 and q.data[0] == 1.0            # q had no grad: untouched
    opt.zero_grad()
    assert p.grad is None


def test_clip_grad_norm_and_value():
    a = mc.zeros(3, requires_grad=True)
    b = mc.zeros(4, requires_grad=True)
    a.grad, b.grad = mc.tensor([3.0, 0.0, 0.0]), mc.tensor([0.0, 4.0, 0.0, 0.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [3 / (5 + 1e-6), 0, 0], rtol=1e-6)
    a.grad, b.grad = mc.tensor([3.0, -7.0, 0.0]), mc.tensor([0.0, 4.0, 0.0, 0.0])
    assert nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=math.inf).item() == 7.0
    np.testing.assert_array_equal(a.grad.data, [3.0, -7.0, 0.0])       # below max: kept
    assert nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=1).item() == 14.0
    nn.utils.clip_grad_value_([a, b], 2.5)
    np.testing.assert_array_equal(a.grad.data, [2.5, -2.5, 0.0])
    assert nn.utils.clip_grad_norm_([mc.zeros(1, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal((3, 4)), rng.standard_normal(6)]
    for norm_type in (2.0, 1.0, 3.0, math.inf):
        ours = [mc.zeros(*g.shape, dtype=mc.float64, requires_grad=True) for g in gs]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
        for o, t, g in zip(ours, theirs, gs):
            o.grad, t.grad = mc.tensor(g), torch.from_numpy(g.copy())
        n1 = nn.utils.clip_grad_norm_(ours, 0.7, norm_type)
        n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type)
        assert n1.item() == pytest.approx(n2.item(), rel=1e-12)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-12)


def test_param_groups_carry_pytorchs_keys():
    p = [nn.Parameter(mc.zeros(2))]
    keys = {"SGD": {"foreach", "differentiable", "fused"},
            "Adam": {"foreach", "capturable", "differentiable", "fused",
                     "decoupled_weight_decay"},
            "AdamW": {"foreach", "capturable", "differentiable", "fused"},
            "RMSprop": {"foreach", "capturable", "differentiable", "maximize"}}
    for name, extra in keys.items():
        group = getattr(optim, name)(p).state_dict()["param_groups"][0]
        assert extra <= set(group), name
    assert optim.AdamW(p).param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("name, kw", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                      ("Adam", {"lr": 0.01, "amsgrad": True}),
                                      ("AdamW", {"lr": 0.01}),
                                      ("RMSprop", {"lr": 0.01, "momentum": 0.5,
                                                   "centered": True})])
def test_state_dict_round_trip_mid_training_continues_identically(name, kw):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(6)]
    a = nn.Parameter(mc.tensor(start.copy()))
    b = nn.Parameter(mc.tensor(start.copy()))
    oa, ob = getattr(optim, name)([a], **kw), getattr(optim, name)([b], **kw)
    for t, g in enumerate(grads):
        a.grad, b.grad = mc.tensor(g), mc.tensor(g)
        oa.step()
        ob.step()
        if t == 2:                                       # resume b from a checkpoint
            sd = ob.state_dict()
            if name != "SGD":
                assert sd["state"][0]["step"] == 3       # 'step' lives in each param's state
            ob = getattr(optim, name)([b], **kw)
            ob.load_state_dict(sd)
    np.testing.assert_array_equal(a.data, b.data)


def _option_grid(name):
    """Every combination of the switches that change ``name``'s update rule."""
    import itertools
    if name == "SGD":
        grid = [dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
                for m, d, n, w, x in itertools.product([0, 0.9], [0, 0.3], [False, True],
                                                       [0, 0.1], [False, True])]
        return [kw for kw in grid if not (kw["nesterov"] and (kw["momentum"] == 0
                                                              or kw["dampening"] != 0))]
    if name in ("Adam", "AdamW"):
        return [dict(amsgrad=a, weight_decay=w, maximize=x)
                for a, w, x in itertools.product([False, True], [0, 0.1], [False, True])]
    return [dict(momentum=m, centered=c, weight_decay=w, maximize=x)
            for m, c, w, x in itertools.product([0, 0.9], [False, True], [0, 0.1],
                                                [False, True])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_zero_dim_parameter_steps_like_a_one_element_one(name, dtype):
    # a learnable scalar (a temperature, a loss weight) is a 0-d parameter; Adam, AdamW and
    # RMSprop used to fail on it, as NumPy gives scalars, not arrays, for 0-d arithmetic
    for kw in _option_grid(name):
        scalar = nn.Parameter(mc.tensor(np.array(1.5, dtype)))
        vector = nn.Parameter(mc.tensor(np.array([1.5], dtype)))
        o0 = getattr(optim, name)([scalar], lr=0.1, **kw)
        o1 = getattr(optim, name)([vector], lr=0.1, **kw)
        for t in range(4):
            g = 0.7 - 0.4 * t
            scalar.grad = mc.tensor(np.array(g, dtype))
            vector.grad = mc.tensor(np.array([g], dtype))
            o0.step()
            o1.step()
        assert type(scalar.data) is np.ndarray and scalar.data.shape == (), kw
        assert scalar.data.dtype == dtype, kw
        np.testing.assert_array_equal(scalar.data, vector.data[0], err_msg=str(kw))
        for key, buf in o0.state[scalar].items():
            if key != "step":
                assert buf.data.shape == () and buf.data.dtype == dtype, (kw, key)


# (optimizer, hyper-parameter set to NaN) -> the error PyTorch 2.13 raises, or None where
# it accepts NaN: its SGD tests `value < 0`, the others `not 0.0 <= value` (from torch)
NAN_HYPER = [("SGD", "lr", None), ("SGD", "momentum", None), ("SGD", "weight_decay", None),
             ("SGD", "dampening", None),
             ("Adam", "lr", "Invalid learning rate: nan"),
             ("Adam", "eps", "Invalid epsilon value: nan"),
             ("Adam", "weight_decay", "Invalid weight_decay value: nan"),
             ("Adam", "betas", "Invalid beta parameter at index 0: nan"),
             ("AdamW", "lr", "Invalid learning rate: nan"),
             ("AdamW", "eps", "Invalid epsilon value: nan"),
             ("AdamW", "weight_decay", "Invalid weight_decay value: nan"),
             ("RMSprop", "lr", "Invalid learning rate: nan"),
             ("RMSprop", "eps", "Invalid epsilon value: nan"),
             ("RMSprop", "momentum", "Invalid momentum value: nan"),
             ("RMSprop", "weight_decay", "Invalid weight_decay value: nan"),
             ("RMSprop", "alpha", "Invalid alpha value: nan")]


@pytest.mark.parametrize("name, key, error", NAN_HYPER)
def test_nan_hyper_parameters_accepted_or_rejected_as_torch(name, key, error):
    p = mc.zeros(2, requires_grad=True)
    kw = {key: (math.nan, 0.999) if key == "betas" else math.nan}
    if error is None:
        assert math.isnan(getattr(optim, name)([p], **kw).param_groups[0][key])
    else:
        with pytest.raises(ValueError, match=f"^{re.escape(error)}$"):
            getattr(optim, name)([p], **kw)


@pytest.mark.parametrize("name, missing, want", [("Adam", "decoupled_weight_decay", False),
                                                 ("AdamW", "decoupled_weight_decay", True),
                                                 ("SGD", "maximize", False),
                                                 ("RMSprop", "centered", False)])
def test_load_state_dict_fills_options_missing_from_an_old_checkpoint(name, missing, want):
    p = mc.ones(3, requires_grad=True)
    sd = getattr(optim, name)([p], lr=0.1).state_dict()
    del sd["param_groups"][0][missing]          # saved before the option existed
    opt = getattr(optim, name)([p], lr=0.1)
    opt.load_state_dict(sd)
    assert opt.param_groups[0][missing] is want
    p.grad = mc.ones(3)
    opt.step()                                   # used to raise KeyError
    assert np.all(p.data < 1)


def test_clip_grad_norm_minus_inf_is_the_smallest_magnitude():
    a, b = mc.zeros(3, requires_grad=True), mc.zeros(2, requires_grad=True)
    a.grad, b.grad = mc.tensor([3.0, -0.5, 2.0]), mc.tensor([-0.75, 1.0])
    assert nn.utils.clip_grad_norm_([a], 10.0, norm_type=-math.inf).item() == 0.5
    assert nn.utils.clip_grad_norm_([b, a], 10.0, norm_type=-math.inf).item() == 0.5
    total = nn.utils.clip_grad_norm_([a, b], 0.25, norm_type=-math.inf)
    assert total.item() == 0.5
    np.testing.assert_allclose(a.grad.data, np.array([3.0, -0.5, 2.0]) * 0.25 / (0.5 + 1e-6),
                               rtol=1e-6)


def test_clip_grad_norm_promotes_mixed_dtypes_and_clips_each_in_its_own():
    a = mc.zeros(2, requires_grad=True)
    b = mc.zeros(2, dtype=mc.float64, requires_grad=True)
    a.grad = mc.tensor(np.array([1e-4, 1.0], np.float32))
    b.grad = mc.tensor(np.array([1.0, 1.0]))
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    # PyTorch: each norm in its gradient's dtype, the total in float64; the values below
    # are torch.nn.utils.clip_grad_norm_'s (sqrt(1 + 1e-8) rounds to 1 in float32)
    assert total.dtype == np.float64 and total.item() == 1.7320508075688774
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert a.grad.data.tolist() == [5.773499287897721e-05, 0.5773499608039856]
    assert b.grad.data.tolist() == [0.5773499358564849, 0.5773499358564849]


def test_get_total_norm_then_clip_grads_with_norm_is_clip_grad_norm_():
    rng = np.random.default_rng(3)
    gs = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, 0.5, math.inf, -math.inf):
        one = [mc.zeros(*g.shape, dtype=g.dtype, requires_grad=True) for g in gs]
        two = [mc.zeros(*g.shape, dtype=g.dtype, requires_grad=True) for g in gs]
        for p, q, g in zip(one, two, gs):
            p.grad, q.grad = mc.tensor(g.copy()), mc.tensor(g.copy())
        total = nn.utils.clip_grad_norm_((p for p in one), 0.3, norm_type)   # a generator
        total2 = nn.utils.get_total_norm([q.grad for q in two], norm_type)
        assert nn.utils.clip_grads_with_norm_(two, 0.3, total2) is None
        assert total.item() == total2.item() and total2.dtype == np.float64
        for p, q, g in zip(one, two, gs):
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
            assert np.array_equal(p.grad.data, g) == (total.item() <= 0.3)  # clipped?
    assert nn.utils.get_total_norm(mc.tensor([3.0, 4.0])).item() == 5.0
    empty = nn.utils.get_total_norm([])
    assert empty.item() == 0.0 and empty.dtype == np.float32
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.get_total_norm([mc.tensor([1.0, math.inf])], error_if_nonfinite=True)


def test_new_clipping_functions_have_torchs_signatures():
    import inspect
    sig = inspect.signature(nn.utils.get_total_norm)
    assert [(k, v.default) for k, v in sig.parameters.items()] == [
        ("tensors", inspect.Parameter.empty), ("norm_type", 2.0),
        ("error_if_nonfinite", False), ("foreach", None)]
    sig = inspect.signature(nn.utils.clip_grads_with_norm_)
    assert [(k, v.default) for k, v in sig.parameters.items()] == [
        ("parameters", inspect.Parameter.empty), ("max_norm", inspect.Parameter.empty),
        ("total_norm", inspect.Parameter.empty), ("foreach", None)]


def test_clip_grad_norm_mixed_dtypes_and_minus_inf_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for dtypes in ([np.float32] * 2, [np.float32, np.float64]):
        for norm_type in (2.0, 1.0, 3.0, 0.5, math.inf, -math.inf):
            gs = [rng.standard_normal(7).astype(d) * 3 for d in dtypes]
            ours = [mc.zeros(7, dtype=g.dtype, requires_grad=True) for g in gs]
            theirs = [torch.zeros(7, dtype=torch.from_numpy(g).dtype, requires_grad=True)
                      for g in gs]
            for o, t, g in zip(ours, theirs, gs):
                o.grad, t.grad = mc.tensor(g.copy()), torch.from_numpy(g.copy())
            n1 = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
            n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
            assert n1.dtype == n2.numpy().dtype, (dtypes, norm_type)
            # equal up to summation order (a float64 dot product and torch's kernel can
            # round the last bit apart)
            np.testing.assert_allclose(n1.data, n2.numpy(), rtol=1e-14)
            for o, t in zip(ours, theirs):
                assert o.grad.dtype == t.grad.numpy().dtype
                np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-6)


def test_parameters_to_vector_is_differentiable():
    w = nn.Parameter(mc.tensor([[1.0, 2.0], [3.0, 4.0]]))
    s = nn.Parameter(mc.tensor(5.0))                      # a 0-d parameter too
    vec = nn.utils.parameters_to_vector([w, s])
    np.testing.assert_array_equal(vec.data, [1, 2, 3, 4, 5])
    assert vec.requires_grad and vec.grad_fn is not None
    (vec * mc.tensor([1.0, -1.0, 2.0, -2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1, -1], [2, -2]])
    assert s.grad.item() == 3.0
    with mc.no_grad():
        assert not nn.utils.parameters_to_vector([w, s]).requires_grad


def test_vector_to_parameters_checks_the_vector_and_ignores_extra_values():
    a, b = mc.zeros(2, 2, requires_grad=True), mc.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="expected minicv.Tensor, but got: ndarray"):
        nn.utils.vector_to_parameters(np.arange(7.0), [a, b])
    nn.utils.vector_to_parameters(mc.arange(10.0), [a, b])   # PyTorch ignores the extra 3
    np.testing.assert_array_equal(a.data, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.data, [4, 5, 6])
    with pytest.raises(ValueError, match="has 6 values but the parameters need at least 7"):
        nn.utils.vector_to_parameters(mc.arange(6.0), [a, b])


def test_duplicate_parameter_in_a_group_warns_and_is_stepped_per_listing():
    # PyTorch 2.13 warns (it does not raise), keeps the duplicate and updates it once per
    # listing; its state dict numbers a repeated parameter by its last listing. Values
    # from torch.optim with the same inputs: SGD(lr=0.1) gives p=[0.7, 2.6], q=[2.4],
    # params [2, 1, 2]; Adam(lr=0.1) gives p=[0.4, 2.6], q=[2.7].
    for name, want_p, want_q in (("SGD", [0.7, 2.6], [2.4]), ("Adam", [0.4, 2.6], [2.7])):
        p = mc.tensor([1.0, 2.0], requires_grad=True)
        q = mc.tensor([3.0], requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt = getattr(optim, name)([p, q, p], lr=0.1)
        assert len(opt.param_groups[0]["params"]) == 3
        for _ in range(3):
            p.grad, q.grad = mc.tensor([0.5, -1.0]), mc.tensor([2.0])
            opt.step()
        np.testing.assert_allclose(p.data, want_p, rtol=1e-6)
        np.testing.assert_allclose(q.data, want_q, rtol=1e-6)
        assert opt.state_dict()["param_groups"][0]["params"] == [2, 1, 2]


def test_clip_grad_norm_of_non_finite_gradients_is_silent_like_torch():
    # PyTorch 2.13, without a warning: an inf gradient gives norm inf and grad
    # [nan, 0, 0] (inf·0); a NaN one gives norm NaN and an all-NaN gradient
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for bad, want_norm, want in ((np.inf, np.inf, [np.nan, 0, 0]),
                                     (np.nan, np.nan, [np.nan] * 3)):
            p = mc.ones(3, requires_grad=True)
            p.grad = mc.tensor([bad, 1.0, 2.0])
            total = nn.utils.clip_grad_norm_([p], 1.0)
            np.testing.assert_array_equal(total.item(), want_norm)
            np.testing.assert_array_equal(p.grad.data, want)
