"""Random augmentation of (image, instance labels) training pairs (numpy only)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["random_crop", "augment_geometry", "augment_intensity"]


def _resize_nearest(labels: np.ndarray, out: int) -> np.ndarray:
    rows = np.minimum((np.arange(out) + 0.5) * labels.shape[0] / out, labels.shape[0] - 1)
    cols = np.minimum((np.arange(out) + 0.5) * labels.shape[1] / out, labels.shape[1] - 1)
    return labels[rows.astype(int)[:, None], cols.astype(int)[None, :]]


def _resize_linear(image: np.ndarray, out: int) -> np.ndarray:
    h, w = image.shape
    ry = (np.arange(out) + 0.5) * h / out - 0.5
    rx = (np.arange(out) + 0.5) * w / out - 0.5
    if h > 1.5 * out:  # anti-alias strong downsampling
        image = ndi.gaussian_filter(image, 0.4 * h / out)
    return ndi.map_coordinates(image, np.meshgrid(ry, rx, indexing="ij"), order=1, mode="reflect")


def random_crop(
    image: np.ndarray,
    labels: np.ndarray,
    tile: int,
    rng: np.random.Generator,
    scale_range: tuple[float, float] = (1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """A random square window zoomed by a random factor to ``tile`` x ``tile``.

    Parameters
    ----------
    image : (H, W) ndarray of float32
    labels : (H, W) ndarray of int
    tile : int
        Output side.
    rng : numpy.random.Generator
    scale_range : (float, float)
        Zoom factor range (log-uniform); > 1 enlarges the particles.  The window never exceeds
        the image, so small images are only enlarged.  Images smaller than ``tile`` are padded
        (image by reflection, labels with 0) first.

    Returns
    -------
    image : (tile, tile) ndarray of float32
    labels : (tile, tile) ndarray of int32
    """
    h, w = image.shape
    if h < tile or w < tile:
        ph, pw = max(tile - h, 0), max(tile - w, 0)
        image = np.pad(image, ((0, ph), (0, pw)), mode="reflect" if min(h, w) > 1 else "edge")
        labels = np.pad(labels, ((0, ph), (0, pw)))
        h, w = image.shape
    lo, hi = np.log(scale_range[0]), np.log(scale_range[1])
    scale = float(np.exp(rng.uniform(lo, hi)))
    side = int(min(round(tile / scale), h, w))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    img = image[y : y + side, x : x + side]
    lab = labels[y : y + side, x : x + side]
    if side != tile:
        img = _resize_linear(img, tile)
        lab = _resize_nearest(lab, tile)
    return img.astype(np.float32, copy=False), lab.astype(np.int32, copy=False)


def augment_geometry(
    image: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random flips and 90-degree rotations (the 8 symmetries of the square)."""
    k = int(rng.integers(4))
    image, labels = np.rot90(image, k), np.rot90(labels, k)
    if rng.random() < 0.5:
        image, labels = image[:, ::-1], labels[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(labels)


def augment_intensity(
    image: np.ndarray, rng: np.random.Generator, p_invert: float = 0.1
) -> np.ndarray:
    """Gamma, contrast, polarity, blur and noise jitter of an image in roughly [0, 1].

    Parameters
    ----------
    image : (H, W) ndarray of float32
        Grey values; min-max scaled to [0, 1] first.
    rng : numpy.random.Generator
    p_invert : float
        Probability of inverting the grey values.

    Returns
    -------
    image : (H, W) ndarray of float32
    """
    lo, hi = float(image.min()), float(image.max())
    img = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    if rng.random() < p_invert:
        img = 1.0 - img
    if rng.random() < 0.5:
        img = img ** float(np.exp(rng.uniform(-0.4, 0.4)))
    if rng.random() < 0.5:
        img = img * rng.uniform(0.7, 1.3) + rng.uniform(-0.15, 0.15)
    if rng.random() < 0.25:
        img = ndi.gaussian_filter(img, rng.uniform(0.3, 1.2))
    if rng.random() < 0.3:
        img = img + rng.normal(0.0, rng.uniform(0.005, 0.05), img.shape)
    return img.astype(np.float32)


def augment_particles(
    image: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Texture and brightness changes *inside* particles (labels unchanged).

    Real particles show facets, surface texture and striations, and particles lying behind
    others are darker; synthetic ones are smoother.  This adds, each with probability 1/2:
    smooth random texture inside particles, a random brightness factor (0.5-1.1) of the
    contrast of some particles, and thin straight lines inside particles.

    Parameters
    ----------
    image : (H, W) ndarray of float32
        Grey values in roughly [0, 1] (particles brighter or darker than the background).
    labels : (H, W) ndarray of int
    rng : numpy.random.Generator

    Returns
    -------
    image : (H, W) ndarray of float32
    """
    fg = labels > 0
    if not fg.any() or fg.all():
        return image
    img = image.astype(np.float32, copy=True)
    background = float(np.median(img[~fg]))
    contrast = float(np.std(img[fg])) + abs(float(np.median(img[fg])) - background)
    if rng.random() < 0.5:
        factor = np.ones(int(labels.max()) + 1, dtype=np.float32)
        dim = rng.random(factor.size) < 0.3
        factor[dim] = rng.uniform(0.5, 1.1, int(dim.sum()))
        img = np.where(fg, background + (img - background) * factor[labels], img)
    if rng.random() < 0.5:
        noise = ndi.gaussian_filter(rng.normal(size=img.shape), rng.uniform(1.0, 4.0))
        noise /= noise.std() + 1e-6
        img = img + fg * (rng.uniform(0.1, 0.4) * contrast) * noise.astype(np.float32)
    if rng.random() < 0.5:
        k = rng.uniform(np.pi / 2 - 0.3, np.pi / 2 + 0.3) if rng.random() < 0.5 else rng.uniform(0, np.pi)
        yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
        phase = (np.cos(k) * xx + np.sin(k) * yy) / rng.uniform(4.0, 12.0)
        lines = (np.abs(np.sin(np.pi * phase)) > 0.97).astype(np.float32)
        sign = 1.0 if rng.random() < 0.7 else -1.0
        img = img + sign * fg * lines * (rng.uniform(0.1, 0.3) * contrast)
    return img.astype(np.float32)
