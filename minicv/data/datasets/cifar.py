"""CIFAR-10 and CIFAR-100, binary version (``*-binary.tar.gz``) or Python version
(``*-python.tar.gz``, the one torchvision downloads).

Binary version: each file is a sequence of fixed-size records:

* CIFAR-10  (``cifar-10-batches-bin/``): 1 label byte + 3072 pixel bytes; training files
  ``data_batch_1.bin`` ... ``data_batch_5.bin``, test file ``test_batch.bin``.
* CIFAR-100 (``cifar-100-binary/``): 1 coarse label byte + 1 fine label byte + 3072 pixel
  bytes; ``train.bin`` and ``test.bin``.

The 3072 pixel bytes are the red plane, then green, then blue, each 32x32 row-major, so
an image is ``record[-3072:].reshape(3, 32, 32).transpose(1, 2, 0)`` (HWC).

Python version (``cifar-10-batches-py/data_batch_1`` ..., ``cifar-100-python/train``): each
file is a pickled dict with ``data`` (N, 3072) uint8 in the same plane order and
``labels`` (CIFAR-10) or ``coarse_labels``/``fine_labels`` (CIFAR-100). It is read with
an unpickler that only rebuilds NumPy arrays, so a file cannot run code
(:func:`read_python_batch`).
"""
import os
import pickle

import numpy as np

from .base import LabelledImages

__all__ = ["CIFAR10", "CIFAR100", "write_cifar_bin", "write_cifar_python", "read_python_batch"]

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


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds dicts, lists, strings, numbers and NumPy arrays; refuses every other
    global, so a pickle cannot call arbitrary code."""
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
                ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR batch holds only arrays, "
                f"lists and strings (is this file really a CIFAR Python batch?)")
        if module.startswith("numpy") and name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct   # numpy.core is an alias
            return _reconstruct
        return super().find_class(module, name)


def read_python_batch(path, label_keys):
    """Images (N, 32, 32, 3) uint8 and labels (N, len(label_keys)) int64 from one
    Python-version CIFAR file (a pickled dict, read without running code)."""
    with open(path, "rb") as f:
        batch = _ArraysOnly(f, encoding="latin1").load()
    if not isinstance(batch, dict) or "data" not in batch:
        raise ValueError(f"{path} is not a CIFAR Python batch: expected a dict with 'data' "
                         f"and {list(label_keys)}")
    data = np.asarray(batch["data"], np.uint8).reshape(-1, _PIXELS)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.stack([np.asarray(batch[k], np.int64) for k in label_keys], axis=1)
    return np.ascontiguousarray(images), labels


def write_cifar_python(path, images, labels, label_keys=("labels",)):
    """Write (N, 32, 32, 3) uint8 images and label columns as a Python-version batch."""
    images = np.asarray(images, np.uint8)
    labels = np.asarray(labels, np.int64).reshape(len(images), -1)
    batch = {"data": images.transpose(0, 3, 1, 2).reshape(len(images), _PIXELS)}
    batch.update({k: labels[:, i].tolist() for i, k in enumerate(label_keys)})
    with open(path, "wb") as f:
        pickle.dump(batch, f)


class _CIFAR(LabelledImages):
    folder = ""
    train_files = []
    test_files = []
    label_bytes = 1
    num_classes = 10
    py_folder = ""                      # the Python version's folder, files and keys
    py_train_files = []
    py_test_files = []
    py_label_keys = ()

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        # download: torchvision's argument, accepted; minicv never downloads (the files
        # must be there, the error says where it looked)
        self._setup(root, train, transform, target_transform)
        images, labels = [], []
        binary = self.train_files if train else self.test_files
        python = self.py_train_files if train else self.py_test_files
        use_python = (not self._exists(binary[0], self.folder)
                      and self._exists(python[0], self.py_folder))
        for name in (python if use_python else binary):
            if use_python:
                im, lab = read_python_batch(self._find(name, self.py_folder),
                                            self.py_label_keys)
            else:
                im, lab = _read_records(self._find(name), self.label_bytes)
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

    def _candidates(self, name, folder):
        return [os.path.join(self.root, name), os.path.join(self.root, folder, name)]

    def _exists(self, name, folder):
        return any(os.path.isfile(p) for p in self._candidates(name, folder))

    def _find(self, name, folder=None):
        tried = self._candidates(name, self.folder if folder is None else folder)
        for path in tried:
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(f"{type(self).__name__}: {name} not found; looked for "
                                f"{tried}. minicv does not download data: unpack the binary "
                                f"or the Python version there")


class CIFAR10(_CIFAR):
    """CIFAR-10: (32, 32, 3) uint8 HWC images, labels 0-9. ``data``: (N, 32, 32, 3)."""
    folder = "cifar-10-batches-bin"
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]
    label_bytes = 1
    num_classes = 10
    py_folder = "cifar-10-batches-py"
    py_train_files = [f"data_batch_{i}" for i in range(1, 6)]
    py_test_files = ["test_batch"]
    py_label_keys = ("labels",)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]


class CIFAR100(_CIFAR):
    """CIFAR-100: (32, 32, 3) uint8 images; ``label_type="fine"`` (100 classes, default)
    or ``"coarse"`` (20 superclasses)."""
    folder = "cifar-100-binary"
    train_files = ["train.bin"]
    test_files = ["test.bin"]
    label_bytes = 2
    py_folder = "cifar-100-python"
    py_train_files = ["train"]
    py_test_files = ["test"]
    py_label_keys = ("coarse_labels", "fine_labels")     # the binary files' column order

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False, label_type="fine"):
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"label_type must be 'fine' or 'coarse', got {label_type!r}")
        self.label_type = label_type
        self.num_classes = 100 if label_type == "fine" else 20
        super().__init__(root, train, transform, target_transform, download)

    def _select_targets(self):
        return self._labels[:, 1 if self.label_type == "fine" else 0]
