"""The deadline shared by the steps of a budgeted command."""

import math
import sys
import time

import pytest

from nanosizer.train.deadline import Deadline, process_age


def test_deadline_arithmetic_on_a_known_start():
    d = Deadline(60.0, start=time.monotonic() - 15.0)  # started 15 s ago
    assert d.remaining() == pytest.approx(45.0, abs=0.5)
    assert d.fraction_used() == pytest.approx(0.25, abs=0.01)
    assert d.fits(40.0) and not d.fits(50.0) and not d.expired()
    earlier = d.before(40.0)  # the time kept for the work after a step
    assert earlier.start == d.start and earlier.remaining() == pytest.approx(5.0, abs=0.5)
    assert d.before(50.0).expired()
    assert Deadline(10.0, start=time.monotonic() - 11.0).fraction_used() == 1.0


def test_unlimited_deadline_never_comes():
    d = Deadline.from_minutes(None)
    assert not d.limited and d.remaining() == math.inf and d.fits(1e12)
    assert d.before(1e6).remaining() == math.inf and d.fraction_used() == 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_command_budget_counts_the_interpreter_start_up():
    age = process_age()
    assert age > 0.0  # this process started before the test ran
    d = Deadline.from_minutes(1.0, since_process_start=True)
    assert d.elapsed() >= age - 0.05 and d.seconds == 60.0
    assert Deadline.from_minutes(1.0).elapsed() < 0.5
