"""CycleGAN between simulated masks (or synthetic images) and tiles of the user's real images.

Domain A is simulated: binary particle masks (or synthetic micrographs) whose labels are known;
domain B is the user's real micrographs, unlabelled.  Two ResNet generators (A->B, B->A) and two
PatchGAN discriminators are trained with least-squares adversarial, cycle-consistency and
identity losses (Zhu et al. 2017), the discriminators fed from an image pool.  ``G_AB`` then
renders realistic training images from simulated masks whose labels are exact — except for
particles the generator failed to draw, which :func:`filter_unrendered` removes from the labels.

All images are float in [0, 1] (bool masks are accepted for domain A): normalise real images
first (:func:`nanosizer.train.normalize_image`, clipped).  A trained model is a folder with
``cyclegan.json`` and the two generators as safetensors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._cyclegan_nets import ImagePool, PatchDiscriminator, ResnetGenerator
from ._gan_io import read_gan_folder, save_gan_folder

__all__ = ["CycleGANConfig", "CycleGAN", "train_cyclegan", "load_cyclegan", "random_tiles",
           "filter_unrendered"]

CONFIG_NAME = "cyclegan.json"
WEIGHTS = {"g_ab": "generator_ab.safetensors", "g_ba": "generator_ba.safetensors"}


@dataclass(frozen=True)
class CycleGANConfig:
    """Architecture and optimisation of the CycleGAN.

    Parameters
    ----------
    gen_channels, gen_blocks : int
        Width of the generators' first layer and number of residual blocks.
    disc_channels, disc_layers : int
        Width and number of stride-2 layers of the PatchGAN discriminators.
    batch_size : int
        Tiles of each domain per step.
    cycle_weight, identity_weight : float
        Weights of the cycle loss and of the identity loss (the latter relative to the cycle
        weight, as in the reference implementation).
    lr : float
        Adam learning rate (betas 0.5, 0.999), decayed linearly to 0 over the second half.
    pool_size : int
        Image-pool capacity (0 disables the pool).
    """

    gen_channels: int = 16
    gen_blocks: int = 3
    disc_channels: int = 16
    disc_layers: int = 3
    batch_size: int = 2
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    lr: float = 2e-4
    pool_size: int = 50

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            positive = f.name not in ("identity_weight", "pool_size", "gen_blocks")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or (
                positive and value == 0
            ):
                raise InputError(f"CycleGAN {f.name} must be a {'positive' if positive else 'non-negative'} "
                                 f"number, got {value!r}")


def _to_tensor(tiles) -> torch.Tensor:
    """(N, T, T) bool or float in [0, 1] -> (N, 1, T, T) float32 in [-1, 1]."""
    arr = np.asarray(tiles)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"tiles must be a non-empty (N, T, T) array, got shape {arr.shape}")
    arr = np.clip(arr.astype(np.float32), 0.0, 1.0) * 2.0 - 1.0
    return torch.from_numpy(arr)[:, None]


@dataclass
class CycleGAN:
    """Trained generators (``g_ab``: simulated -> real, ``g_ba``: real -> simulated)."""

    g_ab: nn.Module
    g_ba: nn.Module
    config: CycleGANConfig
    history: dict

    @torch.no_grad()
    def translate(self, images, direction: str = "ab", batch_size: int = 4) -> np.ndarray:
        """Translate (N, H, W) images of [0, 1] (or bool masks) of any size.

        Returns
        -------
        (N, H, W) ndarray of float32 in [0, 1]
        """
        net = {"ab": self.g_ab, "ba": self.g_ba}[direction]
        device = next(net.parameters()).device
        x = _to_tensor(images)
        was_training = net.training
        net.eval()
        try:
            out = [net(x[i : i + batch_size].to(device)).float().cpu()
                   for i in range(0, len(x), batch_size)]
        finally:
            net.train(was_training)
        return ((torch.cat(out)[:, 0].numpy() + 1.0) / 2.0).astype(np.float32)

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``cyclegan.json`` and the generators' safetensors into a new (or empty) ``folder``, atomically."""
        nets = {name: getattr(self, key) for key, name in WEIGHTS.items()}
        return save_gan_folder(folder, CONFIG_NAME, self.config, self.history, nets,
                               overwrite=overwrite)


def load_cyclegan(folder: str | Path, device: str | torch.device | None = None) -> CycleGAN:
    """Restore a :class:`CycleGAN` written by :meth:`CycleGAN.save` (strict keys)."""
    from ..nn import select_device

    config, history, states = read_gan_folder(
        folder, CONFIG_NAME, CycleGANConfig, WEIGHTS.values(), "a CycleGAN"
    )
    device = select_device(device)
    nets = {}
    for key, name in WEIGHTS.items():
        net = ResnetGenerator(config.gen_channels, config.gen_blocks)
        net.load_state_dict(states[name], strict=True)
        nets[key] = net.to(device).eval()
    return CycleGAN(nets["g_ab"], nets["g_ba"], config, history)


class _Trainer:
    """Networks, optimisers and pools of one CycleGAN run."""

    def __init__(self, cfg: CycleGANConfig, device: torch.device, seed: int) -> None:
        with torch.random.fork_rng(devices=[]):  # seeded init, global state untouched
            torch.manual_seed(seed)
            self.g_ab = ResnetGenerator(cfg.gen_channels, cfg.gen_blocks).to(device)
            self.g_ba = ResnetGenerator(cfg.gen_channels, cfg.gen_blocks).to(device)
            self.d_a = PatchDiscriminator(cfg.disc_channels, cfg.disc_layers).to(device)
            self.d_b = PatchDiscriminator(cfg.disc_channels, cfg.disc_layers).to(device)
        gen_params = [*self.g_ab.parameters(), *self.g_ba.parameters()]
        disc_params = [*self.d_a.parameters(), *self.d_b.parameters()]
        self.opt_g = torch.optim.Adam(gen_params, lr=cfg.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(disc_params, lr=cfg.lr, betas=(0.5, 0.999))
        rng = np.random.default_rng(seed)
        self.pool_a, self.pool_b = ImagePool(cfg.pool_size, rng), ImagePool(cfg.pool_size, rng)
        self.cfg = cfg

    def set_lr(self, factor: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = self.cfg.lr * factor

    def step(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        cfg, mse, l1 = self.cfg, nn.functional.mse_loss, nn.functional.l1_loss
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(False)
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        pred_b, pred_a = self.d_b(fake_b), self.d_a(fake_a)
        adv = mse(pred_b, torch.ones_like(pred_b)) + mse(pred_a, torch.ones_like(pred_a))
        cycle = l1(self.g_ba(fake_b), a) + l1(self.g_ab(fake_a), b)
        loss_g = adv + cfg.cycle_weight * cycle
        identity = torch.zeros(())
        if cfg.identity_weight > 0:
            identity = l1(self.g_ab(b), b) + l1(self.g_ba(a), a)
            loss_g = loss_g + cfg.cycle_weight * cfg.identity_weight * identity
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(True)
        loss_d = 0.0
        for disc, real, fake in ((self.d_b, b, self.pool_b.query(fake_b)),
                                 (self.d_a, a, self.pool_a.query(fake_a))):
            pr, pf = disc(real), disc(fake.detach())
            loss_d = loss_d + 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"adversarial": float(adv.detach()), "cycle": float(cycle.detach()),
                "identity": float(identity.detach()), "discriminator": float(loss_d.detach())}


def train_cyclegan(
    sim_tiles, real_tiles, steps: int = 1000, rng: int | np.random.Generator | None = 0,
    config: CycleGANConfig = CycleGANConfig(), *, minutes: float | None = None,
    device: str | torch.device | None = None,
) -> CycleGAN:
    """Train a CycleGAN between simulated and real tiles.

    Parameters
    ----------
    sim_tiles : (N, T, T) ndarray of bool or float in [0, 1]
        Domain A: simulated masks or synthetic images.
    real_tiles : (M, T', T') ndarray of float in [0, 1]
        Domain B: tiles of the user's normalised real images (sizes may differ from A's).
    steps : int
        Optimisation steps (one generator and one discriminator update each).
    rng : int or numpy.random.Generator, optional
        Seeds weights, tile order and the image pools.
    config : CycleGANConfig
    minutes : float, optional
        Wall-clock budget; training stops when it is used up, and the learning rate decays as
        if the budget were the run length.
    device : str or torch.device, optional
        None picks CUDA when available.

    Returns
    -------
    CycleGAN
        ``history``: ``steps``, ``seconds``, ``seconds_per_step`` and the last losses.
    """
    from ..nn import select_device

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    device = select_device(device)
    a_all, b_all = _to_tensor(sim_tiles), _to_tensor(real_tiles)
    rng = np.random.default_rng(rng)
    trainer = _Trainer(config, device, int(rng.integers(2**62)))
    start, done, losses = time.perf_counter(), 0, {}
    while done < steps:
        elapsed = time.perf_counter() - start
        # a step is started only when one as long as the mean so far ends within the budget
        if minutes is not None and elapsed * (done + 1) / max(done, 1) > 60 * minutes:
            break
        progress = max(done / steps, elapsed / (60 * minutes) if minutes else 0.0)
        trainer.set_lr(min(1.0, 2.0 * (1.0 - progress)))
        a = a_all[rng.integers(len(a_all), size=config.batch_size)].to(device)
        b = b_all[rng.integers(len(b_all), size=config.batch_size)].to(device)
        flips = rng.integers(2, size=2)
        a, b = (torch.flip(a, (3,)) if flips[0] else a), (torch.flip(b, (2,)) if flips[1] else b)
        losses = trainer.step(a, b)
        done += 1
    seconds = time.perf_counter() - start
    history = {"steps": done, "seconds": round(seconds, 3),
               "seconds_per_step": round(seconds / max(done, 1), 4), **losses}
    return CycleGAN(trainer.g_ab.eval(), trainer.g_ba.eval(), config, history)


def random_tiles(images, tile: int, n: int, rng, labels=None):
    """Cut ``n`` random square tiles from a list of images (and their label images).

    Parameters
    ----------
    images : sequence of (H, W) ndarray
        Each at least ``tile`` px in both directions.
    tile : int
    n : int
    rng : int or numpy.random.Generator
    labels : sequence of (H, W) ndarray, optional
        Cut at the same places.

    Returns
    -------
    tiles : (n, tile, tile) ndarray
    label_tiles : (n, tile, tile) ndarray
        Only when ``labels`` is given.
    """
    rng = np.random.default_rng(rng)
    usable = [i for i, im in enumerate(images) if min(im.shape) >= tile]
    if not usable:
        raise InputError(f"all images are smaller than the {tile} px tile; use a smaller tile")
    out, out_lab = [], []
    for _ in range(n):
        i = usable[int(rng.integers(len(usable)))]
        y = int(rng.integers(images[i].shape[0] - tile + 1))
        x = int(rng.integers(images[i].shape[1] - tile + 1))
        out.append(images[i][y : y + tile, x : x + tile])
        if labels is not None:
            out_lab.append(labels[i][y : y + tile, x : x + tile])
    return (np.stack(out), np.stack(out_lab)) if labels is not None else np.stack(out)


def filter_unrendered(
    image: np.ndarray, labels: np.ndarray, min_contrast: float = 1.0, ring: int = 3,
    polarity: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Remove particles that a rendered image does not show from its labels.

    A particle's contrast is the difference between its mean grey value and that of a ring of
    background ``ring`` px wide around it, in units of the background's robust standard
    deviation (1.4826 MAD).  Particles with contrast below ``min_contrast`` (in the direction
    of the particles: brighter for ``'bright'``, darker for ``'dark'``, the sign of the median
    contrast for ``'auto'``) are removed.

    Parameters
    ----------
    image : (H, W) ndarray of float
        The rendered (translated) image.
    labels : (H, W) ndarray of int
        The simulated labels it was rendered from.
    min_contrast : float
    ring : int
    polarity : {'auto', 'bright', 'dark'}

    Returns
    -------
    labels : (H, W) ndarray of int32
        Kept particles renumbered 1..K.
    contrast : (N,) ndarray of float
        Contrast of every input particle (ids 1..N in order of ``np.unique``).
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import expand_labels

    from ..segment import relabel_min_area

    image, labels = np.asarray(image, np.float64), np.asarray(labels)
    ids = np.unique(labels[labels > 0])
    if ids.size == 0:
        return labels.astype(np.int32), np.zeros(0)
    background = image[labels == 0]
    if background.size == 0:
        background = image.ravel()
    noise = 1.4826 * np.median(np.abs(background - np.median(background))) or background.std() or 1.0
    ring_labels = np.where(labels == 0, expand_labels(labels, ring), 0)
    inside = np.asarray(ndi.mean(image, labels, ids))
    n = int(labels.max()) + 1
    ring_sum = np.bincount(ring_labels.ravel(), weights=image.ravel(), minlength=n)[ids]
    ring_count = np.bincount(ring_labels.ravel(), minlength=n)[ids]
    around = np.full(ids.size, float(np.median(background)))
    has_ring = ring_count > 0
    around[has_ring] = ring_sum[has_ring] / ring_count[has_ring]
    contrast = (inside - around) / noise
    sign = {"bright": 1.0, "dark": -1.0}.get(polarity)
    if sign is None:
        sign = 1.0 if np.median(contrast) >= 0 else -1.0
    keep = np.zeros(int(labels.max()) + 1, bool)
    keep[ids[sign * contrast >= min_contrast]] = True
    return relabel_min_area(np.where(keep[labels], labels, 0), 1), contrast
