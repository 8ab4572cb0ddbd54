"""Burnt-in distractors: microscope info bar, scale bar and panel letters."""

from __future__ import annotations

import numpy as np

from ._config import OverlayConfig

__all__ = ["draw_overlays"]

_INFO_WORDS = ("EHT = 20.00 kV", "WD = 2.8 mm", "Mag = 50.00 K X", "Signal A = InLens",
               "Date :18 Jul 2019", "HV 15.0 kV", "Det TLD", "Spot 3.0", "File Name = x.tif")
_UNITS = ("nm", "nm", "nm", "um")


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=max(int(size), 6))


def _scalebar(draw, h, w, ink, rng):
    length = int(w * rng.uniform(0.1, 0.3))
    thick = max(2, int(h * rng.uniform(0.008, 0.02)))
    fs = max(8, int(h * rng.uniform(0.04, 0.08)))
    left = rng.random() < 0.5
    x0 = int(w * 0.05) if left else int(w * 0.95) - length
    y0 = int(h * rng.uniform(0.86, 0.94))
    if rng.random() < 0.4:  # solid box behind the bar
        draw.rectangle([x0 - 4, y0 - fs - 8, x0 + length + 4, y0 + thick + 4], fill=255 - ink)
    draw.rectangle([x0, y0, x0 + length, y0 + thick], fill=ink)
    text = f"{int(rng.choice([1, 2, 5, 10, 20, 50, 100, 200, 500]))} {rng.choice(_UNITS)}"
    draw.text((x0, y0 - fs - 4), text, fill=ink, font=_font(fs))


def _infobar(draw, h, w, frac, rng):
    top = h - max(int(h * frac), 8)
    draw.rectangle([0, top, w, h], fill=int(rng.integers(0, 30)))
    fs = max(6, int((h - top) * 0.35))
    font = _font(fs)
    x = 4
    for word in rng.permutation(_INFO_WORDS)[: int(rng.integers(2, 6))]:
        y = top + int(rng.uniform(0.05, 0.5) * (h - top))
        draw.text((x, y), str(word), fill=int(rng.integers(200, 256)), font=font)
        x += int(len(word) * fs * 0.6) + 10
        if x > w:
            break
    return top


def draw_overlays(image: np.ndarray, cfg: OverlayConfig, rng: np.random.Generator):
    """Burn overlays into ``image`` (float32 (H, W) in [0, 1]).

    Returns
    -------
    image : (H, W) ndarray of float32
    covered : (H, W) ndarray of bool
        Pixels hidden by an overlay (to be removed from the labels).
    """
    from PIL import Image, ImageDraw

    h, w = image.shape
    if not (cfg.infobar > 0 or cfg.scalebar or cfg.panel_label):
        return image, np.zeros((h, w), bool)
    paint = Image.new("L", (w, h), 0)
    alpha = Image.new("L", (w, h), 0)
    ink = 255 if rng.random() < 0.7 else 0
    seed = int(rng.integers(2**32))
    # same random stream twice: once for grey values, once for the coverage mask
    _draw_all(ImageDraw.Draw(paint), h, w, cfg, ink, None, np.random.default_rng(seed))
    _draw_all(ImageDraw.Draw(alpha), h, w, cfg, ink, 255, np.random.default_rng(seed))
    p = np.asarray(paint, np.float32) / 255
    a = np.asarray(alpha) > 0
    return np.where(a, p, image).astype(np.float32), a


def _draw_all(draw, h, w, cfg, ink, colour, rng):
    """Draw every overlay; ``colour`` forces one fill value (for the coverage mask)."""

    class _Forced:
        def __init__(self, d):
            self.d = d

        def rectangle(self, xy, fill):
            self.d.rectangle(xy, fill=colour if colour is not None else fill)

        def text(self, xy, text, fill, font):
            self.d.text(xy, text, fill=colour if colour is not None else fill, font=font)

    dr = _Forced(draw)
    if cfg.infobar > 0:
        _infobar(dr, h, w, cfg.infobar, rng)
    if cfg.scalebar:
        _scalebar(dr, h, w, ink, rng)
    if cfg.panel_label:
        fs = max(10, int(h * rng.uniform(0.06, 0.12)))
        text = str(rng.choice(["a", "b", "(c)", "(d)", "B2", "e", "(f)", "A", "b2"]))
        x, y = int(rng.uniform(0.01, 0.05) * w), int(rng.uniform(0.01, 0.05) * h)
        if rng.random() < 0.3:
            dr.rectangle([x - 2, y - 2, x + fs * len(text) * 0.7 + 2, y + fs + 2], fill=255 - ink)
        dr.text((x, y), text, fill=ink, font=_font(fs))
