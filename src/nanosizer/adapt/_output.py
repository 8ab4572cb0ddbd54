"""What ``nanosizer adapt`` writes: the model folder, the overlays and ``adapt/report.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from ._config import AdaptConfig
    from .teacher import Teacher

__all__ = ["MAX_OVERLAYS", "REJECTED", "TITLE_PX", "ZOOM_MODEL_DIR", "ModelExport",
           "model_export", "overlay_step", "write_comparison_overlays"]

#: Where an adapted model keeps a copy of a (not shipped) initial model that chooses its zoom.
ZOOM_MODEL_DIR = "zoom_model"

#: Sub-folder of ``MODEL_DIR/adapt`` that receives the adapted model when a guard keeps the
#: initial one (usable with ``analyze --model MODEL_DIR/adapt/rejected-model``).
REJECTED = "rejected-model"

#: At most this many images get a before/after overlay in ``MODEL_DIR/adapt/overlays``.
MAX_OVERLAYS = 8

#: Height (px) of the title band above each overlay panel.
TITLE_PX = 16


def _kept_thresholds(config: AdaptConfig, real):
    """The initial model's thresholds when there are no real labels to tune new ones on.

    Validation data are then composites or renders, on which tuning prefers little smoothing:
    touching pasted particles are sharp-edged.  On the BAM frames (TSEM-derived proxy truth)
    the thresholds tuned on composites split real particles (pooled F1 0.58, median min Feret
    -13 %) where the initial model's, tuned on real images, did not (0.66, -5 %).
    """
    if real or config.init_model is None:
        return None
    from ..nn import load_card
    from ..segment.cnn import resolve_model
    from ..segment.instances import InstanceThresholds

    stored = load_card(resolve_model(config.init_model)).thresholds
    return InstanceThresholds.from_dict(stored) if stored else None


def _model_reference(model: str) -> tuple[str, Path | None]:
    """``metadata.zoom_model`` for an initial model and the folder to copy there (None: shipped).

    A model folder may only name shipped models or folders inside it
    (:func:`nanosizer.nn._schema.resolve_zoom_model`), so a custom initial model is copied in.
    """
    from ..segment.cnn import SHIPPED_MODELS, resolve_model

    if model in SHIPPED_MODELS:
        return model, None
    return ZOOM_MODEL_DIR, resolve_model(model)


def _zoom_thresholds_of(init_model: str | None) -> dict:
    """``{"zoom_thresholds": ...}`` of the initial model when it stores them (else empty)."""
    if init_model is None:
        return {}
    from ..nn import load_card
    from ..segment.cnn import resolve_model

    stored = load_card(resolve_model(init_model)).zoom_thresholds
    return {"zoom_thresholds": dict(stored)} if stored else {}


@dataclass(frozen=True)
class ModelExport:
    """How the adapted network is written as a model folder (the guards' candidate, the model).

    Attributes
    ----------
    scale : dict
        Zoom metadata: ``zoom`` (a fixed zoom) or ``zoom_model`` (the model choosing each
        image's zoom), and the initial model's ``zoom_thresholds`` when it stores them.
    thresholds : InstanceThresholds or None
        Thresholds stored instead of the tuned ones (:func:`_kept_thresholds`).
    tuned : (InstanceThresholds, float) or None
        The thresholds already tuned on the validation pairs and their F1.
    zoom_model_source : Path or None
        The model folder copied in as ``zoom_model``.
    """

    scale: dict
    thresholds: object = None
    tuned: tuple | None = None
    zoom_model_source: Path | None = None

    def save(self, folder: Path, net: torch.nn.Module, val: Sequence, ft, metadata: dict | None = None, *,
             size_labels: Sequence = (), overwrite: bool = False) -> dict:
        """Write ``net`` to ``folder`` (:func:`.finetune.tune_and_save`) with ``metadata``.

        Returns
        -------
        dict
            The validation scores.
        """
        from .finetune import tune_and_save

        return tune_and_save(folder, net, val, {**(metadata or {}), **self.scale}, ft,
                             size_labels=size_labels, overwrite=overwrite,
                             thresholds=self.thresholds, tuned=self.tuned,
                             zoom_model_source=self.zoom_model_source)


def model_export(config: AdaptConfig, teacher: Teacher, real: Sequence,
                 tuned: tuple | None) -> ModelExport:
    """How to write the adapted network of a run.

    Images of one magnification keep their zoom; for mixed ones the initial model, which
    chose each image's zoom for the canvases, chooses it.

    Parameters
    ----------
    config : AdaptConfig
    teacher : Teacher
        The pseudo-labels, with the zoom of the training images.
    real : sequence of TrainingPair
        The real pairs: with none, the initial model's thresholds are kept.
    tuned : (InstanceThresholds, float) or None
        The adapted network's tuned thresholds and their F1.

    Returns
    -------
    ModelExport
    """
    zoom_source = None
    if teacher.mixed:
        reference, zoom_source = _model_reference(config.init_model)
        scale = {"zoom_model": reference}
    else:
        scale = {"zoom": teacher.zoom}
    scale.update(_zoom_thresholds_of(config.init_model))
    return ModelExport(scale, _kept_thresholds(config, real), tuned, zoom_source)


def _save_initial(out_dir: Path, net, init_model: str, about: dict) -> None:
    """Write ``net`` (holding the initial weights) with the initial model's own metadata."""
    from ..nn import load_card, save_model
    from ..segment.cnn import resolve_model

    card = load_card(resolve_model(init_model))
    metadata = dict(card.metadata)
    metadata.update(trained_on=f"{card.trained_on or 'unknown'}, kept by adapt", adapt=about)
    save_model(out_dir, net, metadata)


def _titled(tile: np.ndarray, title: str) -> np.ndarray:
    """``tile`` (H, W, 3) uint8 under a white band holding ``title`` in black."""
    from PIL import Image, ImageDraw

    band = Image.new("RGB", (tile.shape[1], TITLE_PX), "white")
    ImageDraw.Draw(band).text((4, 2), title, fill="black")
    return np.concatenate([np.asarray(band), tile], axis=0)


def write_comparison_overlays(folder: str | PathLike, micrographs: Sequence,
                              before: str | PathLike, after: str | PathLike,
                              titles: tuple[str, str] = ("before: initial model",
                                                         "after: adapted model")) -> list[Path]:
    """Side-by-side outlines of two models on each micrograph: ``before | after`` PNGs.

    Parameters
    ----------
    folder : path-like
        Created if needed; receives ``<image name>.png`` per micrograph (full resolution: zoom
        in on touching particles — scaled-down views lose the 1-px outlines).
    micrographs : sequence of Micrograph
    before, after : str or Path
        Models (shipped name or folder), segmented as ``analyze`` would.
    titles : (str, str)
        Written above the left and right panels (a white band of ``TITLE_PX`` rows).

    Returns
    -------
    list of Path
    """
    import imageio.v3 as iio

    from ..report.overlay import label_overlay
    from ..segment.cnn import segment_cnn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for m in micrographs:
        rows = m.infobar_top or None
        tiles = [_titled(label_overlay(m.data, segment_cnn(m, model), mask=m.analysis_mask,
                                       show_ids=False)[:rows], title)
                 for model, title in zip((before, after), titles)]
        gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
        path = folder / f"{m.name}.png"
        iio.imwrite(path, np.concatenate([tiles[0], gap, tiles[1]], axis=1))
        written.append(path)
    return written


def overlay_step(out_dir: Path, micrographs: Sequence, init_model: str) -> list[str]:
    """Before/after overlays of the initial and the adapted model in ``out_dir/adapt/overlays``.

    Parameters
    ----------
    out_dir : Path
        The adapted model's folder.
    micrographs : sequence of Micrograph
        The first :data:`MAX_OVERLAYS` get an overlay.
    init_model : str
        Shipped model name or model folder.

    Returns
    -------
    list of str
        The overlays, relative to ``out_dir`` (the ``overlays`` report entry).
    """
    written = write_comparison_overlays(out_dir / "adapt" / "overlays",
                                        micrographs[:MAX_OVERLAYS], init_model, out_dir,
                                        (f"before: {init_model}", "after: adapted"))
    return [str(p.relative_to(out_dir)) for p in written]


def _finish(out_dir: Path, work: Path, report: dict) -> None:
    """Copy the GAN folders (and a turned-down candidate) to ``out_dir/adapt``; write the report."""
    import shutil

    for name in ("outline_gan", "cyclegan", "outlines"):
        if (work / name).is_dir():
            shutil.copytree(work / name, out_dir / "adapt" / name)
    if report.get("kept") == "initial" and (work / "candidate").is_dir():
        # the adapted model a guard on the user's images turned down, to inspect or use
        shutil.copytree(work / "candidate", out_dir / "adapt" / REJECTED)
        report["rejected_model"] = f"adapt/{REJECTED}"
    (out_dir / "adapt").mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=str, allow_nan=True)
    (out_dir / "adapt" / "report.json").write_text(text + "\n", encoding="utf-8")
