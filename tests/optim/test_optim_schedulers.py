"""LR schedules: known values by hand, and 30-step curves equal to PyTorch's."""
import math

import numpy as np
import pytest

import minicv as mc
import minicv.optim as optim
from minicv.optim import lr_scheduler as S


def make_opt(lib, kind="sgd", lr=0.1, groups=1):
    def param():
        return mc.zeros(1, requires_grad=True) if lib is optim else \
            __import__("torch").zeros(1, requires_grad=True)
    params = [{"params": [param()], "lr": lr * (i + 1)} for i in range(groups)]
    if kind == "adam":
        return lib.Adam(params, lr=lr)
    return lib.SGD(params, lr=lr, momentum=0.9)


def curve(sched_fn, lib, sched_lib, steps=30, kind="sgd", groups=1, metric=None):
    opt = make_opt(lib, kind, groups=groups)
    sched = sched_fn(opt, sched_lib)
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [[g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]]
    for t in range(steps):
        opt.step()
        if metric is not None:
            sched.step(metric[t])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return lrs, moms, sched.get_last_lr()


SCHEDULES = {
    "step": (lambda o, L: L.StepLR(o, step_size=7, gamma=0.5), {}),
    "multistep": (lambda o, L: L.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.3), {}),
    "exponential": (lambda o, L: L.ExponentialLR(o, gamma=0.9), {}),
    "cosine": (lambda o, L: L.CosineAnnealingLR(o, T_max=12, eta_min=0.001), {}),
    "lambda": (lambda o, L: L.LambdaLR(o, lambda e: 1 / (1 + e)), {"groups": 2}),
    "linear": (lambda o, L: L.LinearLR(o, start_factor=0.25, total_iters=8), {}),
    "constant": (lambda o, L: L.ConstantLR(o, factor=0.5, total_iters=4), {}),
    "onecycle": (lambda o, L: L.OneCycleLR(o, max_lr=1.0, total_steps=30), {}),
    "onecycle_adam_3ph_lin": (lambda o, L: L.OneCycleLR(
        o, max_lr=[0.5, 0.8], total_steps=31, three_phase=True, anneal_strategy="linear"),
        {"kind": "adam", "groups": 2}),
    "sequential": (lambda o, L: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
            L.CosineAnnealingLR(o, T_max=10),
            L.StepLR(o, 3, 0.5)], milestones=[5, 15]), {}),
    "multiplicative": (lambda o, L: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.99),
                       {"groups": 2}),
    "polynomial": (lambda o, L: L.PolynomialLR(o, total_iters=12, power=2.0), {}),
    "warm_restarts": (lambda o, L: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                 eta_min=0.01), {}),
    "chained": (lambda o, L: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=2),
                                                 L.ExponentialLR(o, gamma=0.9)]), {}),
    "cyclic": (lambda o, L: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                       step_size_down=3), {"groups": 2}),
    "cyclic2_adam": (lambda o, L: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                             step_size_up=5, mode="triangular2"),
                     {"kind": "adam", "groups": 2}),
    "cyclic_exp": (lambda o, L: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                           mode="exp_range", gamma=0.97), {}),
    "cyclic_custom": (lambda o, L: L.CyclicLR(o, 0.01, 0.1, 4, scale_fn=lambda c: 0.5 ** c,
                                              cycle_momentum=False), {}),
    "plateau": (lambda o, L: L.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1,
                                                 min_lr=0.004),
                {"metric": [1.0 - 0.01 * min(t, 5) for t in range(30)]}),
    "plateau_max_abs": (lambda o, L: L.ReduceLROnPlateau(o, mode="max", patience=0,
                                                         threshold=0.1, threshold_mode="abs"),
                        {"metric": [t % 4 * 0.2 for t in range(30)]}),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_torch(name):
    torch = pytest.importorskip("torch")
    import warnings
    fn, kw = SCHEDULES[name]
    ours = curve(fn, optim, S, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = curve(fn, torch.optim, torch.optim.lr_scheduler, **kw)
    np.testing.assert_allclose(np.array(ours[0]), np.array(theirs[0]), rtol=1e-15, atol=0)
    assert ours[1] == theirs[1]
    assert ours[2] == theirs[2]


def test_schedules_by_hand():
    lrs, _, _ = curve(lambda o, L: L.StepLR(o, 2, 0.1), optim, S, steps=5)
    np.testing.assert_allclose([x[0] for x in lrs], [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    lrs, _, _ = curve(lambda o, L: L.CosineAnnealingLR(o, T_max=4), optim, S, steps=4)
    want = [0.05 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    np.testing.assert_allclose([x[0] for x in lrs], want, atol=1e-15)
    lrs, moms, _ = curve(lambda o, L: L.OneCycleLR(o, max_lr=1.0, total_steps=10), optim, S,
                         steps=9)
    assert lrs[0][0] == pytest.approx(1 / 25) and max(x[0] for x in lrs) == pytest.approx(1.0)
    assert lrs[-1][0] == pytest.approx(1 / 25 / 1e4)
    assert moms[0][0] == 0.95 and min(m[0] for m in moms) == pytest.approx(0.85)


def test_scheduler_state_dict_resume():
    opt = make_opt(optim)
    sched = S.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = make_opt(optim)
    sched2 = S.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(sd)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    sched.step()
    sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr()
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), 3)


def test_warm_restarts_by_hand_and_fractional_epochs():
    opt = make_opt(optim)
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    base = lrs[0]
    want = [base * (1 + math.cos(math.pi * c / T)) / 2
            for c, T in ((0, 2), (1, 2), (0, 4), (1, 4), (2, 4), (3, 4), (0, 8))]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    sched.step(2.5)                                      # half an epoch into period 2
    assert opt.param_groups[0]["lr"] == pytest.approx(base * (1 + math.cos(math.pi / 8)) / 2)
    poly = S.PolynomialLR(make_opt(optim), total_iters=4, power=1.0)
    for _ in range(5):
        poly.optimizer.step()
        poly.step()
    assert poly.get_last_lr()[0] == 0.0


def test_multiplicative_lr_multiplies_on_every_step_but_the_constructors():
    # expected values from torch.optim.lr_scheduler 2.13 with the same calls
    opt = make_opt(optim)
    sched = S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, 2),
                                 S.MultiplicativeLR(opt, lambda e: 0.9)], milestones=[3])
    lrs = []
    for _ in range(5):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.05, 0.1, 0.09, 0.081, 0.0729], rtol=1e-15)

    opt = make_opt(optim)
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = S.MultiplicativeLR(opt, lambda e: 0.9, last_epoch=4)     # resumed
    assert opt.param_groups[0]["lr"] == 0.1
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.09, rel=1e-15)

    opt = make_opt(optim)
    sched = S.MultiplicativeLR(opt, lambda e: 0.9)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.09, rel=1e-15)


@pytest.mark.parametrize("T_0, T_mult, last_epoch, want",
                         [(3, 2, 7, (0.075, 2, 6)), (2, 1, 5, (0.1, 0, 2))])
def test_warm_restarts_resumed_far_into_a_period(T_0, T_mult, last_epoch, want):
    # resuming puts T_cur at last_epoch + 1, which can be ≥ 2·T_i: PyTorch wraps it with
    # a modulo (values from torch 2.13)
    opt = make_opt(optim)
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, last_epoch=last_epoch)
    lr, T_cur, T_i = want
    assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-15)
    assert (sched.T_cur, sched.T_i) == (T_cur, T_i)


def _warnings_of(fn):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_scheduler_stepped_before_the_optimizer_warns_once():
    opt = make_opt(optim)
    sched = S.StepLR(opt, 2)

    def wrong_order():
        for _ in range(3):
            sched.step()
            opt.step()
    messages = _warnings_of(wrong_order)
    assert len(messages) == 1 and messages[0].startswith(
        "Detected call of `lr_scheduler.step()` before `optimizer.step()`")
    opt = make_opt(optim)
    sched = S.CosineAnnealingLR(opt, 10)

    def right_order():
        for _ in range(3):
            opt.step()
            sched.step()
    assert _warnings_of(right_order) == []
    # as in PyTorch, the warm restarts schedule does not check
    assert _warnings_of(S.CosineAnnealingWarmRestarts(make_opt(optim), 3).step) == []


class _OwnStep(optim.Optimizer):
    """A user's optimizer that writes its own step (no call into minicv's)."""
    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        """Move every parameter by -lr."""
        for group in self.param_groups:
            for p in group["params"]:
                p.data -= group["lr"]
        return "stepped"


class _SGDWithLog(optim.SGD):
    def step(self, closure=None):
        self.calls = getattr(self, "calls", 0) + 1
        return super().step(closure)


@pytest.mark.parametrize("cls", [_OwnStep, _SGDWithLog])
def test_order_warning_sees_user_optimizers_that_override_step(cls):
    p = mc.ones(2, requires_grad=True)
    p.grad = mc.ones(2)
    opt = cls([p], lr=0.1)
    sched = S.StepLR(opt, 2)

    def right_order():
        opt.step()
        sched.step()
    assert _warnings_of(right_order) == []
    np.testing.assert_allclose(p.data, [0.9, 0.9])       # the user's step ran, once
    assert cls.step.__doc__ == cls.__dict__["step"].__wrapped__.__doc__
    assert opt.step() == ("stepped" if cls is _OwnStep else None)   # results pass through
    assert getattr(opt, "calls", 2) == 2
    opt = cls([mc.ones(2, requires_grad=True)], lr=0.1)
    assert len(_warnings_of(S.StepLR(opt, 2).step)) == 1


def test_warm_restarts_rejects_a_non_number_eta_min():
    # PyTorch 2.13: ValueError("Expected float or int eta_min, but got None of type
    # <class 'NoneType'>") at construction, not a TypeError at the first step
    with pytest.raises(ValueError, match="Expected float or int eta_min, but got None of type"):
        S.CosineAnnealingWarmRestarts(make_opt(optim), T_0=2, eta_min=None)
    S.CosineAnnealingWarmRestarts(make_opt(optim), T_0=2, eta_min=1)      # an int is fine
