"""Threads from the CPUs other work leaves free."""

from __future__ import annotations

import os

import pytest

from nanosizer._cpus import available_cpus, free_cpus


@pytest.mark.parametrize(("cpus", "load", "free"),
                         [(2, 0.0, 2), (2, 0.9, 2), (2, 1.0, 1), (2, 2.8, 1), (2, 9.0, 1),
                          (8, 3.5, 5), (1, 0.0, 1)])
def test_free_cpus(cpus, load, free):
    assert free_cpus(cpus, load) == free


def test_defaults_come_from_the_machine(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert free_cpus() == available_cpus() >= 1
    monkeypatch.setattr(os, "getloadavg", lambda: (100.0, 0.0, 0.0))
    assert free_cpus() == 1


def test_torch_threads_follow_the_load_unless_set(monkeypatch):
    torch = pytest.importorskip("torch")
    from nanosizer.nn.device import _THREAD_ENV, configure_threads

    before = torch.get_num_threads()
    for name in _THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    try:
        monkeypatch.setattr(os, "getloadavg", lambda: (100.0, 0.0, 0.0))
        assert configure_threads() == 1 == torch.get_num_threads()
        monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
        assert configure_threads() == available_cpus() == torch.get_num_threads()
        torch.set_num_threads(1)
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == 1  # an explicit setting wins
    finally:
        torch.set_num_threads(before)
