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


def height_profile(mask: np.ndarray, profile: str) -> tuple[np.ndarray, np.ndarray]:
    """Height map (px) and surface tilt term ``sec(theta) - 1`` of a particle patch.

    Both come from the distance to the particle's own outline, so a particle's rim stays
    bright where it hides another particle and the hidden particle gets no rim there.
    """
    d = ndimage.distance_transform_edt(mask).astype(np.float32)
    d = np.where(mask, d - 0.5, 0)
    rmax = max(float(d.max()), 0.5)
    if profile == "dome":
        x = 1 - d / rmax
        cos2 = np.clip(1 - x * x, 0.04, 1)
        return np.where(mask, rmax * np.sqrt(cos2), 0), np.where(mask, 1 / np.sqrt(cos2) - 1, 0)
    if profile == "facet":
        rim = np.where(mask, 1.5 * np.exp(-d / 1.2), 0)
        return 0.8 * d, np.where(mask, 0.28 + rim, 0)
    rim = np.where(mask, 2.0 * np.exp(-d / 1.0), 0)
    return np.where(mask, np.minimum(d, 1.5) * 0.5 + 0.1 * rmax, 0), rim  # bevelled plate


def render_scene(
    particles: list[Placed], size: tuple[int, int], brightness: np.ndarray,
    lift: np.ndarray | None = None,
) -> Scene:
    """Paint particles back to front; later particles own the pixels they share.

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
    labels = np.zeros(size, np.int32)
    height = np.zeros(size, np.float32)
    thickness = np.zeros(size, np.float32)
    material = np.ones(size, np.float32)
    tilt = np.zeros(size, np.float32)
    n = len(particles)
    full_area = np.zeros(n, np.int64)
    inside_area = np.zeros(n, np.int64)
    for i, p in enumerate(particles):
        mask, r0, c0 = rasterise_union((p.poly, *p.necks))
        full_area[i] = int(mask.sum())
        ra, rb = max(r0, 0), min(r0 + mask.shape[0], h)
        ca, cb = max(c0, 0), min(c0 + mask.shape[1], w)
        if ra >= rb or ca >= cb or full_area[i] == 0:
            continue
        sub = mask[ra - r0 : rb - r0, ca - c0 : cb - c0]
        inside_area[i] = int(sub.sum())
        if inside_area[i] == 0:
            continue
        hp, tp = height_profile(mask, p.profile)
        hp = hp[ra - r0 : rb - r0, ca - c0 : cb - c0]
        win = (slice(ra, rb), slice(ca, cb))
        labels[win][sub] = i + 1
        height[win][sub] = hp[sub] + (0.0 if lift is None else lift[i])
        tilt[win][sub] = tp[ra - r0 : rb - r0, ca - c0 : cb - c0][sub]
        thickness[win] += 2 * hp
        material[win][sub] = brightness[i]
    return Scene(labels, height, thickness, material, tilt, full_area, inside_area)
