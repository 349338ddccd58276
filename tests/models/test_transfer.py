"""Transfer-learning helpers: what is frozen, what trains, groups and features."""
import numpy as np
import pytest

import minicv as mc
from minicv.models import lenet5, resnet20
from minicv.models.transfer import (extract_features, fine_tune_last, freeze,
                                    param_groups, replace_head, unfreeze)
from minicv.nn import functional as F


def test_freeze_unfreeze():
    m = lenet5()
    freeze(m)
    assert not any(p.requires_grad for p in m.parameters())
    unfreeze(m.classifier)
    assert all(p.requires_grad for p in m.classifier.parameters())
    assert not any(p.requires_grad for p in m.features.parameters())


def test_replace_head_and_linear_probe_only_trains_head():
    mc.manual_seed(0)
    m = resnet20()
    replace_head(m, 3)
    assert m.fc.out_features == 3
    fine_tune_last(m, 0)
    before = {n: p.data.copy() for n, p in m.named_parameters()}
    opt = mc.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    loss = F.cross_entropy(m(mc.randn(2, 3, 32, 32)), mc.tensor([0, 2]))
    loss.backward()
    opt.step()
    changed = {n for n, p in m.named_parameters() if not np.array_equal(before[n], p.data)}
    assert changed == {"fc.weight", "fc.bias"}


def test_fine_tune_last_stage_and_groups():
    m = resnet20()
    chosen = fine_tune_last(m, 1)
    assert chosen == ["layer3"]
    assert all(p.requires_grad for p in m.layer3.parameters())
    assert not any(p.requires_grad for p in m.layer1.parameters())
    groups = param_groups(m, lr=0.01, head_lr=0.1)
    assert [g["lr"] for g in groups] == [0.01, 0.1]
    assert sum(len(g["params"]) for g in groups) == \
        sum(1 for p in m.parameters() if p.requires_grad)
    opt = mc.optim.SGD(groups, lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]


def test_extract_features_at_named_layer():
    m = lenet5()
    feats = extract_features(m, np.zeros((5, 1, 28, 28), np.float32), "features")
    assert feats.shape == (5, 16 * 5 * 5)
    with pytest.raises(ValueError, match="no layer named"):
        extract_features(m, np.zeros((1, 1, 28, 28), np.float32), "nope")
