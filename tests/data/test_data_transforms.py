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
    fwd = T.RandomRotation((angle, angle), expand=True)(s)
    back = T.RandomRotation((-angle, -angle), expand=True)(fwd)
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
       T.RandomOcclusion(p=1.0), T.RandomIllumination(), T.Resize(5), T.CenterCrop(4),
       T.Pad((1, 2), padding_mode="reflect"), T.RandomCrop(7, 2, padding_mode="edge")]


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
    assert repr(tf) == ("Compose(\n    RandomCrop(size=(32, 32), padding=4, "
                        "pad_if_needed=False, fill=0, padding_mode='constant')\n"
                        "    ToTensor()\n)")


# ---------------------------------------------------------------- torchvision semantics
# The references below restate torchvision's documented rules; the torch ones rebuild
# torchvision's tensor path (its inverse affine matrix, pixel grid and grid_sample call).


def _tv_inverse_affine(center, angle, translate, scale, shear):
    """torchvision's ``_get_inverse_affine_matrix``: output -> input, centred coordinates,
    RSS = R(angle) S ShY ShX with angle clockwise."""
    import math
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    a = math.cos(rot - sy) / math.cos(sy)
    b = -a * math.tan(sx) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = math.cos(rot) - c * math.tan(sx)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    (cx, cy), (tx, ty) = center, translate
    m[2] = cx - m[0] * (cx + tx) - m[1] * (cy + ty)
    m[5] = cy - m[3] * (cx + tx) - m[4] * (cy + ty)
    return m


def _tv_warp_nearest(torch, img, matrix, oh, ow):
    """torchvision's ``_gen_affine_grid`` + ``grid_sample(mode='nearest')``, fill 0."""
    c, h, w = img.shape
    theta = torch.tensor(matrix, dtype=torch.float64).reshape(1, 2, 3)
    base = torch.ones(1, oh, ow, 3, dtype=torch.float64)
    base[..., 0] = torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=torch.float64)
    base[..., 1] = torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh,
                                  dtype=torch.float64)[:, None]
    scaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float64)
    grid = (base.view(1, oh * ow, 3) @ scaled).view(1, oh, ow, 2)
    x = torch.tensor(img, dtype=torch.float64)[None]
    return torch.nn.functional.grid_sample(x, grid, mode="nearest", padding_mode="zeros",
                                           align_corners=False)[0].numpy()


def _chw(tf, img):
    return tf(img.transpose(1, 2, 0)).transpose(2, 0, 1)


@pytest.mark.parametrize("angle", [30.0, -47.5, 123.0, 180.0])
@pytest.mark.parametrize("expand", [False, True])
def test_rotation_matches_torchvision_nearest_default(angle, expand):
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(0).random((3, 9, 14))
    tf = T.RandomRotation((angle, angle), expand=expand)     # default: nearest, as tv
    m = _tv_inverse_affine((0.0, 0.0), -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    ow, oh = 14, 9
    if expand:                      # torchvision's _compute_affine_output_size
        c = np.array([[-7, -4.5, 1], [-7, 4.5, 1], [7, 4.5, 1], [7, -4.5, 1]]) @ \
            np.array(m).reshape(2, 3).T + [7, 4.5]
        lo = np.floor(np.trunc(c.min(0) / 1e-4) * 1e-4)
        ow, oh = (np.ceil(np.trunc(c.max(0) / 1e-4) * 1e-4) - lo).astype(int)
    ref = _tv_warp_nearest(torch, img, m, oh, ow)
    assert np.array_equal(_chw(tf, img), ref)
    centred = T.RandomRotation((angle, angle), center=(3.0, 2.5))
    m = _tv_inverse_affine((3.0 - 7, 2.5 - 4.5), -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    assert np.array_equal(_chw(centred, img), _tv_warp_nearest(torch, img, m, 9, 14))


def test_rotation_by_90_keeps_the_shape_unless_expand():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert T.RandomRotation((90, 90))(img).shape == (3, 4)          # corners lost, as tv
    assert np.array_equal(T.RandomRotation((90, 90), expand=True)(img), np.rot90(img))
    sq = img[:, :3]
    assert np.array_equal(T.RandomRotation((90, 90))(sq), np.rot90(sq))


@pytest.mark.parametrize("angle, translate, scale, shear", [
    (30.0, (2, -1), 1.2, (10.0, 0.0)), (-20.0, (0, 3), 0.8, (5.0, -12.0)),
    (0.0, (0, 0), 1.0, (25.0, 0.0)), (0.0, (0, 0), 1.0, (0.0, 20.0))])
def test_affine_turns_clockwise_and_shears_like_torchvision(angle, translate, scale, shear):
    torch = pytest.importorskip("torch")
    from minicv.data.transforms.geometric import affine_matrix, warp_affine
    img = np.random.default_rng(1).random((3, 10, 14))
    ref = _tv_warp_nearest(torch, img, _tv_inverse_affine((0.0, 0.0), angle,
                                                          translate, scale, shear), 10, 14)
    tf = T.RandomAffine((angle, angle), scale=(scale, scale),
                        shear=(shear[0], shear[0], shear[1], shear[1]))
    m = tf.get_params(10, 14)           # no translation drawn: compare, then add it
    assert np.array_equal(_chw(lambda a: warp_affine(a, m, (10, 14), "nearest"), img),
                          _tv_warp_nearest(torch, img, _tv_inverse_affine(
                              (0.0, 0.0), angle, (0, 0), scale, shear), 10, 14))
    m = affine_matrix(-angle, translate, scale, shear, center=(7, 5))
    assert np.array_equal(_chw(lambda a: warp_affine(a, m, (10, 14), "nearest"), img), ref)


@pytest.mark.parametrize("out_hw", [(5, 7), (13, 40), (30, 4), (6, 17)])
def test_resize_antialias_matches_torch_interpolate(out_hw):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).random((13, 17, 3)).astype(np.float32)
    x = torch.tensor(a.transpose(2, 0, 1))[None]
    for antialias in (True, False):
        ref = torch.nn.functional.interpolate(x, out_hw, mode="bilinear",
                                              align_corners=False, antialias=antialias)
        out = T.Resize(out_hw, antialias=antialias)(a)
        np.testing.assert_allclose(out, ref[0].numpy().transpose(1, 2, 0), atol=1e-6)


def test_resize_int_max_size_and_one_element_list():
    img = np.zeros((20, 50), np.uint8)
    assert T.Resize(10)(img).shape == (10, 25)
    assert T.Resize([10])(img).shape == (10, 25)
    assert T.Resize(10, max_size=20)(img).shape == (8, 20)   # long side capped, short
    assert T.Resize(10, max_size=30)(img).shape == (10, 25)  # cap not reached
    with pytest.raises(ValueError, match="strictly greater"):
        T.Resize(10, max_size=10)
    with pytest.raises(ValueError, match="int size"):
        T.Resize((10, 12), max_size=20)


@pytest.mark.parametrize("h, th", [(10, 7), (11, 8), (9, 4), (10, 10), (5, 8), (4, 7)])
def test_center_crop_offsets_and_padding_as_torchvision(h, th):
    img = np.arange(h * 3, dtype=np.int32).reshape(h, 3) + 1
    out = T.CenterCrop((th, 3))(img)
    if th <= h:
        top = int(round((h - th) / 2.0))             # torchvision: halves to even
        assert np.array_equal(out, img[top:top + th])
    else:                                            # extra padding row goes below
        before = (th - h) // 2
        assert np.array_equal(out, np.pad(img, ((before, th - h - before), (0, 0))))


def test_pad_and_random_crop_padding_modes_match_numpy_pad():
    img = np.random.default_rng(3).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    for mode in ("edge", "reflect", "symmetric"):
        ref = np.pad(img, ((2, 4), (1, 3), (0, 0)), mode)
        assert np.array_equal(T.Pad((1, 2, 3, 4), padding_mode=mode)(img), ref)
        crop = T.RandomCrop((6, 7), padding=(1, 2, 3, 4), padding_mode=mode, generator=4)
        rng = np.random.default_rng(4)
        top, left = int(rng.integers(0, 11 - 6 + 1)), int(rng.integers(0, 10 - 7 + 1))
        assert np.array_equal(crop(img), ref[top:top + 6, left:left + 7])
    out = T.Pad(2, fill=(1, 2, 3))(img)
    assert out.shape == (9, 10, 3) and out[0, 0].tolist() == [1, 2, 3]
    s = T.Sample(image=img, boxes=np.array([[1, 1, 3, 4]], np.float32))
    assert T.Pad((1, 2))(s)["boxes"].tolist() == [[2, 3, 4, 6]]
    with pytest.raises(ValueError, match="padding_mode"):
        T.Pad(1, padding_mode="wrap")


def test_normalize_takes_batches_with_channels_third_from_last():
    x = np.random.default_rng(4).random((2, 3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 1.0, 2.0)
    ref = (x - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1))
    np.testing.assert_allclose(T.Normalize(mean, std)(Tensor(x)).data, ref, atol=1e-6)
    y = x.copy()
    assert T.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_random_apply_takes_a_list_applied_all_or_none():
    calls = []
    tf = T.RandomApply([T.Lambda(lambda x: calls.append("a") or x + 1),
                        T.Lambda(lambda x: calls.append("b") or x * 2)], p=1.0)
    assert tf(np.array([1])).tolist() == [4] and calls == ["a", "b"]
    assert T.RandomApply([T.Lambda(lambda x: x + 1)], p=0.0)(np.array([1])).tolist() == [1]
    assert T.RandomApply(T.Lambda(lambda x: x + 1), p=1.0)(np.array([1])).tolist() == [2]
    assert repr(tf).startswith("RandomApply(\n    p=1.0\n    Lambda()")


def test_random_choice_and_random_order_follow_the_seed():
    add, mul = T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)
    seen = {int(T.RandomChoice([add, mul], p=[3, 1])(np.array(5))) for _ in range(40)}
    assert seen == {6, 10}
    assert T.RandomChoice([add, mul], p=[1, 0])(np.array(5)) == 6
    order = T.RandomOrder([add, mul])
    assert {int(order(np.array(5))) for _ in range(40)} == {12, 11}
    mc.manual_seed(3)
    a = [int(order(np.array(5))) for _ in range(10)]
    mc.manual_seed(3)
    assert a == [int(order(np.array(5))) for _ in range(10)]


def test_gaussian_blur_kernel_size_is_kx_ky():
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(5).random((9, 11)).astype(np.float32)
    out = T.GaussianBlur((5, 3), sigma=(1.5, 1.5))(img)          # 5 along x, 3 along y
    k = lambda n: np.exp(-0.5 * ((np.arange(n) - n // 2) / 1.5) ** 2)
    kern = np.outer(k(3) / k(3).sum(), k(5) / k(5).sum())         # (ky, kx)
    x = torch.nn.functional.pad(torch.tensor(img)[None, None], (2, 2, 1, 1), mode="reflect")
    ref = torch.nn.functional.conv2d(x, torch.tensor(kern, dtype=torch.float32)[None, None])
    np.testing.assert_allclose(out, ref[0, 0].numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        T.GaussianBlur((3, 4))


def test_random_erasing_random_value_and_inplace():
    x = np.full((3, 40, 40), 5.0, np.float32)
    out = T.RandomErasing(p=1.0, scale=(0.3, 0.3), value="random", generator=0)(Tensor(x))
    noise = out.data[out.data != 5.0]
    assert noise.min() < -1 and noise.max() > 1          # N(0, 1), as torchvision
    y = np.zeros((20, 20, 3), np.float32)
    assert T.RandomErasing(p=1.0, value=(1, 2, 3), inplace=True, generator=1)(y) is y
    assert sorted(np.unique(y).tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="1 or 3"):
        T.RandomErasing(p=1.0, value=(1, 2), generator=1)(y)


def test_grayscale_channels_and_kinds():
    from PIL import Image
    img = np.random.default_rng(6).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    luma = np.rint(img @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    assert np.array_equal(T.Grayscale()(img), luma)
    assert np.array_equal(T.Grayscale(3)(img), np.repeat(luma[..., None], 3, 2))
    t = T.Grayscale()(Tensor(img.transpose(2, 0, 1).astype(np.float32) / 255))
    assert t.shape == (1, 4, 5)
    assert T.Grayscale(3)(Image.fromarray(img)).mode == "RGB"
    assert T.Grayscale()(Image.fromarray(img)).mode == "L"


def test_color_jitter_rejects_negative_factor_ranges():
    with pytest.raises(ValueError, match="brightness range"):
        T.ColorJitter(brightness=(-0.5, 1.5))
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.6)
