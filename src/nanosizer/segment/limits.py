"""The smallest particle a segmentation finds reliably, in image pixels.

Two things bound it from below: the area filters that drop small regions (an absolute
``min_area`` and a ``min_relative_area`` share of the image's median particle area), and the
network's own resolution, measured on its synthetic validation set and stored with the model
(``detection_limit_px``: smallest true minimum Feret diameter, in network pixels, from which on
every size class finds at least :data:`RELIABLE_RECALL` times the share the model finds of
particles of :data:`PLATEAU_FROM_PX` and more; :func:`nanosizer.train.validate.detection_limit`).  The larger bound, in image
pixels, is the detection limit reported next to the size distribution.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RELIABLE_RECALL", "PLATEAU_FROM_PX", "MIN_CLASS_COUNT", "area_floor",
           "area_to_diameter", "detection_limit_px"]

#: Share of the large-particle recall a size class must reach to count as reliably detected.
RELIABLE_RECALL = 0.8
#: Size classes from this min Feret (px) on give the large-particle recall (the plateau).
PLATEAU_FROM_PX = 20.0
#: Size classes with fewer particles are not judged.
MIN_CLASS_COUNT = 20


def area_to_diameter(area: float) -> float:
    """Equivalent circle diameter (px) of an area (px²)."""
    return float(np.sqrt(4.0 * max(float(area), 0.0) / np.pi))


def area_floor(labels: np.ndarray, min_area: int, relative: float = 0.0) -> int:
    """Smallest area (px) a particle keeps under :func:`~nanosizer.segment._labels.relabel_min_area`.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Labels *before* the relative filter (all particles of at least ``min_area`` px).
    min_area : int
        Absolute area filter (px).
    relative : float
        Relative filter: particles below ``relative`` times the median particle area go.

    Returns
    -------
    int
        Particles of this area and more are kept.

    Examples
    --------
    >>> lab = np.zeros((10, 10), int); lab[:4, :4] = 1; lab[6:, 6:] = 2; lab[0, 9] = 3
    >>> area_floor(lab, 1, 0.5)
    8
    """
    floor = max(int(min_area), 1)
    if relative > 0:
        from .._blocks import label_counts

        counts = label_counts(labels)[1:]
        counts = counts[counts >= floor]
        if counts.size:
            floor = max(floor, int(np.ceil(relative * float(np.median(counts)))))
    return floor


def detection_limit_px(area_floor_px: float, model_limit_px: float | None = None,
                       zoom: float = 1.0) -> float:
    """The detection limit of one segmentation, in image pixels.

    Parameters
    ----------
    area_floor_px : float
        Smallest kept particle area in image pixels (see :func:`area_floor`).
    model_limit_px : float, optional
        The model's measured limit in network pixels (``detection_limit_px`` metadata); None
        for methods without one.
    zoom : float
        Zoom at which the network saw the image (network px = image px x zoom).

    Returns
    -------
    float
        Minimum Feret diameter (image px) below which particles are not reliably found: the
        larger of the filter's equivalent diameter and the model's limit brought to image px.

    Examples
    --------
    >>> round(detection_limit_px(12, 7.0, zoom=0.5), 2)
    14.0
    """
    limit = area_to_diameter(area_floor_px)
    if model_limit_px is not None and np.isfinite(model_limit_px) and zoom > 0:
        limit = max(limit, float(model_limit_px) / float(zoom))
    return limit
