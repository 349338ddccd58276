"""Photometric transforms: they change pixel values, never geometry (boxes and masks
pass through). They work on uint8 images in [0, 255] and float images in [0, 1]; uint8
results are rounded and clipped back to uint8.
"""
import numbers

import numpy as np

from .base import Transform, _is_pil

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale", "GaussianNoise", "GaussianBlur",
           "EqualizeHistogram", "GrayWorld", "RandomIllumination", "rgb_to_hsv",
           "hsv_to_rgb"]

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)    # ITU-R 601, as PIL and torchvision


def to_unit(img):
    """float32 copy in [0, 1] and a function restoring the input's dtype/scale."""
    if img.dtype == np.uint8:
        return img.astype(np.float32) * (1 / 255), \
            lambda f: np.clip(np.rint(f * 255), 0, 255).astype(np.uint8)
    return img.astype(np.float32), lambda f: f.astype(img.dtype, copy=False)


def _gray(f):
    return f @ _LUMA if f.ndim == 3 and f.shape[2] == 3 else f.mean(-1) if f.ndim == 3 else f


def rgb_to_hsv(rgb):
    """(..., 3) RGB in [0, 1] -> HSV in [0, 1] (hue as a fraction of the circle)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = rgb.max(-1)
    mn = rgb.min(-1)
    d = mx - mn
    safe = np.where(d > 0, d, 1)
    h = np.where(mx == r, (g - b) / safe % 6, np.where(mx == g, (b - r) / safe + 2,
                                                       (r - g) / safe + 4)) / 6
    h = np.where(d > 0, h, 0)
    s = np.where(mx > 0, d / np.where(mx > 0, mx, 1), 0)
    return np.stack([h % 1.0, s, mx], -1).astype(np.float32)


def hsv_to_rgb(hsv):
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    i = np.floor(h * 6) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [np.stack(c, -1) for c in ((v, t, p), (q, v, p), (p, v, t), (p, q, v),
                                         (t, p, v), (v, p, q))]
    out = np.zeros(hsv.shape, np.float32)
    for k, c in enumerate(choices):
        out = np.where((i == k)[..., None], c, out)
    return out


def _factor_range(value, name, center=1.0, bound=None):
    if value is None:
        return None
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
        if value == 0:
            return None
        lo, hi = center - value, center + value
        if center == 1.0:
            lo = max(lo, 0.0)
    else:
        if len(value) != 2 or value[0] > value[1]:
            raise ValueError(f"{name} must be a number or (min, max), got {value!r}")
        lo, hi = float(value[0]), float(value[1])
        if (lo, hi) == (center, center):
            return None
    if bound is not None and not (bound[0] <= lo <= hi <= bound[1]):
        raise ValueError(f"{name} range must lie in {bound}, got {(lo, hi)}")
    return float(lo), float(hi)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, applied in a random order.

    A number ``b`` for brightness/contrast/saturation draws a factor in
    ``[max(0, 1 - b), 1 + b]``; ``hue`` h in [0, 0.5] shifts the hue by a fraction in
    ``[-h, h]`` of the colour circle. Brightness multiplies; contrast blends with the mean
    grey level; saturation blends with the grey image. Zero strength is the identity.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, generator=None):
        super().__init__(generator)
        inf = float("inf")
        self.brightness = _factor_range(brightness, "brightness", bound=(0.0, inf))
        self.contrast = _factor_range(contrast, "contrast", bound=(0.0, inf))
        self.saturation = _factor_range(saturation, "saturation", bound=(0.0, inf))
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5))

    def get_params(self, h, w):
        rng = self.rng()
        order = rng.permutation(4)
        draws = [None if r is None else float(rng.uniform(*r))
                 for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        return order, draws

    def image(self, img, p):
        order, draws = p
        if all(d is None for d in draws):
            return img
        f, back = to_unit(img)
        color = f.ndim == 3 and f.shape[2] == 3
        for k in order:
            d = draws[k]
            if d is None:
                continue
            if k == 0:
                f = f * d
            elif k == 1:
                m = _gray(f).mean()
                f = (f - m) * d + m
            elif k == 2 and color:
                g = _gray(f)[..., None]
                f = (f - g) * d + g
            elif k == 3 and color:
                hsv = rgb_to_hsv(np.clip(f, 0, 1))
                hsv[..., 0] = (hsv[..., 0] + d) % 1.0
                f = hsv_to_rgb(hsv)
            f = np.clip(f, 0, 1)
        return back(f)


class Grayscale(Transform):
    """RGB -> luma ``0.299 R + 0.587 G + 0.114 B``, as 1 channel or repeated in 3
    (``num_output_channels``). With 1 channel an ndarray becomes (H, W), a Tensor
    (1, H, W) and a PIL image mode 'L' (Pillow's own conversion, as torchvision); with 3,
    (H, W, 3), (3, H, W) and 'RGB'. A one-channel input is just reshaped / repeated."""

    def __init__(self, num_output_channels=1):
        super().__init__()
        if num_output_channels not in (1, 3):
            raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def image(self, img, p):
        f, back = to_unit(img)
        if f.ndim == 3 and f.shape[2] == 3:
            g = _gray(f)                                        # (H, W)
        elif f.ndim == 3 and f.shape[2] == 1:
            g = f[..., 0]
        elif f.ndim == 2:
            g = f
        else:
            raise ValueError(f"Grayscale takes 1 or 3 channels, got shape {img.shape}")
        return back(g if self.num_output_channels == 1 else np.repeat(g[..., None], 3, 2))

    def __call__(self, x):
        if _is_pil(x):                  # Pillow's own conversion, as torchvision uses
            g = x.convert("L")
            return g if self.num_output_channels == 1 else g.convert("RGB")
        return super().__call__(x)


class RandomGrayscale(Transform):
    """With probability ``p`` replace RGB by its luma, repeated in all 3 channels."""

    def __init__(self, p=0.1, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, h, w):
        return self.rng().random() < self.p

    def image(self, img, go):
        if not go or img.ndim != 3 or img.shape[2] != 3:
            return img
        f, back = to_unit(img)
        return back(np.repeat(_gray(f)[..., None], 3, axis=2))


class GaussianNoise(Transform):
    """Add N(mean, sigma^2) noise per pixel (units of the [0, 1] scale; sigma may be a
    (min, max) range drawn per image), then clip to the valid range if ``clip``."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True, generator=None):
        super().__init__(generator)
        self.mean = float(mean)
        self.sigma = _factor_range(sigma, "sigma", center=0.0) if not \
            isinstance(sigma, numbers.Number) else (float(sigma), float(sigma))
        if self.sigma is not None and self.sigma[0] < 0:
            raise ValueError(f"sigma must be non-negative, got {sigma}")
        self.clip = bool(clip)

    def get_params(self, h, w):
        rng = self.rng()
        return float(rng.uniform(*self.sigma)) if self.sigma else 0.0, rng

    def image(self, img, p):
        sigma, rng = p
        f, back = to_unit(img)
        f = f + (self.mean + sigma * rng.standard_normal(f.shape, np.float32))
        return back(np.clip(f, 0, 1) if self.clip else f)


def gaussian_kernel1d(ksize, sigma):
    x = np.arange(ksize, dtype=np.float32) - (ksize - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def blur(img, ksize, sigma):
    """Separable Gaussian blur with reflect padding (float32 in and out); ``ksize`` is
    an odd int or (kx, ky): taps along the width and along the height."""
    kx, ky = (ksize, ksize) if isinstance(ksize, numbers.Integral) else ksize
    gx, gy = gaussian_kernel1d(kx, sigma), gaussian_kernel1d(ky, sigma)
    rx, ry = kx // 2, ky // 2
    h, w = img.shape[:2]
    pad = [(ry, ry), (rx, rx)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img, pad, mode="reflect" if h > ry and w > rx else "edge")
    tmp = sum(gy[j] * p[j:j + h] for j in range(ky))              # (H, W + 2 rx[, C])
    return sum(gx[j] * tmp[:, j:j + w] for j in range(kx))        # (H, W[, C])


class GaussianBlur(Transform):
    """Blur with an odd ``kernel_size`` and sigma drawn from ``sigma`` (a number or
    (min, max)), one sigma for both axes, reflect padding, as torchvision.

    ``kernel_size`` is an int or torchvision's ``(kx, ky)``: kx taps along the width,
    ky along the height.
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0), generator=None):
        super().__init__(generator)
        ks = (kernel_size,) * 2 if isinstance(kernel_size, numbers.Integral) else \
            tuple(kernel_size)
        if len(ks) != 2 or any(int(k) != k or k <= 0 or k % 2 == 0 for k in ks):
            raise ValueError(f"kernel_size must be a positive odd int or two of them "
                             f"(kx, ky), got {kernel_size!r}")
        self.kernel_size = (int(ks[0]), int(ks[1]))
        self.sigma = (float(sigma),) * 2 if isinstance(sigma, numbers.Number) else \
            (float(sigma[0]), float(sigma[1]))
        if self.sigma[0] <= 0 or self.sigma[0] > self.sigma[1]:
            raise ValueError(f"sigma must be positive (min <= max), got {sigma}")

    def get_params(self, h, w):
        return float(self.rng().uniform(*self.sigma))

    def image(self, img, sigma):
        f, back = to_unit(img)
        return back(blur(f, self.kernel_size, sigma))

    def __repr__(self):
        return f"GaussianBlur(kernel_size={self.kernel_size}, sigma={self.sigma})"


class EqualizeHistogram(Transform):
    """Histogram equalisation per channel (on 256 levels), with probability ``p``:
    each level maps to its cumulative frequency, spreading the used range over 0..255."""

    def __init__(self, p=1.0, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, h, w):
        return self.p >= 1.0 or self.rng().random() < self.p

    def image(self, img, go):
        if not go:
            return img
        u8 = img if img.dtype == np.uint8 else \
            np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
        chans = u8[..., None] if u8.ndim == 2 else u8
        out = np.empty_like(chans)
        for c in range(chans.shape[2]):
            ch = chans[..., c]
            hist = np.bincount(ch.ravel(), minlength=256)
            nz = hist[hist > 0]
            if len(nz) <= 1:
                out[..., c] = ch
                continue
            # PIL's ImageOps.equalize rule: step over all but the last used level
            step = (hist.sum() - nz[-1]) // 255
            if step == 0:
                out[..., c] = ch
                continue
            lut = (np.concatenate([[0], np.cumsum(hist)[:-1]]) + step // 2) // step
            out[..., c] = np.clip(lut, 0, 255).astype(np.uint8)[ch]
        out = out[..., 0] if u8.ndim == 2 else out
        return out if img.dtype == np.uint8 else out.astype(img.dtype) / 255


class GrayWorld(Transform):
    """Colour constancy by the grey-world assumption (Buchsbaum 1980): scale each channel
    so its mean equals the mean over all channels, removing a global colour cast."""

    def __init__(self, p=1.0, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, h, w):
        return self.p >= 1.0 or self.rng().random() < self.p

    def image(self, img, go):
        if not go or img.ndim != 3:
            return img
        f, back = to_unit(img)
        means = f.reshape(-1, f.shape[2]).mean(0)
        gain = means.mean() / np.maximum(means, 1e-6)
        return back(np.clip(f * gain, 0, 1))


class RandomIllumination(Transform):
    """Uneven, changed lighting: gamma ``f ** g`` with g drawn log-uniformly in ``gamma``,
    times a linear light gradient ``1 + a * d`` where d runs from -1 to 1 across the image
    in a random direction and ``a`` is drawn in ``[-gradient, gradient]``."""

    def __init__(self, gamma=(0.7, 1.5), gradient=0.3, p=1.0, generator=None):
        super().__init__(generator)
        if gamma[0] <= 0 or gamma[0] > gamma[1]:
            raise ValueError(f"gamma must be (min, max) with 0 < min <= max, got {gamma}")
        if not 0 <= gradient < 1:
            raise ValueError(f"gradient must lie in [0, 1), got {gradient}")
        self.gamma = tuple(float(g) for g in gamma)
        self.gradient = float(gradient)
        self.p = float(p)

    def get_params(self, h, w):
        rng = self.rng()
        if rng.random() >= self.p:
            return None
        g = float(np.exp(rng.uniform(np.log(self.gamma[0]), np.log(self.gamma[1]))))
        return g, float(rng.uniform(-self.gradient, self.gradient)), \
            float(rng.uniform(0, 2 * np.pi))

    def image(self, img, p):
        if p is None:
            return img
        g, a, angle = p
        f, back = to_unit(img)
        h, w = f.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = np.cos(angle) * (2 * xx / max(w - 1, 1) - 1) + \
            np.sin(angle) * (2 * yy / max(h - 1, 1) - 1)
        light = 1 + a * d / np.sqrt(2)
        if f.ndim == 3:
            light = light[..., None]
        return back(np.clip(np.power(np.clip(f, 0, 1), g) * light, 0, 1))
