"""CNN segmentation: a trained model + watershed (or centre-vote) instance separation.

The network predicts foreground, contact and normalised distance maps (see
:mod:`nanosizer.train.targets`); :func:`~nanosizer.segment.instances.probabilities_to_labels`
turns them into particles with the thresholds stored in the model.  Images are normalised exactly
as in training (the model card says how).  The model comes from :mod:`.cnn_model` (a shipped
name, a folder or a model in memory); the zoom at which the network sees the image from the
model or from the automatic zoom (:mod:`.zoom`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ._cnn_maps import _resize, cnn_probabilities
from ._labels import relabel_min_area
from .cnn_model import (
    SHIPPED_MODELS,
    decoder_thresholds,
    load_cnn,
    resolve_model,
    stored_thresholds,
)
from .instances import InstanceThresholds, probabilities_to_labels
from .limits import area_floor, detection_limit_px
from .result import Segmentation
from .zoom import ZOOMS, auto_zoom, choose_zoom, median_diameter, zoom_thresholds

if TYPE_CHECKING:
    from ..nn import LoadedModel

log = logging.getLogger("nanosizer.segment")

__all__ = [
    "SHIPPED_MODELS", "ZOOMS", "resolve_model", "segment_cnn", "segment_cnn_details",
    "decoder_thresholds", "load_cnn", "stored_thresholds",
    "cnn_probabilities",
    "auto_zoom", "choose_zoom", "median_diameter", "segmentation_maps", "zoom_thresholds",
]


def _zoom_of_model(model: str, base: Path, image: np.ndarray, mask: np.ndarray | None, *,
                   tile: int | None, device) -> float | None:
    """The zoom :func:`auto_zoom` of ``model`` (a shipped name or a folder inside ``base``) picks.

    Models adapted to images of mixed magnification were trained on each image resampled by
    the zoom their initial model chose for it; that model chooses the zoom for them (their own
    choice varied from run to run).  ``model`` is resolved relative to the model folder
    ``base`` (:func:`nanosizer.nn._schema.resolve_zoom_model`), never to the current folder.
    None, with a warning, when the folder has gone since the model was loaded.
    """
    from ..nn import resolve_zoom_model

    try:
        folder = resolve_zoom_model(model, base)
    except InputError:
        log.warning("zoom model %r not found: the model chooses the zoom itself", model)
        return None
    loaded = load_cnn(folder, device)
    return auto_zoom(loaded, image, mask, stored_thresholds(loaded), tile=tile,
                     device=device)[0]


def segment_cnn(
    micrograph,
    model: str | Path | LoadedModel = "unet",
    *,
    tile: int | None = None,
    device: str | None = None,
    scale: float | None = None,
    thresholds: InstanceThresholds | None = None,
) -> np.ndarray:
    """Segment a micrograph into particle instances with a CNN model.

    Parameters
    ----------
    micrograph : Micrograph
        Image and analysis mask (the info bar is never segmented).
    model : str, Path or LoadedModel
        ``'unet'`` or ``'multiresunet'`` (shipped models), a model folder, or a model in memory
        (:func:`load_cnn`).
    tile : int, optional
        Tile side for tiled inference; None predicts whole images up to 2048 x 2048 px and
        larger ones in 512-px tiles.
    device : str, optional
        'cpu' or 'cuda'; None uses CUDA when available.
    scale : float, optional
        Zoom applied before the network; None uses the model's fixed ``zoom`` when its metadata
        has one (models adapted to images of one magnification), else chooses it automatically:
        the image is segmented at each of :data:`ZOOMS` (zoomed-out images at least 48 px a
        side) and :func:`choose_zoom` picks one from the median particle diameters found — by
        the model named in its ``zoom_model`` metadata when it has one (models adapted to
        images of mixed magnification: their initial model), else by the model itself.
    thresholds : InstanceThresholds, optional
        Post-processing thresholds; None uses those stored with the model.

    Returns
    -------
    labels : (H, W) ndarray of int32
        Same shape as ``micrograph.data``; 0 = background and everywhere outside
        ``micrograph.analysis_mask``.
    """
    return segment_cnn_details(micrograph, model, tile=tile, device=device, scale=scale,
                               thresholds=thresholds).labels


def segment_cnn_details(
    micrograph,
    model: str | Path | LoadedModel = "unet",
    *,
    tile: int | None = None,
    device: str | None = None,
    scale: float | None = None,
    thresholds: InstanceThresholds | None = None,
    decoder: str | None = None,
) -> Segmentation:
    """:func:`segment_cnn` with the zoom, the applied thresholds and the detection limit.

    Same parameters as :func:`segment_cnn`, and ``decoder``: an instance decoder other than
    the model's own (:func:`decoder_thresholds`; ignored when ``thresholds`` are given).

    Returns
    -------
    Segmentation
        ``labels`` exactly as :func:`segment_cnn` returns them; ``detection_limit_px`` from the
        area filters at this image's scale and the model's stored ``detection_limit_px``
        (network px, divided by the zoom; ``detection_limit_px_by_decoder`` when the model
        stores one for the decoder used).
    """
    if thresholds is None and decoder is not None:
        thresholds = decoder_thresholds(model, decoder, device)
    probs, thresholds, zoom = segmentation_maps(micrograph, model, tile=tile, device=device,
                                                scale=scale, thresholds=thresholds,
                                                return_zoom=True)
    absolute = dataclasses.replace(thresholds, min_relative_area=0.0)
    labels = probabilities_to_labels(probs, absolute, mask=micrograph.analysis_mask)
    floor = area_floor(labels, thresholds.min_area, thresholds.min_relative_area)
    if floor > max(thresholds.min_area, 1):
        labels = relabel_min_area(labels, floor)
    model_limit = load_cnn(model, device).card.detection_limit(thresholds.decoder)
    limit = detection_limit_px(floor, model_limit, zoom)
    settings = {**thresholds.to_dict(), "area_floor_px": int(floor)}
    return Segmentation(labels, limit, zoom, settings)


def segmentation_maps(
    micrograph,
    model: str | Path | LoadedModel = "unet",
    *,
    tile: int | None = None,
    device: str | None = None,
    scale: float | None = None,
    thresholds: InstanceThresholds | None = None,
    return_zoom: bool = False,
) -> tuple:
    """The network's maps that :func:`segment_cnn` turns into particles, and the thresholds.

    Same parameters as :func:`segment_cnn`, and ``return_zoom``: also return the zoom the
    network saw the image at (fixed, or chosen by the automatic zoom).

    Returns
    -------
    probabilities : (C, H, W) ndarray of float32
        Foreground, contact and distance maps at the micrograph's resolution (predicted at the
        chosen zoom).
    thresholds : InstanceThresholds
        The thresholds to apply to them (``min_area`` rescaled for the zoom).
    zoom : float
        Only with ``return_zoom``.
    """
    loaded = load_cnn(model, device)
    if thresholds is None:
        thresholds = stored_thresholds(loaded)
    image = np.asarray(micrograph.data, dtype=np.float32)
    mask = micrograph.analysis_mask
    if scale is None:
        scale = loaded.card.zoom
    if scale is None and loaded.card.zoom_model:
        scale = _zoom_of_model(loaded.card.zoom_model, loaded.folder, image, mask,
                               tile=tile, device=device)  # None: the model chooses itself
    if scale is not None:
        zoom = float(scale)
        probs = cnn_probabilities(loaded, image, mask, tile=tile, device=device, scale=zoom)
    else:
        zoom, probs = auto_zoom(loaded, image, mask, thresholds, tile=tile, device=device)
        if zoom != 1.0:
            probs = _resize(probs, image.shape, 1)
    out = (probs, thresholds.rescaled(zoom))
    return (*out, zoom) if return_zoom else out
