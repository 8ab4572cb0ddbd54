"""A wall-clock deadline shared by the steps of a budgeted command (``train``, ``adapt``).

A budget is a promise about the whole command, start-up to written model: one
:class:`Deadline` is made when the command starts and handed down; each step asks how much
time is left and stops, keeping what it has, when the next piece of work would not fit.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

__all__ = ["Deadline", "process_age", "suggested_minutes"]


def suggested_minutes(need: float) -> float:
    """The budget to suggest when ``need`` minutes do not fit: 20 % more, up to a tenth.

    >>> suggested_minutes(0.27)
    0.4
    """
    return math.ceil(round(need * 12, 3)) / 10


def process_age() -> float:
    """Seconds since this process started (interpreter start-up, imports); 0.0 where unknown.

    Read from ``/proc`` (Linux); elsewhere the start-up before the first line of nanosizer
    runs is not counted.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            # field 22 (after the parenthesised command name, which may hold spaces)
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    return age if 0.0 <= age < 86_400 else 0.0


@dataclass(frozen=True)
class Deadline:
    """The end of a time budget on the monotonic clock.

    Parameters
    ----------
    seconds : float
        Length of the budget (``math.inf``: no limit).
    start : float
        :func:`time.monotonic` value at which the budget started.

    Examples
    --------
    >>> d = Deadline(60.0, start=time.monotonic())
    >>> 59.0 < d.remaining() <= 60.0 and not d.expired()
    True
    >>> d.before(50.0).remaining() <= 10.0
    True
    >>> Deadline.unlimited().remaining()
    inf
    """

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @classmethod
    def from_minutes(cls, minutes: float | None, *, since_process_start: bool = False) -> Deadline:
        """A budget of ``minutes`` starting now (or when the process started); None: no limit."""
        if minutes is None:
            return cls.unlimited()
        age = process_age() if since_process_start else 0.0
        return cls(60.0 * float(minutes), time.monotonic() - age)

    @classmethod
    def unlimited(cls) -> Deadline:
        """A deadline that never comes."""
        return cls(math.inf)

    @property
    def limited(self) -> bool:
        """Whether there is a limit at all."""
        return math.isfinite(self.seconds)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def remaining(self) -> float:
        """Seconds left (negative once overrun; ``inf`` without a limit)."""
        return self.seconds - self.elapsed()

    def expired(self) -> bool:
        """Whether the time is used up."""
        return self.remaining() <= 0.0

    def fits(self, seconds: float) -> bool:
        """Whether work of ``seconds`` ends before the deadline."""
        return seconds <= self.remaining()

    def before(self, seconds: float) -> Deadline:
        """The deadline ``seconds`` earlier (the time kept for the work after a step)."""
        return Deadline(self.seconds - max(float(seconds), 0.0), self.start)

    def fraction_used(self) -> float:
        """Elapsed share of the budget, in [0, 1] (0 without a limit)."""
        if not self.limited:
            return 0.0
        return min(max(self.elapsed() / max(self.seconds, 1e-9), 0.0), 1.0)
