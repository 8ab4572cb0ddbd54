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
    offset_channels : int
        Width of a separate branch for the last two outputs (the centre offsets, see
        :mod:`nanosizer.segment.centres`; needs ``out_channels=5``): the second decoder stage
        upsampled and joined with the last one, a double convolution of this width and a 1x1
        convolution.  Offsets need more context and capacity than the shared 1x1 head of a
        narrow network gives them.  0 (default): all outputs from the shared head.

    Examples
    --------
    >>> import torch
    >>> net = UNet(depth=2, base_channels=4).eval()
    >>> net(torch.zeros(1, 1, 37, 53)).shape
    torch.Size([1, 3, 37, 53])
    """

    arch = "unet"
    #: Constructor arguments a stored model may omit (they came later; absent = default).
    optional_kwargs = ("offset_channels",)

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        *,
        depth: int = 4,
        base_channels: int = 16,
        norm: str = "batch",
        upsample: str = "bilinear",
        offset_channels: int = 0,
    ) -> None:
        check_common(in_channels, out_channels, depth, base_channels)
        if offset_channels and (out_channels != 5 or not 1 <= offset_channels <= 256):
            raise ValueError("offset_channels needs out_channels=5 and a width in 1..256, got "
                             f"{offset_channels} with out_channels={out_channels}")
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
                **({"offset_channels": offset_channels} if offset_channels else {}),
            )
        )
        self.depth = depth
        widths = [base_channels * 2**i for i in range(depth + 1)]
        inputs = [in_channels, *widths[:-1]]
        self.encoders = nn.ModuleList(DoubleConv(c_in, c, norm=norm) for c_in, c in zip(inputs, widths))
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList(_Up(widths[i + 1], widths[i], upsample) for i in range(depth))
        self.decoders = nn.ModuleList(DoubleConv(2 * c, c, norm=norm) for c in widths[:-1])
        self.offset_channels = offset_channels
        self.head = nn.Conv2d(widths[0], out_channels - (2 if offset_channels else 0), kernel_size=1)
        if offset_channels:
            self.offset_up = _Up(widths[1], widths[1], upsample)
            self.offset_conv = DoubleConv(widths[0] + widths[1], offset_channels, norm=norm)
            self.offset_head = nn.Conv2d(offset_channels, 2, kernel_size=1)

    def forward_valid(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        coarse = x
        for i in reversed(range(self.depth)):
            x = self.decoders[i](torch.cat([skips[i], self.ups[i](x)], dim=1))
            if i == 1:
                coarse = x
        if not self.offset_channels:
            return self.head(x)
        joined = torch.cat([x, self.offset_up(coarse)], dim=1)
        return torch.cat([self.head(x), self.offset_head(self.offset_conv(joined))], dim=1)
