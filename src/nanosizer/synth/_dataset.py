"""On-the-fly synthetic training data (a map-style dataset, no torch needed)."""

from __future__ import annotations

import numpy as np

from ._generate import generate
from ._random import random_config

__all__ = ["SyntheticDataset"]


class SyntheticDataset:
    """Endless-looking map-style dataset of domain-randomised synthetic micrographs.

    ``ds[i]`` is deterministic per ``(seed, i)``, so it works unchanged with a torch
    ``DataLoader`` and any number of workers (no shared random state).

    Parameters
    ----------
    length : int
        Number of items (``len(ds)``).
    size : (int, int)
        Image (height, width).
    modality : {None, 'sem', 'tem', 'tsem'}
        Fixed modality, or None for a randomised mix.
    seed : int
        Base seed.
    outlines_dir : str, optional
        Folder of binary particle outlines to add as a shape family.
    particle_px : (float, float)
        Range of the median particle size in px, passed to :func:`random_config`.
    p_agglomerate : float
        Share of images drawn from the agglomerate preset of :func:`random_config`.
    agglomerate_px : (float, float)
        Median particle size range (px) of that preset.
    config_fn : callable, optional
        ``config_fn(rng, modality, size) -> SynthConfig`` replacing :func:`random_config`.

    Examples
    --------
    >>> ds = SyntheticDataset(length=4, size=(64, 64), seed=0)
    >>> image, labels = ds[0]
    >>> image.shape, image.dtype.name, labels.dtype.name
    ((64, 64), 'float32', 'int32')
    """

    def __init__(self, length: int, size: tuple[int, int] = (256, 256),
                 modality: str | None = None, seed: int = 0, *,
                 outlines_dir: str | None = None, particle_px: tuple[float, float] = (8.0, 110.0),
                 p_agglomerate: float = 0.0, agglomerate_px: tuple[float, float] = (6.0, 30.0),
                 config_fn=None) -> None:
        if length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        self.length = int(length)
        self.size = (int(size[0]), int(size[1]))
        self.modality = modality
        self.seed = int(seed)
        self.outlines_dir = outlines_dir
        self.particle_px = (float(particle_px[0]), float(particle_px[1]))
        self.p_agglomerate = float(p_agglomerate)
        self.agglomerate_px = (float(agglomerate_px[0]), float(agglomerate_px[1]))
        self.config_fn = config_fn

    def __len__(self) -> int:
        return self.length

    def sample(self, index: int):
        """The full :class:`~nanosizer.synth.Sample` (with truth table) of item ``index``."""
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for length {self.length}")
        index = index % self.length
        rng = np.random.default_rng([self.seed, index])
        if self.config_fn is not None:
            cfg = self.config_fn(rng, self.modality, self.size)
        else:
            cfg = random_config(rng, self.modality, self.size, outlines_dir=self.outlines_dir,
                                particle_px=self.particle_px, p_agglomerate=self.p_agglomerate,
                                agglomerate_px=self.agglomerate_px)
        return generate(cfg, rng)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.sample(index)
        return s.image, s.labels
