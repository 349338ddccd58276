"""CPU/GPU parity of the margin, likelihood and CTC losses (values, dtypes, gradients and
errors): the CTC recursions run as array operations per frame, so the GPU runs the same
text as the CPU.

Marked ``gpu`` (skipped without CuPy; ``test_emulated.py`` runs them on the emulator).
"""
import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)
X = R.standard_normal((3, 4))
X32 = X.astype(np.float32)
LAB = np.array([0, 3, 1])
MLT = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [2, 2, -1, 0]])
SIGNS = np.sign(R.standard_normal((3, 4)))
V = R.random((3, 4)) + 0.05
Z = R.standard_normal((6, 3, 5))
TARGETS = np.array([[1, 1, 3], [4, 2, 0], [2, 0, 0]])


def _w(values, like):
    return mc.tensor(np.asarray(values, dtype=np.float64), device=like.device)


def _ctc(z, t, **kw):
    return F.ctc_loss(F.log_softmax(z, 2), t, [6, 5, 2], [3, 2, 1], **kw)


LOSSES = {
    "soft_margin": (F.soft_margin_loss, [X, SIGNS]),
    "soft_margin_float32_broadcast": (F.soft_margin_loss, [X32, SIGNS[0]]),
    "multilabel_soft_margin_weight": (
        lambda a, y: F.multilabel_soft_margin_loss(a, y, weight=_w([1, 2, 0.5, 1], a)),
        [X32, (SIGNS > 0).astype(np.float64)]),
    "multi_margin": (F.multi_margin_loss, [X, LAB]),
    "multi_margin_p2_weight_none": (
        lambda a, y: F.multi_margin_loss(a, y, p=2, margin=0.6, weight=_w([1, 2, 3, 4], a),
                                         reduction="none"), [X32, LAB]),
    "multilabel_margin": (lambda a, y: F.multilabel_margin_loss(a, y, reduction="none"),
                          [X, MLT]),
    "hinge_embedding": (lambda a, y: F.hinge_embedding_loss(a, y, margin=0.5),
                        [X, np.array([1.0, -1.0, 0.0, 2.0])]),
    "poisson_full": (lambda a, y: F.poisson_nll_loss(a, y, full=True), [X, 3 * V]),
    "poisson_rate_int_target": (lambda a, y: F.poisson_nll_loss(a, y, log_input=False),
                                [V, np.array([0, 1, 2, 5])]),
    "gaussian_homoscedastic_full": (
        lambda a, y, v: F.gaussian_nll_loss(a, y, v, full=True), [X, X[::-1], V[:, 0]]),
    "gaussian_float_var": (lambda a, y: F.gaussian_nll_loss(a, y, 0.5), [X32, X32[::-1]]),
    "triplet_with_cosine_distance": (
        lambda a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y),
            swap=True, reduction="none"), [X, X[::-1], V]),
    "ctc_padded_none": (lambda z, t: _ctc(z, t, reduction="none"), [Z, TARGETS]),
    "ctc_float32_mean_blank": (lambda z, t: _ctc(z, t, blank=4), [Z.astype(np.float32),
                                                                   TARGETS]),
    "ctc_impossible_nan_gradient": (lambda z, t: _ctc(z, t, reduction="sum"),
                                    [Z, np.array([[1, 1, 3], [4, 2, 0], [2, 2, 0]])]),
    "ctc_zero_infinity": (lambda z, t: _ctc(z, t, zero_infinity=True),
                          [Z, np.array([[1, 1, 3], [4, 2, 0], [2, 2, 0]])]),
    "ctc_concatenated": (
        lambda z, t: F.ctc_loss(F.log_softmax(z, 2), t, [6, 5, 2], [3, 2, 1], reduction="sum"),
        [Z, np.array([1, 1, 3, 4, 2, 2])]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_cpu(name):
    fn, arrays = LOSSES[name]
    _same(fn, *arrays, rtol=1e-6, atol=1e-7)           # float32 inputs: a few ulps


def test_loss_errors_alike():
    _same_error(F.multi_margin_loss, X, np.array([0, 4, 1]), error=IndexError,
                match="out of range")
    _same_error(F.multilabel_margin_loss, X, MLT - 2, error=IndexError, match="out of range")
    _same_error(lambda a, y, v: F.gaussian_nll_loss(a, y, v), X, X, V[0],
                match="incorrect size")
    _same_error(lambda a, y, v: F.gaussian_nll_loss(a, y, v), X, X, -V, match="negative")
    _same_error(lambda z, t: F.ctc_loss(z, t, [7, 5, 2], [3, 2, 1]), Z, TARGETS,
                match="at most T=6")
    _same_error(lambda z, t: F.ctc_loss(z, t, [6, 5, 2], [3, 2, 1]), Z, TARGETS + 2,
                error=IndexError, match="out of range")
