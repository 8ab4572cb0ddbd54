"""Pixel size with its unit and where it came from."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["PixelSize", "parse_length_nm"]

# Factors from a length unit to nanometres.  Keys are lower-case.
_UNIT_TO_NM = {
    "pm": 1e-3,
    "a": 0.1,
    "å": 0.1,
    "angstrom": 0.1,
    "nm": 1.0,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,
    "micron": 1e3,
    "mm": 1e6,
    "m": 1e9,
}

_LENGTH_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-zÅµμ]*)\s*(?:/\s*px)?\s*$")


def parse_length_nm(text: str, default_unit: str = "nm") -> float:
    """Parse a length such as ``"7.34 nm"``, ``"0.5 µm"`` or ``"3 Å"`` into nanometres.

    Parameters
    ----------
    text : str
        A positive number followed by an optional unit: pm, Å (or A), nm, um/µm, mm, m.
    default_unit : str, optional
        Unit assumed when ``text`` has none.

    Returns
    -------
    float
        The length in nanometres.

    Raises
    ------
    ValueError
        If the text is not a positive finite length with a known unit.

    Examples
    --------
    >>> parse_length_nm("7.34 nm")
    7.34
    >>> parse_length_nm("0.5 um")
    500.0
    >>> parse_length_nm("2 Å")
    0.2
    """
    match = _LENGTH_RE.match(str(text))
    if match is None:
        raise ValueError(
            f"cannot read length {text!r}; write a number and a unit, e.g. '7.34 nm' or '0.5 um'"
        )
    value = float(match.group(1))
    unit = (match.group(2) or default_unit).lower()
    if unit not in _UNIT_TO_NM:
        known = ", ".join(["pm", "Å", "nm", "um", "µm", "mm", "m"])
        raise ValueError(f"unknown length unit {match.group(2)!r} in {text!r}; use one of {known}")
    nm = value * _UNIT_TO_NM[unit]
    if not math.isfinite(nm) or nm <= 0:
        raise ValueError(f"length {text!r} must be positive")
    return float(round(nm, 12))


@dataclass(frozen=True)
class PixelSize:
    """Edge length of one (square) pixel.

    Parameters
    ----------
    nm : float or None
        Pixel size in nanometres, or None for an uncalibrated image (results in pixels).
    source : str
        Where the value came from, e.g. ``"metadata (Zeiss CZ_SEM)"``, ``"user (--pixel-size)"``
        or ``"none"``.

    Examples
    --------
    >>> PixelSize.parse("7.34375 nm").unit
    'nm'
    >>> PixelSize(None).unit
    'px'
    """

    nm: float | None = None
    source: str = "none"

    def __post_init__(self) -> None:
        if self.nm is not None and (not math.isfinite(self.nm) or self.nm <= 0):
            raise ValueError(f"pixel size must be a positive number of nm, got {self.nm!r}")

    @classmethod
    def parse(cls, text: str, source: str = "user (--pixel-size)") -> "PixelSize":
        """Build a pixel size from text such as ``"7.34 nm"`` (see :func:`parse_length_nm`)."""
        return cls(parse_length_nm(text), source)

    @property
    def calibrated(self) -> bool:
        """True when the pixel size is known."""
        return self.nm is not None

    @property
    def unit(self) -> str:
        """Length unit of measurements: ``"nm"`` when calibrated, else ``"px"``."""
        return "nm" if self.calibrated else "px"

    @property
    def scale(self) -> float:
        """Length of one pixel in :attr:`unit` (1.0 when uncalibrated)."""
        return float(self.nm) if self.nm is not None else 1.0

    def to_dict(self) -> dict:
        """JSON-ready description, as written to run.json."""
        return {"value": self.nm, "unit": "nm" if self.calibrated else "px", "source": self.source}
