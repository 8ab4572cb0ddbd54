"""MultiResUNet (Ibtehaz & Rahman 2020, Neural Networks 121, 74-87)."""

from __future__ import annotations

import torch
from torch import nn

from ._base import SegmentationNet, check_common
from .blocks import NORMS, MultiResBlock, ResPath

__all__ = ["MultiResUNet"]


class MultiResUNet(SegmentationNet):
    """UNet whose double convs are MultiRes blocks and whose skips are Res paths.

    Stage ``i`` (i = 0..depth, bottleneck at ``depth``) is a MultiRes block with
    ``U = base_channels * 2**i`` and ``W = alpha * U`` split into 3x3 convolutions of widths
    W/6, W/3, W/2 (emulating 3x3, 5x5 and 7x7 receptive fields) plus a 1x1 residual.  The skip of
    stage ``i`` goes through a Res path of ``depth - i`` residual units (4, 3, 2, 1 for depth 4).
    Upsampling is a 2x2 transposed convolution, as in the paper.  The paper's network has
    ``base_channels=32`` (7.3 M parameters); the default here is 16 (about a quarter of that).

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels and output maps (logits).
    depth : int
        Number of 2x downsamplings.
    base_channels : int
        ``U`` of the first stage; doubled at each downsampling.
    alpha : float
        Width multiplier ``W = alpha * U`` (1.67 in the paper).
    norm : {'batch', 'group'}
        Normalisation after each convolution.

    Examples
    --------
    >>> import torch
    >>> net = MultiResUNet(depth=2, base_channels=4).eval()
    >>> net(torch.zeros(1, 1, 37, 53)).shape
    torch.Size([1, 3, 37, 53])
    """

    arch = "multiresunet"

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        *,
        depth: int = 4,
        base_channels: int = 16,
        alpha: float = 1.67,
        norm: str = "batch",
    ) -> None:
        check_common(in_channels, out_channels, depth, base_channels)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha <= 0:
            raise ValueError(f"alpha must be a positive number, got {alpha!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        super().__init__(
            dict(
                in_channels=in_channels,
                out_channels=out_channels,
                depth=depth,
                base_channels=base_channels,
                alpha=float(alpha),
                norm=norm,
            )
        )
        self.depth = depth
        us = [base_channels * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList()
        self.res_paths = nn.ModuleList()
        ch = in_channels
        for i, u in enumerate(us):
            block = MultiResBlock(ch, u, alpha, norm=norm)
            self.encoders.append(block)
            ch = block.out_channels
            if i < depth:
                self.res_paths.append(ResPath(ch, u, depth - i, norm=norm))
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(depth)):
            self.ups.insert(0, nn.ConvTranspose2d(ch, us[i], kernel_size=2, stride=2))
            block = MultiResBlock(2 * us[i], us[i], alpha, norm=norm)
            self.decoders.insert(0, block)
            ch = block.out_channels
        self.head = nn.Conv2d(ch, out_channels, kernel_size=1)

    def forward_valid(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else self.pool(x))
            if i < self.depth:
                skips.append(self.res_paths[i](x))
        for i in reversed(range(self.depth)):
            x = self.decoders[i](torch.cat([skips[i], self.ups[i](x)], dim=1))
        return self.head(x)
