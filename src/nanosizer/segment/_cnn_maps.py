"""The network's sigmoid maps of a micrograph, normalised as in training, at any zoom."""

from __future__ import annotations

import numpy as np

__all__ = ["cnn_probabilities"]

#: Images with more pixels than this are predicted in tiles.
_TILE_ABOVE_PX = 2048 * 2048
_TILE, _OVERLAP = 512, 64


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
