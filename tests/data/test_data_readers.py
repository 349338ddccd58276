"""Readers: tiny files in each real format, written and read back."""
import gzip
import logging
import os
import pickle

import numpy as np
import pytest

from minicv.data import CIFAR10, CIFAR100, FashionMNIST, ImageFolder, MNIST
from minicv.data.datasets.cifar import write_cifar_bin, write_cifar_python
from minicv.data.datasets.mnist import read_idx, write_idx


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_round_trip(tmp_path, gz):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    ext = ".gz" if gz else ""
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}", imgs)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{ext}", labels)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 5 and np.array_equal(ds.data, imgs)
    img, y = ds[2]
    assert img.dtype == np.uint8 and np.array_equal(img, imgs[2]) and y == 4
    same = MNIST(tmp_path, False, None, None, True)      # torchvision's positional download
    assert np.array_equal(same.data, imgs)
    fm = FashionMNIST(tmp_path, train=False, target_transform=lambda t: t * 10)
    assert fm[0][1] == 30 and fm.classes[0] == "T-shirt/top"


def test_mnist_rejects_bad_files(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((3,), np.uint8))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        MNIST(tmp_path)
    bad = tmp_path / "swapped"
    bad.mkdir()
    write_idx(bad / "train-images-idx3-ubyte", np.zeros((2,), np.uint8))
    write_idx(bad / "train-labels-idx1-ubyte", np.zeros((2,), np.uint8))
    with pytest.raises(ValueError, match="magic number 0x00000801 says 1 dimensions"):
        MNIST(bad)
    raw = (bad / "train-labels-idx1-ubyte").read_bytes()
    (bad / "x.gz").write_bytes(gzip.compress(raw[:-1]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(bad / "x.gz")
    with pytest.raises(FileNotFoundError, match="does not download"):
        MNIST(tmp_path / "nowhere", download=True)


def test_cifar10_and_100_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    write_cifar_bin(folder / "test_batch.bin", imgs, [0, 9, 2, 3])
    ds = CIFAR10(tmp_path, train=False, download=True)
    assert np.array_equal(ds.data, imgs) and ds[1][1] == 9
    # the file layout is label byte, then the R, G, B planes
    raw = (folder / "test_batch.bin").read_bytes()
    assert raw[0] == 0 and raw[1] == imgs[0, 0, 0, 0] and raw[1 + 1024] == imgs[0, 0, 0, 1]
    write_cifar_bin(tmp_path / "train.bin", imgs, [[1, 11], [2, 22], [3, 33], [19, 99]])
    fine = CIFAR100(tmp_path, train=True)
    coarse = CIFAR100(tmp_path, train=True, label_type="coarse", download=True)
    assert fine.targets.tolist() == [11, 22, 33, 99] and coarse[3][1] == 19
    assert np.array_equal(fine[2][0], imgs[2])
    (tmp_path / "test.bin").write_bytes(b"\x00" * 3073)
    with pytest.raises(ValueError, match="3074-byte record"):
        CIFAR100(tmp_path, train=False)


def test_cifar_python_version_is_read_without_running_code(tmp_path):
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    write_cifar_python(folder / "test_batch", imgs, [0, 9, 2, 3])
    ds = CIFAR10(tmp_path, train=False, download=True)
    assert ds.targets.tolist() == [0, 9, 2, 3] and np.array_equal(ds[1][0], imgs[1])
    py100 = tmp_path / "c100" / "cifar-100-python"
    py100.mkdir(parents=True)
    write_cifar_python(py100 / "train", imgs, [[1, 11], [2, 22], [3, 33], [19, 99]],
                       ("coarse_labels", "fine_labels"))
    assert CIFAR100(tmp_path / "c100").targets.tolist() == [11, 22, 33, 99]
    assert CIFAR100(tmp_path / "c100", label_type="coarse")[3][1] == 19

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": Evil(), "labels": [0]}, f)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        CIFAR10(tmp_path, train=False)


def _write_images(root, names):
    from PIL import Image
    rng = np.random.default_rng(2)
    for cls, files in names.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for f in files:
            Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(root / cls / f)


def test_image_folder_round_trip(tmp_path):
    from PIL import Image
    _write_images(tmp_path, {"dog": ["b.png", "a.png"], "cat": ["z.bmp"]})
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and len(ds) == 3
    assert [s[0].split("/")[-1] for s in ds.samples] == ["z.bmp", "a.png", "b.png"]
    img, y = ds[1]
    assert y == 1 and img.shape == (6, 5, 3) and img.dtype == np.uint8
    assert np.array_equal(img, np.asarray(Image.open(tmp_path / "dog" / "a.png")))
    assert ImageFolder(tmp_path, mode="L")[0][0].shape == (6, 5)


def test_image_folder_corrupt_file_raises_or_is_skipped(tmp_path, caplog):
    _write_images(tmp_path, {"a": ["0.png", "2.png"]})
    good = (tmp_path / "a" / "0.png").read_bytes()
    (tmp_path / "a" / "1.png").write_bytes(good[: len(good) // 2])      # truncated
    ds = ImageFolder(tmp_path)
    with pytest.raises(RuntimeError, match=r"1\.png"):
        ds[1]
    skip = ImageFolder(tmp_path, skip_corrupt=True)
    with caplog.at_level(logging.WARNING):
        img, _ = skip[1]
    assert img.shape == (6, 5, 3) and skip.corrupt == [str(tmp_path / "a" / "1.png")]
    assert "1.png" in caplog.text


def test_image_folder_empty_lists_root_and_extensions(tmp_path):
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match=r"no images under .*extensions scanned: \.jpg"):
        ImageFolder(tmp_path)
    with pytest.raises(ValueError, match="no class subfolders"):
        ImageFolder(tmp_path / "cls")
