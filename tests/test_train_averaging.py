"""Exponential moving average of network weights."""

import numpy as np
import pytest
import torch

from nanosizer.train.averaging import WeightAverage


def _set(net: torch.nn.Module, value: float) -> None:
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(value)


def test_constant_weights_average_to_themselves():
    net = torch.nn.Linear(3, 2)
    _set(net, 0.7)
    average = WeightAverage(net, decay=0.9)
    for _ in range(20):
        average.update(net)
    copy = torch.nn.Linear(3, 2)
    average.copy_to(copy)
    assert all(torch.allclose(p, torch.full_like(p, 0.7)) for p in copy.parameters())


def test_average_follows_a_step_geometrically():
    net = torch.nn.Linear(1, 1, bias=False)
    _set(net, 0.0)
    average = WeightAverage(net, decay=0.5)
    for _ in range(30):  # past the decay ramp (it reaches 0.5 after 8 updates)
        average.update(net)
    _set(net, 1.0)
    for _ in range(3):
        average.update(net)
    copy = torch.nn.Linear(1, 1, bias=False)
    average.copy_to(copy)
    # the distance to the new weight halves with every update
    assert copy.weight.detach().item() == pytest.approx(1.0 - 0.5 ** 3)


def test_average_damps_oscillating_weights():
    rng = np.random.default_rng(0)
    net = torch.nn.Linear(4, 4)
    average = WeightAverage(net, decay=0.95)
    for _ in range(200):  # noisy iterates around 0.25
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.as_tensor(0.25 + rng.normal(0, 1, p.shape), dtype=p.dtype))
        average.update(net)
    copy = torch.nn.Linear(4, 4)
    average.copy_to(copy)
    last_error = float(torch.cat([(p.detach() - 0.25).abs().flatten() for p in net.parameters()]).mean())
    mean_error = float(torch.cat([(p.detach() - 0.25).abs().flatten() for p in copy.parameters()]).mean())
    assert mean_error < last_error / 3


def test_integer_buffers_are_copied_and_bn_statistics_averaged():
    net = torch.nn.BatchNorm2d(2)
    average = WeightAverage(net, decay=0.5)
    net.train()
    net(torch.randn(4, 2, 3, 3) + 5.0)
    average.update(net)
    copy = torch.nn.BatchNorm2d(2)
    average.copy_to(copy)
    assert int(copy.num_batches_tracked) == 1
    # running mean moved from 0 towards the batch mean, and the average part of that way
    assert torch.all(copy.running_mean > 0) and torch.all(copy.running_mean < net.running_mean)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1, 1.5])
def test_decay_outside_open_interval_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(torch.nn.Linear(1, 1), decay)
