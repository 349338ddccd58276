"""Module.set_submodule, get/set_extra_state, the state-dict hooks, and BatchNorm folding
(nn.utils.fuse_conv_bn_eval / fuse_linear_bn_eval). Behaviour checked against PyTorch
2.13: the order of hook calls, the `_extra_state` key, strict-mode errors."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
from minicv.nn import utils as U


def test_set_submodule_replaces_and_adds():
    s = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    s.set_submodule("1.0", nn.Tanh())
    assert isinstance(s[1][0], nn.Tanh)
    s.set_submodule("1.5", nn.Sigmoid())                 # new name: added
    assert isinstance(s.get_submodule("1.5"), nn.Sigmoid)
    with pytest.raises(AttributeError, match="has no attribute `6`"):
        s.set_submodule("1.6", nn.Tanh(), strict=True)
    with pytest.raises(AttributeError, match="no submodule `2`"):
        s.set_submodule("2.0", nn.Tanh())
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        s.set_submodule("0.weight", nn.Tanh())
    with pytest.raises(ValueError, match="target name"):
        s.set_submodule("", nn.Tanh())
    with pytest.raises(ValueError, match="not an nn.Module"):
        s.set_submodule("0", 3)


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.count = 3
        self.lin = nn.Linear(1, 1)

    def get_extra_state(self):
        return {"count": self.count}

    def set_extra_state(self, state):
        self.count = state["count"]


def test_extra_state_is_saved_loaded_and_required(tmp_path):
    m = Counter()
    sd = m.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"]
    sd["_extra_state"] = {"count": 7}
    m.load_state_dict(sd)
    assert m.count == 7
    mc.save(nn.Sequential(m).state_dict(), tmp_path / "c.pt")        # round trip on disk
    other = nn.Sequential(Counter())
    other.load_state_dict(mc.load(tmp_path / "c.pt"))
    assert other[0].count == 7
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key.*"_extra_state"'):
        m.load_state_dict(sd)
    assert m.load_state_dict(sd, strict=False).missing_keys == ["_extra_state"]
    with pytest.raises(RuntimeError, match='Unexpected key.*"_extra_state"'):
        nn.Linear(1, 1).load_state_dict({**nn.Linear(1, 1).state_dict(), "_extra_state": 1})


def test_state_dict_hooks_run_in_pytorchs_order_and_can_edit():
    lin = nn.Linear(2, 2)
    calls = []
    handles = [
        lin.register_state_dict_pre_hook(lambda m, prefix, kv: calls.append(("pre", prefix))),
        lin.register_state_dict_post_hook(
            lambda m, sd, prefix, meta: calls.append(("post", prefix, list(sd)))),
        lin.register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest: calls.append(("load-pre", prefix))),
        lin.register_load_state_dict_post_hook(
            lambda m, keys: calls.append(("load-post", list(keys.missing_keys)))),
    ]
    seq = nn.Sequential(lin)
    seq.load_state_dict(seq.state_dict())
    assert calls == [("pre", "0."), ("post", "0.", ["0.weight", "0.bias"]),
                     ("load-pre", "0."), ("load-post", [])]
    for h in handles:
        h.remove()
    calls.clear()
    seq.load_state_dict(seq.state_dict())
    assert calls == []


def test_load_hooks_rename_old_keys_and_forgive_missing_ones():
    lin = nn.Linear(2, 2)

    def rename(module, sd, prefix, *rest):              # an old checkpoint's name
        if prefix + "w" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "w")
    lin.register_load_state_dict_pre_hook(rename)
    lin.load_state_dict({"w": mc.ones(2, 2), "bias": mc.zeros(2)})
    assert lin.weight.data.tolist() == [[1.0, 1.0], [1.0, 1.0]]

    def forgive(module, keys):
        keys.missing_keys.clear()
    lin.register_load_state_dict_post_hook(forgive)
    assert lin.load_state_dict({"weight": mc.ones(2, 2)}).missing_keys == []
    lin.register_load_state_dict_post_hook(lambda m, keys: 1)
    with pytest.raises(RuntimeError, match="must return None"):
        lin.load_state_dict(lin.state_dict())


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_the_pair(transpose):
    mc.manual_seed(0)
    conv = nn.ConvTranspose2d(3, 4, 3) if transpose else nn.Conv2d(3, 4, 3, bias=False)
    bn = nn.BatchNorm2d(4)
    with mc.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()
    conv.eval(), bn.eval()
    fused = U.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    assert isinstance(fused.weight, nn.Parameter) and fused.bias.shape == (4,)
    x = mc.randn(2, 3, 6, 6)
    with mc.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), atol=1e-5)
    assert fused is not conv and (conv.bias is None) != transpose      # conv unchanged


def test_fuse_linear_bn_eval_and_errors():
    mc.manual_seed(1)
    lin, bn = nn.Linear(5, 4), nn.BatchNorm1d(4)
    with mc.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    lin.eval(), bn.eval()
    x = mc.randn(3, 5)
    with mc.no_grad():
        np.testing.assert_allclose(U.fuse_linear_bn_eval(lin, bn)(x).numpy(),
                                   bn(lin(x)).numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match="bn.num_features"):
        U.fuse_linear_bn_eval(lin, nn.BatchNorm1d(3).eval())
    with pytest.raises(RuntimeError, match="eval mode"):
        U.fuse_conv_bn_eval(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))
    no_stats = nn.BatchNorm2d(1, track_running_stats=False).eval()
    with pytest.raises(RuntimeError, match="running statistics"):
        U.fuse_conv_bn_eval(nn.Conv2d(1, 1, 1).eval(), no_stats)


def test_hook_order_and_return_checks_follow_pytorch():
    order = []
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.Linear(1, 1))
    for name, m in [("root", net), ("0", net[0]), ("0.0", net[0][0]), ("1", net[1])]:
        m.register_load_state_dict_post_hook(lambda mod, keys, name=name: order.append(name))
    net.load_state_dict(net.state_dict())
    assert order == ["0.0", "0", "1", "root"]                   # children first
    lin = nn.Linear(1, 1)
    lin.register_state_dict_post_hook(lambda *args: {"x": 1})
    with pytest.raises(RuntimeError, match="must return None"):
        lin.state_dict()


def test_fused_conv_without_bias_takes_the_weight_dtype():
    conv = nn.Conv2d(3, 4, 3, bias=False).double().eval()
    bn = nn.BatchNorm2d(4).eval()                               # float32 statistics
    fused = U.fuse_conv_bn_eval(conv, bn)
    assert fused.weight.dtype == fused.bias.dtype == mc.float64
    fused(mc.randn(1, 3, 5, 5, dtype=mc.float64))               # runs: one dtype
