"""The automatic zoom: at which scale a network sees an image's particles whole.

The network only separates particles well near the sizes it was trained on, so the image is
also segmented zoomed out (1/2, 1/4, 1/8) and the zoom is chosen from how the particle sizes
found change with it (:func:`choose_zoom`).
"""

from __future__ import annotations

import numpy as np

from .._blocks import label_counts
from ._cnn_maps import _maps, _normalized, _resize, _zoomed_shape
from .instances import InstanceThresholds, probabilities_to_labels

__all__ = ["ZOOMS", "auto_zoom", "choose_zoom", "median_diameter", "zoom_thresholds"]

#: Zooms tried by the automatic zoom, largest first.
ZOOMS: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
#: Median diameters within this factor (log) count as the same size.
_SAME_SIZE = 0.25
#: Smallest image side (px) a zoomed-out image may have.
_MIN_SIDE = 48


def median_diameter(labels: np.ndarray) -> float:
    """Median equivalent-circle diameter (px) of the labelled particles; 0 without any."""
    areas = label_counts(labels)[1:]
    areas = areas[areas > 0]
    return float(np.median(np.sqrt(4.0 * areas / np.pi))) if areas.size else 0.0


def _same_size(a: float, b: float) -> bool:
    return a > 0 and b > 0 and abs(np.log(a / b)) < _SAME_SIZE


def choose_zoom(diameters: dict[float, float], target: float | None,
                min_px: float | None = None) -> float:
    """The zoom at which a model segments an image best, from what each zoom found.

    A network trained on particles of some size fragments much larger ones (each fragment looks
    like a particle of a familiar size), so the particle size found at full resolution cannot
    tell small particles from fragments.  Zooming out further changes the size found until the
    zoom is right: from then on the same particles are found.  The rule: the largest zoom
    whose median diameter (in image px) agrees within 25 % with that of the next smaller zoom;
    if no two agree, the zoom that brings the median diameter closest to ``target`` (network px).
    With ``min_px``, the smaller zoom of the agreeing pair is taken instead when the median
    diameter stays at least ``min_px`` network px there: networks fragment particles well before
    the two zooms stop agreeing (EMPS: the best zoom was usually one step below the pair's
    larger one), while small particles (BAM TiO2, ~25 px) keep the larger zoom.

    Parameters
    ----------
    diameters : dict
        Zoom -> median particle diameter found at that zoom, in px of the original image
        (0 when nothing was found).
    target : float or None
        Typical particle diameter (px) of the model's training images.
    min_px : float, optional
        Smallest median diameter (network px) for which the smaller zoom of an agreeing pair
        is preferred; None keeps the larger zoom.

    Returns
    -------
    zoom : float
        One of ``diameters``' keys (1.0 when nothing was found).
    """
    zooms = sorted(diameters, reverse=True)
    for big, small in zip(zooms, zooms[1:]):
        if _same_size(diameters[big], diameters[small]):
            if min_px is not None and diameters[small] * small >= min_px:
                return small
            return big
    found = [z for z in zooms if diameters[z] > 0]
    if not found or not target:
        return 1.0
    return min(found, key=lambda z: abs(np.log(diameters[z] * z / target)))


def zoom_thresholds(card, thresholds: InstanceThresholds) -> InstanceThresholds:
    """Thresholds with which :func:`auto_zoom` compares zooms: the model's ``zoom_thresholds``.

    Strong smoothing (good for the final labels of textured particles) merges small particles
    at coarse zooms into clusters whose size no longer changes with the zoom, which
    :func:`choose_zoom` would take for the right zoom; a model can therefore store milder
    thresholds for the comparison.  Without them, ``thresholds`` are used.  ``card`` is the
    model's :class:`~nanosizer.nn.ModelCard` (or its metadata dict).
    """
    if not hasattr(card, "zoom_thresholds"):
        from ..nn import ModelCard

        card = ModelCard.from_metadata(card)
    stored = card.zoom_thresholds
    return InstanceThresholds.from_dict(stored) if stored else thresholds


def _zoomed_inputs(full: np.ndarray, mask: np.ndarray | None) -> list[tuple]:
    """``(zoom, image, mask)`` for each of :data:`ZOOMS` down to 48 px a side.

    The zoomed-out images (1/3 of the full one together) are made up front, so the
    full-resolution image can be freed as soon as the network has seen it.
    """
    inputs = [(1.0, full, mask)]
    for zoom in ZOOMS[1:]:
        shape = _zoomed_shape(full.shape, zoom)
        if min(shape) < _MIN_SIDE:
            break
        small_mask = None if mask is None else _resize(mask.astype(np.uint8), shape, 0) > 0
        inputs.append((zoom, _resize(full, shape, 1), small_mask))
    return inputs


def auto_zoom(loaded, image: np.ndarray, mask: np.ndarray | None,
              thresholds: InstanceThresholds, *, tile: int | None = None,
              device=None) -> tuple[float, np.ndarray]:
    """Segment ``image`` at each of :data:`ZOOMS` and return the zoom :func:`choose_zoom` picks.

    The image is normalised once and zoomed out by linear interpolation, as with an explicit
    zoom (2 x 2 block means scored lower on EMPS: pooled F1 0.636 vs 0.695); zoomed-out images
    keep at least 48 px a side.  Particles are found with :func:`zoom_thresholds`.

    Returns
    -------
    zoom : float
    probabilities : (C, h, w) ndarray of float32
        The network's sigmoid maps at that zoom (at the network's resolution).
    """
    thresholds = zoom_thresholds(loaded.card, thresholds)
    maps, diameters = {}, {}
    inputs = _zoomed_inputs(_normalized(loaded, image, mask), mask)
    while inputs:
        zoom, x, small_mask = inputs.pop(0)  # nothing else holds x: freed once predicted
        maps[zoom] = _maps(loaded, x, tile=tile, device=device)
        del x
        labels = probabilities_to_labels(maps[zoom], thresholds, mask=small_mask)
        diameters[zoom] = median_diameter(labels) / zoom
        del labels
        if len(diameters) == 2 and _same_size(*diameters.values()):
            break  # the two largest zooms agree: smaller zooms cannot change the choice
    zoom = choose_zoom(diameters, loaded.card.particle_median_px, loaded.card.zoom_min_px)
    return zoom, maps[zoom]
