"""Per-image intensity normalisation, identical in training and inference."""

from __future__ import annotations

import numpy as np

from ._blocks import row_blocks

__all__ = ["NORMALIZATION", "normalize_image"]

#: Description stored in model metadata; :func:`normalize_image` defaults to it.
NORMALIZATION: dict = {"method": "percentile", "low": 1.0, "high": 99.8}


def normalize_image(
    image: np.ndarray,
    low: float = NORMALIZATION["low"],
    high: float = NORMALIZATION["high"],
    *,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Map the ``low`` and ``high`` percentiles of an image to 0 and 1.

    Parameters
    ----------
    image : (H, W) ndarray
        Grey values on any scale.
    low, high : float
        Percentiles (0-100) mapped to 0 and 1; values outside are not clipped.
    mask : (H, W) ndarray of bool, optional
        Pixels the percentiles are computed on (e.g. without the info bar).

    Returns
    -------
    normalized : (H, W) ndarray of float32
        A constant image gives all zeros.

    Examples
    --------
    >>> out = normalize_image(np.arange(101.0).reshape(1, -1), 0, 100)
    >>> float(out.min()), float(out.max())
    (0.0, 1.0)
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W), got shape {image.shape}")
    if not 0 <= low < high <= 100:
        raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}")
    values = image[mask] if mask is not None else image
    if values.size == 0:
        values = image
    # a masked copy is ours to reorder: no second copy of it inside np.percentile
    lo, hi = np.percentile(values, (low, high), overwrite_input=values is not image)
    scale = hi - lo
    if scale <= 0:
        return np.zeros_like(image)
    out = np.empty_like(image)
    for rows in row_blocks(image.shape):
        out[rows] = (image[rows] - lo) / scale  # float64 per block, rounded to float32
    return out
