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

__all__ = [
    "SHIPPED_MODELS", "resolve_model", "segment_cnn", "cnn_probabilities", "estimate_diameter"
]

#: Names of the model folders shipped in ``nanosizer/models``.
SHIPPED_MODELS: tuple[str, ...] = ("unet", "multiresunet")
#: Images with more pixels than this are predicted in tiles.
_TILE_ABOVE_PX = 2048 * 2048
_TILE, _OVERLAP = 512, 64


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
    """Model of ``folder`` on ``device``, BatchNorm folded into the convolutions (cached)."""
    import dataclasses

    from ..nn import fuse_batchnorm, load_model, select_device
    from ..nn.device import prepare_for_inference

    loaded = load_model(folder, device=device)
    net = prepare_for_inference(fuse_batchnorm(loaded.net), select_device(device))
    return dataclasses.replace(loaded, net=net)


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


def estimate_diameter(probabilities: np.ndarray, thresholds: InstanceThresholds,
                      mask: np.ndarray | None = None) -> float | None:
    """Typical particle diameter (px) from the foreground map, robust to split interiors.

    Holes of the foreground mask are filled, and each connected component contributes twice its
    largest inscribed radius (the distance-transform maximum), which is about one particle
    diameter for isolated and touching particles alike.  Returns the median over components of
    at least ``max(min_area, 20)`` px, or None when there are none.
    """
    from scipy import ndimage as ndi

    fg = probabilities[0] > thresholds.foreground
    if mask is not None:
        fg &= mask
    background, _ = ndi.label(~fg)  # holes = background components off the image border
    edge = np.unique(np.concatenate([background[0], background[-1], background[:, 0],
                                     background[:, -1]]))
    fg |= (background > 0) & ~np.isin(background, edge)
    components, n = ndi.label(fg)
    if n == 0:
        return None
    areas = np.bincount(components.ravel())[1:]
    # inscribed radii on a 2x subsampled mask: plenty for a size estimate, 4x cheaper
    radius = 2.0 * ndi.distance_transform_edt(np.pad(fg[::2, ::2], 1))[1:-1, 1:-1]
    peaks = np.zeros(n + 1)
    np.maximum.at(peaks, components[::2, ::2].ravel(), radius.ravel())
    peaks = peaks[1:]
    keep = areas >= max(thresholds.min_area, 20)
    if not keep.any():
        return None
    return float(2.0 * np.median(peaks[keep]))


def _auto_scale(diameter: float | None, metadata: dict) -> float:
    """Zoom-out bringing ``diameter`` to the training median when it exceeds the training range.

    Only particles larger than the training range are rescaled: a small first-pass estimate
    more often means noise or texture than tiny particles, and zooming in would amplify it.
    """
    train = metadata.get("particle_diameter_px") or {}
    target, high = train.get("median"), train.get("p95")
    if diameter is None or not target or not high or diameter <= high:
        return 1.0
    return float(max(target / diameter, 0.2))


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
        Zoom applied before the network; None chooses it automatically: 1, unless the typical
        particle diameter of a first pass (:func:`estimate_diameter`) is above the 95th
        percentile of the training particles; then the image is zoomed out (down to 0.2x) to
        bring it to the training median.
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
    if scale is None:
        scale = _auto_scale(estimate_diameter(probs, thresholds, mask), loaded.metadata)
        if scale != 1.0:
            probs = cnn_probabilities(loaded, image, mask, tile=tile, device=device, scale=scale)
    if scale != 1.0:  # min_area is in network pixels; the maps are back at full resolution
        thresholds = InstanceThresholds(
            **{**thresholds.to_dict(), "min_area": max(1, round(thresholds.min_area / scale**2))}
        )
    return probabilities_to_labels(probs, thresholds, mask=mask)
