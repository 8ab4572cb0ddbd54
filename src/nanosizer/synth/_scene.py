"""Rasterising placed particles into scene maps (labels, height, thickness, material)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._layout import Placed

__all__ = ["Scene", "render_scene"]


@dataclass
class Scene:
    """Physical maps of one image, before the microscope.

    Attributes
    ----------
    labels : (H, W) ndarray of int32
        Painter's labels: index+1 of the front-most particle at each pixel (0 = substrate).
    height : (H, W) ndarray of float32
        Surface height of the front-most particle (px units; 0 on the substrate).
    thickness : (H, W) ndarray of float32
        Summed projected thickness of all particles (px units), for transmission modalities.
    material : (H, W) ndarray of float32
        Per-particle brightness factor of the front-most particle (1 on the substrate).
    tilt : (H, W) ndarray of float32
        ``sec(theta) - 1`` of the front-most particle's own surface (0 on the substrate).
    full_area : (N,) ndarray of int
        Rasterised pixel count of each full (unclipped, unoccluded) particle.
    inside_area : (N,) ndarray of int
        Pixel count of each particle inside the image (occlusion ignored).
    """

    labels: np.ndarray
    height: np.ndarray
    thickness: np.ndarray
    material: np.ndarray
    tilt: np.ndarray
    full_area: np.ndarray
    inside_area: np.ndarray


def rasterise(poly: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Pixels whose centres lie inside ``poly``: (mask patch, top row, left col).

    Even-odd scanline fill, vectorised over rows and edges (pixel centres at integer
    coordinates).
    """
    r0 = int(np.floor(poly[:, 0].min())) - 1
    c0 = int(np.floor(poly[:, 1].min())) - 1
    nr = int(np.ceil(poly[:, 0].max())) - r0 + 2
    nc = int(np.ceil(poly[:, 1].max())) - c0 + 2
    y, x = poly[:, 0] - r0, poly[:, 1] - c0
    y2 = np.concatenate([y[1:], y[:1]])
    x2 = np.concatenate([x[1:], x[:1]])
    rows = np.arange(nr)[:, None]
    crosses = (rows >= np.minimum(y, y2)) & (rows < np.maximum(y, y2))
    rr, kk = np.nonzero(crosses)
    xc = x[kk] + (rr - y[kk]) / (y2[kk] - y[kk]) * (x2[kk] - x[kk])
    start = np.clip(np.ceil(xc).astype(np.intp), 0, nc)
    toggles = np.bincount(rr * (nc + 1) + start, minlength=nr * (nc + 1)).reshape(nr, nc + 1)
    mask = (np.cumsum(toggles[:, :nc], axis=1) & 1).astype(bool)
    return mask, r0, c0


def rasterise_union(polys) -> tuple[np.ndarray, int, int]:
    """Union of the pixel masks of several polygons: (mask patch, top row, left col)."""
    if len(polys) == 1:
        return rasterise(polys[0])
    parts = [rasterise(p) for p in polys]
    r0 = min(p[1] for p in parts)
    c0 = min(p[2] for p in parts)
    r1 = max(p[1] + p[0].shape[0] for p in parts)
    c1 = max(p[2] + p[0].shape[1] for p in parts)
    mask = np.zeros((r1 - r0, c1 - c0), bool)
    for m, r, c in parts:
        mask[r - r0 : r - r0 + m.shape[0], c - c0 : c - c0 + m.shape[1]] |= m
    return mask, r0, c0


def _bounds(poly: np.ndarray) -> tuple[int, int, int, int]:
    """Patch of :func:`rasterise`: (top row, left col, rows, cols)."""
    r0 = int(np.floor(poly[:, 0].min())) - 1
    c0 = int(np.floor(poly[:, 1].min())) - 1
    return (r0, c0, int(np.ceil(poly[:, 0].max())) - r0 + 2,
            int(np.ceil(poly[:, 1].max())) - c0 + 2)


def _pack(shapes: np.ndarray, width: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Shelf-pack patches ``(N, 2)`` (rows, cols) into an atlas; returns their top-left corners."""
    pos = np.zeros((len(shapes), 2), np.int64)
    x = y = shelf = 0
    for i, (ph, pw) in enumerate(shapes):
        if x + pw > width:
            x, y, shelf = 0, y + shelf, 0
        pos[i] = (y, x)
        x, shelf = x + pw, max(shelf, ph)
    return pos, (int(y + shelf), int(width))


def _scanline_fill(polys: list, offsets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Even-odd fill of many polygons at once (each shifted by its ``offsets`` row/col).

    Polygons are closed, so each one's crossings per row are even and the running parity
    returns to 0 after it: one cumulative sum over the whole atlas fills them all.
    """
    nr, nc = shape
    sizes = np.array([len(p) for p in polys])
    v = np.concatenate(polys) + np.repeat(offsets, sizes, axis=0)
    nxt = np.arange(len(v)) + 1
    nxt[np.cumsum(sizes) - 1] = np.cumsum(sizes) - sizes  # wrap to each polygon's start
    y, x, y2, x2 = v[:, 0], v[:, 1], v[nxt, 0], v[nxt, 1]
    first = np.ceil(np.minimum(y, y2)).astype(np.int64)
    counts = np.maximum(np.ceil(np.maximum(y, y2)).astype(np.int64) - first, 0)
    edge = np.repeat(np.arange(len(v)), counts)
    rows = np.repeat(first, counts) + np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    xc = x[edge] + (rows - y[edge]) / (y2[edge] - y[edge]) * (x2[edge] - x[edge])
    cols = np.clip(np.ceil(xc).astype(np.int64), 0, nc)
    toggles = np.bincount(rows * (nc + 1) + cols, minlength=nr * (nc + 1)).reshape(nr, nc + 1)
    return (np.cumsum(toggles[:, :nc], axis=1) & 1).astype(bool)


def _atlas(particles: list[Placed]):
    """All particle masks in one atlas: (mask, patch id map, corners, patch bounds)."""
    bounds = np.array([_bounds(p.poly if not p.necks else np.vstack([p.poly, *p.necks]))
                       for p in particles], np.int64).reshape(-1, 4)
    width = int(max(512, bounds[:, 3].max(initial=0)))
    pos, shape = _pack(bounds[:, 2:], width)
    plain = [i for i, p in enumerate(particles) if not p.necks]
    mask = np.zeros(shape, bool)
    if plain:
        offsets = (pos[plain] - bounds[plain, :2]).astype(float)
        mask = _scanline_fill([particles[i].poly for i in plain], offsets, shape)
    for i, p in enumerate(particles):
        if p.necks:  # unions of overlapping polygons need their own fill
            m, r0, c0 = rasterise_union((p.poly, *p.necks))
            r, c = pos[i] + (r0 - bounds[i, 0], c0 - bounds[i, 1])
            mask[r : r + m.shape[0], c : c + m.shape[1]] |= m
    ids = np.full(shape, -1, np.int64)
    for i, (r, c) in enumerate(pos):
        ids[r : r + bounds[i, 2], c : c + bounds[i, 3]] = i
    return mask, ids, pos, bounds


def _profiles(d, pid, kind, rmax):
    """Height and tilt of mask pixels from their distance ``d`` to their own outline."""
    r, k = rmax[pid], kind[pid]
    x = 1 - d / r
    cos2 = np.clip(1 - x * x, 0.04, 1)
    dome, facet = k == 0, k == 1
    height = np.minimum(d, 1.5) * 0.5 + 0.1 * r  # flat plates with a bevelled edge
    tilt = 2.0 * np.exp(-d)
    height[dome] = r[dome] * np.sqrt(cos2[dome])
    tilt[dome] = 1 / np.sqrt(cos2[dome]) - 1
    height[facet] = 0.8 * d[facet]
    tilt[facet] = 0.28 + 1.5 * np.exp(-d[facet] / 1.2)
    return height, tilt


def render_scene(
    particles: list[Placed], size: tuple[int, int], brightness: np.ndarray,
    lift: np.ndarray | None = None,
) -> Scene:
    """Paint particles back to front; later particles own the pixels they share.

    All particles are rasterised, distance-transformed and profiled together in one packed
    atlas (each with its own outline), then painted with a vectorised depth test.

    Parameters
    ----------
    particles : list of Placed
        Back-to-front order.
    size : (int, int)
        Image shape.
    brightness : (N,) ndarray of float
        Material brightness factor per particle.
    lift : (N,) ndarray of float, optional
        Height of each particle's base above the substrate (px); front particles sit higher
        in agglomerates, which gives steps (bright rims) where they hide others.
    """
    h, w = size
    n = len(particles)
    labels = np.zeros(h * w, np.int32)
    height = np.zeros(h * w, np.float32)
    material = np.ones(h * w, np.float32)
    tilt = np.zeros(h * w, np.float32)
    thickness = np.zeros(h * w, np.float32)
    if n == 0:
        z = np.zeros(0, np.int64)
        return Scene(*(a.reshape(size) for a in (labels, height, thickness, material, tilt)),
                     z, z)
    # particles entirely outside the image are never seen: leave them out of the atlas
    b = np.array([_bounds(np.vstack([p.poly, *p.necks])) for p in particles]).reshape(-1, 4)
    seen = np.flatnonzero((b[:, 0] < h) & (b[:, 0] + b[:, 2] > 0) & (b[:, 1] < w)
                          & (b[:, 1] + b[:, 3] > 0))
    full_area = np.zeros(n, np.int64)
    if seen.size == 0:
        return Scene(*(a.reshape(size) for a in (labels, height, thickness, material, tilt)),
                     full_area, full_area.copy())
    mask, ids, pos, bounds = _atlas([particles[i] for i in seen])
    dist = ndimage.distance_transform_edt(mask).astype(np.float32)
    ar, ac = np.nonzero(mask)
    d = dist[ar, ac] - 0.5
    pid = ids[ar, ac]
    rmax = np.full(len(seen), 0.5, np.float32)
    np.maximum.at(rmax, pid, d)
    kind = np.array([{"dome": 0, "facet": 1}.get(particles[i].profile, 2) for i in seen])
    hv, tv = _profiles(d, pid, kind, rmax)
    ir = ar - pos[pid, 0] + bounds[pid, 0]
    ic = ac - pos[pid, 1] + bounds[pid, 1]
    full_area[seen] = np.bincount(pid, minlength=len(seen))
    inside = (ir >= 0) & (ir < h) & (ic >= 0) & (ic < w)
    pid, flat, hv, tv = seen[pid[inside]], ir[inside] * w + ic[inside], hv[inside], tv[inside]
    inside_area = np.bincount(pid, minlength=n)
    thickness += np.bincount(flat, weights=2 * hv, minlength=h * w).astype(np.float32)
    np.maximum.at(labels, flat, (pid + 1).astype(np.int32))  # the front-most particle wins
    win = labels[flat] == pid + 1
    px, pw = flat[win], pid[win]
    height[px] = hv[win] + (0.0 if lift is None else np.asarray(lift)[pw])
    tilt[px] = tv[win]
    material[px] = np.asarray(brightness)[pw]
    maps = (a.reshape(size) for a in (labels, height, thickness, material, tilt))
    return Scene(*maps, full_area, inside_area)
