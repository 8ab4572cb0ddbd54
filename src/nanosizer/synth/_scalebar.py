"""Scale bars of known length drawn into synthetic micrographs (a benchmark for the reader).

Unlike the distractor bars of :mod:`nanosizer.synth._overlay`, these bars are true: the label is
a round length and the bar is exactly ``label / pixel size`` pixels long, its ends drawn with
sub-pixel (area) anti-aliasing.  Styles, polarity, fonts, sizes, label placement, decimal
comma and µm/um spelling vary at random.  Like a microscope's or an author's bar, each bar is
legible: drawn straight on the image only where its ends stand out from what lies around them
(in the polarity that does), otherwise on a plain patch that encloses bar, ticks and label.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["ScaleBarTruth", "draw_scale_bar"]

_NICE = (1, 2, 2.5, 5)
_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "LiberationSans-Regular.ttf")
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


@dataclass(frozen=True)
class ScaleBarTruth:
    """The bar drawn into an image: its true length and label."""

    label: str
    length_nm: float
    length_px: float
    x0: float
    row: int
    style: str
    polarity: str
    font: str

    def to_dict(self) -> dict:
        """JSON/CSV-ready fields."""
        return asdict(self)


def _font(name: str, size: int):
    from PIL import ImageFont

    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size), name
    return ImageFont.load_default(size=size), "Pillow default"


def _label(length_nm: float, rng: np.random.Generator) -> str:
    if length_nm >= 1000 and rng.random() < 0.8:
        value, unit = length_nm / 1000, rng.choice(["µm", "um"])
    else:
        value, unit = length_nm, "nm"
    text = f"{value:g}"
    if "." in text and rng.random() < 0.4:
        text = text.replace(".", ",")
    return f"{text}{' ' if rng.random() < 0.85 else ''}{unit}"


def _pick_length(pixel_nm: float, width: int, rng: np.random.Generator) -> float:
    target = pixel_nm * width * rng.uniform(0.1, 0.3)
    exponent = np.floor(np.log10(target))
    options = [m * 10**e for e in (exponent - 1, exponent, exponent + 1) for m in _NICE]
    fits = [v for v in options if 0.06 * width <= v / pixel_nm <= 0.35 * width]
    return float(rng.choice(fits)) if fits else float(options[len(options) // 2])


def draw_scale_bar(image: np.ndarray, pixel_size_nm: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, ScaleBarTruth]:
    """Draw a true scale bar with its label into an 8-bit image.

    Parameters
    ----------
    image : (H, W) ndarray of uint8
        The micrograph (not modified).
    pixel_size_nm : float
        The image's true pixel size.
    rng : numpy Generator
        Source of the random style, font, size and position.

    Returns
    -------
    image : (H, W) ndarray of uint8
        A copy with the bar and label.
    truth : ScaleBarTruth
        The bar's true length (``length_nm / pixel_size_nm`` px) and label.
    """
    from PIL import Image, ImageDraw

    h, w = image.shape
    length_nm = _pick_length(pixel_size_nm, w, rng)
    length_px = length_nm / pixel_size_nm
    style = str(rng.choice(["solid", "solid", "framed", "ticks"]))
    patch = rng.random() < 0.4  # a plain patch behind bar and label
    polarity = str(rng.choice(["light", "dark"]))
    thick = int(max(3 if style == "framed" else 2, round(h * rng.uniform(0.006, 0.02))))
    size = int(max(10, round(h * rng.uniform(0.03, 0.06))))
    font, font_name = _font(str(rng.choice(_FONTS)), size)
    text = _label(length_nm, rng)
    left_side = rng.random() < 0.5
    x0 = (w * rng.uniform(0.04, 0.08) if left_side
          else w * rng.uniform(0.92, 0.96) - length_px) + rng.uniform(0, 1)
    row = int(h * rng.uniform(0.84, 0.92))
    rows = {"ticks": (row - 2 * thick, row + 3 * thick), "framed": (row, row + thick + 1),
            "solid": (row, row + thick)}[style]  # rows the bar covers
    if not patch:  # without a patch the bar must contrast with what lies around its ends
        patch, polarity = _polarity(image, rows, x0, length_px, polarity)
    ink, ground = (255, 0) if polarity == "light" else (0, 255)
    out = Image.fromarray(np.asarray(image, dtype=np.uint8).copy())
    draw = ImageDraw.Draw(out)
    tb = draw.textbbox((0, 0), text, font=font)
    tw, th = tb[2] - tb[0], tb[3] - tb[1]
    place = str(rng.choice(["above", "below", "beside"]))
    tx, ty = _label_xy(place, (x0, x0 + length_px, rows, row + thick / 2), (tw, th), size,
                       left_side, (h, w))
    if patch:
        box = [min(x0, tx) - 6, min(rows[0], ty) - 6, max(x0 + length_px, tx + tw) + 6,
               max(rows[1], ty + th + tb[1]) + 6]
        draw.rectangle(box, fill=ground)
    draw.text((tx - tb[0], ty - tb[1]), text, fill=ink, font=font)
    pixels = np.asarray(out).astype(np.float64)
    _bar(pixels, x0, length_px, row, thick, style, ink)
    truth = ScaleBarTruth(text, length_nm, float(length_px), float(x0), row, style, polarity,
                          font_name)
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8), truth


def _polarity(image: np.ndarray, rows: tuple[int, int], x0: float, length: float,
              fallback: str) -> tuple[bool, str]:
    """(patch, polarity) of a bar to be drawn straight on ``image``.

    The polarity that stands out around both ends (the usual one for the image's bottom when
    both do); when neither does, the bar gets a patch (in ``fallback`` polarity).
    """
    legible = _legible(image, rows, x0, length)
    usual = "light" if np.median(image[int(0.8 * image.shape[0]):]) < 128 else "dark"
    if not legible:
        return True, fallback
    return False, usual if usual in legible else legible[0]


def _label_xy(place: str, bar: tuple, text: tuple[int, int], size: int, left_side: bool,
              shape: tuple[int, int]) -> tuple[float, float]:
    """Top-left corner of the label: ``place`` "above", "below" or "beside" the bar.

    ``bar`` is (x0, x1, (top row, bottom row), centre row).  The label keeps half a text size
    clear of the bar and its ticks and stays inside the image (a label below that would leave
    it goes above).
    """
    (x0, x1, (top, bottom), centre), (tw, th), (h, w) = bar, text, shape
    if place == "below" and bottom + size // 2 + th > h - 4:
        place = "above"
    if place == "above":
        tx, ty = (x0 + x1 - tw) / 2, top - th - size // 2
    elif place == "below":
        tx, ty = (x0 + x1 - tw) / 2, bottom + size // 2
    else:
        tx, ty = (x1 + size // 2 if left_side else x0 - tw - size // 2), centre - th / 2
    return min(max(tx, 4.0), w - tw - 4.0), ty


def _legible(image: np.ndarray, rows: tuple[int, int], x0: float, length: float) -> list[str]:
    """Polarities ("light", "dark") in which a bar drawn at ``rows`` from ``x0`` stands out.

    A reader (human or program) finds a bar's ends only where nothing of the bar's own grey
    touches them: within 8 px of each end, the image (averaged over 3 x 3 pixels) must stay
    on the far side of mid-grey from the ink.
    """
    from scipy import ndimage as ndi

    h, w = image.shape
    top, bottom = max(0, rows[0] - 8), min(h, rows[1] + 8)
    zones = [image[top:bottom, max(0, int(x) - 8):min(w, int(x) + 9)] for x in (x0, x0 + length)]
    smooth = [ndi.uniform_filter(z.astype(np.float64), size=3) for z in zones]
    out = []
    if max(float(z.max()) for z in smooth) < 128:
        out.append("light")
    if min(float(z.min()) for z in smooth) > 128:
        out.append("dark")
    return out


def _coverage(width: int, a: float, b: float) -> np.ndarray:
    """Share of each pixel column (pixel ``i`` spans ``i - 0.5 .. i + 0.5``) inside ``a..b``."""
    centres = np.arange(width)
    return np.clip(np.minimum(centres + 0.5, b) - np.maximum(centres - 0.5, a), 0, 1)


def _paint(pixels: np.ndarray, rows: slice, cover: np.ndarray, ink: int) -> None:
    pixels[rows] = pixels[rows] * (1 - cover) + ink * cover


def _bar(pixels, x0: float, length: float, row: int, thick: int, style: str, ink: int) -> None:
    """Bar from ``x0 - 0.5`` to ``x0 - 0.5 + length`` (pixel edges), anti-aliased ends."""
    w = pixels.shape[1]
    a, b = x0 - 0.5, x0 - 0.5 + length
    if style == "ticks":  # tick centres at a and b, 2 px wide, bar between them
        tick = 2.0
        _paint(pixels, slice(row, row + thick), _coverage(w, a, b), ink)
        for centre in (a, b):
            _paint(pixels, slice(row - 2 * thick, row + 3 * thick),
                   _coverage(w, centre - tick / 2, centre + tick / 2), ink)
        return
    full = _coverage(w, a, b)
    if style == "framed":
        _paint(pixels, slice(row, row + 1), full, ink)
        _paint(pixels, slice(row + thick, row + thick + 1), full, ink)
        sides = np.maximum(_coverage(w, a, a + 1), _coverage(w, b - 1, b))
        _paint(pixels, slice(row + 1, row + thick), sides, ink)
        return
    _paint(pixels, slice(row, row + thick), full, ink)
