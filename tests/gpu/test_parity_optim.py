"""CPU/GPU parity of Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS and
swa_utils: the same parameters, state and errors on both devices, and (on the CuPy
emulator, which counts them) no host synchronisation in an optimizer step.

Marked ``gpu`` (skipped without CuPy and a CUDA device; ``test_emulated.py`` and
``PYTHONPATH=tests/gpu/emulator`` run them on the emulator).
"""
import numpy as np
import pytest

import minicv as mc
from minicv import nn, optim
from minicv.optim import swa_utils
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)
# a 0-d float64, a 0-d float32 and a 1-D float64 parameter; gradients of three steps
INIT = [np.array(1.5), np.array(-0.3, dtype=np.float32), R.standard_normal(4)]
GRADS = [[R.standard_normal(np.shape(a)) for a in INIT] for _ in range(3)]

MAKERS = {
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1, weight_decay=0.1,
                                        initial_accumulator_value=0.2),
    "adadelta": lambda ps: optim.Adadelta(ps, rho=0.8, weight_decay=0.1, maximize=True),
    "adamax": lambda ps: optim.Adamax(ps, lr=0.1, weight_decay=0.1),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.1, weight_decay=0.1),
    "nadamw": lambda ps: optim.NAdam(ps, lr=0.1, weight_decay=0.1,
                                     decoupled_weight_decay=True, maximize=True),
    "radam": lambda ps: optim.RAdam(ps, lr=0.1, betas=(0.5, 0.6), weight_decay=0.1),
    "radamw": lambda ps: optim.RAdam(ps, lr=0.1, weight_decay=0.1,
                                     decoupled_weight_decay=True),
    "asgd": lambda ps: optim.ASGD(ps, lr=0.1, lambd=0.1, t0=1, weight_decay=0.1),
    "rprop": lambda ps: optim.Rprop(ps, lr=0.1, etas=(0.4, 1.5), maximize=True),
}


def _trajectory(make, device, count_syncs=False):
    ps = [mc.tensor(a, device=device, requires_grad=True) for a in INIT]
    opt = make(ps)
    syncs = 0
    for step in GRADS:
        for p, g in zip(ps, step):
            p.grad = mc.tensor(np.asarray(g).astype(p.dtype), device=device)
        if count_syncs:
            from cupy import _stats
            _stats.reset()
        opt.step()
        if count_syncs:
            syncs += sum(_stats.syncs.values())
    assert all(p.device.type == device for p in ps)
    state = {(i, k): v.cpu().numpy() for i, s in opt.state_dict()["state"].items()
             for k, v in s.items() if isinstance(v, mc.Tensor)}
    return [p.detach().cpu().numpy() for p in ps], state, syncs


@pytest.mark.parametrize("name", MAKERS)
def test_optimizer_steps_on_gpu_equal_cpu_without_syncs(name):
    """Values, dtypes and state buffers as on the CPU; the emulator counts host syncs."""
    want, want_state, _ = _trajectory(MAKERS[name], "cpu")
    emulated = getattr(cp, "EMULATED", False)
    got, got_state, syncs = _trajectory(MAKERS[name], "cuda", count_syncs=emulated)
    for g, c in zip(got, want):
        tol = 2e-6 if c.dtype == np.float32 else 1e-12
        assert (g.dtype, g.shape) == (c.dtype, c.shape)
        np.testing.assert_allclose(g, c, rtol=tol, atol=tol)
    assert got_state.keys() == want_state.keys()
    for key, c in want_state.items():
        assert (got_state[key].dtype, got_state[key].shape) == (c.dtype, c.shape), key
        np.testing.assert_allclose(got_state[key], c, rtol=2e-6, atol=1e-7)
    assert syncs == 0, f"{name}: {syncs} host synchronisations in step()"


@pytest.mark.parametrize("name", ["adagrad", "rprop", "nadam"])
def test_one_step_through_same(name):
    """The sweep's ``_same``: a stepped parameter (float64 and float32) on both devices."""
    def stepped(p, g):
        q = p.detach().clone()
        q.requires_grad = True
        opt = MAKERS[name]([q])
        for t in range(2):
            q.grad = g * (t + 1.0) - q.detach()
            opt.step()
        return q.detach()
    for dtype in (np.float64, np.float32):
        _same(stepped, R.standard_normal((2, 3)).astype(dtype),
              R.standard_normal((2, 3)).astype(dtype), grad=False, rtol=2e-6, atol=1e-7)


def test_errors_are_the_same_on_both_devices():
    _same_error(lambda p: optim.Rprop([p], etas=(1.5, 2.0)), np.zeros(2),
                match="Invalid eta values: 1.5, 2.0")
    _same_error(lambda p: optim.LBFGS([{"params": [p]}, {"params": [p * 1]}]), np.zeros(2),
                match="doesn't support per-parameter options")


def test_lbfgs_on_gpu_equals_cpu():
    result = {}
    for device in ("cpu", "cuda"):
        x = mc.tensor([-1.2, 1.0, 0.5], dtype=mc.float64, device=device, requires_grad=True)
        opt = optim.LBFGS([x], max_iter=6, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(2)]
        assert x.device.type == device and opt.state[x]["d"].device.type == device
        result[device] = (x.detach().cpu().numpy(), losses, opt.state[x]["func_evals"])
    np.testing.assert_allclose(result["cuda"][0], result["cpu"][0], rtol=1e-10)
    np.testing.assert_allclose(result["cuda"][1], result["cpu"][1], rtol=1e-10)
    assert result["cuda"][2] == result["cpu"][2]


def test_averaged_model_and_update_bn_on_gpu():
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2)]
    result = {}
    for device in ("cpu", "cuda"):
        mc.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
        ema = swa_utils.AveragedModel(model, device=device,
                                      multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
        swa = swa_utils.AveragedModel(model, device=device, use_buffers=True)
        for value in (1.0, 3.0):
            for p in model.parameters():
                p.data[...] = value
            ema.update_parameters(model)
            swa.update_parameters(model)
        swa_utils.update_bn([mc.tensor(b, device=device) for b in batches], ema)
        assert ema.module[0].weight.device.type == device and ema.n_averaged.item() == 2
        result[device] = [t.detach().cpu().numpy() for t in
                          list(ema.parameters()) + list(ema.buffers()) + list(swa.parameters())]
    for g, c in zip(result["cuda"], result["cpu"]):
        assert g.dtype == c.dtype
        np.testing.assert_allclose(g, c, rtol=1e-6, atol=1e-7)
