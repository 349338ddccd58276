"""Geometric transforms: they move the image, its boxes and its masks together.

Coordinates: pixel ``(row r, col c)`` covers the square ``[c, c+1] x [r, r+1]``, so an
image spans ``[0, W] x [0, H]`` and boxes are ``(x1, y1, x2, y2)`` in those units. Flips,
90-degree rotations and crops are exact (array slicing, no resampling). Other angles,
scales and shears resample with an inverse affine map: every output pixel centre is
mapped back into the input and read bilinearly (images) or nearest (masks); boxes map
their four corners forward and take the enclosing box.

Positive angles rotate counter-clockwise, as in torchvision.
"""
import numbers

import numpy as np

from .base import Transform

__all__ = ["Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "affine_matrix",
           "warp_affine", "resize_array"]

_INTERP = ("bilinear", "nearest")


def _size2(size, name):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(s, numbers.Integral) for s in size):
        return int(size[0]), int(size[1])
    raise ValueError(f"{name} size must be an int or (height, width), got {size!r}")


def _check_interp(interpolation):
    if interpolation not in _INTERP:
        raise ValueError(f"interpolation must be one of {_INTERP}, got {interpolation!r}")
    return interpolation


def _restore_dtype(out, like):
    if like.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(like.dtype, copy=False)


def _axis_coords(n_out, n_in):
    """Half-pixel-centre source coordinates for a resize along one axis."""
    return np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)


def resize_array(a, oh, ow, interpolation="bilinear"):
    """Resize (H, W[, C]) to (oh, ow[, C]), separable bilinear or nearest (no antialias)."""
    h, w = a.shape[:2]
    if (h, w) == (oh, ow):
        return a.copy()
    if interpolation == "nearest":
        ri = np.minimum(((np.arange(oh) + 0.5) * h / oh).astype(np.intp), h - 1)
        ci = np.minimum(((np.arange(ow) + 0.5) * w / ow).astype(np.intp), w - 1)
        return a[ri][:, ci]
    y = _axis_coords(oh, h)
    x = _axis_coords(ow, w)
    y0 = np.floor(y).astype(np.intp)
    x0 = np.floor(x).astype(np.intp)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    extra = (1,) * (a.ndim - 2)
    fy = (y - y0).astype(np.float32).reshape((-1, 1) + extra)
    fx = (x - x0).astype(np.float32).reshape((1, -1) + extra)
    f = a.astype(np.float32)
    rows = f[y0] * (1 - fy) + f[y1] * fy                          # (oh, W[, C])
    out = rows[:, x0] * (1 - fx) + rows[:, x1] * fx               # (oh, ow[, C])
    return _restore_dtype(out, a)


def affine_matrix(angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0),
                  center=(0.0, 0.0)):
    """Forward 3x3 map (x, y, 1) -> (x', y', 1) in pixel-edge coordinates:
    ``T(center + translate) @ R(angle) @ Shear @ S(scale) @ T(-center)``, angle and shear
    in degrees, positive angle counter-clockwise on screen (y points down)."""
    a = np.deg2rad(angle)
    sx, sy = np.tan(np.deg2rad(shear[0])), np.tan(np.deg2rad(shear[1]))
    cx, cy = center
    t_back = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    s = np.diag([scale, scale, 1.0])
    sh = np.array([[1, sx, 0], [sy, 1, 0], [0, 0, 1]], np.float64)
    r = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    t_fwd = np.array([[1, 0, cx + translate[0]], [0, 1, cy + translate[1]], [0, 0, 1]])
    return t_fwd @ r @ sh @ s @ t_back


def warp_affine(a, matrix, out_hw, interpolation="bilinear", fill=0):
    """Output pixel (r, c) reads input at ``inv(matrix) @ (c + .5, r + .5)`` - 0.5."""
    oh, ow = out_hw
    h, w = a.shape[:2]
    inv = np.linalg.inv(matrix)
    yy, xx = np.mgrid[0:oh, 0:ow].astype(np.float64) + 0.5
    sx = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2] - 0.5
    sy = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2] - 0.5
    extra = (1,) * (a.ndim - 2)
    if interpolation == "nearest":
        xi, yi = np.rint(sx).astype(np.intp), np.rint(sy).astype(np.intp)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = a[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)].copy()
        out[~inside] = fill
        return out
    f = np.pad(a.astype(np.float32), [(1, 1), (1, 1)] + [(0, 0)] * (a.ndim - 2),
               constant_values=fill)
    x = np.clip(sx + 1, 0, w + 0.999)
    y = np.clip(sy + 1, 0, h + 0.999)
    x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
    fx = (x - x0).astype(np.float32).reshape(x.shape + extra)
    fy = (y - y0).astype(np.float32).reshape(y.shape + extra)
    top = f[y0, x0] * (1 - fx) + f[y0, x0 + 1] * fx
    bot = f[y0 + 1, x0] * (1 - fx) + f[y0 + 1, x0 + 1] * fx
    out = top * (1 - fy) + bot * fy
    return _restore_dtype(out, a)


def _boxes_affine(b, m):
    if not len(b):
        return b
    xs = b[:, [0, 2, 2, 0]]
    ys = b[:, [1, 1, 3, 3]]
    nx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    ny = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    return np.stack([nx.min(1), ny.min(1), nx.max(1), ny.max(1)], 1).astype(np.float32)


def _crop(a, top, left, th, tw, fill=0):
    """Window [top, top+th) x [left, left+tw) of ``a``; parts outside read ``fill``."""
    h, w = a.shape[:2]
    if top >= 0 and left >= 0 and top + th <= h and left + tw <= w:
        return a[top:top + th, left:left + tw].copy()
    out = np.full((th, tw) + a.shape[2:], fill, a.dtype)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + th, h), min(left + tw, w)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = a[y0:y1, x0:x1]
    return out


def _shift_boxes(b, dx, dy):
    return (b + np.array([dx, dy, dx, dy], np.float32)).astype(np.float32)


class Resize(Transform):
    """Resize to ``size``: (h, w), or an int for the shorter side (aspect kept, the
    longer side ``int(size * long / short)``). Bilinear without antialiasing: for large
    downscales blur first (GaussianBlur)."""

    geometric = True

    def __init__(self, size, interpolation="bilinear"):
        super().__init__()
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            if size <= 0:
                raise ValueError(f"Resize size must be positive, got {size}")
            self.size = int(size)
        else:
            self.size = _size2(size, "Resize")
        self.interpolation = _check_interp(interpolation)

    def get_params(self, h, w):
        if isinstance(self.size, int):
            if h <= w:
                return self.size, int(self.size * w / h)
            return int(self.size * h / w), self.size
        return self.size

    def image(self, img, p):
        return resize_array(img, p[0], p[1], self.interpolation)

    def boxes(self, b, p, h, w):
        return (b * np.array([p[1] / w, p[0] / h] * 2, np.float32)).astype(np.float32)

    def mask(self, m, p):
        return resize_array(m, p[0], p[1], "nearest")


class _CropBase(Transform):
    geometric = True

    def image(self, img, p):
        top, left, th, tw = p
        return _crop(img, top, left, th, tw, getattr(self, "fill", 0))

    def boxes(self, b, p, h, w):
        return _shift_boxes(b, -p[1], -p[0])

    def mask(self, m, p):
        return _crop(m, p[0], p[1], p[2], p[3], 0)


class CenterCrop(_CropBase):
    """The central (h, w) window (padded with zeros if the image is smaller)."""

    def __init__(self, size):
        super().__init__()
        self.size = _size2(size, "CenterCrop")

    def get_params(self, h, w):
        th, tw = self.size
        return (h - th) // 2, (w - tw) // 2, th, tw


class RandomCrop(_CropBase):
    """A random (h, w) window, after padding the borders with ``fill``.

    ``padding``: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
    CIFAR's classic augmentation is ``RandomCrop(32, padding=4)``. The padding is never
    materialised: the window is cut from the virtual padded image.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, generator=None):
        super().__init__(generator)
        self.size = _size2(size, "RandomCrop")
        if padding is None:
            pad = (0, 0, 0, 0)
        elif isinstance(padding, numbers.Integral):
            pad = (int(padding),) * 4
        elif len(padding) == 2:
            pad = (padding[0], padding[1], padding[0], padding[1])
        elif len(padding) == 4:
            pad = tuple(padding)
        else:
            raise ValueError(f"padding must be an int, 2 or 4 ints, got {padding!r}")
        if any(p < 0 for p in pad):
            raise ValueError(f"padding must be non-negative, got {padding!r}")
        self.padding = padding
        self._pad = tuple(int(p) for p in pad)
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill

    def get_params(self, h, w):
        th, tw = self.size
        pl, pt, pr, pb = self._pad
        ph, pw = h + pt + pb, w + pl + pr
        if self.pad_if_needed:
            extra_h, extra_w = max(0, th - ph), max(0, tw - pw)
            pt, pl = pt + extra_h, pl + extra_w
            ph, pw = ph + 2 * extra_h, pw + 2 * extra_w
        if ph < th or pw < tw:
            raise ValueError(f"RandomCrop size {self.size} is larger than the padded image "
                             f"({ph}, {pw}); use pad_if_needed=True or a smaller size")
        rng = self.rng()
        top = int(rng.integers(0, ph - th + 1)) - pt       # two scalar draws: faster than
        left = int(rng.integers(0, pw - tw + 1)) - pl      # one draw with array bounds
        return top, left, th, tw


class RandomResizedCrop(Transform):
    """Crop a random area fraction in ``scale`` with aspect ratio in ``ratio``
    (log-uniform), then resize to ``size`` (torchvision's algorithm: 10 tries, then a
    central crop of the closest allowed ratio)."""

    geometric = True

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 interpolation="bilinear", generator=None):
        super().__init__(generator)
        self.size = _size2(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] <= 0 or ratio[0] <= 0:
            raise ValueError(f"scale and ratio must be positive (min, max), got {scale}, "
                             f"{ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = _check_interp(interpolation)

    def get_params(self, h, w):
        rng = self.rng()
        area = h * w
        log_r = np.log(self.ratio)
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            ar = np.exp(rng.uniform(*log_r))
            cw = int(round(np.sqrt(target * ar)))
            ch = int(round(np.sqrt(target / ar)))
            if 0 < cw <= w and 0 < ch <= h:
                return int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), \
                    ch, cw
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def image(self, img, p):
        top, left, ch, cw = p
        return resize_array(img[top:top + ch, left:left + cw], *self.size,
                            self.interpolation)

    def boxes(self, b, p, h, w):
        top, left, ch, cw = p
        b = _shift_boxes(b, -left, -top)
        b = np.stack([np.clip(b[:, 0], 0, cw), np.clip(b[:, 1], 0, ch),
                      np.clip(b[:, 2], 0, cw), np.clip(b[:, 3], 0, ch)], 1)
        return (b * np.array([self.size[1] / cw, self.size[0] / ch] * 2)).astype(np.float32)

    def mask(self, m, p):
        top, left, ch, cw = p
        return resize_array(m[top:top + ch, left:left + cw], *self.size, "nearest")


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p``: x -> W - x (exact).

    The flipped image is a view of the input (no copy: copying a reversed uint8 image
    costs more than the rest of a CIFAR pipeline). No minicv transform writes into its
    input, so the view is safe; call ``np.ascontiguousarray`` if you need a copy.
    """

    geometric = True

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, h, w):
        return self.rng().random() < self.p

    def image(self, img, flip):
        return img[:, ::-1] if flip else img

    def boxes(self, b, flip, h, w):
        return np.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], 1) if flip else b

    def mask(self, m, flip):
        return m[:, ::-1] if flip else m


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p``: y -> H - y (exact; a view, like
    :class:`RandomHorizontalFlip`)."""

    geometric = True

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, h, w):
        return self.rng().random() < self.p

    def image(self, img, flip):
        return img[::-1] if flip else img

    def boxes(self, b, flip, h, w):
        return np.stack([b[:, 0], h - b[:, 3], b[:, 2], h - b[:, 1]], 1) if flip else b

    def mask(self, m, flip):
        return m[::-1] if flip else m


def _range(value, name, symmetric=True):
    if isinstance(value, numbers.Number):
        if symmetric and value < 0:
            raise ValueError(f"{name} must be non-negative if a single number, got {value}")
        return (-float(value), float(value)) if symmetric else (float(value),) * 2
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{name} must be a number or (min, max), got {value!r}")
    return float(value[0]), float(value[1])


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means (-d, d)),
    counter-clockwise, about the image centre.

    Multiples of 90 degrees are exact (``np.rot90``; for 90 and 270 the height and width
    swap, as with ``expand=True``), so +90 then -90 restores image, boxes and masks
    bit for bit. Other angles resample bilinearly into the same size, filling with
    ``fill``; boxes become the box around the rotated corners, clipped.
    """

    geometric = True

    def __init__(self, degrees, interpolation="bilinear", fill=0, generator=None):
        super().__init__(generator)
        self.degrees = _range(degrees, "degrees")
        self.interpolation = _check_interp(interpolation)
        self.fill = fill

    def get_params(self, h, w):
        lo, hi = self.degrees
        angle = lo if lo == hi else float(self.rng().uniform(lo, hi))
        if float(angle) % 90 == 0:
            return ("rot90", int(round(angle / 90)) % 4, h, w)
        c = (w / 2, h / 2)
        return ("affine", affine_matrix(angle, center=c), h, w)

    def image(self, img, p):
        if p[0] == "rot90":
            return np.ascontiguousarray(np.rot90(img, p[1]))
        return warp_affine(img, p[1], img.shape[:2], self.interpolation, self.fill)

    def boxes(self, b, p, h, w):
        if p[0] == "affine":
            return _boxes_affine(b, p[1])
        k = p[1]
        x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        if k == 0:
            return b
        if k == 1:                       # (x, y) -> (y, W - x)
            return np.stack([y1, w - x2, y2, w - x1], 1)
        if k == 2:                       # (x, y) -> (W - x, H - y)
            return np.stack([w - x2, h - y2, w - x1, h - y1], 1)
        return np.stack([h - y2, x1, h - y1, x2], 1)      # k == 3: (x, y) -> (H - y, x)

    def mask(self, m, p):
        if p[0] == "rot90":
            return np.ascontiguousarray(np.rot90(m, p[1]))
        return warp_affine(m, p[1], m.shape[:2], "nearest", 0)


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear about the centre, in one resampling.

    Args (torchvision's meaning):
        degrees: d or (min, max). translate: (a, b) fractions: shift x in +-a*W, y in +-b*H.
        scale: (min, max) factor. shear: s (x-shear in (-s, s) degrees), (min, max) for x,
            or (xmin, xmax, ymin, ymax).
    """

    geometric = True

    def __init__(self, degrees=0, translate=None, scale=None, shear=None,
                 interpolation="bilinear", fill=0, generator=None):
        super().__init__(generator)
        self.degrees = _range(degrees, "degrees")
        if translate is not None and (len(translate) != 2 or
                                      not all(0 <= t <= 1 for t in translate)):
            raise ValueError(f"translate must be (a, b) fractions in [0, 1], got {translate}")
        self.translate = translate
        if scale is not None and (len(scale) != 2 or scale[0] <= 0 or scale[0] > scale[1]):
            raise ValueError(f"scale must be (min, max) with 0 < min <= max, got {scale}")
        self.scale = scale
        if shear is None:
            self._shear = ((0.0, 0.0), (0.0, 0.0))
        elif isinstance(shear, numbers.Number):
            self._shear = (_range(shear, "shear"), (0.0, 0.0))
        elif len(shear) == 2:
            self._shear = (_range(shear, "shear"), (0.0, 0.0))
        elif len(shear) == 4:
            self._shear = (_range(shear[:2], "shear"), _range(shear[2:], "shear"))
        else:
            raise ValueError(f"shear must be a number, 2 or 4 numbers, got {shear!r}")
        self.shear = shear
        self.interpolation = _check_interp(interpolation)
        self.fill = fill

    def get_params(self, h, w):
        rng = self.rng()
        angle = rng.uniform(*self.degrees)
        tx = ty = 0.0
        if self.translate is not None:
            tx = float(np.round(rng.uniform(-1, 1) * self.translate[0] * w))
            ty = float(np.round(rng.uniform(-1, 1) * self.translate[1] * h))
        s = 1.0 if self.scale is None else rng.uniform(*self.scale)
        sh = (rng.uniform(*self._shear[0]), rng.uniform(*self._shear[1]))
        return affine_matrix(angle, (tx, ty), s, sh, center=(w / 2, h / 2))

    def image(self, img, m):
        return warp_affine(img, m, img.shape[:2], self.interpolation, self.fill)

    def boxes(self, b, m, h, w):
        return _boxes_affine(b, m)

    def mask(self, mk, m):
        return warp_affine(mk, m, mk.shape[:2], "nearest", 0)
