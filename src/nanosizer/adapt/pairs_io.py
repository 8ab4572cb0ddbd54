"""Training pairs on disk: export for hand correction, import back.

Layout of a pairs folder (the ``images`` + ``labels`` layout that training reads)::

    <folder>/images/<name>.tif     grey image (float32 TIFF)
    <folder>/labels/<name>.tif     instance labels (uint16 TIFF, 0 = background)
    <folder>/preview/<name>.png    image with coloured particles, for viewing only

Correct ``labels/<name>.tif`` in any editor (Fiji, napari, GIMP): paint a particle with a new
grey value, erase with 0.  A corrected label file may also be saved as a PNG with one colour per
particle or as a binary mask (touching particles separated by a background line); a ``.png``
next to the ``.tif`` takes precedence when it is newer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from .transmission import TrainingPair

__all__ = ["export_pairs", "import_pairs", "label_colours"]

_MAX_LABEL = np.iinfo(np.uint16).max


def label_colours(labels: np.ndarray, rng: int | np.random.Generator = 0) -> np.ndarray:
    """(H, W, 3) uint8 image with one bright random colour per label and black background."""
    rng = np.random.default_rng(rng)
    n = int(labels.max())
    lut = np.zeros((n + 1, 3), np.uint8)
    lut[1:] = rng.integers(60, 256, size=(n, 3), dtype=np.uint8)
    return lut[labels]


def _preview(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from ..report.overlay import to_uint8

    grey = to_uint8(image).astype(np.float32)[..., None]
    colours = label_colours(labels).astype(np.float32)
    blend = np.where(labels[..., None] > 0, 0.6 * grey + 0.4 * colours, grey)
    return np.clip(blend, 0, 255).astype(np.uint8)


def export_pairs(folder: str | Path, pairs: Sequence[TrainingPair], preview: bool = True) -> Path:
    """Write training pairs as ``images/``, ``labels/`` (and ``preview/``) under ``folder``.

    Parameters
    ----------
    folder : str or Path
        Created if needed; files of the same names are replaced.
    pairs : sequence of TrainingPair
        Names must be unique.
    preview : bool
        Also write colour previews.

    Returns
    -------
    folder : Path
    """
    import imageio.v3 as iio
    import tifffile

    names = [p.name for p in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"pair names must be unique, got {names}")
    folder = Path(folder)
    for sub in ("images", "labels") + (("preview",) if preview else ()):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for pair in pairs:
        if pair.labels.max() > _MAX_LABEL:
            raise ValueError(f"{pair.name}: more than {_MAX_LABEL} particles cannot be exported")
        tifffile.imwrite(folder / "images" / f"{pair.name}.tif", pair.image.astype(np.float32))
        tifffile.imwrite(folder / "labels" / f"{pair.name}.tif", pair.labels.astype(np.uint16))
        if preview:
            iio.imwrite(folder / "preview" / f"{pair.name}.png", _preview(pair.image, pair.labels))
    return folder


def _label_file(labels_dir: Path, name: str) -> Path | None:
    candidates = [p for p in (labels_dir / f"{name}.tif", labels_dir / f"{name}.tiff",
                              labels_dir / f"{name}.png") if p.is_file()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime)


def import_pairs(folder: str | Path) -> list[TrainingPair]:
    """Read the pairs of a folder written by :func:`export_pairs` (possibly hand-corrected).

    Every image needs a label file of the same name and shape; labels are renumbered 1..N.

    Returns
    -------
    pairs : list of TrainingPair
        In name order.
    """
    import tifffile

    from ..evaluate import read_label_image
    from ..segment import relabel_min_area

    folder = Path(folder)
    images = sorted((folder / "images").glob("*.tif")) if (folder / "images").is_dir() else []
    if not images:
        raise InputError(f"{folder}: no images/*.tif; give a folder written by export_pairs")
    pairs = []
    for path in images:
        label_path = _label_file(folder / "labels", path.stem)
        if label_path is None:
            raise InputError(f"{path}: no labels/{path.stem}.tif or .png; add or remove the image")
        image = np.asarray(tifffile.imread(path), np.float32)
        labels = read_label_image(label_path)
        if labels.shape != image.shape:
            raise InputError(f"{label_path}: shape {labels.shape} differs from its image "
                             f"{image.shape}; keep the label image the size of the image")
        pairs.append(TrainingPair(image, relabel_min_area(labels, 1), path.stem))
    return pairs
