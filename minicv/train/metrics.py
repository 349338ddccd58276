"""Classification metrics on plain arrays: accuracy, top-k, confusion matrix, and the
per-class precision, recall and F1 derived from it.

Conventions: ``targets`` are class indices (N,); ``logits`` or ``scores`` are (N, C).
A class that is never predicted has precision 0 (not NaN), as scikit-learn's
``zero_division=0``; a class that never occurs has recall 0.
"""
import numpy as np


def _np(x):
    return np.asarray(x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x)


def accuracy(logits, targets):
    """Fraction of rows whose arg-max equals the target."""
    logits, targets = _np(logits), _np(targets)
    if len(targets) == 0:
        return 0.0
    return float((logits.argmax(axis=1) == targets).mean())


def topk_accuracy(logits, targets, k=5):
    """Fraction of rows whose target is among the ``k`` highest scores."""
    logits, targets = _np(logits), _np(targets)
    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return float((top == targets[:, None]).any(axis=1).mean()) if len(targets) else 0.0


def confusion_matrix(predictions, targets, num_classes):
    """``M[t, p]`` counts samples of true class t predicted as p."""
    predictions, targets = _np(predictions).astype(np.int64), _np(targets).astype(np.int64)
    for name, v in (("predictions", predictions), ("targets", targets)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes - 1}], got values from "
                             f"{v.min()} to {v.max()}")
    return np.bincount(targets * num_classes + predictions,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def precision_recall_f1(confusion):
    """Per-class precision, recall and F1 (arrays of length C) from a confusion matrix."""
    cm = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def classification_report(logits, targets, num_classes, k=5):
    """All of the above in one dict (JSON-able)."""
    logits, targets = _np(logits), _np(targets)
    cm = confusion_matrix(logits.argmax(axis=1), targets, num_classes)
    p, r, f = precision_recall_f1(cm)
    return {"accuracy": accuracy(logits, targets),
            f"top{k}_accuracy": topk_accuracy(logits, targets, k),
            "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(),
            "macro_f1": float(f.mean()), "confusion_matrix": cm.tolist()}
