"""soft/multi-label/multi-class margin losses, hinge embedding, Poisson and Gaussian NLL,
triplet loss with any distance, CTC, and the PairwiseDistance/CosineSimilarity modules.

Expected values were computed with PyTorch 2.13 (CPU, float64) and are written out, so the
tests need no torch; gradients are also checked by float64 gradcheck driven by hypothesis.
CTC is checked against a brute-force sum over every alignment as well.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st

X = np.array([[0.3, -1.2, 0.8, 2.0], [-0.5, 0.1, -2.2, 0.7], [1.5, -0.3, 0.4, -1.1]])
Y = np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]])
T01 = (Y > 0).astype(float)
W = np.array([0.5, 1.0, 2.0, 1.5])
V = np.array([[0.4, 1.3, 0.2, 0.9], [1.1, 0.05, 0.7, 2.0], [0.6, 0.8, 1.7, 0.3]])
LAB = np.array([0, 3, 1])
MLT = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [2, 2, -1, 0]])    # padded with -1; a repeat
HT = np.array([1.0, -1.0, 0.0, 2.0])                           # ±1, and two other values
# CTC: log-probabilities (T=5, N=2, C=3) = log_softmax of Z
Z = np.array([[[0.2, -0.4, 1.1], [0.5, 0.3, -0.8]], [[-1.0, 0.6, 0.1], [0.0, 1.2, -0.3]],
              [[0.7, 0.7, -0.5], [-0.6, 0.4, 0.9]], [[0.3, -1.3, 0.8], [1.0, -0.2, 0.2]],
              [[-0.1, 0.5, 0.4], [0.3, 0.9, -1.4]]])
LP = Z - np.log(np.exp(Z).sum(2, keepdims=True))


def cos_dist(a, b):
    return 1 - F.cosine_similarity(a, b)


CASES = {   # name -> (F function, float inputs (get gradients), constant args, kwargs)
    "soft_margin_mean": ("soft_margin_loss", [X], [Y], {}),
    "soft_margin_broadcast_none": ("soft_margin_loss", [X], [Y[1]], {"reduction": "none"}),
    "multilabel_soft_margin_weight_none": ("multilabel_soft_margin_loss", [X], [T01],
                                           {"weight": W, "reduction": "none"}),
    "multilabel_soft_margin_1d_sum": ("multilabel_soft_margin_loss", [X[0]], [T01[0]],
                                      {"reduction": "sum"}),
    "multi_margin_mean": ("multi_margin_loss", [X], [LAB], {}),
    "multi_margin_p2_weight_none": ("multi_margin_loss", [X], [LAB],
                                    {"p": 2, "margin": 0.7, "weight": W, "reduction": "none"}),
    "multilabel_margin_none": ("multilabel_margin_loss", [X], [MLT], {"reduction": "none"}),
    "hinge_embedding_none": ("hinge_embedding_loss", [X], [HT],
                             {"margin": 0.5, "reduction": "none"}),
    "poisson_log_input_mean": ("poisson_nll_loss", [X, 3 * V], [], {}),
    "poisson_full_none": ("poisson_nll_loss", [V, 3 * V[::-1]], [],
                          {"log_input": False, "full": True, "reduction": "none"}),
    "gaussian_var_column_full_none": ("gaussian_nll_loss", [X, X[::-1], V[:, :1]], [],
                                      {"full": True, "reduction": "none"}),
    "gaussian_var_row_sum": ("gaussian_nll_loss", [X, X[::-1], V[:1]], [],
                             {"reduction": "sum"}),
    "gaussian_eps_mean": ("gaussian_nll_loss", [X, X[::-1], V], [], {"eps": 0.3}),
    "triplet_distance_default": ("triplet_margin_with_distance_loss", [X, X[::-1], V], [], {}),
    "triplet_distance_cosine_swap_none": ("triplet_margin_with_distance_loss",
                                          [X, X[::-1], V], [],
                                          {"distance_function": cos_dist, "swap": True,
                                           "margin": 0.4, "reduction": "none"}),
}
EXPECTED = {   # name -> (loss, gradient of loss.sum() for each float input)
    "soft_margin_mean": (
        0.683210708473,
        [[-0.035463123599,  0.019289601375,  0.057497873427, -0.009933576835],
         [ 0.0314617224  , -0.03958506771 , -0.075020792573, -0.027651018986],
         [-0.015202126984, -0.047870209734,  0.049890638343,  0.020811657867]],
    ),
    "soft_margin_broadcast_none": (
        [[0.854355244469, 1.463282467338, 0.371100665948, 0.126928011043],
         [0.47407698418 , 0.644396660074, 2.305083319769, 0.403186048885],
         [1.701413277983, 0.854355244469, 0.5130152524  , 1.387335325115]],
        [[ 0.574442516812, -0.768524783499, -0.310025518872, -0.119202922022],
         [ 0.377540668798, -0.475020812521, -0.90024951088 , -0.331812227832],
         [ 0.817574476194, -0.574442516812, -0.401312339888, -0.750260105595]],
    ),
    "multilabel_soft_margin_weight_none": (
        [0.768263359508, 1.524095216257, 0.803023843983],
        [[-0.053194685399,  0.057868804125,  0.344987240564, -0.044701095758],
         [ 0.0471925836  , -0.11875520313 , -0.45012475544 , -0.124429585437],
         [-0.022803190476, -0.143610629203,  0.299343830056,  0.093652460402]],
    ),
    "multilabel_soft_margin_1d_sum": (
        0.528916597199,
        [-0.106389370797,  0.057868804125,  0.172493620282, -0.029800730506],
    ),
    "multi_margin_mean": (
        0.775,
        [[-0.166666666667,  0.            ,  0.083333333333,  0.083333333333],
         [ 0.            ,  0.083333333333,  0.            , -0.083333333333],
         [ 0.083333333333, -0.25          ,  0.083333333333,  0.083333333333]],
    ),
    "multi_margin_p2_weight_none": (
        [0.9    , 0.00375, 2.0525 ],
        [[-0.9  ,  0.   ,  0.3  ,  0.6  ],
         [ 0.   ,  0.075,  0.   , -0.075],
         [ 1.25 , -1.95 ,  0.7  ,  0.   ]],
    ),
    "multilabel_margin_none": (
        [0.375, 0.   , 1.2  ],
        [[-0.25,  0.  ,  0.25,  0.  ],
         [ 0.  ,  0.  ,  0.  ,  0.  ],
         [ 0.5 ,  0.5 , -1.  ,  0.  ]],
    ),
    "hinge_embedding_none": (
        [[ 0.3,  1.7,  0.8,  2. ],
         [-0.5,  0.4,  0.5,  0.7],
         [ 1.5,  0.8,  0.5,  0.5]],
        [[ 1., -1.,  1.,  1.],
         [ 1., -1.,  0.,  1.],
         [ 1., -1.,  0.,  0.]],
    ),
    "poisson_log_input_mean": (
        1.634509213574,
        [[ 0.012488233965, -0.299900482341,  0.135461744041,  0.390754674911],
         [-0.224455778357,  0.079597576506, -0.16576640347 , -0.332187274377],
         [ 0.223474089195, -0.138265148277, -0.300681275197, -0.047260743025]],
        [[-0.025         ,  0.1           , -0.066666666667, -0.166666666667],
         [ 0.041666666667, -0.008333333333,  0.183333333333, -0.058333333333],
         [-0.125         ,  0.025         , -0.033333333333,  0.091666666667]],
    ),
    "poisson_full_none": (
        [[ 2.520171134853,  1.728123618347, 13.350818654108,  0.994824454092],
         [ 2.941320290046,  0.499359811033,  2.196992981772,  4.406491969827],
         [ 1.241875908274,  4.677495168377,  1.381623045833,  4.948070688518]],
        [[-3.499999887500e+00, -8.461538319530e-01, -2.449999872500e+01,  1.111100000000e-08],
         [-1.999999972727e+00, -1.999999400000e+00, -1.999999957143e+00, -1.999999985000e+00],
         [-9.999999666670e-01, -3.874999939063e+00,  6.470588256060e-01, -7.999999700000e+00]],
        [[ 1.781855149554,  0.821437798527,  3.336717617851,  0.105360504547],
         [ 1.250127431092,  2.995732073554,  1.336707512478,  1.181945617001],
         [ 1.10981383056 ,  1.712325220155, -0.530628256945,  2.382409729188]],
    ),
    "gaussian_var_column_full_none": (
        [[ 2.260793167268,  1.473293167268,  0.660793167268, 12.473293167268],
         [ 0.966593623107,  0.966593623107,  0.966593623107,  0.966593623107],
         [ 1.863525721322,  1.338525721322,  0.796859054655,  8.671859054655]],
        [[-3.            , -2.25          ,  1.            ,  7.75          ],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [ 2.            ,  1.5           , -0.666666666667, -5.166666666667]],
        [[ 3.            ,  2.25          , -1.            , -7.75          ],
         [-0.            , -0.            , -0.            , -0.            ],
         [-2.            , -1.5           ,  0.666666666667,  5.166666666667]],
        [[-32.5625        ],
         [  1.818181818182],
         [-13.361111111111]],
    ),
    "gaussian_var_row_sum": (
        12.147767357607,
        [[-3.            , -0.692307692308,  2.            ,  3.444444444444],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [ 3.            ,  0.692307692308, -2.            , -3.444444444444]],
        [[ 3.            ,  0.692307692308, -2.            , -3.444444444444],
         [-0.            , -0.            , -0.            , -0.            ],
         [-3.            , -0.692307692308,  2.            ,  3.444444444444]],
        [[ -5.25          ,   0.674556213018,   3.5           , -10.197530864198]],
    ),
    "gaussian_eps_mean": (
        1.951307296289,
        [[-0.25          , -0.057692307692,  0.111111111111,  0.287037037037],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [ 0.166666666667,  0.09375       , -0.019607843137, -0.861111111111]],
        [[ 0.25          ,  0.057692307692, -0.111111111111, -0.287037037037],
         [-0.            , -0.            , -0.            , -0.            ],
         [-0.166666666667, -0.09375       ,  0.019607843137,  0.861111111111]],
        [[-2.708333333330e-01,  1.208086785000e-02,  6.481481481500e-02, -4.480452674900e-01],
         [ 3.787878787900e-02,  1.388888888890e-01,  5.952380952400e-02,  2.083333333300e-02],
         [-9.722222222200e-02, -6.510416670000e-04,  2.220299884700e-02, -4.310185185185e+00]],
    ),
    "triplet_distance_default": (
        1.251528657659,
        [[-0.103461595581,  0.211278597105, -0.033016221693,  0.167013318776],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [-0.010614303605,  0.240516032716,  0.143524956199, -0.102067767733]],
        [[ 0.115373839325,  0.086530355457, -0.038458074635, -0.298049429442],
         [-0.            , -0.            , -0.            , -0.            ],
         [-0.11537405849 , -0.086530567904,  0.038457891304,  0.298049306581]],
        [[-0.011912243744, -0.297808952562,  0.071474296328,  0.131036110665],
         [-0.            ,  0.            , -0.            , -0.            ],
         [ 0.125988362095, -0.153985464812, -0.181982847503, -0.195981538848]],
    ),
    "triplet_distance_cosine_swap_none": (
        [0.751045222406, 0.            , 0.886483311849],
        [[-0.232583969545,  0.449485019723, -0.08011998609 ,  0.336626601702],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [-0.103251770185,  0.4983430174  ,  0.222745072248, -0.195711392362]],
        [[-0.15312496624 ,  0.268898257492, -0.191321701748, -0.35171418846 ],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [-0.324391478063,  0.106199591032, -0.112602054415,  0.157419298095]],
        [[ 0.054627114761, -0.355348474096,  0.186567023172,  0.447543073095],
         [ 0.            ,  0.            ,  0.            ,  0.            ],
         [ 0.350733465391, -0.130903877277, -0.008173319011, -0.306074450316]],
    ),
}
# torch.nn.functional.ctc_loss(lp, [[1, 1, 2], [2, 0, 0]], [5, 4], [3, 1], 'none'),
# and the gradient of its sum with respect to lp = LP
CTC_NONE = [5.131555343158, 2.364268914692]
CTC_GRAD = [[[-0.015574424228, -0.598035510434,  0.613609934662],
          [-0.396790934067,  0.391500701143,  0.005290232923]],
         [[-0.47784603486 ,  0.14245478041 ,  0.33539125445 ],
          [-0.307702297369,  0.65602834825 , -0.348326050881]],
         [[-0.005323271434, -0.125562774755,  0.13088604619 ],
          [ 0.005412210618,  0.331498960424, -0.336911171042]],
         [[ 0.2053388423  , -0.39842305107 ,  0.19308420877 ],
          [-0.123388693862,  0.172059539706, -0.048670845844]],
         [[ 0.078209302495,  0.407556247018, -0.485765549513],
          [ 0.            ,  0.            ,  0.            ]]]
# ctc_loss(lp, [[1, 1, 2], [2, 1, 0]], [3, 5], [3, 2], 'mean', zero_infinity=True): sample 0
# needs 4 frames (a repeat) and has 3
CTC_MEAN_ZI = 0.573592206512
CTC_GRAD_ZI = [[[ 0.            ,  0.            ,  0.            ],
          [-0.063822459832,  0.097875175286, -0.034052715454]],
         [[ 0.            ,  0.            ,  0.            ],
          [-0.051427616213,  0.134376488174, -0.082948871961]],
         [[ 0.            ,  0.            ,  0.            ],
          [ 0.003487668021,  0.024964287831, -0.028451955852]],
         [[ 0.            ,  0.            ,  0.            ],
          [ 0.008397709689, -0.029401911424,  0.021004201735]],
         [[ 0.            ,  0.            ,  0.            ],
          [ 0.02132205378 , -0.036521350133,  0.015199296354]]]


def _x64(a):
    return mc.tensor(np.array(a), dtype=mc.float64, requires_grad=True)


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_torch(name):
    fn, floats, consts, kw = CASES[name]
    kw = {k: mc.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    xs = [_x64(a) for a in floats]
    loss = getattr(F, fn)(*xs, *[mc.tensor(c) for c in consts], **kw)
    want = EXPECTED[name]
    assert loss.dtype == np.float64 and loss.shape == np.shape(want[0])
    np.testing.assert_allclose(loss.data, want[0], rtol=0, atol=2e-12)
    loss.sum().backward()
    for x, g in zip(xs, want[1:]):
        np.testing.assert_allclose(x.grad.data, g, rtol=0, atol=2e-12)


MODULES = [   # (module, functional form with the same options, inputs)
    (nn.SoftMarginLoss(reduction="sum"), lambda x, y: F.soft_margin_loss(x, y, reduction="sum"),
     [X, Y]),
    (nn.MultiLabelSoftMarginLoss(weight=mc.tensor(W)),
     lambda x, y: F.multilabel_soft_margin_loss(x, y, weight=mc.tensor(W)), [X, T01]),
    (nn.MultiMarginLoss(p=2, margin=0.5), lambda x, y: F.multi_margin_loss(x, y, 2, 0.5),
     [X, LAB]),
    (nn.MultiLabelMarginLoss(), F.multilabel_margin_loss, [X, MLT]),
    (nn.HingeEmbeddingLoss(margin=2.0), lambda x, y: F.hinge_embedding_loss(x, y, 2.0),
     [X, Y]),
    (nn.PoissonNLLLoss(log_input=False, full=True),
     lambda x, y: F.poisson_nll_loss(x, y, False, True), [V, 3 * V]),
    (nn.GaussianNLLLoss(full=True, eps=0.1),
     lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True, eps=0.1), [X, Y, V]),
    (nn.TripletMarginWithDistanceLoss(distance_function=cos_dist, swap=True),
     lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=cos_dist,
                                                         swap=True), [X, Y, V]),
    (nn.CTCLoss(blank=2, reduction="sum"),
     lambda lp, t: F.ctc_loss(lp, t, [5, 5], [2, 1], blank=2, reduction="sum"),
     [LP, np.array([[1, 0], [1, 1]])]),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_modules_call_the_functional_forms(i):
    module, fn, arrays = MODULES[i]
    ts = [mc.tensor(a) for a in arrays]
    extra = [[5, 5], [2, 1]] if isinstance(module, nn.CTCLoss) else []
    assert module(*ts, *extra).item() == fn(*ts).item()


def test_distance_modules():
    x = mc.tensor(X)
    # torch.nn.PairwiseDistance()(X[:2], X[1:]), (p=1, eps=0.1, keepdim=True)
    np.testing.assert_allclose(nn.PairwiseDistance()(x[:2], x[1:]).data,
                               [3.608324763655, 3.762976906653], atol=1e-11)
    d = nn.PairwiseDistance(p=1.0, eps=0.1, keepdim=True)(x[:2], x[1:])
    np.testing.assert_allclose(d.data, [[6.6], [6.8]], atol=1e-12)
    # torch.nn.CosineSimilarity()(X[:2], X[1:]), (dim=0, eps=0.5)
    np.testing.assert_allclose(nn.CosineSimilarity()(x[:2], x[1:]).data,
                               [-0.1072734044, -0.533597043779], atol=1e-11)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0, eps=0.5)(x[:2], x[1:]).data,
                               [-0.976187060184, -0.249136439561, -0.504346075135,
                                0.228030488836], atol=1e-11)
    assert nn.PairwiseDistance().norm == 2.0 and nn.CosineSimilarity().dim == 1


# ----------------------------------------------------------------------------- gradchecks

def _margins_clear(z, gap=1e-3):
    """Keep hypothesis away from the hinge kinks, where finite differences mean nothing."""
    assume(np.all(np.abs(np.asarray(z)) > gap))


@given(x=st.tensors(shape=(3, 4)), y=st.tensors(shape=(4,)), w=st.tensors(shape=(4,)))
def test_soft_margin_losses_gradcheck(x, y, w):
    assert gradcheck(lambda a, b: F.soft_margin_loss(a, b), (x, y))
    t = (y.data > 0).astype(np.float64)
    assert gradcheck(lambda a, v: F.multilabel_soft_margin_loss(a, mc.tensor(t), weight=v,
                                                                reduction="sum"), (x, w))


@given(x=st.tensors(shape=(3, 4)), y=hs.lists(hs.integers(0, 3), min_size=3, max_size=3),
       p=hs.sampled_from([1, 2]), margin=hs.floats(0.1, 2.0))
def test_multi_margin_gradcheck(x, y, p, margin):
    xy = x.data[np.arange(3), y][:, None]
    _margins_clear((margin - xy + x.data)[np.arange(4)[None] != np.array(y)[:, None]])
    w = mc.tensor([0.5, 1.0, 2.0, 1.5], dtype=mc.float64)
    assert gradcheck(lambda a: F.multi_margin_loss(a, mc.tensor(y), p, margin, w), (x,))


@given(x=st.tensors(shape=(2, 4)), perm=hs.permutations(range(4)), k=hs.integers(0, 4))
def test_multilabel_margin_gradcheck(x, perm, k):
    target = np.full((2, 4), -1)
    target[0, :k] = perm[:k]
    target[1, :2] = perm[-2:]
    _margins_clear(1 - x.data[:, :, None] + x.data[:, None, :])
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, mc.tensor(target)), (x,))


@given(x=st.tensors(shape=(2, 3)), margin=hs.floats(-1.0, 2.0))
def test_hinge_embedding_gradcheck(x, margin):
    _margins_clear(margin - x.data)
    y = mc.tensor([[1.0, -1.0, 0.0], [-1.0, -1.0, 1.0]])
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, y, margin), (x,))


@given(x=st.tensors(shape=(2, 3)), t=st.tensors(shape=(3,), min_value=0.0),
       full=hs.booleans())
def test_poisson_nll_gradcheck(x, t, full):
    _margins_clear(t.data - 1, 1e-2)                     # full: Stirling's term from y > 1
    assert gradcheck(lambda a, b: F.poisson_nll_loss(a, b, full=full), (x, t))
    rate = mc.tensor(np.abs(x.data) + 0.1, requires_grad=True)
    assert gradcheck(lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=full,
                                                     reduction="sum"), (rate, t))


@given(x=st.tensors(shape=(2, 3)), t=st.tensors(shape=(2, 3)),
       v=st.tensors(shape=hs.sampled_from([(2, 3), (2,), (2, 1), (1, 3)]), min_value=0.05),
       full=hs.booleans())
def test_gaussian_nll_gradcheck(x, t, v, full):
    assert gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=full), (x, t, v))


@given(a=st.tensors(shape=(3, 4)), p=st.tensors(shape=(3, 4)), n=st.tensors(shape=(3, 4)),
       swap=hs.booleans())
def test_triplet_with_distance_gradcheck(a, p, n, swap):
    d = F.pairwise_distance
    dn = d(a, n).data if not swap else np.minimum(d(a, n).data, d(p, n).data)
    _margins_clear(1.0 + d(a, p).data - dn)
    _margins_clear([d(a, p).data, d(a, n).data, d(p, n).data], 0.1)   # norms' kink at 0
    assert gradcheck(lambda *xs: F.triplet_margin_with_distance_loss(*xs, swap=swap), (a, p, n))


# ----------------------------------------------------------------------------- awkward inputs

def test_zero_d_empty_and_integer_inputs():
    # 0-d inputs (values from torch)
    assert F.soft_margin_loss(mc.tensor(0.7), mc.tensor(-1.)).item() == pytest.approx(
        1.103186011314)
    assert F.hinge_embedding_loss(mc.tensor(0.7), mc.tensor(-1.)).item() == pytest.approx(0.3)
    assert F.poisson_nll_loss(mc.tensor(0.7), mc.tensor(2.)).item() == pytest.approx(
        0.61375272274)
    assert F.gaussian_nll_loss(mc.tensor(0.7), mc.tensor(2.), 0.5).item() == pytest.approx(
        1.34342622757)
    assert F.multi_margin_loss(mc.tensor(0.7), mc.tensor(0)).item() == 0
    assert F.multilabel_margin_loss(mc.tensor(0.7), mc.tensor(-1)).item() == 0
    # (C,) input with a (1,) target keeps the target's shape, as torch: [0.675]
    out = F.multi_margin_loss(mc.tensor(X[0]), mc.tensor([2]), reduction="none")
    assert out.shape == (1,) and out.tolist() == pytest.approx([0.675])
    assert F.multilabel_margin_loss(mc.tensor(X[2]), mc.tensor(MLT[2]),
                                    reduction="none").shape == ()
    # empty batches: mean of nothing is NaN, sum 0
    assert math.isnan(F.soft_margin_loss(mc.zeros(0), mc.zeros(0)).item())
    assert F.multi_margin_loss(mc.zeros(0, 4), mc.zeros(0).long(), reduction="sum").item() == 0
    assert F.multilabel_margin_loss(mc.zeros(0, 4), mc.zeros(0, 4).long(),
                                    reduction="none").shape == (0,)
    # integer inputs of the likelihoods give the default float (torch: 2.053669, 0.625)
    p = F.poisson_nll_loss(mc.tensor([1, 2]), mc.tensor([0, 3]))
    assert p.dtype == np.float32 and p.item() == pytest.approx(2.0536690, rel=1e-6)
    g = F.gaussian_nll_loss(mc.tensor([1, 2]), mc.tensor([0., 3]), mc.tensor([0.5, 2.0]))
    assert g.dtype == np.float32 and g.item() == pytest.approx(0.625)
    # the result dtype: input's for the fused losses, promoted for the composed ones
    x32, y64 = mc.tensor(X, dtype=mc.float32), mc.tensor(Y)
    assert F.soft_margin_loss(x32, y64).dtype == np.float32
    assert F.hinge_embedding_loss(x32, y64).dtype == np.float32
    assert F.multilabel_soft_margin_loss(x32, y64).dtype == np.float64
    assert F.poisson_nll_loss(x32, y64).dtype == np.float64
    # integer targets of the float losses
    assert F.soft_margin_loss(mc.tensor(X), mc.tensor(Y.astype(np.int64))).item() == \
        pytest.approx(EXPECTED["soft_margin_mean"][0])


def test_strided_views_equal_contiguous_copies():
    big = mc.tensor(np.stack([X, Y]).transpose(1, 2, 0).copy())       # (3, 4, 2)
    x = big[:, :, 0]                                                   # strided view of X
    assert not x.data.flags.c_contiguous
    assert F.multi_margin_loss(x, mc.tensor(LAB)).item() == pytest.approx(
        EXPECTED["multi_margin_mean"][0])
    assert F.multilabel_margin_loss(x, mc.tensor(MLT), reduction="none").tolist() == \
        pytest.approx(EXPECTED["multilabel_margin_none"][0])
    xt = mc.tensor(X.T.copy()).t()                                      # transposed view
    assert F.soft_margin_loss(xt, mc.tensor(Y)).item() == pytest.approx(
        EXPECTED["soft_margin_mean"][0])


def test_gaussian_var_clamp_gradient_is_identity():
    # torch: var 1e-8 is clamped to eps=1e-6 in the value only: dvar = ½(1/eps - d²/eps²)
    v = mc.tensor([1e-8, 0.5], dtype=mc.float64, requires_grad=True)
    i = mc.tensor([1.0, 2.0], dtype=mc.float64, requires_grad=True)
    F.gaussian_nll_loss(i, mc.zeros(2, dtype=mc.float64), v, reduction="sum").backward()
    np.testing.assert_allclose(v.grad.data, [-499999500000.0, -7.0], rtol=1e-9)
    np.testing.assert_allclose(i.grad.data, [1e6, 4.0], rtol=1e-9)


def test_margin_kinks_follow_torch():
    # torch: the hinge terms of multi_margin/multilabel_margin are 0 at z = 0 (strict), the
    # clamp of hinge_embedding passes the gradient at its kink
    x = mc.tensor([[0.0, 1.0, 0.5]], requires_grad=True)
    F.multi_margin_loss(x, mc.tensor([1]), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [[0, -1 / 3, 1 / 3]], rtol=1e-6)
    x.grad = None
    F.multilabel_margin_loss(x, mc.tensor([[1, 1, -1]]), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [[0, -2 / 3, 2 / 3]], rtol=1e-6)
    h = mc.tensor([1.0, 0.5, 2.0], requires_grad=True)
    F.hinge_embedding_loss(h, mc.tensor([-1., -1, 1]), reduction="sum").backward()
    assert h.grad.tolist() == [-1, -1, 1]


def test_bad_inputs_raise():
    x, t = mc.tensor(X), mc.tensor(LAB)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, t, p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(IndexError, match=r"target 4 is out of range.*\[0, 3\]"):
        F.multi_margin_loss(x, mc.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"expected shape \[3\]"):
        F.multi_margin_loss(x, mc.tensor([0, 1]))
    with pytest.raises(ValueError, match="one-dimensional"):
        F.multi_margin_loss(x, t, weight=mc.ones(2, 2))
    with pytest.raises(ValueError, match=r"shape \[4\], got \[3\]"):
        F.multi_margin_loss(x, t, weight=mc.ones(3))
    with pytest.raises(ValueError, match="non-empty"):
        F.multi_margin_loss(mc.randn(2, 3, 4), mc.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.multi_margin_loss(x, t.float())
    with pytest.raises(TypeError, match="floating"):
        F.multi_margin_loss(x.long(), t)
    with pytest.raises(IndexError, match=r"target -2 is out of range.*\[-1, 3\]"):
        F.multilabel_margin_loss(x, mc.tensor([[-2, 0, -1, 1], [0] * 4, [0] * 4]))
    with pytest.raises(ValueError, match=r"input's shape \[3, 4\]"):
        F.multilabel_margin_loss(x, mc.tensor(MLT[:, :3]))
    with pytest.raises(ValueError, match="do not broadcast|does not broadcast"):
        F.soft_margin_loss(x, mc.ones(2, 4))
    with pytest.raises(TypeError, match="floating"):
        F.soft_margin_loss(x.long(), mc.ones(3, 4))
    with pytest.raises(ValueError, match="0-d"):
        F.multilabel_soft_margin_loss(mc.tensor(1.), mc.tensor(1.))
    with pytest.raises(ValueError, match="reduction"):
        F.multilabel_soft_margin_loss(x, mc.tensor(T01), reduction="avg")
    with pytest.raises(TypeError, match="floating"):
        F.hinge_embedding_loss(x.long(), mc.tensor(Y))
    with pytest.raises(ValueError, match="reduction"):
        F.poisson_nll_loss(x, mc.tensor(V), reduction="avg")
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -mc.tensor(V))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -0.5)
    for bad in (mc.ones(4), mc.ones(1, 1), mc.ones(2, 4)):
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(x, x, bad)
    with pytest.raises(TypeError, match="var must be a floating"):
        F.gaussian_nll_loss(x, x, mc.ones(3, 4).long())
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(x, x, x[0])
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(x, x, x, None)     # distance is keyword-only


# ----------------------------------------------------------------------------- CTC

def _brute_force_nll(lp, target, blank=0):
    """-log Σ over every frame labelling that collapses to ``target`` (T^C paths)."""
    t_len, c = lp.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        collapsed = [k for i, k in enumerate(path) if k != blank and (i == 0 or
                                                                      path[i - 1] != k)]
        if collapsed == list(target):
            total += math.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return -math.log(total) if total else math.inf


def test_ctc_matches_torch_values_and_gradient():
    lp = _x64(LP)
    loss = F.ctc_loss(lp, mc.tensor([[1, 1, 2], [2, 0, 0]]), [5, 4], [3, 1], reduction="none")
    np.testing.assert_allclose(loss.data, CTC_NONE, rtol=0, atol=2e-12)
    loss.sum().backward()
    np.testing.assert_allclose(lp.grad.data, CTC_GRAD, rtol=0, atol=2e-12)
    assert np.all(lp.grad.data[4, 1] == 0)                  # past sample 1's 4 frames
    lp = _x64(LP)
    loss = F.ctc_loss(lp, mc.tensor([[1, 1, 2], [2, 1, 0]]), mc.tensor([3, 5]),
                      mc.tensor([3, 2]), zero_infinity=True)
    assert loss.item() == pytest.approx(CTC_MEAN_ZI, abs=2e-12)
    loss.backward()
    np.testing.assert_allclose(lp.grad.data, CTC_GRAD_ZI, rtol=0, atol=2e-12)


@pytest.mark.parametrize("target", [[], [1], [1, 1], [2, 1], [1, 2, 1], [2, 2, 2]])
def test_ctc_equals_the_sum_over_all_alignments(target):
    lp = LP[:, 0]                                            # (T=5, C=3)
    want = _brute_force_nll(lp, target)
    got = F.ctc_loss(mc.tensor(lp), mc.tensor([target], dtype=mc.int64), [5], [len(target)],
                     reduction="sum").item()
    assert got == pytest.approx(want, rel=1e-10) if math.isfinite(want) else got == math.inf
    blank2 = F.ctc_loss(mc.tensor(lp), mc.tensor([[k - 1 for k in target]], dtype=mc.int64),
                        [5], [len(target)], blank=2, reduction="sum").item()
    want2 = _brute_force_nll(lp, [k - 1 for k in target], blank=2)
    assert blank2 == pytest.approx(want2, rel=1e-10)


def test_ctc_impossible_alignment_and_zero_infinity():
    lp = _x64(LP[:2, :1])                                    # T=2: "1 1" needs 3 frames
    loss = F.ctc_loss(lp, mc.tensor([[1, 1]]), [2], [2], reduction="none")
    assert loss.item() == math.inf
    loss.sum().backward()
    assert np.isnan(lp.grad.data).all()                     # as torch
    lp = _x64(LP[:2, :1])
    loss = F.ctc_loss(lp, mc.tensor([[1, 1]]), [2], [2], zero_infinity=True)
    loss.backward()
    assert loss.item() == 0 and np.all(lp.grad.data == 0)


def test_ctc_empty_target_and_frame_gradients():
    z = _x64(Z)
    loss = F.ctc_loss(F.log_softmax(z, 2), mc.zeros(2, 0, dtype=mc.int64), [5, 3], [0, 0],
                      reduction="none")
    np.testing.assert_allclose(loss.data, [-LP[:, 0, 0].sum(), -LP[:3, 1, 0].sum()],
                               rtol=1e-12)
    F.ctc_loss(F.log_softmax(z, 2), mc.tensor([[1, 2, 1], [2, 2, 0]]), [5, 5],
               [3, 2]).backward()
    np.testing.assert_allclose(z.grad.data.sum(2), 0, atol=1e-12)    # per frame, over C


@settings(deadline=None)
@given(data=hs.data(), t_len=hs.integers(1, 6), c=hs.integers(2, 4), blank=hs.integers(0, 3))
def test_ctc_gradcheck_through_log_softmax(data, t_len, c, blank):
    """The gradient is exact through log_softmax, also for a blank inside the target (where
    PyTorch's own gradient disagrees with its loss)."""
    blank = blank % c
    z = data.draw(st.tensors(shape=(t_len, 2, c)))
    targets = data.draw(hs.lists(hs.lists(hs.integers(0, c - 1), min_size=3, max_size=3),
                                 min_size=2, max_size=2))
    il = data.draw(hs.lists(hs.integers(0, t_len), min_size=2, max_size=2))
    tl = data.draw(hs.lists(hs.integers(0, 3), min_size=2, max_size=2))
    fn = lambda a: F.ctc_loss(F.log_softmax(a, 2), mc.tensor(targets), il, tl, blank=blank,
                              reduction="sum", zero_infinity=True)
    assert gradcheck(fn, (z,))


def test_ctc_target_layouts_and_length_types_agree():
    lp = mc.tensor(LP)
    padded = F.ctc_loss(lp, mc.tensor([[1, 2, 2], [2, 1, 0]]), [5, 4], [3, 1], reduction="none")
    concat = F.ctc_loss(lp, mc.tensor([1, 2, 2, 2]), mc.tensor([5, 4], dtype=mc.int32),
                        (3, 1), reduction="none")
    assert padded.tolist() == concat.tolist()
    one = F.ctc_loss(lp[:, 1], mc.tensor([2]), mc.tensor(4), mc.tensor([1]),
                     reduction="none")                       # unbatched: (T, C), 0-d out
    assert one.shape == () and one.item() == padded.tolist()[1]
    mean = F.ctc_loss(lp, mc.tensor([[1, 2, 2], [2, 1, 0]]), [5, 4], [3, 1])
    assert mean.item() == pytest.approx((padded.tolist()[0] / 3 + padded.tolist()[1]) / 2)
    f32 = F.ctc_loss(lp.float(), mc.tensor([[1, 2, 2], [2, 1, 0]]), [5, 4], [3, 1],
                     reduction="sum")
    assert f32.dtype == np.float32 and f32.item() == pytest.approx(sum(padded.tolist()))


def test_ctc_is_finite_for_10000_frames_in_float32():
    z = mc.tensor(np.random.default_rng(0).standard_normal((10000, 1, 4)).astype(np.float32),
                  requires_grad=True)
    loss = F.ctc_loss(F.log_softmax(z, 2), mc.tensor([[1, 2, 2, 3]]), [10000], [4])
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.data).all()


def test_ctc_bad_inputs_raise():
    lp, t = mc.tensor(LP), mc.tensor([[1, 2], [2, 0]])
    with pytest.raises(ValueError, match="at most T=5"):
        F.ctc_loss(lp, t, [6, 4], [2, 1])
    with pytest.raises(ValueError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, t, [3], [2, 1])
    with pytest.raises(ValueError, match="target_lengths must be non-negative"):
        F.ctc_loss(lp, t, [3, 4], [-1, 1])
    with pytest.raises(ValueError, match="longest target length 3"):
        F.ctc_loss(lp, t, [3, 4], [3, 1])
    with pytest.raises(ValueError, match="sum\\(target_lengths\\)=3"):
        F.ctc_loss(lp, mc.tensor([1, 2, 2, 1]), [3, 4], [2, 1])
    with pytest.raises(ValueError, match=r"blank must be in label range \[0, 2\]"):
        F.ctc_loss(lp, t, [3, 4], [2, 1], blank=3)
    with pytest.raises(IndexError, match="target 3 is out of range"):
        F.ctc_loss(lp, mc.tensor([[1, 3], [2, 0]]), [3, 4], [2, 1])
    F.ctc_loss(lp, mc.tensor([[1, 2], [2, 9]]), [3, 4], [2, 1])   # padding is not read
    with pytest.raises(TypeError, match="floating"):
        F.ctc_loss(lp.long(), t, [3, 4], [2, 1])
    with pytest.raises(ValueError, match=r"\(T, N, C\) or \(T, C\)"):
        F.ctc_loss(lp[0, 0], t, [3, 4], [2, 1])
    with pytest.raises(TypeError, match="sequence of ints"):
        F.ctc_loss(lp[:, 0], t[0], 3, 2)
    with pytest.raises(TypeError, match="must hold integers"):
        F.ctc_loss(lp, t, mc.tensor([3.0, 4.0]), [2, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, t, [3, 4], [2, 1], reduction="avg")
