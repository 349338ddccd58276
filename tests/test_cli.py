"""The command line: train/eval/predict round trip, resume, and one-line errors."""
import numpy as np
import pytest
from PIL import Image

from minicv.cli import main

TINY = ["--epochs", "1", "--train-size", "512", "--val-size", "256", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--out", str(out)] + TINY) == 0
    return out


def test_train_writes_checkpoints_history_and_plots(run_dir, capsys):
    for name in ("best.ckpt", "last.ckpt", "history.csv", "loss.png", "confusion_matrix.png"):
        assert (run_dir / name).exists()


def test_eval_and_predict(run_dir, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert main(["eval", str(run_dir / "best.ckpt"), "--val-size", "256",
                 "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "precision" in out
    # same validation images, normalised with the checkpoint's statistics: same accuracy
    import json
    best = max(r["val_accuracy"] for r in json.loads((run_dir / "history.json").read_text()))
    assert json.loads(report.read_text())["accuracy"] == pytest.approx(best)
    img = tmp_path / "digit.png"
    Image.fromarray((np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8)).save(img)
    assert main(["predict", str(run_dir / "best.ckpt"), str(img), "--topk", "2"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(img)) and line.count(",") == 1


def test_resume_continues(run_dir, tmp_path, capsys):
    out = tmp_path / "resumed"
    assert main(["train", "--out", str(out), "--resume", str(run_dir / "last.ckpt"),
                 "--epochs", "2", "--train-size", "512", "--val-size", "256",
                 "--quiet"]) == 0
    assert "resumed from" in capsys.readouterr().out
    import json
    rows = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2]


@pytest.mark.parametrize("argv,message", [
    (["train", "--model", "resnet9000"], "unknown model"),
    (["train", "--dataset", "mnist"], "--data-dir"),
    (["train", "--dataset", "cifar10", "--data-dir", "/no/such/dir"], "not found"),
    (["train", "--epochs", "many"], "invalid int"),
    (["eval", "/no/such.ckpt"], "checkpoint not found"),
    (["bench", "everything"], "unknown bench suite"),
])
def test_mistakes_give_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_checkpoint_of_another_model(run_dir, tmp_path, capsys):
    import minicv as mc
    state = mc.load(run_dir / "best.ckpt")
    state["meta"]["model"] = "resnet20"
    state["meta"]["in_channels"] = 1
    mc.save(state, tmp_path / "other.ckpt")
    assert main(["eval", str(tmp_path / "other.ckpt")]) == 2
    assert "does not fit model resnet20" in capsys.readouterr().err


def test_models_lists_the_zoo(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lenet5" in out and "61,706" in out and "269,722" in out
