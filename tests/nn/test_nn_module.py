"""Module machinery: registration, traversal, modes, dtype, hooks, repr, state dicts."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3, bias=False)
        self.scale = nn.Parameter(mc.ones(1))
        self.register_buffer("steps", mc.zeros(1))
        self.register_buffer("cache", mc.zeros(2), persistent=False)
        self.not_a_param = mc.ones(2)                 # plain attribute

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x)))) * self.scale


def test_registration_and_traversal_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.fc2.bias is None
    assert list(net.state_dict()) == [
        "scale", "steps", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc2.weight"]


def test_shared_module_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_reassign_and_errors():
    net = Net()
    net.fc1 = None
    assert "fc1" in net._modules and net.fc1 is None
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        net.scale = mc.ones(1)
    with pytest.raises(TypeError, match="Tensor or None"):
        net.steps = 3

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mc.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        Net().nope


def test_train_eval_zero_grad_apply_requires_grad():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net and not net.bn.training
    net.train()
    net(mc.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Linear", "Net"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_double_keeps_parameter_identity():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype == np.float64
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64      # integers untouched
    assert net(mc.randn(3, 4, dtype=mc.float64)).dtype == np.float64
    net.to(mc.float32)
    assert w.dtype == np.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(mc.int64)


def test_repr_matches_pytorch_layout():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Dropout(0.1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")")


@pytest.mark.parametrize("make,want", [                 # strings from torch 2.13
    (lambda: nn.BatchNorm2d(3),
     "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
     "track_running_stats=True)"),
    (lambda: nn.BatchNorm2d(3, affine=False),
     "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
     "track_running_stats=True)"),
    (lambda: nn.BatchNorm1d(3, bias=False),
     "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=False, "
     "track_running_stats=True)"),
    (lambda: nn.BatchNorm2d(3, momentum=None, track_running_stats=False),
     "BatchNorm2d(3, eps=1e-05, momentum=None, affine=True, bias=True, "
     "track_running_stats=False)"),
    (lambda: nn.LayerNorm(5), "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (lambda: nn.LayerNorm((2, 3), elementwise_affine=False),
     "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"),
    (lambda: nn.LayerNorm(4, bias=False),
     "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"),
    (lambda: nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (lambda: nn.GroupNorm(2, 4, affine=False),
     "GroupNorm(2, 4, eps=1e-05, affine=False, bias=False)"),
    (lambda: nn.GroupNorm(2, 4, bias=False),
     "GroupNorm(2, 4, eps=1e-05, affine=True, bias=False)"),
    (lambda: nn.AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    (lambda: nn.AvgPool1d(3, 2, 1), "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))"),
    (lambda: nn.AvgPool2d(3), "AvgPool2d(kernel_size=3, stride=3, padding=0)"),
])
def test_norm_and_pool_reprs_match_pytorch(make, want):
    assert repr(make()) == want


def test_avg_pool1d_stores_one_tuples_and_still_runs():
    pool = nn.AvgPool1d(3, 2, 1)
    assert (pool.kernel_size, pool.stride, pool.padding) == ((3,), (2,), (1,))
    x = mc.tensor(np.arange(6.0).reshape(1, 1, 6))
    np.testing.assert_allclose(pool(x).data, [[[1 / 3, 2.0, 4.0]]])     # (0+0+1)/3, ...


def test_forward_hooks_and_removal():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 2)
    x = mc.randn(4, 3)
    y = lin(x)
    assert calls == [(4, 2)]
    np.testing.assert_allclose(y.data, 2 * np.broadcast_to(lin.bias.data, (4, 2)), rtol=1e-6)
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(x).data, x.data @ lin.weight.data.T + lin.bias.data,
                               rtol=1e-5)
    assert calls == [(4, 2)]
    with lin.register_forward_hook(lambda m, a, o: o + 1):
        assert np.allclose(lin(x).data, lin.forward(x).data + 1)
    assert not lin._forward_hooks


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert seq(mc.randn(5, 2)).shape == (5, 1)
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 2))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    assert isinstance(ml[1:3], nn.ModuleList)
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(IndexError):
        seq[7]


def test_state_dict_round_trip_shares_memory():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert np.shares_memory(sd["fc1.weight"].data, a.fc1.weight.data)
    assert not sd["fc1.weight"].requires_grad
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    for (n1, t1), (n2, t2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert n1 == n2 and np.array_equal(t1.data, t2.data)
    assert "cache" not in sd                          # non-persistent buffer


def test_load_state_dict_errors_list_everything():
    net = Net()
    sd = dict(net.state_dict())
    del sd["fc2.weight"]
    sd["extra.weight"] = mc.zeros(1)
    sd["fc1.weight"] = mc.zeros(9, 4)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "fc2.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for fc1.weight: copying a param with shape [9, 4] from "
            "checkpoint, the shape in current model is [8, 4].") in msg
    # strict=False still refuses shape mismatches, and reports the keys
    del sd["fc1.weight"]
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.weight", "fc2.weight"]
    assert res.unexpected_keys == ["extra.weight"]


def test_data_parallel_prefix_is_recognised():
    net = Net()
    sd = {"module." + k: v for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError, match='start with "module."'):
        Net().load_state_dict(sd)
    nn.utils.consume_prefix_in_state_dict_if_present(sd, "module.")
    Net().load_state_dict(sd)


def test_load_accepts_ndarrays_and_casts():
    lin = nn.Linear(2, 2)
    sd = {k: v.data.astype(np.float64) + 1 for k, v in lin.state_dict().items()}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32
    np.testing.assert_allclose(lin.weight.data, sd["weight"], rtol=1e-6)


def test_load_state_dict_assign_takes_the_tensors_themselves():
    """torch 2.13: assign=True keeps the state dict's tensors (dtype, memory); parameters
    are wrapped in Parameters that keep the module's requires_grad."""
    lin = nn.Linear(2, 2)
    lin.weight.requires_grad_(False)
    bias = nn.Parameter(mc.ones(2))
    sd = {"weight": mc.ones(2, 2, dtype=mc.float64), "bias": bias}
    res = lin.load_state_dict(sd, assign=True)
    assert repr(res) == "<All keys matched successfully>"
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.dtype == np.float64
    assert not lin.weight.requires_grad
    assert np.shares_memory(lin.weight.data, sd["weight"].data)
    assert lin.bias is bias and bias.requires_grad
    assert list(lin.state_dict()) == ["weight", "bias"]          # order kept
    params = list(lin.parameters())
    assert params[0] is lin.weight and params[1] is bias
    bn = nn.BatchNorm1d(2)
    sd = {k: v + 1 for k, v in bn.state_dict().items()}
    bn.load_state_dict(sd, assign=True)
    assert bn.running_mean is sd["running_mean"] and type(bn.running_mean) is mc.Tensor
    net = nn.Linear(2, 2)                                        # ndarrays are wrapped
    net.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)}, assign=True)
    assert net.weight.dtype == np.float64 and net.weight.requires_grad
    np.testing.assert_array_equal(net(mc.tensor([[1.0, 2.0]], dtype=mc.float64)).data,
                                  [[1.0, 2.0]])
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(2, 2).load_state_dict({"weight": mc.ones(3, 2), "bias": mc.ones(2)},
                                        assign=True)


def test_rebinding_a_parameter_keeps_its_place():
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(mc.zeros(2, 2))               # as torch: still first
    assert list(lin.state_dict()) == ["weight", "bias"]
