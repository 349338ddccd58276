"""Transforms: properties (hypothesis), values against simple oracles, seeding, repr."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicv as mc
from minicv.data import transforms as T
from minicv.tensor import Tensor

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def samples(draw, channels=(None, 1, 3)):
    """A uint8 image with 0-4 valid boxes, their labels and instance masks."""
    h, w = draw(st.integers(4, 24)), draw(st.integers(4, 24))
    c = draw(st.sampled_from(channels))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    k = draw(st.integers(0, 4))
    x = np.sort(rng.integers(0, w + 1, (k, 2)), 1)
    y = np.sort(rng.integers(0, h + 1, (k, 2)), 1)
    x[:, 1] = np.maximum(x[:, 1], x[:, 0] + 1).clip(max=w)
    x[:, 0] = np.minimum(x[:, 0], x[:, 1] - 1)
    y[:, 1] = np.maximum(y[:, 1], y[:, 0] + 1).clip(max=h)
    y[:, 0] = np.minimum(y[:, 0], y[:, 1] - 1)
    boxes = np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], 1).astype(np.float32)
    masks = np.zeros((k, h, w), np.uint8)
    for j, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
        masks[j, y1:y2, x1:x2] = 1
    return T.Sample(image=img, boxes=boxes, labels=np.arange(k), masks=masks)


def _same(a, b):
    assert set(a) == set(b)
    for key in a:
        assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key


@SETTINGS
@given(samples())
def test_two_flips_restore_the_sample(s):
    for flip in (T.RandomHorizontalFlip(p=1.0), T.RandomVerticalFlip(p=1.0)):
        once = flip(s)
        _same(flip(once), s)
        if s["image"].shape[1] > 1 and flip.__class__ is T.RandomHorizontalFlip:
            assert np.array_equal(once["image"], s["image"][:, ::-1])


@SETTINGS
@given(samples(), st.sampled_from([90, 180, 270, -90]))
def test_rotation_by_multiples_of_90_is_exact_and_invertible(s, angle):
    fwd = T.RandomRotation((angle, angle))(s)
    back = T.RandomRotation((-angle, -angle))(fwd)
    _same(back, s)
    # the box still frames its mask after the rotation
    for b, m in zip(fwd["boxes"], fwd["masks"]):
        ys, xs = np.nonzero(m)
        assert b.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


GEOMETRIC = [
    T.RandomCrop(10, padding=3, pad_if_needed=True, generator=0),
    T.RandomResizedCrop(12, generator=1),
    T.RandomRotation(35, generator=2),
    T.RandomAffine(20, translate=(0.3, 0.3), scale=(0.6, 1.4), shear=15, generator=3),
    T.CenterCrop((6, 9)),
    T.Resize(13),
]


@SETTINGS
@given(samples(), st.integers(0, len(GEOMETRIC) - 1))
def test_boxes_stay_inside_with_ordered_corners(s, which):
    out = GEOMETRIC[which](s)
    h, w = out["image"].shape[:2]
    b = out["boxes"]
    assert b.dtype == np.float32 and b.shape[1] == 4
    assert np.all(b[:, 0] >= 0) and np.all(b[:, 2] <= w) and np.all(b[:, 1] >= 0)
    assert np.all(b[:, 3] <= h) and np.all(b[:, 0] < b[:, 2]) and np.all(b[:, 1] < b[:, 3])
    assert len(out["labels"]) == len(b) == len(out["masks"])
    assert out["masks"].shape[1:] == (h, w)


def test_vanished_boxes_are_dropped_with_labels_and_masks():
    img = np.zeros((20, 20, 3), np.uint8)
    masks = np.zeros((2, 20, 20), np.uint8)
    s = T.Sample(image=img, boxes=np.array([[0, 0, 4, 4], [10, 10, 20, 20]], np.float32),
                 labels=np.array([7, 8]), masks=masks)
    out = T.CenterCrop(8)(s)                 # window [6, 14): first box is outside
    assert out["labels"].tolist() == [8] and out["masks"].shape == (1, 8, 8)
    assert out["boxes"].tolist() == [[4, 4, 8, 8]]


@SETTINGS
@given(samples(channels=(3,)), st.booleans())
def test_zero_strength_color_jitter_is_identity(s, as_float):
    img = s["image"].astype(np.float32) / 255 if as_float else s["image"]
    out = T.ColorJitter(0, 0, 0, 0)(img)
    assert out.dtype == img.dtype and np.array_equal(out, img)
    one = T.ColorJitter((1, 1), (1, 1), (1, 1), (0, 0))(img)
    assert np.array_equal(one, img)


@SETTINGS
@given(st.integers(2, 8), st.integers(2, 5), st.floats(0.1, 2.0), st.booleans())
def test_mixed_labels_sum_to_one(n, k, alpha, soft):
    rng = np.random.default_rng(n * 31 + k)
    x = rng.random((n, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, k, n)
    if soft:
        y = rng.dirichlet(np.ones(k), n).astype(np.float32)
    for mix in (T.MixUp(alpha, num_classes=k, generator=1),
                T.CutMix(alpha, num_classes=k, generator=2)):
        xm, ym = mix(Tensor(x), y)
        assert isinstance(xm, Tensor) and xm.shape == x.shape and ym.shape == (n, k)
        np.testing.assert_allclose(ym.data.sum(1), 1.0, rtol=1e-5)
        assert np.all(ym.data >= 0)


def test_cutmix_label_weight_is_the_pasted_area():
    x = np.stack([np.zeros((1, 10, 10), np.float32), np.ones((1, 10, 10), np.float32)])
    xm, ym = T.CutMix(1.0, num_classes=2, generator=5)(x, np.array([0, 1]))
    pasted = xm[0].mean()                    # sample 0's partner is sample 1 (all ones)
    np.testing.assert_allclose(ym[0], [1 - pasted, pasted], atol=1e-6)


def test_to_tensor_and_normalize_values():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    t = T.ToTensor()(img)
    assert isinstance(t, Tensor) and t.shape == (3, 2, 3) and t.dtype == np.float32
    np.testing.assert_allclose(t.data, img.transpose(2, 0, 1) / 255, rtol=1e-6)
    n = T.Normalize((0.5, 0.25, 0), (0.5, 0.5, 2))(t)
    np.testing.assert_allclose(n.data[1], (t.data[1] - 0.25) / 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0.5, 0.5), (1, 1))(t)
    with pytest.raises(TypeError, match="ToTensor first"):
        T.Normalize((0.5,), (1,))(img)


def test_random_crop_with_padding_matches_numpy_pad_and_slice():
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    crop = T.RandomCrop(8, padding=2, generator=np.random.default_rng(3))
    rng = np.random.default_rng(3)
    top, left = int(rng.integers(0, 5)), int(rng.integers(0, 5))
    ref = np.pad(img, ((2, 2), (2, 2), (0, 0)))[top:top + 8, left:left + 8]
    assert np.array_equal(crop(img), ref)


def test_equalize_matches_pillow():
    from PIL import Image, ImageOps
    img = np.random.default_rng(1).integers(40, 120, (16, 16, 3), dtype=np.uint8)
    ours = T.EqualizeHistogram()(img)
    ref = np.asarray(ImageOps.equalize(Image.fromarray(img)))
    assert np.array_equal(ours, ref)


def test_gray_world_balances_channel_means():
    img = np.random.default_rng(2).random((10, 10, 3)).astype(np.float32) * [0.8, 0.4, 0.2]
    means = T.GrayWorld()(img).reshape(-1, 3).mean(0)
    np.testing.assert_allclose(means, means.mean(), rtol=1e-4)


def test_resize_nearest_integer_upscale_repeats_pixels():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    out = T.Resize((4, 6), interpolation="nearest")(img)
    assert np.array_equal(out, img.repeat(2, 0).repeat(2, 1))
    assert T.Resize(4)(np.zeros((2, 3), np.uint8)).shape == (4, 6)


ALL = [T.RandomCrop(6, padding=1), T.RandomResizedCrop(6), T.RandomHorizontalFlip(),
       T.RandomVerticalFlip(), T.RandomRotation(30), T.RandomAffine(10, (0.1, 0.1)),
       T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.5), T.GaussianNoise(),
       T.GaussianBlur(3), T.RandomErasing(p=1.0), T.EqualizeHistogram(), T.GrayWorld(),
       T.RandomOcclusion(p=1.0), T.RandomIllumination(), T.Resize(5), T.CenterCrop(4)]


@pytest.mark.parametrize("tf", ALL, ids=lambda t: type(t).__name__)
def test_every_transform_handles_kinds_repeats_under_seed_and_has_repr(tf):
    from PIL import Image
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (9, 8, 3), dtype=np.uint8)
    for x in (img, img[..., 0], img.astype(np.float32) / 255):
        assert tf(x).dtype == x.dtype and tf(x).ndim == x.ndim
    t = tf(Tensor(img.transpose(2, 0, 1).astype(np.float32) / 255))
    assert isinstance(t, Tensor) and t.shape[0] == 3
    assert isinstance(tf(Image.fromarray(img)), Image.Image)
    mc.manual_seed(9)
    a = tf(img)
    mc.manual_seed(9)
    assert np.array_equal(tf(img), a)
    r = repr(tf)
    assert r.startswith(type(tf).__name__ + "(") and "object at" not in r


def test_passed_generator_is_used_instead_of_the_global_one():
    img = np.arange(64, dtype=np.uint8).reshape(8, 8)
    a = T.RandomCrop(4, generator=3)
    b = T.RandomCrop(4, generator=3)
    assert all(np.array_equal(a(img), b(img)) for _ in range(5))


def test_compose_repr_lists_members():
    tf = T.Compose([T.RandomCrop(32, padding=4), T.ToTensor()])
    assert repr(tf) == ("Compose([\n    RandomCrop(size=(32, 32), padding=4, "
                        "pad_if_needed=False, fill=0),\n    ToTensor(),\n])")
