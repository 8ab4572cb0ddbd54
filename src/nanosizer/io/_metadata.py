"""Pixel size from file metadata: RosettaSciIO axes and vendor sidecar files.

RosettaSciIO reads the calibration of DM3/DM4, EMD, SER and of TIFFs from Zeiss (CZ_SEM tag),
FEI/Thermo, JEOL SightX, Olympus SIS, TVIPS, ImageJ and DigitalMicrograph.  It does not know the
plain-text files that Hitachi (``<stem>.txt``), JEOL SEM (``<stem>.txt``) and TESCAN
(``<stem>-tif.hdr`` or ``<stem>.hdr``, also embedded in TIFF tag 50431) write beside the image, so
those few ``key=value`` lines are read here.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ._calibration import _UNIT_TO_NM, PixelSize, parse_length_nm

__all__ = ["calibration_from_axes", "calibration_from_sidecar", "calibration_from_tescan_text"]

# Units that mean "not a length": the axis is uncalibrated.
_NO_UNIT = {"", "px", "pixel", "pixels", "<undefined>", "undefined", "none", "t.u."}


def unit_to_nm(unit: str | None) -> float | None:
    """Nanometres per ``unit``, or None when the unit is not a length (pixels, 1/nm, ...)."""
    if unit is None:
        return None
    key = str(unit).strip().lower()
    if key in _NO_UNIT:
        return None
    return _UNIT_TO_NM.get(key)


def calibration_from_axes(axes: list[dict], source: str) -> PixelSize | None:
    """Pixel size from RosettaSciIO axis dictionaries, or None when not a real calibration.

    Parameters
    ----------
    axes : list of dict
        RosettaSciIO ``axes`` (keys ``scale``, ``units``, ``navigate``), in data order.
    source : str
        Description of where the metadata came from, e.g. ``"metadata (Zeiss CZ_SEM)"``.

    Returns
    -------
    PixelSize or None
        None when the signal axes have no length unit (pixels, undefined, reciprocal space) or
        a non-positive scale.  The horizontal (last) axis gives the value.
    """
    signal = [ax for ax in axes if not ax.get("navigate", False)]
    if len(signal) < 2:
        return None
    x_axis = signal[-1]
    factor = unit_to_nm(x_axis.get("units"))
    scale = x_axis.get("scale")
    if factor is None or scale is None:
        return None
    nm = float(scale) * factor
    if not math.isfinite(nm) or nm <= 0:
        return None
    return PixelSize(float(f"{nm:.10g}"), source)


def calibration_from_tescan_text(text: str, source: str) -> PixelSize | None:
    """Pixel size from a TESCAN header (``PixelSizeX=<metres>`` in the ``[MAIN]`` section)."""
    value = _ini_value(text, "PixelSizeX")
    return _positive(value, 1e9, source)


def _hitachi(text: str, source: str) -> PixelSize | None:
    # [SemImageFile] ... PixelSize=<nm>
    if "[SemImageFile]" not in text:
        return None
    return _positive(_ini_value(text, "PixelSize"), 1.0, source)


def _jeol_sem(text: str, source: str) -> PixelSize | None:
    # $CM_FORMAT JEOL/SEM ... $$SM_MICRON_BAR <px>  $$SM_MICRON_MARKER <length>
    if "JEOL" not in text.upper():
        return None
    bar = re.search(r"^\$+(?:CM|SM)_MICRON_BAR\s+([0-9.]+)", text, re.MULTILINE)
    marker = re.search(r"^\$+(?:CM|SM)_MICRON_MARKER\s+(\S+)", text, re.MULTILINE)
    if bar is None or marker is None:
        return None
    try:
        length_nm = parse_length_nm(marker.group(1), default_unit="um")
        bar_px = float(bar.group(1))
    except ValueError:
        return None
    return _positive(str(length_nm / bar_px) if bar_px > 0 else None, 1.0, source)


def calibration_from_sidecar(path: Path) -> PixelSize | None:
    """Pixel size from a Hitachi, JEOL SEM or TESCAN text file beside ``path``, if any.

    Parameters
    ----------
    path : Path
        The image file; candidates are ``<stem>.txt``, ``<stem>-<ext>.hdr`` and ``<stem>.hdr``.

    Returns
    -------
    PixelSize or None
    """
    ext = path.suffix.lstrip(".")
    candidates = [
        (path.with_suffix(".txt"), (("Hitachi", _hitachi), ("JEOL SEM", _jeol_sem))),
        (path.with_name(f"{path.stem}-{ext}.hdr"), (("TESCAN", calibration_from_tescan_text),)),
        (path.with_suffix(".hdr"), (("TESCAN", calibration_from_tescan_text),)),
    ]
    for sidecar, parsers in candidates:
        if sidecar == path or not sidecar.is_file() or sidecar.stat().st_size > 1_000_000:
            continue
        text = sidecar.read_text(encoding="utf-8", errors="replace")
        for vendor, parser in parsers:
            found = parser(text, f"metadata ({vendor} {sidecar.name})")
            if found is not None:
                return found
    return None


def _ini_value(text: str, key: str) -> str | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=\s*([^\s;]+)", text, re.MULTILINE)
    return match.group(1) if match else None


def _positive(value: str | None, factor: float, source: str) -> PixelSize | None:
    try:
        nm = float(value) * factor if value is not None else math.nan
    except ValueError:
        return None
    if not math.isfinite(nm) or nm <= 0:
        return None
    return PixelSize(float(f"{nm:.10g}"), source)
