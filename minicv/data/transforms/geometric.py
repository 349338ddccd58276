"""Geometric transforms: they move the image, its boxes and its masks together.

Coordinates: pixel ``(row r, col c)`` covers the square ``[c, c+1] x [r, r+1]``, so an
image spans ``[0, W] x [0, H]`` and boxes are ``(x1, y1, x2, y2)`` in those units. Flips,
90-degree rotations and crops are exact (array slicing, no resampling). Other angles,
scales and shears resample with an inverse affine map: every output pixel centre is
mapped back into the input and read nearest (torchvision's default for rotations and
affine maps; ``interpolation="bilinear"`` on request) or bilinearly (resizes); masks are
always read nearest. Boxes map their four corners forward and take the enclosing box.

Angles follow torchvision: :class:`RandomRotation` turns counter-clockwise for a positive
angle, :class:`RandomAffine` (like torchvision's ``affine``) clockwise.
"""
import numbers

import numpy as np

from .base import Transform

__all__ = ["Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "Pad", "affine_matrix",
           "warp_affine", "resize_array"]

_INTERP = ("bilinear", "nearest")
_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _size2(size, name):
    """int s -> (s, s); (s,) -> (s, s); (h, w) -> (h, w), as torchvision reads sizes."""
    if isinstance(size, (tuple, list)) and len(size) == 1:
        size = size[0]
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(s, numbers.Integral) for s in size):
        return int(size[0]), int(size[1])
    raise ValueError(f"{name} size must be an int or (height, width), got {size!r}")


def _padding4(padding, name):
    """torchvision's padding forms -> (left, top, right, bottom): an int for all sides,
    (left/right, top/bottom), or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        pad = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 1:
        pad = (padding[0],) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        pad = (padding[0], padding[1], padding[0], padding[1])
    elif isinstance(padding, (tuple, list)) and len(padding) == 4:
        pad = tuple(padding)
    else:
        raise ValueError(f"{name} padding must be an int, 2 or 4 ints, got {padding!r}")
    if any(p < 0 for p in pad):
        raise ValueError(f"{name} padding must be non-negative, got {padding!r}")
    return tuple(int(p) for p in pad)


def _check_pad_mode(mode):
    if mode not in _PAD_MODES:
        raise ValueError(f"padding_mode must be one of {_PAD_MODES}, got {mode!r}")
    return mode


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


def _antialias_weights(n_out, n_in):
    """(n_out, n_in) weights of antialiased bilinear resampling along one axis (Pillow's
    BILINEAR, which torch's ``interpolate(..., antialias=True)`` reproduces): output pixel
    i averages the input pixels under a triangle centred at ``(i + 0.5) * n_in / n_out``
    whose half-width grows with the shrink factor, so that every input pixel contributes
    (no aliasing); see :func:`minicv.ops.vision._aa_weights`, which builds it."""
    from ...ops.vision import _aa_weights
    return _aa_weights(n_in, n_out, "bilinear", False, None).astype(np.float32)


def resize_array(a, oh, ow, interpolation="bilinear", antialias=False):
    """Resize (H, W[, C]) to (oh, ow[, C]): separable bilinear (half-pixel centres, as
    torch's ``align_corners=False``) or nearest; ``antialias=True`` low-pass filters
    when shrinking (see :func:`_antialias_weights`)."""
    h, w = a.shape[:2]
    if (h, w) == (oh, ow):
        return a.copy()
    if interpolation == "bilinear" and antialias and (oh < h or ow < w):
        f = a.astype(np.float32)
        wy = _antialias_weights(oh, h)                                  # (oh, H)
        wx = _antialias_weights(ow, w)                                  # (ow, W)
        rows = np.tensordot(wy, f, axes=(1, 0))                         # (oh, W[, C])
        out = np.moveaxis(np.tensordot(wx, rows, axes=(1, 1)), 0, 1)    # (oh, ow[, C])
        return _restore_dtype(out, a)
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
    ``T(center + translate) @ R(angle) @ S(scale) @ ShY(shear[1]) @ ShX(shear[0])
    @ T(-center)``, angle and shear in degrees.

    A positive angle turns counter-clockwise on screen (y points down), like torchvision's
    ``rotate``; torchvision's ``affine`` turns clockwise, so :class:`RandomAffine` passes
    ``-angle``. The shears are torchvision's: ``ShX = [[1, -tan sx], [0, 1]]``,
    ``ShY = [[1, 0], [-tan sy, 1]]``.
    """
    a = np.deg2rad(angle)
    tx, ty = np.tan(np.deg2rad(shear[0])), np.tan(np.deg2rad(shear[1]))
    cx, cy = center
    t_back = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    shx = np.array([[1, -tx, 0], [0, 1, 0], [0, 0, 1]], np.float64)
    shy = np.array([[1, 0, 0], [-ty, 1, 0], [0, 0, 1]], np.float64)
    s = np.diag([scale, scale, 1.0])
    r = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    t_fwd = np.array([[1, 0, cx + translate[0]], [0, 1, cy + translate[1]], [0, 0, 1]])
    return t_fwd @ r @ s @ shy @ shx @ t_back


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
    f = np.empty((h + 2, w + 2) + a.shape[2:], np.float32)   # a one-pixel border of fill
    f[...] = fill                                              # (a number or per channel)
    f[1:-1, 1:-1] = a
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


def _crop(a, top, left, th, tw, fill=0, padding_mode="constant"):
    """Window [top, top+th) x [left, left+tw) of ``a``; parts outside read ``fill``, or,
    for another ``padding_mode``, what ``np.pad`` puts there ('edge': the border pixel
    repeated; 'reflect': mirrored without repeating the border; 'symmetric': with it)."""
    h, w = a.shape[:2]
    if top >= 0 and left >= 0 and top + th <= h and left + tw <= w:
        return a[top:top + th, left:left + tw].copy()
    if padding_mode != "constant":
        pt, pl = max(0, -top), max(0, -left)
        pb, pr = max(0, top + th - h), max(0, left + tw - w)
        padded = np.pad(a, [(pt, pb), (pl, pr)] + [(0, 0)] * (a.ndim - 2), padding_mode)
        return padded[top + pt:top + pt + th, left + pl:left + pl + tw].copy()
    out = np.full((th, tw) + a.shape[2:], fill, a.dtype)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + th, h), min(left + tw, w)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = a[y0:y1, x0:x1]
    return out


def _shift_boxes(b, dx, dy):
    return (b + np.array([dx, dy, dx, dy], np.float32)).astype(np.float32)


class Resize(Transform):
    """Resize to ``size``: (h, w), or an int for the shorter side with the aspect ratio
    kept (the longer side becomes ``int(size * long / short)``), as torchvision.

    Args:
        size: int or (h, w) (a 1-element list counts as an int).
        interpolation: "bilinear" (default) or "nearest".
        max_size: with an int ``size``, the longest the longer side may become; if it
            would be longer, it is set to ``max_size`` and the shorter side to
            ``int(max_size * short / long)`` (so it may end up below ``size``).
        antialias: low-pass filter when shrinking (default True, as torchvision and
            Pillow); ``False`` samples plain bilinear, which aliases on large downscales.

    Masks are resized "nearest"; boxes are scaled.
    """

    geometric = True

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        super().__init__()
        if isinstance(size, (tuple, list)) and len(size) == 1:
            size = size[0]
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            if size <= 0:
                raise ValueError(f"Resize size must be positive, got {size}")
            self.size = int(size)
        else:
            self.size = _size2(size, "Resize")
        self.interpolation = _check_interp(interpolation)
        if max_size is not None:
            if not isinstance(self.size, int):
                raise ValueError(f"max_size is only allowed with an int size (the shorter "
                                 f"side), got size={size!r}")
            if max_size <= self.size:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size of the shorter side, {self.size}")
        self.max_size = max_size
        self.antialias = bool(antialias)

    def get_params(self, h, w):
        if not isinstance(self.size, int):
            return self.size
        short, long = min(h, w), max(h, w)
        new_short, new_long = self.size, int(self.size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_short, new_long) if h <= w else (new_long, new_short)

    def image(self, img, p):
        return resize_array(img, p[0], p[1], self.interpolation, self.antialias)

    def boxes(self, b, p, h, w):
        return (b * np.array([p[1] / w, p[0] / h] * 2, np.float32)).astype(np.float32)

    def mask(self, m, p):
        return resize_array(m, p[0], p[1], "nearest")


class _CropBase(Transform):
    geometric = True
    fill = 0
    padding_mode = "constant"

    def image(self, img, p):
        top, left, th, tw = p
        return _crop(img, top, left, th, tw, self.fill, self.padding_mode)

    def boxes(self, b, p, h, w):
        return _shift_boxes(b, -p[1], -p[0])

    def mask(self, m, p):
        return _crop(m, p[0], p[1], p[2], p[3], 0, self.padding_mode)


def _center_offset(n, tn):
    """torchvision's placement of a centred window of tn pixels on an axis of n: a crop
    starts at ``int(round((n - tn) / 2))`` (Python rounds halves to even), and a window
    larger than the image pads ``(tn - n) // 2`` before and the rest after."""
    if tn > n:
        return -((tn - n) // 2)
    return int(round((n - tn) / 2.0))


class CenterCrop(_CropBase):
    """The central (h, w) window; an image smaller than the window is padded with zeros
    (the odd pixel of padding goes after: bottom / right), as torchvision."""

    def __init__(self, size):
        super().__init__()
        self.size = _size2(size, "CenterCrop")

    def get_params(self, h, w):
        th, tw = self.size
        return _center_offset(h, th), _center_offset(w, tw), th, tw


class Pad(_CropBase):
    """Pad the borders: ``padding`` is an int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom); ``padding_mode`` is 'constant' (with ``fill``, a number or
    one per channel), 'edge', 'reflect' or 'symmetric' (see :func:`_crop`). Boxes shift
    by (left, top); masks are padded with 0 ('constant') or like the image."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        self._pad = _padding4(padding, "Pad")
        self.padding, self.fill = padding, fill
        self.padding_mode = _check_pad_mode(padding_mode)

    def get_params(self, h, w):
        pl, pt, pr, pb = self._pad
        return -pt, -pl, h + pt + pb, w + pl + pr


class RandomCrop(_CropBase):
    """A random (h, w) window, after padding the borders.

    ``padding``: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
    ``pad_if_needed``: pad an image smaller than the window by the shortfall on both
    sides. ``fill`` and ``padding_mode`` as in :class:`Pad`. CIFAR's classic augmentation
    is ``RandomCrop(32, padding=4)``. With 'constant' padding the padded image is never
    materialised: the window is cut from the virtual padded image.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant", generator=None):
        super().__init__(generator)
        self.size = _size2(size, "RandomCrop")
        self._pad = (0, 0, 0, 0) if padding is None else _padding4(padding, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.padding_mode = _check_pad_mode(padding_mode)

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
    """Crop a random area fraction in ``scale`` with aspect ratio (w / h) in ``ratio``
    (log-uniform), then resize to ``size``, antialiased if ``antialias`` (torchvision's
    algorithm: 10 tries, then a central crop of the closest allowed ratio)."""

    geometric = True

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 interpolation="bilinear", antialias=True, generator=None):
        super().__init__(generator)
        self.size = _size2(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] <= 0 or ratio[0] <= 0:
            raise ValueError(f"scale and ratio must be positive (min, max), got {scale}, "
                             f"{ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = _check_interp(interpolation)
        self.antialias = bool(antialias)

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
                            self.interpolation, self.antialias)

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
    counter-clockwise, about ``center`` ((x, y) in pixel-edge coordinates; default the
    image centre), as torchvision's ``RandomRotation``.

    Args:
        interpolation: "nearest" (torchvision's default) or "bilinear".
        expand: grow the output to hold the whole rotated image (torchvision's size rule:
            the box around the rotated corners, rounded outwards); else keep (H, W) and
            lose the corners.
        fill: value for the area outside the input (a number or one per channel).

    Multiples of 90 degrees about the centre are exact (``np.rot90``) whenever the result
    keeps its shape: 180 degrees, square images, or ``expand=True`` (then +90 followed by
    -90 restores image, boxes and masks bit for bit). Boxes become the box around their
    rotated corners, clipped; masks are resampled "nearest".
    """

    geometric = True

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0,
                 generator=None):
        super().__init__(generator)
        self.degrees = _range(degrees, "degrees")
        self.interpolation = _check_interp(interpolation)
        self.expand = bool(expand)
        if center is not None and len(center) != 2:
            raise ValueError(f"center must be (x, y), got {center!r}")
        self.center = center
        self.fill = fill

    def get_params(self, h, w):
        lo, hi = self.degrees
        angle = lo if lo == hi else float(self.rng().uniform(lo, hi))
        k = int(round(angle / 90)) % 4
        if float(angle) % 90 == 0 and self.center is None and \
                (k % 2 == 0 or h == w or self.expand):
            return ("rot90", k, h, w)
        m = affine_matrix(angle, center=(w / 2, h / 2) if self.center is None else
                          tuple(self.center))
        oh, ow = h, w
        if self.expand:
            ow, oh = _expanded_size(m, h, w)
            m = np.array([[1, 0, (ow - w) / 2], [0, 1, (oh - h) / 2], [0, 0, 1]]) @ m
        return ("affine", m, oh, ow)

    def image(self, img, p):
        if p[0] == "rot90":
            return np.ascontiguousarray(np.rot90(img, p[1]))
        return warp_affine(img, p[1], p[2:], self.interpolation, self.fill)

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
        return warp_affine(m, p[1], p[2:], "nearest", 0)


def _expanded_size(m, h, w):
    """(width, height) of torchvision's ``expand=True`` canvas: the box around the image
    corners mapped by the inverse rotation, its coordinates first truncated to 1e-4 so
    that rounding noise (90 degrees: 1e-15) does not add a pixel, then rounded outwards."""
    inv = np.linalg.inv(m)
    corners = np.array([[0, 0, 1], [0, h, 1], [w, h, 1], [w, 0, 1]], np.float64).T
    pts = (inv @ corners)[:2]                                     # (2, 4): x and y rows
    tol = 1e-4
    hi = np.ceil(np.trunc(pts.max(1) / tol) * tol)
    lo = np.floor(np.trunc(pts.min(1) / tol) * tol)
    size = hi - lo
    return int(size[0]), int(size[1])


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear about the centre, in one resampling.

    Args (torchvision's meaning and conventions):
        degrees: d or (min, max). As torchvision's ``affine``, a positive angle turns
            clockwise (:class:`RandomRotation` turns counter-clockwise).
        translate: (a, b) fractions: shift x by ``round(U(-a*W, a*W))``, y likewise.
        scale: (min, max) factor. shear: s (x-shear in (-s, s) degrees), (min, max) for x,
            or (xmin, xmax, ymin, ymax); the shear matrices of :func:`affine_matrix`.
        interpolation: "nearest" (torchvision's default) or "bilinear".
        fill: value outside the input. center: (x, y), default the image centre.
    """

    geometric = True

    def __init__(self, degrees=0, translate=None, scale=None, shear=None,
                 interpolation="nearest", fill=0, center=None, generator=None):
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
        if center is not None and len(center) != 2:
            raise ValueError(f"center must be (x, y), got {center!r}")
        self.center = center

    def get_params(self, h, w):
        rng = self.rng()
        angle = rng.uniform(*self.degrees)
        tx = ty = 0.0
        if self.translate is not None:
            tx = float(np.round(rng.uniform(-1, 1) * self.translate[0] * w))
            ty = float(np.round(rng.uniform(-1, 1) * self.translate[1] * h))
        s = 1.0 if self.scale is None else rng.uniform(*self.scale)
        sh = (rng.uniform(*self._shear[0]), rng.uniform(*self._shear[1]))
        c = (w / 2, h / 2) if self.center is None else tuple(self.center)
        return affine_matrix(-angle, (tx, ty), s, sh, center=c)     # clockwise: -angle

    def image(self, img, m):
        return warp_affine(img, m, img.shape[:2], self.interpolation, self.fill)

    def boxes(self, b, m, h, w):
        return _boxes_affine(b, m)

    def mask(self, mk, m):
        return warp_affine(mk, m, mk.shape[:2], "nearest", 0)
