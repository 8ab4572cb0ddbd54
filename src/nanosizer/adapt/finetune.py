"""Fine-tuning a segmentation network on in-memory pairs, mixed with synthetic micrographs.

Uses the training package's building blocks (augmentation, targets, normalisation, the epoch
loop, threshold tuning), so an adapted model is trained, normalised and post-processed exactly
like a model from ``nanosizer train`` and loads with ``analyze --model``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..segment.centres import predicts_offsets
from .pseudo import IGNORE

__all__ = ["FinetuneConfig", "MixedSource", "PairCrops", "finetune", "tune_and_save",
           "initial_network"]

Pair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning run.

    Parameters
    ----------
    steps : int
        Optimisation steps at most.
    minutes : float or None
        Wall-clock budget; training stops when it is used up.
    tile, batch_size : int
        Crop side (multiple of 16) and crops per step.
    lr : float
        Peak AdamW learning rate (warm-up, then cosine decay over steps or the budget).
    warmup_steps : int
    synthetic_fraction : float
        Share of crops drawn from synthetic images (keeps the network general).
    scale_range : (float, float)
        Random zoom of crops.
    contact_width : int
        Half-width of the contact band of the targets.
    amp : bool
        Mixed precision where the hardware supports it.
    average_decay : float or None
        The network ends with an exponential moving average of its weights over the run
        (:class:`~nanosizer.train.averaging.WeightAverage`, this decay) instead of the last
        ones; None keeps the last.  With the decay's ramp, runs shorter than ~4500 steps
        average over roughly their last tenth.
    seed : int
    device : str or None
        None picks CUDA when available.
    """

    steps: int = 1000
    minutes: float | None = None
    tile: int = 256
    batch_size: int = 4
    lr: float = 5e-4
    warmup_steps: int = 20
    synthetic_fraction: float = 0.3
    scale_range: tuple[float, float] = (0.8, 1.25)
    contact_width: int = 2
    amp: bool = True
    average_decay: float | None = 0.998
    seed: int = 0
    device: str | None = None

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.tile < 16 or self.tile % 16:
            raise ValueError("need steps >= 1, batch_size >= 1 and tile a multiple of 16")
        if not 0.0 <= self.synthetic_fraction <= 1.0:
            raise ValueError(f"synthetic_fraction must be in [0, 1], got {self.synthetic_fraction}")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes must be > 0, got {self.minutes}")
        if self.average_decay is not None and not 0.0 < self.average_decay < 1.0:
            raise ValueError(f"average_decay must be in (0, 1) or None, got {self.average_decay}")

    def train_config(self, arch: str):
        """The :class:`~nanosizer.train.TrainConfig` the epoch loop reads (lr schedule, amp)."""
        from ..train import TrainConfig

        return TrainConfig(arch=arch, tile=self.tile, batch_size=self.batch_size, epochs=1,
                           samples_per_epoch=self.steps * self.batch_size, minutes=self.minutes,
                           lr=self.lr, warmup_steps=self.warmup_steps, p_invert=0.0,
                           scale_range=self.scale_range, contact_width=self.contact_width,
                           num_workers=0, device=self.device, amp=self.amp, seed=self.seed)


class PairCrops(Dataset):
    """Augmented crops ``(x (1, T, T), targets (4, T, T))`` from pairs and a synthetic source.

    Item ``i`` is deterministic in ``(config.seed, i)``.  The targets are those of
    :func:`~nanosizer.train.targets.make_targets` plus a pixel weight: 0 where the labels are
    :data:`~nanosizer.adapt.pseudo.IGNORE`, else 1.

    Parameters
    ----------
    pairs : sequence of (image, labels)
        Raw images (any grey scale) and instance labels (may hold IGNORE).
    config : FinetuneConfig
    synthetic : callable, optional
        ``synthetic(index) -> (image, labels)``, e.g. a :class:`nanosizer.synth.SyntheticDataset`
        item getter; required when ``config.synthetic_fraction > 0``.
    offsets : bool
        Also the centre-offset targets (networks with five outputs).
    """

    def __init__(self, pairs: Sequence[Pair], config: FinetuneConfig,
                 synthetic: Callable[[int], Pair] | None = None, offsets: bool = False) -> None:
        if not pairs and (synthetic is None or config.synthetic_fraction == 0):
            raise ValueError("need training pairs or a synthetic source")
        self.pairs, self.config, self.synthetic = list(pairs), config, synthetic
        self.offsets = offsets

    def __len__(self) -> int:
        return self.config.steps * self.config.batch_size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        from ..train.augment import augment_geometry, augment_intensity, random_crop
        from ..train.normalize import normalize_image
        from ..train.targets import make_targets

        c = self.config
        rng = np.random.default_rng([c.seed, index, 11])
        use_synth = self.synthetic is not None and (
            not self.pairs or rng.random() < c.synthetic_fraction)
        if use_synth:
            image, labels = self.synthetic(int(rng.integers(2**31)))
        else:
            image, labels = self.pairs[int(rng.integers(len(self.pairs)))]
        image, labels = random_crop(np.asarray(image, np.float32), labels, c.tile, rng,
                                    c.scale_range)
        image, labels = augment_geometry(image, labels, rng)
        image = normalize_image(augment_intensity(image, rng, 0.0))
        weight = (labels != IGNORE).astype(np.float32)
        targets = make_targets(np.maximum(labels, 0), c.contact_width, offsets=self.offsets)
        return torch.from_numpy(image)[None], torch.from_numpy(np.concatenate([targets, weight[None]]))


class MixedSource:
    """Picklable ``index -> (image, labels)`` drawing from several sources with given shares.

    Parameters
    ----------
    sources : sequence of callable
        ``source(index) -> (image, labels)``.
    shares : sequence of float
        Relative frequency of each source.
    seed : int
    """

    def __init__(self, sources: Sequence[Callable[[int], Pair]], shares: Sequence[float],
                 seed: int = 0) -> None:
        p = np.asarray(shares, float)
        if len(sources) != p.size or not len(sources) or np.any(p < 0) or p.sum() <= 0:
            raise ValueError("need one non-negative share per source, not all zero")
        self.sources, self.p, self.seed = list(sources), p / p.sum(), seed

    def __call__(self, index: int) -> Pair:
        k = int(np.random.default_rng([self.seed, index, 13]).choice(len(self.sources), p=self.p))
        return self.sources[k](index)


def initial_network(init_model: str | Path | None, arch: str, device=None):
    """The network to start from: a model folder / shipped name, or a new ``arch`` network.

    Returns
    -------
    net : SegmentationNet
    source : str
        What it was initialised from (stored in the metadata).
    """
    from ..nn import create_model, select_device
    from ..train.loop import initial_weights

    if init_model is None:
        return create_model(arch, in_channels=1, out_channels=3).to(select_device(device)), "random"
    return initial_weights(init_model, arch, device=device), str(init_model)


def finetune(net: torch.nn.Module, pairs: Sequence[Pair], config: FinetuneConfig,
             synthetic: Callable[[int], Pair] | None = None, *, deadline=None) -> dict:
    """Train ``net`` in place on crops of ``pairs`` (and synthetic images).

    The steps end by ``deadline`` (a :class:`~nanosizer.train.Deadline`; default
    ``config.minutes`` from now): a step is started only when one as long as the mean so far
    ends before it.

    Returns
    -------
    history : dict
        ``steps``, ``minutes`` and the mean training losses.
    """
    from ..nn import select_device
    from ..train import TrainState, train_one_epoch
    from ..train.averaging import WeightAverage

    device = select_device(config.device)
    net.to(device)
    if device.type == "cpu":
        net.to(memory_format=torch.channels_last)
    tcfg = config.train_config(net.arch)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    crops = PairCrops(pairs, config, synthetic, offsets=predicts_offsets(net))
    loader = DataLoader(crops, batch_size=config.batch_size,
                        shuffle=False, drop_last=True, num_workers=0)
    state = TrainState()
    average = WeightAverage(net, config.average_decay) if config.average_decay else None
    losses = train_one_epoch(net, loader, optimizer, tcfg, state, device, config.steps,
                             on_step=average.update if average is not None else None,
                             deadline=deadline)
    if average is not None:
        average.copy_to(net)
    net.eval()
    return {"steps": state.step, "minutes": round(state.elapsed_s / 60, 2),
            **{k: round(v, 4) for k, v in losses.items()}}


def copy_model_files(source: str | Path, target: Path) -> None:
    """Copy a model folder's ``config.json`` and weights into ``target`` (replacing them)."""
    import shutil

    from ..nn.model_io import CONFIG_NAME, WEIGHTS_NAME

    target.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        shutil.copyfile(Path(source) / name, target / name)


def tune_and_save(folder: str | Path, net, val_pairs: Sequence[Pair], metadata: dict,
                  config: FinetuneConfig, size_labels: Sequence[np.ndarray] = (),
                  overwrite: bool = False, thresholds=None, tuned=None,
                  zoom_model_source: str | Path | None = None) -> dict:
    """Tune the post-processing thresholds on ``val_pairs`` and write a model folder.

    The metadata follows :func:`nanosizer.train.export.export_model` (normalisation, thresholds,
    particle diameters of ``size_labels`` and the validation labels) plus ``metadata``.
    ``thresholds`` (an :class:`~nanosizer.segment.instances.InstanceThresholds`) are stored
    instead of tuned ones when given; the validation scores are then reported for both and the
    tuned thresholds kept as ``thresholds_validation_tuned``.  ``tuned``, the (thresholds,
    F1) already tuned on ``val_pairs`` for ``net``
    (:func:`~nanosizer.adapt.guards.tuned_thresholds`), saves the search.
    Returns the validation scores.
    """
    from ..nn import core_metadata, save_model, select_device
    from ..train import NORMALIZATION, evaluate, normalize_image, tune_thresholds
    from ..train.targets import output_names
    from ..train.validate import default_thresholds, instance_f1
    from ..train.export import particle_diameters

    device = select_device(config.device)
    val = [(normalize_image(np.asarray(img, np.float32)), lab.astype(np.int32))
           for img, lab in val_pairs]
    truths = [lab for _, lab in val]
    base = default_thresholds(net)
    if val:
        metrics, probs = evaluate(net, val, device=device, amp=config.amp,
                                  thresholds=base, contact_width=config.contact_width)
        tuned, f1 = tuned if tuned is not None else tune_thresholds(probs, truths, base)
        scores = {"f1": round(f1, 4), "f1_default_thresholds": round(metrics["val_f1"], 4),
                  "n_images": len(val)}
        if thresholds is not None:  # scored on the same maps: no second network pass
            fixed = instance_f1(probs, truths, thresholds)
            scores.update(f1=round(fixed, 4), f1_tuned_thresholds=round(f1, 4))
            metadata = {**metadata, "thresholds_validation_tuned": tuned.to_dict()}
        thresholds = tuned if thresholds is None else thresholds
    else:
        thresholds, scores = thresholds or base, {"n_images": 0}
    full = {
        **core_metadata(output_names(predicts_offsets(net)), thresholds.to_dict(),
                        particle_diameters([*size_labels, *truths]), NORMALIZATION),
        "finetune_config": {**asdict(config), "scale_range": list(config.scale_range)},
        "val_scores": scores, **metadata,
    }
    save_model(folder, net, full, overwrite=overwrite)
    if zoom_model_source is not None:  # metadata.zoom_model names this copy inside the folder
        copy_model_files(zoom_model_source, Path(folder) / str(metadata["zoom_model"]))
    return scores
