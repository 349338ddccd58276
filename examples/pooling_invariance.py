"""Pooling and translation invariance (study-guide topic 16).

A vertical-edge filter is convolved with an image and with the same image shifted by 1
to 3 pixels. The script prints how much each representation changes, as the relative L1
difference |a - b| / |a|: the raw feature map moves with the edge (a change near 2, the
response has left its old place entirely), 4x4 max pooling absorbs most of the shift,
and after global max pooling nothing changes at all.

Run: python examples/pooling_invariance.py
"""
import numpy as np

import minicv as mc
from minicv.nn import functional as F


def changed(a, b):
    """Relative L1 difference |a - b| / |a| of two feature maps."""
    return float(np.abs(a - b).sum() / max(np.abs(a).sum(), 1e-12))


def main(size=32, log=print):
    img = np.zeros((1, 1, size, size), np.float32)
    img[..., 8:24, 10:14] = 1.0                                  # a bright vertical bar
    edge = mc.tensor([[[[1.0, 0.0, -1.0]] * 3]])                 # (1, 1, 3, 3) Prewitt-x
    results = {}
    for shift in (1, 2, 3):
        moved = np.roll(img, shift, axis=3)
        maps = [F.relu(F.conv2d(mc.tensor(a), edge, padding=1)) for a in (img, moved)]
        pooled = [F.max_pool2d(m, 4) for m in maps]
        glob = [F.adaptive_max_pool2d(m, 1) for m in maps]
        row = (changed(maps[0].data, maps[1].data), changed(pooled[0].data, pooled[1].data),
               changed(glob[0].data, glob[1].data))
        results[shift] = row
        log(f"shift {shift}px: relative change  conv {row[0]:.3f}   max-pool 4x4 "
            f"{row[1]:.3f}   global max-pool {row[2]:.3f}")
    return results


if __name__ == "__main__":
    main()
