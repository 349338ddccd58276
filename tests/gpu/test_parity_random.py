"""The random functions and fills on GPU tensors (and a deep copy of a GPU model): the same
seed gives the same values as
on the CPU (draws happen on the host), results stay on the GPU, and a probability tensor
that requires grad gives a zero gradient there too."""
import numpy as np
import pytest

import minicv as mc

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")


def _both(fn):
    """fn(device) on the CPU and on the GPU after the same seed, as host arrays."""
    out = []
    for device in ("cpu", "cuda"):
        mc.manual_seed(5)
        y = fn(device)
        assert y.device.type == device
        out.append(y.cpu().numpy())
    return out


@pytest.mark.parametrize("name, args", [
    ("bernoulli_", (0.3,)), ("random_", (2, 9)), ("exponential_", (2.0,)),
    ("geometric_", (0.4,)), ("cauchy_", (1.0, 2.0)), ("log_normal_", (0.0, 0.5)),
])
def test_fills_match_cpu(name, args):
    cpu, gpu = _both(lambda d: getattr(mc.zeros(3, 4, device=d), name)(*args))
    np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.parametrize("fn", [
    lambda d: mc.bernoulli(mc.full((5,), 0.5, device=d)),
    lambda d: mc.multinomial(mc.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0]], device=d), 2),
    lambda d: mc.normal(mc.zeros(4, device=d), 2.0),
    lambda d: mc.poisson(mc.full((4,), 3.0, device=d)),
    lambda d: mc.randint_like(mc.zeros(4, device=d), 7),
])
def test_samplers_match_cpu(fn):
    cpu, gpu = _both(fn)
    assert cpu.dtype == gpu.dtype
    np.testing.assert_array_equal(cpu, gpu)


def test_bernoulli_gradient_is_zero_on_gpu():
    p = mc.tensor([0.2, 0.7], device="cuda", requires_grad=True)
    mc.bernoulli(p).sum().backward()
    assert p.grad.device.type == "cuda" and p.grad.cpu().tolist() == [0.0, 0.0]


def test_gpu_attributes():
    x = mc.zeros(3, device="cuda")
    assert x.is_cuda and not x.is_cpu and x.get_device() == 0 and x.nbytes == 12
    assert x.data_ptr() != 0


def test_deepcopy_of_a_gpu_model_stays_on_the_gpu():
    import copy
    model = mc.nn.Sequential(mc.nn.Linear(3, 2), mc.nn.BatchNorm1d(2)).to("cuda")
    twin = copy.deepcopy(model)
    for a, b in zip(model.parameters(), twin.parameters()):
        assert b.device.type == "cuda" and b is not a and b.requires_grad
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    assert twin[1].running_var.device.type == "cuda"
    assert mc.nn.Parameter(mc.zeros(2, device="cuda").data).device.type == "cuda"
