"""Recurrent layers (``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and the cells): values and gradients
against PyTorch 2.13 (CPU, float64; weights and inputs drawn here from a seeded NumPy
generator, only PyTorch's results written out), the fused kernels of ``ops/rnn.py`` against
a step-by-step composition of minicv ops, float64 gradchecks, dropout, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as hs

import minicv as mc
from minicv import nn
from minicv.nn import functional as F
from minicv.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from minicv.ops import rnn as R
from minicv.testing import gradcheck

# PyTorch 2.13 results of this script's ``_case`` (same seeds, torch.float64 default dtype),
# e.g. gen('lstm', torch.nn.LSTM(2, 2, num_layers=2, bidirectional=True), ...).
EXPECTED = {
    'lstm': {
        'out': [
            -0.1958879958, -0.148674938, -0.107182976, 0.229088868, -0.1470709967, -0.2695173724,
            -0.1304750778, 0.01136074238, -0.1416991226, -0.2957586633, -0.1213342018,
            0.2181039333, -0.13915577, -0.3081762643, -0.2114816445, -0.1323892608, -0.1505713523,
            -0.3735985903, -0.1878215862, 0.2502596395, -0.1410399498, -0.3482896557,
            -0.2744971582, -0.2427680253],
        'final': [
            -0.1280530769, -0.1042479757, -0.2398439122, -0.007829343536, 0.03167459201,
            -0.1873172166, 0.1860517596, -0.1408348613, -0.1505713523, -0.3735985903,
            -0.1410399498, -0.3482896557, -0.107182976, 0.229088868, -0.1304750778, 0.01136074238,
            -0.2538102241, -0.2045682986, -0.5112536353, -0.01804761161, 0.07797166584,
            -0.5382041298, 0.345394875, -0.4151050419, -0.2739571867, -0.6570884255, -0.2475131785,
            -0.644586887, -0.2475021545, 0.4957375835, -0.3205907842, 0.02089643348],
        'x.grad': [
            -0.0952225541, 0.006003870862, 0.07785809329, 0.2979265418, -0.1555667615,
            -0.001000652814, 0.08343502069, 0.3634930246, -0.1902006942, 0.1145940656,
            -0.03194127018, 0.4340165399],
        'h0.grad': [
            0.00677192385, 0.0060900057, -0.06715006697, -0.04358792242, -0.007111150797,
            -0.01740201073, 0.07745568286, -0.001487756249, -0.1047979525, -0.1119519217,
            -0.08015471908, 0.07158931544, -0.07570961858, -0.0201211593, -0.01805334119,
            0.03070821251],
        'param.grad': [
            -0.06560187519, 0.02317848516, 0.04454053722, -0.00203490203, -0.2628453503,
            0.00521731553, 0.2197143072, -0.01860617781, 0.394101433, -0.02190757399,
            -0.2145970492, 0.0843517844, 0.03235175882, -0.08847923172, 0.01712525033,
            0.009132401942],
    },
    'gru': {
        'out': [
            0.1912996745, 0.7856199203, 0.5137747051, -0.8345123368, 0.4416013314, 0.5297971293,
            0.6730027228, -1.307448108, 0.6116091869, 0.4204280161, 0.6972050497, -1.672283332,
            0.3631454974, -0.1437211059, 0.1736408336, -0.1457052094, 0.2514099761, 0.01313616326,
            0.241969722, 0.08444306316, 0.2683030516, 0.2317484515, 0.3280793228, 0.3664978783],
        'final': [
            -0.486972792, -0.5460857584, -0.5235557924, -0.2115675977, -0.2028968232, 0.3889324913,
            -0.6056340602, 0.4080924963, 0.6116091869, 0.4204280161, 0.2683030516, 0.2317484515,
            0.5137747051, -0.8345123368, 0.1736408336, -0.1457052094],
        'x.grad': [
            -0.04336278542, 0.1028012819, 0.07819653893, 0.2023453576, 0.2194420235, 0.1782517037,
            -0.01909959154, -0.1082083247, 0.02026283779, 0.1267897428, 0.1470572937, 0.1534438874],
        'h0.grad': [
            0.02246082084, -0.6282456242, -0.1099761669, 0.139650925, 0.433701859, 0.09466412844,
            -0.222489305, -0.06530978782, 0.4498138403, -0.1680937645, 0.3799140674, 0.4988567367,
            0.8610932933, -2.545060347, -0.03712339849, -0.009566028232],
        'param.grad': [
            -0.01897238469, 0.01737753094, 0.3491486646, 0.06540379883, -0.2800932213,
            0.08450884362],
    },
    'rnn_relu': {
        'out': [
            0.6831110751, 0.4121250233, 1.186250869, 0, 0.4841328309, 0, 1.717345781, 0,
            0.5453639079, 0, 0.8317194506, 0, 0.117637501, 0, 1.142832772, 0, 0.2396675266, 0, 0,
            0, 0.260438328, 0, 1.094424816, 0],
        'final': [
            0.2345200403, 0, 0.3815675014, 0, 0, 0.246984288, 0, 0.0110223771, 0.2396675266, 0,
            0.260438328, 0, 1.186250869, 0, 1.717345781, 0],
        'x.grad': [
            0.06121525871, 0.4850696511, -0.01402436371, 0.146726551, -0.01994374292,
            -0.01266796922, 0, 0, -0.3956489204, -0.2513103164, -0.6534089485, -0.1148722826],
        'h0.grad': [
            -0.5202438469, -0.2877701209, -0.1325405493, -0.02183793437, 0, 0, 0.1929802884,
            -0.2038611037, 0.1235876424, 0.6098302582, -0.2087331866, -0.5611264017, 0, 0,
            0.4161152735, -0.1261934036],
        'param.grad': [
            -0.8165611263, 0.1632322219, 0, 0.3990371692, 0.01961570591, 0.03736454345, 0,
            0.06229051821],
    },
    'lstm_proj_unbatched': {
        'out': [
            0.1829786212, -0.2587335412, 0.04335824258, -0.04242750173, 0.03717387954,
            -0.02520566265],
        'final': [0.03717387954, -0.02520566265, -0.2052685767, -0.44505364, -0.804089123],
        'x.grad': [
            0.003909224049, -0.07709672203, -0.1754527487, -0.2752908004, 0.04316436944,
            -0.2328257709],
        'h0.grad': [-0.03891745289, -0.0379922372],
        'param.grad': [
            0.3992505166, 0.5332803863, 0.3763457756, -0.08892865171, -0.3136624581, 0.500613757],
    },
    'lstm_packed': {
        'out': [
            0.1595404677, -0.08782055211, 0.1620245416, 0.1309153613, 0.08074232499,
            -0.03229601623, 0.1488367189, 0.186309664, 0.08381675586, -0.03639737226, 0.1321815467,
            0.006463110307, 0.1106326763, -0.08808102379, 0.1128711316, 0.05464360996,
            0.4029165152, -0.2198150115, 0.007302187398, 0.2578992243, 0, 0, 0, 0, 0, 0, 0, 0,
            0.3945020694, -0.2505045402, 0.0478756269, 0.09457683923, 0, 0, 0, 0],
        'final': [
            0.1106326763, -0.08808102379, 0.3945020694, -0.2505045402, 0.08381675586,
            -0.03639737226, 0.1620245416, 0.1309153613, 0.1488367189, 0.186309664, 0.1321815467,
            0.006463110307, 0.3060071231, -0.1842974292, 0.7545575177, -0.5255700924, 0.249920323,
            -0.1056275359, 0.2824264843, 0.3200542948, 0.258374559, 0.5501582591, 0.2417555298,
            0.0155398562],
        'x.grad': [
            0.07015848971, 0.2356425278, 0.03012405736, 0.1757263782, -0.1493766243, 0.1405756008,
            -0.1115342905, 0.342448466, 0.05608671637, 0.1220325843, 0, 0, 0, 0, -0.1119842887,
            0.1008736832, 0, 0],
        'param.grad': [
            -0.1696546938, -0.1315715776, -0.03583465331, 0.1842382214, -0.01287478189,
            0.04745377204, -0.0744084398, -0.0116941234, -0.8338473176, 1.837734576, -0.2667366559,
            0.6250448077, -0.0406016107, -0.02017809546, 0.08289414198, 0.2940637769],
    },
    'gru_packed': {
        'out': [
            -1.003955181, 0.5893130528, -0.2647889981, 0.1248693728, -1.166931219, -0.0651338902,
            -0.4619053781, 0.02860708452, 0.0733584233, -0.2965097989, -0.2950964474, 0.3937954987,
            -0.7008829516, 0.400560839, -0.6813807202, 0.05289668265, -0.2939974473, 0.2030197173,
            -0.3239867352, 0.06277709926, 0, 0, 0, 0, 0, 0, 0, 0, -0.1652703679, -0.09508372308,
            -0.2381781489, 0.0636793235, 0, 0, 0, 0],
        'final': [
            -0.7008829516, 0.400560839, -0.1652703679, -0.09508372308, 0.0733584233, -0.2965097989,
            -0.2647889981, 0.1248693728, -0.4619053781, 0.02860708452, -0.2950964474, 0.3937954987],
        'x.grad': [
            -0.09316293117, 0.2698843631, 0.7294896946, 0.7732756903, -0.1576209854, -0.1094248331,
            -0.362607322, 0.7693284356, 0.1092062569, 0.9638391532, 0, 0, 0, 0, 0.3978842378,
            -0.1243723222, 0, 0],
        'h0.grad': [
            -1.991316917, 0.2095415341, -3.414425386, -0.1115544403, -0.6458381709, -0.08700561518,
            -0.05886946788, 0.9485892162, -0.2786801885, -1.315662939, -0.747593519, 1.0790136],
        'param.grad': [
            -0.3717059473, 0.141299028, -0.1215606808, 0.03813393012, -5.299521756, 1.276723029,
            0.05689785104, -0.01976859559, 4.49666243, -1.08895129, -0.4701407516, 0.1574145547],
    },
    'lstm_cell': {
        'out': [
            0.2404602386, -0.2779292298, 0.2460549962, -0.23871135, -0.1688894968, -0.2939664589],
        'final': [
            0.2404602386, -0.2779292298, 0.2460549962, -0.23871135, -0.1688894968, -0.2939664589,
            0.9373586646, -0.5437895208, 0.4638779325, -0.6385230073, -0.3100172092, -0.9497678614],
        'x.grad': [-0.3686522263, -0.01839275046, -0.8417595089, -0.5120225517],
        'h0.grad': [
            -0.2215940454, 0.6259771563, 0.02208049706, -0.4687165199, -0.8143553277, 0.3060865356],
        'param.grad': [
            -0.08335369582, 0.1255603508, 0.180791876, -0.1417044851, 0.3267806077, 0.2370230344,
            -0.02888182753, 0.114818126, 0.01838669364, -0.1982612659, 0.7371913047, 0.1578590966,
            -0.00157284826, 0.02178987929, -0.008641262185, -0.06779009637, 0.7268303919,
            -0.2406724154, -0.328828943, 0.4745227013, 0.7261364383, 0.05672325697, -0.1187024195,
            -0.1023913879, -0.04476687572, -0.5339445639, 0.4703233733, 0.1104417112,
            -0.2642449011, -0.1787989961, -0.04320995914, 0.02828486707, 0.1165627851,
            0.01316002671, 0.1175224875, -0.113782869],
    },
    'gru_cell': {
        'out': [-0.5317629383, -0.4842737316, 0.1452850688],
        'final': [-0.5317629383, -0.4842737316, 0.1452850688],
        'x.grad': [-0.1795214985, 0.2840841522],
        'h0.grad': [0.1406277006, -0.4708190203, 0.5468602796],
        'param.grad': [
            0.01602660538, 0.02314894483, -0.02461596198, -0.03781682037, -0.05235651329,
            -0.3323600117, -0.07578693396, -0.1890053983, 0.2810408605],
    },
    'rnn_cell': {
        'out': [
            0.5173370788, -0.3939542855, -0.6222518515, 0.8228883645, 0.3152355061, 0.4951083397],
        'final': [
            0.5173370788, -0.3939542855, -0.6222518515, 0.8228883645, 0.3152355061, 0.4951083397],
        'x.grad': [-0.1256185373, -0.7676571676, 0.5864361667, 0.2162158554],
        'param.grad': [
            1.914242982, -0.7976175122, -1.137623895, 0.0162858113, 2.472576211, 1.883995512],
    },
}


def _case(name, m, x_shape, states, seed, grad_param, packed=None, cell=False):
    """Output, final states and gradients of a fixed loss, as written out in EXPECTED."""
    rng = np.random.default_rng(seed)
    for p in m.parameters():
        p.data[...] = rng.uniform(-0.6, 0.6, p.shape)
    x = mc.tensor(rng.standard_normal(x_shape), requires_grad=True)
    st = [mc.tensor(rng.standard_normal(s), requires_grad=True) for s in states]
    inp = x if packed is None else pack_padded_sequence(x, packed, enforce_sorted=False)
    hx = None if not st else (tuple(st) if len(st) == 2 else st[0])
    res = m(inp, hx)
    if cell:
        out, fin = (res[0], list(res)) if isinstance(res, tuple) else (res, [res])
    else:
        out, fin = res
        fin = list(fin) if isinstance(fin, tuple) else [fin]
    if packed is not None:
        out = pad_packed_sequence(out)[0]
    C = mc.tensor(rng.standard_normal(out.shape))
    loss = (out * C).sum() + sum((f * f).sum() for f in fin)
    loss.backward()
    vals = {"out": out, "final": mc.cat([f.reshape(-1) for f in fin]), "x.grad": x.grad}
    if st:
        vals["h0.grad"] = st[0].grad
    vals["param.grad"] = dict(m.named_parameters())[grad_param].grad
    return {k: v.detach().numpy().reshape(-1) for k, v in vals.items()}


CASES = {
    "lstm": lambda: (nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=mc.float64),
                     (3, 2, 2), [(4, 2, 2)] * 2, 1, "weight_hh_l1_reverse"),
    "gru": lambda: (nn.GRU(2, 2, num_layers=2, bidirectional=True, batch_first=True,
                           dtype=mc.float64), (2, 3, 2), [(4, 2, 2)], 2, "bias_hh_l0_reverse"),
    "rnn_relu": lambda: (nn.RNN(2, 2, num_layers=2, nonlinearity="relu", bidirectional=True,
                                dtype=mc.float64), (3, 2, 2), [(4, 2, 2)], 3, "weight_ih_l1"),
    "lstm_proj_unbatched": lambda: (nn.LSTM(2, 3, proj_size=2, dtype=mc.float64), (3, 2),
                                    [(1, 2), (1, 3)], 4, "weight_hr_l0"),
    "lstm_packed": lambda: (nn.LSTM(2, 2, bidirectional=True, dtype=mc.float64), (3, 3, 2),
                            [], 5, "weight_ih_l0_reverse", [2, 3, 1]),
    "gru_packed": lambda: (nn.GRU(2, 2, bidirectional=True, bias=False, dtype=mc.float64),
                           (3, 3, 2), [(2, 3, 2)], 6, "weight_hh_l0", [2, 3, 1]),
    "lstm_cell": lambda: (nn.LSTMCell(2, 3, dtype=mc.float64), (2, 2), [(2, 3)] * 2, 7,
                          "weight_hh", None, True),
    "gru_cell": lambda: (nn.GRUCell(2, 3, dtype=mc.float64), (2,), [(3,)], 8, "bias_hh",
                         None, True),
    "rnn_cell": lambda: (nn.RNNCell(2, 3, dtype=mc.float64), (2, 2), [], 9, "weight_ih",
                         None, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    got = _case(name, *CASES[name]())
    assert sorted(got) == sorted(EXPECTED[name])
    for key, want in EXPECTED[name].items():
        np.testing.assert_allclose(got[key], want, rtol=1e-8, atol=1e-10, err_msg=key)


# ----------------------------------------------------------------------------- fused vs reference

def _ref_layer(mode, x, states, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse):
    """One layer, one direction, step by step in minicv ops (the readable reference)."""
    h, c = states[0], states[-1]
    starts = np.cumsum((0,) + batch_sizes[:-1])
    order = range(len(batch_sizes))[::-1] if reverse else range(len(batch_sizes))
    ys = {}
    for t in order:
        b, xt, hb = batch_sizes[t], x[starts[t]:starts[t] + batch_sizes[t]], h[:batch_sizes[t]]
        gi, gh = F.linear(xt, w_ih, b_ih), F.linear(hb, w_hh, b_hh)
        if mode == "LSTM":
            i, f, g, o = (gi + gh).chunk(4, dim=1)
            cb = F.sigmoid(f) * c[:b] + F.sigmoid(i) * F.tanh(g)
            hb = F.sigmoid(o) * F.tanh(cb)
            c = mc.cat([cb, c[b:]])
        elif mode == "GRU":
            (ir, iz, in_), (hr, hz, hn) = gi.chunk(3, dim=1), gh.chunk(3, dim=1)
            r, z = F.sigmoid(ir + hr), F.sigmoid(iz + hz)
            n = F.tanh(in_ + r * hn)
            hb = (1 - z) * n + z * hb
        else:
            hb = F.tanh(gi + gh)
        h = mc.cat([hb, h[b:]])
        ys[t] = hb
    out = [mc.cat([ys[t] for t in range(len(batch_sizes))]), h]
    return out + [c] if mode == "LSTM" else out


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_layer_matches_reference(mode, reverse):
    rng = np.random.default_rng(len(mode) + reverse)
    G, H, I, batch_sizes = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode], 3, 2, (3, 3, 2, 1)
    t = lambda *s: mc.tensor(rng.standard_normal(s), requires_grad=True)
    x, h0, c0 = t(sum(batch_sizes), I), t(3, H), t(3, H)
    w = [t(G * H, I), t(G * H, H), t(G * H), t(G * H)]
    states = [h0, c0] if mode == "LSTM" else [h0]
    fn = {"LSTM": R.LSTMLayer, "GRU": R.GRULayer, "RNN": R.RNNLayer}[mode]
    extra = [None] if mode == "LSTM" else []
    got = fn.apply(x, *states, *w, *extra, batch_sizes=batch_sizes, reverse=reverse)
    want = _ref_layer(mode, x, states, *w, batch_sizes, reverse)
    inputs = [x] + states + w
    grads = []
    for outs in (got, want):
        for a in inputs:
            a.grad = None
        sum(((o * mc.arange(float(o.numel())).reshape(o.shape).double().cos())).sum()
            for o in outs).backward()
        grads.append([a.grad.numpy() for a in inputs])
    for g, r in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
    for g, r in zip(*grads):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)


def test_fused_kernels_run_in_float32():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = mc.randn(5, 2, 3, requires_grad=True)
    out, (h, c) = m(x)
    assert out.dtype == h.dtype == c.dtype == mc.float32 and out.shape == (5, 2, 8)
    out.sum().backward()
    assert x.grad.dtype == mc.float32 and m.weight_hh_l1_reverse.grad.shape == (16, 4)
    m64 = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=mc.float64)
    m64.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
    np.testing.assert_allclose(m64(x.detach().double())[0].detach().numpy(), out.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- gradchecks

def _double(m):
    return m.to(mc.float64)


@settings(max_examples=3, deadline=None)
@given(seed=hs.integers(0, 2 ** 16), batched=hs.booleans())
def test_cells_gradcheck(seed, batched):
    rng = np.random.default_rng(seed)
    t = lambda *s: mc.tensor(rng.standard_normal(s if batched else s[1:]), requires_grad=True)
    for cell in (nn.RNNCell(2, 2, nonlinearity="tanh"), nn.GRUCell(2, 2), nn.LSTMCell(2, 2)):
        cell = _double(cell)
        x, h, c = t(2, 2), t(2, 2), t(2, 2)
        if isinstance(cell, nn.LSTMCell):
            gradcheck(lambda x, h, c, *p: cell(x, (h, c)), (x, h, c, *cell.parameters()))
        else:
            gradcheck(lambda x, h, *p: cell(x, h), (x, h, *cell.parameters()))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
@settings(max_examples=2, deadline=None)
@given(seed=hs.integers(0, 2 ** 16), batch_first=hs.booleans())
def test_two_layer_bidirectional_gradcheck(cls, seed, batch_first):
    mc.manual_seed(seed)
    m = _double(cls(2, 2, num_layers=2, bidirectional=True, batch_first=batch_first))
    rng = np.random.default_rng(seed)
    x = mc.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h = mc.tensor(rng.standard_normal((4, 2 if batch_first else 3, 2)), requires_grad=True)
    if cls is nn.LSTM:
        gradcheck(lambda x, h, *p: m(x, (h, h * 0.5)), (x, h, *m.parameters()))
    else:
        gradcheck(lambda x, h, *p: m(x, h), (x, h, *m.parameters()))


@settings(max_examples=2, deadline=None)
@given(seed=hs.integers(0, 2 ** 16))
def test_packed_projected_lstm_gradcheck(seed):
    mc.manual_seed(seed)
    m = _double(nn.LSTM(2, 3, bidirectional=True, proj_size=1))
    x = mc.tensor(np.random.default_rng(seed).standard_normal((3, 3, 2)), requires_grad=True)

    def fn(x, *p):
        out, (h, c) = m(pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False))
        return pad_packed_sequence(out)[0], h, c
    gradcheck(fn, (x, *m.parameters()))


# ----------------------------------------------------------------------------- modules

def test_parameter_names_shapes_and_init():
    m = nn.LSTM(5, 4, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l1_reverse"] == (16, 4) and shapes["weight_hh_l1"] == (16, 2)
    assert shapes["weight_hr_l1_reverse"] == (2, 4) and len(shapes) == 20
    assert [len(w) for w in m.all_weights] == [5] * 4
    assert m.all_weights[1][0] is m.weight_ih_l0_reverse and m.flatten_parameters() is None
    assert all(float(p.abs().max()) <= 0.5 for p in m.parameters())       # U(-1/√4, 1/√4)
    g = nn.GRU(3, 4, bias=False)
    assert list(g.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert g.weight_ih_l0.shape == (12, 3) and g.weight_ih_l0.dtype == mc.float32
    c = nn.LSTMCell(3, 2, bias=False)
    assert list(c.state_dict()) == ["weight_ih", "weight_hh"] and c.bias_ih is None
    assert repr(m) == "LSTM(5, 4, proj_size=2, num_layers=2, bidirectional=True)"
    assert repr(nn.RNN(2, 3, 2, "relu", batch_first=True, dropout=0.1)) == \
        "RNN(2, 3, num_layers=2, batch_first=True, dropout=0.1)"
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == "RNNCell(2, 3, nonlinearity=relu)"
    assert repr(nn.GRUCell(2, 3, bias=False)) == "GRUCell(2, 3, bias=False)"


def test_batch_first_and_unbatched_agree_with_the_default_layout():
    m = nn.GRU(3, 2, num_layers=2, dtype=mc.float64)
    x = mc.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)))
    out, h = m(x)
    m.batch_first = True
    out_bf, h_bf = m(x.transpose(0, 1))
    np.testing.assert_allclose(out_bf.transpose(0, 1).detach().numpy(), out.detach().numpy(),
                               atol=1e-15)
    np.testing.assert_allclose(h_bf.detach().numpy(), h.detach().numpy(), atol=1e-15)
    out1, h1 = m(x[:, 1])                                # unbatched: batch_first is ignored
    assert out1.shape == (4, 2) and h1.shape == (2, 2)
    np.testing.assert_allclose(out1.detach().numpy(), out[:, 1].detach().numpy(), atol=1e-15)


def test_dropout_between_layers_only_in_training():
    mc.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = nn.RNN(2, 3, num_layers=2, dropout=1.0, dtype=mc.float64)
    x = mc.tensor(np.random.default_rng(1).standard_normal((4, 2, 2)))
    out, h = m(x)                                        # layer 2 sees only zeros
    top = nn.RNN(3, 3, dtype=mc.float64)
    top.load_state_dict({k[:-1] + "0": v for k, v in m.state_dict().items() if "l1" in k})
    want, h_top = top(mc.zeros(4, 2, 3, dtype=mc.float64))
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), atol=1e-15)
    np.testing.assert_allclose(h[1].detach().numpy(), h_top[0].detach().numpy(), atol=1e-15)
    m.eval()
    assert not np.allclose(m(x)[0].detach().numpy(), out.detach().numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(2, 3, dropout=0.5)


def test_empty_batch():
    out, (h, c) = nn.LSTM(2, 3, bidirectional=True)(mc.zeros(4, 0, 2))
    assert out.shape == (4, 0, 6) and h.shape == c.shape == (2, 0, 3)


# ----------------------------------------------------------------------------- errors

def test_constructor_errors():
    for bad in (1.5, -0.1, True, "a"):
        with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
            nn.RNN(4, 3, dropout=bad)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'. Select from"):
        nn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'x'"):
        nn.RNNCell(4, 3, nonlinearity="x")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(4, 3, proj_size=3)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(4, 3, proj_size=-1)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(4, 0)
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        nn.GRU(4, 3.0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.LSTM(4, 3, num_layers=0)


def test_forward_errors():
    m, g = nn.LSTM(4, 3), nn.GRU(4, 3)
    with pytest.raises(ValueError, match="must be equal to input_size. Expected 4, got 5"):
        m(mc.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        m(mc.zeros(2, 3, 4, 1))
    with pytest.raises(ValueError, match=r"Expected hidden\[0\] size \(1, 3, 3\), got \[1, 2"):
        m(mc.zeros(2, 3, 4), (mc.zeros(1, 2, 3), mc.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match=r"Expected hidden\[1\] size \(1, 3, 3\), got \[2, 3"):
        m(mc.zeros(2, 3, 4), (mc.zeros(1, 3, 3), mc.zeros(2, 3, 3)))
    with pytest.raises(ValueError, match=r"hx and cx should also be 3-D but got \(2-D, 3-D\)"):
        m(mc.zeros(2, 3, 4), (mc.zeros(3, 3), mc.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match=r"Expected hidden size \(1, 3, 3\), got \[2, 3, 3\]"):
        g(mc.zeros(2, 3, 4), mc.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="For unbatched 2-D input, hx should also be 2-D"):
        g(mc.zeros(2, 4), mc.zeros(1, 1, 3))
    with pytest.raises(TypeError, match=r"input dtype \(float64\) does not match weight"):
        g(mc.zeros(2, 3, 4, dtype=mc.float64))
    with pytest.raises(ValueError, match="sequence length to be larger than 0"):
        g(mc.zeros(0, 3, 4))
    cell = nn.LSTMCell(4, 3)
    with pytest.raises(ValueError, match="inconsistent input_size: got 5 expected 4"):
        cell(mc.zeros(2, 5))
    with pytest.raises(ValueError, match="Input batch size 2 doesn't match hidden0 batch"):
        cell(mc.zeros(2, 4), (mc.zeros(3, 3), mc.zeros(3, 3)))
    with pytest.raises(ValueError, match="hidden0 has inconsistent hidden_size: got 2"):
        cell(mc.zeros(2, 4), (mc.zeros(2, 2), mc.zeros(2, 3)))
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        cell(mc.zeros(2, 4, 1))
