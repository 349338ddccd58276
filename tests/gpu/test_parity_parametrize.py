"""CPU/GPU parity of nn.utils.parametrize and nn.utils.parametrizations: the weight_norm,
spectral_norm and orthogonal maps (values and gradients to their inputs), registration on
a module that lives on the device (QR, geqrf and power iteration there), and errors."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
from minicv.nn.utils import parametrize as P
from minicv.nn.utils import parametrizations as PS
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

R = np.random.default_rng(3)
W = R.standard_normal((4, 3))
X = R.standard_normal((2, 3))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_map(dim):
    g = np.linalg.norm(W, axis=1, keepdims=True) if dim == 0 else \
        np.linalg.norm(W, axis=0, keepdims=True) if dim == 1 else np.array(2.0)
    _same(lambda g, v: PS._WeightNorm(dim)(g, v), g, W)


def test_spectral_norm_map_and_power_iteration():
    def fn(w):
        mc.manual_seed(0)
        sn = PS._SpectralNorm(w.detach(), n_power_iterations=2)
        return sn(w) + sn._u.sum() + sn._v.sum()
    _same(fn, W)
    _same(lambda w: PS._SpectralNorm(w.detach()).eval()(w), W[0])          # 1-D: normalise


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_orthogonal_map(orthogonal_map, shape):
    base = np.linalg.qr(R.standard_normal((max(shape),) * 2))[0]
    x = R.standard_normal(shape)

    def fn(x, b):
        orth = PS._Orthogonal(x.detach(), orthogonal_map)
        orth.base = b
        return orth(x)
    _same(fn, x, base)


@pytest.mark.parametrize("kw", [{}, {"use_trivialization": False},
                                {"orthogonal_map": "cayley"}])
def test_orthogonal_registered_on_the_device(kw):
    w = W.copy()
    w[:, 0] = 0.0                      # a zero column: the geqrf and sign special cases

    def fn(x):
        mc.manual_seed(0)             # the bias, and the random completion of the basis
        lin = nn.Linear(3, 4).double().to(x.device)
        with mc.no_grad():
            lin.weight.copy_(mc.tensor(w, device=x.device))
        PS.orthogonal(lin, **kw)
        return lin(x)
    _same(fn, X)


def test_parametrized_module_on_the_device():
    def fn(x):
        mc.manual_seed(0)
        lin = nn.Linear(3, 4).double().to(x.device)
        with mc.no_grad():
            lin.weight.copy_(mc.tensor(W, device=x.device))
        PS.spectral_norm(PS.weight_norm(lin))
        lin.weight = lin.weight.detach() * 2          # through both right_inverses
        with P.cached():
            return lin(x) + lin(x)
    _same(fn, X)


def test_errors_match():
    def fn(w):
        lin = nn.Linear(3, 4).double().to(w.device)
        PS.orthogonal(lin)
        lin.weight = w
    _same_error(fn, W[:2], error=ValueError, match="Expected a matrix")
