"""Arrangement of particles: isolated ones and agglomerates (compact, chain, random attachment)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._config import SynthConfig
from ._shapes import ShapePool

__all__ = ["Placed", "place_particles"]


@dataclass
class Placed:
    """One particle of the scene (pixel units, image coordinates)."""

    poly: np.ndarray  # (K, 2) absolute (row, col) vertices
    size_px: float  # true min Feret
    shape: str
    profile: str
    cluster: int  # -1 for isolated particles
    area: float  # true polygon area in px^2
    feret_max_px: float  # true max Feret
    necks: tuple = ()  # extra polygons (sintered necks) owned by this particle


def _choose(weights: tuple[tuple[str, float], ...], rng: np.random.Generator) -> str:
    cdf = np.cumsum([w for _, w in weights])
    return weights[int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))][0]


_N_DIRS = 64
_ANGLES = np.arange(_N_DIRS) * (2 * np.pi / _N_DIRS)
_DIRS = np.column_stack([np.sin(_ANGLES), np.cos(_ANGLES)])


def _support_table(poly: np.ndarray) -> np.ndarray:
    """Extent of a centred polygon along each of the ``_N_DIRS`` unit directions, (64,)."""
    return (poly @ _DIRS.T).max(0)


class _Scene:
    """Particle centres and radii with vectorised collision checks."""

    def __init__(self, capacity: int) -> None:
        self.centres = np.zeros((capacity, 2))
        self.radii = np.zeros(capacity)
        self.n = 0

    def clear(self, centre: np.ndarray, radius: float, factor: float, skip: int = -1) -> bool:
        d = np.hypot(*(self.centres[: self.n] - centre).T)
        limit = factor * (self.radii[: self.n] + radius)
        if 0 <= skip < self.n:
            limit[skip] = 0
        return bool(np.all(d >= limit))

    def clear_many(self, centres: np.ndarray, radius: float, factor: float,
                   skip: np.ndarray) -> np.ndarray:
        """:meth:`clear` for several candidate centres ``(M, 2)`` (each with its own skip)."""
        d = np.hypot(*(self.centres[None, : self.n] - centres[:, None]).transpose(2, 0, 1))
        limit = np.repeat(factor * (self.radii[None, : self.n] + radius), len(centres), axis=0)
        limit[np.arange(len(centres)), skip] = 0
        return np.all(d >= limit, axis=1)

    def add(self, centre: np.ndarray, radius: float) -> None:
        self.centres[self.n], self.radii[self.n] = centre, radius
        self.n += 1


class _Drawer:
    """Draws particle outlines (centred, px) from the size distribution and shape mixture."""

    def __init__(self, cfg: SynthConfig, rng: np.random.Generator) -> None:
        self.pc, self.rng = cfg.particles, rng
        self.pool = ShapePool(cfg.particles)

    def __call__(self) -> tuple:
        pc, rng = self.pc, self.rng
        size = float(np.exp(rng.normal(np.log(pc.median_px), np.log(pc.gsd))))
        shape = _choose(pc.shapes, rng)
        unit, profile, fmax, unit_area = self.pool.draw(shape, rng)
        return unit * size, size, shape, profile, unit_area * size * size, fmax * size


def _draw_particles(cfg: SynthConfig, rng: np.random.Generator, n: int) -> list:
    """``n`` drawn particles (for checking the size distribution)."""
    draw = _Drawer(cfg, rng)
    return [draw() for _ in range(n)]


def place_particles(cfg: SynthConfig, rng: np.random.Generator) -> list[Placed]:
    """Draw and place particles until ``cfg.arrangement.coverage`` of the image is covered.

    Agglomerates are seeded inside the image (they may grow across the border); isolated
    particles keep a small distance from everything else.

    Returns
    -------
    list of Placed
        In random depth order, back to front (later particles hide earlier ones).
    """
    h, w = cfg.size
    ac = cfg.arrangement
    draw = _Drawer(cfg, rng)
    scene = _Scene(ac.max_particles + 1)
    placed: list[Placed] = []
    margin = 0.5 * cfg.particles.median_px
    cf = ac.cluster_fraction
    p_group = 1.0 if cf >= 1 else cf / (cf + (1 - cf) * ac.cluster_size)
    covered, attempts, cid, misses = 0.0, 0, 0, 0
    target = ac.coverage * h * w
    typical_area = 0.8 * cfg.particles.median_px**2  # a bit above a disc: no overshoot
    while (covered < target and len(placed) < ac.max_particles
           and attempts < 4 * ac.max_particles and misses < 30):
        if rng.random() < p_group:
            k = min(int(rng.geometric(1.0 / ac.cluster_size)), ac.max_particles - len(placed),
                    int(np.ceil((target - covered) / typical_area)))
            mode = _choose(ac.cluster_modes, rng)
            grow = _grow_lattice if mode == "lattice" else _grow_cluster
            new = grow(draw, k, mode, cid, scene, cfg, rng)
            attempts, cid = attempts + k, cid + 1
            missed = len(new) < min(k, 2)
        else:
            new = _place_isolated(draw(), scene, cfg, rng, margin)
            attempts, missed = attempts + 1, not new
        misses = misses + 1 if missed else 0
        for p in new:
            c = p.poly.mean(0)
            inside = 0 <= c[0] < h and 0 <= c[1] < w
            covered += p.area * (1.0 if inside else 0.3)
        placed += new
    order = rng.permutation(len(placed))
    return [placed[j] for j in order]


def _place_isolated(item, scene, cfg, rng, margin) -> list[Placed]:
    h, w = cfg.size
    poly, size, shape, profile, area, fmax = item
    r = float(np.hypot(*poly.T).max())
    for _ in range(20):
        c = rng.uniform([-margin, -margin], [h + margin, w + margin])
        if scene.clear(c, r, 1.05):
            scene.add(c, r)
            return [Placed(poly + c, size, shape, profile, -1, area, fmax)]
    return []


def _grow_lattice(draw, k, mode, cid, scene, cfg, rng) -> list[Placed]:
    """An ordered patch: particles on a hexagonal (70 %) or square lattice, ragged edge."""
    h, w = cfg.size
    lo, hi = cfg.arrangement.gap_range
    spacing = cfg.particles.median_px * rng.uniform(lo, hi) * 1.05
    n = int(np.ceil(np.sqrt(k))) + 2
    ii, jj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1))
    if rng.random() < 0.7:
        pts = np.column_stack([(jj * np.sqrt(3) / 2).ravel(), (ii + 0.5 * (jj % 2)).ravel()])
    else:
        pts = np.column_stack([jj.ravel(), ii.ravel()]).astype(float)
    a = rng.uniform(0, np.pi)
    pts = pts @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) * spacing
    order = np.argsort(np.hypot(*pts.T) * rng.uniform(0.8, 1.2, len(pts)))
    c0 = rng.uniform([0, 0], [h, w])
    out = []
    for p in pts[order[:k]]:
        poly, size, shape, profile, area, fmax = draw()
        r_eq = float(np.sqrt(area / np.pi))
        c = c0 + p + rng.normal(0, 0.03 * spacing, 2)
        if scene.clear(c, r_eq, 0.75 * lo):
            scene.add(c, r_eq)
            out.append(Placed(poly + c, size, shape, profile, cid, area, fmax))
    return out


def _neck(d: np.ndarray, width: float, rng: np.random.Generator) -> np.ndarray:
    """Ellipse (K, 2) centred at 0: short along the contact direction ``d``, wide across it."""
    t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    across = np.array([-d[1], d[0]])
    a, b = 0.35 * width, rng.uniform(0.25, 0.45) * width
    return np.outer(np.cos(t) * a, d) + np.outer(np.sin(t) * b, across)


def _candidates(mode, n, scene, start, heading, rng, tries=8):
    """Parent indices and direction indices (into ``_DIRS``) of attachment candidates."""
    if mode == "chain":
        angles = heading + np.cumsum(rng.normal(0, 0.6, tries))
        parents = np.full(tries, n - 1)
        idx = np.round(angles / (2 * np.pi) * _N_DIRS).astype(int) % _N_DIRS
        return parents, idx, angles
    if mode == "compact":  # prefer members near the centre of mass
        centres = scene.centres[start : scene.n]
        dist = np.hypot(*(centres - centres.mean(0)).T)
        cdf = np.cumsum(np.exp(-dist / (dist.mean() + 1e-9)))
        parents = np.searchsorted(cdf, rng.random(tries) * cdf[-1], side="right")
        parents = np.minimum(parents, n - 1)
    else:
        parents = rng.integers(0, n, tries)
    idx = rng.integers(0, _N_DIRS, tries)
    return parents, idx, _ANGLES[idx]


def _grow_cluster(draw, k, mode, cid, scene, cfg, rng) -> list[Placed]:
    """Grow an agglomerate of up to ``k`` particles by attaching each to a member.

    Contact distances use the support functions of both outlines along the attachment
    direction (8 candidate directions tested at once; the first free one wins); growth stops
    early after three particles in a row found no free place.
    """
    h, w = cfg.size
    lo, hi = cfg.arrangement.gap_range
    poly, size, shape, profile, area, fmax = draw()
    c0 = rng.uniform([0, 0], [h, w])
    support = np.zeros((k, _N_DIRS))  # members' support functions
    support[0] = _support_table(poly)
    out = [Placed(poly + c0, size, shape, profile, cid, area, fmax)]
    start = scene.n
    scene.add(c0, float(np.sqrt(area / np.pi)))
    heading = rng.uniform(0, 2 * np.pi)
    failures = 0
    for _ in range(k - 1):
        if failures >= 3:
            break
        poly, size, shape, profile, area, fmax = draw()
        r_eq = float(np.sqrt(area / np.pi))
        n = len(out)
        parents, idx, angles = _candidates(mode, n, scene, start, heading, rng)
        own_table = _support_table(poly)
        own = own_table[(idx + _N_DIRS // 2) % _N_DIRS]  # extent towards the parent
        theirs = support[parents, idx]
        dirs = _DIRS[idx]
        pcs = scene.centres[start + parents]
        cands = pcs + dirs * ((own + theirs) * rng.uniform(lo, hi, len(parents)))[:, None]
        ok = scene.clear_many(cands, r_eq, 0.75 * lo, skip=start + parents)
        if not ok.any():
            failures += 1
            continue
        j = int(np.argmax(ok))
        parent, d, c = int(parents[j]), dirs[j], cands[j]
        heading = angles[j] if mode == "chain" else heading
        scene.add(c, r_eq)
        support[n] = own_table
        necks = ()
        if rng.random() < cfg.arrangement.sinter:
            width = min(size, out[parent].size_px)
            contact = 0.5 * (pcs[j] + d * theirs[j] + c - d * own[j])
            necks = (contact + _neck(d, width, rng),)
        out.append(Placed(poly + c, size, shape, profile, cid, area, fmax, necks))
        failures = 0
    return out
