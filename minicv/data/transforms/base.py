"""The transform protocol shared by every augmentation.

A transform is called on

* an image: an ``ndarray`` (H, W) or (H, W, C) (uint8 in [0, 255] or float in [0, 1]),
  a PIL image, or a minicv ``Tensor`` (C, H, W); it returns the same kind; or
* a sample dict (or :class:`Sample`) with key ``"image"`` and optionally ``"boxes"``
  ((K, 4) xyxy in pixel-edge coordinates: the image spans [0, W] x [0, H]),
  ``"labels"`` ((K,)) and ``"masks"`` ((K, H, W) instance masks or an (H, W) label map).
  Geometric transforms move all of them together; boxes are clipped to the image, and a
  box that vanishes (zero width or height) is dropped with its label and its mask.

Randomness: a transform draws from ``generator`` if you gave one (an int seed or a
``numpy.random.Generator``), else from minicv's global generator at call time, which
inside a DataLoader worker is reseeded per worker and per epoch. Give a generator only
for single-process use: each worker receives a *copy* of it, so all workers would then
draw the same numbers.

Writing one: subclass :class:`Transform`, draw random parameters in
``get_params(h, w)`` (return anything), and apply them in ``image(img, p)`` and, for
geometric transforms, ``boxes(b, p, h, w)`` and ``mask(m, p)``.
"""
import numpy as np

from ... import backend as _backend
from ...backend import as_generator
from ...tensor import Tensor

__all__ = ["Transform", "Compose", "Sample", "RandomApply", "RandomChoice", "RandomOrder",
           "Lambda"]


class Sample(dict):
    """A dict with keys ``image``, ``boxes``, ``labels``, ``masks`` (any subset but
    ``image``); ``Sample(image=img, boxes=b, labels=l)``."""


def _is_tensor(x):
    return isinstance(x, Tensor)


def _is_pil(x):
    return hasattr(x, "getpixel") and hasattr(x, "mode")


def to_array(img):
    """(array in HWC / HW layout, function that converts a result back to img's kind)."""
    if isinstance(img, np.ndarray):
        return img, lambda a: a
    if _is_tensor(img):
        data = img.data
        if data.ndim == 3:
            return data.transpose(1, 2, 0), \
                lambda a: Tensor(np.ascontiguousarray(a.transpose(2, 0, 1)
                                                      if a.ndim == 3 else a[None]))
        if data.ndim == 2:
            return data, lambda a: Tensor(np.ascontiguousarray(a))
        raise ValueError(f"a Tensor image must be (C, H, W) or (H, W), got {data.shape}")
    if _is_pil(img):
        from PIL import Image
        return np.asarray(img), lambda a: Image.fromarray(np.ascontiguousarray(a))
    raise TypeError(f"transforms take an ndarray (H, W[, C]), a PIL image, a Tensor "
                    f"(C, H, W) or a dict with 'image'; got {type(img).__name__}")


def check_image(a):
    if a.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {a.shape}; a "
                         f"batch? apply transforms per sample in the Dataset")
    return a


class Transform:
    """Base class: handles the input kinds and the dict plumbing (see module docstring)."""

    geometric = False

    def __init__(self, generator=None):
        self.generator = as_generator(generator)

    def rng(self):
        """The generator to draw from now."""
        if self.generator is not None:
            return self.generator
        return _backend.get_rng()

    # -- to override
    def get_params(self, h, w):
        return None

    def image(self, img, p):
        raise NotImplementedError

    def boxes(self, boxes, p, h, w):
        return boxes

    def mask(self, mask, p):
        return mask

    # -- plumbing
    def __call__(self, x):
        if type(x) is np.ndarray and 2 <= x.ndim <= 3:          # the hot path: no wrapping
            return self.image(x, self.get_params(x.shape[0], x.shape[1]))
        if isinstance(x, dict):
            return self._call_dict(x)
        arr, back = to_array(x)
        check_image(arr)
        p = self.get_params(arr.shape[0], arr.shape[1])
        return back(self.image(arr, p))

    def _call_dict(self, x):
        if "image" not in x:
            raise ValueError(f"a sample dict needs an 'image' key, got keys {list(x)}")
        out = type(x)(x)
        arr, back = to_array(x["image"])
        check_image(arr)
        h, w = arr.shape[:2]
        p = self.get_params(h, w)
        new = self.image(arr, p)
        out["image"] = back(new)
        if not self.geometric:
            return out
        keep = None
        if x.get("boxes") is not None:
            b = np.asarray(getattr(x["boxes"], "data", x["boxes"]), np.float32).reshape(-1, 4)
            nb = self.boxes(b, p, h, w)
            nh, nw = new.shape[:2]
            nb = np.stack([np.clip(nb[:, 0], 0, nw), np.clip(nb[:, 1], 0, nh),
                           np.clip(nb[:, 2], 0, nw), np.clip(nb[:, 3], 0, nh)], 1) \
                if len(nb) else nb.reshape(0, 4)
            keep = (nb[:, 2] > nb[:, 0]) & (nb[:, 3] > nb[:, 1])
            out["boxes"] = nb[keep].astype(np.float32)
            if x.get("labels") is not None:
                out["labels"] = np.asarray(getattr(x["labels"], "data", x["labels"]))[keep]
        if x.get("masks") is not None:
            m = np.asarray(getattr(x["masks"], "data", x["masks"]))
            if m.ndim == 2:
                out["masks"] = self.mask(m, p)
            else:
                moved = np.stack([self.mask(mi, p) for mi in m]) if len(m) else \
                    np.zeros((0,) + new.shape[:2], m.dtype)
                if keep is not None and len(moved) == len(keep):
                    moved = moved[keep]
                out["masks"] = moved
        return out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())
        return f"{type(self).__name__}({args})"

    def _repr_args(self):
        return {k: v for k, v in vars(self).items()
                if not k.startswith("_") and k != "generator"}


def _listed(transforms, name):
    """``transforms`` as a list of callables, or a TypeError that says what was wrong."""
    if callable(transforms) and not isinstance(transforms, (list, tuple)):
        return [transforms]
    if not isinstance(transforms, (list, tuple)):
        raise TypeError(f"{name} takes a list of transforms, got {type(transforms).__name__}")
    for t in transforms:
        if not callable(t):
            raise TypeError(f"{name} takes callables, got {type(t).__name__} in the list")
    return list(transforms)


def _nested_repr(name, transforms, first=""):
    """torchvision's layout: the name, then one member per indented line."""
    inner = "".join(f"\n    {t!r}" for t in transforms)
    return f"{name}({first}{inner}\n)"


class Compose(Transform):
    """Apply transforms one after the other: ``Compose([RandomCrop(32, 4), ToTensor()])``."""

    def __init__(self, transforms):
        super().__init__()
        self.transforms = _listed(transforms, "Compose")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return _nested_repr("Compose", self.transforms)


class RandomApply(Transform):
    """Apply the list ``transforms`` (in order) with probability ``p``, all or none.

    As in torchvision the first argument is a list, ``RandomApply([ColorJitter(.4, .4, .4,
    .1)], p=0.8)``; a single transform is accepted too.
    """

    def __init__(self, transforms, p=0.5, generator=None):
        super().__init__(generator)
        self.transforms = _listed(transforms, "RandomApply")
        self.p = float(p)

    def __call__(self, x):
        if self.rng().random() < self.p:
            for t in self.transforms:
                x = t(x)
        return x

    def __repr__(self):
        return _nested_repr("RandomApply", self.transforms, f"\n    p={self.p}")


class RandomChoice(Transform):
    """Apply one transform picked from the list, with probabilities ``p`` (default:
    uniform; ``p`` need not sum to 1, it is normalised as in torchvision)."""

    def __init__(self, transforms, p=None, generator=None):
        super().__init__(generator)
        self.transforms = _listed(transforms, "RandomChoice")
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"RandomChoice needs one probability per transform, got "
                             f"{len(p)} for {len(self.transforms)} transforms")
        self.p = None if p is None else [float(q) for q in p]

    def __call__(self, x):
        probs = None if self.p is None else np.asarray(self.p) / sum(self.p)
        k = int(self.rng().choice(len(self.transforms), p=probs))
        return self.transforms[k](x)

    def __repr__(self):
        return _nested_repr("RandomChoice", self.transforms, f"\n    p={self.p}")


class RandomOrder(Transform):
    """Apply all the transforms, in a random order drawn per call."""

    def __init__(self, transforms, generator=None):
        super().__init__(generator)
        self.transforms = _listed(transforms, "RandomOrder")

    def __call__(self, x):
        for k in self.rng().permutation(len(self.transforms)):
            x = self.transforms[k](x)
        return x

    def __repr__(self):
        return _nested_repr("RandomOrder", self.transforms)


class Lambda(Transform):
    """Wrap a function as a transform: ``Lambda(lambda x: x[:3])``. It receives the input
    as is (image or sample dict); it must use minicv's generator for any randomness so
    that ``mc.manual_seed`` and DataLoader workers keep it reproducible."""

    def __init__(self, lambd):
        super().__init__()
        if not callable(lambd):
            raise TypeError(f"Lambda takes a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"
