"""Generate one synthetic micrograph with exact instance labels and a per-particle truth table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._config import SynthConfig
from ._imaging import apply_artefacts, form_signal
from ._layout import Placed, place_particles
from ._overlay import draw_overlays
from ._scene import render_scene

__all__ = ["Sample", "generate"]


@dataclass
class Sample:
    """One synthetic micrograph.

    Attributes
    ----------
    image : (H, W) ndarray of float32
        Grey values in [0, 1].
    labels : (H, W) ndarray of int32
        0 = background, 1..N = the visible pixels of each particle.
    truth : pandas.DataFrame
        One row per labelled particle (see :func:`generate`).
    config : SynthConfig
        The configuration that produced the sample.
    """

    image: np.ndarray
    labels: np.ndarray
    truth: object
    config: SynthConfig


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def generate(cfg: SynthConfig, rng: int | np.random.Generator | None = None) -> Sample:
    """Draw one synthetic micrograph.

    Parameters
    ----------
    cfg : SynthConfig
        What to draw (see :func:`nanosizer.synth.random_config` for randomised ones).
    rng : int or numpy.random.Generator, optional
        Random source; the same seed gives the same sample.

    Returns
    -------
    Sample
        ``truth`` columns: ``label``, ``shape``, ``cluster`` (-1 = isolated), ``area_px``
        (rasterised full particle), ``area_true_px`` (polygon), ``feret_min_px`` and
        ``feret_max_px`` (true, of the full unoccluded polygon), the same in nm,
        ``visible_px``, ``hidden_fraction`` (share of the in-image pixels hidden by other
        particles or overlays), ``cut_fraction`` (share outside the image), ``touches_border``,
        ``centroid_row``, ``centroid_col``.
    """
    rng = _as_rng(rng)
    particles = place_particles(cfg, rng)
    spread = cfg.particles.brightness_spread
    n = len(particles)
    brightness = np.clip(rng.normal(1.0, spread, n), 0.3, 2.0)
    depth = np.arange(n) / max(n - 1, 1)  # 0 = back, 1 = front
    clustered = np.array([p.cluster >= 0 for p in particles], bool)
    lift = np.where(clustered, 0.3 * cfg.particles.median_px * depth, 0.0)
    if cfg.imaging.modality == "sem":  # buried particles emit fewer secondary electrons
        brightness = brightness * np.where(clustered, 0.8 + 0.2 * depth, 1.0)
    scene = render_scene(particles, cfg.size, brightness, lift)
    signal_ = form_signal(scene, cfg.imaging, cfg.particles.median_px, rng)
    image, painter = apply_artefacts(signal_, scene.labels, cfg.imaging, rng)
    image, covered = draw_overlays(image, cfg.overlay, rng)
    painter = np.where(covered, 0, painter)
    labels, truth = _relabel_and_truth(painter, particles, scene, cfg)
    return Sample(image=image, labels=labels, truth=truth, config=cfg)


def _relabel_and_truth(painter, particles: list[Placed], scene, cfg: SynthConfig):
    """Consecutive labels 1..N for visible particles and their truth rows."""
    import pandas as pd

    n = len(particles)
    visible = np.bincount(painter.ravel(), minlength=n + 1)[1:]
    keep = np.flatnonzero(visible > 0)
    lut = np.zeros(n + 1, np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1, dtype=np.int32)
    labels = lut[painter]
    border = np.zeros(n + 1, bool)
    edge = np.concatenate([painter[0], painter[-1], painter[:, 0], painter[:, -1]])
    border[np.unique(edge)] = True
    px = cfg.particles.pixel_size_nm
    rows = []
    for i in keep:
        p = particles[i]
        fmin, fmax = p.size_px, p.feret_max_px
        centre = p.poly.mean(0)
        inside, full = scene.inside_area[i], max(scene.full_area[i], 1)
        rows.append({
            "label": int(lut[i + 1]),
            "shape": p.shape,
            "cluster": p.cluster,
            "area_px": int(scene.full_area[i]),
            "area_true_px": p.area,
            "feret_min_px": fmin,
            "feret_max_px": fmax,
            "feret_min_nm": fmin * px,
            "feret_max_nm": fmax * px,
            "visible_px": int(visible[i]),
            "hidden_fraction": float(np.clip(1 - visible[i] / max(inside, 1), 0, 1)),
            "cut_fraction": float(1 - inside / full),
            "touches_border": bool(border[i + 1]),
            "centroid_row": float(centre[0]),
            "centroid_col": float(centre[1]),
        })
    columns = ["label", "shape", "cluster", "area_px", "area_true_px", "feret_min_px",
               "feret_max_px", "feret_min_nm", "feret_max_nm", "visible_px", "hidden_fraction",
               "cut_fraction", "touches_border", "centroid_row", "centroid_col"]
    return labels, pd.DataFrame(rows, columns=columns)
