"""Finding scale-bar candidates: straight horizontal bars of uniform extreme grey.

A scale bar is a horizontal rectangle, light on dark or dark on light, several times longer
than thick and with straight vertical ends: solid, framed (an outline rectangle) or with end
ticks (an "I-beam", as Zeiss draws it).  This module finds such shapes and measures their length
to sub-pixel precision; whether a candidate really is a scale bar is decided by its label
(:mod:`nanosizer.io._scalebar`).

Length conventions: a solid or framed bar is measured between its outer ends (the covered area
of each end's transition); a bar with end ticks between the centres of the ticks.  An end that
does not look like one of these (:mod:`nanosizer.io._barends`, :mod:`nanosizer.io._barframe`)
is not measured: its bar is no candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from ._barends import Body, bar_ends
from ._barframe import frame_ends

__all__ = ["BarCandidate", "find_bars"]

_LEVELS = 255
# Ink lies within this many of 255 levels of the darkest (dark bars) or brightest (light bars)
# grey: a tight level isolates saturated bars on dark or bright ground, a loose one finds
# bars drawn in a paler grey.
_INK_LEVELS = (24, 80)
_MIN_LENGTH = 12  # px
_MIN_ASPECT = 3.0  # length / thickness
_MAX_THICK = 0.08  # of the image height
_MAX_LENGTH = 0.7  # of the image width
_FULL_ROW = 0.95  # a bar row covers (almost) the bar's whole length
_MAX_CANDIDATES = 12


@dataclass(frozen=True)
class BarCandidate:
    """A straight horizontal bar found in an image.

    Attributes
    ----------
    top, bottom, left, right : int
        Bounding box of the bar and its end ticks (rows ``top:bottom``, columns
        ``left:right``).
    x0, x1 : float
        Sub-pixel ends of the bar in column coordinates (pixel centres are integers).
    row : float
        Centre row of the bar's body.
    thickness : int
        Rows of the bar's body.
    polarity : {"light", "dark"}
        Light bar on darker ground or dark bar on lighter ground.
    style : {"solid", "framed", "ticks"}
        Solid rectangle, outline rectangle, or bar with end ticks.
    """

    top: int
    bottom: int
    left: int
    right: int
    x0: float
    x1: float
    row: float
    thickness: int
    polarity: str
    style: str

    @property
    def length_px(self) -> float:
        """Length of the bar in pixels (see the module's conventions)."""
        return float(self.x1 - self.x0)

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {
            "length_px": round(self.length_px, 3), "x0": round(self.x0, 3),
            "x1": round(self.x1, 3), "row": round(self.row, 2), "thickness": self.thickness,
            "box": [self.top, self.left, self.bottom, self.right], "polarity": self.polarity,
            "style": self.style,
        }


def find_bars(image: np.ndarray, max_candidates: int = _MAX_CANDIDATES) -> list[BarCandidate]:
    """Straight horizontal bars of ``image``, most bar-like (longest, cleanest) first.

    Parameters
    ----------
    image : (H, W) ndarray
        Grey image on any scale.
    max_candidates : int, optional
        Largest number of candidates returned.

    Returns
    -------
    list of BarCandidate
        Light and dark bars at least 12 px long, 3 times longer than thick, not touching the
        left or right image border and shorter than 70 % of the image width.

    Examples
    --------
    >>> img = np.zeros((60, 100))
    >>> img[40:44, 20:70] = 1.0
    >>> bar = find_bars(img)[0]
    >>> round(bar.length_px, 2), bar.style, bar.polarity
    (50.0, 'solid', 'light')
    """
    data = np.asarray(image, dtype=np.float64)
    if data.ndim != 2 or min(data.shape) < 8:
        return []
    lo, hi = np.percentile(data, [0.01, 99.99]) if data.size > 10_000 else (data.min(), data.max())
    if not hi > lo:
        return []
    quant = np.clip((data - lo) * (_LEVELS / (hi - lo)), 0, _LEVELS)
    found: list[tuple[float, BarCandidate]] = []
    for polarity in ("light", "dark"):
        level = quant if polarity == "light" else _LEVELS - quant
        for tol in _INK_LEVELS:
            found.extend(_bars_of(level >= _LEVELS - tol, level, polarity))
    found.sort(key=lambda item: -item[0])
    return _without_halos(_distinct([bar for _, bar in found]))[:max_candidates]


def _distinct(bars: list[BarCandidate]) -> list[BarCandidate]:
    kept: list[BarCandidate] = []
    for bar in bars:
        if not any(abs(bar.row - k.row) < 2 and abs(bar.x0 - k.x0) < 2 and abs(bar.x1 - k.x1) < 2
                   for k in kept):
            kept.append(bar)
    return kept


def _bodies(ink: np.ndarray) -> list[Body]:
    """Runs of full rows of ink at least 12 px long, not touching the image border."""
    height, width = ink.shape
    opened = ndi.binary_opening(ink, structure=np.ones((1, _MIN_LENGTH), bool))
    labels, n = ndi.label(opened)
    bodies = []
    for index, (rows, cols) in enumerate(ndi.find_objects(labels) if n else [], start=1):
        length = cols.stop - cols.start
        if cols.start == 0 or cols.stop == width or length > _MAX_LENGTH * width:
            continue  # touches the left or right border, or spans the image: not measurable
        if rows.start == 0 or rows.stop == height:
            continue
        comp = labels[rows, cols] == index
        full = np.flatnonzero(comp.sum(axis=1) >= _FULL_ROW * length)
        if full.size == 0 or full[-1] - full[0] + 1 != full.size:
            continue  # the bar's body is a run of full rows
        bodies.append(Body(int(rows.start + full[0]), int(rows.start + full[-1] + 1),
                           cols.start, cols.stop))
    return bodies


def _without_halos(bars: list[BarCandidate]) -> list[BarCandidate]:
    """``bars`` without the thin lines of opposite grey that hug a thicker bar's long side.

    Sharpened or JPEG-compressed images ring: a dark bar gets a bright line of about its
    length right above and below it.  Such a line is at most half as thick as the bar,
    within 2 rows of it and ends within 2 px of its ends.
    """
    def halo(a: BarCandidate, b: BarCandidate) -> bool:
        gap = max(a.top, b.top) - min(a.bottom, b.bottom)
        return (a.polarity != b.polarity and 2 * a.thickness <= b.thickness and gap <= 2
                and abs(a.x0 - b.x0) <= 2 and abs(a.x1 - b.x1) <= 2)

    return [a for a in bars if not any(halo(a, b) for b in bars)]


def _bars_of(ink: np.ndarray, level: np.ndarray, polarity: str):
    """(score, candidate) pairs of one polarity; ``level`` is high on ink."""
    bodies = _bodies(ink)
    frames = _frames(bodies)
    framed = {i for pair in frames for i in pair}
    cands = [_framed(level, bodies[i], bodies[j], polarity) for i, j in frames]
    cands += [_plain(level, body, polarity) for k, body in enumerate(bodies) if k not in framed]
    out = []
    height = ink.shape[0]
    for cand in cands:
        if cand is None:
            continue
        if cand.thickness > _MAX_THICK * height or cand.length_px < _MIN_ASPECT * cand.thickness:
            continue
        score = _score(cand) * _isolation(ink, cand)
        if score > 0:
            out.append((score, cand))
    return out


def _frames(bodies: list[Body]) -> list[tuple[int, int]]:
    """(upper, lower) index pairs of thin bodies with the same ends, one above the other.

    They may be the top and bottom line of an outline rectangle; :func:`frame_ends` decides.
    """
    pairs = []
    for i, up in enumerate(bodies):
        for j, low in enumerate(bodies):
            if j == i or abs(low.left - up.left) > 2 or abs(low.right - up.right) > 2:
                continue
            gap = low.top - up.bottom
            if 1 <= gap <= (up.right - up.left) / _MIN_ASPECT:
                pairs.append((i, j))
    return pairs


def _framed(level: np.ndarray, upper: Body, lower: Body, polarity: str) -> BarCandidate | None:
    ends = frame_ends(level, upper, lower)
    if ends is None:
        return None
    left, right = ends
    return BarCandidate(upper.top, lower.bottom, min(upper.left, lower.left),
                        max(upper.right, lower.right), left.x, right.x,
                        (upper.top + lower.bottom - 1) / 2, lower.bottom - upper.top, polarity,
                        "framed")


def _plain(level: np.ndarray, body: Body, polarity: str) -> BarCandidate | None:
    ends = bar_ends(level, body)
    if ends is None:
        return None
    left, right = ends
    style = "ticks" if left.kind == "tick" else "solid"
    return BarCandidate(min(left.top, right.top), max(left.bottom, right.bottom), body.left,
                        body.right, left.x, right.x, (body.top + body.bottom - 1) / 2,
                        body.bottom - body.top, polarity, style)


def _score(cand: BarCandidate) -> float:
    """Ranking of candidates: long bars first; hairlines (1 row) and plain bars after styled."""
    bonus = {"ticks": 3.0, "framed": 2.0, "solid": 1.0}[cand.style]
    return cand.length_px * bonus * (0.5 if cand.thickness < 2 else 1.0)


def _isolation(ink: np.ndarray, cand: BarCandidate) -> float:
    """1 when the rows just outside the bar are free of ink along its length, else 0."""
    height = ink.shape[0]
    left, right = int(round(cand.x0)) + 3, int(round(cand.x1)) - 3
    if right <= left:
        return 0.0
    top = int(round(cand.row - (cand.thickness - 1) / 2))
    bottom = top + cand.thickness
    shares = []
    for row in (top - 2, top - 1, bottom, bottom + 1):
        if 0 <= row < height:
            shares.append(ink[row, left:right].mean())
    return 1.0 if not shares or min(shares) < 0.5 else 0.0
