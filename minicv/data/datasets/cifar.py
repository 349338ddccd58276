"""CIFAR-10 and CIFAR-100, binary version (the ``*-binary.tar.gz`` archives; no pickle).

Each file is a sequence of fixed-size records:

* CIFAR-10  (``cifar-10-batches-bin/``): 1 label byte + 3072 pixel bytes; training files
  ``data_batch_1.bin`` ... ``data_batch_5.bin``, test file ``test_batch.bin``.
* CIFAR-100 (``cifar-100-binary/``): 1 coarse label byte + 1 fine label byte + 3072 pixel
  bytes; ``train.bin`` and ``test.bin``.

The 3072 pixel bytes are the red plane, then green, then blue, each 32x32 row-major, so
an image is ``record[-3072:].reshape(3, 32, 32).transpose(1, 2, 0)`` (HWC).
"""
import os

import numpy as np

from .base import LabelledImages

__all__ = ["CIFAR10", "CIFAR100", "write_cifar_bin"]

_PIXELS = 3 * 32 * 32


def write_cifar_bin(path, images, labels):
    """Write (N, 32, 32, 3) uint8 images and label columns ((N,) or (N, 2) for CIFAR-100
    coarse+fine) as a CIFAR binary file."""
    images = np.asarray(images, np.uint8)
    labels = np.asarray(labels, np.uint8).reshape(len(images), -1)
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), _PIXELS)
    with open(path, "wb") as f:
        f.write(np.concatenate([labels, planes], axis=1).tobytes())


def _read_records(path, label_bytes):
    size = os.path.getsize(path)
    rec = label_bytes + _PIXELS
    if size == 0 or size % rec:
        raise ValueError(f"{path} has {size} bytes, not a positive multiple of the "
                         f"{rec}-byte record ({label_bytes} label byte(s) + 3072 pixels); "
                         f"is it the binary version, and CIFAR-"
                         f"{'10' if label_bytes == 1 else '100'}?")
    raw = np.fromfile(path, np.uint8).reshape(-1, rec)
    images = raw[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), raw[:, :label_bytes].astype(np.int64)


class _CIFAR(LabelledImages):
    folder = ""
    train_files = []
    test_files = []
    label_bytes = 1
    num_classes = 10

    def __init__(self, root, train=True, transform=None, target_transform=None):
        self._setup(root, train, transform, target_transform)
        images, labels = [], []
        for name in (self.train_files if train else self.test_files):
            path = self._find(name)
            im, lab = _read_records(path, self.label_bytes)
            images.append(im)
            labels.append(lab)
        self.data = np.concatenate(images)                   # (N, 32, 32, 3) uint8
        self._labels = np.concatenate(labels)
        self.targets = self._select_targets()
        if self.targets.size and self.targets.max() >= self.num_classes:
            raise ValueError(f"{type(self).__name__}: label {self.targets.max()} is "
                             f"outside [0, {self.num_classes - 1}]: wrong data set or "
                             f"corrupt file under {self.root}")

    def _select_targets(self):
        return self._labels[:, 0]

    def _find(self, name):
        tried = [os.path.join(self.root, name), os.path.join(self.root, self.folder, name)]
        for path in tried:
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(f"{type(self).__name__}: {name} not found; looked for "
                                f"{tried}. minicv does not download data: unpack the binary "
                                f"version there")


class CIFAR10(_CIFAR):
    """CIFAR-10: (32, 32, 3) uint8 HWC images, labels 0-9. ``data``: (N, 32, 32, 3)."""
    folder = "cifar-10-batches-bin"
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]
    label_bytes = 1
    num_classes = 10
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]


class CIFAR100(_CIFAR):
    """CIFAR-100: (32, 32, 3) uint8 images; ``label_type="fine"`` (100 classes, default)
    or ``"coarse"`` (20 superclasses)."""
    folder = "cifar-100-binary"
    train_files = ["train.bin"]
    test_files = ["test.bin"]
    label_bytes = 2

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 label_type="fine"):
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"label_type must be 'fine' or 'coarse', got {label_type!r}")
        self.label_type = label_type
        self.num_classes = 100 if label_type == "fine" else 20
        super().__init__(root, train, transform, target_transform)

    def _select_targets(self):
        return self._labels[:, 1 if self.label_type == "fine" else 0]
