"""Guards of ``nanosizer adapt`` against an adapted model worse than the initial one.

Without labels of the user's images, two checks on the images themselves, one on validation
data: the adapted model must keep the initial model's confident particles
(:data:`MIN_ANCHOR_RECALL`), must not find far more particles (:data:`MAX_COUNT_RATIO`), and
must not score lower on the validation pairs (:func:`keep_better`).  A guard that fails puts
the initial weights back into the network.  Each guard returns a :class:`Verdict`: the network
it keeps and what it measured, for the caller to put into its report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike

import numpy as np

__all__ = ["MAX_COUNT_RATIO", "MIN_ANCHOR_RECALL", "Verdict", "anchor_particles",
           "anchor_recall", "keep_anchors", "keep_better", "particle_count_ratio", "restore",
           "snapshot", "tuned_thresholds"]

log = logging.getLogger("nanosizer.adapt")

#: Share of the initial model's confident particles on the user's images that the adapted model
#: must still find (IoU >= 0.5); below it the initial network is kept.  Measured (adapted model
#: scored against manual or exact labels): 0.94-0.99 on runs that helped (BAM frames, TiO2-like
#: synthetic), 0.81-0.84 on 10 EMPS SEM images of mixed magnification where it helped (F1 0.688
#: -> 0.72-0.75: it re-segments some of the initial model's confident but wrong particles), 0.74
#: on 8 mixed EMPS SEM/TEM images where it shattered particles (F1 0.632 -> 0.214).  It catches
#: gross failures only.
MIN_ANCHOR_RECALL = 0.8

#: Most particles the adapted model may find in the user's images, relative to the initial
#: model; more means it shatters particles (8 mixed EMPS SEM/TEM images: 3.5 x, F1 0.632 ->
#: 0.214), while runs that helped found 0.9-1.3 x.  Splitting merged agglomerates legitimately
#: adds particles (hand-corrected BAM crops hold 1.25 x the default UNet's count), hence 1.5.
MAX_COUNT_RATIO = 1.5


@dataclass(frozen=True)
class Verdict:
    """What a guard decided.

    Attributes
    ----------
    kept : {'adapted', 'initial'}
        The network the guard keeps (``'initial'``: it put the initial weights back).
    report : dict
        What it measured, as entries of the adapt report (e.g. ``adapted_val_f1``,
        ``anchor_recall``); empty when there was nothing to compare.
    """

    kept: str
    report: dict = field(default_factory=dict)


def tuned_thresholds(net, val, ft, *, deadline=None, timing: dict | None = None,
                     search: dict | None = None, max_candidates: int | None = None):
    """Thresholds tuned on ``val`` and the F1 they reach (defaults and nan without ``val``).

    The search (:func:`~nanosizer.train.tune_thresholds`, which fills ``search``) ends by
    ``deadline`` (a :class:`~nanosizer.train.Deadline`) or after ``max_candidates``, keeping
    the best so far; ``timing`` receives the seconds of the validation pass (``evaluate_s``)
    and of the search (``search_s``).
    """
    import time

    from ..train import evaluate, normalize_image, tune_thresholds
    from ..train.validate import default_thresholds

    base = default_thresholds(net)
    if not val:
        return base, float("nan")
    start = time.monotonic()
    norm = [(normalize_image(np.asarray(i, np.float32)), lab) for i, lab in val]
    _, probs = evaluate(net, norm, device=ft.device, amp=ft.amp,
                        thresholds=base, contact_width=ft.contact_width)
    middle = time.monotonic()
    result = tune_thresholds(probs, [lab for _, lab in norm], base, deadline=deadline,
                             search=search, max_candidates=max_candidates)
    if timing is not None:
        timing.update(evaluate_s=middle - start, search_s=time.monotonic() - middle)
    return result


def anchor_particles(model, micrographs, *, return_count: bool = False):
    """The particles ``model`` segments confidently in each micrograph (as ``analyze`` would).

    Confident: mean foreground probability >= 0.85, mean contact probability < 0.5, not on
    the border (:func:`nanosizer.adapt.pseudo.confident_labels`).  They are the initial model's
    most reliable particles; an adapted model that loses many of them has got worse on the
    user's images, whatever its score on synthetic validation data.

    Returns
    -------
    anchors : list of (H, W) ndarray of int32
        The confident particles of each micrograph, numbered 1..K.
    count : int
        Only with ``return_count``: all particles ``model`` finds in the micrographs,
        confident or not (the ``init_count`` of :func:`keep_anchors`).
    """
    from ..segment.cnn import segmentation_maps
    from .pseudo import confident_labels

    anchors, count = [], 0
    for m in micrographs:
        probs, thresholds = segmentation_maps(m, model)
        labels, confident = confident_labels(probs, thresholds, mask=m.analysis_mask)
        anchors.append(confident)
        count += int(labels.max())
    return (anchors, count) if return_count else anchors


def anchor_recall(model, micrographs, anchors) -> float:
    """Pooled share of the ``anchors`` particles that ``model`` finds (IoU >= 0.5); nan if none."""
    return _recall(anchors, _segmented(model, micrographs))


def _segmented(model, micrographs) -> list[np.ndarray]:
    from ..segment.cnn import segment_cnn

    return [segment_cnn(m, model) for m in micrographs]


def _recall(anchors, found) -> float:
    from ..evaluate import score_instances

    hits = total = 0
    for anchor, labels in zip(anchors, found):
        s = score_instances(anchor, labels)
        hits, total = hits + s["tp"], total + s["n_true"]
    return hits / total if total else float("nan")


def _count(found) -> int:
    return sum(len(np.unique(labels)) - 1 for labels in found)


def snapshot(net) -> dict:
    """A copy of the weights of ``net`` (to restore with :func:`restore`)."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def restore(net, initial: dict, why: str, *args) -> None:
    """Put the initial weights back into ``net`` and log ``why`` (formatted with ``args``)."""
    log.warning(why + ": keeping the initial network", *args)
    net.load_state_dict(initial)


def keep_better(net, initial: dict | None, val: Sequence, ft, initial_f1: float | None = None,
                adapted: tuple | None = None) -> Verdict:
    """Put the initial weights back into ``net`` when adapting made the validation F1 worse.

    Parameters
    ----------
    net : SegmentationNet
        Holding the adapted weights.
    initial : dict or None
        The initial weights (:func:`snapshot`); None without an initial model.
    val : sequence of (image, labels)
        Validation pairs.
    ft : FinetuneConfig
        Evaluation settings.
    initial_f1 : float, optional
        The initial network's validation F1 with its tuned thresholds.
    adapted : (InstanceThresholds, float), optional
        The :func:`tuned_thresholds` of ``net`` when already known, saves tuning them again.

    Returns
    -------
    Verdict
        ``report`` holds ``adapted_val_f1``.  Without an initial model, validation data or
        ``initial_f1`` there is nothing to compare: the adapted network stays, nothing
        measured.
    """
    if initial is None or not val or initial_f1 is None:
        return Verdict("adapted")
    adapted_f1 = round((adapted or tuned_thresholds(net, val, ft))[1], 4)
    measured = {"adapted_val_f1": adapted_f1}
    if adapted_f1 < initial_f1:
        restore(net, initial, "the adapted network scores validation F1 %.3f < %.3f of the "
                "initial one", adapted_f1, initial_f1)
        return Verdict("initial", measured)
    return Verdict("adapted", measured)


def particle_count_ratio(model, reference, micrographs) -> float:
    """Particles ``model`` finds in ``micrographs`` over those ``reference`` finds (pooled).

    Both are run as ``analyze`` runs them; nan when ``reference`` finds none.
    """
    return _ratio(_segmented(model, micrographs), reference, micrographs)


def _ratio(found, reference, micrographs, reference_count: int | None = None) -> float:
    base = (_count(_segmented(reference, micrographs)) if reference_count is None
            else reference_count)
    return _count(found) / base if base else float("nan")


def keep_anchors(net, initial: dict, candidate: str | PathLike, micrographs: Sequence,
                 anchors: Sequence[np.ndarray], *, init_model: str | None = None,
                 init_count: int | None = None) -> Verdict:
    """Put the initial weights back when the adapted network loses anchors or shatters particles.

    The candidate, the adapted network written as a model folder
    (:func:`~nanosizer.adapt.finetune.tune_and_save`), is run once on the user's images like
    ``analyze``; see :data:`MIN_ANCHOR_RECALL` and, when ``init_model`` is given,
    :data:`MAX_COUNT_RATIO`.

    Parameters
    ----------
    net : SegmentationNet
        Holding the adapted weights.
    initial : dict
        The initial weights (:func:`snapshot`).
    candidate : path-like
        Model folder of ``net``.
    micrographs : sequence of Micrograph
        The user's images.
    anchors : sequence of ndarray
        The initial model's confident particles in each image (:func:`anchor_particles`).
    init_model : str, optional
        The initial model (shipped name or folder), for the count guard.
    init_count : int, optional
        The particles ``init_model`` finds in the images when already known (the
        pseudo-labels), saves running it again.

    Returns
    -------
    Verdict
        ``report`` holds ``anchor_particles``, ``anchor_recall`` and, when the count guard
        ran, ``particle_count_ratio``.
    """
    found = _segmented(candidate, micrographs)  # as analyze will segment them, once
    recall = _recall(anchors, found)
    measured = {"anchor_particles": int(sum(int(a.max()) for a in anchors)),
                "anchor_recall": round(recall, 4)}
    if recall < MIN_ANCHOR_RECALL:
        restore(net, initial, "the adapted network finds only %.0f %% of the %d particles the "
                "initial one segments confidently in these images", 100 * recall,
                measured["anchor_particles"])
        return Verdict("initial", measured)
    if init_model is not None:
        ratio = _ratio(found, init_model, micrographs, init_count)
        measured["particle_count_ratio"] = round(ratio, 4)
        if ratio > MAX_COUNT_RATIO:
            restore(net, initial, "the adapted network finds %.1f x as many particles as the "
                    "initial one in these images (it shatters them)", ratio)
            return Verdict("initial", measured)
    return Verdict("adapted", measured)
