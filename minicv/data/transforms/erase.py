"""Occlusion augmentations: cut parts of the image out (boxes and masks unchanged)."""
import numbers

import numpy as np

from .base import Transform

__all__ = ["RandomErasing", "RandomOcclusion"]


def _fill_value(value, shape, dtype, rng):
    """What goes into the erased (h, w[, C]) region: uint8 noise is uniform on 0..255,
    float noise standard normal (torchvision's, meant for normalised tensors)."""
    if isinstance(value, str):
        if dtype == np.uint8:
            return rng.integers(0, 256, shape, dtype=np.uint8)
        return rng.standard_normal(shape, np.float32).astype(dtype)
    v = np.asarray(value, dtype)
    channels = shape[2] if len(shape) == 3 else 1
    if v.ndim and v.size not in (1, channels):
        raise ValueError(f"RandomErasing value must have 1 or {channels} (the image's "
                         f"channels) entries, got {value!r}")
    return v.reshape(-1) if v.ndim else v


class RandomErasing(Transform):
    """Cutout / random erasing (Zhong et al. 2017): with probability ``p`` fill one
    rectangle of area fraction in ``scale`` and aspect ratio (h / w) in ``ratio``
    (log-uniform) with ``value``: a number, one per channel, or "random" (standard
    normal noise on float images, as torchvision; uniform 0..255 on uint8). Works before
    or after ToTensor. Up to 10 tries to fit the rectangle, else the image is unchanged.
    ``inplace=True`` writes into the input (ndarray or Tensor) instead of a copy.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False,
                 generator=None):
        super().__init__(generator)
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or ratio[0] <= 0:
            raise ValueError(f"scale and ratio must be (min, max), got {scale}, {ratio}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"value must be a number, a per-channel tuple or 'random', "
                             f"got {value!r}")
        self.p, self.scale, self.ratio, self.value = float(p), tuple(scale), tuple(ratio), \
            value
        self.inplace = bool(inplace)

    def get_params(self, h, w):
        rng = self.rng()
        if rng.random() >= self.p:
            return None
        for _ in range(10):
            area = h * w * rng.uniform(*self.scale)
            ar = np.exp(rng.uniform(np.log(self.ratio[0]), np.log(self.ratio[1])))
            eh, ew = int(round(np.sqrt(area * ar))), int(round(np.sqrt(area / ar)))
            if 0 < eh < h and 0 < ew < w:
                return int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1)), \
                    eh, ew, rng
        return None

    def image(self, img, p):
        if p is None:
            return img
        top, left, eh, ew, rng = p
        out = img if self.inplace and img.flags.writeable else img.copy()
        region = out[top:top + eh, left:left + ew]
        region[...] = _fill_value(self.value, region.shape, img.dtype, rng)
        return out


class RandomOcclusion(Transform):
    """Occluders: with probability ``p`` paste ``num`` (min, max) rectangles whose sides
    are fractions ``size`` (min, max) of the image side, filled with noise
    (``fill="noise"``), the image mean (``"mean"``) or a random solid colour
    (``"color"``). Teaches a model that objects may be partly hidden."""

    def __init__(self, p=0.5, num=(1, 3), size=(0.1, 0.3), fill="color", generator=None):
        super().__init__(generator)
        if fill not in ("noise", "mean", "color") and not isinstance(fill, numbers.Number):
            raise ValueError(f"fill must be 'noise', 'mean', 'color' or a number, got {fill!r}")
        if not 1 <= num[0] <= num[1] or not 0 < size[0] <= size[1] <= 1:
            raise ValueError(f"need 1 <= num[0] <= num[1] and 0 < size[0] <= size[1] <= 1, "
                             f"got num={num}, size={size}")
        self.p, self.num, self.size, self.fill = float(p), tuple(num), tuple(size), fill

    def get_params(self, h, w):
        rng = self.rng()
        if rng.random() >= self.p:
            return None
        k = int(rng.integers(self.num[0], self.num[1] + 1))
        rects = []
        for _ in range(k):
            eh = max(1, int(h * rng.uniform(*self.size)))
            ew = max(1, int(w * rng.uniform(*self.size)))
            rects.append((int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1)),
                          eh, ew))
        return rects, rng

    def image(self, img, p):
        if p is None:
            return img
        rects, rng = p
        out = img.copy()
        top_val = 255 if img.dtype == np.uint8 else 1.0
        for top, left, eh, ew in rects:
            region = out[top:top + eh, left:left + ew]
            if self.fill == "noise":
                region[...] = (rng.random(region.shape, np.float32) * top_val).astype(img.dtype)
            elif self.fill == "mean":
                region[...] = img.mean(axis=(0, 1)).astype(img.dtype)
            elif self.fill == "color":
                c = rng.random(img.shape[2:] if img.ndim == 3 else ()) * top_val
                region[...] = np.asarray(c).astype(img.dtype)
            else:
                region[...] = self.fill
        return out
