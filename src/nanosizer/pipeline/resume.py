"""What lets an interrupted ``analyze`` continue: the run's identity and its finished images.

Both live in ``state/`` of the run's work folder (:class:`nanosizer.io.WorkDir`):

- ``run.json``: nanosizer's version, the settings, the model's weights checksum and the images,
  written before any image is analysed; ``--resume`` refuses a run that differs from it.
- ``images/<stem>.json``: one per finished image, written atomically (fsynced) once its label
  image and overlay are in ``results/``: the file's size and modification time, its
  :class:`~nanosizer.pipeline.ImageRecord` and its particle table with exact dtypes and values
  (floats as their shortest round-trip text), so the final tables, histogram and pooled
  statistics of a resumed run equal those of an uninterrupted one.

Images that failed leave no record: a resumed run tries them again.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .config import AnalyzeConfig

__all__ = ["IDENTITY_NAME", "IMAGES_DIR", "count_done", "load_images", "run_identity", "save_image",
           "start_or_check"]

#: The run's identity inside ``state/``.
IDENTITY_NAME = "run.json"
#: Folder of the finished images' records inside ``state/``.
IMAGES_DIR = "images"

# AnalyzeConfig field -> the analyze option that sets it (fields without one are named as is).
_OPTIONS = {
    "method": "--method", "model": "--model", "measure": "--measure",
    "pixel_size": "--pixel-size", "infobar": "--infobar", "scale_bar": "--scale-bar",
    "include_border": "--include-border", "min_area_px": "--min-area", "zoom": "--zoom",
    "decoder": "--decoder", "seed": "--seed", "excel": "--excel", "overlays": "--no-overlays",
    "max_pixels": "--max-pixels", "overlay_ids": "--overlay-ids", "report": "--no-report",
    "roi": "--roi",
}


def _plain(obj: Any) -> Any:
    """JSON fallback for NumPy scalars and arrays and paths (``json.dumps(default=...)``)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=_plain, ensure_ascii=False) + "\n"


def run_identity(config: AnalyzeConfig, files: Sequence[Path]) -> dict:
    """What a resumed run must share with the interrupted one.

    Parameters
    ----------
    config : AnalyzeConfig
        The run's settings.
    files : sequence of Path
        The images, in order.

    Returns
    -------
    dict
        ``nanosizer_version``, ``settings`` (:meth:`AnalyzeConfig.to_dict`),
        ``weights_sha256`` of the model (None for the classical method) and ``images``
        (absolute paths), as plain JSON values.
    """
    from .. import __version__
    from .provenance import model_record

    weights = model_record(config.method, config.model, config.zoom)["weights_sha256"]
    identity = {"nanosizer_version": __version__, "settings": config.to_dict(),
                "weights_sha256": weights, "images": [os.path.abspath(p) for p in files]}
    return json.loads(_dumps(identity))


def _more(items: list, shown: str) -> str:
    return shown if len(items) == 1 else f"{shown} (and {len(items) - 1} more)"


def _difference(saved: dict, current: dict) -> str | None:
    """The first way ``current`` differs from ``saved``, as a phrase; None when the same."""
    old, new = saved.get("nanosizer_version"), current["nanosizer_version"]
    if old != new:
        return f"it was started by nanosizer {old}, this is {new}"
    before = saved.get("settings", {})
    for key, value in current["settings"].items():
        if key not in before or before[key] != value:
            option = _OPTIONS.get(key)
            name = f"{key} ({option})" if option else key
            was = repr(before[key]) if key in before else "not set"
            return f"setting {name} was {was} when it started, now {value!r}"
    if saved.get("weights_sha256") != current["weights_sha256"]:
        return "the model's weights changed since it started"
    old_images, new_images = list(saved.get("images", [])), current["images"]
    added = [p for p in new_images if p not in set(old_images)]
    if added:
        return _more(added, f"{added[0]} was not one of its images")
    missing = [p for p in old_images if p not in set(new_images)]
    if missing:
        return _more(missing, f"its image {missing[0]} is not given")
    if old_images != new_images:
        return "its images are given in another order"
    return None


def start_or_check(state: Path, identity: dict, out: str | os.PathLike) -> None:
    """Record ``identity`` in a new work folder, or check it against the interrupted run's.

    Parameters
    ----------
    state : Path
        The work folder's ``state/``.
    identity : dict
        :func:`run_identity` of this run.
    out : path-like
        Results folder (for the message).

    Raises
    ------
    InputError
        One line naming the first difference (a setting, the model, the images) from the run
        being resumed; nothing is changed.
    """
    from ..io import atomic_write_text

    path = state / IDENTITY_NAME
    if not path.exists():  # a new run (or one stopped before it started an image)
        (state / IMAGES_DIR).mkdir(exist_ok=True)
        atomic_write_text(path, _dumps(identity))
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if isinstance(saved, dict) and "nanosizer_version" in saved:
        difference = _difference(saved, identity)
    else:
        difference = f"its record {path} is damaged"
    if difference is not None:
        raise InputError(f"cannot resume the unfinished run into {out}: {difference}; resume "
                         "it with the same images and settings, or start over with --overwrite "
                         "instead of --resume")


def save_image(state: Path, source: Path, record, table: pd.DataFrame) -> None:
    """Record that ``source`` is done: its :class:`ImageRecord` and particle table.

    Call it only once the image's files are in the work folder's ``results/``.
    """
    from ..io import atomic_write_text

    stat = os.stat(source)
    columns = [str(c) for c in table.columns]
    doc = {
        "file": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "record": dataclasses.asdict(record),
        "table": {"columns": columns, "dtypes": [str(t) for t in table.dtypes],
                  "data": [table[c].tolist() for c in table.columns]},
    }
    atomic_write_text(state / IMAGES_DIR / f"{record.name}.json", _dumps(doc))


def _table(doc: dict) -> pd.DataFrame:
    columns, dtypes, data = doc["columns"], doc["dtypes"], doc["data"]
    return pd.DataFrame({c: pd.Series(v, dtype=t) for c, t, v in zip(columns, dtypes, data)},
                        columns=columns)


def _load_one(path: Path, source: Path, results: Path, outputs: Sequence[str]):
    """``(record, table)`` of a finished image, or None when it must be analysed again.

    Again: the record is unreadable, the image file changed since, or one of its result files
    is missing.
    """
    from .run import ImageRecord

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        stat = os.stat(source)
        if (doc["file"]["size"], doc["file"]["mtime_ns"]) != (stat.st_size, stat.st_mtime_ns):
            return None
        if not all((results / name).is_file() for name in outputs):
            return None
        fields = dict(doc["record"])
        fields.update(path=str(source), shape=tuple(fields["shape"]))
        return ImageRecord(**fields), _table(doc["table"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_images(state: Path, results: Path, files: Sequence[Path], config: AnalyzeConfig
                ) -> dict[str, tuple]:
    """The images an interrupted run finished, by stem; records of the others are removed.

    Parameters
    ----------
    state : Path
        The work folder's ``state/``.
    results : Path
        The work folder's ``results/`` (the images' label and overlay files).
    files : sequence of Path
        This run's images.
    config : AnalyzeConfig
        Settings (which result files each image has).

    Returns
    -------
    dict
        ``stem -> (ImageRecord, particle table)``, as the analysis returned them.
    """
    from .outputs import image_outputs

    by_stem = {p.stem: p for p in files}
    done: dict[str, tuple] = {}
    folder = state / IMAGES_DIR
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        source = by_stem.get(path.stem) if path.suffix == ".json" else None
        loaded = None if source is None else _load_one(
            path, source, results, image_outputs(config, path.stem))
        if loaded is None:  # a temporary file, a stale or damaged record
            path.unlink()
        else:
            done[path.stem] = loaded
    return done


def count_done(state: Path) -> int:
    """Number of finished images recorded in ``state/``."""
    folder = state / IMAGES_DIR
    return sum(1 for p in folder.glob("*.json")) if folder.is_dir() else 0
