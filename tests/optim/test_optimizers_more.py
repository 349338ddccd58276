"""Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS, step hooks and swa_utils.

Expected parameters were computed with PyTorch 2.13 (CPU, float64) from the same starts
and gradients and are written out, so the tests need no torch.
"""
import inspect
import math

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.optim as optim
from minicv.optim import swa_utils
from minicv.testing import strategies as st


def quad_grad(p, t):
    """Gradient of a fixed, slightly non-quadratic loss at step t (same as torch's run)."""
    return np.asarray(np.cos(p) * 0.5 + p * (0.1 + 0.05 * t))


CONFIGS = {
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad_all": ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                    initial_accumulator_value=0.3, eps=1e-6, maximize=True)),
    "adadelta": ("Adadelta", dict()),
    "adadelta_all": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1,
                                      maximize=True)),
    "adamax": ("Adamax", dict(lr=0.05)),
    "adamax_all": ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1,
                                  maximize=True)),
    "nadam": ("NAdam", dict(lr=0.05)),
    "nadam_all": ("NAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1,
                                momentum_decay=0.01, maximize=True)),
    "nadamw": ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    "radam": ("RAdam", dict(lr=0.05)),
    "radam_all": ("RAdam", dict(lr=0.05, betas=(0.5, 0.7), weight_decay=0.1, maximize=True)),
    "radamw": ("RAdam", dict(lr=0.05, betas=(0.5, 0.7), weight_decay=0.1,
                             decoupled_weight_decay=True)),
    "asgd": ("ASGD", dict(lr=0.1)),
    "asgd_all": ("ASGD", dict(lr=0.1, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1,
                              maximize=True)),
    "rprop": ("Rprop", dict(lr=0.05)),
    "rprop_all": ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.1),
                                maximize=True)),
}
START = [np.array([0.8, -1.3, 2.1]), np.array(-0.6)]
# torch.optim.<name>(params, **kw), 7 steps of quad_grad: the 3 values of the 1-D parameter,
# then the 0-d one
WANT = {
    "adagrad": [0.3665468533368016, -1.0101484617925764, 1.7440866866536566,
                -0.8526101288172694],
    "adagrad_all": [1.0886098711327399, -1.331879991839603, 2.1371310829446424,
                    -0.3363080911814593],
    "adadelta": [0.7731060372875999, -1.2637909364269615, 2.0615369354628625,
                 -0.618460486628236],
    "adadelta_all": [0.9010544767520653, -1.3309614690132925, 2.124145653626186,
                     -0.5235724785434492],
    "adamax": [0.47953685834371135, -1.1711651609296974, 2.0253709258720134,
               -0.85822750003635],
    "adamax_all": [1.1206581301670462, -1.0968808338878735, 2.018164982437326,
                   -0.24609971536935688],
    "nadam": [0.4985032728375883, -1.0581743905244771, 1.8387172525667257,
              -0.8044906322702176],
    "nadam_all": [1.1404236588081158, -1.2704479533323292, 2.1716410890010853,
                  -0.288667680182232],
    "nadamw": [0.4757018868701317, -1.0192337985711761, 1.767921929834036,
               -0.7844880068617752],
    "radam": [0.6782906074621399, -1.280732926035819, 2.0794402079544767,
              -0.6802976798431143],
    "radam_all": [0.9525138151247151, -1.3056325523527712, 2.100715289491297,
                  -0.47310430461093395],
    "radamw": [0.5907830355293736, -1.2089144611558584, 1.9538992395511947,
               -0.6700709478781194],
    "asgd": [0.4166652801812152, -1.1829095894184503, 1.9067403137401675,
             -0.7485174207181363],
    "asgd_all": [1.05040540530827, -1.2312441989287664, 2.0159685528870797,
                 -0.30326290221790797],
    "rprop": [0.15420480000000003, -1.1639600000000003, 1.9639600000000002, -0.92024],
    "rprop_all": [1.4250000000000005, -1.4478124999999997, 2.2478125000000007,
                  0.025000000000000105],
}


def _run(name, steps=7, dtype=np.float64, make=None):
    cls, kw = CONFIGS[name]
    ps = [nn.Parameter(mc.tensor(s.astype(dtype))) for s in START]
    opt = (make or getattr(optim, cls))(ps, **kw)
    for t in range(steps):
        for p in ps:
            p.grad = mc.tensor(quad_grad(p.data, t).astype(dtype))
        opt.step()
    return ps, opt


@pytest.mark.parametrize("name", CONFIGS)
def test_seven_steps_match_torch(name):
    ps, _ = _run(name)
    got = list(ps[0].data) + [ps[1].data.item()]
    np.testing.assert_allclose(got, WANT[name], rtol=1e-12, atol=1e-14)
    assert ps[1].data.shape == () and type(ps[1].data) is np.ndarray


@pytest.mark.parametrize("name", ["adagrad_all", "adamax_all", "nadam", "radam", "asgd",
                                  "rprop_all"])
def test_float32_parameters_stay_float32_and_close(name):
    ps, opt = _run(name, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in ps)
    for st_ in opt.state.values():
        assert all(v.dtype == np.float32 for v in st_.values() if isinstance(v, mc.Tensor))
    got = list(ps[0].data) + [ps[1].data.item()]
    np.testing.assert_allclose(got, WANT[name], rtol=2e-5, atol=2e-6)


# state keys and group keys of torch.optim 2.13 after one step
KEYS = {
    "Adagrad": ({"step", "sum"}, {"lr", "lr_decay", "eps", "weight_decay",
                                  "initial_accumulator_value", "foreach", "maximize",
                                  "differentiable", "fused"}),
    "Adadelta": ({"step", "square_avg", "acc_delta"},
                 {"lr", "rho", "eps", "weight_decay", "maximize", "capturable", "foreach",
                  "differentiable"}),
    "Adamax": ({"step", "exp_avg", "exp_inf"},
               {"lr", "betas", "eps", "weight_decay", "foreach", "maximize", "differentiable",
                "capturable"}),
    "NAdam": ({"step", "mu_product", "exp_avg", "exp_avg_sq"},
              {"lr", "betas", "eps", "weight_decay", "momentum_decay",
               "decoupled_weight_decay", "maximize", "foreach", "capturable",
               "differentiable"}),
    "RAdam": ({"step", "exp_avg", "exp_avg_sq"},
              {"lr", "betas", "eps", "weight_decay", "maximize", "foreach", "capturable",
               "decoupled_weight_decay", "differentiable"}),
    "ASGD": ({"step", "eta", "mu", "ax"},
             {"lr", "lambd", "alpha", "t0", "weight_decay", "foreach", "maximize",
              "differentiable", "capturable"}),
    "Rprop": ({"step", "prev", "step_size"},
              {"lr", "etas", "step_sizes", "foreach", "maximize", "differentiable",
               "capturable"}),
}


@pytest.mark.parametrize("cls", KEYS)
def test_state_dict_has_torchs_keys_and_first_step_state(cls):
    p = nn.Parameter(mc.zeros(2))
    opt = getattr(optim, cls)([p])
    p.grad = mc.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert set(sd["state"][0]) == KEYS[cls][0]
    assert set(sd["param_groups"][0]) == KEYS[cls][1] | {"params"}
    assert sd["state"][0]["step"] == 1
    # values of torch's state after that step (its 0-d tensors are float32)
    first = {"Adagrad": ("sum", 1.0), "Adamax": ("exp_inf", 1.0), "Rprop": ("prev", 1.0),
             "Adadelta": ("square_avg", 0.1), "NAdam": ("exp_avg_sq", 1e-3)}
    if cls in first:
        key, value = first[cls]
        np.testing.assert_allclose(sd["state"][0][key].data, [value] * 2, rtol=1e-6)
    if cls == "NAdam":
        assert sd["state"][0]["mu_product"] == 0.4500734806060791
    if cls == "ASGD":
        assert (sd["state"][0]["eta"], sd["state"][0]["mu"]) == (0.009999992325901985, 1.0)


def test_adagrad_creates_its_state_in_the_constructor():
    p = nn.Parameter(mc.zeros(2))
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 0 and sd["state"][0]["sum"].tolist() == [0.5, 0.5]
    # a group added later starts from the constructor's value, as torch (not the group's)
    q = nn.Parameter(mc.zeros(2))
    opt.add_param_group({"params": [q], "initial_accumulator_value": 2.0})
    q.grad = mc.ones(2)
    opt.step()
    assert opt.state[q]["sum"].tolist() == [1.5, 1.5]
    np.testing.assert_allclose(q.data, [-0.00816496554762125] * 2, rtol=1e-6)


@pytest.mark.parametrize("name", ["adagrad_all", "adadelta_all", "adamax_all", "nadam_all",
                                  "radam_all", "asgd_all", "rprop_all"])
def test_state_dict_round_trip_mid_training_continues_identically(name):
    cls, kw = CONFIGS[name]
    a, _ = _run(name, steps=7)

    def resume(params, **kw_):
        opt = getattr(optim, cls)(params, **kw_)
        opt.load_state_dict(state)
        return opt
    b, opt = _run(name, steps=3)
    state = opt.state_dict()
    ps = [nn.Parameter(p.detach().clone()) for p in b]
    opt = resume(ps, **kw)
    for t in range(3, 7):
        for p in ps:
            p.grad = mc.tensor(quad_grad(p.data, t))
        opt.step()
    for x, y in zip(a, ps):
        np.testing.assert_array_equal(x.data, y.data)


@given(g=st.tensors(shape=(3,), requires_grad=False), wd=hs.sampled_from([0.0, 0.1]))
def test_maximize_is_descent_on_the_negated_gradient(g, wd):
    for cls in KEYS:
        kw = {} if cls == "Rprop" else {"weight_decay": wd}
        a, b = nn.Parameter(mc.tensor([0.5, -1.0, 2.0])), nn.Parameter(mc.tensor([0.5, -1., 2.]))
        oa = getattr(optim, cls)([a], maximize=True, **kw)
        ob = getattr(optim, cls)([b], **kw)
        for step in range(3):
            # maximize negates the gradient before adding the L2 term (as torch)
            a.grad, b.grad = mc.tensor(g.data * (step + 1)), mc.tensor(-g.data * (step + 1))
            oa.step()
            ob.step()
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12, err_msg=cls)


def test_non_contiguous_parameter_and_other_dtype_gradient():
    base = np.arange(6.0).reshape(2, 3) / 4
    for cls in KEYS:
        view = nn.Parameter(mc.tensor(base.T.copy()))
        view.data = base.copy().T                      # a transposed (strided) array
        dense = nn.Parameter(mc.tensor(base.T.copy()))
        ov, od = getattr(optim, cls)([view], lr=0.1), getattr(optim, cls)([dense], lr=0.1)
        for t in range(3):
            g = quad_grad(dense.data, t)
            view.grad = mc.tensor(g.astype(np.float32))   # converted to the parameter's dtype
            dense.grad = mc.tensor(g.astype(np.float32).astype(np.float64))
            ov.step()
            od.step()
        assert view.dtype == np.float64 and not view.data.flags.c_contiguous
        np.testing.assert_array_equal(view.data, dense.data, err_msg=cls)


ERRORS = [
    ("Adagrad", dict(lr=-1), "Invalid learning rate: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", dict(eps=math.nan), "Invalid epsilon value: nan"),
    ("Adadelta", dict(rho=1.1), "Invalid rho value: 1.1"),
    ("Adadelta", dict(rho=math.nan), "Invalid rho value: nan"),
    ("Adadelta", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("NAdam", dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
    ("RAdam", dict(eps=-1), "Invalid epsilon value: -1"),
    ("ASGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Rprop", dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
    ("Rprop", dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
    ("LBFGS", dict(lr=-1), "Invalid learning rate: -1"),
]


@pytest.mark.parametrize("cls, kw, message", ERRORS)
def test_invalid_hyper_parameters_raise_torchs_errors(cls, kw, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", r"\(")):
        getattr(optim, cls)([nn.Parameter(mc.zeros(1))], **kw)


# (name, default) of every argument after params, '*' marking the keyword-only ones:
# inspect.signature of torch.optim 2.13
SIGNATURES = {
    "Adagrad": "lr=0.01 lr_decay=0 weight_decay=0 initial_accumulator_value=0 eps=1e-10 "
               "foreach=None * maximize=False differentiable=False fused=None",
    "Adadelta": "lr=1.0 rho=0.9 eps=1e-06 weight_decay=0 foreach=None * capturable=False "
                "maximize=False differentiable=False",
    "Adamax": "lr=0.002 betas=(0.9, 0.999) eps=1e-08 weight_decay=0 foreach=None * "
              "maximize=False differentiable=False capturable=False",
    "NAdam": "lr=0.002 betas=(0.9, 0.999) eps=1e-08 weight_decay=0 momentum_decay=0.004 "
             "decoupled_weight_decay=False * foreach=None maximize=False capturable=False "
             "differentiable=False",
    "RAdam": "lr=0.001 betas=(0.9, 0.999) eps=1e-08 weight_decay=0 "
             "decoupled_weight_decay=False * foreach=None maximize=False capturable=False "
             "differentiable=False",
    "ASGD": "lr=0.01 lambd=0.0001 alpha=0.75 t0=1000000.0 weight_decay=0 foreach=None "
            "maximize=False differentiable=False capturable=False",
    "Rprop": "lr=0.01 etas=(0.5, 1.2) step_sizes=(1e-06, 50) * capturable=False "
             "foreach=None maximize=False differentiable=False",
    "LBFGS": "lr=1 max_iter=20 max_eval=None tolerance_grad=1e-07 tolerance_change=1e-09 "
             "history_size=100 line_search_fn=None",
}


@pytest.mark.parametrize("cls", SIGNATURES)
def test_signatures_are_torchs(cls):
    words, star = [], False
    for name, par in list(inspect.signature(getattr(optim, cls)).parameters.items())[1:]:
        if par.kind is par.KEYWORD_ONLY and not star:
            words.append("*")
            star = True
        words.append(f"{name}={par.default!r}")
    assert " ".join(words) == SIGNATURES[cls]


# ----------------------------------------------------------------------------- hooks

def test_step_hooks_run_around_step_and_are_removable():
    p = nn.Parameter(mc.tensor([1.0]))
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def pre(o, args, kwargs):
        calls.append(("pre", o is opt, len(args), args[0] is opt, dict(kwargs)))

    def post(o, args, kwargs):
        calls.append(("post", float(p.data[0])))
    h_pre, h_post = opt.register_step_pre_hook(pre), opt.register_step_post_hook(post)
    p.grad = mc.tensor([1.0])
    opt.step()
    assert calls == [("pre", True, 1, True, {}), ("post", pytest.approx(0.9))]
    h_pre.remove()
    h_pre.remove()                                        # twice: nothing happens
    opt.step()
    assert calls[2:] == [("post", pytest.approx(0.8))]
    h_post.remove()
    opt.step()
    assert len(calls) == 3


def test_pre_hook_can_replace_the_arguments_and_a_bad_result_raises():
    p = nn.Parameter(mc.tensor([2.0]))
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    handle = opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": closure}))
    assert opt.step().item() == 4.0                      # the hook supplied the closure
    assert p.data.tolist() == [0.0]
    handle.remove()
    opt.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                           r"new_kwargs\), but got 5"):
        opt.step()


def test_hooks_run_once_when_a_subclass_step_calls_super():
    class Clipped(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)
    p = nn.Parameter(mc.tensor([1.0]))
    opt = Clipped([p], lr=0.1)
    seen = []
    opt.register_step_pre_hook(lambda *a: seen.append("pre"))
    opt.register_step_post_hook(lambda *a: seen.append("post"))
    p.grad = mc.tensor([1.0])
    opt.step()
    assert seen == ["pre", "post"]


def test_zero_grad_set_to_none_or_zero_in_place():
    p = nn.Parameter(mc.tensor([1.0, 2.0]))
    opt = optim.Adamax([p])
    p.grad = mc.tensor([3.0, 4.0], requires_grad=True)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and g.tolist() == [0.0, 0.0] and not g.requires_grad   # detach_()
    opt.zero_grad()
    assert p.grad is None
    opt.step()                                            # no gradient: nothing changes
    assert p.tolist() == [1.0, 2.0] and not opt.state[p]


def test_named_parameters_keep_their_names_as_torch():
    model, other = nn.Linear(2, 1), nn.Linear(2, 1)
    opt = optim.NAdam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["params"] == [model.weight, model.bias]
    model(mc.ones(1, 2)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]
    assert sorted(sd["state"]) == [0, 1]
    with pytest.raises(ValueError, match="^all optimizer param groups should be with/without "
                                         "names. cannot add param group without names to the "
                                         "optimizer$"):
        opt.add_param_group({"params": other.parameters()})
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("w", other.weight), other.bias])
    plain = optim.NAdam(model.parameters())
    plain.load_state_dict(sd)                      # the checkpoint's names are taken
    assert plain.param_groups[0]["param_names"] == ["weight", "bias"]
    del sd["param_groups"][0]["param_names"]
    named = optim.NAdam(model.named_parameters())
    named.load_state_dict(sd)                      # names missing there: ours are kept
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]


# ----------------------------------------------------------------------------- LBFGS

def rosen(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


# torch.optim.LBFGS(**kw) from [-1.2, 1.0, 0.5], two steps: parameters, the two losses
# returned, func_evals and n_iter
LBFGS_WANT = [
    ({}, [0.35025038850087925, 0.13231787369266731, 0.0015387409453551278],
     [49.2, 2.691528692403294], 40, 40),
    ({"line_search_fn": "strong_wolfe"},
     [0.9233061159141829, 0.8442158961553952, 0.7056936180073101],
     [49.2, 2.451987529585759], 50, 37),
    ({"lr": 0.5, "history_size": 3, "max_iter": 7},
     [-0.6604434209954058, 0.4508020686235819, 0.14928094463988523],
     [49.2, 3.6366679200329477], 14, 14),
    ({"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 10, "max_eval": 12},
     [-0.4753458007477042, 0.2360982774067919, 0.05443045758348032],
     [49.2, 3.5225870681768443], 24, 18),
    ({"max_iter": 30, "tolerance_change": 1.0},                       # stops on the loss
     [-0.8131479928242764, 0.7569949396404825, 0.6699693255386032],
     [49.2, 12.969624690142997], 4, 2),
    ({"tolerance_grad": 10.0},                                          # on the gradient
     [-0.8772845198432951, 0.7866907088075796, 0.6243305167079569],
     [49.2, 3.60177952372781], 7, 5),
    ({"max_iter": 30, "tolerance_change": 0.05, "line_search_fn": "strong_wolfe"},
     [-0.8772845198432951, 0.7866907088075796, 0.6243305167079569],
     [49.2, 3.69017358526632], 7, 5),
]


def _lbfgs(x, **kw):
    opt = optim.LBFGS([x], **kw)

    def closure():
        opt.zero_grad()
        loss = rosen(x)
        loss.backward()
        return loss
    return opt, closure


@pytest.mark.parametrize("kw, want, losses, evals, iters", LBFGS_WANT)
def test_lbfgs_on_rosenbrock_matches_torch(kw, want, losses, evals, iters):
    x = nn.Parameter(mc.tensor([-1.2, 1.0, 0.5], dtype=mc.float64))
    opt, closure = _lbfgs(x, **kw)
    got = [opt.step(closure).item() for _ in range(2)]
    np.testing.assert_allclose(got, losses, rtol=1e-9)
    # torch's p.add_(d, alpha=t) may round one ulp apart from p + t·d (a fused multiply-add);
    # 40 iterations on Rosenbrock's valley grow that to ~1e-7
    np.testing.assert_allclose(x.data, want, rtol=1e-6, atol=1e-9)
    st_ = opt.state[x]
    assert (st_["func_evals"], st_["n_iter"]) == (evals, iters)


def test_lbfgs_state_dict_round_trip_and_errors():
    x = nn.Parameter(mc.tensor([-1.2, 1.0, 0.5], dtype=mc.float64))
    y = nn.Parameter(mc.tensor([-1.2, 1.0, 0.5], dtype=mc.float64))
    ox, cx = _lbfgs(x, max_iter=4, history_size=3)
    oy, cy = _lbfgs(y, max_iter=4, history_size=3)
    ox.step(cx), oy.step(cy)
    sd = oy.state_dict()
    assert {"d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
            "prev_loss", "func_evals", "n_iter", "al"} == set(sd["state"][0])
    oy, cy = _lbfgs(y, max_iter=4, history_size=3)
    oy.load_state_dict(sd)
    for _ in range(2):
        ox.step(cx), oy.step(cy)
    np.testing.assert_array_equal(x.data, y.data)
    at_min = nn.Parameter(mc.tensor([1.0, 1.0], dtype=mc.float64))
    opt, closure = _lbfgs(at_min)
    assert opt.step(closure).item() == 0.0 and at_min.tolist() == [1.0, 1.0]
    assert dict(opt.state[at_min]) == {"func_evals": 1, "n_iter": 0}
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [y]}])
    opt, closure = _lbfgs(x, line_search_fn="wolfe")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_fits_a_float32_linear_model():
    rng = np.random.default_rng(0)
    xs = mc.tensor(rng.standard_normal((20, 3)).astype(np.float32))
    ys = xs @ mc.tensor([[1.0], [-2.0], [0.5]]) + 0.25
    model = nn.Linear(3, 1)
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((model(xs) - ys) ** 2).mean()
        loss.backward()
        return loss
    for _ in range(3):
        opt.step(closure)
    assert model.weight.dtype == np.float32
    np.testing.assert_allclose(model.weight.data, [[1.0, -2.0, 0.5]], atol=1e-4)
    np.testing.assert_allclose(model.bias.data, [0.25], atol=1e-4)


# ----------------------------------------------------------------------------- swa_utils

def _set(model, value):
    for p in model.parameters():
        p.data[...] = value


def test_averaged_model_swa_mean_and_ema():
    model = nn.Linear(2, 1)
    swa = swa_utils.AveragedModel(model)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
    ema2 = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.9))
    assert swa.module is not model and swa.n_averaged.dtype == np.int64
    for value in (1.0, 2.0, 6.0):
        _set(model, value)
        for m in (swa, ema, ema2):
            m.update_parameters(model)
    assert swa.n_averaged.item() == 3
    np.testing.assert_allclose(swa.module.weight.data, [[3.0, 3.0]], rtol=1e-7)
    want = (1.0 * 0.9 + 2.0 * 0.1) * 0.9 + 6.0 * 0.1                    # first: a copy
    for m in (ema, ema2):
        np.testing.assert_allclose(m.module.bias.data, [want], rtol=1e-6)
    out = swa(mc.tensor([[1.0, 1.0]]))
    np.testing.assert_allclose(out.data, [[9.0]], rtol=1e-6)             # 3 + 3 + 3
    assert [k for k, _ in swa.named_buffers()] == ["n_averaged"]
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(),
                                multi_avg_fn=swa_utils.get_ema_multi_avg_fn())
    for bad in (lambda: swa_utils.get_ema_multi_avg_fn(1.5),
                lambda: swa_utils.get_ema_avg_fn(-0.1)):
        with pytest.raises(ValueError, match=r"Invalid decay value .* in \[0,1\] range"):
            bad()


def test_averaged_model_buffers_copied_or_averaged():
    model = nn.BatchNorm1d(2)
    kept = swa_utils.AveragedModel(model)
    averaged = swa_utils.AveragedModel(model, use_buffers=True)
    for value in (1.0, 3.0):
        model.running_mean.data[...] = value
        model.num_batches_tracked.data[...] = int(value)
        kept.update_parameters(model)
        averaged.update_parameters(model)
    assert kept.module.running_mean.tolist() == [3.0, 3.0]                 # copied
    assert averaged.module.running_mean.tolist() == [2.0, 2.0]            # mean of 1 and 3
    assert averaged.module.num_batches_tracked.item() == 2
    assert averaged.module.num_batches_tracked.dtype == np.int64


def test_update_bn_recomputes_running_statistics():
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 3)) for _ in range(3)]
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3, momentum=0.3))
    model[0].weight.data[...] = np.eye(3)
    model[0].bias.data[...] = 0
    model.eval()
    loader = [(mc.tensor(b.astype(np.float32)), 0) for b in batches]
    swa_utils.update_bn(loader, model)
    bn = model[1]
    # momentum None meanwhile: the plain mean of the batches' statistics
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data,
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)
    assert bn.momentum == 0.3 and not model.training and bn.num_batches_tracked.item() == 3
    swa_utils.update_bn([], nn.Linear(1, 1))                     # no BatchNorm: nothing


def test_swalr_anneals_to_swa_lr_as_torch():
    def schedule(**kw):
        p, q = nn.Parameter(mc.zeros(2)), nn.Parameter(mc.zeros(1))
        opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=1.0)
        sched = swa_utils.SWALR(opt, swa_lr=[0.05, 0.1], **kw)
        lrs = [sched.get_last_lr()]
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs
    # torch.optim.swa_utils.SWALR with the same optimizer
    assert schedule(anneal_epochs=3) == [[1.0, 0.5], [0.7625, 0.4],
                                         [0.2875000000000001, 0.20000000000000007],
                                         [0.05, 0.1], [0.05, 0.1], [0.05, 0.1]]
    assert schedule(anneal_epochs=4, anneal_strategy="linear") == [
        [1.0, 0.5], [0.7625, 0.4], [0.525, 0.3], [0.2875, 0.2], [0.05, 0.1], [0.05, 0.1]]
    assert schedule(anneal_epochs=0) == [[0.05, 0.1]] * 6
    opt = optim.SGD([nn.Parameter(mc.zeros(1))], lr=0.1)
    for kw, message in ((dict(anneal_strategy="exp"), "must be one of 'cos' or 'linear'"),
                        (dict(anneal_epochs=-1), "equal or greater than 0, got -1"),
                        (dict(anneal_epochs=2.0), "equal or greater than 0, got 2.0"),
                        (dict(swa_lr=[0.1, 0.2]), "swa_lr must have the same length")):
        with pytest.raises(ValueError, match=message):
            swa_utils.SWALR(opt, **{"swa_lr": 0.1, **kw})


@pytest.mark.parametrize("name, keys", [("NAdam", ("mu_product",)), ("ASGD", ("eta", "mu"))])
def test_scalar_state_saved_as_0d_tensors_loads(name, keys):
    """PyTorch saves these as 0-d tensors; minicv keeps Python numbers and converts them."""
    p = mc.nn.Parameter(mc.ones(3, dtype=mc.float64))
    opt = getattr(mc.optim, name)([p], lr=0.1)
    p.grad = mc.ones(3, dtype=mc.float64)
    opt.step()
    sd = opt.state_dict()
    for key in keys:
        sd["state"][0][key] = mc.tensor(sd["state"][0][key], dtype=mc.float32)   # 0-d
    twin = getattr(mc.optim, name)([mc.nn.Parameter(mc.ones(3, dtype=mc.float64))], lr=0.1)
    twin.load_state_dict(sd)
    for key in keys:
        assert isinstance(twin.state_dict()["state"][0][key], float)
