"""UNet (Ronneberger et al. 2015) with configurable depth, width, normalisation and upsampling."""

from __future__ import annotations

import torch
from torch import nn

from ._base import SegmentationNet, check_common
from .blocks import NORMS, DoubleConv

__all__ = ["UNet", "UPSAMPLING"]

UPSAMPLING: tuple[str, ...] = ("bilinear", "transpose")


class _Up(nn.Module):
    """2x upsampling from ``in_ch`` to ``out_ch`` channels (1x1 conv + bilinear, or transposed).

    The 1x1 convolution runs before the interpolation: both are linear and commute, but at the
    lower resolution it costs 4x less and the interpolation moves half the channels.
    """

    def __init__(self, in_ch: int, out_ch: int, mode: str) -> None:
        super().__init__()
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=2, stride=2)
        else:
            self.up = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, kernel_size=1),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)


class UNet(SegmentationNet):
    """UNet: encoder of double convs with max pooling, decoder with skip connections.

    Stage ``i`` has ``base_channels * 2**i`` channels (i = 0..depth, the bottleneck is stage
    ``depth``).  Inputs of any size are padded by reflection to a multiple of ``2**depth`` and the
    output is cropped back.

    Parameters
    ----------
    in_channels : int
        Image channels (1 for grey-scale micrographs).
    out_channels : int
        Output maps (logits), e.g. 3 for background / particle interior / particle boundary.
    depth : int
        Number of 2x downsamplings.
    base_channels : int
        Width of the first stage; doubled at each downsampling.
    norm : {'batch', 'group'}
        Normalisation after each convolution.
    upsample : {'bilinear', 'transpose'}
        A 1x1 convolution followed by bilinear interpolation, or a 2x2 transposed convolution.

    Examples
    --------
    >>> import torch
    >>> net = UNet(depth=2, base_channels=4).eval()
    >>> net(torch.zeros(1, 1, 37, 53)).shape
    torch.Size([1, 3, 37, 53])
    """

    arch = "unet"

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        *,
        depth: int = 4,
        base_channels: int = 16,
        norm: str = "batch",
        upsample: str = "bilinear",
    ) -> None:
        check_common(in_channels, out_channels, depth, base_channels)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLING)}, got {upsample!r}")
        super().__init__(
            dict(
                in_channels=in_channels,
                out_channels=out_channels,
                depth=depth,
                base_channels=base_channels,
                norm=norm,
                upsample=upsample,
            )
        )
        self.depth = depth
        widths = [base_channels * 2**i for i in range(depth + 1)]
        inputs = [in_channels, *widths[:-1]]
        self.encoders = nn.ModuleList(DoubleConv(c_in, c, norm=norm) for c_in, c in zip(inputs, widths))
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList(_Up(widths[i + 1], widths[i], upsample) for i in range(depth))
        self.decoders = nn.ModuleList(DoubleConv(2 * c, c, norm=norm) for c in widths[:-1])
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    def forward_valid(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for i in reversed(range(self.depth)):
            x = self.decoders[i](torch.cat([skips[i], self.ups[i](x)], dim=1))
        return self.head(x)
