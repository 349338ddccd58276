"""Every example runs with tiny settings and its printed measurements make sense."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _quiet(*args, **kwargs):
    pass


def test_backprop_step_by_step():
    r = _load("backprop_step_by_step").main(steps=30, log=_quiet)
    assert r["max_abs_error"] < 1e-12            # autograd == the chain rule by hand
    assert r["loss_last"] < r["loss_first"]


def test_pooling_invariance():
    r = _load("pooling_invariance").main(log=_quiet)
    for conv, pooled, glob in r.values():
        assert conv >= pooled >= glob == 0.0      # pooling absorbs the shift
    assert r[1][0] > 0.5 and r[1][1] == 0.0       # a 1-px shift stays inside a window


def test_feature_extraction(tmp_path):
    mod = _load("feature_extraction")
    out = mod.worked_example(log=_quiet)
    assert out.shape == (3, 3)
    paths = mod.feature_maps(steps=20, out=tmp_path, log=_quiet)
    assert [p.name for p in paths] == ["conv1_maps.png", "conv2_maps.png"]


@pytest.mark.slow
def test_transfer_learning():
    r = _load("transfer_learning").main(shots=5, pretrain_steps=120, finetune_steps=40,
                                        test_size=400, log=_quiet)
    assert set(r) == {"from scratch", "linear probe", "fine-tune"}
    assert all(0.0 <= acc <= 1.0 for acc in r.values())
    assert r["linear probe"] > 0.35                # pretrained features beat chance (0.2)


@pytest.mark.slow
def test_attention_blocks():
    r = _load("attention_blocks").main(steps=3, train_size=64, val_size=32, batch=8,
                                       log=_quiet)
    assert r["plain"]["parameters"] < r["se"]["parameters"]
    assert r["plain"]["parameters"] < r["cbam"]["parameters"]
    assert r["plain"]["parameters"] < r["self"]["parameters"]


@pytest.mark.slow
def test_zoo_tour():
    rows = _load("zoo_tour").main(steps=1, batch=4, models=["lenet5", "densenet"],
                                  train_size=32, val_size=16, log=_quiet)
    assert [r["model"] for r in rows] == ["lenet5", "densenet"]
    assert [r["parameters"] for r in rows] == [61_706, 71_266]    # 10 and 4 classes
    assert all(0.0 <= r["accuracy"] <= 1.0 and np.isfinite(r["ms_per_step"]) for r in rows)
