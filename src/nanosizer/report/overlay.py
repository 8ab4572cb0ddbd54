"""Outline overlays: particle contours and ids burnt into an RGB copy of the micrograph.

Drawn with NumPy only (a built-in 3x5 digit font) so that an overlay of several hundred
particles costs milliseconds, not the seconds a plotting library would need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._blocks import label_counts, row_blocks

if TYPE_CHECKING:
    from ..io import ScaleBar

__all__ = ["label_overlay", "to_uint8"]

# 3x5 bitmaps of the digits 0-9, one string of 15 bits per digit (row-major).
_DIGITS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
}
# Letters and signs of a scale-bar reading ("200 nm = 27.25 px: 7.34 nm/px"), 5 rows each,
# rows separated by spaces (widths differ).
_SIGNS = {
    "n": "000 110 101 101 101", "m": "00000 11110 10101 10101 10101",
    "u": "000 101 101 101 011", "p": "000 110 101 110 100", "x": "000 101 010 101 101",
    ".": "0 0 0 0 1", ":": "0 1 0 1 0", "/": "001 001 010 100 100", "=": "000 111 000 111 000",
    " ": "00 00 00 00 00",
}
_GLYPHS = {k: np.array([int(b) for b in v], dtype=bool).reshape(5, 3) for k, v in _DIGITS.items()}
_GLYPHS.update({k: np.array([[int(b) for b in row] for row in v.split()], dtype=bool)
                for k, v in _SIGNS.items()})
_BAR_COLOUR = (255, 60, 255)


def to_uint8(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Scale a grey image to uint8 with a 0.5/99.5 percentile stretch.

    Parameters
    ----------
    image : (H, W) ndarray
        Grey values on any scale.
    mask : (H, W) ndarray of bool, optional
        Pixels used to choose the stretch (e.g. without the info bar).

    Returns
    -------
    (H, W) ndarray of uint8
    """
    masked = mask is not None and mask.any()
    values = image[mask] if masked else image.ravel()
    # a masked copy is ours to reorder: no second copy of it inside np.percentile
    lo, hi = (np.percentile(values, (0.5, 99.5), overwrite_input=masked) if values.size
              else (0.0, 1.0))
    if hi <= lo:
        hi = lo + 1.0
    out = np.empty(image.shape, dtype=np.uint8)
    for rows in row_blocks(image.shape):
        scaled = (image[rows].astype(np.float32) - lo) * (255.0 / (hi - lo))
        out[rows] = np.clip(scaled, 0, 255).astype(np.uint8)
    return out


def _text_mask(text: str, scale: int) -> np.ndarray:
    """Bitmap of ``text`` (digits and the signs of :data:`_SIGNS`; "µ" is drawn as "u")."""
    glyphs = [_GLYPHS[c] for c in text.replace("µ", "u") if c in _GLYPHS]
    gap = np.zeros((5, 1), dtype=bool)
    row = np.hstack([g if i == 0 else np.hstack([gap, g]) for i, g in enumerate(glyphs)])
    return np.kron(row, np.ones((scale, scale), dtype=bool))


def _stamp(rgb: np.ndarray, bitmap: np.ndarray, y: int, x: int, color) -> None:
    """Draw ``bitmap`` centred at (y, x) with a dark 1-px halo, clipped to the image."""
    h, w = bitmap.shape
    y0, x0 = y - h // 2, x - w // 2
    halo = np.zeros((h + 2, w + 2), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            halo[dy : dy + h, dx : dx + w] |= bitmap
    for layer, oy, ox, col in ((halo, y0 - 1, x0 - 1, (0, 0, 0)), (bitmap, y0, x0, color)):
        lh, lw = layer.shape
        ys, xs = max(oy, 0), max(ox, 0)
        ye, xe = min(oy + lh, rgb.shape[0]), min(ox + lw, rgb.shape[1])
        if ye <= ys or xe <= xs:
            continue
        sub = layer[ys - oy : ye - oy, xs - ox : xe - ox]
        rgb[ys:ye, xs:xe][sub] = col


def label_overlay(
    image: np.ndarray,
    labels: np.ndarray,
    *,
    excluded: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    show_ids: bool = True,
    scale_bar: ScaleBar | None = None,
) -> np.ndarray:
    """Draw particle outlines (and ids) on a grey micrograph.

    Parameters
    ----------
    image : (H, W) ndarray
        The micrograph.
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    excluded : sequence of int, optional
        Label ids left out of the statistics (e.g. touching the border); drawn in orange
        instead of green.
    mask : (H, W) ndarray of bool, optional
        Analysed region, used for the contrast stretch.
    show_ids : bool
        Write each particle's id at its centroid.
    scale_bar : ScaleBar, optional
        A scale bar that was read: its bar and label are framed in magenta and the reading
        (label, bar length, pixel size) is written beside it.

    Returns
    -------
    (H, W, 3) ndarray of uint8
    """
    grey = to_uint8(image, mask)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    del grey
    if scale_bar is not None and scale_bar.read:
        _mark_scale_bar(rgb, scale_bar)
    if labels.max() == 0:
        return rgb
    excluded_ids = np.asarray(sorted(excluded) if excluded is not None else [], dtype=np.int64)
    is_excluded = np.zeros(int(labels.max()) + 1, dtype=bool)
    is_excluded[excluded_ids[(excluded_ids >= 0) & (excluded_ids < is_excluded.size)]] = True
    for rows, edges in _inner_boundaries(labels):
        ey, ex = np.nonzero(edges)
        out = is_excluded[labels[rows][ey, ex]]
        band = rgb[rows]
        band[ey[~out], ex[~out]] = (40, 255, 60)
        band[ey[out], ex[out]] = (255, 150, 0)
    if show_ids:
        ids, centres = _centroids(labels)
        scale = 2 if min(labels.shape) >= 512 else 1
        for lab, (cy, cx) in zip(ids, centres):
            color = (255, 200, 60) if lab in excluded_ids else (255, 255, 80)
            _stamp(rgb, _text_mask(str(int(lab)), scale), int(round(cy)), int(round(cx)), color)
    return rgb


def _frame(rgb: np.ndarray, box: tuple[int, int, int, int], color, margin: int = 2) -> None:
    """A 1-px rectangle ``margin`` px outside ``box`` (top, left, bottom, right; exclusive)."""
    h, w = rgb.shape[:2]
    top, left = max(box[0] - margin, 0), max(box[1] - margin, 0)
    bottom, right = min(box[2] + margin, h) - 1, min(box[3] + margin, w) - 1
    if bottom < top or right < left:
        return
    rgb[top, left : right + 1] = rgb[bottom, left : right + 1] = color
    rgb[top : bottom + 1, left] = rgb[top : bottom + 1, right] = color


def scale_bar_reading(scale_bar: ScaleBar) -> str:
    """The reading written on overlays, e.g. ``'200 nm = 27.25 px: 7.34 nm/px'``."""
    return (f"{scale_bar.label} = {scale_bar.bar.length_px:.2f} px: "
            f"{scale_bar.pixel_size_nm:.4g} nm/px")


def _mark_scale_bar(rgb: np.ndarray, scale_bar: ScaleBar) -> None:
    """Frame the bar and its label and write the reading above them (below at the top)."""
    bar = scale_bar.bar
    _frame(rgb, (bar.top, bar.left, bar.bottom, bar.right), _BAR_COLOUR)
    if scale_bar.label_box is not None:
        _frame(rgb, scale_bar.label_box, _BAR_COLOUR)
    top, left, bottom, _ = scale_bar.region
    text = _text_mask(scale_bar_reading(scale_bar), 2 if min(rgb.shape[:2]) >= 512 else 1)
    th, tw = text.shape
    y = top - 3 - th // 2 - 1 if top - 4 - th >= 0 else bottom + 3 + th // 2 + 1
    x = min(max(left + tw // 2, tw // 2), rgb.shape[1] - 1 - tw // 2)
    _stamp(rgb, text, y, x, _BAR_COLOUR)


def _inner_boundaries(labels: np.ndarray):
    """``(rows, edges)`` for row bands of ``find_boundaries(labels, mode="inner")``.

    Each band is found with one row of context above and below, so the bands together equal
    the whole-image boundaries without its image-size dilation and erosion arrays.
    """
    from skimage.segmentation import find_boundaries

    h = labels.shape[0]
    for rows in row_blocks(labels.shape):
        top, bottom = max(rows.start - 1, 0), min(rows.stop + 1, h)
        edges = find_boundaries(labels[top:bottom], mode="inner")
        yield rows, edges[rows.start - top : rows.stop - top]


def _centroids(labels: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Ids present (ascending) and their centroids ``(row, col)``.

    Sums of pixel coordinates are whole numbers, exact in float64 in any order, so these equal
    ``scipy.ndimage.center_of_mass`` of the particles, without its image-size float64 arrays.
    """
    n = int(labels.max()) + 1
    count = label_counts(labels)
    sums = np.zeros((2, n))
    for rows in row_blocks(labels.shape):
        ys, xs = np.nonzero(labels[rows])
        ids = labels[rows][ys, xs]
        sums[0] += np.bincount(ids, weights=ys + rows.start, minlength=n)
        sums[1] += np.bincount(ids, weights=xs, minlength=n)
    ids = np.flatnonzero(count)
    ids = ids[ids > 0]
    return ids, [(sums[0, k] / count[k], sums[1, k] / count[k]) for k in ids]
