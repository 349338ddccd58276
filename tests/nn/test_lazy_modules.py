"""Lazy modules (``minicv/nn/lazy.py``) and the uninitialised placeholders
(``minicv/nn/parameter.py``). Expected values, reprs, state-dict keys and errors were taken
from PyTorch 2.13 (CPU) and are written out; the last test compares with PyTorch itself
when it is installed."""
import copy

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.optim as optim
from minicv.nn.lazy import LazyModuleMixin
from minicv.nn.parameter import is_lazy


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- placeholders

def test_uninitialized_parameter_and_buffer():
    p = nn.UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>" and p.requires_grad and is_lazy(p)
    assert p.dtype == np.float32 and p.device.type == "cpu"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        p.shape
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.requires_grad
    p = nn.UninitializedParameter(requires_grad=False, dtype=mc.float64)
    p.materialize((2,))
    assert (p.dtype, p.requires_grad) == (np.float64, False)
    p = nn.UninitializedParameter()
    p.materialize(4, dtype=mc.float64)
    assert p.shape == (4,) and p.dtype == np.float64
    b = nn.UninitializedBuffer()
    assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad and b.persistent
    b.materialize((3,))
    assert type(b) is mc.Tensor and b.shape == (3,) and not is_lazy(b)
    assert nn.parameter.UninitializedParameter is nn.UninitializedParameter
    q = copy.deepcopy(nn.UninitializedParameter(dtype=mc.float64))
    assert type(q) is nn.UninitializedParameter and q.dtype == np.float64


# ----------------------------------------------------------------------------- LazyLinear

def test_lazy_linear_becomes_linear_on_first_call():
    m = nn.LazyLinear(3)
    assert isinstance(m, LazyModuleMixin) and isinstance(m, nn.Linear)
    assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert m.has_uninitialized_params() and type(m.weight) is nn.UninitializedParameter
    assert [k for k, _ in m.named_parameters()] == ["weight", "bias"]
    y = m(mc.randn(2, 5))
    assert type(m) is nn.Linear and y.shape == (2, 3)
    assert repr(m) == "Linear(in_features=5, out_features=3, bias=True)"
    assert m.weight.shape == (3, 5) and type(m.weight) is nn.Parameter
    assert not m._forward_pre_hooks and not m._load_state_dict_pre_hooks
    assert not hasattr(m, "_initialize_hook")
    nb = nn.LazyLinear(3, bias=False)
    assert nb.bias is None and list(nb.state_dict()) == ["weight"]
    nb(mc.randn(4))                                                   # 1-D input
    assert repr(nb) == "Linear(in_features=4, out_features=3, bias=False)"


def test_lazy_linear_init_distribution_matches_linear():
    mc.manual_seed(0)
    m = nn.LazyLinear(400)
    m(mc.zeros(1, 50))
    w, b, bound = _np(m.weight), _np(m.bias), 1 / np.sqrt(50)      # U(-1/√50, 1/√50)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.02 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound


def test_lazy_linear_values_and_gradients():
    m = nn.LazyLinear(2)
    m.load_state_dict({"weight": mc.arange(6.0).reshape(2, 3) / 10,
                       "bias": mc.tensor([0.5, -0.5])})
    x = mc.tensor([[1.0, 2, 3], [-1, 0, 1]], requires_grad=True)
    y = m(x)
    y.backward(mc.tensor([[1.0, 2], [3, 4]]))
    np.testing.assert_allclose(_np(y), [[1.3, 2.1], [0.7, -0.3]], rtol=1e-6)
    np.testing.assert_allclose(_np(x.grad), [[0.6, 0.9, 1.2], [1.2, 1.9, 2.6]], rtol=1e-6)
    np.testing.assert_allclose(_np(m.weight.grad), [[-2, 2, 6], [-2, 4, 10]])
    np.testing.assert_allclose(_np(m.bias.grad), [4, 6])


def test_to_dtype_before_the_first_call():
    net = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    net.double()
    assert net[0].weight.dtype == np.float64
    y = net(mc.randn(2, 3, 5, 5, dtype=mc.float64))
    assert y.dtype == np.float64 and net[3].weight.dtype == np.float64
    assert [type(m) for m in net] == [nn.Conv2d, nn.ReLU, nn.Flatten, nn.Linear]
    assert repr(net[3]) == "Linear(in_features=36, out_features=2, bias=True)"
    assert nn.LazyLinear(2, dtype=mc.float64).weight.dtype == np.float64


def test_dry_run_then_optimizer_and_optimizer_built_before():
    mc.manual_seed(0)
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    early = optim.SGD(model.parameters(), lr=0.1)      # accepted, as in PyTorch
    early.step()                                       # no gradients: nothing to do
    model(mc.zeros(1, 3))                              # dry run
    late = optim.SGD(model.parameters(), lr=0.1)
    assert [p.shape for p in late.param_groups[0]["params"]] == [(4, 3), (4,), (1, 4), (1,)]
    # the optimizer built before holds the same (now materialised) parameters
    assert all(a is b for a, b in zip(early.param_groups[0]["params"], model.parameters()))
    before = _np(model[0].weight).copy()
    model(mc.randn(8, 3)).sum().backward()
    early.step()
    assert not np.array_equal(before, _np(model[0].weight))


def test_initialize_parameters_directly_keeps_the_hook():
    m = nn.LazyLinear(4)
    m.initialize_parameters(mc.randn(2, 6))
    assert type(m) is nn.LazyLinear and not m.has_uninitialized_params()
    assert repr(m) == "LazyLinear(in_features=6, out_features=4, bias=True)"
    m(mc.randn(2, 6))
    assert type(m) is nn.Linear


def test_deepcopy_of_a_lazy_module_stays_lazy():
    m = nn.LazyLinear(4)
    c = copy.deepcopy(m)
    assert type(c.weight) is nn.UninitializedParameter
    c(mc.randn(1, 3))
    assert type(c) is nn.Linear and type(m) is nn.LazyLinear and m.has_uninitialized_params()


# ----------------------------------------------------------------------------- state dicts

def test_state_dict_of_uninitialized_module_holds_placeholders():
    sd = nn.LazyLinear(3).state_dict()
    assert list(sd) == ["weight", "bias"] and all(is_lazy(v) for v in sd.values())
    sd = nn.LazyBatchNorm2d().state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var",
                        "num_batches_tracked"]
    assert [repr(v) for v in list(sd.values())[:4]] == ["<UninitializedParameter>"] * 2 + \
        ["<UninitializedBuffer>"] * 2
    assert sd["num_batches_tracked"].item() == 0
    assert list(nn.LazyConvTranspose3d(2, 2).state_dict()) == ["weight", "bias"]
    assert list(nn.LazyInstanceNorm2d(affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]


def test_load_state_dict_materializes_from_loaded_shapes():
    src = nn.Linear(7, 3)
    m = nn.LazyLinear(3)
    assert str(m.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    assert type(m) is nn.LazyLinear and m.weight.shape == (3, 7)
    assert type(m.weight) is nn.Parameter and m.in_features == 0
    x = mc.randn(2, 7)
    np.testing.assert_array_equal(_np(m(x)), _np(src(x)))        # the loaded values kept
    assert type(m) is nn.Linear and m.in_features == 7
    bn = nn.LazyBatchNorm2d()
    bn.load_state_dict(nn.BatchNorm2d(5).state_dict())
    assert type(bn.running_mean) is mc.Tensor and bn.running_mean.shape == (5,)
    lazy = nn.LazyLinear(3)                                      # placeholders into placeholders
    assert str(lazy.load_state_dict(nn.LazyLinear(3).state_dict())) == \
        "<All keys matched successfully>"
    assert lazy.has_uninitialized_params()


def test_load_errors():
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(2, 3).load_state_dict(nn.LazyLinear(3).state_dict())
    m = nn.LazyLinear(3)
    m.load_state_dict(nn.Linear(7, 3).state_dict())
    with pytest.raises(ValueError, match=r"in_features inferred from the input \(5\)"):
        m(mc.randn(2, 5))
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.LazyLinear(3).load_state_dict({"weight": mc.zeros(3, 2)})


# ----------------------------------------------------------------------------- convolutions

def test_lazy_conv_reprs_shapes_and_init():
    assert repr(nn.LazyConv2d(4, 3, padding=1, groups=2)) == \
        "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=2)"
    assert repr(nn.LazyConvTranspose2d(4, 3, stride=2)) == \
        "LazyConvTranspose2d(0, 4, kernel_size=(3, 3), stride=(2, 2))"
    assert list(nn.LazyConv1d(4, 3, bias=False, padding_mode="reflect").state_dict()) == \
        ["weight"]
    mc.manual_seed(0)
    c = nn.LazyConv2d(64, 3)
    c(mc.zeros(1, 8, 5, 5))
    assert type(c) is nn.Conv2d and c.weight.shape == (64, 8, 3, 3)
    bound = 1 / np.sqrt(72)                                      # fan_in = 8·3·3
    w = _np(c.weight)
    assert bound * 0.99 < np.abs(w).max() <= bound and np.abs(_np(c.bias)).max() <= bound
    t = nn.LazyConvTranspose2d(64, 3)
    t(mc.zeros(1, 8, 5, 5))
    assert type(t) is nn.ConvTranspose2d and t.weight.shape == (8, 64, 3, 3)
    bound = 1 / np.sqrt(64 * 9)                                  # fan_in = weight.shape[1]·k·k
    assert bound * 0.99 < np.abs(_np(t.weight)).max() <= bound
    for cls, n, k in [(nn.LazyConv1d, 1, nn.Conv1d), (nn.LazyConv3d, 3, nn.Conv3d),
                      (nn.LazyConvTranspose1d, 1, nn.ConvTranspose1d),
                      (nn.LazyConvTranspose3d, 3, nn.ConvTranspose3d)]:
        m = cls(2, 2)
        m(mc.zeros((3,) + (4,) * n))                             # unbatched: C_in = 3
        assert type(m) is k and m.in_channels == 3
    c = nn.LazyConv2d(4, 3)
    c(mc.randn(3, 6, 6))
    assert repr(c) == "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))"


def test_lazy_conv_values_and_gradients():
    c = nn.LazyConv2d(2, 2, padding=1, stride=2)
    c.load_state_dict({"weight": mc.arange(16.0).reshape(2, 2, 2, 2) / 10 - 0.8,
                       "bias": mc.tensor([0.1, -0.2])})
    x = (mc.arange(18.0).reshape(1, 2, 3, 3) / 10).requires_grad_()
    y = c(x)
    y.backward(mc.ones_like(y))
    np.testing.assert_allclose(_np(y), [[[[0.01, -0.37], [-0.92, -2.82]],
                                         [[0.43, 1.25], [1.66, 3.6]]]], atol=1e-6)
    np.testing.assert_allclose(_np(x.grad)[0, 0], [[-0.2, -0.4, -0.2], [-0.6, -0.8, -0.6],
                                                   [-0.2, -0.4, -0.2]], atol=1e-6)
    np.testing.assert_allclose(_np(c.weight.grad)[0], [[[0.4, 0.8], [0.8, 1.6]],
                                                       [[1.3, 2.6], [2.6, 5.2]]], atol=1e-6)
    np.testing.assert_allclose(_np(c.bias.grad), [4, 4])
    assert c.in_channels == 2              # inferred after loading (PyTorch leaves 0)
    t = nn.LazyConvTranspose1d(3, 2, stride=2)
    t.load_state_dict({"weight": mc.arange(12.0).reshape(2, 3, 2) / 10 - 0.5,
                       "bias": mc.tensor([0.1, -0.2, 0.3])})
    y = t(mc.tensor([[[1.0, 2], [3, -1]]]))
    np.testing.assert_allclose(_np(y), [[[-0.1, 0.3, -1.0, -0.9], [0.4, 0.8, -1.1, -1.0],
                                         [1.7, 2.1, -0.4, -0.3]]], atol=1e-6)


def test_lazy_conv_errors():
    with pytest.raises(ValueError, match=r"in_channels \(3, from the input\) must be "
                                         r"divisible by groups \(2\)"):
        nn.LazyConv2d(4, 3, groups=2)(mc.randn(1, 3, 6, 6))
    with pytest.raises(ValueError, match=r"out_channels \(5\) must be divisible by groups"):
        nn.LazyConv2d(5, 3, groups=2)(mc.randn(1, 4, 6, 6))
    with pytest.raises(ValueError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) "
                                         r"input to LazyConv2d"):
        nn.LazyConv2d(4, 3)(mc.randn(6, 6))
    m = nn.LazyConv2d(4, 3)
    with pytest.raises(ValueError):
        m(mc.randn(6, 6))
    assert type(m) is nn.LazyConv2d and m.has_uninitialized_params()   # still lazy
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.LazyConvTranspose2d(4, 3, padding_mode="reflect")


# ----------------------------------------------------------------------------- norms

def test_lazy_batch_norm():
    bn = nn.LazyBatchNorm1d()
    assert repr(bn) == ("LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, "
                        "bias=True, track_running_stats=True)")
    y = bn(mc.tensor([[1.0, 2], [3, 6]]))
    assert type(bn) is nn.BatchNorm1d and bn.num_features == 2
    np.testing.assert_allclose(_np(y), [[-0.999995, -0.99999875], [0.999995, 0.99999875]],
                               rtol=1e-6)
    np.testing.assert_allclose(_np(bn.running_mean), [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(_np(bn.running_var), [1.1, 1.7], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(_np(bn.weight), [1, 1])
    np.testing.assert_array_equal(_np(bn.bias), [0, 0])
    ev = nn.LazyBatchNorm2d().eval()
    ev(mc.randn(2, 3, 2, 2))
    assert ev.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(_np(ev.running_var), [1, 1, 1])
    plain = nn.LazyBatchNorm2d(affine=False, track_running_stats=False)
    assert not plain.has_uninitialized_params()
    plain(mc.randn(2, 3, 4, 4))
    assert repr(plain) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                           "bias=False, track_running_stats=False)")
    nb = nn.LazyBatchNorm3d(bias=False)
    nb(mc.randn(2, 4, 2, 2, 2))
    assert type(nb) is nn.BatchNorm3d and nb.bias is None and nb.weight.shape == (4,)


def test_lazy_instance_norm():
    m = nn.LazyInstanceNorm1d()                   # affine and running stats on, as PyTorch
    y = m(mc.tensor([[[1.0, 2, 4]], [[0, 3, 3]]]))
    assert type(m) is nn.InstanceNorm1d
    assert repr(m) == ("InstanceNorm1d(1, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                       "track_running_stats=True)")
    np.testing.assert_allclose(_np(y), [[[-1.06904149, -0.26726031, 1.33630192]],
                                        [[-1.41421008, 0.70710504, 0.70710504]]], rtol=1e-5)
    np.testing.assert_allclose(_np(m.running_mean), [0.21666667], rtol=1e-6)
    np.testing.assert_allclose(_np(m.running_var), [1.16666663], rtol=1e-6)
    u = nn.LazyInstanceNorm2d()
    u(mc.randn(3, 5, 5))                          # unbatched: C from dim 0
    assert type(u) is nn.InstanceNorm2d and u.num_features == 3
    v = nn.LazyInstanceNorm3d(affine=False, track_running_stats=False)
    v(mc.randn(2, 4, 3, 3, 3))
    assert type(v) is nn.InstanceNorm3d and v.num_features == 4


# ----------------------------------------------------------------------------- PyTorch oracle

def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    cases = [(lambda M: M.LazyLinear(3), (2, 5)),
             (lambda M: M.LazyConv2d(4, 3, padding=1, groups=2), (2, 6, 5, 5)),
             (lambda M: M.LazyConvTranspose2d(3, 2, stride=2), (1, 4, 3, 3)),
             (lambda M: M.LazyBatchNorm2d(), (4, 3, 2, 2)),
             (lambda M: M.LazyInstanceNorm1d(), (2, 3, 6))]
    rng = np.random.default_rng(0)
    for make, shape in cases:
        x = rng.standard_normal(shape).astype(np.float32)
        tm, mm = make(torch.nn), make(nn)
        assert repr(mm) == repr(tm)
        assert list(mm.state_dict()) == list(tm.state_dict())
        tm.initialize_parameters(torch.from_numpy(x))
        # the weights PyTorch drew, loaded into the lazy module: same values everywhere
        mm.load_state_dict({k: v.numpy().copy() for k, v in tm.state_dict().items()})
        ty, my = tm(torch.from_numpy(x)), mm(mc.tensor(x))
        assert type(mm).__name__ == type(tm).__name__ and repr(mm) == repr(tm)
        np.testing.assert_allclose(_np(my), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        for (k, v), (k2, v2) in zip(mm.state_dict().items(), tm.state_dict().items()):
            assert k == k2 and v.shape == tuple(v2.shape)
            np.testing.assert_allclose(v.numpy(), v2.numpy(), rtol=1e-5, atol=1e-6)
