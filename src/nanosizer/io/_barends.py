"""Measuring the ends of a scale-bar candidate: plain ends and end ticks.

Each end is first checked against a model of what a scale-bar end looks like, then measured:

- a **plain end** (solid bar): only the bar's own rows carry ink near the end; the end lies
  where the covered area of its transition says (:func:`_row_edge`: exact for area
  anti-aliasing, follows blur and textured ground);
- an **end tick** (Zeiss "I-beam"): a narrow vertical stroke crossing the end, standing out
  above and below the body and ending freely; the end is the coverage-weighted centre of the
  tick outside the body (a stroke on one side only, a bracket ``|___|``, is refused: whether
  its centre or its outer edge ends the bar is not known).

Framed ends are in :mod:`nanosizer.io._barframe`.  Grey values are "levels" (0-255, high on
ink).  Coverage is a pixel's level relative to the ground near the end (0) and the bar's ink
(1).  Anything else that looks like ink (coverage >= 0.5 after 3 x 3 averaging) in a window
around the end - a particle touching it, the sides of a patch, the frame of a hollow - means
the end is not clean: the end, and with it the bar, is refused rather than measured wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

__all__ = ["Body", "End", "bar_ends"]

_MIN_CONTRAST = 32.0  # levels (of 255) between a bar's ink and the ground beyond its ends
_HALF = 0.5  # coverage from which a pixel looks like ink
_EDGE_WIN = 3  # px: the ground is first taken this far beyond an end's first full column
_GROUND = 3  # columns that give the ground's grey (beyond the end, beyond a transition)
_MAX_GROUND_SD = 0.35  # ground noise (robust standard deviation) as a share of the contrast
_MAX_STRAY = 0.02  # share of the pixels the model calls ground that may look like ink
_MAX_SPREAD = 1.0  # px: per-row positions of one end differ by at most this much
_REACH = 5  # px: the window judged around an end reaches this far inside the bar
_REACH_Y = 2  # px: and this far above and below the end (its tick or frame)
_BEYOND = 4  # px: and this far beyond the end's ink (a patch's edge may follow)
_MEASURE_BEYOND = 10  # px beyond the first full column that measuring an end may use


class Body(NamedTuple):
    """Rows ``top:bottom`` and columns ``left:right`` of a bar's body (full rows of ink)."""

    top: int
    bottom: int
    left: int
    right: int


@dataclass(frozen=True)
class End:
    """One measured end of a bar.

    Attributes
    ----------
    x : float
        Sub-pixel column of the end: the outer edge (plain, framed) or the tick's centre.
    kind : {"plain", "tick", "framed"}
        What the end looks like.
    top, bottom : int
        Rows the end spans (a tick's extent; the body's or the frame's rows otherwise).
    """

    x: float
    kind: str
    top: int
    bottom: int


def bar_ends(level: np.ndarray, body: Body) -> tuple[End, End] | None:
    """Both ends of a solid bar or a bar with end ticks, or None when either is not clean.

    Parameters
    ----------
    level : (H, W) ndarray of float
        Grey levels 0-255, high on ink.
    body : Body
        The bar's full rows of ink.

    Returns
    -------
    (End, End) or None
        Left and right end, both plain or both ticks; None when an end is not clean, lacks
        contrast, is too close to the image border, or when only one end has a tick.
    """
    bar = _bar_level(level, body)
    left = _left_end(level, body, bar)
    right = _mirrored(level, (body,), lambda lv, b: _left_end(lv, b, bar))
    if left is None or right is None or left.kind != right.kind or right.x - left.x < 2:
        return None
    return left, right


def _bar_level(level: np.ndarray, body: Body) -> float:
    """Median level of a body away from its ends."""
    inner = level[body.top:body.bottom, body.left + 2:max(body.right - 2, body.left + 3)]
    return float(np.median(inner))


def _flip(body: Body, width: int) -> Body:
    """``body`` in the left-right mirrored image."""
    return Body(body.top, body.bottom, width - body.right, width - body.left)


def _mirrored(level: np.ndarray, bodies: tuple[Body, ...], measure) -> End | None:
    """``measure(level, *bodies)`` of the left-right mirrored image: the right end."""
    width = level.shape[1]
    end = measure(level[:, ::-1], *(_flip(b, width) for b in bodies))
    if end is None:
        return None
    return End(width - 1 - end.x, end.kind, end.top, end.bottom)


class _Ground(NamedTuple):
    """Grey level of the ground near an end and its contrast with the bar's ink."""

    level: float
    contrast: float


def _ground(level: np.ndarray, top: int, bottom: int, left: int, bar: float) -> _Ground | None:
    """Grey of the ground beyond the left end ``left`` in rows ``top:bottom``, if it contrasts."""
    stop = left - _EDGE_WIN
    if stop < 1:
        return None  # the end is too close to the image border to see the ground beyond
    block = level[top:bottom, max(0, stop - _GROUND):stop]
    grey = float(np.median(block))
    contrast = bar - grey
    spread = 1.4826 * float(np.median(np.abs(block - grey)))  # robust standard deviation
    if contrast < _MIN_CONTRAST or spread > _MAX_GROUND_SD * contrast:
        return None
    return _Ground(grey, contrast)


def _coverage(level: np.ndarray, rows: slice, cols: slice, ground: _Ground) -> np.ndarray:
    """Coverage (0 ground, 1 ink) of ``level[rows, cols]``."""
    return (level[rows, cols] - ground.level) / ground.contrast


def _judged(ink: np.ndarray, care: np.ndarray | None) -> np.ndarray:
    """Pixels of a window that the model calls ground and that are judged."""
    ground = ~ndi.binary_dilation(ink, structure=np.ones((3, 3), bool))
    return ground if care is None else ground & care


def _short_of_bands(cov: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Window pixels short of an ink-like band running across the whole window, if any.

    A bar drawn just inside a dark info bar has the bright image one or two rows away: a
    band of ink across the end and beyond it, not a stroke at the end.  The band (and what
    lies beyond it) is not judged when the rows between it and the bar carry no ink at all:
    nothing there could be a tick.
    """
    care = np.ones(cov.shape, bool)
    ink_rows = np.flatnonzero(ink.any(axis=1))
    if ink_rows.size == 0:
        return care
    inked = cov >= _HALF
    band = inked.mean(axis=1) >= 0.9
    for rows in (range(ink_rows[0] - 1, -1, -1), range(ink_rows[-1] + 1, cov.shape[0])):
        for r in rows:
            if band[r]:
                if r < ink_rows[0]:
                    care[:r + 1] = False
                else:
                    care[r:] = False
                break
            if inked[r].any():
                break  # something other than a band comes first: everything is judged
    return care


def _fits(cov: np.ndarray, ground: np.ndarray) -> bool:
    """True when (almost) none of the ``ground`` pixels looks like ink.

    Coverage is averaged over 3 x 3 pixels first (noise); the pixels next to the model's ink
    (anti-aliased edges) are not among ``ground`` (see :func:`_judged`).
    """
    if not ground.any():
        return False
    smooth = ndi.uniform_filter(cov, size=3, mode="nearest")
    return float((smooth[ground] >= _HALF).mean()) <= _MAX_STRAY


def _refined(level: np.ndarray, ground: np.ndarray, near: tuple[slice, slice],
             bar: float) -> _Ground | None:
    """The ground's grey from the judged ground pixels ``near`` an end (window coordinates)."""
    sample = level[near][ground[near]]
    if sample.size < 8:
        return None
    grey = float(np.median(sample))
    contrast = bar - grey
    spread = float(np.subtract(*np.percentile(sample, [75, 25]))) / 1.35
    if contrast < _MIN_CONTRAST or spread > _MAX_GROUND_SD * contrast:
        return None
    return _Ground(grey, contrast)


def _edge(rows: np.ndarray, left: int, win_left: int, ground: _Ground) -> float | None:
    """Median sub-pixel left edge of rows of levels whose ink starts near column ``left``.

    ``rows`` holds columns from ``win_left`` to at least ``left + 3``.  See
    :func:`_row_edge`; the rows' edges must agree within 1 px.
    """
    xs = [_row_edge(row, left - win_left, ground) for row in rows]
    if not xs or any(x is None for x in xs) or max(xs) - min(xs) > _MAX_SPREAD:
        return None
    return float(np.median(xs)) + win_left


def _row_edge(profile: np.ndarray, left: int, ground: _Ground) -> float | None:
    """Sub-pixel left edge of the ink in one row, from the covered area of its transition.

    The row's ink level is the median from ``left + 1`` on.  From the inside, the ink's last
    full pixel ``f`` (within 10 % of the contrast of that level) is found, then the
    transition: the pixels beyond it whose level keeps falling (at most 4).  The ground is
    the median of the 3 pixels beyond the transition, each transition pixel's level becomes
    coverage (0-1), and the edge lies where the covered area says: ``f + 0.5 - sum``.  Exact
    for area anti-aliasing; follows blurred ends (the whole transition is summed) and
    textured ground (the ground is taken right beyond the end).
    """
    ink = float(np.median(profile[left + 1:]))
    full = ink - 0.1 * (ink - ground.level)
    f = left + 1
    while f - 1 >= left - _EDGE_WIN and profile[f - 1] >= full:
        f -= 1
    t = f - 1
    while t - 1 >= 0 and profile[t - 1] < profile[t] and f - t < 4:
        t -= 1
    if t < 1:
        return None
    local = float(np.median(profile[max(0, t - _GROUND):t]))
    contrast = ink - local
    if contrast < _MIN_CONTRAST / 2:
        return None
    cov = np.clip((profile[t:f + 1] - local) / contrast, 0, 1)
    return f + 0.5 - float(cov.sum())


def _left_end(level: np.ndarray, body: Body, bar: float) -> End | None:
    """The left end of a solid bar or a bar with ticks."""
    first = _ground(level, body.top, body.bottom, body.left, bar)
    rows_at_end = None if first is None else _end_rows(level, body, first)
    if rows_at_end is None:
        return None
    end, full = rows_at_end
    top, bottom, left, right = end.top, end.bottom, body.left, body.right
    tick = _tick(level, end, first)
    if tick is not None and _one_sided(tick, end):
        return None
    t_top, t_bottom = (tick[2], tick[3]) if tick else (top, bottom)
    rows = slice(max(0, t_top - _REACH_Y), min(level.shape[0], t_bottom + _REACH_Y))
    c0 = max(0, min(end.left, tick[0] if tick else end.left) - _BEYOND)
    cols = slice(c0, min(max(left, tick[1] if tick else left) + _REACH, (left + right) // 2))
    window = level[rows, cols]
    ink = np.zeros(window.shape, bool)
    ink[top - rows.start:bottom - rows.start, end.left - c0:] = True
    if tick:
        ink[t_top - rows.start:t_bottom - rows.start, tick[0] - c0:tick[1] - c0] = True
    judged = _judged(ink, _short_of_bands((window - first.level) / first.contrast, ink))
    near = (slice(max(0, top - rows.start - 3), bottom - rows.start + 3),
            slice(0, max(1, left - c0 + _EDGE_WIN)))
    ground = _refined(window, judged, near, bar)
    if ground is None or not _fits((window - ground.level) / ground.contrast, judged):
        return None
    if tick:
        x = _tick_centre(level, end, tick, ground)
        return None if x is None else End(x, "tick", t_top, t_bottom)
    m0 = max(0, left - _MEASURE_BEYOND)
    x = _edge(level[full, m0:cols.stop], left, m0, ground)
    return None if x is None else End(x, "plain", top, bottom)


def _end_rows(level: np.ndarray, body: Body, ground: _Ground) -> tuple[Body, slice] | None:
    """The bar's extent at its left end (half contrast) and the rows where it is full.

    A blurred bar reaches beyond its body (the rows of full ink all along) by a row or two
    and beyond its first full column by a pixel or two, a slightly tilted one by a few rows
    at each end; the rows are taken just inside the end.
    """
    top, bottom, left, right = body
    lo, hi = max(0, top - 4), min(level.shape[0], bottom + 4)
    cols = slice(left + 1, max(left + 2, min(left + 8, (left + right) // 2)))
    cov = np.median((level[lo:hi, cols] - ground.level) / ground.contrast, axis=1)
    inside = np.flatnonzero(cov[top - lo:bottom - lo] >= _HALF) + top
    if inside.size == 0:
        return None
    a = b = int(inside[0])
    while a - 1 >= lo and cov[a - 1 - lo] >= _HALF:
        a -= 1
    while b + 1 < hi and cov[b + 1 - lo] >= _HALF:
        b += 1
    full = np.flatnonzero(cov[a - lo:b + 1 - lo] >= 0.9)
    if full.size == 0:
        return None
    rows = slice(a + int(full[0]), a + int(full[-1]) + 1)
    start = left  # a blurred end reaches half contrast a pixel or two beyond the full ink
    while start - 1 >= max(1, left - 3) and float(np.median(
            (level[rows, start - 1] - ground.level) / ground.contrast)) >= _HALF:
        start -= 1
    return Body(a, b + 1, start, right), rows


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D boolean array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist()))


def _tick(level: np.ndarray, body: Body, ground: _Ground) -> tuple[int, int, int, int] | None:
    """(first column, stop column, top row, bottom row) of a tick at the left end, or None.

    A tick is a stroke at most ``max(3, thickness)`` wide that starts within 3 px of the end
    in the two rows above or below the body (rows inked all along, a blurred body's edge,
    are no tick) and stands out by at least ``max(3, thickness)`` rows in all.
    """
    top, bottom, left, right = body
    thick = bottom - top
    height = level.shape[0]
    c0, c1 = max(0, left - _EDGE_WIN), min(left + max(5, thick + 3), left + (right - left) // 3)
    widest = max(3, thick)
    spans = []
    for row in (top - 2, top - 1, bottom, bottom + 1):
        if not 0 <= row < height:
            continue
        cov = _coverage(level, slice(row, row + 1), slice(c0, c1), ground)[0]
        runs = [(a + c0, b + c0) for a, b in _runs(cov >= _HALF)]
        spans += [(a, b) for a, b in runs if left - _EDGE_WIN <= a <= left + 1 and b - a <= widest]
    if not spans:
        return None
    a, b = min(s[0] for s in spans), max(s[1] for s in spans)
    if b - a > widest:
        return None
    t_top, t_bottom = top, bottom
    while t_top > 0 and _inked(level, t_top - 1, a, b, ground):
        t_top -= 1
    while t_bottom < height and _inked(level, t_bottom, a, b, ground):
        t_bottom += 1
    if (top - t_top) + (t_bottom - bottom) < max(3, thick):
        return None
    return a, b, t_top, t_bottom


def _one_sided(tick: tuple[int, int, int, int], body: Body) -> bool:
    """True for a stroke standing out on one side of the body only (a bracket, ``|___|``).

    Tick centres are the convention for ticks crossing the bar (Zeiss); for brackets the
    convention (centres or outer edges) is not known, so their bars are not measured.
    """
    return min(body.top - tick[2], tick[3] - body.bottom) < 2


def _inked(level: np.ndarray, row: int, a: int, b: int, ground: _Ground) -> bool:
    """True when a pixel of ``row`` in columns ``a:b`` looks like ink."""
    return bool((_coverage(level, slice(row, row + 1), slice(a, b), ground) >= _HALF).any())


def _tick_centre(level: np.ndarray, body: Body, tick: tuple[int, int, int, int],
                 ground: _Ground) -> float | None:
    """Coverage-weighted centre column of a tick outside the body's rows."""
    a, b, t_top, t_bottom = tick
    rows = [r for r in range(t_top, t_bottom) if not body.top <= r < body.bottom]
    c0, c1 = max(0, a - 2), min(level.shape[1], b + 2)
    weight = np.clip((level[rows, c0:c1] - ground.level) / ground.contrast, 0, 1).sum(axis=0)
    if weight.sum() <= 0:
        return None
    return float(c0 + (weight * np.arange(c1 - c0)).sum() / weight.sum())
