"""A readable training loop: ``Trainer(model, optimizer, ...).fit(train_loader, val_loader)``.

Each epoch trains with a tqdm progress bar (loss, accuracy, images/s), evaluates, appends
to the history (CSV and JSON), redraws the PNG curves, and writes ``last.ckpt`` (and
``best.ckpt`` when the validation accuracy improves) through ``mc.save``. A checkpoint
holds everything a resumed run needs to continue exactly as an uninterrupted one would:
model, optimizer and scheduler states, the epoch, the history, and the random states of
minicv, NumPy and Python.
"""
import csv
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np

import minicv as mc
from .. import backend
from ..backend import to_numpy
from ..nn import functional as F
from . import metrics as M


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch, step and batch."""


def rng_state():
    """minicv's, NumPy's and Python's random states as a JSON string (checkpointable)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return json.dumps({
        "minicv": backend.get_rng_state(),
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    })


def set_rng_state(text):
    state = json.loads(text)
    backend.set_rng_state(state["minicv"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def _batch_xy(batch):
    if isinstance(batch, dict):
        return batch["image"], batch["label"]
    return batch[0], batch[1]


class Trainer:
    """Train a classifier.

    Args:
        model: a ``minicv.nn.Module`` returning logits (N, C).
        optimizer: a ``minicv.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(logits, targets)``; default cross-entropy.
        scheduler: optional LR scheduler, stepped once per epoch (``ReduceLROnPlateau``
            receives the validation loss), or once per batch for ``OneCycleLR``.
        out_dir: where checkpoints, history and plots go (None: nothing is written).
        num_classes: for the confusion matrix and per-class scores.
        early_stopping: stop after this many epochs without a better validation accuracy.
        meta: JSON-able facts stored in every checkpoint (model name, data set...).
        device: where to train ("cpu", "cuda", "cuda:N"; None leaves the model where it
            is). The model is moved once here; each batch is moved as it arrives, so the
            DataLoader and its workers stay on the CPU and never touch CUDA.
    """

    def __init__(self, model, optimizer, loss_fn=None, scheduler=None, out_dir=None,
                 num_classes=None, early_stopping=None, meta=None, progress=True,
                 log=print, device=None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.device = None if device is None else mc.device(device)
        if self.device is not None:
            model.to(self.device)    # in place: the optimizer's parameters move with it
        self.loss_fn = loss_fn or F.cross_entropy
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.num_classes = num_classes
        self.early_stopping = early_stopping
        self.meta = dict(meta or {})
        self.progress, self.log = progress, log
        self.history = []
        self.epoch = 0               # epochs completed
        self.best_accuracy = -math.inf
        self.stale_epochs = 0
        self.global_step = 0

    def _to_device(self, x, y):
        """The batch on the training device (tensors or arrays from the DataLoader)."""
        if self.device is None:
            return x, y
        return (mc.as_tensor(x).to(self.device), mc.as_tensor(y).to(self.device))

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self, loader):
        """One pass over ``loader``; returns mean loss, accuracy and images/s."""
        self.model.train()
        total_loss, correct, seen = 0.0, 0, 0
        start = time.perf_counter()
        bar = _progress(loader, f"epoch {self.epoch + 1}", self.progress)
        for step, batch in enumerate(bar):
            x, y = self._to_device(*_batch_xy(batch))
            logits = self.model(x)
            loss = self.loss_fn(logits, y)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"the loss became {value} at epoch {self.epoch + 1}, step "
                    f"{self.global_step} (batch {step} of the epoch); lower the learning "
                    f"rate, or check the inputs of that batch for NaN/inf")
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            if self._per_batch_schedule():
                self.scheduler.step()
            self.global_step += 1
            n = len(y)
            total_loss += value * n
            correct += int((to_numpy(logits.data).argmax(axis=1) == to_numpy(y.data)).sum())
            seen += n
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(refresh=False, loss=f"{total_loss / seen:.4f}",
                                acc=f"{correct / seen:.3f}",
                                img_s=f"{seen / (time.perf_counter() - start):.0f}")
        elapsed = time.perf_counter() - start
        return {"train_loss": total_loss / max(seen, 1), "train_accuracy": correct /
                max(seen, 1), "images_per_s": seen / max(elapsed, 1e-9)}

    @mc.no_grad()
    def evaluate(self, loader):
        """Loss, accuracy, top-5, per-class scores and the confusion matrix on ``loader``."""
        self.model.eval()
        logits_all, targets_all, total_loss = [], [], 0.0
        for batch in loader:
            x, y = self._to_device(*_batch_xy(batch))
            logits = self.model(x)
            total_loss += self.loss_fn(logits, y).item() * len(y)
            logits_all.append(to_numpy(logits.data))
            targets_all.append(to_numpy(y.data))
        logits, targets = np.concatenate(logits_all), np.concatenate(targets_all)
        c = self.num_classes or logits.shape[1]
        report = M.classification_report(logits, targets, c, k=min(5, c))
        report["loss"] = total_loss / max(len(targets), 1)
        return report

    # ------------------------------------------------------------------ the loop
    def fit(self, train_loader, val_loader=None, epochs=10):
        """Train until ``epochs`` epochs are complete (counting those of a resumed run)."""
        while self.epoch < epochs:
            if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):
                train_loader.sampler.set_epoch(self.epoch)
            row = {"epoch": self.epoch + 1, "lr": self.optimizer.param_groups[0]["lr"]}
            row.update(self.train_epoch(train_loader))
            report = None
            if val_loader is not None:
                report = self.evaluate(val_loader)
                row.update(val_loss=report["loss"], val_accuracy=report["accuracy"],
                           val_macro_f1=report["macro_f1"])
            self._step_scheduler(row)
            self.epoch += 1
            self.history.append(row)
            self.log(_format_row(row))
            improved = report is not None and report["accuracy"] > self.best_accuracy
            if improved:
                self.best_accuracy, self.stale_epochs = report["accuracy"], 0
            elif report is not None:
                self.stale_epochs += 1
            self._write_outputs(report, improved)
            if self.early_stopping and self.stale_epochs >= self.early_stopping:
                self.log(f"early stopping: no better validation accuracy for "
                         f"{self.stale_epochs} epochs")
                break
        return self.history

    def _per_batch_schedule(self):
        """OneCycleLR is defined per optimizer step; the other schedules step per epoch."""
        return type(self.scheduler).__name__ == "OneCycleLR"

    def _step_scheduler(self, row):
        if self.scheduler is None or self._per_batch_schedule():
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(row.get("val_loss", row["train_loss"]))
        else:
            self.scheduler.step()

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "epoch": self.epoch, "global_step": self.global_step,
            "best_accuracy": self.best_accuracy if math.isfinite(self.best_accuracy) else None,
            "stale_epochs": self.stale_epochs,
            "history": json.dumps(self.history),
            "rng": rng_state(),
            "meta": dict(self.meta, model_class=type(self.model).__name__,
                         minicv_version=mc.__version__),
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        best = state.get("best_accuracy")
        self.best_accuracy = -math.inf if best is None else float(best)
        self.stale_epochs = int(state.get("stale_epochs", 0))
        self.history = json.loads(state["history"])
        set_rng_state(state["rng"])

    def save(self, path):
        mc.save(self.state_dict(), path)

    def resume(self, path):
        self.load_state_dict(mc.load(path))
        self.log(f"resumed from {path} after epoch {self.epoch}")

    def _write_outputs(self, report, improved):
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.save(self.out_dir / "last.ckpt")
        if improved:
            self.save(self.out_dir / "best.ckpt")
        with open(self.out_dir / "history.json", "w") as f:
            json.dump(self.history, f, indent=1)
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        with open(self.out_dir / "history.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.history)
        from .plots import plot_confusion, plot_curves
        losses = {"train loss": [r["train_loss"] for r in self.history]}
        accs = {"train accuracy": [r["train_accuracy"] for r in self.history]}
        if report is not None:
            losses["val loss"] = [r.get("val_loss", float("nan")) for r in self.history]
            accs["val accuracy"] = [r.get("val_accuracy", float("nan")) for r in self.history]
            plot_confusion(np.array(report["confusion_matrix"]),
                           self.out_dir / "confusion_matrix.png",
                           self.meta.get("class_names"))
            with open(self.out_dir / "report.json", "w") as f:
                json.dump(report, f, indent=1)
        plot_curves(losses, self.out_dir / "loss.png", title="loss")
        plot_curves(accs, self.out_dir / "accuracy.png", title="accuracy")


def _format_row(row):
    parts = [f"epoch {row['epoch']}"]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        if key in row:
            parts.append(f"{key} {row[key]:.4f}")
    parts.append(f"{row['images_per_s']:.0f} img/s")
    return "  ".join(parts)


def _progress(iterable, desc, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, desc=desc, leave=False, dynamic_ncols=True, mininterval=0.5,
                disable=not enabled or os.environ.get("MINICV_NO_PROGRESS") == "1")
