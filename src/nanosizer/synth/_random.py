"""Domain-randomised configurations: broad presets for training general segmentation models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._config import (
    ArrangementConfig,
    ImagingConfig,
    OverlayConfig,
    ParticleConfig,
    SynthConfig,
)

__all__ = ["random_config"]

# Prior frequency of each shape family in the randomised mixtures (TiO2-like rounded and faceted
# shapes and spheres dominate real samples).
_SHAPE_PRIOR = {"sphere": 3.0, "ellipse": 1.5, "polygon": 0.7, "rounded_polygon": 2.0,
                "crystal": 1.5, "cube": 0.5, "rod": 0.7, "plate": 0.4, "irregular": 2.0}
_MODALITY_PRIOR = {"sem": 0.55, "tem": 0.3, "tsem": 0.15}


def _loguniform(rng, lo, hi) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _particles(rng, outlines_dir, median_px, ordered=False) -> ParticleConfig:
    prior = dict(_SHAPE_PRIOR)
    if outlines_dir is not None:
        prior["outline"] = 3.0
    names = list(prior)
    k = int(rng.integers(1, 5))
    p = np.array([prior[n] for n in names])
    chosen = rng.choice(len(names), size=k, replace=False, p=p / p.sum())
    weights = rng.dirichlet(np.ones(k))
    pixel_nm = _loguniform(rng, 0.5, 10.0)
    shapes = tuple((names[c], float(w)) for c, w in zip(chosen, weights))
    aspect_hi = float(rng.uniform(1.05, 1.8))
    if ordered:  # ordered arrays need monodisperse, near-isotropic particles
        shapes = (("sphere", 1.0),)
        aspect_hi = 1.08
    return ParticleConfig(
        median_nm=median_px * pixel_nm,
        gsd=float(rng.uniform(1.02, 1.08) if ordered else rng.uniform(1.03, 1.4)),
        pixel_size_nm=pixel_nm,
        shapes=shapes,
        aspect_range=(1.0, aspect_hi),
        rod_aspect_range=(2.0, float(rng.uniform(3.0, 10.0))),
        roughness=float(rng.uniform(0.0, 0.25)),
        outlines_dir=outlines_dir,
        brightness_spread=float(rng.uniform(0.02, 0.2)),
    )


def _crowded(rng, size, ordered) -> ArrangementConfig:
    """Dense monolayers of touching particles (close-packed films, crowded journal figures)."""
    lo = float(rng.uniform(0.9, 1.0))
    modes = (("lattice", 1.0),) if ordered else (("compact", 1.0),)
    return ArrangementConfig(
        coverage=float(rng.uniform(0.5, 0.8)),
        cluster_fraction=1.0,
        cluster_size=_loguniform(rng, 30.0, 200.0),
        cluster_modes=modes,
        gap_range=(lo, lo + 0.05),
        sinter=0.0,
        max_particles=max(int(600 * size[0] * size[1] / 65536), 10),
    )


def _agglomerated(rng, size) -> ArrangementConfig:
    """Dense 3-D agglomerates of small particles stacked with heavy overlap (e.g. TiO2 powders)."""
    lo = float(rng.uniform(0.55, 0.85))
    return ArrangementConfig(
        coverage=float(rng.uniform(0.2, 0.55)),
        cluster_fraction=float(rng.uniform(0.8, 1.0)),
        cluster_size=_loguniform(rng, 8.0, 60.0),
        cluster_modes=tuple((m, float(w)) for m, w in
                            zip(("compact", "random"), rng.dirichlet(np.ones(2)))),
        gap_range=(lo, lo + float(rng.uniform(0.05, 0.25))),
        sinter=float(rng.uniform(0, 0.3)) if rng.random() < 0.3 else 0.0,
        max_particles=max(int(500 * size[0] * size[1] / 65536), 10),
    )


def _arrangement(rng, size, crowded, ordered, agglomerated=False) -> ArrangementConfig:
    if crowded:
        return _crowded(rng, size, ordered)
    if agglomerated:
        return _agglomerated(rng, size)
    lo = float(rng.uniform(0.65, 0.97))
    coverage = float(rng.uniform(0.04, 0.5))
    # keep small-particle images affordable: cap the count near 350 per 256x256
    cap = int(350 * size[0] * size[1] / 65536)
    return ArrangementConfig(
        coverage=coverage,
        cluster_fraction=float(rng.beta(2.0, 1.2)),
        cluster_size=_loguniform(rng, 2.0, 25.0),
        cluster_modes=tuple((m, float(w)) for m, w in
                            zip(("compact", "chain", "random"), rng.dirichlet(np.ones(3)))),
        gap_range=(lo, min(lo + float(rng.uniform(0.03, 0.15)), 1.05)),
        sinter=float(rng.uniform(0, 0.5)) if rng.random() < 0.3 else 0.0,
        max_particles=max(cap, 10),
    )


def _imaging(rng, modality, agglomerated=False) -> ImagingConfig:
    sem = modality == "sem"
    imaging = ImagingConfig(
        modality=modality,
        substrate=float(rng.uniform(0.03, 0.35)),
        substrate_texture=float(rng.uniform(0.0, 0.9)),
        particle_contrast=float(rng.uniform(0.3, 0.85) if sem else rng.uniform(0.15, 1.0)),
        particle_texture=float(rng.uniform(0.0, 0.08)),
        edge_strength=float(rng.uniform(0.05, 0.6)),
        shading=float(rng.uniform(0.0, 0.5)),
        gap_darkening=float(rng.uniform(0.2, 1.5)),
        fringe=float(rng.uniform(0.05, 0.3)) if modality == "tem" and rng.random() < 0.6 else 0.0,
        blur_px=float(rng.uniform(0.3, 1.6)),
        snr=_loguniform(rng, 4.0, 40.0),
        read_noise=float(rng.uniform(0.0, 0.03)),
        scanline_noise=float(rng.uniform(0, 0.03)) if rng.random() < 0.3 else 0.0,
        drift_px=float(rng.uniform(0.5, 2.0)) if rng.random() < 0.15 else 0.0,
        illumination=float(rng.uniform(0.0, 0.25)),
        charging=float(rng.uniform(0.1, 0.6)) if sem and rng.random() < 0.12 else 0.0,
        dust=float(rng.uniform(0, 25)) if rng.random() < 0.5 else 0.0,
        gamma=_loguniform(rng, 0.7, 1.4),
        contrast=float(rng.uniform(0.7, 1.15)),
        brightness=float(rng.uniform(-0.08, 0.08)),
        invert=bool(rng.random() < 0.05),
    )
    if agglomerated and sem:  # rims along every visible outline, shadowed back particles
        imaging = replace(imaging, edge_strength=float(rng.uniform(0.3, 0.8)),
                          gap_darkening=float(rng.uniform(0.6, 1.6)),
                          particle_contrast=float(rng.uniform(0.45, 0.85)))
    return imaging


def random_config(
    rng: int | np.random.Generator | None = None,
    modality: str | None = None,
    size: tuple[int, int] = (256, 256),
    *,
    outlines_dir: str | None = None,
    particle_px: tuple[float, float] = (8.0, 110.0),
    p_agglomerate: float = 0.0,
    agglomerate_px: tuple[float, float] = (6.0, 30.0),
) -> SynthConfig:
    """A domain-randomised :class:`SynthConfig`.

    Parameters
    ----------
    rng : int or numpy.random.Generator, optional
        Random source.
    modality : {None, 'sem', 'tem', 'tsem'}
        Fix the modality; None draws one (SEM 55 %, TEM 30 %, TSEM 15 %).
    size : (int, int)
        Image (height, width).
    outlines_dir : str, optional
        Folder of binary outline images; adds the ``outline`` shape family.
    particle_px : (float, float)
        Range of the median particle size in px (log-uniform) for a 256-px image; smaller
        images scale it down in proportion, larger ones keep it.
    p_agglomerate : float
        Probability of the agglomerate preset: dense 3-D agglomerates (coverage 20-55 %,
        8-60 particles each, centre distances 0.55-1.1 of touching, so particles overlap
        heavily and each label is the visible part), SEM rims and gap shadows emphasised.
    agglomerate_px : (float, float)
        Range of the median particle size in px of the agglomerate preset (log-uniform, broad
        size distribution: gsd 1.2-1.5).

    Returns
    -------
    SynthConfig
        Median particle size in ``particle_px`` (log-uniform), mixtures of 1-4 shape families, coverage
        4-50 %, mostly agglomerated (15 %: crowded monolayers, 40 % of them ordered
        lattices of monodisperse particles), with randomised contrast, noise and overlays.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if modality is None:
        names = list(_MODALITY_PRIOR)
        p = np.array(list(_MODALITY_PRIOR.values()))
        modality = names[int(rng.choice(len(names), p=p / p.sum()))]
    lo, hi = (float(v) for v in particle_px)
    if not 0 < lo <= hi:
        raise ValueError(f"particle_px must be (low, high) with 0 < low <= high, got {particle_px}")
    median_px = _loguniform(rng, lo, hi) * min(1.0, min(size) / 256)
    overlay = OverlayConfig(
        infobar=float(rng.uniform(0.05, 0.1)) if rng.random() < 0.2 else 0.0,
        scalebar=bool(rng.random() < 0.45),
        panel_label=bool(rng.random() < 0.3),
    )
    if not 0 <= p_agglomerate <= 1:
        raise ValueError(f"p_agglomerate must be in [0, 1], got {p_agglomerate}")
    a_lo, a_hi = (float(v) for v in agglomerate_px)
    if not 0 < a_lo <= a_hi:
        raise ValueError(f"agglomerate_px must be (low, high) with 0 < low <= high, "
                         f"got {agglomerate_px}")
    crowded = rng.random() < 0.15
    ordered = crowded and rng.random() < 0.4
    agglomerated = p_agglomerate > 0 and not crowded and rng.random() < p_agglomerate
    particles = _particles(rng, outlines_dir, median_px, ordered)
    if agglomerated:
        a_px = _loguniform(rng, a_lo, a_hi)
        particles = replace(particles, median_nm=a_px * particles.pixel_size_nm,
                            gsd=float(rng.uniform(1.2, 1.5)))
    return SynthConfig(
        size=tuple(int(s) for s in size),
        particles=particles,
        arrangement=_arrangement(rng, size, crowded, ordered, agglomerated),
        imaging=_imaging(rng, modality, agglomerated),
        overlay=overlay,
    )
