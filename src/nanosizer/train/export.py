"""Final model folder: best weights, tuned thresholds and training metadata."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..segment.instances import InstanceThresholds
from ..segment.limits import MIN_CLASS_COUNT, PLATEAU_FROM_PX, RELIABLE_RECALL
from .config import TrainConfig
from .deadline import Deadline
from .normalize import NORMALIZATION
from .targets import output_names
from .validate import (SIZE_EDGES, default_thresholds, detection_limit, evaluate, recall_by_size,
                       tune_thresholds)

__all__ = ["particle_diameters", "detection_metadata", "export_model"]

log = logging.getLogger("nanosizer.train")


def particle_diameters(labels: list[np.ndarray]) -> dict[str, float]:
    """Training particle-size range: percentiles (5, 50, 95) over images of the per-image
    median equivalent-circle diameter (px); what :func:`nanosizer.segment.cnn.segment_cnn`
    compares a new image's typical particle size with."""
    medians = []
    for lab in labels:
        areas = np.bincount(lab.ravel())[1:]
        areas = areas[areas > 0]
        if areas.size:
            medians.append(np.sqrt(4.0 * np.median(areas) / np.pi))
    if not medians:
        return {"p5": None, "median": None, "p95": None}
    p5, p50, p95 = np.percentile(medians, (5, 50, 95))
    return {"p5": round(float(p5), 2), "median": round(float(p50), 2), "p95": round(float(p95), 2)}


def detection_metadata(probabilities: list[np.ndarray], labels: list[np.ndarray],
                       thresholds: InstanceThresholds) -> dict:
    """``detection_limit_px`` and ``recall_by_size`` model metadata from validation outputs.

    The limit is the smallest true minimum Feret (network px) from which on every size class
    of :data:`~nanosizer.train.validate.SIZE_EDGES` (judged from 20 particles on) finds at least
    0.8 times the share found of particles >= 20 px
    (:func:`~nanosizer.train.validate.detection_limit`); None when no class does.
    """
    found, total = recall_by_size(probabilities, labels, thresholds)
    limit = detection_limit(found, total)
    classes = {f"{SIZE_EDGES[i]:g}-{SIZE_EDGES[i + 1]:g}": [int(f), int(t)]
               for i, (f, t) in enumerate(zip(found, total)) if t}
    return {"detection_limit_px": None if np.isnan(limit) else limit,
            "recall_by_size": {"found_of_total": classes, "relative_recall": RELIABLE_RECALL,
                               "plateau_from_px": PLATEAU_FROM_PX,
                               "min_count": MIN_CLASS_COUNT}}


def export_model(
    out_dir: Path,
    config: TrainConfig,
    state,
    val: list[tuple[np.ndarray, np.ndarray]],
    *,
    device: torch.device,
    command: str,
    deadline: Deadline | None = None,
    outputs: tuple[dict, list[np.ndarray]] | None = None,
) -> None:
    """Write ``config.json`` + ``weights.safetensors`` of the best checkpoint into ``out_dir``.

    ``outputs``, the validation (metrics, probabilities) of the best checkpoint when at hand,
    saves a network pass.  The threshold search ends by ``deadline`` (keeping the best
    thresholds so far; recorded as ``threshold_search`` in the metadata).
    """
    from ..nn import core_metadata, load_model, save_model

    best = load_model(out_dir / "best", device=device)
    base = default_thresholds(best.net)
    if outputs is None:
        outputs = evaluate(best.net, val, device=device, amp=config.amp,
                           thresholds=base, contact_width=config.contact_width)
    metrics, probs = outputs
    truths = [lab for _, lab in val]
    search: dict = {}
    thresholds, f1 = tune_thresholds(probs, truths, base, deadline=deadline, search=search)
    log.info("tuned thresholds %s: validation F1 %.4f (defaults %.4f)",
             thresholds.to_dict(), f1, metrics["val_f1"])
    metadata = {
        **core_metadata(output_names(config.centre_offsets), thresholds.to_dict(),
                        particle_diameters(truths), NORMALIZATION),
        **detection_metadata(probs, truths, thresholds),
        "trained_on": "synthetic" if config.data is None else "folder",
        "train_config": config.to_dict(),
        "training_command": command,
        "training_minutes": round(state.elapsed_s / 60.0, 2),
        "epochs": state.epoch,
        "steps": state.step,
        "best_epoch": int(best.metadata.get("epoch", state.epoch)),
        "threshold_search": search,
        "val_scores": {"f1": round(f1, 4), "f1_default_thresholds": round(metrics["val_f1"], 4),
                       "loss": round(metrics["val_loss"], 4), "n_images": len(val)},
    }
    # beside the checkpoints and logs of the run, which stay (nanosizer.io.write_folder)
    save_model(out_dir, best.net, metadata, overwrite=True)
