"""Scoring shared by the benchmark scripts: pooled instance F1 and minimum Feret diameters."""

from __future__ import annotations

import numpy as np

#: Particles smaller than this (px) are ignored on both sides when scoring.
MIN_SIZE = 20


def border_free(labels: np.ndarray) -> np.ndarray:
    """``labels`` without the particles touching the array's border."""
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.where(np.isin(labels, edge[edge > 0]), 0, labels)


def feret_min(labels: np.ndarray) -> np.ndarray:
    """Minimum Feret diameters (px) of the particles off the border."""
    from nanosizer.measure import feret_by_label

    return feret_by_label(border_free(labels)).min


def pooled_scores(truths, preds) -> dict:
    """Pooled F1 at IoU 0.5 over image pairs, and the min Feret diameters of both sides.

    Returns ``f1``, ``tp``, ``fp``, ``fn``, ``n_true``, ``n_pred``, ``true_feret`` and
    ``pred_feret`` (per image, particles off the border), and ``feret_error``: the signed
    relative error of the pooled median min Feret (nan without predicted particles).
    """
    from nanosizer.evaluate import remove_small, score_instances

    tp = fp = fn = 0
    true_f, pred_f = [], []
    for truth, pred in zip(truths, preds):
        truth, pred = remove_small(truth, MIN_SIZE), remove_small(pred, MIN_SIZE)
        s = score_instances(truth, pred)
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
        true_f.append(feret_min(truth))
        pred_f.append(feret_min(pred))
    pred_all, true_all = np.concatenate(pred_f), np.concatenate(true_f)
    err = (np.median(pred_all) / np.median(true_all) - 1) if pred_all.size and true_all.size else np.nan
    return {"f1": 2 * tp / max(2 * tp + fp + fn, 1), "tp": tp, "fp": fp, "fn": fn,
            "n_true": tp + fn, "n_pred": tp + fp, "true_feret": true_f, "pred_feret": pred_f,
            "feret_error": float(err)}
