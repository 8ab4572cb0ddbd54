"""CycleGAN building blocks: ResNet generator, PatchGAN discriminator, image pool."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["ResnetGenerator", "PatchDiscriminator", "ImagePool"]


class _ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Johnson-style generator: c7s1-C, two stride-2 downsamplings, residual blocks, two
    upsamplings, c7s1-1 with tanh.  (N, 1, H, W) -> (N, 1, H, W) in [-1, 1]; H and W are
    padded (reflect) to multiples of 4 and cropped back, so any size works.
    """

    def __init__(self, channels: int = 16, n_blocks: int = 3) -> None:
        super().__init__()
        c = channels
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(1, c, 7),
                                   nn.InstanceNorm2d(c), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, stride=2, padding=1),
                       nn.InstanceNorm2d(c * mult * 2), nn.ReLU(True)]
        layers += [_ResBlock(c * 4) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(c * mult, c * mult // 2, 3, padding=1),
                       nn.InstanceNorm2d(c * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, 1, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = nn.functional.pad(x, (0, pw, 0, ph), mode=mode)
        return self.body(x)[..., :h, :w]


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``n_layers`` stride-2 4x4 convolutions, then two stride-1 ones; (N, 1, H, W) ->
    (N, 1, h, w) real/fake scores of overlapping patches (70x70 receptive field for 3 layers).
    """

    def __init__(self, channels: int = 16, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(1, channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = channels
        for i in range(1, n_layers):
            nxt = channels * 2 ** min(i, 3)
            layers += [nn.Conv2d(ch, nxt, 4, 2, 1), nn.InstanceNorm2d(nxt), nn.LeakyReLU(0.2, True)]
            ch = nxt
        nxt = channels * 2 ** min(n_layers, 3)
        layers += [nn.Conv2d(ch, nxt, 4, 1, 1), nn.InstanceNorm2d(nxt), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(nxt, 1, 4, 1, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ImagePool:
    """History of generated images (Shrivastava et al. 2017): the discriminator sees, half of
    the time, an older fake instead of the newest one, which damps oscillations.
    """

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size, self.rng, self.images = size, rng, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch of the same shape, mixing ``images`` with stored ones."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image[None]
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                i = int(self.rng.integers(self.size))
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out)
