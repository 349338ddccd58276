"""PNG plots drawn with Pillow (no matplotlib needed): training curves and a confusion
matrix. Simple, legible figures for reports; matplotlib users can plot the CSV history."""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75)]


def _font(size=12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:                     # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def plot_curves(series, path, title="", size=(640, 400), xlabel="epoch"):
    """Draw named series (dict name -> list of floats, NaN skipped) as lines in one PNG.

    The y axis spans the finite values; each series gets a colour and a legend entry.
    """
    w, h = size
    left, right, top, bottom = 60, 20, 30, 40
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    font = _font()
    values = np.array([v for s in series.values() for v in s], dtype=float)
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    n = max((len(s) for s in series.values()), default=1)
    sx = lambda i: left + (w - left - right) * (i / max(n - 1, 1))     # noqa: E731
    sy = lambda v: top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))  # noqa: E731
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for frac in np.linspace(0, 1, 5):
        v = lo + frac * (hi - lo)
        d.line([left - 4, sy(v), left, sy(v)], fill="black")
        d.text((4, sy(v) - 6), f"{v:.3g}", fill="black", font=font)
    d.text((left, h - bottom + 8), f"{xlabel} 1..{n}", fill="black", font=font)
    d.text((left, 8), title, fill="black", font=font)
    for k, (name, s) in enumerate(series.items()):
        color = _COLORS[k % len(_COLORS)]
        pts = [(sx(i), sy(v)) for i, v in enumerate(s) if np.isfinite(v)]
        if len(pts) > 1:
            d.line(pts, fill=color, width=2)
        for p in pts:
            d.ellipse([p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2], fill=color)
        lx, ly = w - right - 150, top + 12 + 14 * k
        d.line([lx, ly, lx + 14, ly], fill=color, width=2)       # legend swatch
        d.text((lx + 18, ly - 6), name, fill=color, font=font)
    img.save(path)
    return path


def plot_confusion(cm, path, class_names=None, cell=36):
    """A confusion matrix as a heat map (rows: true class, columns: prediction)."""
    cm = np.asarray(cm)
    c = cm.shape[0]
    names = class_names or [str(i) for i in range(c)]
    margin = 70
    width = max(margin + c * cell + 10, 230)         # room for the title line
    img = Image.new("RGB", (width, margin + c * cell + 10), "white")
    d = ImageDraw.Draw(img)
    font = _font(10)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    for i in range(c):
        d.text((4, margin + i * cell + cell // 3), names[i][:8], fill="black", font=font)
        d.text((margin + i * cell + 2, margin - 16), names[i][:5], fill="black", font=font)
        for j in range(c):
            shade = int(255 * (1 - rows[i, j]))
            box = [margin + j * cell, margin + i * cell, margin + (j + 1) * cell - 1,
                   margin + (i + 1) * cell - 1]
            d.rectangle(box, fill=(shade, shade, 255), outline=(200, 200, 200))
            d.text((box[0] + 3, box[1] + cell // 3), str(int(cm[i, j])),
                   fill="black" if shade > 120 else "white", font=font)
    d.text((margin, 4), "true (rows) vs predicted (columns)", fill="black", font=font)
    img.save(path)
    return path
