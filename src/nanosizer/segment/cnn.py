"""CNN segmentation: a trained model folder + watershed instance separation.

The network predicts foreground, contact and normalised distance maps (see
:mod:`nanosizer.train.targets`); :func:`~nanosizer.segment.instances.probabilities_to_labels`
turns them into particles with the thresholds stored in the model.  Images are normalised exactly
as in training (the model metadata says how).  The network only separates particles well near
the sizes it was trained on, so by default the image is also segmented zoomed out (1/2, 1/4,
1/8) and the zoom is chosen from how the particle sizes found change with it
(:func:`choose_zoom`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from importlib import resources
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .._blocks import label_counts
from ._labels import relabel_min_area
from .instances import InstanceThresholds, probabilities_to_labels
from .limits import area_floor, detection_limit_px
from .result import Segmentation

if TYPE_CHECKING:
    from ..nn import LoadedModel

log = logging.getLogger("nanosizer.segment")

__all__ = [
    "SHIPPED_MODELS", "ZOOMS", "resolve_model", "segment_cnn", "segment_cnn_details",
    "decoder_thresholds", "load_cnn", "stored_thresholds",
    "cnn_probabilities",
    "auto_zoom", "choose_zoom", "median_diameter", "segmentation_maps", "zoom_thresholds",
]

#: Names of the model folders shipped in ``nanosizer/models``.
SHIPPED_MODELS: tuple[str, ...] = ("unet", "multiresunet")
#: Images with more pixels than this are predicted in tiles.
_TILE_ABOVE_PX = 2048 * 2048
_TILE, _OVERLAP = 512, 64
#: Zooms tried by the automatic zoom, largest first.
ZOOMS: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
#: Median diameters within this factor (log) count as the same size.
_SAME_SIZE = 0.25
#: Smallest image side (px) a zoomed-out image may have.
_MIN_SIDE = 48


def resolve_model(model: str | Path) -> Path:
    """Folder of a shipped model name (``'unet'``, ``'multiresunet'``) or of a model path.

    Raises
    ------
    InputError
        If the name is not a shipped model and no such folder exists.
    """
    if isinstance(model, str) and model in SHIPPED_MODELS:
        folder = Path(str(resources.files("nanosizer") / "models" / model))
        if not (folder / "config.json").is_file():
            raise InputError(
                f"the shipped model {model!r} is missing from {folder}; reinstall nanosizer "
                "or pass a trained model folder with --model"
            )
        return folder
    folder = Path(model)
    if not folder.is_dir():
        raise InputError(
            f"model {str(model)!r} is neither a shipped model ({', '.join(SHIPPED_MODELS)}) "
            "nor a model folder; train one with 'nanosizer train'"
        )
    return folder.resolve()


def _prepared(loaded, device: str | None):
    """``loaded`` with BatchNorm folded into the convolutions, ready for inference."""
    from ..nn import fuse_batchnorm, select_device
    from ..nn.device import prepare_for_inference

    net = prepare_for_inference(fuse_batchnorm(loaded.net), select_device(device))
    return dataclasses.replace(loaded, net=net)


@functools.lru_cache(maxsize=4)
def _load(folder: str, device: str | None):
    """Model of ``folder`` on ``device``, BatchNorm folded into the convolutions (cached)."""
    from ..nn import load_model

    return _prepared(load_model(folder, device=device), device)


#: In-memory models prepared for inference: id(net) -> (the caller's model, prepared copy).
_IN_MEMORY: dict[int, tuple] = {}


def load_cnn(model: str | Path | LoadedModel, device: str | None = None) -> LoadedModel:
    """The model to segment with: a shipped name, a model folder or a loaded model.

    Parameters
    ----------
    model : str, Path or LoadedModel
        ``'unet'``/``'multiresunet'``, a model folder (loaded once and cached), or a model in
        memory (:func:`nanosizer.nn.load_model`; its network must not change afterwards).
    device : str, optional
        'cpu' or 'cuda'; None uses CUDA when available.

    Returns
    -------
    LoadedModel
        In eval mode with BatchNorm folded; read its metadata through ``.card``.
    """
    from ..nn import LoadedModel

    if not isinstance(model, LoadedModel):
        return _load(str(resolve_model(model)), device)
    key = id(model.net)
    hit = _IN_MEMORY.get(key)
    if hit is None or hit[0] is not model:
        if len(_IN_MEMORY) >= 4:
            _IN_MEMORY.pop(next(iter(_IN_MEMORY)))
        hit = _IN_MEMORY[key] = (model, _prepared(model, device))
    return hit[1]


def stored_thresholds(model: str | Path | LoadedModel) -> InstanceThresholds:
    """The post-processing thresholds stored with a model (defaults where none).

    ``model`` is anything :func:`load_cnn` takes.
    """
    loaded = model if hasattr(model, "card") else load_cnn(model)
    return InstanceThresholds.from_dict(loaded.card.thresholds or {})



def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``0.5 * (tanh(0.5 x) + 1)`` in place on float32 logits (no full-size temporaries).

    Each step rounds to float32 as the out-of-place expression does, so the values are the
    same bit for bit.
    """
    x = np.asarray(x, dtype=np.float32)
    np.multiply(x, np.float32(0.5), out=x)
    np.tanh(x, out=x)
    x += np.float32(1.0)
    x *= np.float32(0.5)
    return x


def _resize(array: np.ndarray, shape: tuple[int, int], order: int) -> np.ndarray:
    from scipy import ndimage as ndi

    zoom = [1.0] * (array.ndim - 2) + [shape[0] / array.shape[-2], shape[1] / array.shape[-1]]
    out = ndi.zoom(array, zoom, order=order, mode="nearest", grid_mode=True)
    return out[..., : shape[0], : shape[1]]


def _normalized(loaded, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The image normalised as the model's training images were."""
    from ..normalize import normalize_image

    card = loaded.card
    return normalize_image(image, card.normalization_low, card.normalization_high, mask=mask)


def _maps(loaded, x: np.ndarray, *, tile: int | None, device) -> np.ndarray:
    """Sigmoid outputs (C, h, w) for a normalised image."""
    from ..nn import predict

    if tile is None and x.size > _TILE_ABOVE_PX:
        tile = _TILE
    overlap = min(_OVERLAP, tile // 4) if tile else 0
    return _sigmoid(predict(loaded.net, x, tile=tile, overlap=overlap, device=device))


def _zoomed_shape(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    return max(round(shape[0] * scale), 16), max(round(shape[1] * scale), 16)


def cnn_probabilities(
    loaded, image: np.ndarray, mask: np.ndarray | None, *, tile: int | None, device, scale: float
) -> np.ndarray:
    """Sigmoid outputs (C, H, W) of ``loaded`` for a raw image, predicted at ``scale``."""
    x = _normalized(loaded, image, mask)
    if scale == 1.0:
        return _maps(loaded, x, tile=tile, device=device)
    x = _resize(x, _zoomed_shape(x.shape, scale), 1)
    return _resize(_maps(loaded, x, tile=tile, device=device), image.shape, 1)


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
    loaded = _load(str(folder), device)
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


def decoder_thresholds(model: str | Path | LoadedModel, decoder: str, device: str | None = None
                       ) -> InstanceThresholds:
    """The thresholds a model uses with another instance ``decoder``.

    The stored thresholds when they are for ``decoder``; else the model's
    ``thresholds_validation_tuned`` when those are (the default UNet keeps its centre-vote
    thresholds there); else the stored ones with the decoder replaced.

    Raises
    ------
    InputError
        If the decoder needs centre offsets and the model does not predict them.
    """
    from .centres import predicts_offsets
    from .instances import DECODERS

    if decoder not in DECODERS:
        raise InputError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    loaded = load_cnn(model, device)
    stored = stored_thresholds(loaded)
    if stored.decoder == decoder:
        return stored
    if decoder != "watershed" and not predicts_offsets(loaded.net):
        raise InputError(f"the {decoder} decoder needs a model with centre offsets; model "
                         f"{model} has none (use --decoder watershed or train one with "
                         "--centre-offsets)")
    tuned = loaded.card.validation_tuned
    if tuned and tuned.get("decoder") == decoder:
        return InstanceThresholds.from_dict(tuned)
    return dataclasses.replace(stored, decoder=decoder)


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
