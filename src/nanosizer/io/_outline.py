"""Pixel-edge outlines of labelled particles (what ImageJ's wand tool traces)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["trace_outline", "trace_outlines"]

# Directions in clockwise order on screen (y down): east, south, west, north.
_STEP = ((1, 0), (0, 1), (-1, 0), (0, -1))


def _edges(mask: np.ndarray) -> dict[tuple[int, int], list[int]]:
    """Outgoing boundary edges per pixel corner (x, y), walking with the particle on the right."""
    fg = np.pad(mask, 1)
    core = fg[1:-1, 1:-1]
    starts = {}
    # (neighbour offset (dr, dc), corner where the edge starts relative to the pixel, direction)
    for (dr, dc), (ox, oy), d in (
        ((-1, 0), (0, 0), 0), ((0, 1), (1, 0), 1), ((1, 0), (1, 1), 2), ((0, -1), (0, 1), 3),
    ):
        nb = fg[1 + dr : fg.shape[0] - 1 + dr, 1 + dc : fg.shape[1] - 1 + dc]
        rr, cc = np.nonzero(core & ~nb)
        for x, y in zip((cc + ox).tolist(), (rr + oy).tolist()):
            starts.setdefault((x, y), []).append(d)
    return starts


def trace_outline(mask: np.ndarray) -> np.ndarray:
    """Outer outline of a particle along pixel edges, as ImageJ's wand traces it.

    Diagonally touching pixels are kept together (8-connectivity); holes are not traced.
    When the mask holds several separate pieces, the first in raster order is traced.

    Parameters
    ----------
    mask : (H, W) ndarray of bool
        The particle.

    Returns
    -------
    vertices : (K, 2) ndarray of int
        Polygon corners ``(x, y)`` in pixel-corner coordinates (pixel ``(r, c)`` spans
        ``[c, c+1] x [r, r+1]``), clockwise on screen, not closed, collinear points removed.

    Examples
    --------
    >>> trace_outline(np.ones((2, 3), bool)).tolist()
    [[0, 0], [3, 0], [3, 2], [0, 2]]
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("mask is empty")
    edges = _edges(mask)
    r0, c0 = np.argwhere(mask)[0]
    start = (int(c0), int(r0))
    pos, d = start, 0
    corners = []
    while True:
        step = _STEP[d]
        pos = (pos[0] + step[0], pos[1] + step[1])
        options = edges[pos]
        # Prefer the left turn, then straight, then right: keeps diagonal pixels together.
        new = next(nd for nd in ((d - 1) % 4, d, (d + 1) % 4) if nd in options)
        if new != d:
            corners.append(pos)
        d = new
        if pos == start:
            break
    corners = corners[-1:] + corners[:-1]  # start at the top-left corner
    return np.asarray(corners, dtype=np.int64)


def trace_outlines(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Outline of every particle of a label image (see :func:`trace_outline`).

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.

    Returns
    -------
    dict
        Label -> (K, 2) ndarray of int ``(x, y)`` corners in image coordinates.
    """
    out = {}
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        corners = trace_outline(labels[sl] == i)
        out[i] = corners + [sl[1].start, sl[0].start]
    return out
