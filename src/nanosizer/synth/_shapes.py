"""Particle outlines as polygons, normalised to a minimum Feret diameter of 1.

Every shape family produces a closed polygon ``(K, 2)`` of (row, col) vertices centred near the
origin.  Working with polygons keeps the true (unrasterised) geometry available for the truth
table: area and Feret diameters are computed from the vertices, not from pixels.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ._config import ParticleConfig

__all__ = ["ShapePool", "orient", "make_shape", "polygon_feret", "polygon_area", "load_outlines"]

# Projected 3-D solids: vertices of a cube, a tetragonal bipyramid (anatase-like, truncated
# tips) and a truncated octahedron.
_CUBE = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
_TRUNC_OCTA = np.array(
    [p for a in (-1, 1) for b in (-2, 2)
     for p in ([0, a, b], [0, b, a], [a, 0, b], [b, 0, a], [a, b, 0], [b, a, 0])], float
)


def _bipyramid(c: float, trunc: float) -> np.ndarray:
    sq = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    top = np.column_stack([sq * trunc, np.full(4, c * (1 - trunc))])
    mid = np.column_stack([sq, np.zeros(4)])
    return np.vstack([top, mid, top * [1, 1, -1]])


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull vertices of 2-D points, counter-clockwise, (K, 2)."""
    from scipy.spatial import ConvexHull

    return points[ConvexHull(points).vertices]


def _next(a: np.ndarray) -> np.ndarray:
    """The following vertex of each vertex (cheaper than ``np.roll(a, -1, axis=0)``)."""
    return np.concatenate([a[1:], a[:1]])


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def _circle(n: int) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([np.sin(t), np.cos(t)])


def _chaikin(poly: np.ndarray, iterations: int) -> np.ndarray:
    """Round the corners of a closed polygon by corner cutting."""
    for _ in range(iterations):
        nxt = _next(poly)
        poly = np.stack([0.75 * poly + 0.25 * nxt, 0.25 * poly + 0.75 * nxt], 1).reshape(-1, 2)
    return poly


def _stadium(aspect: float, n: int = 12) -> np.ndarray:
    t = np.linspace(-np.pi / 2, np.pi / 2, n)
    half = max(aspect - 1.0, 0.0) / 2
    right = np.column_stack([np.sin(t) * 0.5, half + np.cos(t) * 0.5])
    return np.vstack([right, -right])


def _irregular(rng: np.random.Generator, roughness: float, n: int = 48) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    k = np.arange(2, 7)
    amp = roughness * rng.normal(size=k.size) / k
    phase = rng.uniform(0, 2 * np.pi, k.size)
    r = 1 + (amp[:, None] * np.cos(k[:, None] * t + phase[:, None])).sum(0)
    r = np.clip(r, 0.3, None)
    return np.column_stack([r * np.sin(t), r * np.cos(t)])


def _family_polygon(name: str, cfg: ParticleConfig, rng: np.random.Generator) -> tuple:
    """Unscaled polygon and height-profile kind for one shape family."""
    aspect = rng.uniform(*cfg.aspect_range)
    if name == "sphere":
        return _circle(40), "dome"
    if name == "ellipse":
        return _circle(40) * [1.0, aspect], "dome"
    if name in ("polygon", "rounded_polygon"):
        n = int(rng.integers(3, 9))
        t = np.sort(rng.uniform(-0.25, 0.25, n) * 2 * np.pi / n + np.arange(n) * 2 * np.pi / n)
        poly = np.column_stack([np.sin(t), np.cos(t)]) * [1.0, aspect]
        if name == "rounded_polygon":
            return _chaikin(poly, 3), "dome"
        return poly, "facet"
    if name == "rod":
        return _stadium(rng.uniform(*cfg.rod_aspect_range)), "dome"
    if name == "plate":
        n = int(rng.choice([3, 6]))
        poly = _circle(n) * [1.0, aspect]
        return _chaikin(poly, 1) if rng.random() < 0.5 else poly, "flat"
    if name == "irregular":
        return _irregular(rng, max(cfg.roughness, 0.05)), "dome"
    if name == "outline":
        outlines = load_outlines(cfg.outlines_dir)
        return outlines[int(rng.integers(len(outlines)))], "dome"
    # projected 3-D solids
    if name == "cube":
        solid = _CUBE
    elif rng.random() < 0.6:
        solid = _bipyramid(c=rng.uniform(1.5, 2.5), trunc=rng.uniform(0.05, 0.35))
    else:
        solid = _TRUNC_OCTA
    poly = _hull((solid @ _random_rotation(rng).T)[:, :2])
    if rng.random() < 0.5:
        poly = _chaikin(poly, 2)
    return poly, "facet"


def make_shape(name: str, cfg: ParticleConfig, rng: np.random.Generator) -> tuple:
    """A random polygon of family ``name`` with min Feret 1, random orientation and flip.

    Returns
    -------
    poly : (K, 2) ndarray of float
        Closed polygon (row, col), centred on its vertex mean.
    profile : str
        Height-profile kind: ``'dome'``, ``'facet'`` or ``'flat'``.
    feret_max : float
        Maximum Feret diameter of ``poly`` (its minimum Feret is 1).
    """
    poly, profile = _family_polygon(name, cfg, rng)
    if name not in ("irregular",) and cfg.roughness > 0 and name != "outline":
        # slight surface roughness for every family
        n = len(poly)
        poly = poly * (1 + rng.normal(0, cfg.roughness * 0.05, (n, 1)))
    poly = orient(poly - poly.mean(0), rng)
    fmin, fmax = polygon_feret(poly)
    return poly / fmin, profile, fmax / fmin


def orient(poly: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation and mirror flip of a polygon about the origin."""
    angle = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(angle), np.sin(angle)
    flip = -1.0 if rng.random() < 0.5 else 1.0
    return poly @ np.array([[c, s * flip], [-s, c * flip]])


class ShapePool:
    """Unit shapes shared by the particles of one image (saves the per-shape geometry work).

    Each family keeps up to ``capacity`` distinct outlines; every draw gets its own random
    rotation and flip, so neighbouring particles still look different.
    """

    def __init__(self, cfg: ParticleConfig, capacity: int = 8) -> None:
        self.cfg = cfg
        self.capacity = capacity
        self._cache: dict[str, list] = {}

    def draw(self, name: str, rng: np.random.Generator) -> tuple:
        """(unit polygon, profile, max Feret, area) of a shape of family ``name``."""
        entries = self._cache.setdefault(name, [])
        if len(entries) < self.capacity:
            poly, profile, fmax = make_shape(name, self.cfg, rng)
            entries.append((poly, profile, fmax, polygon_area(poly)))
            return entries[-1]
        poly, profile, fmax, area = entries[int(rng.integers(len(entries)))]
        return orient(poly, rng), profile, fmax, area


def polygon_feret(poly: np.ndarray) -> tuple[float, float]:
    """Minimum and maximum Feret diameter of a polygon ``(K, 2)``."""
    hull = _hull(poly)
    diff = hull[:, None, :] - hull[None, :, :]
    fmax = float(np.sqrt((diff**2).sum(-1)).max())
    edges = _next(hull) - hull
    normals = np.column_stack([-edges[:, 1], edges[:, 0]])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    proj = normals @ hull.T
    fmin = float((proj.max(1) - proj.min(1)).min())
    return fmin, fmax


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon ``(K, 2)`` (shoelace formula)."""
    r, c = poly[:, 0], poly[:, 1]
    return float(0.5 * abs(np.dot(r, _next(c)) - np.dot(c, _next(r))))


@lru_cache(maxsize=8)
def load_outlines(folder: str | None) -> tuple[np.ndarray, ...]:
    """Polygons of the particle outlines in a folder of binary images (largest object each).

    Parameters
    ----------
    folder : str
        Folder of TIFF/PNG images, particle bright on dark.

    Returns
    -------
    tuple of (K, 2) ndarray
        One centred polygon per readable image.
    """
    from skimage import io, measure

    from ..errors import InputError

    if folder is None or not Path(folder).is_dir():
        raise InputError(f"outline folder {folder} does not exist; pass a folder of binary images")
    files = sorted(p for p in Path(folder).iterdir()
                   if p.suffix.lower() in (".tif", ".tiff", ".png", ".bmp"))
    polys = []
    for path in files:
        img = np.asarray(io.imread(path))
        img = img[..., 0] if img.ndim == 3 else img
        mask = np.pad(img > img.min() + 0.5 * np.ptp(img), 2)
        contours = measure.find_contours(mask.astype(np.float32), 0.5)
        if not contours:
            continue
        poly = measure.approximate_polygon(max(contours, key=len), 0.4)[:-1]
        if len(poly) >= 3:
            polys.append(poly - poly.mean(0))
    if not polys:
        raise InputError(
            f"no particle outlines found in {folder}; give binary images (white particle on black)")
    return tuple(polys)
