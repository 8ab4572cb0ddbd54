"""Exponential moving average of a network's weights during training (Polyak averaging)."""

from __future__ import annotations

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """Running exponential average of a network's parameters and buffers.

    After every optimiser step call :meth:`update`; :meth:`copy_to` writes the average into a
    network of the same architecture.  Averaging the last steps smooths out their noise
    (Polyak averaging; the "mean teacher" of self-training).  The decay ramps up as
    ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so that a short run is not
    dominated by the starting weights.

    Parameters
    ----------
    net : torch.nn.Module
        The network being trained; its current weights start the average.
    decay : float
        Weight of the old average per update, in (0, 1); ``1 / (1 - decay)`` is the number
        of recent steps the average mostly spans.

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> average = WeightAverage(net, decay=0.9)
    >>> with torch.no_grad():
    ...     _ = net.weight.add_(1.0)
    >>> average.update(net)
    >>> average.updates
    1
    """

    def __init__(self, net: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self._state = {name: value.detach().clone() for name, value in net.state_dict().items()}

    def update(self, net: torch.nn.Module) -> None:
        """Move the average towards the current weights of ``net``."""
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        with torch.no_grad():
            for name, value in net.state_dict().items():
                average = self._state[name]
                if average.is_floating_point():
                    average.lerp_(value.detach().to(average.dtype), 1.0 - decay)
                else:  # counters such as BatchNorm's num_batches_tracked
                    average.copy_(value)
        self.updates += 1

    def copy_to(self, net: torch.nn.Module) -> None:
        """Load the averaged weights into ``net`` (same architecture)."""
        net.load_state_dict(self._state)
