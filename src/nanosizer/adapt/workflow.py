"""``nanosizer adapt``: the whole adaptation run within a time budget.

Steps (each optional, each timed against its share of the budget, :mod:`._budget`):

1. real training pairs: from transmission twins (:mod:`.transmission`) and/or a folder of
   (hand-corrected) pairs (:mod:`.pairs_io`);
2. pseudo-labels of the other images by the initial model, run as ``analyze`` runs it
   (:func:`.pseudo.teacher_labels`): confident particles are labels, the rest is ignored;
   images of different magnifications are resampled to one particle scale (:mod:`.teacher`);
3. copy-paste composites (:mod:`.copypaste`): the isolated confident particles pasted back
   into the images, touching and overlapping others, with exact labels;
4. outline WGAN-GP (:mod:`.wgan`) on example outlines, whose samples become a shape family of
   the synthetic engine;
5. synthetic micrographs "like" the user's images (:func:`nanosizer.synth.like_config`);
6. CycleGAN (:mod:`.cyclegan`) from simulated masks to the user's images, rendering extra
   training pairs (particles it failed to draw are removed from the labels) — used when there
   are neither real pairs nor enough particles to paste;
7. fine-tuning (self-training) of the initial network on all of these (:mod:`.finetune`);
8. thresholds (tuned on held-out real strips, else the initial model's), the guards against
   an adapted model worse than the initial one (:mod:`.guards`), and the model folder.

This module runs them in order (:mod:`._trainset`, :mod:`._steps`) and gathers the report.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from ._budget import AFTER_FINETUNE_PASSES, BUDGET_SHARES, _Clock
from ._config import AdaptConfig, default_threads
from ._inputs import MAX_IMAGES, chosen_images, read_images, spread_subset
from ._output import (MAX_OVERLAYS, REJECTED, _finish, _save_initial, model_export,
                      overlay_step, write_comparison_overlays)
from ._steps import Anchors, anchor_step, finetune_step, simulated_domain
from ._trainset import MIN_CUTOUTS, build_trainset
from ._tuning import adapted_search, initial_search
from .guards import (MAX_COUNT_RATIO, MIN_ANCHOR_RECALL, anchor_particles, anchor_recall,
                     particle_count_ratio)

# not in __all__, still importable from here as before (the CLI and the tests use them)
from ._budget import TUNING_SHARE  # noqa: F401
from ._output import TITLE_PX, ZOOM_MODEL_DIR  # noqa: F401
from ._output import _model_reference, _zoom_thresholds_of  # noqa: F401
from ._trainset import _LikeSynth, _split_val, real_pairs  # noqa: F401

if TYPE_CHECKING:
    from ..train import Deadline

__all__ = ["AFTER_FINETUNE_PASSES", "AdaptConfig", "BUDGET_SHARES", "MAX_COUNT_RATIO",
           "MAX_IMAGES", "MAX_OVERLAYS", "MIN_ANCHOR_RECALL", "MIN_CUTOUTS", "REJECTED", "adapt",
           "anchor_particles", "anchor_recall", "particle_count_ratio", "simulated_domain",
           "spread_subset", "write_comparison_overlays"]


def adapt(paths: Iterable[str | PathLike], out_dir: str | PathLike,
          config: AdaptConfig = AdaptConfig(), *,  # noqa: B008 (frozen)
          command: str = "", deadline: Deadline | None = None) -> dict:
    """Adapt the segmentation network to the user's unlabelled images.

    Parameters
    ----------
    paths : sequence of path-like
        The user's micrographs (any format :func:`nanosizer.io.read_micrograph` reads).
    out_dir : path-like
        New (or empty) folder; receives the model (``config.json``, ``weights.safetensors``,
        usable with ``analyze --model``) and ``adapt/`` (report, GAN folders, outlines).
    config : AdaptConfig
    command : str
        Command line, stored in the model metadata.
    deadline : Deadline, optional
        When the model must be written (:class:`nanosizer.train.Deadline`, e.g. from the start
        of the command); default ``config.budget_minutes`` from now.

    Returns
    -------
    report : dict
        What each step did, its time, and the validation scores.

    Raises
    ------
    InputError
        Among others, when the budget cannot hold the work that cannot be skipped (labelling
        the images with the initial model, the guards, writing the model), measured on the
        first pass over the images; the message gives the minimum.
    """
    from ..train import Deadline

    deadline = deadline or Deadline.from_minutes(config.budget_minutes)  # imports count too
    from ..io import StagedDir
    from ..nn import configure_threads
    from .finetune import initial_network
    from .guards import keep_anchors, keep_better, snapshot

    threads = configure_threads(config.threads if config.threads else default_threads())
    clock = _Clock(deadline.seconds / 60.0, start=deadline.start)
    out_dir = Path(out_dir)
    paths, given = chosen_images(paths, out_dir)
    micrographs = read_images(paths)
    report: dict = {"images": [str(p) for p in paths], "images_given": given,
                    "config": asdict(config), "threads": threads}
    # everything is written into a staging folder that becomes out_dir at the end, whole
    with (tempfile.TemporaryDirectory(prefix="nanosizer-adapt-") as tmp,
          StagedDir(out_dir) as staged):
        work, out_dir = Path(tmp), staged.path
        data = build_trainset(config, paths, micrographs, clock, work)  # steps 1-6
        report.update(data.report)
        net, init_source = initial_network(config.init_model, config.arch, config.device)
        initial = snapshot(net) if config.init_model is not None else None
        # without real labels nothing but the initial model's confident particles can show
        # that the user's images got worse (validation data are then rendered or pasted)
        anchors = (anchor_step(config.init_model, data.teacher, micrographs, clock)
                   if initial is not None and not data.real else Anchors())
        before = None
        if initial is not None:  # the adapted network's search will cost about as much
            before = initial_search(net, data.val, config, clock)
            report["initial_val_f1"] = round(before.f1, 4)
        ft, history = finetune_step(net, data, config, clock)  # step 7
        report["finetune"] = history
        tuned, searches = adapted_search(net, data.val, ft, clock, before)
        if data.val:
            report["threshold_search"] = searches
        export = model_export(config, data.teacher, data.real, tuned)
        verdict = keep_better(net, initial, data.val, ft, report.get("initial_val_f1"), tuned)
        report.update(kept=verdict.kept, **verdict.report)
        if verdict.kept == "adapted" and anchors.labels:
            candidate = work / "candidate"
            export.save(candidate, net, data.val, ft, overwrite=True)
            verdict = keep_anchors(net, initial, candidate, micrographs, anchors.labels,
                                   init_model=config.init_model, init_count=anchors.count)
            report.update(kept=verdict.kept, **verdict.report)
        about = {"init_model": init_source, "training_command": command,
                 "adapt_config": asdict(config), "training_minutes": round(clock.elapsed(), 2)}
        if verdict.kept == "initial":  # the initial model unchanged (thresholds, automatic zoom)
            _save_initial(out_dir, net, config.init_model, about)
            report["val_scores"] = {"kept": "initial"}
        else:  # fitted to these images at their scale
            report["val_scores"] = export.save(out_dir, net, data.val, ft,
                                               {"trained_on": "adapt", **about},
                                               size_labels=data.size_labels())
        if verdict.kept == "adapted" and config.init_model is not None:
            report["overlays"] = overlay_step(out_dir, micrographs, config.init_model)
        report["minutes"] = round(clock.elapsed(), 2)
        _finish(out_dir, work, report)
    return report
