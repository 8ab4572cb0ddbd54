"""Training targets for instance segmentation: foreground, contact and normalised distance.

The network predicts three (or five) maps per pixel (channels of :func:`make_targets`):

0. ``foreground``: 1 on particles, 0 on the background;
1. ``contact``: 1 on particle pixels within ``contact_width`` pixels of a *different* particle
   (the line where touching particles must be cut), 0 elsewhere;
2. ``distance``: Euclidean distance to the particle's own outline (touching neighbours count as
   outside), divided by its maximum inside that particle, so every particle peaks at 1 whatever
   its size; 0 on the background;
3. and 4. (models with centre offsets only) ``offset_y``, ``offset_x``: the vector from each
   particle pixel to its particle's centre (the centroid of its visible part, or the pixel
   farthest inside when the centroid lies outside it), encoded for a sigmoid as
   ``0.5 + offset / (2 * OFFSET_PX)`` (clipped to [0, 1]); 0.5 on the background.

:func:`nanosizer.segment.instances.probabilities_to_labels` turns the predicted maps back into
instance labels (:mod:`nanosizer.segment.centres` with offsets).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ..segment.centres import OFFSET_PX

__all__ = ["TARGET_CHANNELS", "OFFSET_CHANNELS", "output_names", "make_targets", "contact_map",
           "normalized_distance", "centre_offsets"]

#: Names of the target (and network output) channels, in order.
TARGET_CHANNELS: tuple[str, ...] = ("foreground", "contact", "distance")
#: The two further channels of models with centre offsets.
OFFSET_CHANNELS: tuple[str, ...] = ("offset_y", "offset_x")


def output_names(offsets: bool) -> list[str]:
    """Names of a model's outputs (model metadata ``outputs``), with or without the offsets."""
    return list(TARGET_CHANNELS) + (list(OFFSET_CHANNELS) if offsets else [])


def _check_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a (H, W) array, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"labels must be an integer instance image, got {labels.dtype}; "
            "label a binary mask with scipy.ndimage.label first"
        )
    if labels.size and labels.min() < 0:
        raise ValueError("labels must be >= 0 (0 = background)")
    return labels


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius**2


def contact_map(labels: np.ndarray, width: int = 2) -> np.ndarray:
    """Particle pixels within ``width`` pixels of a different particle.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    width : int
        Contact half-width in pixels (Euclidean disk of this radius).

    Returns
    -------
    contact : (H, W) ndarray of bool

    Examples
    --------
    >>> lab = np.zeros((4, 6), int); lab[:, :3] = 1; lab[:, 3:] = 2
    >>> contact_map(lab, width=1)[0].astype(int)
    array([0, 0, 1, 1, 0, 0])
    """
    labels = _check_labels(labels)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    fg = labels > 0
    foot = _disk(int(width))
    lab = labels.astype(np.int64)
    big = int(lab.max()) + 1 if lab.size else 1  # stands for "no particle" in the minimum
    highest = ndi.maximum_filter(lab, footprint=foot, mode="constant", cval=0)
    lowest = ndi.minimum_filter(np.where(fg, lab, big), footprint=foot, mode="constant", cval=big)
    return fg & ((highest != lab) | (lowest != lab))


def normalized_distance(labels: np.ndarray) -> np.ndarray:
    """Distance to each particle's own outline divided by its maximum in that particle.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.

    Returns
    -------
    distance : (H, W) ndarray of float32
        In (0, 1] on particles (1 at each particle's centre), 0 on the background.  Pixels outside
        the image count as outside the particle.
    """
    labels = _check_labels(labels)
    out = np.zeros(labels.shape, dtype=np.float32)
    for index, slc in enumerate(ndi.find_objects(labels)):
        if slc is None:
            continue
        own = np.pad(labels[slc] == index + 1, 1)
        dist = ndi.distance_transform_edt(own)[1:-1, 1:-1]
        peak = dist.max()
        if peak > 0:
            region = out[slc]
            inside = own[1:-1, 1:-1]
            region[inside] = (dist[inside] / peak).astype(np.float32)
    return out


def centre_offsets(labels: np.ndarray, offset_px: float = OFFSET_PX) -> np.ndarray:
    """Encoded vectors from each particle pixel to its particle's centre.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    offset_px : float
        Offset that the encoding's 1 stands for (see :data:`~nanosizer.segment.centres.OFFSET_PX`).

    Returns
    -------
    offsets : (2, H, W) ndarray of float32
        ``0.5 + (centre - pixel) / (2 * offset_px)`` per axis (y, x), clipped to [0, 1]; 0.5
        on the background.  The centre is the particle's centroid, or its pixel farthest from
        the outline when the centroid falls outside the particle.

    Examples
    --------
    >>> lab = np.zeros((1, 5), int); lab[0, :3] = 1
    >>> centre_offsets(lab, offset_px=2.0)[1, 0]
    array([0.75, 0.5 , 0.25, 0.5 , 0.5 ], dtype=float32)
    """
    labels = _check_labels(labels)
    out = np.full((2,) + labels.shape, 0.5, dtype=np.float32)
    for index, slc in enumerate(ndi.find_objects(labels)):
        if slc is None:
            continue
        own = labels[slc] == index + 1
        ys, xs = np.nonzero(own)
        cy, cx = ys.mean(), xs.mean()
        iy, ix = int(round(cy)), int(round(cx))
        if not own[min(iy, own.shape[0] - 1), min(ix, own.shape[1] - 1)]:
            dist = ndi.distance_transform_edt(np.pad(own, 1))[1:-1, 1:-1]
            cy, cx = np.unravel_index(int(np.argmax(dist)), own.shape)
        scale = 1.0 / (2.0 * offset_px)
        out[0][slc][own] = np.clip(0.5 + (cy - ys) * scale, 0.0, 1.0)
        out[1][slc][own] = np.clip(0.5 + (cx - xs) * scale, 0.0, 1.0)
    return out


def make_targets(labels: np.ndarray, contact_width: int = 2, offsets: bool = False) -> np.ndarray:
    """Stack the three training targets of an instance label image.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    contact_width : int
        Half-width of the contact band (see :func:`contact_map`).
    offsets : bool
        Also the two centre-offset channels (:func:`centre_offsets`).

    Returns
    -------
    targets : (3, H, W) or (5, H, W) ndarray of float32
        ``foreground``, ``contact`` and ``distance`` (see :data:`TARGET_CHANNELS`) and, with
        ``offsets``, :data:`OFFSET_CHANNELS`; all in [0, 1].
    """
    labels = _check_labels(labels)
    maps = [
        (labels > 0).astype(np.float32),
        contact_map(labels, contact_width).astype(np.float32),
        normalized_distance(labels),
    ]
    if offsets:
        maps.extend(centre_offsets(labels))
    return np.stack(maps)
