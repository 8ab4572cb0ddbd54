"""Evaluating folders: pairing truth with predictions (or predicting), writing the results."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._evaluation import Evaluation, EvaluateConfig, evaluate_images
from ._sources import ImageFacts, folder_facts
from ._truth import find_label_files, read_coco, read_truth

__all__ = [
    "evaluate_folders",
    "load_label_sources",
    "predict_images",
    "write_evaluation",
]


def load_label_sources(path: str | Path) -> dict[str, object]:
    """Per-image label sources of a folder or a COCO file, by image stem.

    Parameters
    ----------
    path : str or Path
        Folder of label images / masks / ROI zips, an ``analyze`` results folder, or a COCO
        JSON file.

    Returns
    -------
    dict
        Stem -> Path of the file, or (H, W) ndarray for COCO images.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return dict(read_coco(path))
    if path.is_file():
        return {path.stem: path}
    return dict(find_label_files(path))


def _load(source, shape=None) -> np.ndarray:
    if isinstance(source, np.ndarray):
        if shape is not None and source.shape != tuple(shape):
            raise InputError(f"COCO labels of shape {source.shape} differ from {tuple(shape)}")
        return source
    return read_truth(source, shape=shape)


def predict_images(
    images: str | Path, names: list[str], method: str, model: str | Path | None = None,
    *, pixel_size=None, infobar="auto", scale_bar="none",
) -> Iterator[tuple[str, object, np.ndarray]]:
    """Segment the images whose stems are in ``names``; yields (stem, micrograph, labels)."""
    from ..io import expand_paths, read_micrograph
    from ..segment import segment

    files = {p.stem: p for p in expand_paths([str(images)])}
    missing = [n for n in names if n not in files]
    if missing:
        raise InputError(f"{images}: no image for truth {missing[0]!r} ({len(missing)} missing)")
    for name in names:
        micrograph = read_micrograph(files[name], pixel_size=pixel_size, infobar=infobar,
                                     scale_bar=scale_bar)
        yield name, micrograph, np.asarray(segment(micrograph, method, model=model))


def evaluate_folders(
    truth: str | Path,
    pred: str | Path | None = None,
    *,
    images: str | Path | None = None,
    method: str | None = None,
    model: str | Path | None = None,
    config: EvaluateConfig | None = None,
    infobar="auto",
    scale_bar="none",
    labels_out: str | Path | None = None,
) -> Evaluation:
    """Score predictions against the truth for every image that has a truth file.

    Parameters
    ----------
    truth : str or Path
        Truth folder (label images, binary masks, ROI zips) or COCO JSON file.
    pred : str or Path, optional
        Predictions in any truth format, or an ``analyze`` results folder: its ``labels/``
        are scored with the pixel size and info bar recorded in its ``run.json``.
    images, method, model : optional
        Instead of ``pred``: segment the images in folder ``images`` with ``method``
        ('classical', 'unet', 'multiresunet') or the model folder ``model``.
    config : EvaluateConfig, optional
        Scoring settings; its pixel size, if set, overrides every image's own (read from the
        images, a results folder's ``run.json`` or a ``synth`` set's ``truth.csv``).
    infobar : 'auto', 'none' or int
        Info-bar handling when reading ``images`` (its rows are left out of the scores).
    scale_bar : 'auto', 'always' or 'none'
        Whether a scale bar read from ``images`` calibrates them (and is left out of the
        scores) when they have no metadata (``'auto'``), is read on every image
        (``'always'``), or is not looked for (``'none'``, default).
    labels_out : str or Path, optional
        Folder for the predicted label images (``<stem>.tif``) when segmenting ``images``.

    Returns
    -------
    Evaluation
    """
    config = config or EvaluateConfig()
    truths = load_label_sources(truth)
    if not truths:
        raise InputError(f"{truth}: no truth files (.tif, .png, .npy, .zip, .roi or COCO .json)")
    names = sorted(truths)
    if (pred is None) == (images is None):
        raise InputError("give either --pred (label images) or --images with a method")
    if pred is not None:
        preds = load_label_sources(pred)
        missing = [n for n in names if n not in preds]
        if missing:
            raise InputError(f"{pred}: no prediction for {missing[0]!r} ({len(missing)} missing)")
        facts = {**folder_facts(truth), **folder_facts(pred)}  # the run's own facts win

        def pairs():
            for name in names:
                p = _load(preds[name])
                fact = facts.get(name, ImageFacts())
                yield (name, _load(truths[name], p.shape), p, fact.mask(p.shape),
                       fact.pixel_size_nm)

        return evaluate_images(pairs(), config)

    def predicted():
        for name, micrograph, labels in predict_images(
            images, names, method or "classical", model,
            pixel_size=config.pixel_size_nm, infobar=infobar, scale_bar=scale_bar,
        ):
            if labels_out is not None:
                _write_labels(Path(labels_out) / f"{name}.tif", labels)
            yield (name, _load(truths[name], labels.shape), labels, micrograph.analysis_mask,
                   micrograph.pixel_size.nm)

    return evaluate_images(predicted(), config)


def _write_labels(path: Path, labels: np.ndarray) -> None:
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if labels.max(initial=0) < 65536 else np.uint32
    tifffile.imwrite(path, labels.astype(dtype), compression="zlib")


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def write_evaluation(evaluation: Evaluation, out: str | Path, extra: dict | None = None) -> None:
    """Write ``per_image.csv``, ``pooled.csv``, ``sizes.csv`` and ``scores.json`` into ``out``.

    ``scores.json`` holds the settings (``config`` and ``extra``), the pooled and the
    per-image figures; NaN becomes null.
    """
    import pandas as pd

    out = Path(out)
    evaluation.per_image.to_csv(out / "per_image.csv", index=False)
    pd.DataFrame([evaluation.pooled]).to_csv(out / "pooled.csv", index=False)
    evaluation.sizes.to_csv(out / "sizes.csv", index=False)
    doc = {
        "config": evaluation.config.to_dict(),
        **(extra or {}),
        "pooled": {k: _clean(v) for k, v in evaluation.pooled.items()},
        "per_image": [
            {k: _clean(v) for k, v in row.items()}
            for row in evaluation.per_image.to_dict(orient="records")
        ],
    }
    tmp = out / ".scores.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, out / "scores.json")
