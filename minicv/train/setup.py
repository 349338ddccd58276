"""Build the data sets, models and optimizers that ``minicv train`` names on its command
line. Each data set comes back as arrays-in-memory or a lazy ``Dataset`` producing
float32 (C, H, W) images normalised with the training set's per-channel mean and std."""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import (CIFAR10, MNIST, DataLoader, Dataset, FashionMNIST, ImageFolder, Shapes,
                    SynthDigits, TensorDataset)

DATASETS = ("synth-digits", "shapes", "mnist", "fashion-mnist", "cifar10", "imagefolder")


class SetupError(ValueError):
    """A command-line choice that cannot work (missing data directory, bad name...)."""


@dataclass
class DataBundle:
    train: Dataset
    val: Dataset
    num_classes: int
    in_channels: int
    image_size: tuple
    mean: list
    std: list
    class_names: list = field(default_factory=list)


class ShapesClassification(Dataset):
    """One shape per image from :class:`Shapes`: (3, S, S) float32 in [0, 1] and its class."""
    def __init__(self, n, seed, train, size=32):
        self.shapes = Shapes(n, seed=seed, train=train, size=size, num_objects=(1, 1),
                             object_size=(size * 0.35, size * 0.85))

    def __len__(self):
        return len(self.shapes)

    def __getitem__(self, i):
        s = self.shapes[i]
        return s["image"].transpose(2, 0, 1).astype(np.float32) / 255.0, int(s["labels"][0])


def _materialise(ds, to_float):
    """Read a whole (small) dataset into arrays once: epochs then cost no decoding."""
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    x = np.stack([to_float(a) for a in xs]).astype(np.float32)
    return x, np.asarray(ys, dtype=np.int64)


class Memoised(Dataset):
    """A generated data set whose samples are made on first use, normalised, and kept:
    training starts at once, the first epoch pays for generation as it goes, and later
    epochs read memory. (With loader workers each process would keep its own copy, so
    ``minicv train --workers N`` uses the plain data set instead.)"""
    def __init__(self, base, to_float, mean, std):
        self.base, self.to_float = base, to_float
        self.mean, self.std = mean[0], std[0]                 # (C, 1, 1)
        c, h, w = to_float(base[0][0]).shape
        self.x = np.empty((len(base), c, h, w), np.float32)
        self.y = np.empty(len(base), np.int64)
        self.done = np.zeros(len(base), bool)

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        if not self.done[i]:
            img, label = self.base[i]
            self.x[i] = (self.to_float(img) - self.mean) / self.std
            self.y[i] = label
            self.done[i] = True
        return self.x[i], self.y[i]


class Normalised(Dataset):
    """``(to_float(img) - mean) / std`` on the fly (for loader workers)."""
    def __init__(self, base, to_float, mean, std):
        self.base, self.to_float, self.mean, self.std = base, to_float, mean[0], std[0]

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        img, label = self.base[i]
        return ((self.to_float(img) - self.mean) / self.std).astype(np.float32), label


def _sample_stats(ds, to_float, n=512):
    """Per-channel mean and std from the first ``n`` samples, shaped (1, C, 1, 1)."""
    x = np.stack([to_float(ds[i][0]) for i in range(min(n, len(ds)))])
    return x.mean(axis=(0, 2, 3), keepdims=True), x.std(axis=(0, 2, 3), keepdims=True) + 1e-6


def _gray(a):
    a = np.asarray(a)
    a = a[None] if a.ndim == 2 else a
    return a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)


def _rgb(a):
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[-1] in (1, 3):
        a = a.transpose(2, 0, 1)
    return a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)


def _need_dir(name, data_dir):
    if data_dir is None:
        raise SetupError(f"--dataset {name} reads files you have: give --data-dir DIR "
                         f"(minicv downloads nothing)")
    if not Path(data_dir).is_dir():
        raise SetupError(f"data directory not found: {data_dir}")
    return Path(data_dir)


def _synthetic(name, train_size, val_size, seed, image_size):
    """(train set, val set, to-float converter, class names) of a generated data set."""
    if name == "synth-digits":
        return (SynthDigits(train_size or 24000, seed=seed, train=True),
                SynthDigits(val_size or 4000, seed=seed, train=False), _gray,
                [str(d) for d in range(10)])
    s = image_size or 32
    return (ShapesClassification(train_size or 8000, seed, True, s),
            ShapesClassification(val_size or 1000, seed, False, s), _rgb,
            list(Shapes.classes))


def _arrays(name, data_dir, train_size, val_size, seed, image_size):
    """(x_train, y_train, x_val, y_val, class_names) as float32 NCHW in [0, 1]."""
    if name in ("synth-digits", "shapes"):
        tr, va, conv, names = _synthetic(name, train_size, val_size, seed, image_size)
        return _materialise(tr, conv) + _materialise(va, conv) + (names,)
    if name in ("mnist", "fashion-mnist", "cifar10"):
        root = _need_dir(name, data_dir)
        cls = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}[name]
        conv = _rgb if name == "cifar10" else _gray
        try:
            tr_ds, va_ds = cls(root, train=True), cls(root, train=False)
        except (FileNotFoundError, ValueError) as e:
            raise SetupError(str(e).splitlines()[0]) from None
        tr, va = _materialise(tr_ds, conv), _materialise(va_ds, conv)
        if train_size:
            tr = (tr[0][:train_size], tr[1][:train_size])
        if val_size:
            va = (va[0][:val_size], va[1][:val_size])
        names = getattr(tr_ds, "classes", None) or [str(i) for i in range(int(tr[1].max()) + 1)]
        return tr + va + (list(names),)
    if name == "imagefolder":
        return _imagefolder(_need_dir(name, data_dir), val_size, seed, image_size)
    raise SetupError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def _imagefolder(root, val_size, seed, image_size):
    """``root/train`` and ``root/val`` if both exist, else a seeded 90/10 split of root."""
    size = image_size or 32
    from PIL import Image

    def load(folder):
        try:
            ds = ImageFolder(folder)
        except (FileNotFoundError, ValueError) as e:
            raise SetupError(str(e).splitlines()[0]) from None
        xs, ys = [], []
        for i in range(len(ds)):
            img, y = ds[i]
            img = Image.fromarray(np.asarray(img)) if not hasattr(img, "resize") else img
            xs.append(_rgb(np.asarray(img.convert("RGB").resize((size, size)))))
            ys.append(y)
        return np.stack(xs), np.asarray(ys, np.int64), list(ds.classes)
    if (root / "train").is_dir() and (root / "val").is_dir():
        xt, yt, names = load(root / "train")
        xv, yv, _ = load(root / "val")
        return xt, yt, xv, yv, names
    x, y, names = load(root)
    order = np.random.default_rng(seed).permutation(len(y))
    nv = val_size or max(1, len(y) // 10)
    v, t = order[:nv], order[nv:]
    return x[t], y[t], x[v], y[v], names


def _generated(name, train_size, val_size, seed, image_size, lazy_cache, stats):
    """The synthetic sets, generated sample by sample (statistics from 512 samples)."""
    tr, va, conv, names = _synthetic(name, train_size, val_size, seed, image_size)
    mean, std = _sample_stats(tr, conv) if stats is None else _shaped(stats)
    wrap = Memoised if lazy_cache else Normalised
    c, h, w = conv(tr[0][0]).shape
    return DataBundle(wrap(tr, conv, mean, std), Memoised(va, conv, mean, std), len(names),
                      c, (h, w), mean.ravel().tolist(), std.ravel().tolist(), names)


def _shaped(stats):
    """(mean, std) lists from a checkpoint as (1, C, 1, 1) float32 arrays."""
    return tuple(np.asarray(v, np.float32).reshape(1, -1, 1, 1) for v in stats)


def build_data(name, data_dir=None, train_size=None, val_size=None, seed=0, image_size=None,
               lazy=False, workers=0, stats=None):
    """Normalised train/val sets for ``name`` (see ``DATASETS``).

    Files are read into memory at once. Synthetic sets are materialised too, unless
    ``lazy``: then samples are generated on first use (and kept, when ``workers == 0``),
    so training starts within a second. ``stats`` = (mean, std) per channel normalises
    with a trained model's statistics (``minicv eval``) instead of the training set's.
    """
    if lazy and name in ("synth-digits", "shapes"):
        return _generated(name, train_size, val_size, seed, image_size, workers == 0, stats)
    xt, yt, xv, yv, names = _arrays(name, data_dir, train_size, val_size, seed, image_size)
    if stats is None:
        mean = xt.mean(axis=(0, 2, 3), keepdims=True)
        std = xt.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    else:
        mean, std = _shaped(stats)
    xt, xv = (xt - mean) / std, (xv - mean) / std
    return DataBundle(TensorDataset(xt, yt), TensorDataset(xv, yv), len(names), xt.shape[1],
                      tuple(xt.shape[2:]), mean.ravel().tolist(), std.ravel().tolist(),
                      names)


def make_loaders(bundle, batch_size, workers=0):
    """Shuffling draws from minicv's global generator (seeded by ``mc.manual_seed`` and
    saved in every checkpoint), so a resumed run sees the same batches as an
    uninterrupted one."""
    train = DataLoader(bundle.train, batch_size=batch_size, shuffle=True,
                       num_workers=workers, drop_last=len(bundle.train) > batch_size)
    val = DataLoader(bundle.val, batch_size=max(batch_size, 256), num_workers=0)
    return train, val


def build_optimizer(name, params, lr, weight_decay=0.0, momentum=0.9):
    from .. import optim
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=momentum > 0)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay or 1e-2)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise SetupError(f"unknown optimizer {name!r}; choose from sgd, adam, adamw, rmsprop")


def build_scheduler(name, optimizer, epochs, steps_per_epoch):
    """The schedule named on the command line: per epoch, except ``onecycle``, which the
    Trainer steps after every batch (``epochs * steps_per_epoch`` steps in all)."""
    from ..optim import lr_scheduler as S
    if name in (None, "none"):
        return None
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        return S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, patience=1, factor=0.3)
    if name == "onecycle":
        max_lr = [g["lr"] for g in optimizer.param_groups]
        return S.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    raise SetupError(f"unknown scheduler {name!r}; choose from none, cosine, step, plateau, "
                     f"onecycle")
