"""Synthetic data sets, generated lazily from ``(seed, split, index)``: no files, no
download, any sample reproducible on its own, workers generate in parallel.

Every sample ``i`` draws all its random numbers from its own generator
``numpy.random.default_rng([seed, split, i])`` (split 0 = train, 1 = test), so
``ds[i]`` is the same whichever process asks, in whatever order. The only other input is
Pillow's bundled font (``ImageFont.load_default(size=...)``, FreeType "Aileron Regular"
shipped inside Pillow >= 10.1); glyph rasters are identical on every machine with the
same Pillow release, and all geometry, blur and noise after that is NumPy.

* :class:`SynthDigits` - MNIST-like 28x28 grey digits.
* :class:`Shapes` - coloured shapes on textures with labels, xyxy boxes and instance
  masks, for detection and segmentation.
* :class:`TextLines` - rendered random strings with their text, for OCR.
"""
import string

import numpy as np

from ..dataset import Dataset

__all__ = ["SynthDigits", "Shapes", "TextLines"]

_FONTS = {}


def _font(size):
    """Pillow's bundled FreeType font at ``size`` pixels (cached per process)."""
    font = _FONTS.get(size)
    if font is None:
        from PIL import ImageFont
        font = ImageFont.load_default(size=size)
        if not hasattr(font, "getbbox") or type(font).__name__ != "FreeTypeFont":
            raise RuntimeError("SynthDigits/TextLines need Pillow >= 10.1 built with "
                               "FreeType (ImageFont.load_default(size=...)); "
                               "pip install -U pillow")
        _FONTS[size] = font
    return font


def _sample_rng(seed, train, index):
    return np.random.default_rng([int(seed), 0 if train else 1, int(index)])


def _check_len(n, name):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name}: n must be a non-negative integer, got {n!r}")
    return int(n)


def _index(index, n, name):
    if not isinstance(index, (int, np.integer)):
        raise TypeError(f"{name} indices must be integers, got {type(index).__name__}")
    if index < 0:
        index += n
    if not 0 <= index < n:
        raise IndexError(f"{name} index {index} out of range for length {n}")
    return int(index)


def _gauss_kernel(sigma):
    r = max(1, int(np.ceil(2.5 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _blur(img, sigma):
    """Separable Gaussian blur of an (H, W) float32 image (zero padding)."""
    if sigma < 0.2:
        return img
    k = _gauss_kernel(sigma)
    r = len(k) // 2
    h, w = img.shape
    p = np.pad(img, r)
    tmp = sum(k[j] * p[:, j:j + w] for j in range(len(k)))          # (H+2r, W)
    return sum(k[j] * tmp[j:j + h] for j in range(len(k)))          # (H, W)


def _bilinear(src, gx, gy):
    """Sample ``src`` (H, W) at float coordinates; outside the image reads 0."""
    p = np.pad(src, 1)
    x = np.clip(gx + 1, 0, p.shape[1] - 1.001)
    y = np.clip(gy + 1, 0, p.shape[0] - 1.001)
    x0 = x.astype(np.intp)
    y0 = y.astype(np.intp)
    fx = x - x0
    fy = y - y0
    top = p[y0, x0] * (1 - fx) + p[y0, x0 + 1] * fx
    bot = p[y0 + 1, x0] * (1 - fx) + p[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


# ----------------------------------------------------------------------------- SynthDigits

_GLYPHS = {}
_GLYPH_SIZE = 40
_STROKES = (0, 1, 2)


def _glyph_bank():
    """Each digit rendered once per stroke width: a list [digit][stroke] of float32
    arrays cropped to the ink, values in [0, 1]."""
    bank = _GLYPHS.get(_GLYPH_SIZE)
    if bank is None:
        from PIL import Image, ImageDraw
        font = _font(_GLYPH_SIZE)
        bank = []
        for d in range(10):
            row = []
            for s in _STROKES:
                im = Image.new("L", (80, 80), 0)
                ImageDraw.Draw(im).text((40, 40), str(d), fill=255, font=font,
                                        anchor="mm", stroke_width=s, stroke_fill=255)
                a = np.asarray(im, np.float32) / 255.0
                ys, xs = np.nonzero(a > 0)
                row.append(np.ascontiguousarray(a[ys.min():ys.max() + 1,
                                                  xs.min():xs.max() + 1]))
            bank.append(row)
        _GLYPHS[_GLYPH_SIZE] = bank
    return bank


_GRID28 = np.mgrid[0:28, 0:28].astype(np.float32) + 0.5          # (2, 28, 28) pixel centres


class SynthDigits(Dataset):
    """MNIST-like handwritten-looking digits, rendered from a seed.

    How a sample is made (all draws from ``default_rng([seed, split, index])``):

    1. label ``y`` uniform in 0-9; stroke width 0, 1 or 2 picks a pre-rendered glyph of
       Pillow's bundled font (rendered once per process at 40 px, cropped to its ink).
    2. A random affine maps it into 28x28 (bilinear): the glyph height becomes 16-22 px
       (as MNIST fits digits in a 20x20 box), aspect x0.75-1.2, rotation within +-14
       degrees, shear within +-0.3, shift within +-2.5 px.
    3. Ink intensity 0.7-1.0, Gaussian blur sigma 0-0.9 px, Gaussian noise sigma 0-0.06,
       clipped to [0, 1].

    Args:
        n: number of samples (``len``). train: the train split (seed stream 0) or the
            test split (stream 1): the same seed gives disjoint-looking, independent sets.
        seed: base seed. dtype: ``np.uint8`` gives (28, 28) uint8 in [0, 255] (like the
            MNIST reader); ``np.float32`` gives (1, 28, 28) float32 in [0, 1].
        transform, target_transform: applied to the image and the int label.

    Example::

        ds = SynthDigits(10000, seed=0)
        img, label = ds[0]           # (28, 28) uint8, int
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, n=60000, seed=0, train=True, dtype=np.uint8, transform=None,
                 target_transform=None):
        self.n = _check_len(n, "SynthDigits")
        self.seed = int(seed)
        self.train = bool(train)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.uint8, np.float32):
            raise TypeError(f"SynthDigits dtype must be uint8 or float32, got {self.dtype}")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.n

    def render(self, index):
        """Sample ``index`` as a float32 (28, 28) image in [0, 1] and its label."""
        rng = _sample_rng(self.seed, self.train, index)
        u = rng.random(12)
        label = int(u[0] * 10)
        glyph = _glyph_bank()[label][int(u[1] * len(_STROKES))]
        gh, gw = glyph.shape
        k = (16.0 + 6.0 * u[2]) / gh                     # output px per glyph px
        ax = 0.75 + 0.45 * u[3]
        theta = np.deg2rad(-14 + 28 * u[4])
        shear = -0.3 + 0.6 * u[5]
        tx, ty = -2.5 + 5 * u[6], -2.5 + 5 * u[7]
        c, s = np.cos(theta), np.sin(theta)
        # forward map glyph -> output: A = R(theta) @ Shear @ diag(k * ax, k)
        a = np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]]) \
            @ np.diag([k * ax, k])
        inv = np.linalg.inv(a)
        ox = _GRID28[1] - 14.0 - tx                      # (28, 28) output x - centre
        oy = _GRID28[0] - 14.0 - ty
        gx = inv[0, 0] * ox + inv[0, 1] * oy + gw / 2 - 0.5
        gy = inv[1, 0] * ox + inv[1, 1] * oy + gh / 2 - 0.5
        img = _bilinear(glyph, gx, gy) * (0.7 + 0.3 * u[8])
        img = _blur(img, 0.9 * u[9])
        img = img + rng.standard_normal((28, 28), np.float32) * (0.06 * u[10])
        return np.clip(img, 0.0, 1.0).astype(np.float32), label

    def __getitem__(self, index):
        index = _index(index, self.n, "SynthDigits")
        img, label = self.render(index)
        if self.dtype == np.uint8:
            img = (img * 255.0 + 0.5).astype(np.uint8)
        else:
            img = img[None]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def __repr__(self):
        return f"SynthDigits(n={self.n}, seed={self.seed}, train={self.train})"


# ----------------------------------------------------------------------------- Shapes

_PALETTE = np.array([[230, 40, 40], [40, 200, 60], [50, 80, 235], [240, 220, 40],
                     [40, 220, 220], [220, 50, 220], [250, 140, 30], [245, 245, 245]],
                    np.float32)


def _star(cx, cy, r, angle, points=5, inner=0.45):
    t = angle + np.arange(2 * points) * np.pi / points
    rad = np.where(np.arange(2 * points) % 2 == 0, r, r * inner)
    return list(zip(cx + rad * np.sin(t), cy - rad * np.cos(t)))


def _regular(cx, cy, r, angle, sides):
    t = angle + np.arange(sides) * 2 * np.pi / sides
    return list(zip(cx + r * np.sin(t), cy - r * np.cos(t)))


class Shapes(Dataset):
    """Circles, squares, triangles and stars on textured backgrounds, with ground truth
    for detection and instance segmentation.

    A sample is a dict::

        {"image": (S, S, 3) uint8, "boxes": (K, 4) float32 xyxy in pixels,
         "labels": (K,) int64 in 0..3, "masks": (K, S, S) uint8 in {0, 1}}

    with ``classes = ["circle", "square", "triangle", "star"]``.

    How it is made (draws from ``default_rng([seed, split, index])``):

    1. Background: a random base grey-ish colour, a linear gradient, sinusoidal stripes
       at a random angle and frequency (amplitude <= 25) and pixel noise.
    2. ``K`` objects, K uniform in ``num_objects``; each has a class, a colour from 8
       saturated colours (+-20 jitter per channel), a radius in ``object_size / 2``, a
       rotation and a centre keeping it inside the image. Shapes are rasterised with
       Pillow's ``ImageDraw`` (no antialiasing), later objects on top of earlier ones.
    3. Occlusion: a new object is re-placed (up to 20 tries, else dropped) if it would
       hide more than ``max_occlusion`` of an earlier object's pixels. Masks and boxes
       describe the *visible* pixels; a box is ``[x0, y0, x1 + 1, y1 + 1]`` of them.
    4. Gaussian pixel noise (sigma 0-6) on the whole image.

    Args:
        n: length. seed, train: as in :class:`SynthDigits`. size: image side S.
        num_objects: (min, max) objects per image. object_size: (min, max) diameter in
            pixels. max_occlusion: fraction in [0, 1). transform: applied to the dict
            (geometric transforms of :mod:`minicv.data.transforms` move boxes and masks).
    """

    classes = ["circle", "square", "triangle", "star"]

    def __init__(self, n=1000, seed=0, train=True, size=64, num_objects=(1, 4),
                 object_size=(12, 32), max_occlusion=0.5, transform=None):
        self.n = _check_len(n, "Shapes")
        self.seed = int(seed)
        self.train = bool(train)
        self.size = int(size)
        lo, hi = (int(v) for v in num_objects)
        if not 1 <= lo <= hi:
            raise ValueError(f"num_objects must be (min, max) with 1 <= min <= max, got "
                             f"{num_objects}")
        smin, smax = (float(v) for v in object_size)
        if not 4 <= smin <= smax <= self.size:
            raise ValueError(f"object_size must be (min, max) with 4 <= min <= max <= "
                             f"size={self.size}, got {object_size}")
        if not 0 <= max_occlusion < 1:
            raise ValueError(f"max_occlusion must lie in [0, 1), got {max_occlusion}")
        self.num_objects = (lo, hi)
        self.object_size = (smin, smax)
        self.max_occlusion = float(max_occlusion)
        self.transform = transform

    def __len__(self):
        return self.n

    def _background(self, rng):
        s = self.size
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
        base = rng.uniform(60, 170, 3).astype(np.float32)
        grad = rng.uniform(-40, 40, 2).astype(np.float32)
        ang, freq = rng.uniform(0, np.pi), rng.uniform(2, 10)
        amp = rng.uniform(0, 25)
        stripes = amp * np.sin(2 * np.pi * freq * (np.cos(ang) * xx + np.sin(ang) * yy))
        shade = grad[0] * (xx - 0.5) + grad[1] * (yy - 0.5) + stripes
        img = base[None, None, :] + shade[..., None]
        return img + rng.normal(0, 4, img.shape).astype(np.float32)

    def _mask(self, cls, cx, cy, r, angle):
        from PIL import Image, ImageDraw
        im = Image.new("L", (self.size, self.size), 0)
        d = ImageDraw.Draw(im)
        if cls == 0:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=1)
        elif cls == 1:
            d.polygon(_regular(cx, cy, r * 0.95, angle, 4), fill=1)
        elif cls == 2:
            d.polygon(_regular(cx, cy, r, angle, 3), fill=1)
        else:
            d.polygon(_star(cx, cy, r, angle), fill=1)
        return np.asarray(im, np.uint8).astype(bool)

    def generate(self, index):
        """The sample dict for ``index`` (no transform)."""
        rng = _sample_rng(self.seed, self.train, index)
        s = self.size
        img = self._background(rng)
        k = int(rng.integers(self.num_objects[0], self.num_objects[1] + 1))
        masks, labels = [], []
        for _ in range(k):
            for _try in range(20):
                cls = int(rng.integers(4))
                r = rng.uniform(*self.object_size) / 2
                cx, cy = rng.uniform(r, s - r, 2)
                m = self._mask(cls, cx, cy, r, rng.uniform(0, 2 * np.pi))
                if not m.any():
                    continue
                ok = all((old & ~m).sum() >= (1 - self.max_occlusion) * old.sum() and
                         (old & ~m).any() for old in masks)
                if ok:
                    break
            else:
                continue
            masks = [old & ~m for old in masks]
            masks.append(m)
            labels.append(cls)
            colour = _PALETTE[int(rng.integers(len(_PALETTE)))] + rng.uniform(-20, 20, 3)
            img[m] = colour
        img = img + rng.normal(0, rng.uniform(0, 6), img.shape)
        image = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        boxes = np.zeros((len(masks), 4), np.float32)
        for j, m in enumerate(masks):
            ys, xs = np.nonzero(m)
            boxes[j] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        mask_arr = np.stack(masks).astype(np.uint8) if masks else \
            np.zeros((0, s, s), np.uint8)
        return {"image": image, "boxes": boxes, "labels": np.array(labels, np.int64),
                "masks": mask_arr}

    def __getitem__(self, index):
        index = _index(index, self.n, "Shapes")
        sample = self.generate(index)
        if self.transform is not None:
            sample = self.transform(sample)
        return sample

    def __repr__(self):
        return (f"Shapes(n={self.n}, seed={self.seed}, train={self.train}, size={self.size}, "
                f"num_objects={self.num_objects}, object_size={self.object_size}, "
                f"max_occlusion={self.max_occlusion})")


# ----------------------------------------------------------------------------- TextLines

class TextLines(Dataset):
    """Random strings rendered in one line, for OCR (e.g. CRNN + CTC).

    A sample is ``(image, text)``: a (height, width) uint8 grey image and the string.

    How it is made (draws from ``default_rng([seed, split, index])``): a length uniform in
    ``[min_len, max_len]``, characters uniform from ``alphabet``; a font size from 60-85 %
    of ``height`` (shrunk until the text fits in ``width``); Pillow's bundled font, at a
    random horizontal and vertical offset; background and ink greys at least 90 apart
    (dark on light or light on dark); Gaussian blur sigma 0-0.8 and noise sigma 0-8.

    Args:
        n, seed, train: as in :class:`SynthDigits`. height, width: image size.
        min_len, max_len: string lengths. alphabet: characters to draw from.
        transform, target_transform: applied to the image and to the string.
    """

    def __init__(self, n=10000, seed=0, train=True, height=32, width=160, min_len=3,
                 max_len=10, alphabet=string.digits + string.ascii_lowercase,
                 transform=None, target_transform=None):
        self.n = _check_len(n, "TextLines")
        self.seed = int(seed)
        self.train = bool(train)
        self.height, self.width = int(height), int(width)
        if self.height < 12 or self.width < self.height:
            raise ValueError(f"TextLines needs height >= 12 and width >= height, got "
                             f"height={height}, width={width}")
        if not 1 <= min_len <= max_len:
            raise ValueError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
        if not alphabet or len(set(alphabet)) != len(alphabet):
            raise ValueError(f"alphabet must be non-empty without repeats, got {alphabet!r}")
        self.min_len, self.max_len = int(min_len), int(max_len)
        self.alphabet = alphabet
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.n

    def generate(self, index):
        """``(image, text)`` for ``index`` (no transform)."""
        from PIL import Image, ImageDraw
        rng = _sample_rng(self.seed, self.train, index)
        length = int(rng.integers(self.min_len, self.max_len + 1))
        text = "".join(self.alphabet[i] for i in rng.integers(len(self.alphabet),
                                                              size=length))
        size = int(self.height * rng.uniform(0.6, 0.85))
        while True:
            font = _font(size)
            x0, y0, x1, y1 = font.getbbox(text)
            if x1 - x0 <= self.width - 4 or size <= 6:
                break
            size -= 1
        bg = rng.uniform(0, 255)
        gap = rng.uniform(90, 200)
        fg = bg + gap if bg + gap <= 255 else bg - gap
        if fg < 0:
            fg = 255.0 if bg < 128 else 0.0
        im = Image.new("L", (self.width, self.height), 0)
        x = rng.uniform(0, max(0.0, self.width - (x1 - x0) - 2)) - x0 + 1
        y = (self.height - (y1 - y0)) / 2 - y0 + rng.uniform(-2, 2)
        ImageDraw.Draw(im).text((x, y), text, fill=255, font=font)
        ink = np.asarray(im, np.float32) / 255.0
        img = _blur(ink, rng.uniform(0, 0.8))
        img = bg + (fg - bg) * img
        img = img + rng.normal(0, rng.uniform(0, 8), img.shape)
        return np.clip(img + 0.5, 0, 255).astype(np.uint8), text

    def __getitem__(self, index):
        index = _index(index, self.n, "TextLines")
        img, text = self.generate(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            text = self.target_transform(text)
        return img, text

    def __repr__(self):
        return (f"TextLines(n={self.n}, seed={self.seed}, train={self.train}, "
                f"height={self.height}, width={self.width})")
