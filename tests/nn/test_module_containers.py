"""Containers and parameters beyond the basics: Sequential/ModuleList/ModuleDict editing,
ParameterList, ParameterDict, Module.type, deepcopy of parameters, Unflatten checks.

Expected values were taken from PyTorch 2.13 running the same code (the comments say so).
"""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn


def _names(seq):
    return [type(m).__name__ for m in seq]


def test_sequential_insert_pop_iadd_mul():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    assert seq.insert(-1, nn.ELU()) is seq
    assert _names(seq) == ["ReLU", "ELU", "Tanh"]       # torch: inserted before the last
    assert isinstance(seq.pop(1), nn.ELU) and _names(seq) == ["ReLU", "Tanh"]
    assert list(seq._modules) == ["0", "1"]
    same = seq
    seq += nn.Sequential(nn.Sigmoid())
    assert seq is same and _names(seq) == ["ReLU", "Tanh", "Sigmoid"]   # in place, as torch
    twice = seq * 2
    assert list(twice._modules) == ["0", "1", "2", "3", "4", "5"] and twice[3] is seq[0]
    assert len(2 * nn.Sequential(nn.ReLU())) == 2
    seq *= 2
    assert len(seq) == 6
    with pytest.raises(TypeError, match="multiply by an int"):
        seq * 1.5
    with pytest.raises(ValueError, match="non-positive"):
        seq * 0
    with pytest.raises(ValueError, match="only Sequential"):
        seq += [nn.ReLU()]
    with pytest.raises(TypeError, match="expects a Module"):
        seq.insert(0, 3)
    named = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())]))
    assert isinstance(named.pop(-1), nn.Tanh) and list(named._modules) == ["0"]


def test_module_list_pop_and_negative_index():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.extend([nn.Sigmoid()])
    ml.insert(1, nn.ELU())
    ml[-1] = nn.GELU()
    ml += [nn.SiLU()]
    assert isinstance(ml.pop(-2), nn.GELU) and isinstance(ml.pop(0), nn.ReLU)
    # torch: ModuleList((0): ELU, (1): Tanh, (2): SiLU)
    assert _names(ml) == ["ELU", "Tanh", "SiLU"] and list(ml._modules) == ["0", "1", "2"]
    assert isinstance(ml.pop(), nn.SiLU) and len(ml) == 2


def test_module_dict_update_errors_name_the_element():
    md = nn.ModuleDict()
    with pytest.raises(TypeError, match="ModuleDict.update should be called with"):
        md.update(3)
    with pytest.raises(ValueError, match="element #1 has length 1; 2 is required"):
        md.update([("a", nn.ReLU()), ("b",)])
    md.update(nn.ModuleDict({"c": nn.Tanh()}))
    md.update({"z": nn.ReLU(), "b": nn.ReLU()})          # a plain dict keeps its order
    assert list(md.keys()) == ["a", "c", "z", "b"]


def test_parameter_list():
    pl = nn.ParameterList([mc.ones(2), nn.Parameter(mc.ones(3), requires_grad=False)])
    assert all(isinstance(p, nn.Parameter) for p in pl)
    assert [p.requires_grad for p in pl] == [True, False]
    pl.append(mc.zeros(1))
    pl.extend([mc.zeros(4)])
    pl += [mc.zeros(5)]
    pl[-1] = mc.ones(6)
    assert len(pl) == 5 and pl[4].shape == (6,) and isinstance(pl[1:3], nn.ParameterList)
    assert list(pl.state_dict()) == ["0", "1", "2", "3", "4"]       # torch: the same
    # torch: 'ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2]...'
    assert repr(nn.ParameterList([mc.ones(2), mc.ones(2, 3)])) == (
        "ParameterList(\n    (0): Parameter containing: [float32 of size 2]\n"
        "    (1): Parameter containing: [float32 of size 2x3]\n)")
    with pytest.raises(IndexError):
        pl[7]
    with pytest.raises(TypeError, match="iterable of Tensors"):
        pl.extend(mc.ones(2))
    with pytest.raises(TypeError, match="holds Tensors"):
        pl.append(3)
    host = nn.Module()
    host.scales = nn.ParameterList([mc.ones(1), mc.ones(2)])
    assert [n for n, _ in host.named_parameters()] == ["scales.0", "scales.1"]
    data = mc.ones(2)
    shared = nn.ParameterList([data])
    shared[0].data[0] = 5                        # wrapped, not copied (as nn.Parameter)
    assert data.tolist() == [5.0, 1.0]


def test_parameter_dict():
    pd = nn.ParameterDict({"b": nn.Parameter(mc.ones(1)), "a": mc.ones(2, 3)})
    assert list(pd.keys()) == ["a", "b"]          # torch sorts a plain dict's keys
    assert isinstance(pd["a"], nn.Parameter) and pd["a"].requires_grad
    assert list(pd.state_dict()) == ["a", "b"]
    # torch: 'ParameterDict(\n    (a): Parameter containing: [torch.FloatTensor of size 2x3]'
    assert repr(pd) == ("ParameterDict(\n"
                        "    (a): Parameter containing: [minicv.FloatTensor of size 2x3]\n"
                        "    (b): Parameter containing: [minicv.FloatTensor of size 1]\n)")
    pd["c"] = mc.zeros(2)
    assert pd.get("zz", 5) == 5 and "c" in pd and len(pd) == 3 and list(pd) == ["a", "b", "c"]
    assert isinstance(pd.pop("c"), nn.Parameter) and list(pd.keys()) == ["a", "b"]
    assert pd.setdefault("d", mc.ones(1)).shape == (1,) and list(pd) == ["a", "b", "d"]
    assert pd.popitem()[0] == "d"
    assert list((pd | {"z": mc.ones(1)}).keys()) == ["a", "b", "z"]
    pd |= [("e", mc.ones(1))]
    assert list(pd.keys()) == ["a", "b", "e"]
    assert pd.copy()["a"] is pd["a"]
    with pytest.raises(KeyError):
        pd["zz"]
    with pytest.raises(TypeError, match="keys must be strings"):
        pd[1] = mc.ones(1)
    with pytest.raises(KeyError, match="contain"):
        pd["x.y"] = mc.ones(1)
    with pytest.raises(TypeError, match="holds Tensors"):
        pd["x"] = 3
    pd.clear()
    assert len(pd) == 0 and repr(pd) == "ParameterDict()"


def test_type_casts_every_buffer_but_to_keeps_integer_ones():
    bn = nn.BatchNorm1d(2)
    # torch: .double() keeps num_batches_tracked int64, .type(torch.float64) casts it too
    assert bn.double().num_batches_tracked.dtype == np.int64
    assert bn.type(mc.float64).num_batches_tracked.dtype == np.float64
    assert nn.BatchNorm1d(2).type("torch.DoubleTensor").running_mean.dtype == np.float64
    bn(mc.randn(4, 2, dtype=mc.float64))
    assert bn.num_batches_tracked.item() == 1.0
    with pytest.raises(RuntimeError, match="cannot cast parameter 'weight' to int64"):
        nn.Linear(1, 1).type(mc.int64)


def test_deepcopy_gives_independent_parameters_without_grads():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model[1].weight = model[0].bias                        # tied: stays tied in the copy
    model(mc.ones(3, 2)).sum().backward()
    clone = copy.deepcopy(model)
    assert clone[0].weight is not model[0].weight
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad
    assert clone[0].weight.grad is None              # torch: Parameter.__deepcopy__ drops it
    assert model[0].weight.grad is not None
    assert clone[1].weight is clone[0].bias
    clone[0].weight.data[...] = 5
    clone[1].running_mean.data[...] = 9
    assert not np.any(model[0].weight.data == 5) and not np.any(model[1].running_mean.data == 9)
    frozen = nn.Parameter(mc.ones(1), requires_grad=False)
    assert copy.deepcopy(frozen).requires_grad is False


def test_unflatten_checks_sizes_and_keeps_them_as_given():
    with pytest.raises(TypeError, match="found element of type float at pos 0"):
        nn.Unflatten(1, (2.0, 3))
    # torch: 'Unflatten(dim=1, unflattened_size=[2, 3])'
    assert repr(nn.Unflatten(1, [2, 3])) == "Unflatten(dim=1, unflattened_size=[2, 3])"
    assert nn.Unflatten(-1, [2, -1])(mc.ones(3, 6)).shape == (3, 2, 3)


def test_module_list_repr_folds_runs_of_equal_children_as_pytorch():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)])
    assert repr(ml) == ("ModuleList(\n"
                        "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                        "  (2): ReLU()\n"
                        "  (3): Linear(in_features=2, out_features=3, bias=True)\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"
