"""nn.utils.parametrize (register/remove, chaining, right_inverse, cached, class swap) and
nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal): weights, gradients to
the ``original*`` tensors and state-dict keys against values hard-coded from PyTorch 2.13,
float64 gradchecks, and the errors."""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as hs

import minicv as mc
import minicv.nn as nn
from minicv.nn.utils import parametrize as P
from minicv.nn.utils import parametrizations as PS
from minicv.testing import gradcheck

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])                         # (2, 3)
WSQ = np.array([[0.5, -1.0, 0.3], [1.5, 0.25, -0.75], [0.2, 0.9, 1.1]])     # (3, 3)
C = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]])


def _lin(w):
    lin = nn.Linear(w.shape[1], w.shape[0]).double()
    with mc.no_grad():
        lin.weight.copy_(mc.tensor(w))
    return lin


def _weight_and_grads(lin, c):
    """lin.weight and the gradients of sum(weight * c) to every parameter but the bias."""
    lin.zero_grad()
    w = lin.weight
    (w * mc.tensor(c)).sum().backward()
    return w.detach().numpy(), {k: p.grad.numpy() for k, p in lin.named_parameters()
                                if k != "bias"}


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class Scale(nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, a):
        return a / 2


class Outer(nn.Module):
    """A rank-one matrix from two vectors: right_inverse returns a tuple."""
    def forward(self, x, y):
        return x.unsqueeze(-1) * y.unsqueeze(-2)

    def right_inverse(self, z):
        return z[:, 0].clone(), mc.ones(z.shape[1], dtype=z.dtype)


# ---------------------------------------------------------------------------- parametrize

def test_register_swaps_class_and_keeps_keys_like_pytorch():
    lin = nn.Linear(3, 3)
    weight = lin.weight
    P.register_parametrization(lin, "weight", Symmetric())
    assert type(lin).__name__ == "ParametrizedLinear" and isinstance(lin, nn.Linear)
    assert P.type_before_parametrizations(lin) is nn.Linear
    assert P.is_parametrized(lin) and P.is_parametrized(lin, "weight")
    assert not P.is_parametrized(lin, "bias") and not P.is_parametrized(nn.Linear(2, 2))
    assert [k for k, _ in lin.named_parameters()] == ["bias", "parametrizations.weight.original"]
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert lin.parametrizations.weight.original is weight      # the same Parameter object
    w = lin.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    assert repr(lin) == ("ParametrizedLinear(\n  in_features=3, out_features=3, bias=True\n"
                         "  (parametrizations): ModuleDict(\n    (weight): ParametrizationList("
                         "\n      (0): Symmetric()\n    )\n  )\n)")
    assert type(nn.Linear(3, 3)).__name__ == "Linear"           # other instances untouched


def test_assignment_goes_through_right_inverse_and_chains():
    lin = P.register_parametrization(_lin(WSQ), "weight", Symmetric())
    P.register_parametrization(lin, "weight", Scale())           # weight = 2 * sym(original)
    sym = np.triu(WSQ) + np.triu(WSQ, 1).T
    np.testing.assert_allclose(lin.weight.detach().numpy(), 2 * sym)
    a = WSQ + WSQ.T
    lin.weight = mc.tensor(a)
    np.testing.assert_allclose(lin.weight.detach().numpy(), a)
    original = lin.parametrizations.weight.original
    np.testing.assert_allclose(original.detach().numpy(), np.triu(a) / 2)
    _, grads = _weight_and_grads(lin, np.ones((3, 3)))
    np.testing.assert_allclose(grads["parametrizations.weight.original"],
                               2 * (np.triu(np.ones((3, 3))) + np.triu(np.ones((3, 3)), 1)))


def test_remove_parametrizations_keeps_the_parameter_object():
    lin = P.register_parametrization(_lin(WSQ), "weight", Symmetric())
    original = lin.parametrizations.weight.original
    value = lin.weight.detach().numpy()
    P.remove_parametrizations(lin, "weight")
    assert type(lin) is nn.Linear and "parametrizations" not in dict(lin.named_children())
    assert lin.weight is original and isinstance(lin.weight, nn.Parameter)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), value)
    lin = P.register_parametrization(_lin(WSQ), "weight", Symmetric())
    P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.triu(WSQ))
    assert [k for k, _ in lin.named_parameters()] == ["bias", "weight"]


def test_tuple_right_inverse_registers_original0_original1():
    lin = P.register_parametrization(_lin(WSQ), "weight", Outer())
    assert [k for k, _ in lin.named_parameters()] == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    np.testing.assert_allclose(lin.weight.detach().numpy(), np.outer(WSQ[:, 0], np.ones(3)))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    P.remove_parametrizations(lin, "weight")
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad


def test_buffer_can_be_parametrized():
    bn = nn.BatchNorm1d(3)
    P.register_parametrization(bn, "running_var", Scale())
    assert "parametrizations.running_var.original" in bn.state_dict()
    np.testing.assert_array_equal(bn.running_var.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(bn.parametrizations.running_var.original.numpy(), [0.5] * 3)
    assert not bn.parametrizations.running_var.original.requires_grad


class Counting(nn.Module):
    calls = 0

    def forward(self, x):
        Counting.calls += 1
        return x


def test_cached_computes_once_per_block():
    lin = P.register_parametrization(nn.Linear(2, 2), "weight", Counting())
    Counting.calls = 0
    with P.cached():
        a, b = lin.weight, lin.weight
        with P.cached():
            assert lin.weight is a
    assert a is b and Counting.calls == 1
    lin.weight
    assert Counting.calls == 2


def test_deepcopy_works_and_pickle_refuses():
    lin = PS.weight_norm(_lin(W))
    twin = copy.deepcopy(lin)
    assert type(twin) is type(lin)
    np.testing.assert_allclose(twin.weight.detach().numpy(), W)
    assert twin.parametrizations.weight.original1 is not lin.parametrizations.weight.original1
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(lin)


def test_transfer_parametrizations_and_params_shares_originals():
    src = P.register_parametrization(_lin(WSQ), "weight", Symmetric())
    dst = P.transfer_parametrizations_and_params(src, nn.Linear(3, 3).double())
    assert type(dst).__name__ == "ParametrizedLinear"
    assert dst.parametrizations.weight.original is src.parametrizations.weight.original
    np.testing.assert_array_equal(dst.weight.detach().numpy(), src.weight.detach().numpy())


def test_parametrize_errors():
    lin = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(lin, "nope", Symmetric())
    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(nn.Linear(3, 3), "weight", Outer2())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(lin, "weight")
    lin = P.register_parametrization(nn.Linear(3, 3), "weight", Counting())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        lin.weight = mc.zeros(3, 3)
    with pytest.raises(KeyError, match="already exists"):
        lin.weight = nn.Parameter(mc.zeros(3, 3))
    with pytest.raises(ValueError, match="dtype"):
        P.register_parametrization(lin, "weight", ToDouble())


class Outer2(nn.Module):
    def forward(self, x):
        return x[:2]


class ToDouble(nn.Module):
    def forward(self, x):
        return x.double()


# ----------------------------------------------------------------------------- weight_norm

WN = {   # dim: (original0, grad original0, grad original1), PyTorch 2.13, loss sum(w * C)
    0: ([[2.29128784747792], [1.695582495781317]],
        [[-1.5275252316519468], [-0.9583727150068314]],
        [[1.3333333333333335, 1.3333333333333333, 0.3333333333333335],
         [1.347826086956522, -0.358695652173913, 2.5760869565217392]]),
    1: ([[1.5811388300841898, 1.0307764064044151, 2.1360009363293826]],
        [[0.7905694150420948, -2.0615528128088303, -1.9896995023342199]],
        [[0.75, 0.0, 0.8630136986301373], [-0.24999999999999992, 0.0, 2.3013698630136985]]),
    None: (2.850438562747845, -1.79796893957941,
           [[1.3153846153846154, 1.3692307692307693, 0.2615384615384617],
            [1.4461538461538463, -0.3423076923076923, 2.526923076923077]]),
}


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_pytorch(dim):
    lin = PS.weight_norm(_lin(W), dim=dim)
    g, gg, gv = WN[dim]
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    g0 = lin.parametrizations.weight.original0.detach().numpy()
    np.testing.assert_allclose(g0, g, rtol=1e-14)
    w, grads = _weight_and_grads(lin, C)
    np.testing.assert_allclose(w, W, rtol=1e-14)
    np.testing.assert_allclose(grads["parametrizations.weight.original0"], gg, rtol=1e-12)
    np.testing.assert_allclose(grads["parametrizations.weight.original1"], gv, rtol=1e-12,
                               atol=1e-15)


def test_weight_norm_loads_a_legacy_state_dict():
    legacy = nn.utils.weight_norm(_lin(W))
    with mc.no_grad():
        legacy.weight_g.mul_(3.0)
    lin = PS.weight_norm(nn.Linear(3, 2).double())
    lin.load_state_dict(legacy.state_dict())
    np.testing.assert_allclose(lin.weight.detach().numpy(), 3 * W, rtol=1e-14)


@settings(max_examples=6)
@given(dim=hs.sampled_from([0, 1, -1, None]), seed=hs.integers(0, 50))
def test_weight_norm_gradcheck(dim, seed):
    mc.manual_seed(seed)
    conv = PS.weight_norm(nn.Conv1d(2, 3, 2).double(), dim=dim)
    x = mc.randn(1, 2, 4, dtype=mc.float64)
    pl = conv.parametrizations.weight
    gradcheck(lambda g, v: conv(x), (pl.original0, pl.original1))


# --------------------------------------------------------------------------- spectral_norm

SN_WEIGHT = [[0.3154401489382559, -0.6308802978765118, 1.2617605957530236],
             [0.9463204468147677, 0.15772007446912795, -0.47316022340738384]]
SN_GRAD = [[1.2743154275515611, 1.229588839269271, -0.6630520543602643],
           [2.245745537963404, -0.41195541838951333, 1.796125624178278]]
SN_U = [0.31622776601683794, 0.9486832980505138]
SN_V = [0.9975093361076329, -0.04987546680538166, -0.04987546680538162]


def test_spectral_norm_matches_pytorch_given_its_buffers():
    lin = PS.spectral_norm(_lin(W))
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original",
                                      "parametrizations.weight.0._u",
                                      "parametrizations.weight.0._v"]
    sn = lin.parametrizations.weight[0]
    with mc.no_grad():
        sn._u.copy_(mc.tensor([0.6, 0.8], dtype=mc.float64))
        sn._v.copy_(mc.tensor([1.0, 0.0, 0.0], dtype=mc.float64))
    for mode in ("train", "eval"):            # eval reuses the vectors the step left
        getattr(lin, mode)()
        w, grads = _weight_and_grads(lin, C)
        np.testing.assert_allclose(w, SN_WEIGHT, rtol=1e-13)
        np.testing.assert_allclose(grads["parametrizations.weight.original"], SN_GRAD,
                                   rtol=1e-12)
        np.testing.assert_allclose(sn._u.numpy(), SN_U, rtol=1e-13)
        np.testing.assert_allclose(sn._v.numpy(), SN_V, rtol=1e-13)


def test_spectral_norm_converges_to_the_top_singular_value():
    mc.manual_seed(0)
    conv = PS.spectral_norm(nn.ConvTranspose2d(3, 4, 2).double())    # dim 1 by default
    sn = conv.parametrizations.weight[0]
    assert sn.dim == 1 and sn._u.shape == (4,) and sn._v.shape == (12,)
    conv.eval()
    w = conv.weight.detach().numpy().transpose(1, 0, 2, 3).reshape(4, -1)
    assert abs(np.linalg.norm(w, 2) - 1) < 1e-6
    vec = PS.spectral_norm(_lin(W), name="bias")                      # 1-D: normalised
    np.testing.assert_allclose(np.linalg.norm(vec.bias.detach().numpy()), 1.0)


def test_spectral_norm_gradcheck_and_errors():
    mc.manual_seed(1)
    lin = PS.spectral_norm(nn.Linear(3, 2).double()).eval()
    x = mc.randn(2, 3, dtype=mc.float64)
    gradcheck(lambda w: lin(x), (lin.parametrizations.weight.original,))
    with pytest.raises(ValueError, match="n_power_iterations"):
        PS.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        PS.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer"):
        PS.spectral_norm(nn.Linear(2, 2), name="w")


# ------------------------------------------------------------------------------ orthogonal

ORIG_TRIV = [[-1.0, 0.08414709848078966, 0.09092974268256818],
             [0.014112000805986721, -1.0756802495307929, -0.09589242746631385],
             [-0.027941549819892587, 0.06569865987187891, -0.9010641753376618]]
ORIG_PLAIN = [[0.5, -0.9158529015192103, 0.3909297426825682],
              [1.5141120008059867, 0.17431975046920717, -0.8458924274663139],
              [0.17205845018010743, 0.965698659871879, 1.1989358246623383]]
BASE_SQ = [[0.31372790256907934, -0.7389311521339798, 0.5962847939999439],
           [0.9411837077072379, 0.15901050109212217, -0.2981423969999718],
           [0.12549116102763172, 0.6547491221440326, 0.74535599249993]]
BASE_WIDE = [[0.21821789023599236, 0.9736253707563852, -0.06659271582120245],
             [-0.4364357804719847, 0.03632930487896974, -0.8990016635862362],
             [0.8728715609439694, -0.2252416902496116, -0.4328526528378175]]
ORTH = {   # (map, trivialization): (original, base, weight, grad of original), PyTorch 2.13
    ("matrix_exp", True): (ORIG_TRIV, BASE_SQ,
        [[0.2861076101603486, -0.7021411200170401, 0.6520278237848065],
         [0.9512957098859619, 0.12661586187255847, -0.28107809568664943],
         [0.1147994240442789, 0.7006898537180951, 0.7041695968554851]],
        [[0, 0, 0], [-1.979902876043436, 0, 0], [0.5235679704749698, 2.327791136291536, 0]]),
    ("matrix_exp", False): (ORIG_PLAIN, None,
        [[0.12159336621940504, -0.8793885943803237, 0.460315927777032],
         [0.7536828926722716, -0.2199773001487144, -0.6193319664868251],
         [0.645892522471494, 0.4222388986025313, 0.6360323591786274]],
        [[0, 0, 0], [-2.347262470558291, 0, 0], [-1.950723378535147, 1.3270932052797055, 0]]),
    ("cayley", True): (ORIG_TRIV, BASE_SQ,
        [[0.28612001417347055, -0.7021582303110715, 0.652003954816071],
         [0.9512914583139558, 0.12662992594006986, -0.28108614906344953],
         [0.11480374048035417, 0.7006701659574469, 0.7041884830845241]],
        [[0, 0, 0], [-1.9793179214068635, 0, 0], [0.5238441446866577, 2.3255381444288092, 0]]),
    ("cayley", False): (ORIG_PLAIN, None,
        [[0.359826030579664, -0.8806359520009941, 0.308229699673126],
         [0.7890228938267168, 0.11089274510877359, -0.604272845740692],
         [0.49796395525639847, 0.4606333890693806, 0.7347440235482426]],
        [[0, 0, 0], [-1.510380743537694, 0, 0], [-1.3989084859162264, 1.0949110048765014, 0]]),
    ("householder", True): (np.array(ORIG_TRIV)[:2], BASE_WIDE,
        [[0.3610713896038835, -0.5782395459906745, 0.7316190805754175],
         [0.9306908916782545, 0.27280361771038203, -0.243706073603558]],
        [[0, 4.9953728493827665, -3.541904871531691], [0, 0, -0.14580884058681087]]),
    ("householder", False): ([[-1.0, -0.2741104710147943, 0.8074448816737361],
                              [0.45054778127797146, -1.0756802495307929, -0.7621502531973191]],
                             None,
        [[0.15800799856487324, -0.31742211792551667, 0.935027631378454],
         [0.9857232434313138, -0.005073305413439136, -0.16829720416998195]],
        [[0, 3.074448463231916, -2.586626699873758], [0, 0, 0.8784348510387276]]),
}


@pytest.mark.parametrize("key", list(ORTH))
def test_orthogonal_matches_pytorch(key):
    orthogonal_map, trivial = key
    original, base, weight, grad = ORTH[key]
    w0 = WSQ if orthogonal_map != "householder" else W
    lin = PS.orthogonal(_lin(w0), orthogonal_map=orthogonal_map, use_trivialization=trivial)
    keys = ["bias", "parametrizations.weight.original"]
    assert list(lin.state_dict()) == keys + ["parametrizations.weight.0.base"] * trivial
    if trivial:             # registration starts from QR(w0) (no randomness: w0 is square
        np.testing.assert_allclose(lin.weight.detach().numpy(), BASE_SQ if w0 is WSQ else
                                   np.array(BASE_WIDE)[:, :2].T, rtol=1e-12, atol=1e-14)
    sd = {"bias": np.zeros(len(w0)), "parametrizations.weight.original": np.array(original)}
    if trivial:
        sd["parametrizations.weight.0.base"] = np.array(base)
    lin.load_state_dict(sd)
    c = np.ones_like(w0)
    c[0, 0], c[-1, -1] = 2.0, -1.0
    w, grads = _weight_and_grads(lin, c)
    np.testing.assert_allclose(w, weight, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["parametrizations.weight.original"], grad, rtol=1e-10,
                               atol=1e-13)


def test_orthogonal_defaults_and_errors():
    mc.manual_seed(0)
    assert PS.orthogonal(nn.Linear(3, 3)).parametrizations.weight[0].orthogonal_map == \
        "matrix_exp"
    wide = PS.orthogonal(nn.Linear(5, 3).double())       # completed with random columns
    assert wide.parametrizations.weight[0].orthogonal_map == "householder"
    w = wide.weight.detach().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-14)
    with pytest.raises(ValueError, match="matrix or batch of matrices"):
        PS.orthogonal(nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        PS.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="no parameter or buffer"):
        PS.orthogonal(nn.Linear(3, 3), name="w")


@settings(max_examples=8)
@given(orthogonal_map=hs.sampled_from(["matrix_exp", "cayley", "householder"]),
       shape=hs.sampled_from([(3, 3), (4, 2), (2, 3)]), seed=hs.integers(0, 50))
def test_orthogonal_gradcheck_and_assignment(orthogonal_map, shape, seed):
    mc.manual_seed(seed)
    lin = PS.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((max(shape),) * 2))[0]
    lin.weight = mc.tensor(q[:shape[0], :shape[1]].copy())      # an orthogonal matrix: kept
    np.testing.assert_allclose(lin.weight.detach().numpy(), q[:shape[0], :shape[1]],
                               atol=1e-12)
    original = lin.parametrizations.weight.original
    with mc.no_grad():
        original.add_(0.1 * mc.randn(*shape, dtype=mc.float64))
    gradcheck(lambda o: lin.weight, (original,))


def test_parametrized_model_trains():
    mc.manual_seed(0)
    model = nn.Sequential(PS.weight_norm(nn.Linear(4, 8)), nn.ReLU(),
                          PS.orthogonal(nn.Linear(8, 2)))
    opt = mc.optim.SGD(model.parameters(), lr=0.1)
    x, y = mc.randn(16, 4), mc.randn(16, 2)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    w = model[2].weight.detach().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(2), atol=1e-5)


def test_loads_pytorch_state_dicts_exactly():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TPS
    torch.manual_seed(0)
    makers = [(TPS.weight_norm, PS.weight_norm, {}),
              (TPS.spectral_norm, PS.spectral_norm, {}),
              (TPS.orthogonal, PS.orthogonal, {}),
              (TPS.orthogonal, PS.orthogonal, {"orthogonal_map": "cayley"}),
              (TPS.orthogonal, PS.orthogonal, {"use_trivialization": False})]
    for shape in [(4, 3), (3, 5)]:
        for t_fn, m_fn, kw in makers:
            t = t_fn(torch.nn.Linear(shape[1], shape[0]).double(), **kw)
            m = m_fn(nn.Linear(shape[1], shape[0]).double(), **kw)
            sd = {k: v.numpy() for k, v in t.state_dict().items()}
            assert list(m.state_dict()) == list(sd)
            assert [k for k, _ in m.named_parameters()] == [k for k, _ in t.named_parameters()]
            m.load_state_dict(sd)
            x = np.linspace(-1, 1, 2 * shape[1]).reshape(2, shape[1])
            yt = t(torch.tensor(x))
            ym = m(mc.tensor(x))
            yt.sum().backward()
            ym.sum().backward()
            np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
            for (k, pm), (_, pt) in zip(m.named_parameters(), t.named_parameters()):
                np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-9,
                                           atol=1e-12, err_msg=f"{t_fn.__name__} {k}")
