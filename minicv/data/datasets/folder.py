"""``ImageFolder``: one subfolder per class, images decoded with Pillow.

    root/cat/001.png
    root/cat/002.jpg
    root/dog/xyz.jpeg

Classes are the subfolder names in sorted order (``class_to_idx``); samples are the
image files below each (recursively), sorted, as ``(path, class_index)``.
"""
import logging
import os

import numpy as np

from .base import LabelledImages

__all__ = ["ImageFolder", "IMG_EXTENSIONS", "pil_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff",
                  ".webp", ".gif")

log = logging.getLogger(__name__)


def pil_loader(path, mode="RGB"):
    """Decode ``path`` fully with Pillow and return an HWC (or HW for mode "L") uint8 array.

    Truncated and unreadable files raise ``RuntimeError`` naming the path.
    """
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()                  # decode now, so truncation shows up here
            return np.asarray(im.convert(mode))
    except (OSError, SyntaxError, ValueError) as e:   # PIL raises all three on bad files
        raise RuntimeError(f"cannot decode image file {path!r}: {type(e).__name__}: {e}. "
                           f"Delete or replace the file, or pass skip_corrupt=True") from e


class ImageFolder(LabelledImages):
    """Images in ``root/<class>/...``: samples are ``(image, class_index)``.

    Args:
        root: the folder with one subfolder per class.
        transform, target_transform: applied to the image (HWC uint8 ndarray) / label.
        extensions: file endings accepted (case-insensitive).
        mode: Pillow mode to convert to ("RGB" -> (H, W, 3), "L" -> (H, W)).
        skip_corrupt: if False (default), a file Pillow cannot decode raises a
            ``RuntimeError`` naming its path. If True, the file is logged (warning, once)
            and the next decodable sample is returned in its place, so an epoch still
            has ``len(self)`` samples; ``self.corrupt`` lists the paths skipped so far.
        loader: ``loader(path) -> image`` replacing Pillow decoding.
    """

    def __init__(self, root, transform=None, target_transform=None,
                 extensions=IMG_EXTENSIONS, mode="RGB", skip_corrupt=False, loader=None):
        self.root = os.fspath(root)
        self.transform = transform
        self.target_transform = target_transform
        self.extensions = tuple(e.lower() for e in extensions)
        self.mode = mode
        self.skip_corrupt = bool(skip_corrupt)
        self.loader = loader
        self.corrupt = []
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"ImageFolder: root {self.root!r} is not a folder")
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise ValueError(f"ImageFolder found no class subfolders in {self.root!r}; "
                             f"expected root/<class_name>/<image files>")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = []
        for c in self.classes:
            for dirpath, dirnames, filenames in sorted(os.walk(os.path.join(self.root, c))):
                dirnames.sort()
                for fn in sorted(filenames):
                    if fn.lower().endswith(self.extensions):
                        self.samples.append((os.path.join(dirpath, fn), self.class_to_idx[c]))
        if not self.samples:
            raise ValueError(
                f"ImageFolder found no images under {self.root!r} (class folders "
                f"{self.classes}); extensions scanned: {', '.join(self.extensions)}. Check "
                f"the path and pass extensions= if your files end differently")
        self.targets = np.array([t for _, t in self.samples], np.int64)

    def _load(self, path):
        if self.loader is not None:
            return self.loader(path)
        return pil_loader(path, self.mode)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        n = len(self.samples)
        for step in range(n):
            path, target = self.samples[(index + step) % n]
            try:
                img = self._load(path)
                break
            except RuntimeError as e:
                if not self.skip_corrupt:
                    raise RuntimeError(f"ImageFolder sample {index}: {e}") from e
                if path not in self.corrupt:
                    self.corrupt.append(path)
                    log.warning("ImageFolder: skipping corrupt image %s (%s)", path, e)
        else:
            raise RuntimeError(f"ImageFolder: every image under {self.root!r} failed to "
                               f"decode; corrupt files: {self.corrupt[:5]}...")
        return self._transformed(img, target)

    def __repr__(self):
        return (f"ImageFolder(root={self.root!r}, classes={len(self.classes)}, "
                f"n={len(self)})")
