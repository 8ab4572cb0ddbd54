"""Small operations on instance label images shared by the segmentation methods."""

from __future__ import annotations

import numpy as np

from .._blocks import apply_lut, label_counts

__all__ = ["relabel_min_area"]


def relabel_min_area(labels: np.ndarray, min_area: int, relative: float = 0.0) -> np.ndarray:
    """Drop small particles and renumber the rest 1..N.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    min_area : int
        Particles with fewer pixels are removed.
    relative : float, optional
        Also remove particles smaller than ``relative`` times the median area of those kept
        by ``min_area`` (0 disables).

    Returns
    -------
    (H, W) ndarray of int32
        Labels numbered consecutively in the order of the old ids.

    Examples
    --------
    >>> relabel_min_area(np.array([[1, 1, 0, 3], [1, 1, 0, 0]]), 2)
    array([[1, 1, 0, 0],
           [1, 1, 0, 0]], dtype=int32)
    """
    counts = label_counts(labels)
    keep = counts >= max(min_area, 1)
    keep[0] = False
    if relative > 0 and keep.any():
        keep &= counts >= relative * np.median(counts[keep])
    lut = np.zeros(counts.size, dtype=np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return apply_lut(lut, labels)
