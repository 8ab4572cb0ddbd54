"""Steps of the classical segmentation: threshold, polarity, watershed split, relabelling."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

POLARITIES: tuple[str, ...] = ("auto", "bright", "dark")
THRESHOLD_METHODS: tuple[str, ...] = ("otsu", "li", "triangle", "local")


def global_threshold(values: np.ndarray, method: str) -> float:
    """Global threshold of a 1-D array of grey values by ``method`` (not 'local')."""
    from skimage import filters

    func = {
        "otsu": filters.threshold_otsu,
        "li": filters.threshold_li,
        "triangle": filters.threshold_triangle,
    }[method]
    return float(func(values))


def foreground_threshold(
    smoothed: np.ndarray, mask: np.ndarray, method: str | float, local_block: int
) -> float | np.ndarray:
    """Threshold of the smoothed image: a scalar, or an (H, W) map for ``'local'``.

    Only the pixels inside ``mask`` enter the statistics, so the info bar never biases them.
    """
    if not isinstance(method, str):
        return float(method)
    if method == "local":
        return _flattened_otsu(smoothed, mask, local_block)
    return global_threshold(smoothed[mask], method)


def _flattened_otsu(smoothed: np.ndarray, mask: np.ndarray, block: int) -> np.ndarray:
    """Threshold map: Otsu of the image minus its slow background (Gaussian, ``block`` px).

    The map equals ``t + shift`` with ``shift = background - mean(background)`` and ``t``
    the Otsu threshold of ``smoothed - shift``, so uneven illumination no longer moves
    particles across the threshold.
    """
    background = ndi.gaussian_filter(smoothed, block / 6.0)
    shift = background - float(np.mean(background[mask]))
    return global_threshold((smoothed - shift)[mask], "otsu") + shift


def choose_polarity(smoothed: np.ndarray, mask: np.ndarray, threshold) -> str:
    """'dark' if the background is brighter than the particles, else 'bright'.

    The background is the side of a global Otsu threshold holding the histogram's mode (the
    most common grey level).  On the EMPS training set this is right for 85 % of images
    (the class covering most of the border: 80 %; the larger class: 75 %); it fails on
    densely packed particles, where setting the polarity explicitly is needed.
    """
    values = smoothed[mask]
    if not np.isscalar(threshold):
        threshold = global_threshold(values, "otsu")
    counts, edges = np.histogram(values, bins=256)
    peak = int(np.argmax(counts))
    mode = 0.5 * (edges[peak] + edges[peak + 1])
    return "dark" if mode > threshold else "bright"
