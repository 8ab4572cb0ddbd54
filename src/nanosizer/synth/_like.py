"""'Like these images': estimate rendering statistics from unlabeled real micrographs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._config import SynthConfig
from ._random import random_config

__all__ = ["ImageStyle", "estimate_style", "like_config"]

_LIKE_SHAPES = ("sphere", "ellipse", "rounded_polygon", "crystal", "irregular")


@dataclass(frozen=True)
class ImageStyle:
    """Statistics of a set of real micrographs (grey values normalised to [0, 1]).

    Attributes
    ----------
    bright_particles : bool
        True when particles are brighter than the background (SEM-like).
    background, particle : float
        Median grey level of background and particle pixels.
    noise : float
        Standard deviation of the pixel noise.
    blur_px : float
        Approximate Gaussian blur of edges (sigma, px).
    size_px : float
        Approximate median particle diameter (px).
    coverage : float
        Fraction of the area covered by particles.
    pixel_size_nm : float or None
        Median calibrated pixel size of the images (None when none is calibrated).
    """

    bright_particles: bool
    background: float
    particle: float
    noise: float
    blur_px: float
    size_px: float
    coverage: float
    pixel_size_nm: float | None = None


def _noise_sigma(img: np.ndarray) -> float:
    """Immerkaer's fast noise estimate (Laplacian-difference kernel)."""
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    conv = ndimage.convolve(img, k)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(conv).mean() / 6)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])


def _one_image(img: np.ndarray) -> dict:
    from skimage.filters import threshold_otsu

    smooth = ndimage.gaussian_filter(img, 1.0)
    t = threshold_otsu(smooth)
    hi = smooth > t
    fg = hi if hi.mean() < 0.5 else ~hi
    fg = ndimage.binary_opening(fg, iterations=1)
    bright = bool(fg.mean() > 0 and img[fg].mean() > img[~fg].mean())
    lab, n = ndimage.label(fg)
    edt = ndimage.distance_transform_edt(fg)
    idx = np.arange(1, n + 1)
    radii = np.asarray(ndimage.maximum(edt, lab, idx)) if n else np.array([4.0])
    areas = np.asarray(ndimage.sum(fg, lab, idx)) if n else np.array([1.0])
    keep = radii >= 2.0
    radii, areas = radii[keep], areas[keep]
    step = abs(float(np.median(img[fg])) - float(np.median(img[~fg]))) if fg.any() else 0.5
    g = ndimage.gaussian_gradient_magnitude(img, 0.7)
    g99 = float(np.percentile(g, 99.5))
    sigma_edge = step / (np.sqrt(2 * np.pi) * max(g99, 1e-6))
    return {
        "bright": bright,
        "background": float(np.median(img[~fg])) if (~fg).any() else 0.0,
        "particle": float(np.median(img[fg])) if fg.any() else 1.0,
        "noise": _noise_sigma(img),
        "blur": float(np.sqrt(max(sigma_edge**2 - 0.7**2, 0.09))),
        "size": _weighted_median(2 * radii, areas) if radii.size else 8.0,
        "coverage": float(fg.mean()),
    }


def estimate_style(paths: Sequence[str]) -> ImageStyle:
    """Estimate grey levels, noise, blur and particle size from real micrographs.

    Parameters
    ----------
    paths : sequence of str
        Image files, folders or glob patterns (info bars are detected and left out).

    Returns
    -------
    ImageStyle
        Medians over the images.
    """
    from ..errors import InputError
    from ..io import expand_paths, read_micrograph

    files = expand_paths(list(paths))
    if not files:
        raise InputError(f"--like: no images found in {', '.join(map(str, paths))}")
    stats, pixels = [], []
    for f in files[:20]:
        m = read_micrograph(f)
        if m.pixel_size.calibrated:
            pixels.append(float(m.pixel_size.nm))
        img = m.analysis_data.astype(np.float32)
        lo, hi = float(img.min()), float(img.max())
        stats.append(_one_image((img - lo) / max(hi - lo, 1e-6)))
    med = {k: float(np.median([s[k] for s in stats])) for k in stats[0] if k != "bright"}
    bright = sum(s["bright"] for s in stats) * 2 >= len(stats)
    return ImageStyle(bright, med["background"], med["particle"], med["noise"], med["blur"],
                      med["size"], med["coverage"],
                      float(np.median(pixels)) if pixels else None)


def like_config(
    rng: np.random.Generator, style: ImageStyle, size: tuple[int, int] = (256, 256),
    *, outlines_dir: str | None = None,
) -> SynthConfig:
    """A random configuration drawn around the statistics of real images.

    Parameters
    ----------
    rng : numpy.random.Generator
    style : ImageStyle
        From :func:`estimate_style`.
    size : (int, int)
        Image (height, width).
    outlines_dir : str, optional
        Folder of particle outlines to add as a shape family.
    """
    modality = "sem" if style.bright_particles else str(rng.choice(["tem", "tsem"]))
    base = random_config(rng, modality, size, outlines_dir=outlines_dir)
    median_px = float(np.clip(style.size_px * np.exp(rng.normal(0, 0.15)), 4, min(size) / 2))
    pc = base.particles
    # compact shapes only: the measured size is a particle width, and rods/plates of that
    # width would not look like the images (give --outlines for other shapes)
    names = list(_LIKE_SHAPES) + (["outline"] if outlines_dir else [])
    weights = rng.dirichlet(np.ones(len(names)))
    pixel_nm = style.pixel_size_nm or pc.pixel_size_nm
    particles = dataclasses.replace(
        pc, median_nm=median_px * pixel_nm, pixel_size_nm=pixel_nm,
        shapes=tuple((n, float(w)) for n, w in zip(names, weights)),
        aspect_range=(1.0, min(pc.aspect_range[1], 1.6)),
        gsd=float(rng.uniform(1.1, 1.35)),
    )
    contrast = abs(style.particle - style.background)
    snr = float(np.clip(contrast / max(style.noise, 1e-3) * np.exp(rng.normal(0, 0.3)), 2, 60))
    imaging = dataclasses.replace(
        base.imaging,
        blur_px=float(np.clip(style.blur_px * np.exp(rng.normal(0, 0.2)), 0.2, 4)),
        snr=snr, invert=False,
        read_noise=float(style.noise * rng.uniform(0.2, 0.8)),
        scanline_noise=min(base.imaging.scanline_noise, style.noise),
        levels=(style.background + rng.normal(0, 0.03), style.particle + rng.normal(0, 0.05)),
    )
    cov = float(np.clip(style.coverage * np.exp(rng.normal(0, 0.3)), 0.02, 0.8))
    arrangement = dataclasses.replace(base.arrangement, coverage=cov)
    return dataclasses.replace(base, particles=particles, imaging=imaging,
                               arrangement=arrangement)
