"""Small images with known answers, shared by several test modules."""

from __future__ import annotations

import numpy as np


def draw_discs(shape, discs, background=30, foreground=200, noise=0.0, rng=0) -> np.ndarray:
    """uint8 image with bright discs ``(cy, cx, r)`` on a dark background (plus Gaussian noise)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.full(shape, float(background))
    for cy, cx, r in discs:
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = foreground
    if noise:
        image += np.random.default_rng(rng).normal(0, noise, shape)
    return np.clip(image, 0, 255).astype(np.uint8)
