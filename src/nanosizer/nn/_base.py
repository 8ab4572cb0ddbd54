"""Common base of the segmentation networks: configuration record and shape-agnostic forward."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SegmentationNet", "pad_to_multiple"]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad the bottom and right of ``x`` (N, C, H, W) by reflection up to a multiple of ``multiple``.

    Reflection needs the pad to be smaller than the image side, so large pads (tiny inputs) are
    done in several reflections; a side of length 1 is replicated instead.
    """
    pad_h = -x.shape[-2] % multiple
    pad_w = -x.shape[-1] % multiple
    while pad_h or pad_w:
        h, w = x.shape[-2:]
        step_h, step_w = min(pad_h, max(h - 1, 0)), min(pad_w, max(w - 1, 0))
        if step_h == 0 and step_w == 0:  # a side of length 1: nothing to reflect
            return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        x = F.pad(x, (0, step_w, 0, step_h), mode="reflect")
        pad_h, pad_w = pad_h - step_h, pad_w - step_w
    return x


class SegmentationNet(nn.Module):
    """Base class: stores the constructor arguments and pads inputs to a valid size.

    Subclasses set the class attribute ``arch`` (registry name), call
    ``super().__init__(config)`` with a dict of *all* their constructor arguments, define
    ``self.depth`` (number of 2x downsamplings) and implement :meth:`forward_valid` for inputs
    whose H and W are multiples of ``2 ** depth``.
    """

    arch: str = ""
    depth: int

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._config = dict(config)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable); ``type(net)(**net.config)`` rebuilds it."""
        return dict(self._config)

    @property
    def in_channels(self) -> int:
        return int(self._config["in_channels"])

    @property
    def out_channels(self) -> int:
        return int(self._config["out_channels"])

    def with_outputs(self, out_channels: int, **changes: Any) -> SegmentationNet:
        """A copy with ``out_channels`` outputs that keeps the weights of the existing ones.

        ``changes`` are further constructor arguments (e.g. ``offset_channels`` of
        :class:`~nanosizer.nn.UNet`).  The 1x1 output convolution ``head`` gets new rows for
        added outputs (zero weights, zero bias: sigmoid 0.5 everywhere, e.g. zero centre
        offsets); new layers keep their initialisation; every other weight is copied.  Used to
        teach a trained network further maps without forgetting its own.
        """
        if out_channels < self.out_channels:
            raise ValueError(f"cannot drop outputs ({self.out_channels} -> {out_channels})")
        net = type(self)(**{**self.config, **changes, "out_channels": out_channels})
        new = net.state_dict()
        state = dict(new)  # new layers keep their initialisation
        for key, value in self.state_dict().items():
            if key not in new:
                raise ValueError(f"cannot keep {key}: the new network has no such layer")
            if key.startswith("head.") and new[key].shape != value.shape:
                grown = torch.zeros_like(new[key])
                grown[: value.shape[0]] = value
                value = grown
            state[key] = value
        net.load_state_dict(state)
        return net

    def widened(self, base_channels: int, noise: float = 0.02, seed: int = 0) -> SegmentationNet:
        """A copy ``base_channels / self.base_channels`` times as wide computing the same function.

        Function-preserving widening (Net2WiderNet, Chen et al. 2016): every channel of a
        widened layer is repeated ``k`` times side by side (new channel ``j`` copies channel
        ``j // k``), and weights reading a widened input are divided by ``k``, so the copies sum
        to the old response.  Because the copies are adjacent, concatenated skip connections
        keep the same ``j // k`` map.  Layers whose width does not scale (the input, the
        output head, a fixed-width branch) keep their shape.  ``noise`` (relative to each
        weight tensor's standard deviation) is added to the widened convolution weights so the
        copies can learn different features; 0 gives an exact copy of the function.

        Raises
        ------
        ValueError
            If the widening factor is not an integer >= 1, or a layer's width does not scale
            by it.
        """
        old_width = int(self._config["base_channels"])
        k, rest = divmod(base_channels, old_width)
        if rest or k < 1:
            raise ValueError(f"cannot widen from {old_width} to {base_channels} channels: "
                             f"the new width must be a multiple of the old one")
        net = type(self)(**{**self.config, "base_channels": base_channels})
        if k == 1:
            net.load_state_dict(self.state_dict())
            return net
        reads_dim = {}  # parameter name -> the dimension that indexes input channels
        for name, module in net.named_modules():
            if isinstance(module, nn.ConvTranspose2d):
                reads_dim[f"{name}.weight"] = 0
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                reads_dim[f"{name}.weight"] = 1
        generator = torch.Generator().manual_seed(seed)
        old, state = self.state_dict(), {}
        for key, target in net.state_dict().items():
            value = old[key]
            widened = False
            for dim, (n_new, n_old) in enumerate(zip(target.shape, value.shape)):
                if n_new == n_old:
                    continue
                if n_new != k * n_old:
                    raise ValueError(f"cannot widen {key}: {n_old} -> {n_new} channels "
                                     f"is not a factor of {k}")
                value = value.index_select(dim, torch.arange(n_new) // k)
                if reads_dim.get(key) == dim:
                    value = value / k
                widened = True
            if widened and key in reads_dim and noise > 0 and value.is_floating_point():
                scale = float(old[key].float().std()) * noise
                value = value + scale * torch.randn(value.shape, generator=generator).to(value)
            state[key] = value.clone()
        net.load_state_dict(state)
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, out_channels, H, W) for an input (N, in_channels, H, W) of any H, W."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self.arch} expects input (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        h, w = x.shape[-2:]
        y = self.forward_valid(pad_to_multiple(x, 2**self.depth))
        return y[..., :h, :w]

    def forward_valid(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._config.items())


def check_common(in_channels: int, out_channels: int, depth: int, base_channels: int) -> None:
    """Validate the arguments every architecture shares (ValueError naming the argument)."""
    for name, value, low in (
        ("in_channels", in_channels, 1),
        ("out_channels", out_channels, 1),
        ("depth", depth, 1),
        ("base_channels", base_channels, 1),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
