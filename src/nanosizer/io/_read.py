"""``read_micrograph``: any supported file to a calibrated grey :class:`Micrograph`."""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Literal, Union

from .. import choices
from ..errors import InputError
from ._calibration import PixelSize
from ._formats import DEFAULT_MAX_PIXELS, FORMATS, decode
from ._grey import to_grey_float32
from ._infobar import detect_infobar
from ._metadata import calibration_from_sidecar
from ._micrograph import Micrograph
from ._scalebar import ScaleBar, read_scale_bar

__all__ = ["read_micrograph", "read_pixel_size"]

PixelSizeLike = Union[str, float, PixelSize, None]
InfobarLike = Union[Literal["auto", "none"], int, None]
ScaleBarLike = Literal["auto", "always", "none"]
SCALE_BAR_MODES = choices.SCALE_BAR_MODES

DISAGREEMENT = 0.02  # metadata and scale bar differing by more than this give a warning
_MAX_READINGS = 256  # scale-bar readings remembered (per file) in a process
_READINGS: OrderedDict[tuple, ScaleBar] = OrderedDict()

_BARE_NUMBER = re.compile(r"^\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*$")


def read_micrograph(
    path: str | os.PathLike,
    pixel_size: PixelSizeLike = None,
    infobar: InfobarLike = "auto",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    scale_bar: ScaleBarLike = "auto",
) -> Micrograph:
    """Read a micrograph, its pixel size, its info bar and its scale bar.

    Parameters
    ----------
    path : str or path-like
        TIFF (8/16/32-bit, float, palette, RGB/RGBA; Zeiss, FEI/Thermo, JEOL, Hitachi, TESCAN,
        ImageJ, DigitalMicrograph calibrations), PNG, JPEG, BMP, DM3/DM4, EMD, SER or MRC.
    pixel_size : str, float, PixelSize or None, optional
        Overrides the file's calibration: text such as ``"7.34 nm"`` or ``"0.5 um"`` (text
        without a unit is nm, and its source says so), a number of nanometres, or a
        PixelSize.  None uses the file's metadata (embedded, then a vendor sidecar file), then
        the scale bar burnt into the image; without any the image is uncalibrated (results
        in pixels).
    infobar : {"auto", "none"} or int, optional
        ``"auto"`` detects a microscope info bar at the bottom (:func:`detect_infobar`),
        ``"none"`` (or None) assumes there is none, an int is the first row of the bar.
    max_pixels : int or None, optional
        Largest image (height x width) accepted, checked from the file's header before any
        pixel is decoded (EM formats: after decoding); None: no limit.  The default, 2**28
        px, fits a machine with 24 GB of memory.
    scale_bar : {"auto", "always", "none"}, optional
        ``"auto"`` (default) finds the scale bar and reads its label (:func:`read_scale_bar`)
        when neither ``pixel_size`` nor the metadata gives the pixel size: the bar then
        calibrates the image, and bar and label are left out of the analysis.  ``"always"``
        reads it on every image: it is also left out of the analysis of calibrated images,
        and when metadata and bar differ by more than 2 %, ``metadata["calibration_warning"]``
        gives both.  ``"none"`` never looks for it.

    Returns
    -------
    Micrograph
        ``data`` is (H, W) float32 on the file's own grey scale: colour is converted to luma,
        palettes are applied, stacks give their first frame (``metadata["frame_used"]``), and
        NaN/inf pixels are replaced by the median of the others
        (``metadata["nonfinite_pixels_filled"]``).

    Raises
    ------
    InputError
        Missing, unreadable, empty, unsupported, damaged, truncated, too small (< 8x8) or too
        large (``max_pixels``) files, files with no finite pixel, unreadable pixel sizes and
        info-bar rows outside the image.
    """
    path = Path(path)
    user_size = _user_pixel_size(pixel_size)
    _check_file(path)
    try:
        pixels, file_size, metadata = decode(path, max_pixels)
    except (InputError, MemoryError):
        raise
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the file readable") from None
    except ImportError as exc:
        fmt = FORMATS[path.suffix.lower()][0]
        raise InputError(
            f"{path}: reading {fmt} files needs the Python package {exc.name!r}; "
            f"install it (pip install {exc.name}) or export the image as TIFF"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad file
        fmt = FORMATS[path.suffix.lower()][0]
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{path}: cannot read it as {fmt} ({reason}); the file is damaged, truncated or not "
            f"really a {fmt} image - export or copy it again"
        ) from None
    data = to_grey_float32(pixels, path, metadata)
    if file_size is None:
        file_size = calibration_from_sidecar(path)
    if user_size is not None and file_size is not None:
        metadata["file_pixel_size_nm"] = file_size.nm
    infobar_top = _infobar_top(infobar, data, path, metadata)
    bar = _scale_bar(scale_bar, path, data, metadata,
                     needed=user_size is None and file_size is None)
    size = choose_pixel_size(user_size, file_size, bar, metadata)
    return Micrograph(data, size, path, infobar_top, metadata, scale_bar=bar)


def choose_pixel_size(user: PixelSize | None, file: PixelSize | None, bar: ScaleBar | None,
                      metadata: dict) -> PixelSize:
    """The pixel size to use: the user's, else the file's metadata, else the scale bar's.

    Parameters
    ----------
    user, file : PixelSize or None
        From ``--pixel-size`` and from the file's metadata.
    bar : ScaleBar or None
        The scale-bar reading (None when not looked for).
    metadata : dict
        Reader metadata; receives ``calibration_warning`` when the metadata and a read scale
        bar differ by more than 2 %, and ``scale_bar_pixel_size_nm`` when a read bar is not
        the source used.

    Returns
    -------
    PixelSize

    Examples
    --------
    >>> meta = {}
    >>> choose_pixel_size(None, PixelSize(7.34, "metadata"), None, meta).source
    'metadata'
    """
    bar_nm = bar.pixel_size_nm if bar is not None else None
    if bar_nm is not None and (user is not None or file is not None):
        metadata["scale_bar_pixel_size_nm"] = bar_nm
    if bar_nm is not None and file is not None and file.nm is not None:
        diff = abs(bar_nm - file.nm) / file.nm
        if diff > DISAGREEMENT:
            used = "--pixel-size" if user is not None else "the metadata"
            metadata["calibration_warning"] = (
                f"metadata gives {file.nm:g} nm/px but the scale bar {bar.describe()} "
                f"({diff:.1%} apart); {used} is used - check which is right")
    if user is not None:
        return user
    if file is not None:
        return file
    if bar_nm is not None:
        return PixelSize(bar_nm, f'scale bar ("{bar.label}" = {bar.bar.length_px:.2f} px)')
    return PixelSize(None, "none")


def _scale_bar(mode: ScaleBarLike, path: Path, data, metadata: dict,
               needed: bool) -> ScaleBar | None:
    """The scale-bar reading ``mode`` asks for (recorded in ``metadata``), or None."""
    if mode not in SCALE_BAR_MODES:
        raise InputError(f"scale_bar must be 'auto', 'always' or 'none', got {mode!r}")
    if mode == "none":
        metadata["scale_bar"] = {"status": "not looked for (disabled)"}
        return None
    if mode == "auto" and not needed:
        metadata["scale_bar"] = {"status": "not looked for (pixel size known)"}
        return None
    bar = _bar_reading(path, data)
    metadata["scale_bar"] = bar.to_dict()
    return bar


def _bar_reading(path: Path, data) -> ScaleBar:
    """``read_scale_bar(data)``, remembered per file (path, size, modification time).

    ``analyze`` checks a batch's calibration before segmenting it, then reads every image
    again: each bar is read (OCR) once.
    """
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return read_scale_bar(data)
    if key in _READINGS:
        _READINGS.move_to_end(key)
        return _READINGS[key]
    bar = _READINGS[key] = read_scale_bar(data)
    while len(_READINGS) > _MAX_READINGS:
        _READINGS.popitem(last=False)
    return bar


def read_pixel_size(path: str | os.PathLike,
                    max_pixels: int | None = DEFAULT_MAX_PIXELS,
                    scale_bar: ScaleBarLike = "auto") -> PixelSize:
    """The pixel size a file's metadata (embedded, then a vendor sidecar) or scale bar gives.

    Reads the file like :func:`read_micrograph` (same errors), converting the pixels only when
    the metadata has no pixel size and the scale bar must be read, so that a batch can be
    checked for mixed calibration before any image is segmented.

    Returns
    -------
    PixelSize
        Uncalibrated (``nm`` None) when neither the metadata nor a scale bar gives one.
    """
    path = Path(path)
    _check_file(path)
    try:
        _, file_size, _ = decode(path, max_pixels)
    except Exception:  # noqa: BLE001 - read_micrograph gives the proper message
        file_size = None
    else:
        file_size = file_size or calibration_from_sidecar(path)
        if file_size is not None:
            return file_size
        if scale_bar == "none":
            return PixelSize(None, "none")
    return read_micrograph(path, infobar="none", max_pixels=max_pixels,
                           scale_bar=scale_bar).pixel_size


def _check_file(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except PermissionError:
        raise InputError(
            f"{path}: permission denied (its folder cannot be searched); make it readable"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open it ({exc.strerror or exc}); check the path") from None
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give an image file (or pass folders to analyze)")
    if path.suffix.lower() not in FORMATS:
        known = ", ".join(sorted({ext.lstrip(".") for ext in FORMATS}))
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            f"give an image file ({known})"
        )
    if info.st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes); copy the image again")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied; make the file readable")


def _user_pixel_size(value: PixelSizeLike) -> PixelSize | None:
    if value is None or isinstance(value, PixelSize):
        return value
    if isinstance(value, str):
        try:
            bare = _BARE_NUMBER.match(value) is not None
            return PixelSize.parse(value, source="user (no unit: taken as nm)" if bare else "user")
        except ValueError as exc:
            raise InputError(f"pixel size: {exc}") from None
    try:
        return PixelSize(float(value), "user")
    except (TypeError, ValueError):
        raise InputError(
            f"pixel size must be a positive length such as '7.34 nm' or a number of nm, "
            f"got {value!r}"
        ) from None


def _infobar_top(infobar: InfobarLike, data, path: Path, metadata: dict) -> int | None:
    height = data.shape[0]
    if infobar is None or infobar == "none":
        metadata["infobar"] = "none (disabled)"
        return None
    if infobar == "auto":
        top = detect_infobar(data)
        metadata["infobar"] = "detected" if top is not None else "none detected"
        return top
    if isinstance(infobar, bool) or not isinstance(infobar, (int,)) and not hasattr(
        infobar, "__index__"
    ):
        raise InputError(f"infobar must be 'auto', 'none' or a row number, got {infobar!r}")
    row = int(infobar)
    if not 0 < row <= height:
        raise InputError(
            f"{path}: info bar row {row} is outside the image (height {height}); "
            f"give a row between 1 and {height}, or 'none'"
        )
    metadata["infobar"] = "user"
    return None if row == height else row
