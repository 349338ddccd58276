"""Synthetic data sets: reproducible per index, in any process; valid ground truth."""
import hashlib
import string

import numpy as np
import PIL
import pytest

from minicv.data import DataLoader, Shapes, SynthDigits, TextLines

# Golden hashes: the same bytes on every machine with this Pillow major version (the
# glyph rasters come from Pillow's bundled FreeType font; everything else is NumPy).
PINNED_PILLOW = "13"


def _sha(arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


@pytest.mark.skipif(PIL.__version__.split(".")[0] != PINNED_PILLOW,
                    reason="golden bytes recorded with Pillow 13")
def test_golden_bytes():
    assert _sha(SynthDigits(10, seed=0)[i][0] for i in range(5)) == "a55a134778eb138e"
    assert _sha([Shapes(10, seed=0)[3]["image"]]) == "26d8682d9e60a054"
    assert _sha([TextLines(10, seed=0)[3][0]]) == "acc04cc5221ddb00"


def test_synth_digits_reproducible_per_index_and_split():
    ds = SynthDigits(50, seed=3)
    a = [ds[i] for i in (7, 3, 7)]
    assert np.array_equal(a[0][0], a[2][0]) and a[0][1] == a[2][1]
    img, label = a[0]
    assert img.shape == (28, 28) and img.dtype == np.uint8 and 0 <= label <= 9
    assert img.max() > 150 and np.median(img) < 40                  # light digit on dark
    test = SynthDigits(50, seed=3, train=False)
    assert not np.array_equal(test[7][0], img)
    assert not np.array_equal(SynthDigits(50, seed=4)[7][0], img)
    x, _ = SynthDigits(5, dtype=np.float32)[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    labels = [ds[i][1] for i in range(50)]
    assert len(set(labels)) >= 8
    with pytest.raises(IndexError):
        ds[50]


def test_workers_generate_the_same_samples_as_the_main_process():
    ds = SynthDigits(12, seed=1)
    ref = np.stack([ds[i][0] for i in range(12)])
    got = np.concatenate([x.data for x, _ in DataLoader(ds, batch_size=4, num_workers=2)])
    assert np.array_equal(got, ref)


def test_shapes_ground_truth_is_consistent():
    ds = Shapes(30, seed=0, size=48, num_objects=(1, 5), object_size=(8, 20),
                max_occlusion=0.3)
    for i in range(30):
        s = ds[i]
        img, boxes, labels, masks = s["image"], s["boxes"], s["labels"], s["masks"]
        assert img.shape == (48, 48, 3) and img.dtype == np.uint8
        k = len(labels)
        assert 1 <= k <= 5 and boxes.shape == (k, 4) and masks.shape == (k, 48, 48)
        assert set(labels.tolist()) <= {0, 1, 2, 3}
        assert masks.sum(0).max() <= 1                       # visible parts are disjoint
        for b, m in zip(boxes, masks):
            ys, xs = np.nonzero(m)
            assert b.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert np.array_equal(ds[4]["masks"], ds[4]["masks"])
    with pytest.raises(ValueError, match="max_occlusion"):
        Shapes(max_occlusion=1.0)


def test_text_lines_labels_and_images():
    ds = TextLines(20, seed=2, height=32, width=128, min_len=2, max_len=6,
                   alphabet=string.digits)
    for i in range(20):
        img, text = ds[i]
        assert img.shape == (32, 128) and img.dtype == np.uint8
        assert 2 <= len(text) <= 6 and set(text) <= set(string.digits)
        assert img.std() > 10                                 # something was drawn
    assert ds[5][1] == ds[5][1] and np.array_equal(ds[5][0], ds[5][0])
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch[0].shape == (4, 32, 128) and all(isinstance(t, str) for t in batch[1])
