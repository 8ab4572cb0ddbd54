"""What a labels folder knows about its images: an ``analyze`` results folder or a ``synth`` set.

An ``analyze`` results folder holds ``run.json`` (pixel size and info-bar rows per image) beside
``labels/``; a ``synth`` data set holds ``truth.csv`` (pixel size per image) beside ``labels/``.
Comparing or scoring such a folder must use the same calibration and analysed region as the
run that made it, or the sizes silently differ from the run's own report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["ImageFacts", "folder_facts", "labels_folder"]


@dataclass(frozen=True)
class ImageFacts:
    """Calibration and analysed region of one image, as recorded beside its labels.

    Attributes
    ----------
    pixel_size_nm : float or None
        Pixel size, None when the image was uncalibrated.
    infobar_top : int or None
        First info-bar row (left out of the analysis), None without an info bar.
    shape : (int, int) or None
        Image (height, width), when recorded.
    """

    pixel_size_nm: float | None = None
    infobar_top: int | None = None
    shape: tuple[int, int] | None = None

    def mask(self, shape: tuple[int, int]) -> np.ndarray | None:
        """(H, W) bool analysis region (False in the info bar), None without an info bar."""
        if self.infobar_top is None:
            return None
        mask = np.ones(shape, dtype=bool)
        mask[self.infobar_top:] = False
        return mask


def labels_folder(folder: Path) -> Path:
    """The folder holding the per-image label files of ``folder``.

    ``labels/`` of an ``analyze`` results folder (``run.json`` beside it) or of a ``synth``
    data set (``truth.csv`` beside it), and of any folder holding no label files itself;
    otherwise ``folder``.
    """
    sub = folder / "labels"
    if not sub.is_dir():
        return folder
    if (folder / "run.json").is_file() or (folder / "truth.csv").is_file():
        return sub
    from ._truth import LABEL_SUFFIXES

    if not any(p.is_file() and p.suffix.lower() in LABEL_SUFFIXES for p in folder.iterdir()):
        return sub
    return folder


def _from_run_json(path: Path) -> dict[str, ImageFacts]:
    try:
        doc = json.loads(path.read_text())
        facts = {}
        for image in doc["images"]:
            size = image["pixel_size"]
            rows = image.get("infobar_rows")
            facts[str(image["name"])] = ImageFacts(
                float(size["value"]) if size.get("unit") == "nm" else None,
                None if rows is None else int(rows[0]),
                tuple(int(v) for v in image["shape"]) if image.get("shape") else None,
            )
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"{path}: not a readable analyze run.json ({exc}); run analyze "
                         "again or point at the labels/ folder") from None
    return facts


def _from_truth_csv(path: Path) -> dict[str, ImageFacts]:
    import pandas as pd

    try:
        table = pd.read_csv(path, usecols=["image", "pixel_size_nm"])
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read image and pixel_size_nm columns ({exc})") from None
    sizes = table.groupby("image")["pixel_size_nm"].first()
    return {str(name): ImageFacts(float(nm) if np.isfinite(nm) and nm > 0 else None)
            for name, nm in sizes.items()}


def folder_facts(path: str | Path) -> dict[str, ImageFacts]:
    """Per-image calibration recorded beside a labels folder (empty when there is none).

    Parameters
    ----------
    path : str or Path
        An ``analyze`` results folder (its ``run.json``), a ``synth`` data set (its
        ``truth.csv``), their ``labels/`` subfolder, or anything else (no facts).

    Returns
    -------
    dict
        Image stem -> :class:`ImageFacts`.
    """
    path = Path(path)
    if not path.is_dir():
        return {}
    if path.name == "labels" and not (path / "run.json").is_file():
        path = path.parent
    if (path / "run.json").is_file() and (path / "labels").is_dir():
        return _from_run_json(path / "run.json")
    if (path / "truth.csv").is_file() and (path / "labels").is_dir():
        return _from_truth_csv(path / "truth.csv")
    return {}
