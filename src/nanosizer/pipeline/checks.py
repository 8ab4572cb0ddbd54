"""What ``analyze`` checks before (and after) the work: names, calibration, model, units.

Each check raises :class:`~nanosizer.errors.InputError` naming the file and the fix, before any
image is segmented where it can.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, NanosizerWarning
from .config import AnalyzeConfig

if TYPE_CHECKING:
    from .run import ImageRecord

__all__ = ["check_calibration", "check_model", "check_unique_stems", "common_unit"]


def check_unique_stems(paths: Sequence[Path]) -> None:
    """InputError when two files share a name stem (their results would collide)."""
    seen: dict[str, Path] = {}
    for p in paths:
        if p.stem in seen:
            raise InputError(
                f"{p} and {seen[p.stem]} have the same name {p.stem!r}, so their results would "
                "overwrite each other; analyse them in separate runs"
            )
        seen[p.stem] = p


def check_calibration(paths: Sequence[Path], config: AnalyzeConfig) -> AnalyzeConfig:
    """The settings to run with; InputError before any segmentation when calibrated and
    uncalibrated files are mixed.

    With the default ``scale_bar="auto"``, a batch in which only scale bars calibrate some
    images and the others have no readable bar is analysed in pixels (scale bars off, with a
    warning naming the unread images): a folder of images without metadata, some bars
    unreadable, keeps giving one pooled distribution instead of stopping.
    """
    if config.pixel_size is not None or len(paths) < 2:
        return config
    from ..io import read_pixel_size

    by_bar: list[Path] = []
    by_metadata: list[Path] = []
    raw: list[Path] = []
    for path in paths:
        try:
            size = read_pixel_size(path, config.max_pixels, config.scale_bar)
        except InputError:
            continue  # reported with the other failures when the image is analysed
        if not size.calibrated:
            raw.append(path)
        elif size.source.startswith("scale bar"):
            by_bar.append(path)
        else:
            by_metadata.append(path)
    if not raw or not (by_bar or by_metadata):
        return config
    if config.scale_bar == "auto" and not by_metadata:
        warnings.warn(
            f"the scale bar of {len(raw)} of {len(raw) + len(by_bar)} images could not be read "
            f"(e.g. {raw[0]}), so no image is calibrated by its bar and all sizes are in px; "
            "pass --pixel-size to calibrate them", NanosizerWarning, stacklevel=3)
        return replace(config, scale_bar="none")
    calibrated = (by_metadata or by_bar)[0]
    raise InputError(
        f"{raw[0]} has no pixel size while {calibrated} has one, so sizes cannot be "
        "pooled; pass --pixel-size (or --scale-bar none) or analyse it separately"
    )


def check_model(config: AnalyzeConfig) -> None:
    """InputError before any image is read when the CNN model folder is not a valid model
    (or lacks the outputs ``config.decoder`` needs)."""
    if config.method == "classical":
        return
    from ..nn import load_model
    from ..segment.cnn import decoder_thresholds, resolve_model

    load_model(resolve_model(config.model or config.method), device="cpu")
    if config.decoder is not None:
        decoder_thresholds(config.model or config.method, config.decoder)


def common_unit(records: Sequence[ImageRecord]) -> str:
    """The length unit all records share (InputError when px and nm are mixed)."""
    units = {r.pixel_size["unit"] for r in records}
    if len(units) > 1:
        raw = next(r for r in records if r.pixel_size["unit"] == "px")
        raise InputError(
            f"{raw.path} has no pixel size while other images do, so sizes cannot be pooled; "
            "pass --pixel-size (or --scale-bar none) or analyse it separately"
        )
    return units.pop() if units else "px"
