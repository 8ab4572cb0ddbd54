"""The particle table: one row of calibrated size and shape measurements per label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import choices
from .._blocks import label_counts
from ..io import PixelSize
from . import _shape
from .feret import angle_0_180, feret_by_label

__all__ = ["measure_particles", "particle_columns", "size_column", "SIZE_MEASURES"]

#: Size measures usable for a distribution, with their column stem.
SIZE_MEASURES: tuple[str, ...] = choices.SIZE_MEASURES


def size_column(measure: str, unit: str) -> str:
    """Column of the particle table that holds a size measure.

    Parameters
    ----------
    measure : {'feret_min', 'feret_max', 'ecd'}
    unit : {'nm', 'px'}

    Returns
    -------
    str

    Examples
    --------
    >>> size_column("feret_min", "nm")
    'feret_min_nm'
    """
    if measure not in SIZE_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(SIZE_MEASURES)}, got {measure!r}")
    if unit not in ("nm", "px"):
        raise ValueError(f"unit must be 'nm' or 'px', got {unit!r}")
    return f"{measure}_{unit}"


def particle_columns(unit: str) -> list[str]:
    """Column names of :func:`measure_particles` for length unit ``unit`` ('nm' or 'px')."""
    u = unit
    return [
        "label", f"area_{u}2", f"ecd_{u}", f"perimeter_{u}", f"feret_min_{u}", f"feret_max_{u}",
        "feret_min_angle_deg", "feret_max_angle_deg", "aspect_ratio", "circularity",
        "solidity", "convexity", f"ellipse_major_{u}", f"ellipse_minor_{u}",
        "ellipse_angle_deg", "centroid_x_px", "centroid_y_px", "bbox_x0_px", "bbox_y0_px",
        "bbox_x1_px", "bbox_y1_px", "mean_intensity", "touches_border",
    ]  # fmt: skip


def measure_particles(
    labels: np.ndarray,
    image: np.ndarray | None = None,
    pixel_size: PixelSize | float | None = None,
    exclude: np.ndarray | None = None,
) -> pd.DataFrame:
    """Size and shape of every particle of a label image.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.  Not modified.
    image : (H, W) ndarray, optional
        Grey values for ``mean_intensity`` (NaN when omitted).
    pixel_size : PixelSize or float or None
        Pixel edge length; a float is taken as nanometres.  Lengths are reported in nm when
        calibrated, otherwise in pixels; the unit is part of the column names
        (``feret_min_nm`` or ``feret_min_px``).
    exclude : (H, W) ndarray of bool, optional
        Region outside the analysis (e.g. the info bar), True = excluded.  Particles inside or
        4-adjacent to it are flagged in ``touches_border`` like those touching the image edge.

    Returns
    -------
    DataFrame
        One row per label id (ascending) with the columns of :func:`particle_columns`:

        * ``area_{u}2`` -- pixel count x pixel area; ``ecd_{u}`` = sqrt(4 area / pi).
        * ``perimeter_{u}`` -- Crofton perimeter (4 directions, as
          ``skimage.measure.perimeter_crofton``): an unbiased estimate of the length of the
          true outline for smooth shapes (a digitised disc of radius r gives ~2 pi r), unlike
          pixel-edge counts that overestimate diagonal edges by up to 27 %.
        * ``feret_min_{u}``, ``feret_max_{u}`` and their angles -- exact caliper diameters of
          the pixel squares (:mod:`nanosizer.measure.feret`); ``aspect_ratio`` = max / min.
        * ``circularity`` = 4 pi area / perimeter**2, capped at 1 (as ImageJ does; tiny
          particles can exceed 1 through digitisation).
        * ``solidity`` = area / area of the convex hull of the pixel squares (1 for convex
          pixel sets such as rectangles).
        * ``convexity`` = perimeter of that hull / perimeter, capped at 1.
        * ``ellipse_major_{u}``, ``ellipse_minor_{u}`` -- axes of the ellipse with the same
          second moments (4 sqrt(eigenvalue), as scikit-image); ``ellipse_angle_deg`` is the
          major axis direction, 0-180 degrees counter-clockwise from +x as shown on screen.
        * ``centroid_x_px``, ``centroid_y_px`` -- mean pixel-centre coordinates (column, row);
          ``bbox_x0_px`` .. ``bbox_y1_px`` -- bounding box, x1/y1 exclusive.
        * ``touches_border`` -- touches the image edge or the ``exclude`` region.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer image.
    ValueError
        If shapes disagree or labels are negative.

    Examples
    --------
    >>> labels = np.zeros((8, 8), dtype=np.int32)
    >>> labels[2:6, 2:6] = 1
    >>> row = measure_particles(labels, pixel_size=2.0).iloc[0]
    >>> float(row["feret_min_nm"]), float(row["area_nm2"]), bool(row["touches_border"])
    (8.0, 64.0, False)
    """
    labels = _check_labels(labels)
    scale, unit = _scale(pixel_size)
    image = _check_same_shape(image, labels, "image")
    exclude = _check_same_shape(exclude, labels, "exclude")
    n = int(labels.max(initial=0)) + 1
    present = np.flatnonzero(label_counts(labels))
    present = present[present > 0]
    if present.size == 0:
        return _empty(unit)
    mom = _shape.moments(labels, n, image)
    fer = feret_by_label(labels)
    perim = _shape.crofton_perimeter(labels, n)[present]
    boxes = _shape.bounding_boxes(labels, n)[present]
    area = mom["area"][present]
    ellipse = _ellipse(mom["vxx"][present], mom["vyy"][present], mom["vxy"][present])
    border = (boxes[:, 0] == 0) | (boxes[:, 1] == 0)
    border |= (boxes[:, 2] == labels.shape[1]) | (boxes[:, 3] == labels.shape[0])
    if exclude is not None:
        border |= _shape.touching(labels, n, exclude.astype(bool))[present]
    u = unit
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = {
            "label": present.astype(np.int64),
            f"area_{u}2": area * scale**2,
            f"ecd_{u}": np.sqrt(4.0 * area / np.pi) * scale,
            f"perimeter_{u}": perim * scale,
            f"feret_min_{u}": fer.min * scale,
            f"feret_max_{u}": fer.max * scale,
            "feret_min_angle_deg": fer.min_angle_deg,
            "feret_max_angle_deg": fer.max_angle_deg,
            "aspect_ratio": fer.max / fer.min,
            "circularity": np.minimum(4.0 * np.pi * area / perim**2, 1.0),
            "solidity": area / fer.hull_area,
            "convexity": np.minimum(fer.hull_perimeter / perim, 1.0),
            f"ellipse_major_{u}": ellipse[0] * scale,
            f"ellipse_minor_{u}": ellipse[1] * scale,
            "ellipse_angle_deg": ellipse[2],
            "centroid_x_px": mom["cx"][present],
            "centroid_y_px": mom["cy"][present],
            "bbox_x0_px": boxes[:, 0],
            "bbox_y0_px": boxes[:, 1],
            "bbox_x1_px": boxes[:, 2],
            "bbox_y1_px": boxes[:, 3],
            "mean_intensity": mom["mean_intensity"][present],
            "touches_border": border,
        }
    return pd.DataFrame(columns, columns=particle_columns(unit))


def _check_labels(labels: np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"labels must be an integer image, got {arr.dtype}; label a binary mask with "
            "skimage.measure.label first"
        )
    if arr.ndim != 2:
        raise ValueError(f"labels must be 2-D (H, W), got shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise ValueError("labels must be >= 0 (0 = background)")
    if arr.dtype.itemsize <= 4:
        return arr  # int32/uint16 labels are used as they are (no 8-byte copy)
    return arr.astype(np.intp, copy=False)


def _check_same_shape(arr, labels: np.ndarray, name: str):
    if arr is None:
        return None
    arr = np.asarray(arr)
    if arr.shape != labels.shape:
        raise ValueError(f"{name} has shape {arr.shape}, labels {labels.shape}; they must match")
    return arr


def _scale(pixel_size: PixelSize | float | None) -> tuple[float, str]:
    if pixel_size is None:
        return 1.0, "px"
    if isinstance(pixel_size, PixelSize):
        return pixel_size.scale, pixel_size.unit
    if isinstance(pixel_size, (int, float, np.number)) and not isinstance(pixel_size, bool):
        ps = PixelSize(float(pixel_size), "argument")
        return ps.scale, ps.unit
    raise TypeError(f"pixel_size must be a PixelSize, a float in nm or None, got {pixel_size!r}")


def _ellipse(vxx: np.ndarray, vyy: np.ndarray, vxy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Major/minor axis (pixels) and major-axis angle (degrees, on-screen CCW) from moments."""
    mean = 0.5 * (vxx + vyy)
    root = np.sqrt(0.25 * (vxx - vyy) ** 2 + vxy**2)
    major = 4.0 * np.sqrt(mean + root)
    minor = 4.0 * np.sqrt(np.maximum(mean - root, 0.0))
    # Angle in image coordinates (y down) is 0.5 atan2(2 vxy, vxx - vyy); flip for the screen.
    angle = angle_0_180(np.degrees(-0.5 * np.arctan2(2.0 * vxy, vxx - vyy)))
    return major, minor, angle


def _empty(unit: str) -> pd.DataFrame:
    dtypes = {c: float for c in particle_columns(unit)}
    dtypes.update({"label": np.int64, "touches_border": bool})
    dtypes.update({c: np.int64 for c in ("bbox_x0_px", "bbox_y0_px", "bbox_x1_px", "bbox_y1_px")})
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
