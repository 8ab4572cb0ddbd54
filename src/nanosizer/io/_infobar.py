"""Detecting the microscope's info bar (databar) at the bottom of SEM images.

An info bar is a full-width strip at the bottom of the image on a uniform near-black or
near-white background, carrying sparse high-contrast text (scale bar, magnification, detector).
It starts with a sharp horizontal edge: the first bar row is almost entirely background while the
image rows just above it are not.  Particles touching the bottom of an ordinary image do not make
such an edge: rows just above a particle-free row still cross mostly background.
"""

from __future__ import annotations

import numpy as np

__all__ = ["detect_infobar"]

_LEVELS = 255  # grey values are quantised to 0..255 between the image minimum and maximum
_TOL = 4  # levels within which a pixel counts as bar background
_EXTREME = 38  # the bar background lies within ~15 % of the darkest or brightest value
_BAR_ROW = 0.6  # a bar row is at least 60 % background ...
_GAP_ROW = 0.3  # ... rows of dense text/logos (>= 30 %) may interrupt it for _MAX_GAP rows
_MAX_GAP = 2
_EDGE_ROW = 0.95  # the bar's first row is (almost) pure background
_ABOVE_ROW = 0.5  # the two image rows above it are at most half background
_MIN_ROWS = 8
_MAX_FRACTION = 0.35  # a bar never covers more than this share of the height


def detect_infobar(image: np.ndarray) -> int | None:
    """First row of a microscope info bar at the bottom of ``image``, or None.

    Parameters
    ----------
    image : (H, W) ndarray
        Grey image on any scale.

    Returns
    -------
    int or None
        Index of the first bar row (rows ``top:`` are the bar), or None when the bottom of the
        image does not look like an info bar: a full-width strip (8 rows to 35 % of the height)
        on near-black or near-white background, containing text, whose first row is at least
        95 % background while the two rows above are at most 50 % background.  Up to 1 % of the
        height (at least 2 rows) of image rows below the bar are tolerated, as some microscopes
        write them.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(120, 20, (100, 80))
    >>> img[80:] = 0
    >>> img[88:92, 10:30] = 255  # "text"
    >>> detect_infobar(img)
    80
    >>> detect_infobar(rng.normal(120, 20, (100, 80))) is None
    True
    """
    data = np.asarray(image)
    if data.ndim != 2 or min(data.shape) < _MIN_ROWS:
        return None
    height = data.shape[0]
    region = max(_MIN_ROWS, int(height * (_MAX_FRACTION + 0.05)))
    region = min(region, height)
    quant = _quantise(data[height - region :].astype(np.float64))  # only the rows searched
    if quant is None:
        return None
    for bg in _background_candidates(quant):
        share = (np.abs(quant - bg) <= _TOL).mean(axis=1)  # background share of each row
        top = _bar_top(share, quant, bg, height)
        if top is not None:
            return height - region + top
    return None


def _quantise(data: np.ndarray) -> np.ndarray | None:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return None
    return np.round((np.nan_to_num(data, nan=lo) - lo) * (_LEVELS / (hi - lo))).astype(np.int16)


def _background_candidates(quant: np.ndarray) -> list[int]:
    """Most frequent dark and bright level among the bottom rows."""
    bottom = quant[-_MIN_ROWS:]
    counts = np.bincount(bottom.ravel(), minlength=_LEVELS + 1)
    dark = int(np.argmax(counts[: _EXTREME + 1]))
    bright = _LEVELS - _EXTREME + int(np.argmax(counts[_LEVELS - _EXTREME :]))
    order = [dark, bright] if counts[dark] >= counts[bright] else [bright, dark]
    return [bg for bg in order if counts[bg] > 0]


def _bar_top(share: np.ndarray, quant: np.ndarray, bg: int, image_height: int) -> int | None:
    """Validated first bar row within the search region (the bottom rows), or None."""
    n = len(share)
    end = n
    max_trailing = max(2, int(0.01 * image_height))
    while end > n - max_trailing and share[end - 1] < _BAR_ROW:
        end -= 1
    top, gap, row = end, 0, end - 1
    while row >= 0:
        if share[row] >= _BAR_ROW:
            top, gap = row, 0
        elif share[row] >= _GAP_ROW and gap < _MAX_GAP:
            gap += 1
        else:
            break
        row -= 1
    height = end - top
    if top < 2 or height < _MIN_ROWS:
        return None
    if height > _MAX_FRACTION * image_height:
        return None
    if share[top] < _EDGE_ROW or share[top - 1] > _ABOVE_ROW or share[top - 2] > _ABOVE_ROW:
        return None
    ink = 1.0 - share[top:end]
    text_rows = int(np.count_nonzero((ink >= 0.002) & (ink <= 0.6)))
    if text_rows < 2:
        return None
    contrast = np.abs(quant[top:end].astype(np.int32) - bg).max()
    if contrast < _LEVELS // 3:  # text must stand out from the bar background
        return None
    return top
