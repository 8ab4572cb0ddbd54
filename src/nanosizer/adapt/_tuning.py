"""The threshold searches of ``nanosizer adapt``: the initial network's, then the adapted one's.

The initial network's search, before fine-tuning, measures what the adapted network's will
cost, which the budget then holds; the adapted network's tries the same candidates, for a
fair comparison in :func:`.guards.keep_better`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._budget import TUNING_SHARE

if TYPE_CHECKING:
    import torch

    from ._budget import _Clock
    from ._config import AdaptConfig

__all__ = ["InitialSearch", "adapted_search", "initial_search"]


@dataclass(frozen=True)
class InitialSearch:
    """The initial network's threshold search.

    Attributes
    ----------
    f1 : float
        The validation F1 of its tuned thresholds (nan without validation data).
    search_s : float or None
        Seconds of the search; None when it did not run.
    search : dict
        The search's record (:func:`~nanosizer.train.tune_thresholds`).
    """

    f1: float
    search_s: float | None
    search: dict


def _eval_config(config: AdaptConfig):
    """The evaluation settings (device, precision, contact width) of a fine-tuning run."""
    from .finetune import FinetuneConfig

    return FinetuneConfig(tile=config.tile, seed=config.seed, device=config.device)


def initial_search(net: torch.nn.Module, val: Sequence, config: AdaptConfig, clock: _Clock) -> InitialSearch:
    """Tune the initial network's thresholds on ``val`` within :data:`~._budget.TUNING_SHARE`.

    The budget then holds the adapted network's validation passes and search, as long as
    these (:meth:`~._budget._Clock.hold_evaluations`).

    Parameters
    ----------
    net : SegmentationNet
        Holding the initial weights.
    val : sequence of (image, labels)
    config : AdaptConfig
    clock : _Clock

    Returns
    -------
    InitialSearch

    Raises
    ------
    InputError
        When the budget cannot hold the work after fine-tuning.
    """
    from ..train import Deadline
    from .guards import tuned_thresholds

    timing, search = {}, {}
    f1 = tuned_thresholds(net, val, _eval_config(config), timing=timing, search=search,
                          deadline=Deadline(60 * clock.minutes(TUNING_SHARE)))[1]
    clock.hold_evaluations(timing.get("evaluate_s", 0.0), timing.get("search_s", 0.0))
    return InitialSearch(f1, timing.get("search_s"), search)


def adapted_search(net: torch.nn.Module, val: Sequence, ft, clock: _Clock,
                   before: InitialSearch | None) -> tuple[tuple | None, dict]:
    """Tune the adapted network's thresholds, once for the guards and the model folder.

    Parameters
    ----------
    net : SegmentationNet
        Holding the adapted weights.
    val : sequence of (image, labels)
    ft : FinetuneConfig
    clock : _Clock
        The search ends in time for the guards' passes and the writing
        (:meth:`~._budget._Clock.search_deadline`).
    before : InitialSearch or None
        The initial network's search, whose candidates it tries; None without one.

    Returns
    -------
    tuned : (InstanceThresholds, float) or None
        The thresholds and their F1; None without ``val``.
    searches : dict
        The ``threshold_search`` report entry: the record of each search that ran.
    """
    from .guards import tuned_thresholds

    searches = {"initial": before.search if before is not None else {}, "adapted": {}}
    if not val:
        return None, {}
    search_s = before.search_s if before is not None else None
    # on the same candidates as the initial network, for a fair comparison
    tuned = tuned_thresholds(net, val, ft, deadline=clock.search_deadline(search_s),
                             search=searches["adapted"],
                             max_candidates=searches["initial"].get("tried"))
    return tuned, {k: v for k, v in searches.items() if v}
