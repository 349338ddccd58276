"""MNIST and Fashion-MNIST from their IDX files (nothing is downloaded).

The IDX format (LeCun et al.) is a big-endian header followed by raw values:

    bytes 0-1  zero          byte 2  value type (0x08 = uint8)   byte 3  number of dims
    then one uint32 per dim (e.g. 60000, 28, 28), then the values in C order.

Images are ``idx3`` (magic 0x00000803), labels ``idx1`` (magic 0x00000801). Files may be
raw or gzip-compressed (``.gz``). Point ``root`` at the folder holding the four files
(torchvision's ``root/MNIST/raw`` layout is found too).
"""
import gzip
import os

import numpy as np

from .base import LabelledImages

__all__ = ["MNIST", "FashionMNIST", "read_idx", "write_idx"]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}


def _open(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path, expect_ndim=None):
    """Read an IDX file (raw or gzip) into an ndarray, checking magic number and size."""
    with _open(path) as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: it should start with two zero bytes "
                         f"and a type byte, got {raw[:4]!r}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX value type 0x{code:02x}")
    if expect_ndim is not None and ndim != expect_ndim:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(f"{path}: magic number 0x{magic:08x} says {ndim} dimensions, "
                         f"expected {expect_ndim} (0x{0x800 + expect_ndim:08x}); images "
                         f"and label files swapped?")
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: header says shape {shape} ({expected} bytes with the "
                         f"header) but the file has {len(raw)} bytes: truncated or corrupt")
    arr = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write a uint8/int8 array as an IDX file (gzip-compressed if ``path`` ends in .gz)."""
    array = np.ascontiguousarray(array)
    if array.dtype not in _TYPE_CODES:
        raise TypeError(f"write_idx supports uint8 and int8 arrays, got {array.dtype}")
    head = bytes([0, 0, _TYPE_CODES[array.dtype], array.ndim])
    head += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(head + array.tobytes())


class MNIST(LabelledImages):
    """The MNIST digits: 28x28 uint8 grey images and int labels 0-9.

    Args:
        root: folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally
            ``.gz``), or with ``<root>/<ClassName>/raw/`` holding them.
        train: the 60,000 training images, else the 10,000 test images.
        transform, target_transform: applied to the image (a (28, 28) uint8 ndarray)
            and to the label (an int).
        download: accepted for torchvision's signature; minicv never downloads, so the
            files must already be there (the error says where it looked).

    ``data`` is the (N, 28, 28) uint8 array, ``targets`` the (N,) int64 labels.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self._setup(root, train, transform, target_transform)
        prefix = "train" if train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte")
        labels = self._find(f"{prefix}-labels-idx1-ubyte")
        self.data = read_idx(images, expect_ndim=3)
        self.targets = read_idx(labels, expect_ndim=1).astype(np.int64)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{images} holds {len(self.data)} images but {labels} holds "
                             f"{len(self.targets)} labels")
        if self.targets.size and self.targets.max() >= len(self.classes):
            raise ValueError(f"{labels}: label {self.targets.max()} is outside "
                             f"[0, {len(self.classes) - 1}]")

    def _find(self, stem):
        folders = [self.root, os.path.join(self.root, type(self).__name__, "raw")]
        tried = []
        for folder in folders:
            for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
                path = os.path.join(folder, name)
                tried.append(path)
                if os.path.isfile(path):
                    return path
        raise FileNotFoundError(
            f"{type(self).__name__}: no {stem}[.gz] found; looked for {tried}. minicv does "
            f"not download data: place the IDX files there, or use SynthDigits")


class FashionMNIST(MNIST):
    """Fashion-MNIST: same IDX format and file names as :class:`MNIST`, ten clothing
    classes."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
