"""CNN segmentation: a trained model folder + watershed instance separation.

The network predicts foreground, contact and normalised distance maps (see
:mod:`nanosizer.train.targets`); :func:`~nanosizer.segment.instances.probabilities_to_labels`
turns them into particles with the thresholds stored in the model.  Images are normalised exactly
as in training (the model metadata says how).  When the particles are much smaller or larger than
those the model was trained on, the image is rescaled so their median size matches the training
median and segmented again.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError
from .instances import InstanceThresholds, probabilities_to_labels

__all__ = ["SHIPPED_MODELS", "resolve_model", "segment_cnn", "cnn_probabilities"]

#: Names of the model folders shipped in ``nanosizer/models``.
SHIPPED_MODELS: tuple[str, ...] = ("unet", "multiresunet")
#: Images with more pixels than this are predicted in tiles.
_TILE_ABOVE_PX = 2048 * 2048
_TILE, _OVERLAP = 512, 64
#: Rescale when the median particle is this far outside the training median (factor).
_RESCALE_FACTOR = 2.0
_MIN_PARTICLES_FOR_RESCALE = 5


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


@functools.lru_cache(maxsize=4)
def _load(folder: str, device: str | None):
    from ..nn import load_model, select_device
    from ..nn.device import prepare_for_inference

    loaded = load_model(folder, device=device)
    prepare_for_inference(loaded.net, select_device(device))
    return loaded


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (np.tanh(0.5 * x) + 1.0)).astype(np.float32)


def _resize(array: np.ndarray, shape: tuple[int, int], order: int) -> np.ndarray:
    from scipy import ndimage as ndi

    zoom = [1.0] * (array.ndim - 2) + [shape[0] / array.shape[-2], shape[1] / array.shape[-1]]
    out = ndi.zoom(array, zoom, order=order, mode="nearest", grid_mode=True)
    return out[..., : shape[0], : shape[1]]


def cnn_probabilities(
    loaded, image: np.ndarray, mask: np.ndarray | None, *, tile: int | None, device, scale: float
) -> np.ndarray:
    """Sigmoid outputs (3, H, W) of ``loaded`` for a raw image, predicted at ``scale``."""
    from ..nn import predict
    from ..train.normalize import normalize_image

    norm = loaded.metadata.get("normalization", {})
    x = normalize_image(image, norm.get("low", 1.0), norm.get("high", 99.8), mask=mask)
    shape = x.shape
    if scale != 1.0:
        x = _resize(x, (max(round(shape[0] * scale), 16), max(round(shape[1] * scale), 16)), 1)
    if tile is None and x.size > _TILE_ABOVE_PX:
        tile = _TILE
    overlap = min(_OVERLAP, tile // 4) if tile else 0
    logits = predict(loaded.net, x, tile=tile, overlap=overlap, device=device)
    probs = _sigmoid(logits)
    if scale != 1.0:
        probs = _resize(probs, shape, 1)
    return probs


def _median_diameter(labels: np.ndarray) -> float | None:
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    if areas.size < _MIN_PARTICLES_FOR_RESCALE:
        return None
    return float(np.sqrt(4.0 * np.median(areas) / np.pi))


def _auto_scale(labels: np.ndarray, metadata: dict) -> float:
    """Zoom factor bringing the median particle to the training median (1.0 if close enough)."""
    train = metadata.get("particle_diameter_px") or {}
    target = train.get("median")
    found = _median_diameter(labels)
    if not target or found is None:
        return 1.0
    ratio = target / found
    if 1.0 / _RESCALE_FACTOR <= ratio <= _RESCALE_FACTOR:
        return 1.0
    return float(np.clip(ratio, 0.25, 4.0))


def segment_cnn(
    micrograph,
    model: str | Path = "unet",
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
    model : str or Path
        ``'unet'`` or ``'multiresunet'`` (shipped models) or a model folder.
    tile : int, optional
        Tile side for tiled inference; None predicts whole images up to 2048 x 2048 px and
        larger ones in 512-px tiles.
    device : str, optional
        'cpu' or 'cuda'; None uses CUDA when available.
    scale : float, optional
        Zoom applied before the network; None chooses it automatically: 1, unless the median
        particle of a first pass is more than 2x smaller or larger than the training median.
    thresholds : InstanceThresholds, optional
        Post-processing thresholds; None uses those stored with the model.

    Returns
    -------
    labels : (H, W) ndarray of int32
        Same shape as ``micrograph.data``; 0 = background and everywhere outside
        ``micrograph.analysis_mask``.
    """
    folder = resolve_model(model)
    loaded = _load(str(folder), device)
    if thresholds is None:
        thresholds = InstanceThresholds.from_dict(loaded.metadata.get("thresholds", {}))
    image = np.asarray(micrograph.data, dtype=np.float32)
    mask = micrograph.analysis_mask
    probs = cnn_probabilities(loaded, image, mask, tile=tile, device=device, scale=scale or 1.0)
    labels = probabilities_to_labels(probs, thresholds, mask=mask)
    if scale is None:
        auto = _auto_scale(labels, loaded.metadata)
        if auto != 1.0:
            probs = cnn_probabilities(loaded, image, mask, tile=tile, device=device, scale=auto)
            small = InstanceThresholds(**{**thresholds.to_dict(),
                                          "min_area": max(1, round(thresholds.min_area / auto**2))})
            labels = probabilities_to_labels(probs, small, mask=mask)
    return labels
