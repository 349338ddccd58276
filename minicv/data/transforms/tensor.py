"""Conversion to the model's layout: ``ToTensor`` (HWC uint8 -> CHW float32 in [0, 1])
and ``Normalize`` ((x - mean) / std per channel)."""
import numpy as np

from ...tensor import Tensor
from .base import _is_pil

__all__ = ["ToTensor", "Normalize"]


class ToTensor:
    """HWC (or HW) image -> float32 CHW minicv ``Tensor``.

    uint8 images (ndarray or PIL) are scaled by 1/255 into [0, 1]; float images keep
    their values. A (H, W) image becomes (1, H, W). On a sample dict only ``"image"`` is
    converted (boxes, labels and masks stay arrays; the collate turns them into tensors).
    The result wraps a fresh array (one allocation), so it is cheap inside workers.
    """

    def __call__(self, x):
        if isinstance(x, dict):
            out = type(x)(x)
            out["image"] = self(x["image"])
            return out
        if isinstance(x, Tensor):
            return x
        a = np.asarray(x) if _is_pil(x) else x
        if not isinstance(a, np.ndarray):
            raise TypeError(f"ToTensor takes an ndarray or a PIL image, got "
                            f"{type(x).__name__}")
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"ToTensor expects an (H, W) or (H, W, C) image, got shape "
                             f"{a.shape}")
        out = np.empty((a.shape[2], a.shape[0], a.shape[1]), np.float32)
        out[...] = a.transpose(2, 0, 1)                          # (C, H, W), cast on copy
        if a.dtype == np.uint8:
            out *= np.float32(1 / 255)
        return Tensor(out)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` on a float (C, H, W) Tensor or ndarray, or a batch
    (..., C, H, W) of them (channels third from last, as in torchvision).

    With ``inplace=True`` the input's values are overwritten and the input is returned.

    Example (CIFAR-10 statistics)::

        Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std need one value per channel, got {len(self.mean)} "
                             f"and {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"std must not contain 0, got {self.std}")
        self.inplace = bool(inplace)
        self._m = np.array(self.mean, np.float32).reshape(-1, 1, 1)
        self._inv = (1 / np.array(self.std, np.float32)).reshape(-1, 1, 1)

    def __call__(self, x):
        if isinstance(x, dict):
            out = type(x)(x)
            out["image"] = self(x["image"])
            return out
        is_t = isinstance(x, Tensor)
        a = x.data if is_t else x
        if not isinstance(a, np.ndarray) or a.ndim < 3 or a.dtype.kind != "f":
            raise TypeError(f"Normalize expects a float (..., C, H, W) Tensor or ndarray (apply "
                            f"ToTensor first), got {type(x).__name__} "
                            f"{getattr(a, 'shape', '')} {getattr(a, 'dtype', '')}")
        if a.shape[-3] != len(self.mean) and len(self.mean) != 1:
            raise ValueError(f"Normalize has {len(self.mean)} channel statistics but the "
                             f"image has {a.shape[-3]} channels (shape {a.shape}); (..., C, "
                             f"H, W) layout expected")
        if self.inplace:
            a -= self._m
            a *= self._inv
            out = a
        else:
            out = a - self._m                  # the one new array
            out *= self._inv
        if is_t:
            return x if self.inplace else Tensor(out)
        return out

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"
