"""Optimizers: one step by hand, 20-step trajectories vs PyTorch, state dicts, clipping."""
import math

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
