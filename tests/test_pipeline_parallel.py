"""Local worker processes share the CPUs instead of oversubscribing them."""

from __future__ import annotations

import os

from nanosizer.pipeline.parallel import available_cpus, map_images, worker_plan


def _thread_limits(_item):
    import torch

    return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads(), os.getpid()


def test_worker_plan_divides_the_cpus():
    assert worker_plan(1, cpus=8) == (1, 8)
    assert worker_plan(2, cpus=8) == (2, 4)
    assert worker_plan(3, cpus=8) == (3, 2)
    assert worker_plan(2, cpus=2) == (2, 1)
    assert worker_plan(5, cpus=2) == (2, 1)  # never more processes than CPUs
    assert worker_plan(1, cpus=1) == (1, 1)


def test_workers_run_with_their_share_of_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # what the workers would inherit unlimited
    used, threads = worker_plan(2)
    results = list(map_images(_thread_limits, [0, 1, 2], workers=2))
    assert [r[:2] for r in results] == [(str(threads), threads)] * 3
    assert used * threads <= max(available_cpus(), used)
    assert len({r[2] for r in results}) <= used and os.getpid() not in {r[2] for r in results}
