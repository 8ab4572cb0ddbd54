"""Training configuration: one frozen, validated dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in checkpoints and model metadata).

    Parameters
    ----------
    arch : {'unet', 'multiresunet'}
        Architecture (see :func:`nanosizer.nn.create_model`).
    arch_kwargs : dict
        Extra constructor arguments of the architecture (e.g. ``{"base_channels": 16}``).
    data : str or None
        Folder with ``images/`` and ``labels/`` (same stems, instance labels); None trains on
        synthetic micrographs generated on the fly (:class:`nanosizer.synth.SyntheticDataset`).
    modality : {None, 'sem', 'tem', 'tsem'}
        Synthetic modality; None mixes them.
    outlines_dir : str or None
        Folder of binary particle outlines added as a synthetic shape family.
    synth_size : int or None
        Side of the generated synthetic images (default: ``max(tile, 256)``); crops are taken
        from them.
    particle_px : (float, float)
        Range of the median particle size (px) of the synthetic images
        (:func:`nanosizer.synth.random_config`).
    p_agglomerate : float
        Share of synthetic images drawn from the agglomerate preset (dense 3-D agglomerates
        of small, heavily overlapping particles).
    agglomerate_px : (float, float)
        Median particle size range (px) of the agglomerate preset.
    tile : int
        Side of the square training crops (a multiple of 16).
    batch_size : int
        Crops per optimisation step.
    epochs : int
        Maximum number of epochs.
    samples_per_epoch : int
        Crops per epoch (fresh synthetic images every epoch).
    crops_per_image : int
        Differently augmented crops taken from each synthetic image (saves generation time).
    val_samples : int
        Size of the fixed validation set (synthetic, or held-out images of ``data``).
    minutes : float or None
        Wall-clock budget of :func:`~nanosizer.train.fit`, start to written model (of this
        run, also when resuming): training stops early enough for the final validation,
        threshold search and export.
    lr, weight_decay : float
        AdamW learning rate (peak of the warm-up + cosine schedule) and weight decay.
    warmup_steps : int
        Linear warm-up steps.
    contact_width : int
        Half-width of the contact band of the targets (pixels).
    p_invert : float
        Probability of a polarity inversion of a training crop.
    p_texture : float
        Probability of texture/brightness changes inside the particles of a crop
        (:func:`nanosizer.train.augment.augment_particles`).
    scale_range : (float, float)
        Range of the random zoom factor of training crops.
    num_workers : int
        DataLoader worker processes (0 = generate in the main process).
    threads : int or None
        Torch intra-op threads; None uses the CPUs available to the process.
    device : str or None
        'cpu', 'cuda' or None (CUDA when available).
    amp : bool
        Mixed precision (bf16 on capable CPUs, bf16/fp16 on CUDA).
    seed : int
        Seed of data generation, augmentation and initialisation.
    init_model : str or None
        Start from the weights of this model (a shipped name or a model folder) instead of a
        random initialisation; its architecture and ``arch_kwargs`` are used.
    centre_offsets : bool
        Also learn the two centre-offset maps (:func:`~nanosizer.train.targets.centre_offsets`)
        and separate particles by centre votes (:mod:`nanosizer.segment.centres`); an initial
        model without them gets the two outputs added.
    """

    arch: str = "unet"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    data: str | None = None
    modality: str | None = None
    outlines_dir: str | None = None
    synth_size: int | None = None
    particle_px: tuple[float, float] = (8.0, 110.0)
    p_agglomerate: float = 0.0
    agglomerate_px: tuple[float, float] = (6.0, 30.0)
    tile: int = 256
    batch_size: int = 8
    epochs: int = 50
    samples_per_epoch: int = 512
    crops_per_image: int = 1
    val_samples: int = 64
    minutes: float | None = None
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    contact_width: int = 2
    p_invert: float = 0.1
    p_texture: float = 0.5
    scale_range: tuple[float, float] = (0.8, 1.25)
    num_workers: int = 1
    threads: int | None = None
    device: str | None = None
    amp: bool = True
    seed: int = 0
    init_model: str | None = None
    centre_offsets: bool = False

    @property
    def out_channels(self) -> int:
        """Number of network outputs (3, or 5 with centre offsets)."""
        return 5 if self.centre_offsets else 3

    def __post_init__(self) -> None:
        from ..nn import available_architectures

        if self.arch not in available_architectures():
            raise ValueError(
                f"unknown arch {self.arch!r}; choose one of {', '.join(available_architectures())}"
            )
        if self.tile < 16 or self.tile % 16:
            raise ValueError(f"tile must be a multiple of 16 and >= 16, got {self.tile}")
        for name in ("batch_size", "epochs", "samples_per_epoch", "crops_per_image",
                     "val_samples", "contact_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes must be > 0, got {self.minutes}")
        if self.lr <= 0 or self.weight_decay < 0 or self.warmup_steps < 0:
            raise ValueError("need lr > 0, weight_decay >= 0 and warmup_steps >= 0")
        for name in ("p_invert", "p_texture", "p_agglomerate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.synth_size is not None and self.synth_size < self.tile:
            raise ValueError(f"synth_size must be >= tile ({self.tile}), got {self.synth_size}")
        for name in ("particle_px", "agglomerate_px"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {(lo, hi)}")
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {self.scale_range}")
        if self.num_workers < 0 or (self.threads is not None and self.threads < 1):
            raise ValueError("num_workers must be >= 0 and threads >= 1")

    @property
    def synth_side(self) -> int:
        """Side of the generated synthetic images."""
        return self.synth_size if self.synth_size is not None else max(self.tile, 256)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        d = asdict(self)
        d["scale_range"] = list(self.scale_range)
        d["particle_px"] = list(self.particle_px)
        d["agglomerate_px"] = list(self.agglomerate_px)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown training config keys {sorted(unknown)}")
        values = dict(values)
        for key in ("scale_range", "particle_px", "agglomerate_px"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
