"""Validation: network outputs on a fixed set, instance F1 and threshold tuning."""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np
import torch

from ..segment.centres import predicts_offsets
from ..segment.instances import InstanceThresholds, probabilities_to_labels
from ..segment.limits import MIN_CLASS_COUNT, PLATEAU_FROM_PX, RELIABLE_RECALL
from .deadline import Deadline
from .loss import segmentation_loss
from .targets import make_targets

__all__ = ["predict_probabilities", "evaluate", "instance_f1", "tune_thresholds",
           "recall_by_size", "detection_limit", "default_thresholds"]

log = logging.getLogger("nanosizer.train")


def default_thresholds(net: torch.nn.Module) -> InstanceThresholds:
    """Untuned thresholds for ``net``: the centre-vote decoder when it predicts offsets."""
    if predicts_offsets(net):
        return InstanceThresholds(decoder="centres")
    return InstanceThresholds()


def predict_probabilities(
    net: torch.nn.Module, images: list[np.ndarray], device: torch.device, amp: bool
) -> list[np.ndarray]:
    """Sigmoid outputs (C, H, W) float32 of each normalised image (whole-image inference)."""
    from ..nn import predict

    return [1.0 / (1.0 + np.exp(-predict(net, img, device=device, amp=amp))) for img in images]


def instance_f1(
    probabilities: list[np.ndarray], labels: list[np.ndarray], thresholds: InstanceThresholds
) -> float:
    """Mean over images of the F1 score at IoU 0.5 (:func:`nanosizer.evaluate.score_instances`)."""
    from ..evaluate import score_instances

    scores = [
        score_instances(truth, probabilities_to_labels(p, thresholds))["f1"]
        for p, truth in zip(probabilities, labels)
    ]
    return float(np.mean(scores)) if scores else float("nan")


def evaluate(
    net: torch.nn.Module,
    val: list[tuple[np.ndarray, np.ndarray]],
    *,
    device: torch.device,
    amp: bool,
    thresholds: InstanceThresholds,
    contact_width: int,
    timing: dict | None = None,
) -> tuple[dict[str, float], list[np.ndarray]]:
    """Validation loss and instance F1 (IoU 0.5); also returns the probability maps.

    ``timing``, when given, receives the seconds of the network pass (``network_s``) and of
    the post-processing + scoring (``postprocess_s``, what one threshold candidate of
    :func:`tune_thresholds` costs): what budgeted callers reserve for the final steps.
    """
    from ..nn import predict

    probs, losses = [], []
    offsets = predicts_offsets(net)
    start = time.monotonic()
    for image, truth in val:
        logits = predict(net, image, device=device, amp=amp)
        targets = torch.from_numpy(make_targets(truth, contact_width, offsets=offsets))
        losses.append(float(segmentation_loss(torch.from_numpy(logits)[None], targets[None])[0]))
        probs.append(1.0 / (1.0 + np.exp(-logits)))
    truths = [lab for _, lab in val]
    middle = time.monotonic()
    metrics = {"val_loss": float(np.mean(losses)), "val_f1": instance_f1(probs, truths, thresholds)}
    if timing is not None:
        timing.update(network_s=middle - start, postprocess_s=time.monotonic() - middle)
    return metrics, probs


def _candidates(base: InstanceThresholds) -> list[InstanceThresholds]:
    """The full grid of :func:`tune_thresholds`, in its order."""
    from dataclasses import replace

    if base.decoder == "centres":
        return [replace(base, foreground=fg, vote_density=density, vote_prominence=prominence)
                for fg, density, prominence in itertools.product(
                    (0.4, 0.5, 0.6), (0.25, 0.5, 1.0), (0.25, 0.5, 1.0))]
    return [replace(base, foreground=fg, marker=marker, contact=contact, smooth=smooth)
            for fg, marker, contact, smooth in itertools.product(
                (0.4, 0.5, 0.6), (0.3, 0.4, 0.5, 0.6, 0.7), (0.3, 0.5, 0.7), (0.0, 1.5, 3.0))]


#: Values of the relative fragment filter tried on the best grid point.
RELATIVE_AREAS: tuple[float, ...] = (0.05, 0.1, 0.2)


def tune_thresholds(
    probabilities: list[np.ndarray],
    labels: list[np.ndarray],
    base: InstanceThresholds | None = None,
    *,
    deadline: Deadline | None = None,
    search: dict | None = None,
    max_candidates: int | None = None,
) -> tuple[InstanceThresholds, float]:
    """Grid search of the post-processing parameters maximising the mean F1 at IoU 0.5.

    Foreground, marker and contact thresholds and the distance smoothing on a full grid (for
    the ``'centres'`` decoder of ``base``: foreground, vote density and vote prominence), then
    the relative fragment filter (``min_relative_area``) on the best of those.

    Parameters
    ----------
    probabilities, labels : lists of arrays
        Network outputs (C, H, W) and the true instance labels of the same images.
    base : InstanceThresholds, optional
        Starting point (always scored) and decoder; default :class:`InstanceThresholds`.
    deadline : Deadline, optional
        Stop the search when the next candidate would not be scored before it (measured from
        the candidates scored so far), keeping the best so far; logged and recorded in
        ``search``.
    search : dict, optional
        Filled with ``candidates`` (grid size), ``tried``, ``complete`` and ``seconds``.
    max_candidates : int, optional
        Score at most the first this many candidates (e.g. as many as a budget-stopped search
        of another network scored, so that the two compare on the same candidates).

    Returns
    -------
    best : InstanceThresholds
    f1 : float
        Mean validation F1 at IoU 0.5 with ``best``.
    """
    from dataclasses import replace

    from tqdm.auto import tqdm

    base = base or InstanceThresholds()
    deadline = deadline or Deadline.unlimited()
    grid = _candidates(base)
    total = len(grid) + len(RELATIVE_AREAS)
    start = time.monotonic()
    best, best_f1 = base, instance_f1(probabilities, labels, base)
    tried = 0
    bar = tqdm(total=total, desc="threshold search", leave=False, mininterval=2.0)
    for index in range(total if max_candidates is None else min(total, max_candidates)):
        per_candidate = (time.monotonic() - start) / (tried + 1)  # the base counts as one
        if not deadline.fits(per_candidate):
            break
        if index < len(grid):
            t = grid[index]
        else:  # then the fragment filter, on the best of the grid
            t = replace(best, min_relative_area=RELATIVE_AREAS[index - len(grid)])
        f1 = instance_f1(probabilities, labels, t)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = t, f1
        tried += 1
        bar.update()
    bar.close()
    seconds = time.monotonic() - start
    if tried < total and tried == max_candidates:
        log.info("threshold search: the first %d of %d candidates (as asked) in %.1f s, best "
                 "F1 %.4f", tried, total, seconds, best_f1)
    elif tried < total:
        log.warning("threshold search stopped by the time budget after %d of %d candidates "
                    "(%.1f s); keeping the best so far (F1 %.4f)", tried, total, seconds, best_f1)
    else:
        log.info("threshold search: %d candidates in %.1f s, best F1 %.4f", total, seconds,
                 best_f1)
    if search is not None:
        search.update(candidates=total, tried=tried, complete=tried == total,
                      seconds=round(seconds, 2))
    return best, best_f1


#: Size classes (true minimum Feret, px) of :func:`recall_by_size`.
SIZE_EDGES: tuple[float, ...] = (4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 60, 80, 120, 200, 400)


def recall_by_size(
    probabilities: list[np.ndarray], labels: list[np.ndarray], thresholds: InstanceThresholds,
    edges: tuple[float, ...] = SIZE_EDGES,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of true particles found (matched at IoU >= 0.5) per min-Feret class.

    Parameters
    ----------
    probabilities, labels : lists of arrays
        Network outputs (C, H, W) and the true instance labels of the same images.
    thresholds : InstanceThresholds
        Post-processing that turns outputs into particles.
    edges : tuple of float
        Class edges in px of the true particles' (visible) minimum Feret diameter.

    Returns
    -------
    found, total : (len(edges) - 1,) ndarrays of int
        Matched and all true particles per class.
    """
    from ..evaluate import match_instances
    from ..measure import feret_by_label

    found = np.zeros(len(edges) - 1, int)
    total = np.zeros(len(edges) - 1, int)
    for p, truth in zip(probabilities, labels):
        pred = probabilities_to_labels(p, thresholds)
        table = feret_by_label(truth)
        matched = set(np.asarray(match_instances(truth, pred)["truth_ids"]).tolist())
        bins = np.digitize(table.min, edges) - 1
        for label, b in zip(table.label.tolist(), bins.tolist()):
            if 0 <= b < total.size:
                total[b] += 1
                found[b] += label in matched
    return found, total


def detection_limit(found: np.ndarray, total: np.ndarray, edges: tuple[float, ...] = SIZE_EDGES,
                    *, recall: float = RELIABLE_RECALL, min_count: int = MIN_CLASS_COUNT,
                    plateau_from: float = PLATEAU_FROM_PX) -> float:
    """Smallest class edge from which on every class finds ``recall`` x the large-particle recall.

    The large-particle recall (the plateau) is that of all particles in classes starting at
    ``plateau_from`` px or above: dense synthetic agglomerates hide parts of large particles
    too, so an absolute recall would judge the scenes rather than the size.  Classes with fewer
    than ``min_count`` particles are not judged.

    Returns
    -------
    float
        The lower edge (px) of that class; NaN when no populated class qualifies.

    Examples
    --------
    >>> detection_limit(np.array([1, 15, 30, 40]), np.array([30, 30, 31, 40]), (4, 8, 12, 20, 40))
    12.0
    >>> detection_limit(np.array([2, 20, 24, 24]), np.array([30, 30, 30, 30]), (4, 8, 12, 20, 40))
    8.0
    >>> detection_limit(np.array([0, 0]), np.array([30, 30]), (4, 8, 12))
    nan
    """
    found, total = np.asarray(found), np.asarray(total)
    big = np.asarray(edges[:-1]) >= plateau_from
    plateau = found[big].sum() / total[big].sum() if total[big].sum() else 1.0
    need = recall * plateau
    limit = float("nan")
    for i in range(len(total) - 1, -1, -1):
        if total[i] < min_count:
            continue
        if found[i] < need * total[i] or found[i] == 0:
            break
        limit = float(edges[i])
    return limit
