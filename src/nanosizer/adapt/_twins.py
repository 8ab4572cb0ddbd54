"""Where the transmission twins of SEM images are, and how TrakEM2 registered them.

Re-exported by :mod:`nanosizer.adapt.transmission`, whose pairs these files feed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["find_transmission_twins", "read_trakem2_translation"]


def read_trakem2_translation(path: str | Path) -> tuple[float, float]:
    """Total translation (dx, dy) of a TrakEM2 transform file (sum of its TranslationModel2D).

    Affine models must be pure translations (identity linear part); anything else raises
    :class:`~nanosizer.errors.InputError`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read TrakEM2 transform ({exc})") from None
    dx = dy = 0.0
    for cls, data in re.findall(r'class="[\w.]*\.(\w+)"\s+data="([^"]*)"', text):
        values = [float(v) for v in data.split()]
        if cls == "TranslationModel2D" and len(values) == 2:
            dx, dy = dx + values[0], dy + values[1]
        elif cls == "AffineModel2D" and len(values) == 6 and np.allclose(values[:4], [1, 0, 0, 1]):
            dx, dy = dx + values[4], dy + values[5]
        else:
            raise InputError(f"{path}: only translations are supported, found {cls} {data!r}")
    return dx, dy


def find_transmission_twins(
    sem_paths: list[Path], folder: str | Path, step: int = 1
) -> dict[Path, Path]:
    """Transmission twin of each SEM file: same name with its trailing number + ``step``.

    ``sem/1908256.tif`` pairs with ``<folder>/1908257.tif`` (any supported extension).  SEM
    files without a twin are left out of the result.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"transmission folder {folder} does not exist; give the TSEM/TEM folder")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.is_file()}
    twins = {}
    for path in sem_paths:
        match = re.fullmatch(r"(.*?)(\d+)", Path(path).stem)
        if match is None:
            continue
        prefix, number = match.groups()
        stem = f"{prefix}{int(number) + step:0{len(number)}d}"
        if stem in files:
            twins[Path(path)] = files[stem]
    return twins
