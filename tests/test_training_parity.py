"""End-to-end training parity with PyTorch: the same network, started from the same weights
and fed the same mini-batches, follows the same trajectory in minicv and in torch.

Each case builds one model twice from one factory (``make(nn)`` with ``nn`` either
``torch.nn`` or ``minicv.nn``: the two share the API), copies torch's initial state dict
into minicv after checking that the key lists agree, then trains both for a dozen steps.
Every step compares the loss and the clipped gradient norm; at the end the test compares
every parameter and buffer (BatchNorm's running statistics and ``num_batches_tracked``),
the optimizer's state (momentum buffers, Adam's moments, RMSprop's averages) and groups
(lr and the momentum/betas that OneCycleLR cycles), the scheduler, and the outputs of
both models in ``eval()`` mode.

float64 runs check the arithmetic (differences are rounding only); float32 runs check the
default dtype and the fast convolution kernels (direct, im2col, Winograd F(2x2)), with the
algorithm forced per convolution through ``F.conv2d(..., algo=...)``.
"""
import functools

import numpy as np
import pytest

import minicv as mc
import minicv.nn.functional as MF
from minicv.kernels import conv_algo

torch = pytest.importorskip("torch")

N, STEPS = 8, 12

# Tolerances per dtype: the loss (and gradient norm) of every step, then the state after
# STEPS steps. Measured: float64 losses within 4e-16 relative, states within 2e-14
# absolute; float32 losses within 3e-7 relative, states within 6e-6 absolute (RMSprop's
# momentum buffers; parameters within 1e-6).
TOL = {
    np.float64: {"loss": 1e-10, "rtol": 1e-9, "atol": 1e-12},
    np.float32: {"loss": 1e-5, "rtol": 1e-3, "atol": 2e-5},
}


# ================================================================ models (one factory each)

def cnn(nn, conv=None):
    """Conv-BN-ReLU-pool, a stride-2 conv without bias, GELU and ReLU6, global pooling, a
    classifier."""
    conv = conv or nn.Conv2d
    return nn.Sequential(
        conv(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),  # (N, 8, 8, 8)
        conv(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),     # (N, 16, 4, 4)
        nn.GELU(), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),             # (N, 16)
        nn.Dropout(p=0.0), nn.Linear(16, 10))


def ds_regressor(nn, conv=None):
    """A depthwise-separable block with GroupNorm, an Embedding added to the pooled features,
    LayerNorm and a linear head regressing 4 numbers."""
    conv = conv or nn.Conv2d

    class DSRegressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                conv(3, 3, 3, padding=1, groups=3),          # depthwise: (N, 3, 16, 16)
                conv(3, 16, 1), nn.GroupNorm(4, 16), nn.SiLU(),  # pointwise: (N, 16, 16, 16)
                nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten())  # (N, 16)
            self.emb = nn.Embedding(6, 16)
            self.head = nn.Sequential(nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 4))

        def forward(self, x, ids):
            return self.head(self.features(x) + self.emb(ids))

    return DSRegressor()


def segnet(nn, conv=None):
    """A tiny encoder-decoder: stride-2 conv, a residual block, ConvTranspose2d and bilinear
    Upsample back to full size, a skip connection, per-pixel logits for 5 classes."""
    conv = conv or nn.Conv2d

    class SegNet(nn.Module):
        def __init__(self):
            super().__init__()
            # no bias before BatchNorm: its gradient would be rounding noise (~1e-8 in
            # float32), which RMSprop's normalisation turns into steps of size lr
            self.stem = nn.Sequential(conv(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                      nn.ReLU())
            self.down = conv(8, 8, 3, stride=2, padding=1)
            self.body = nn.Sequential(conv(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                      nn.LeakyReLU(0.1))
            self.up = nn.ConvTranspose2d(8, 8, 2, stride=2)
            self.resize = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.head = conv(8, 5, 1)

        def forward(self, x):
            s = self.stem(x)                      # (N, 8, 16, 16)
            d = self.down(s)                      # (N, 8, 8, 8)
            d = d + self.body(d)
            return self.head(self.up(d) + self.resize(d) + s)  # (N, 5, 16, 16)

    return SegNet()


class AlgoConv2d(mc.nn.Conv2d):
    """minicv's Conv2d with the convolution algorithm forced (``F.conv2d(..., algo=)``)."""

    def __init__(self, *args, algo="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.algo = algo

    def forward(self, x):
        return MF.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups, algo=self.algo)


# ================================================================ data, optimizers, losses

def _images(rng, dtype):
    return rng.standard_normal((N, 3, 16, 16)).astype(dtype)


def classification_batches(rng, dtype):
    return [((_images(rng, dtype),), rng.integers(0, 10, N)) for _ in range(STEPS)]


def regression_batches(rng, dtype):
    return [((_images(rng, dtype), rng.integers(0, 6, N)),
             rng.standard_normal((N, 4)).astype(dtype)) for _ in range(STEPS)]


def segmentation_batches(rng, dtype):
    out = []
    for _ in range(STEPS):
        t = rng.integers(0, 5, (N, 16, 16))
        t[rng.random((N, 16, 16)) < 0.1] = 255           # unlabelled pixels
        out.append(((_images(rng, dtype),), t))
    return out


def sgd_onecycle(lib, model):
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                        weight_decay=5e-4)
    # OneCycleLR also cycles SGD's momentum between 0.85 and 0.95
    return opt, lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=STEPS)


def adamw_step(lib, model):
    opt = lib.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05, amsgrad=True)
    return opt, lib.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)


def rmsprop_cosine(lib, model):
    opt = lib.optim.RMSprop(model.parameters(), lr=3e-3, alpha=0.9, momentum=0.5,
                            centered=True, weight_decay=1e-4)
    return opt, lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-4)


def smoothed_ce(lib, dtype):
    return lib.nn.CrossEntropyLoss(label_smoothing=0.1)


def smooth_l1(lib, dtype):
    return lib.nn.SmoothL1Loss(beta=0.5)


def weighted_pixel_ce(lib, dtype):
    w = lib.tensor(np.array([1.0, 2.0, 0.5, 1.5, 1.0], dtype))
    return lib.nn.CrossEntropyLoss(weight=w, ignore_index=255)


CASES = {
    "cnn-sgd-onecycle": (cnn, classification_batches, sgd_onecycle, smoothed_ce, 1.0),
    "dsconv-adamw-steplr": (ds_regressor, regression_batches, adamw_step, smooth_l1, None),
    "segnet-rmsprop-cosine": (segnet, segmentation_batches, rmsprop_cosine,
                              weighted_pixel_ce, 2.0),
}


# ================================================================ the runs

def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    if isinstance(t, mc.Tensor):
        return t.numpy()
    return np.asarray(t)


def _build(make, dtype, conv=None):
    """The torch and minicv models, minicv's loaded with torch's initial state dict."""
    torch.manual_seed(0)
    tm = make(torch.nn).to(torch.float64 if dtype == np.float64 else torch.float32)
    mm = make(mc.nn, conv).to(dtype)
    tsd, msd = tm.state_dict(), mm.state_dict()
    assert list(tsd) == list(msd), "state_dict keys differ between torch and minicv"
    mm.load_state_dict({k: _np(v) for k, v in tsd.items()})
    for k, v in mm.state_dict().items():
        assert v.dtype == _np(tsd[k]).dtype, k
    return tm, mm


def _train(lib, model, opt, sched, loss_fn, batches, clip):
    """Losses, clipped gradient norms and lrs of every step."""
    losses, norms, lrs = [], [], []
    model.train()
    for inputs, target in batches:
        opt.zero_grad()
        loss = loss_fn(model(*[lib.tensor(a) for a in inputs]), lib.tensor(target))
        loss.backward()
        if clip is not None:
            norms.append(float(lib.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        sched.step()
        losses.append(float(loss.item()))
        lrs.append([g["lr"] for g in opt.param_groups])
    return np.array(losses), np.array(norms), np.array(lrs)


def _close(name, mine, theirs, rtol, atol):
    np.testing.assert_allclose(_np(mine), _np(theirs), rtol=rtol, atol=atol, err_msg=name)


def run_case(case, dtype, conv=None):
    make, data, optim, criterion, clip = CASES[case]
    tol = TOL[dtype]
    tm, mm = _build(make, dtype, conv)
    batches = data(np.random.default_rng(1), dtype)
    held_out = data(np.random.default_rng(2), dtype)[0][0]
    runs = {}
    for lib, model in ((torch, tm), (mc, mm)):
        opt, sched = optim(lib, model)
        runs[lib.__name__] = (model, opt, sched) + _train(
            lib, model, opt, sched, criterion(lib, dtype), batches, clip)
    (tm, topt, tsch, tloss, tnorm, tlr), (mm, mopt, msch, mloss, mnorm, mlr) = \
        runs["torch"], runs["minicv"]
    _close("loss", mloss, tloss, tol["loss"], 0)
    _close("grad norm", mnorm, tnorm, tol["loss"], 0)
    np.testing.assert_allclose(mlr, tlr, rtol=1e-12, err_msg="lr trajectory")

    tsd, msd = tm.state_dict(), mm.state_dict()
    for k in tsd:
        if k.endswith("num_batches_tracked"):
            assert int(_np(msd[k])) == int(_np(tsd[k])) == STEPS, k
        else:
            _close(k, msd[k], tsd[k], tol["rtol"], tol["atol"])

    # optimizer: the same buffers for every parameter, and the same groups
    ts, ms = topt.state_dict(), mopt.state_dict()
    assert sorted(ts["state"]) == sorted(ms["state"])
    for i, tstate in ts["state"].items():
        assert sorted(tstate) == sorted(ms["state"][i]), (i, sorted(tstate))
        for name, v in tstate.items():
            if name == "step":
                assert float(_np(ms["state"][i][name])) == float(_np(v)) == STEPS
            else:
                _close(f"opt[{i}].{name}", ms["state"][i][name], v, tol["rtol"], tol["atol"])
    for tg, mg in zip(ts["param_groups"], ms["param_groups"]):
        _same_entries("param_groups", mg, tg)
    # the scheduler: PyTorch's state-dict entries, less an internal flag of its step()
    tsd = {k: v for k, v in tsch.state_dict().items() if k != "_get_lr_called_within_step"}
    _same_entries("scheduler", msch.state_dict(), tsd)
    np.testing.assert_allclose(msch.get_last_lr(), tsch.get_last_lr(), rtol=1e-12)
    assert msch.last_epoch == tsch.last_epoch == STEPS

    # eval mode: running statistics instead of the batch's
    tm.eval()
    mm.eval()
    with torch.no_grad(), mc.no_grad():
        tout = tm(*[torch.tensor(a) for a in held_out])
        mout = mm(*[mc.tensor(a) for a in held_out])
    assert mout.dtype == dtype
    _close("eval output", mout, tout, tol["rtol"], tol["atol"])


def _same_entries(what, mine, theirs):
    """The same keys, numbers equal to 1e-12 (lrs, OneCycleLR's momentum), the rest equal."""
    assert sorted(mine) == sorted(theirs), what
    for key, v in theirs.items():
        if isinstance(v, (float, tuple)) or (isinstance(v, list) and v and
                                             isinstance(v[0], float)):
            np.testing.assert_allclose(mine[key], v, rtol=1e-12, err_msg=f"{what}: {key}")
        else:
            assert mine[key] == v, (what, key, mine[key], v)


# ================================================================ tests

@pytest.mark.parametrize("case", list(CASES))
def test_float64_training_matches_torch(case):
    run_case(case, np.float64)


@pytest.mark.parametrize("case, algo, plans", [
    ("cnn-sgd-onecycle", "auto", {"direct3x3", "direct3x3s2"}),
    ("cnn-sgd-onecycle", "im2col", {"im2col"}),
    ("cnn-sgd-onecycle", "winograd", {"winograd-f2", "im2col"}),   # im2col: stride 2
    ("dsconv-adamw-steplr", "auto", {"depthwise", "gemm1x1"}),
    # im2col: the 8x8 layer, and ConvTranspose2d's input gradient
    ("segnet-rmsprop-cosine", "auto", {"direct3x3", "direct3x3s2", "im2col", "gemm1x1"}),
    ("segnet-rmsprop-cosine", "winograd", {"winograd-f2", "im2col", "gemm1x1"}),
])
def test_float32_training_matches_torch(case, algo, plans, monkeypatch):
    """The default dtype through each convolution algorithm; the plans that ran (forward
    and backward) are recorded, so the fast kernels are known to be the ones compared."""
    ran, plan = set(), conv_algo.conv_plan

    def recorded(*args, **kwargs):
        chosen = plan(*args, **kwargs)
        ran.add(chosen)
        return chosen

    monkeypatch.setattr(conv_algo, "conv_plan", recorded)
    run_case(case, np.float32, functools.partial(AlgoConv2d, algo=algo))
    assert ran == plans
