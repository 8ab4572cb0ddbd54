"""WGAN-GP generator of single-particle outlines (64x64 binary masks).

A few dozen example outlines (drawn by the user, or confident particles cut out of their
images) are too few to describe the shape variety of a sample.  A Wasserstein GAN with gradient
penalty (Gulrajani et al. 2017) learns their distribution and samples new outlines, which the
synthetic engine places into simulated masks (``ParticleConfig.outlines_dir``, see
:func:`write_outlines`).

A trained generator is a folder: ``outline_gan.json`` (configuration) and
``generator.safetensors``; no pickle anywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._gan_io import read_gan_folder, save_gan_folder

__all__ = ["OutlineGANConfig", "OutlineGAN", "train_outline_gan", "load_outline_gan",
           "prepare_outlines", "write_outlines"]

SIZE = 64
CONFIG_NAME, WEIGHTS_NAME = "outline_gan.json", "generator.safetensors"


@dataclass(frozen=True)
class OutlineGANConfig:
    """Architecture and optimisation of the outline WGAN-GP.

    Parameters
    ----------
    latent_dim : int
        Size of the generator's noise vector.
    channels : int
        Width of the smallest feature maps (the networks use 1x, 2x, 4x, 8x).
    batch_size : int
    critic_steps : int
        Critic updates per generator update.
    gp_weight : float
        Weight of the gradient penalty.
    lr : float
        Adam learning rate (betas 0, 0.9).
    size : int
        Side (px) at which the GAN works, a power of two >= 8; samples are upsampled
        (bilinear, before thresholding) to 64x64.  32 keeps outlines smooth and steps cheap.
    """

    latent_dim: int = 64
    channels: int = 16
    batch_size: int = 32
    critic_steps: int = 5
    gp_weight: float = 10.0
    lr: float = 2e-4
    size: int = 32

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise InputError(f"outline GAN {f.name} must be a positive number, got {value!r}")
        if not isinstance(self.size, int) or self.size < 8 or self.size & (self.size - 1):
            raise InputError(f"outline GAN size must be a power of two >= 8, got {self.size!r}")


class _Generator(nn.Module):
    """z (N, latent) -> logits (N, 1, size, size); 4x4 seed, nearest-upsample conv stages."""

    def __init__(self, latent_dim: int, channels: int, size: int) -> None:
        super().__init__()
        n_up = int(np.log2(size // 4))
        widths = [channels * 2 ** min(n_up - i, 3) for i in range(n_up + 1)]
        self.seed = nn.Linear(latent_dim, widths[0] * 16)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(c_in, c_out, 3, padding=1),
                       nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.width = widths[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.seed(z).view(-1, self.width, 4, 4))


class _Critic(nn.Module):
    """(N, 1, size, size) in [-1, 1] -> (N,) scores; strided convs, no normalisation (GP)."""

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        n_down = int(np.log2(size // 4))
        widths = [1] + [channels * 2 ** min(i, 3) for i in range(n_down)]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * 16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))[:, 0]


def _to_bool(logits: np.ndarray) -> np.ndarray:
    """Binarise generated masks: largest connected object, holes filled."""
    from scipy import ndimage as ndi

    out = np.zeros(logits.shape, bool)
    for i, mask in enumerate(logits > 0):
        labels, n = ndi.label(mask)
        if n:
            largest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
            out[i] = ndi.binary_fill_holes(labels == largest)
    return out


@dataclass
class OutlineGAN:
    """A trained outline generator.

    Attributes
    ----------
    generator : torch.nn.Module
    config : OutlineGANConfig
    history : dict
        Training record (steps, seconds, last losses).
    """

    generator: nn.Module
    config: OutlineGANConfig
    history: dict

    @torch.no_grad()
    def sample(self, n: int, rng: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` outlines: (n, 64, 64) bool, one particle each (may be empty, rarely)."""
        rng = np.random.default_rng(rng)
        device = next(self.generator.parameters()).device
        z = torch.from_numpy(rng.standard_normal((n, self.config.latent_dim)).astype(np.float32))
        was_training = self.generator.training
        self.generator.eval()
        try:
            logits = self.generator(z.to(device)).float()
            if logits.shape[-1] != SIZE:
                logits = nn.functional.interpolate(logits, size=(SIZE, SIZE), mode="bilinear",
                                                   align_corners=False)
            logits = logits[:, 0].cpu().numpy()
        finally:
            self.generator.train(was_training)
        return _to_bool(logits)

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``outline_gan.json`` and ``generator.safetensors`` into a new (or empty) ``folder``, atomically."""
        nets = {WEIGHTS_NAME: self.generator}
        return save_gan_folder(folder, CONFIG_NAME, self.config, self.history, nets,
                               overwrite=overwrite)


def load_outline_gan(folder: str | Path, device: str | torch.device | None = None) -> OutlineGAN:
    """Restore an :class:`OutlineGAN` saved by :meth:`OutlineGAN.save` (strict keys)."""
    from ..nn import select_device

    config, history, states = read_gan_folder(
        folder, CONFIG_NAME, OutlineGANConfig, [WEIGHTS_NAME], "an outline GAN"
    )
    gen = _Generator(config.latent_dim, config.channels, config.size)
    gen.load_state_dict(states[WEIGHTS_NAME], strict=True)
    return OutlineGAN(gen.to(select_device(device)).eval(), config, history)


def prepare_outlines(masks, size: int = SIZE, fill: float = 0.85) -> np.ndarray:
    """Centre and scale binary particle masks into (N, size, size) float32 in [-1, 1].

    Each mask's largest object is cropped to its bounding box, scaled so its longer side is
    ``fill * size`` and centred.  Empty masks are dropped.

    Parameters
    ----------
    masks : sequence of (H, W) ndarray
        Binary images (any non-zero value is particle), any sizes.
    """
    from scipy import ndimage as ndi
    from skimage.transform import resize

    out = []
    for mask in masks:
        labels, n = ndi.label(np.asarray(mask) > 0)
        if n == 0:
            continue
        obj = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
        rows, cols = np.flatnonzero(obj.any(1)), np.flatnonzero(obj.any(0))
        obj = obj[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        scale = fill * size / max(obj.shape)
        shape = tuple(max(1, round(s * scale)) for s in obj.shape)
        small = resize(obj.astype(np.float32), shape, order=1, anti_aliasing=True) > 0.5
        canvas = np.zeros((size, size), bool)
        y0, x0 = (size - shape[0]) // 2, (size - shape[1]) // 2
        canvas[y0 : y0 + shape[0], x0 : x0 + shape[1]] = small
        out.append(canvas)
    if not out:
        raise InputError("no particle found in the example outlines; give white particles on black")
    return np.stack(out).astype(np.float32) * 2 - 1


def _augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random rotations by multiples of 90 degrees and flips (shape-preserving)."""
    k = int(torch.randint(4, (1,), generator=gen))
    batch = torch.rot90(batch, k, dims=(2, 3))
    if int(torch.randint(2, (1,), generator=gen)):
        batch = torch.flip(batch, dims=(3,))
    return batch


def _gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                      gen: torch.Generator) -> torch.Tensor:
    alpha = torch.rand(real.shape[0], 1, 1, 1, generator=gen).to(real.device)
    mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def _critic_step(critic, generator, opt_c, real, cfg, gen, device) -> float:
    z = torch.randn(real.shape[0], cfg.latent_dim, generator=gen).to(device)
    with torch.no_grad():
        fake = torch.tanh(generator(z))
    loss_w = critic(fake).mean() - critic(real).mean()
    loss = loss_w + cfg.gp_weight * _gradient_penalty(critic, real, fake, gen)
    opt_c.zero_grad(set_to_none=True)
    loss.backward()
    opt_c.step()
    return float(loss_w.detach())


def _generator_step(critic, generator, opt_g, cfg, gen, device) -> float:
    z = torch.randn(cfg.batch_size, cfg.latent_dim, generator=gen).to(device)
    loss = -critic(torch.tanh(generator(z))).mean()
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return float(loss.detach())


def train_outline_gan(
    outlines, steps: int = 500, rng: int | np.random.Generator | None = 0,
    config: OutlineGANConfig = OutlineGANConfig(), *, minutes: float | None = None,
    device: str | torch.device | None = None,
) -> OutlineGAN:
    """Train a WGAN-GP on example outlines.

    Parameters
    ----------
    outlines : sequence of (H, W) ndarray
        Binary single-particle images (white particle on black), any sizes; see
        :func:`prepare_outlines`.
    steps : int
        Generator updates (each after ``config.critic_steps`` critic updates).
    rng : int or numpy.random.Generator, optional
        Seeds weights, noise and augmentation.
    config : OutlineGANConfig
    minutes : float, optional
        Stop earlier when this wall-clock time is used up (no step is started that would, at
        the mean step time so far, end after it).
    device : str or torch.device, optional
        None picks CUDA when available.

    Returns
    -------
    OutlineGAN
        ``history`` holds ``steps``, ``seconds``, ``critic_loss`` (Wasserstein estimate, last
        step) and ``generator_loss``.
    """
    from ..nn import select_device

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    device = select_device(device)
    seed = int(np.random.default_rng(rng).integers(2**62))
    gen = torch.Generator().manual_seed(seed)
    data = torch.from_numpy(prepare_outlines(outlines))[:, None]
    if config.size != SIZE:
        data = nn.functional.interpolate(data, size=(config.size,) * 2, mode="area")
    with torch.random.fork_rng(devices=[]):  # seeded weight init, global state untouched
        torch.manual_seed(seed)
        generator = _Generator(config.latent_dim, config.channels, config.size).to(device)
        critic = _Critic(config.channels, config.size).to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=(0.0, 0.9))
    start, done, loss_c, loss_g = time.perf_counter(), 0, float("nan"), float("nan")
    # a step is started only when one as long as the mean so far ends within ``minutes``
    while done < steps and (minutes is None or (time.perf_counter() - start) * (done + 1)
                            / max(done, 1) <= 60 * minutes):
        for _ in range(config.critic_steps):
            idx = torch.randint(len(data), (config.batch_size,), generator=gen)
            real = _augment(data[idx], gen).to(device)
            loss_c = _critic_step(critic, generator, opt_c, real, config, gen, device)
        loss_g = _generator_step(critic, generator, opt_g, config, gen, device)
        done += 1
    history = {"steps": done, "seconds": round(time.perf_counter() - start, 3),
               "critic_loss": loss_c, "generator_loss": loss_g, "examples": len(data)}
    return OutlineGAN(generator.eval(), config, history)


def write_outlines(folder: str | Path, masks: np.ndarray, prefix: str = "gan") -> Path:
    """Write (N, H, W) bool masks as PNGs (white particle) for ``ParticleConfig.outlines_dir``.

    Empty masks are skipped.
    """
    import imageio.v3 as iio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, mask in enumerate(masks):
        if mask.any():
            iio.imwrite(folder / f"{prefix}-{i:04d}.png", mask.astype(np.uint8) * 255)
    return folder
