"""Finding scale-bar candidates: straight horizontal bars of uniform extreme grey.

A scale bar is a horizontal rectangle, light on dark or dark on light, several times longer
than thick and with straight vertical ends: solid, framed (an outline rectangle) or with end
ticks (an "I-beam", as Zeiss draws it).  This module finds such shapes and measures their length
to sub-pixel precision; whether a candidate really is a scale bar is decided by its label
(:mod:`nanosizer.io._scalebar`).

Length conventions: a solid or framed bar is measured between its outer ends (the half-contrast
crossings of the grey profile); a bar with end ticks between the centres of the ticks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["BarCandidate", "find_bars"]

_LEVELS = 255
# Ink lies within this many of 255 levels of the darkest (dark bars) or brightest (light bars)
# grey: a tight level isolates saturated bars on dark or bright ground, a loose one finds
# bars drawn in a paler grey.
_INK_LEVELS = (24, 80)
_MIN_LENGTH = 12  # px
_MIN_ASPECT = 4.0  # length / thickness
_MAX_THICK = 0.08  # of the image height
_MAX_LENGTH = 0.7  # of the image width
_FULL_ROW = 0.95  # a bar row covers (almost) the bar's whole length
_EDGE_WIN = 3  # half-width of the window measuring each end
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
        Light and dark bars at least 12 px long, 4 times longer than thick, not touching the
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
    return _distinct([bar for _, bar in found])[:max_candidates]


def _distinct(bars: list[BarCandidate]) -> list[BarCandidate]:
    kept: list[BarCandidate] = []
    for bar in bars:
        if not any(abs(bar.row - k.row) < 2 and abs(bar.x0 - k.x0) < 2 and abs(bar.x1 - k.x1) < 2
                   for k in kept):
            kept.append(bar)
    return kept


def _bars_of(ink: np.ndarray, level: np.ndarray, polarity: str):
    """(score, candidate) pairs of one polarity; ``level`` is high on ink."""
    height, width = ink.shape
    opened = ndi.binary_opening(ink, structure=np.ones((1, _MIN_LENGTH), bool))
    labels, n = ndi.label(opened)
    if n == 0:
        return []
    bodies = []
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        rows, cols = sl
        length = cols.stop - cols.start
        if cols.start == 0 or cols.stop == width or length > _MAX_LENGTH * width:
            continue  # touches the left or right border, or spans the image: not measurable
        if rows.start == 0 or rows.stop == height:
            continue
        comp = labels[sl] == index
        full = np.flatnonzero(comp.sum(axis=1) >= _FULL_ROW * length)
        if full.size == 0 or full[-1] - full[0] + 1 != full.size:
            continue  # the bar's body is a run of full rows
        bodies.append((int(rows.start + full[0]), int(rows.start + full[-1] + 1), cols.start,
                       cols.stop))
    out = []
    used = set()
    for i, body in enumerate(bodies):
        if i in used:
            continue
        partner = _frame_partner(bodies, i, ink)
        if partner is not None:
            used.add(partner)
            other = bodies[partner]
            top, bottom = min(body[0], other[0]), max(body[1], other[1])
            cand = _measure(level, ink, (top, bottom, body[2], body[3]), polarity, "framed")
        else:
            cand = _measure(level, ink, body, polarity, "solid")
        if cand is None:
            continue
        if cand.thickness > _MAX_THICK * height or cand.length_px < _MIN_ASPECT * cand.thickness:
            continue
        score = _score(cand) * _isolation(ink, cand)
        if score > 0:
            out.append((score, cand))
    return out


def _frame_partner(bodies, i: int, ink: np.ndarray) -> int | None:
    """Index of the body that closes an outline rectangle with body ``i`` (joined by sides)."""
    top, bottom, left, right = bodies[i]
    for j, (t2, b2, l2, r2) in enumerate(bodies):
        if j == i or abs(l2 - left) > 1 or abs(r2 - right) > 1 or t2 <= top:
            continue
        gap = t2 - bottom
        if not 1 <= gap <= (right - left) / _MIN_ASPECT:
            continue
        span = slice(bottom, t2)
        if ink[span, left:left + 3].any(axis=1).all() and ink[span, right - 3:right].any(axis=1).all():
            return j
    return None


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


def _measure(level: np.ndarray, ink: np.ndarray, body, polarity: str,
             style: str) -> BarCandidate | None:
    """Sub-pixel ends of a bar body (rows ``top:bottom``, columns ``left:right``)."""
    top, bottom, left, right = body
    thickness = bottom - top
    ticks = _ticks(ink, body)
    if ticks is not None and style == "solid":
        (t_top, t_bottom), (lw, rw) = ticks
        x0 = _centre(level, ink, t_top, t_bottom, top, bottom, left, left + lw)
        x1 = _centre(level, ink, t_top, t_bottom, top, bottom, right - rw, right)
        if x0 is None or x1 is None:
            return None
        return BarCandidate(int(t_top), int(t_bottom), left, right, x0, x1,
                            (top + bottom - 1) / 2, thickness, polarity, "ticks")
    rows = range(top, bottom) if style == "solid" else (top, bottom - 1)
    lefts, rights = [], []
    for r in rows:
        edges = _edges(level[r], left, right)
        if edges is not None:
            lefts.append(edges[0])
            rights.append(edges[1])
    if not lefts:
        return None
    return BarCandidate(top, bottom, left, right, float(np.median(lefts)), float(np.median(rights)),
                        (top + bottom - 1) / 2, thickness, polarity, style)


def _edges(profile: np.ndarray, left: int, right: int) -> tuple[float, float] | None:
    """Sub-pixel ends of a run ``left:right`` of one row, from the covered area at each end.

    Each end's grey values are turned into coverage (0 = ground, 1 = bar) over a 6-pixel
    window; the edge lies where the covered area says.  A bar covering columns ``a..b`` fully
    gives ``a - 0.5`` and ``b + 0.5``; anti-aliased ends give their sub-pixel position.
    """
    width = profile.shape[0]
    if left - _EDGE_WIN - 3 < 0 or right + _EDGE_WIN + 3 > width or right - left < 2 * _EDGE_WIN:
        return None
    bar = float(np.median(profile[left:right]))
    ground_l = float(np.median(profile[left - _EDGE_WIN - 3:left - _EDGE_WIN]))
    ground_r = float(np.median(profile[right + _EDGE_WIN:right + _EDGE_WIN + 3]))
    if bar - max(ground_l, ground_r) <= 0:
        return None
    cov_l = np.clip((profile[left - _EDGE_WIN:left + _EDGE_WIN] - ground_l) / (bar - ground_l), 0, 1)
    cov_r = np.clip((profile[right - _EDGE_WIN:right + _EDGE_WIN] - ground_r) / (bar - ground_r), 0, 1)
    x0 = left + _EDGE_WIN - 0.5 - float(cov_l.sum())
    x1 = right - _EDGE_WIN - 0.5 + float(cov_r.sum())
    return x0, x1


def _ticks(ink: np.ndarray, body) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Rows and widths of end ticks standing above and/or below a bar body, if both ends have."""
    top, bottom, left, right = body
    thickness = bottom - top
    height = ink.shape[0]
    reach = max(3, 2 * thickness)

    def extent(col: int) -> tuple[int, int]:
        t = top
        while t > 0 and ink[t - 1, col]:
            t -= 1
        b = bottom
        while b < height and ink[b, col]:
            b += 1
        return t, b

    def tick(cols) -> tuple[int, int, int] | None:
        width = 0
        span = None
        for col in cols:
            t, b = extent(col)
            if (top - t) + (b - bottom) < reach:
                break
            width += 1
            span = (t, b) if span is None else (min(span[0], t), max(span[1], b))
        if width == 0 or width > (right - left) // 4 or span is None:
            return None
        return span[0], span[1], width

    lt = tick(range(left, right))
    rt = tick(range(right - 1, left - 1, -1))
    if lt is None or rt is None:
        return None
    return (min(lt[0], rt[0]), max(lt[1], rt[1])), (lt[2], rt[2])


def _centre(level, ink, t_top, t_bottom, top, bottom, c0, c1) -> float | None:
    """Intensity-weighted centre column of a tick (columns ``c0:c1``) outside the bar body."""
    rows = [r for r in range(t_top, t_bottom) if not top <= r < bottom]
    if not rows:
        return None
    a, b = max(0, c0 - 2), min(level.shape[1], c1 + 2)
    patch = level[rows, a:b].astype(np.float64)
    base = np.minimum(patch[:, :1], patch[:, -1:])
    weight = np.clip(patch - base, 0, None).sum(axis=0)
    if weight.sum() <= 0:
        return None
    return float(a + (weight * np.arange(b - a)).sum() / weight.sum())
