"""Measuring the outer ends of a framed scale bar (an outline rectangle).

The frame's top and bottom lines (at most 3 px thick) must be joined at each end by a side at
most 3 px wide; like every end (:mod:`nanosizer.io._barends`), the end is checked against this
model - nothing else may look like ink around it, the hollow may show anything - and then
measured: the outer end of both lines, like a plain end on the lines' rows.
"""

from __future__ import annotations

import numpy as np

from ._barends import (
    _BEYOND,
    _EDGE_WIN,
    _MAX_SPREAD,
    _MEASURE_BEYOND,
    _REACH,
    _REACH_Y,
    Body,
    End,
    _bar_level,
    _edge,
    _fits,
    _ground,
    _judged,
    _mirrored,
    _refined,
)

__all__ = ["frame_ends"]

_MAX_LINE = 3  # px: thickest line and side of a framed bar
_THIN = 0.35  # coverage from which a pixel of a 1-px anti-aliased side counts as drawn


def frame_ends(level: np.ndarray, upper: Body, lower: Body) -> tuple[End, End] | None:
    """Both outer ends of an outline rectangle whose top and bottom lines are given.

    Parameters
    ----------
    level : (H, W) ndarray of float
        Grey levels 0-255, high on ink.
    upper, lower : Body
        The frame's top and bottom lines (full rows of ink with the same ends).

    Returns
    -------
    (End, End) or None
        None when the lines are thicker than 3 px, a side is missing or thicker than 3 px,
        or an end is not clean.
    """
    if max(upper.bottom - upper.top, lower.bottom - lower.top) > _MAX_LINE:
        return None
    bar = min(_bar_level(level, upper), _bar_level(level, lower))
    left = _frame_end(level, upper, lower, bar)
    right = _mirrored(level, (upper, lower), lambda lv, up, low: _frame_end(lv, up, low, bar))
    if left is None or right is None or right.x - left.x < 2:
        return None
    return left, right


def _frame_end(level: np.ndarray, upper: Body, lower: Body, bar: float) -> End | None:
    """The outer left end of an outline rectangle (top line ``upper``, bottom ``lower``)."""
    left = min(upper.left, lower.left)
    first = _ground(level, upper.top, lower.bottom, left, bar)
    if first is None:
        return None
    rows = slice(max(0, upper.top - _REACH_Y), min(level.shape[0], lower.bottom + _REACH_Y))
    c0 = max(0, left - 1 - _BEYOND)
    stop = min(left + _MAX_LINE + _REACH, (upper.left + upper.right) // 2)
    window = level[rows, c0:stop]
    gap = slice(upper.bottom - rows.start, lower.top - rows.start)
    side = _side((window[gap] - first.level) / first.contrast, left - c0)
    if side is None:
        return None
    ink = np.zeros(window.shape, bool)
    for line in (upper, lower):
        ink[line.top - rows.start:line.bottom - rows.start, line.left - c0:] = True
    ink[gap, side[0]:side[1]] = True
    care = np.ones(window.shape, bool)
    care[gap, side[1] + 1:] = False  # the hollow may show anything
    judged = _judged(ink, care)
    near = (slice(max(0, upper.top - rows.start - 3), lower.bottom - rows.start + 3),
            slice(0, left - c0 + _EDGE_WIN))
    ground = _refined(window, judged, near, bar)
    if ground is None or not _fits((window - ground.level) / ground.contrast, judged):
        return None
    m0 = max(0, left - _MEASURE_BEYOND)
    xs = [_edge(level[line.top:line.bottom, m0:stop], line.left, m0, ground)
          for line in (upper, lower)]
    if any(x is None for x in xs) or abs(xs[0] - xs[1]) > _MAX_SPREAD:
        return None
    return End(float(np.mean(xs)), "framed", upper.top, lower.bottom)


def _side(gap_cov: np.ndarray, left: int) -> tuple[int, int] | None:
    """Columns (window coordinates) of the frame's side in the rows between its lines."""
    if gap_cov.shape[0] == 0:
        return None
    a = max(0, left - 2)
    inked = gap_cov[:, a:left + _MAX_LINE + 1] >= _THIN
    cols = np.flatnonzero(inked.mean(axis=0) >= 0.5)
    if cols.size == 0 or cols[0] + a > left + 1 or cols[-1] - cols[0] + 1 > _MAX_LINE:
        return None
    first, stop = int(cols[0] + a), int(cols[-1] + a + 1)
    if not inked[:, first - a:stop - a].any(axis=1).all():
        return None  # the side is broken: not a closed outline
    return first, stop
