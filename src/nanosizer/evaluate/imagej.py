"""ImageJ / Fiji interchange: Results tables, ROI zips in and out (the ROI format itself is
:func:`nanosizer.io.read_roi_zip` / :func:`nanosizer.io.write_roi_zip`, re-exported here).

Manual measurements made in ImageJ become a method like any other: a Results table gives the
particle sizes, an ROI zip gives the outlines (as an instance label image).  nanosizer's particles
can be exported as an ROI zip that opens in Fiji's ROI Manager.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import read_roi_zip, write_roi_zip

__all__ = [
    "RESULTS_COLUMNS",
    "read_results_table",
    "read_roi_zip",
    "write_results_table",
    "write_roi_zip",
]

#: ImageJ Results column -> nanosizer measure name (lengths get ``_nm``/``_px`` appended).
RESULTS_COLUMNS: dict[str, str] = {
    "Feret": "feret_max",
    "MinFeret": "feret_min",
    "Perim.": "perimeter",
    "Major": "ellipse_major",
    "Minor": "ellipse_minor",
    "X": "centroid_x",
    "Y": "centroid_y",
}
_AREA = "Area"
_UNITLESS = {
    "Circ.": "circularity",
    "AR": "aspect_ratio",
    "Round": "roundness",
    "Solidity": "solidity",
    "FeretAngle": "feret_angle_deg",
    "Mean": "mean_intensity",
}
_UNIT_NM = {"nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "mm": 1e6}


def _length_factor(path: Path, unit: str, pixel_size: float | None) -> tuple[float, str]:
    """Factor from the table's length unit to the output unit, and the output suffix."""
    if unit == "px":
        return (pixel_size, "nm") if pixel_size is not None else (1.0, "px")
    if unit not in _UNIT_NM:
        raise InputError(f"{path}: unknown unit {unit!r}; use px, nm or um")
    return _UNIT_NM[unit], "nm"


def read_results_table(
    path: str | Path, unit: str = "px", pixel_size: float | None = None
) -> pd.DataFrame:
    """Read an ImageJ Results table (CSV) into nanosizer's column names.

    Parameters
    ----------
    path : str or Path
        CSV saved from ImageJ's Results window (``Analyze > Measure`` or ``Analyze
        Particles``), with some of Area, Feret, MinFeret, Perim., Major, Minor, X, Y, ...
    unit : {'px', 'nm', 'um'}, optional
        Length unit of the table: 'px' when the image was not calibrated, else the unit set
        in ``Analyze > Set Scale``.
    pixel_size : float, optional
        Pixel size in nm, to convert a table in pixels to nm.

    Returns
    -------
    DataFrame
        One row per particle: ``label`` (1..N), ``image`` (from the Label column, else the file
        stem), lengths as ``<measure>_nm`` or ``<measure>_px`` (e.g. ``feret_min_nm``),
        ``area_nm2``/``area_px2``, ``ecd_*`` computed from the area, and the unitless shape
        columns (``circularity``, ``aspect_ratio``, ...).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, sep=None, engine="python")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read ImageJ Results table ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    if not ({"MinFeret", "Feret", _AREA} & set(table.columns)):
        raise InputError(
            f"{path}: no Area, Feret or MinFeret column; in ImageJ tick them in "
            "Analyze > Set Measurements and measure again"
        )
    factor, suffix = _length_factor(path, unit, pixel_size)
    out = pd.DataFrame({"label": np.arange(1, len(table) + 1)})
    if "Label" in table.columns:
        out["image"] = [Path(str(s).split(":")[0]).stem for s in table["Label"]]
    else:
        out["image"] = path.stem
    for src, name in RESULTS_COLUMNS.items():
        if src in table.columns:
            out[f"{name}_{suffix}"] = pd.to_numeric(table[src], errors="coerce") * factor
    if _AREA in table.columns:
        area = pd.to_numeric(table[_AREA], errors="coerce") * factor**2
        out[f"area_{suffix}2"] = area
        out[f"ecd_{suffix}"] = 2 * np.sqrt(area / math.pi)
    for src, name in _UNITLESS.items():
        if src in table.columns:
            out[name] = pd.to_numeric(table[src], errors="coerce")
    return out


def write_results_table(particles: pd.DataFrame, path: str | Path) -> int:
    """Write a particle table with ImageJ's Results column names (the inverse of reading).

    Parameters
    ----------
    particles : DataFrame
        nanosizer particle table (``feret_min_nm`` or ``feret_min_px``, ``area_nm2``, ...).
        Lengths are written in the table's unit (nm when calibrated, else pixels).
    path : str or Path
        CSV file to write.

    Returns
    -------
    int
        Number of rows written.
    """
    suffix = "nm" if any(str(c).endswith("_nm") for c in particles.columns) else "px"
    table = pd.DataFrame(index=pd.RangeIndex(1, len(particles) + 1, name=" "))
    if "image" in particles.columns:
        labels = particles["label"] if "label" in particles.columns else range(1, len(particles) + 1)
        table["Label"] = [f"{im}:{int(lab):04d}" for im, lab in zip(particles["image"], labels)]
    if f"area_{suffix}2" in particles.columns:
        table[_AREA] = particles[f"area_{suffix}2"].to_numpy()
    for src, name in RESULTS_COLUMNS.items():
        if f"{name}_{suffix}" in particles.columns:
            table[src] = particles[f"{name}_{suffix}"].to_numpy()
    for src, name in _UNITLESS.items():
        if name in particles.columns:
            table[src] = particles[name].to_numpy()
    table.to_csv(path)
    return len(table)
