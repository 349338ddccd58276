"""The training loop: exact resume, non-finite loss, early stopping, outputs on disk."""
import json

import numpy as np
import pytest

import minicv as mc
from minicv import nn
from minicv.data import DataLoader, TensorDataset
from minicv.train.trainer import NonFiniteLossError, Trainer


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].mean(axis=(1, 2)) > 0).astype(np.int64) + 2 * (x[:, 0, 4:].mean(
        axis=(1, 2)) > 0)
    return TensorDataset(x, y)


def _setup(out_dir=None, lr=0.05, early_stopping=None):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Dropout(0.2), nn.Flatten(), nn.Linear(256, 4))
    opt = mc.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = mc.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train = DataLoader(_data(), batch_size=16, shuffle=True)
    val = DataLoader(_data(48, seed=1), batch_size=32)
    trainer = Trainer(model, opt, scheduler=sched, out_dir=out_dir, num_classes=4,
                      early_stopping=early_stopping, progress=False, log=lambda *a: None)
    return trainer, train, val


def test_resume_continues_exactly(tmp_path):
    mc.manual_seed(0)
    full, train, val = _setup()
    full.fit(train, val, epochs=3)

    mc.manual_seed(0)
    first, train, val = _setup(tmp_path)
    first.fit(train, val, epochs=2)
    mc.manual_seed(12345)                      # a fresh process would start elsewhere
    resumed, train, val = _setup()
    resumed.resume(tmp_path / "last.ckpt")
    assert resumed.epoch == 2
    resumed.fit(train, val, epochs=3)
    for (name, a), b in zip(full.model.state_dict().items(),
                            resumed.model.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(a.data if hasattr(a, "data") else a),
                                      np.asarray(b.data if hasattr(b, "data") else b),
                                      err_msg=name)
    assert [r["train_loss"] for r in full.history] == \
        [r["train_loss"] for r in resumed.history]


def test_non_finite_loss_names_step_and_batch():
    mc.manual_seed(0)
    trainer, train, val = _setup()
    bad = _data()
    bad.tensors[0][40] = np.nan                  # sample 40 is in batch 2 when unshuffled
    loader = DataLoader(bad, batch_size=16)
    with pytest.raises(NonFiniteLossError, match=r"step 2 \(batch 2 of the epoch\)"):
        trainer.fit(loader, None, epochs=1)


def test_outputs_and_early_stopping(tmp_path):
    mc.manual_seed(0)
    trainer, train, val = _setup(tmp_path, lr=0.0, early_stopping=2)
    history = trainer.fit(train, val, epochs=10)
    accs = [r["val_accuracy"] for r in history]
    best = int(np.argmax(accs))                  # first epoch with the best accuracy
    assert len(history) == best + 1 + 2 < 10     # stopped two epochs after the best
    for name in ("last.ckpt", "best.ckpt", "history.csv", "history.json", "loss.png",
                 "accuracy.png", "confusion_matrix.png", "report.json"):
        assert (tmp_path / name).exists(), name
    rows = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in rows] == list(range(1, len(history) + 1))
    report = json.loads((tmp_path / "report.json").read_text())
    assert np.array(report["confusion_matrix"]).sum() == 48


def test_training_reduces_loss():
    mc.manual_seed(0)
    trainer, train, val = _setup()
    history = trainer.fit(train, val, epochs=4)
    assert history[-1]["train_loss"] < 0.7 * history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.4          # chance is 0.25
