"""``minicv bench data``: images per second through the DataLoader.

The CIFAR-style training pipeline - random crop with 4-pixel zero padding, horizontal
flip, ToTensor, Normalize - on ``num_images`` random 32x32 RGB uint8 images held in
memory, batch 128, with 0, 1 and 2 worker processes. Beside it the same pipeline through
PyTorch's DataLoader when torch is installed, written without torchvision: the same
operations as direct NumPy code in a plain dataset class (no transform objects),
``torch.from_numpy`` at the end, torch's default collate and start method (fork).

Workers are persistent and warmed up by one epoch first, so the figures are the steady
state of training (worker start-up, ~0.3-1 s per loader, is not included). Each repeat
runs one epoch per contender, interleaved; the table gives medians.
"""
import time

import numpy as np

from .common import torch_or_none

COLUMNS = [("loader", "loader", "{}"), ("workers", "workers", "{}"),
           ("images_per_s", "images/s", "{:,.0f}"), ("vs_torch", "vs torch", "{:.2f}x")]

MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], np.float32)
BATCH = 128


def _augment(img, rng):
    """The reference per-sample NumPy pipeline of the PyTorch contender: the same
    operations as minicv's transforms, written directly (no framework around them), so
    the comparison measures the loaders, not two ways of cropping."""
    top, left = int(rng.integers(0, 9)) - 4, int(rng.integers(0, 9)) - 4
    out = np.zeros((32, 32, 3), np.uint8)                 # crop from the zero-padded image
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + 32, 32), min(left + 32, 32)
    out[y0 - top:y1 - top, x0 - left:x1 - left] = img[y0:y1, x0:x1]
    if rng.random() < 0.5:
        out = out[:, ::-1]
    x = np.empty((3, 32, 32), np.float32)
    x[...] = out.transpose(2, 0, 1)
    x *= np.float32(1 / 255)
    x -= MEAN[:, None, None]
    x /= STD[:, None, None]
    return x


class TorchCIFARStyle:
    """A dataset for torch's DataLoader: NumPy augmentation, torch tensors out."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import torch
        rng = np.random.default_rng() if not hasattr(self, "_rng") else self._rng
        self._rng = rng
        return torch.from_numpy(_augment(self.images[i], rng)), int(self.labels[i])


class MinicvCIFARStyle:
    """The same data through minicv.data.transforms."""

    def __init__(self, images, labels):
        from ..data import transforms as T
        self.images, self.labels = images, labels
        self.transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                                    T.ToTensor(), T.Normalize(MEAN, STD)])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def _epoch(loader):
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    return n


def bench_data(num_images=10240, repeats=5, workers=(0, 1, 2)):
    """Rows ``{loader, workers, images_per_s, vs_torch}``; medians of ``repeats``."""
    from ..data import DataLoader
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (num_images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, num_images)
    torch = torch_or_none(threads=1)
    loaders = {}
    for w in workers:
        loaders[("minicv", w)] = DataLoader(MinicvCIFARStyle(images, labels), BATCH,
                                            shuffle=True, num_workers=w, seed=0,
                                            persistent_workers=w > 0, drop_last=True)
        if torch is not None:
            loaders[("torch", w)] = torch.utils.data.DataLoader(
                TorchCIFARStyle(images, labels), BATCH, shuffle=True, num_workers=w,
                persistent_workers=w > 0, drop_last=True)
    times = {k: [] for k in loaders}
    for ld in loaders.values():                     # warm-up epoch (starts the workers)
        _epoch(ld)
    counts = {}
    for _ in range(repeats):
        for k, ld in loaders.items():
            t = time.perf_counter()
            counts[k] = _epoch(ld)
            times[k].append(time.perf_counter() - t)
    rows = []
    for (name, w), ts in times.items():
        ips = counts[(name, w)] / float(np.median(ts))
        rows.append({"loader": name, "workers": w, "images_per_s": ips})
    by = {(r["loader"], r["workers"]): r["images_per_s"] for r in rows}
    for r in rows:
        t = by.get(("torch", r["workers"]))
        r["vs_torch"] = r["images_per_s"] / t if t else None
    for ld in loaders.values():                     # stop persistent workers now
        it = getattr(ld, "_pool", None)
        if it is not None:
            it.shutdown()
    del loaders
    return rows


def main():
    from .common import machine, print_table
    print(f"machine: {machine()}")
    print_table("data: CIFAR-style pipeline, batch 128, images/s (median)", bench_data(),
                COLUMNS)


if __name__ == "__main__":
    main()
