"""Metrics against hand-computed values; plots are real PNGs of the expected size."""
import numpy as np
import pytest
from PIL import Image

from minicv.train import metrics as M
from minicv.train.plots import plot_confusion, plot_curves


def test_accuracy_and_topk():
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    targets = np.array([1, 0, 1, 1])
    assert M.accuracy(logits, targets) == 0.5
    assert M.topk_accuracy(logits, targets, k=2) == 1.0
    assert M.topk_accuracy(logits, np.array([2, 2, 2, 2]), k=1) == 0.25


def test_confusion_and_per_class_scores():
    pred = np.array([0, 0, 1, 1, 2, 0])
    true = np.array([0, 1, 1, 1, 2, 2])
    cm = M.confusion_matrix(pred, true, 3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 2, 0], [1, 0, 1]])
    p, r, f = M.precision_recall_f1(cm)
    np.testing.assert_allclose(p, [1 / 3, 1.0, 1.0])
    np.testing.assert_allclose(r, [1.0, 2 / 3, 0.5])
    np.testing.assert_allclose(f, [0.5, 0.8, 2 / 3])


def test_never_predicted_class_has_zero_precision_not_nan():
    p, r, f = M.precision_recall_f1(M.confusion_matrix([0, 0], [0, 1], 3))
    assert np.all(np.isfinite(p)) and p[1] == 0 and r[2] == 0


def test_confusion_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        M.confusion_matrix([0, 3], [0, 1], 3)


def test_plots_write_pngs(tmp_path):
    p = plot_curves({"train loss": [1.0, 0.5, 0.3], "val loss": [1.1, float("nan"), 0.4]},
                    tmp_path / "curves.png", title="loss")
    assert Image.open(p).size == (640, 400)
    q = plot_confusion(np.array([[5, 1], [0, 7]]), tmp_path / "cm.png", ["cat", "dog"])
    img = np.asarray(Image.open(q))
    assert img.shape[2] == 3 and img.min() < 255       # something was drawn
