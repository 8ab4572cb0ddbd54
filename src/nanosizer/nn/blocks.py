"""Building blocks shared by the segmentation networks.

All blocks keep the spatial size (``padding=1`` for 3x3 convolutions); down- and upsampling is
done by the architectures.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "NORMS",
    "make_norm",
    "ConvNormAct",
    "DoubleConv",
    "MultiResBlock",
    "ResPath",
    "multires_channels",
]

NORMS: tuple[str, ...] = ("batch", "group")


def _group_count(channels: int, max_groups: int = 8) -> int:
    """Largest divisor of ``channels`` that is at most ``max_groups``."""
    return max(g for g in range(1, max_groups + 1) if channels % g == 0)


def make_norm(norm: str, channels: int) -> nn.Module:
    """Normalisation layer for ``channels`` feature maps.

    Parameters
    ----------
    norm : {'batch', 'group'}
        ``'batch'``: :class:`torch.nn.BatchNorm2d`; ``'group'``: :class:`torch.nn.GroupNorm`
        with up to 8 groups (independent of the batch size, better for batches of 1-2; but
        its statistics come from each input, so outputs depend on the tile size at inference).
    channels : int
        Number of feature maps.
    """
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(_group_count(channels), channels)
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


class ConvNormAct(nn.Sequential):
    """Convolution (no bias) -> normalisation -> optional ReLU; keeps H and W."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel_size: int = 3, *, norm: str = "batch", act: bool = True
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=False),
            make_norm(norm, out_ch),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class DoubleConv(nn.Sequential):
    """Two 3x3 conv -> norm -> ReLU layers (the UNet stage): (N, in_ch, H, W) -> (N, out_ch, H, W)."""

    def __init__(self, in_ch: int, out_ch: int, *, norm: str = "batch") -> None:
        super().__init__(ConvNormAct(in_ch, out_ch, norm=norm), ConvNormAct(out_ch, out_ch, norm=norm))


def multires_channels(u: int, alpha: float) -> tuple[int, int, int]:
    """Widths of the three 3x3 convolutions of a MultiRes block with ``W = alpha * u``.

    The split is W/6, W/3, W/2 (rounded down), as in Ibtehaz & Rahman (2020).
    """
    w = alpha * u
    widths = (int(w / 6), int(w / 3), int(w / 2))
    if widths[0] < 1:
        raise ValueError(f"alpha * channels must be >= 6 for a MultiRes block, got {alpha} * {u}")
    return widths


class MultiResBlock(nn.Module):
    """MultiRes block: a chain of three 3x3 convolutions whose outputs are concatenated.

    The chain has receptive fields 3x3, 5x5 and 7x7; a 1x1 convolution on the input is added as a
    residual (Ibtehaz & Rahman 2020, Fig. 3c).  Output channels: ``sum(multires_channels(u, alpha))``.
    """

    def __init__(self, in_ch: int, u: int, alpha: float = 1.67, *, norm: str = "batch") -> None:
        super().__init__()
        c3, c5, c7 = multires_channels(u, alpha)
        self.out_channels = c3 + c5 + c7
        self.conv3 = ConvNormAct(in_ch, c3, norm=norm)
        self.conv5 = ConvNormAct(c3, c5, norm=norm)
        self.conv7 = ConvNormAct(c5, c7, norm=norm)
        self.shortcut = ConvNormAct(in_ch, self.out_channels, 1, norm=norm, act=False)
        self.norm_cat = make_norm(norm, self.out_channels)
        self.norm_out = make_norm(norm, self.out_channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv3(x)
        b = self.conv5(a)
        c = self.conv7(b)
        y = self.norm_cat(torch.cat([a, b, c], dim=1))
        return self.norm_out(self.act(y + self.shortcut(x)))


class _ResUnit(nn.Module):
    """3x3 conv plus 1x1 shortcut, ReLU, norm (one unit of a Res path)."""

    def __init__(self, in_ch: int, out_ch: int, *, norm: str) -> None:
        super().__init__()
        self.conv = ConvNormAct(in_ch, out_ch, 3, norm=norm)
        self.shortcut = ConvNormAct(in_ch, out_ch, 1, norm=norm, act=False)
        self.act = nn.ReLU(inplace=True)
        self.norm = make_norm(norm, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(self.conv(x) + self.shortcut(x)))


class ResPath(nn.Sequential):
    """Res path: ``length`` residual conv units on a skip connection, (N, in_ch) -> (N, out_ch).

    Deeper skip connections get shorter paths (4, 3, 2, 1 for a depth-4 network) because the
    semantic gap between encoder and decoder features shrinks with depth.
    """

    def __init__(self, in_ch: int, out_ch: int, length: int, *, norm: str = "batch") -> None:
        if length < 1:
            raise ValueError(f"ResPath length must be >= 1, got {length}")
        units = [_ResUnit(in_ch if i == 0 else out_ch, out_ch, norm=norm) for i in range(length)]
        super().__init__(*units)
