"""Corrected images on disk: a results folder as ``analyze`` writes it, training pairs for
``adapt --pairs``, and opening a results folder again for more corrections."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .image_review import Filters, ImageReview

__all__ = ["load_results", "save_pairs", "save_results"]


def _review_record(review: ImageReview) -> dict:
    return {"corrected_by_hand": bool(review.corrections),
            "n_corrections": len(review.corrections), "corrections": review.corrections,
            "filters": review.filters.to_dict()}


def save_results(reviews: Sequence[ImageReview], out: str | Path, *,
                 overwrite: bool = False) -> Path:
    """Write the corrected images as one ``analyze`` results folder.

    The folder has the files and layout of ``nanosizer analyze`` (``particles.csv``,
    ``summary.csv``, ``labels/``, ``overlays/``, ``histogram.png``, ``report.html``,
    ``run.json``), from the corrected labels; each image's entry in ``run.json`` gains
    ``review`` (the corrections in order and the filters).  Written all or nothing.

    Parameters
    ----------
    reviews : sequence of ImageReview
        The images, with the settings of the first (they must share one unit).
    out : str or Path
        Results folder: absent or empty unless ``overwrite``.
    overwrite : bool
        Replace a folder of nanosizer results (never other files).

    Returns
    -------
    Path
        The results folder.
    """
    from ..pipeline import AnalysisResult, ImageRecord
    from ..pipeline.outputs import ResultWriter, write_image_outputs
    from ..pipeline.summary import summarize

    if not reviews:
        raise InputError(f"{out}: no images to save")
    units = {s.unit for s in reviews}
    if len(units) > 1:
        raise InputError(f"{out}: calibrated and uncalibrated images cannot be saved together; "
                         "give every image a pixel size or none")
    missing = [s.name for s in reviews if s.micrograph.path is None]
    if missing:
        raise InputError(f"{missing[0]}: the image has no file; save images read from files")
    config = reviews[0].config
    files = [Path(s.micrograph.path) for s in reviews]
    writer = ResultWriter(out, overwrite=overwrite, config=config, files=files)
    try:
        records = []
        for s in reviews:
            mg = s.micrograph
            write_image_outputs(writer.root, mg, s.labels, s.table, overlays=config.overlays,
                                ids=config.overlay_ids, roi=config.roi)
            records.append(ImageRecord(
                mg.name, str(mg.path), mg.shape, mg.pixel_size.to_dict(), mg.infobar_top,
                int(s.table.shape[0]), dict(mg.metadata), dict(s.segmentation),
                _review_record(s)))
        particles = pd.concat([s.table for s in reviews], ignore_index=True)
        unit = units.pop()
        summary = summarize(particles, records, config, unit)
        result = AnalysisResult(particles, summary, records, unit, config)
        return writer.finish(result)
    except BaseException:
        writer.abort()
        raise


def save_pairs(reviews: Sequence[ImageReview], folder: str | Path, *,
               overwrite: bool = False) -> Path:
    """Write the corrected images as training pairs for ``nanosizer adapt --pairs``.

    ``<folder>/images/<name>.tif`` (float32 grey, the analysed rows: the info bar is cut off) and
    ``<folder>/labels/<name>.tif`` (instance labels of the same rows).

    Parameters
    ----------
    reviews : sequence of ImageReview
    folder : str or Path
        Created if needed.  A pair file already there is refused unless ``overwrite``.
    overwrite : bool
        Replace pair files of the same names.

    Returns
    -------
    Path
        ``folder``.
    """
    import tifffile

    from ..io import atomic_write, write_label_image

    folder = Path(folder)
    targets = [folder / sub / f"{s.name}.tif" for s in reviews for sub in ("images", "labels")]
    taken = [t for t in targets if t.exists()]
    if taken and not overwrite:
        raise InputError(f"{taken[0]}: already exists; choose another folder or allow "
                         "overwriting")
    for sub in ("images", "labels"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for s in reviews:
        rows = s.micrograph.infobar_top or s.labels.shape[0]
        image = np.asarray(s.micrograph.data[:rows], np.float32)
        atomic_write(folder / "images" / f"{s.name}.tif",
                     lambda fh, image=image: tifffile.imwrite(fh, image))
        write_label_image(folder / "labels" / f"{s.name}.tif", s.labels[:rows])
    return folder


def load_results(folder: str | Path) -> list[ImageReview]:
    """Open an ``analyze`` (or saved review) results folder for more corrections.

    The images are read again from the paths in ``run.json`` with the run's settings, the
    labels from ``labels/``; a pixel size set during an earlier review is kept, and so are the
    earlier corrections and filters.

    Raises
    ------
    InputError
        When ``folder`` has no ``run.json``, or an image or its labels are missing.
    """
    from ..evaluate import read_label_image
    from ..io import PixelSize, read_micrograph
    from ..pipeline import AnalyzeConfig

    folder = Path(folder)
    run_path = folder / "run.json"
    if not run_path.is_file():
        raise InputError(f"{folder}: no run.json; open a folder written by nanosizer analyze")
    run = json.loads(run_path.read_text(encoding="utf-8"))
    fields = set(AnalyzeConfig.__dataclass_fields__)
    config = AnalyzeConfig(**{k: v for k, v in run.get("settings", {}).items() if k in fields})
    reviews = []
    for image in run.get("images", []):
        path = Path(image["path"])
        if not path.is_file():
            raise InputError(f"{path}: image of {folder} not found; put it back where it was "
                             "analysed")
        label_path = folder / "labels" / f"{image['name']}.tif"
        if not label_path.is_file():
            raise InputError(f"{label_path}: missing; the results folder is incomplete")
        mg = read_micrograph(path, pixel_size=config.pixel_size, infobar=config.infobar,
                             max_pixels=config.max_pixels, scale_bar=config.scale_bar)
        px = image.get("pixel_size") or {}
        if px.get("value") != mg.pixel_size.nm:
            mg = replace(mg, pixel_size=PixelSize(px.get("value"), px.get("source", "none")))
        earlier = image.get("review") or {}
        limits = earlier.get("filters") or {}
        filters = Filters(**{k: tuple(v) for k, v in limits.items()})
        reviews.append(ImageReview(mg, read_label_image(label_path), config,
                                   image.get("segmentation") or {}, filters,
                                   list(earlier.get("corrections", []))))
    return reviews
