"""Corrections of an instance label image: delete, merge, split along a line, paint a new one.

Each function changes ``labels`` in place and returns the ids whose pixels changed, so that only
those particles need measuring again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["delete_particle", "merge_particles", "paint_particle", "split_particle"]


def _check_id(labels: np.ndarray, label: int) -> None:
    if label <= 0 or not (labels == label).any():
        raise ValueError(f"no particle {label} in the label image")


def delete_particle(labels: np.ndarray, label: int) -> list[int]:
    """Set particle ``label`` to background; returns ``[label]``."""
    _check_id(labels, label)
    labels[labels == label] = 0
    return [int(label)]


def merge_particles(labels: np.ndarray, first: int, second: int) -> list[int]:
    """Join ``second`` into ``first`` (the merged particle keeps the smaller id).

    Returns
    -------
    list of int
        ``[kept, removed]``.
    """
    _check_id(labels, first)
    _check_id(labels, second)
    if first == second:
        raise ValueError(f"cannot merge particle {first} with itself")
    keep, gone = sorted((int(first), int(second)))
    labels[labels == gone] = keep
    return [keep, gone]


def _line_pixels(points: Sequence[tuple[float, float]], shape) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of a polyline through ``points`` (row, col), 4-connected so that it cuts."""
    from skimage.draw import line

    rows, cols = [], []
    pts = [(int(round(r)), int(round(c))) for r, c in points]
    for (r0, c0), (r1, c1) in zip(pts[:-1], pts[1:]):
        rr, cc = line(r0, c0, r1, c1)
        rows.append(rr)
        cols.append(cc)
        # close diagonal steps: an 8-connected line leaks through 4-connected pixels
        step = (np.abs(np.diff(rr)) + np.abs(np.diff(cc))) == 2
        rows.append(rr[:-1][step])
        cols.append(cc[1:][step])
    rr, cc = np.concatenate(rows), np.concatenate(cols)
    inside = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
    return rr[inside], cc[inside]


def split_particle(labels: np.ndarray, label: int,
                   points: Sequence[tuple[float, float]]) -> list[int]:
    """Cut particle ``label`` along the polyline ``points`` ((row, col) pairs, image pixels).

    The pixels of the line go to the nearest piece, so the area is kept.  The largest piece keeps
    ``label``; the others get new ids above the largest id in use.

    Returns
    -------
    list of int
        ``label`` and the new ids.

    Raises
    ------
    ValueError
        When the line does not cut the particle in two.
    """
    _check_id(labels, label)
    if len(points) < 2:
        raise ValueError("a split line needs at least two points")
    mask = labels == label
    ys, xs = np.nonzero(mask)
    top, left = ys.min(), xs.min()
    sub = mask[top : ys.max() + 1, left : xs.max() + 1].copy()
    rr, cc = _line_pixels([(r - top, c - left) for r, c in points], sub.shape)
    cut = sub.copy()
    cut[rr, cc] = False
    pieces, n = ndimage.label(cut)  # 4-connected
    if n < 2:
        raise ValueError(f"the line does not cut particle {label} in two; draw it across the "
                         "particle from edge to edge")
    # line pixels of the particle join the nearest piece
    _, (iy, ix) = ndimage.distance_transform_edt(pieces == 0, return_indices=True)
    pieces = np.where(sub, pieces[iy, ix], 0)
    sizes = np.bincount(pieces.ravel(), minlength=n + 1)
    order = [int(k) for k in np.argsort(-sizes[1:], kind="stable") + 1]
    new_ids = [int(label)]
    next_id = int(labels.max()) + 1
    view = labels[top : ys.max() + 1, left : xs.max() + 1]
    for k in order[1:]:
        view[pieces == k] = next_id
        new_ids.append(next_id)
        next_id += 1
    return new_ids


def paint_particle(labels: np.ndarray, mask: np.ndarray) -> list[int]:
    """Add a particle where ``mask`` covers background (existing particles are kept).

    Returns
    -------
    list of int
        ``[new_id]``.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != labels.shape:
        raise ValueError(f"mask shape {mask.shape} differs from the labels' {labels.shape}")
    free = mask & (labels == 0)
    if not free.any():
        raise ValueError("the painted area covers no background; paint where no particle is")
    new_id = int(labels.max()) + 1
    labels[free] = new_id
    return [new_id]
