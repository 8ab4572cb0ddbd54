"""What a training time budget must hold: the costs of validation, threshold search and export.

Estimated from one validation image before training (:func:`probe_costs`), then measured on the
work itself every epoch; :func:`check_budget` refuses a budget that cannot hold one step and the
export.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .config import TrainConfig
from .deadline import Deadline, suggested_minutes
from .validate import RELATIVE_AREAS, default_thresholds, evaluate

__all__ = ["TUNING_SHARE", "Costs", "check_budget", "probe_costs"]

log = logging.getLogger("nanosizer.train")


#: Longest share of a time budget the threshold search may take (all of the grid when it fits).
TUNING_SHARE = 0.2


@dataclass
class Costs:
    """Seconds of the work a time budget must hold: extrapolated from one validation image
    before training, then measured on the work itself every epoch."""

    eval_s: float  # one validation pass: network + scoring with the default thresholds
    post_s: float  # one scoring pass over the validation set (one threshold candidate)
    save_s: float  # writing a model folder
    step_s: float  # one training step, data included
    candidates: int  # threshold candidates of the search
    detect_s: float = 0.0  # the detection-limit metadata (Feret of every true particle)

    def export(self) -> float:
        """After the threshold search: the detection metadata and the model folder."""
        return max(self.detect_s, self.post_s) + self.save_s

    def final(self, deadline: Deadline, reevaluate: bool) -> float:
        """After the training steps: validation, best + checkpoint, threshold search (at most
        :data:`TUNING_SHARE` of the budget), detection metadata and the model folder."""
        tuning = min(self.candidates * self.post_s, TUNING_SHARE * deadline.seconds)
        return self.minimum_final(reevaluate) + tuning

    def minimum_final(self, reevaluate: bool) -> float:
        """The same without a threshold search (the defaults are scored by the validation)."""
        return self.eval_s * (2 if reevaluate else 1) + self.export() + 2 * self.save_s


def probe_costs(net, val, config: TrainConfig, device, generation_s: float) -> Costs:
    """First estimates: one validation image (network, scoring, detection metadata) and one
    model write, timed.

    A training step is taken as three network passes (forward + backward) over the batch's
    pixels, plus making its crops (``generation_s`` per synthetic image, in parallel with the
    step when there are data loader workers).
    """
    import tempfile

    from ..nn import save_model
    from .export import detection_metadata
    from .validate import _candidates

    timing: dict = {}
    _, probs = evaluate(net, val[:1], device=device, amp=config.amp,
                        thresholds=default_thresholds(net), contact_width=config.contact_width,
                        timing=timing)
    start = time.monotonic()
    detection_metadata(probs, [val[0][1]], default_thresholds(net))
    detect_s = time.monotonic() - start
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nanosizer-probe-") as tmp:
        save_model(Path(tmp) / "m", net, {})
    save_s = time.monotonic() - start
    pixels = val[0][0].size
    compute = 3.0 * timing["network_s"] * config.batch_size * config.tile ** 2 / pixels
    data = generation_s * config.batch_size / config.crops_per_image
    step_s = max(compute, data) if config.num_workers else compute + data
    n = len(val)
    return Costs(eval_s=n * (timing["network_s"] + timing["postprocess_s"]),
                  post_s=n * timing["postprocess_s"], save_s=save_s, step_s=step_s,
                  candidates=len(_candidates(default_thresholds(net))) + len(RELATIVE_AREAS),
                  detect_s=n * detect_s)


def check_budget(deadline: Deadline, costs: Costs, n_val: int, reevaluate: bool) -> None:
    """Refuse a budget that cannot hold start-up, one step, one validation and the export."""
    if not deadline.limited:
        return
    need = deadline.elapsed() + costs.step_s + costs.minimum_final(reevaluate)
    log.info("budget %.2f min: start-up %.1f s, a step ~%.1f s, validation ~%.1f s, scoring "
             "~%.1f s, detection metadata ~%.1f s, writing ~%.1f s", deadline.seconds / 60,
             deadline.elapsed(), costs.step_s, costs.eval_s, costs.post_s, costs.detect_s,
             costs.save_s)
    if need > deadline.seconds:
        minimum = suggested_minutes(need / 60)
        raise InputError(
            f"--minutes {deadline.seconds / 60:g} is too short for this run: start-up, one "
            f"training step, a validation pass over {n_val} images and writing the model take "
            f"about {need / 60:.2f} min here; give --minutes {minimum:g} or more (or fewer "
            "--val-samples, a smaller --tile or --batch-size)")
