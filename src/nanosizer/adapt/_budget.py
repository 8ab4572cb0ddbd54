"""The time budget of ``nanosizer adapt``: each step's share and the time kept for the end.

Every share, reserve and margin of the run is named here; :class:`_Clock` is the one object
that hands them out.  The work after fine-tuning (the guards, the adapted network's threshold
search, writing the model) cannot be skipped: it is measured on the first passes over the
images and held back from fine-tuning (:meth:`_Clock.hold_passes`,
:meth:`_Clock.hold_evaluations`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field


from ..errors import InputError

__all__ = ["ADAPTED_EVALUATIONS", "AFTER_FINETUNE_PASSES", "BUDGET_SHARES",
           "CYCLEGAN_TRAINING", "FINETUNE_SHARE", "HOLD_MARGIN", "MIN_STEP_MINUTES", "RESERVE",
           "TUNING_SHARE", "WARN_RESERVE"]

log = logging.getLogger("nanosizer.adapt")

#: Shares of the budget of the steps before fine-tuning, which takes the rest.
BUDGET_SHARES = {"wgan": 0.06, "cyclegan": 0.25}

#: Share of fine-tuning: all of the budget that is left (:meth:`_Clock.minutes` caps it).
FINETUNE_SHARE = 1.0

#: Part of its share the CycleGAN trains for; the rest renders the training pairs.
CYCLEGAN_TRAINING = 0.85

#: Longest share of the budget each threshold search (of the initial and of the adapted
#: network) may take; stopped early, it keeps the best thresholds so far.
TUNING_SHARE = 0.1

#: The work after fine-tuning, in units of one pass of the initial model over the images (the
#: pseudo-labels): the guards run the candidate on every image (for images of mixed
#: magnification with the initial model choosing the zooms), the overlays both models on a
#: few, thresholds are scored on the validation data.  Measured on 24 frames of
#: 2048 x 1424 px: pseudo-labels about 0.75 min, the work after fine-tuning 1.5 min.
AFTER_FINETUNE_PASSES = 2.5

#: Validation passes of the adapted network, each as long as the initial network's: its
#: threshold search, the guard and the export.
ADAPTED_EVALUATIONS = 3

#: Share of the budget kept for the work after the timed steps, unless :meth:`_Clock.hold`
#: asks for more.
RESERVE = 0.1

#: Share of the budget kept on top of the measured work after fine-tuning.
HOLD_MARGIN = 0.05

#: Held share of the budget above which little is left for fine-tuning (a warning).
WARN_RESERVE = 0.6

#: Fewest minutes of a step: a GAN given less is skipped, fine-tuning gets at least this.
MIN_STEP_MINUTES = 0.05

#: What :meth:`_Clock.require` names as the work a budget must hold.
_FIXED_WORK = ("start-up, labelling them with the initial model, the guards and writing the "
               "model")


@dataclass
class _Clock:
    """Budget bookkeeping: minutes left for a step given its share.

    ``reserve`` (share of the budget) is kept for the work after the timed steps;
    :data:`RESERVE` unless :meth:`hold` asks for more.  ``start`` is on the
    :func:`time.monotonic` clock (that of :class:`~nanosizer.train.Deadline`).  ``after``
    is the measured work after fine-tuning so far, in minutes.
    """

    budget: float
    start: float = field(default_factory=time.monotonic)
    reserve: float = RESERVE
    after: float = 0.0

    @property
    def deadline(self):
        """The end of the budget as a :class:`~nanosizer.train.Deadline`."""
        from ..train import Deadline

        return Deadline(60.0 * self.budget, self.start)

    def elapsed(self) -> float:
        """Minutes since the start of the budget."""
        return (time.monotonic() - self.start) / 60.0

    def minutes(self, share: float) -> float:
        """Minutes for a step of ``share`` of the budget, within what the reserve leaves."""
        left = self.budget * (1.0 - self.reserve) - self.elapsed()
        return max(0.0, min(share * self.budget, left))

    def hold(self, minutes: float) -> None:
        """Keep ``minutes`` plus :data:`HOLD_MARGIN` of the budget for the end, when that is
        more than the reserve; warns when that leaves less than 40 % for the rest
        (:meth:`require` refuses what does not fit at all)."""
        wanted = HOLD_MARGIN + minutes / self.budget
        if wanted > WARN_RESERVE:
            log.warning("the work after fine-tuning needs about %.1f min of the budget of %.3g "
                        "min: little is left for fine-tuning; pass fewer or smaller images or a "
                        "larger --budget", minutes, self.budget)
        self.reserve = min(max(self.reserve, wanted), 1.0)

    def require(self, minutes: float, what: str) -> None:
        """Refuse the run (:class:`InputError`) when the time used so far plus ``minutes`` of
        work that cannot be skipped, ``what``, exceeds the budget; the message gives the
        minimum."""
        need = self.elapsed() + minutes
        if need > self.budget:
            from ..train.deadline import suggested_minutes

            minimum = suggested_minutes(need)
            raise InputError(f"--budget {self.budget:g} is too small for these images: {what} "
                             f"take about {need:.2f} min here; give --budget {minimum:g} or more, "
                             "or fewer or smaller images")

    def hold_passes(self, started: float) -> None:
        """Hold the work after fine-tuning as :data:`AFTER_FINETUNE_PASSES` passes like the
        one of the initial model over the images that began at minute ``started``."""
        self.after = max(self.after, AFTER_FINETUNE_PASSES * (self.elapsed() - started))
        self.require(self.after, _FIXED_WORK)
        self.hold(self.after)

    def hold_evaluations(self, evaluate_s: float, search_s: float) -> None:
        """Hold the adapted network's validation passes and threshold search, as long as the
        initial network's (``evaluate_s`` and ``search_s`` seconds)."""
        evaluations = ADAPTED_EVALUATIONS * evaluate_s / 60
        self.require(self.after + evaluations, _FIXED_WORK)
        self.after += evaluations + search_s / 60
        self.hold(self.after)

    def search_deadline(self, search_s: float | None):
        """The :class:`~nanosizer.train.Deadline` of the adapted network's threshold search.

        It keeps the time of the work after it: that after fine-tuning but the search itself
        (measured on the initial network's, ``search_s`` seconds), else, with no measurement,
        the margin of :meth:`hold`.
        """
        keep = (self.after - search_s / 60 if search_s is not None
                else HOLD_MARGIN * self.budget)
        return self.deadline.before(60 * keep)
