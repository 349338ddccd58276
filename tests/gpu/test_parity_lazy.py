"""CPU/GPU parity of the lazy modules (``minicv/nn/lazy.py``): placeholders made on the GPU
(``device='cuda'``, or moved there with ``.to``) materialise there, and the first call's
initialisation, values and gradients agree with the CPU's. Marked ``gpu`` (skipped without
CuPy; runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
from minicv import nn
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)


def _first_call(make, move):
    """A function of an input tensor: a fresh lazy module (same seed) on its device, built
    there (``move=False``) or moved there before the first call, then called once."""
    def run(x):
        mc.manual_seed(4)
        m = make(None).to(x.device) if move else make(x.device)
        y = m(x)
        assert m.weight.device == x.device and type(m).__name__[:4] != "Lazy"
        return y
    return run


@pytest.mark.parametrize("move", [False, True])
@pytest.mark.parametrize("make, shape", [
    (lambda d: nn.LazyLinear(3, device=d, dtype=mc.float64), (4, 5)),
    (lambda d: nn.LazyConv2d(4, 3, padding=1, groups=2, device=d, dtype=mc.float64),
     (2, 6, 5, 5)),
    (lambda d: nn.LazyConvTranspose2d(2, 2, stride=2, device=d, dtype=mc.float64),
     (1, 3, 3, 3)),
    (lambda d: nn.LazyBatchNorm2d(device=d, dtype=mc.float64), (3, 2, 2, 2))])
def test_first_call_forward_and_backward(make, shape, move):
    _same(_first_call(make, move), R.standard_normal(shape))


def test_weights_drawn_on_the_gpu_equal_the_cpu_ones():
    def weight(x):
        mc.manual_seed(9)
        m = nn.LazyLinear(6, device=x.device)
        m(x)
        return m.weight + 0 * x.sum()          # a tensor on x's device that depends on x
    _same(weight, R.standard_normal((2, 4)).astype(np.float32), grad=False)


def test_load_state_dict_into_lazy_module_on_the_gpu():
    sd = {"weight": R.standard_normal((3, 5)), "bias": R.standard_normal(3)}

    def run(x):
        m = nn.LazyLinear(3, device=x.device, dtype=mc.float64)
        m.load_state_dict(sd)
        assert m.weight.device == x.device
        return m(x)
    _same(run, R.standard_normal((2, 5)))


def test_errors_agree():
    _same_error(lambda x: nn.LazyConv2d(4, 3, groups=2, device=x.device)(x),
                R.standard_normal((1, 3, 5, 5)).astype(np.float32),
                match="must be divisible by groups")
    _same_error(lambda x: nn.LazyConv2d(4, 3, device=x.device)(x),
                R.standard_normal((5, 5)).astype(np.float32), match="Expected 3D")
