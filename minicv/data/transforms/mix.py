"""Batch-level mixing: MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019).

They act on a whole batch, usually in the training loop (main process)::

    mix = MixUp(alpha=0.2, num_classes=10)
    for x, y in loader:
        x, y_soft = mix(x, y)          # y_soft: (N, 10) float32, rows sum to 1
        loss = soft-target cross-entropy(model(x), y_soft)

Labels may be integer class indices (N,) (turned into one-hot with ``num_classes``) or
soft labels (N, K). Partner of sample i is sample i-1 (the batch rolled by one, as in
torchvision), so no sample is paired with itself when N > 1.
"""
import numpy as np

from .base import Transform, _is_tensor

__all__ = ["MixUp", "CutMix"]


def _labels_soft(y, num_classes, n):
    y = np.asarray(y)
    if y.ndim == 1:
        if num_classes is None:
            raise ValueError("integer labels need num_classes= to become one-hot")
        if y.dtype.kind not in "iu":
            raise TypeError(f"1-d labels must be integer class indices, got {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"labels must lie in [0, {num_classes - 1}], got range "
                             f"[{y.min()}, {y.max()}]")
        out = np.zeros((n, num_classes), np.float32)
        out[np.arange(n), y] = 1.0
        return out
    if y.ndim == 2:
        return y.astype(np.float32)
    raise ValueError(f"labels must be (N,) class indices or (N, K) soft labels, got shape "
                     f"{y.shape}")


class _BatchMix(Transform):
    def __init__(self, alpha, num_classes, p, generator):
        super().__init__(generator)
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        self.alpha = float(alpha)
        self.num_classes = num_classes
        self.p = float(p)

    def __call__(self, images, labels=None):
        if labels is None and isinstance(images, (tuple, list)) and len(images) == 2:
            images, labels = images
        is_t = _is_tensor(images)
        x = images.data if is_t else np.asarray(images)
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} takes a batch (N, C, H, W), got shape "
                             f"{x.shape}")
        n = x.shape[0]
        y = _labels_soft(getattr(labels, "data", labels), self.num_classes, n)
        if len(y) != n:
            raise ValueError(f"{n} images but {len(y)} labels")
        rng = self.rng()
        if n < 2 or rng.random() >= self.p:
            out_x, out_y = x, y
        else:
            lam = float(rng.beta(self.alpha, self.alpha))
            out_x, lam = self._mix(x, np.roll(x, 1, axis=0), lam, rng)
            out_y = lam * y + (1 - lam) * np.roll(y, 1, axis=0)
        if is_t:
            from ...tensor import Tensor
            return Tensor(out_x), Tensor(out_y.astype(np.float32))
        return out_x, out_y.astype(np.float32)


class MixUp(_BatchMix):
    """``x = lam * x_i + (1 - lam) * x_j``, ``y = lam * y_i + (1 - lam) * y_j`` with
    ``lam ~ Beta(alpha, alpha)``, applied with probability ``p``."""

    def __init__(self, alpha=1.0, num_classes=None, p=1.0, generator=None):
        super().__init__(alpha, num_classes, p, generator)

    def _mix(self, x, partner, lam, rng):
        xf = x.astype(np.float32) if x.dtype.kind != "f" else x
        out = lam * xf + (1 - lam) * partner
        return out.astype(xf.dtype, copy=False), lam


class CutMix(_BatchMix):
    """Paste a rectangle of the partner image; the label weight is the area kept:
    ``lam ~ Beta(alpha, alpha)`` sets the box area ``(1 - lam) * H * W`` around a uniform
    centre, the box is clipped, and ``lam`` is recomputed from the clipped area."""

    def __init__(self, alpha=1.0, num_classes=None, p=1.0, generator=None):
        super().__init__(alpha, num_classes, p, generator)

    def _mix(self, x, partner, lam, rng):
        h, w = x.shape[2:]
        cut = np.sqrt(1 - lam)
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, y1 = np.clip(cy - ch // 2, 0, h), np.clip(cy + ch // 2, 0, h)
        x0, x1 = np.clip(cx - cw // 2, 0, w), np.clip(cx + cw // 2, 0, w)
        out = x.copy()
        out[:, :, y0:y1, x0:x1] = partner[:, :, y0:y1, x0:x1]
        return out, 1 - (y1 - y0) * (x1 - x0) / (h * w)
