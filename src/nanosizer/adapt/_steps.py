"""The timed steps of ``nanosizer adapt``, each within the minutes the budget gives it.

Each step returns what it made and its entry of the adapt report; none writes the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._budget import CYCLEGAN_TRAINING, FINETUNE_SHARE, MIN_STEP_MINUTES

if TYPE_CHECKING:
    import torch

    from ._budget import _Clock
    from ._config import AdaptConfig
    from ._trainset import TrainSet
    from .teacher import Teacher

__all__ = ["Anchors", "anchor_step", "cyclegan_step", "finetune_step", "outline_step",
           "pseudo_label_step", "simulated_domain"]

log = logging.getLogger("nanosizer.adapt")

#: Share of synthetic (or pasted) crops in fine-tuning when there are real or pseudo-labelled
#: training pairs too.
SYNTHETIC_FRACTION = 0.3

#: Scale augmentation of fine-tuning, relative to the zoom of the training images.
SCALE_RANGE = (0.8, 1.25)


def outline_step(config: AdaptConfig, minutes: float,
                 work: Path) -> tuple[str | None, dict | None]:
    """Train the outline GAN (:mod:`.wgan`) and write sampled outlines.

    Parameters
    ----------
    config : AdaptConfig
        Its ``outlines_dir`` holds the example outlines.
    minutes : float
        The step's time; with :data:`~._budget.MIN_STEP_MINUTES` or less, the examples alone
        are the outlines.
    work : Path
        Receives ``outline_gan/`` and ``outlines/``.

    Returns
    -------
    outlines : str or None
        The outlines folder of the synthetic engine; None without ``config.outlines_dir``.
    entry : dict or None
        The step's ``wgan`` report entry; None when it did not run.
    """
    if config.outlines_dir is None:
        return None, None
    from ..synth import load_outlines  # validates the folder
    from .wgan import train_outline_gan, write_outlines

    load_outlines(config.outlines_dir)
    examples = _read_masks(Path(config.outlines_dir))
    if minutes <= MIN_STEP_MINUTES:
        return config.outlines_dir, {"skipped": "no budget"}
    gan = train_outline_gan(examples, steps=5000, rng=config.seed, minutes=minutes,
                            device=config.device)
    gan.save(work / "outline_gan")
    folder = write_outlines(work / "outlines", gan.sample(200, rng=config.seed))
    for i, mask in enumerate(examples):  # keep the user's own outlines in the family too
        write_outlines(folder, np.asarray(mask)[None] > 0, prefix=f"example{i:03d}")
    log.info("outline GAN: %s", gan.history)
    return str(folder), gan.history


def _read_masks(folder: Path) -> list[np.ndarray]:
    """The binary images of ``folder`` (TIFF, PNG, BMP), by name."""
    import imageio.v3 as iio

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png", ".bmp"))
    masks = []
    for path in files:
        img = np.asarray(iio.imread(path))
        img = img[..., 0] if img.ndim == 3 else img
        masks.append(img > img.min() + 0.5 * np.ptp(img) if np.ptp(img) else np.zeros(img.shape, bool))
    return masks


def _normalised(micrographs) -> list[np.ndarray]:
    """The analysed rows of each micrograph, normalised as for training, in [0, 1]."""
    from ..train import normalize_image

    return [np.clip(normalize_image(m.analysis_data), 0, 1) for m in micrographs]


def simulated_domain(labels: np.ndarray) -> np.ndarray:
    """CycleGAN input for simulated labels: 0 on background, 0.5-1 domes on particles.

    A plain binary mask would merge touching particles into one blob, so the generator could
    not draw their contact; each particle's normalised distance to its own outline keeps them
    apart (valleys of 0.5 at contacts, 1 at centres).

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Particle labels, 0 on background.

    Returns
    -------
    (H, W) ndarray of float32
    """
    from ..train.targets import normalized_distance

    return np.where(labels > 0, 0.5 + 0.5 * normalized_distance(labels), 0.0).astype(np.float32)


def cyclegan_step(config: AdaptConfig, minutes: float, synth: Callable[[int], tuple],
                  micrographs: Sequence, work: Path) -> tuple[list, dict]:
    """Train the CycleGAN simulated labels -> real, render pairs, filter unrendered particles.

    Parameters
    ----------
    config : AdaptConfig
    minutes : float
        The step's time; the CycleGAN trains for :data:`~._budget.CYCLEGAN_TRAINING` of it.
    synth : callable
        ``index -> (image, labels)`` of synthetic micrographs, whose labels are rendered.
    micrographs : sequence of Micrograph
        The user's images, the real domain.
    work : Path
        Receives ``cyclegan/``.

    Returns
    -------
    pairs : list of (image, labels)
        Rendered images and the labels of the particles drawn in them.
    entry : dict
        The step's ``cyclegan`` report entry.
    """
    from .cyclegan import filter_unrendered, random_tiles, train_cyclegan

    tile = 128
    real = random_tiles(_normalised(micrographs), tile, 256, config.seed)
    samples = [synth(10_000 + i) for i in range(24)]
    sims = random_tiles([simulated_domain(lab) for _, lab in samples], tile, 256, config.seed + 1)
    gan = train_cyclegan(sims, real, steps=100_000, rng=config.seed,
                         minutes=minutes * CYCLEGAN_TRAINING, device=config.device)
    gan.save(work / "cyclegan")
    pairs, kept, total = [], 0, 0
    for _, labels in samples:
        rendered = gan.translate(simulated_domain(labels)[None])[0]
        filtered, _ = filter_unrendered(rendered, labels, min_contrast=1.0)
        kept, total = kept + int(filtered.max()), total + int(labels.max())
        pairs.append((rendered, filtered))
    entry = {**gan.history, "rendered_images": len(pairs), "particles_kept": kept,
             "particles_simulated": total}
    log.info("CycleGAN: %s", entry)
    return pairs, entry


def pseudo_label_step(config: AdaptConfig, micrographs: Sequence,
                      clock: _Clock) -> tuple[Teacher, dict]:
    """Pseudo-labels of ``micrographs`` by the initial model (:func:`.teacher.teacher_canvases`).

    The pass also measures the work after fine-tuning, which the budget then holds
    (:meth:`~._budget._Clock.hold_passes`).

    Parameters
    ----------
    config : AdaptConfig
        Its ``init_model`` labels the images.
    micrographs : sequence of Micrograph
        The images without real labels.
    clock : _Clock

    Returns
    -------
    teacher : Teacher
    entry : dict
        The step's ``selftrain_pseudo`` report entry.

    Raises
    ------
    InputError
        When the budget cannot hold the work after fine-tuning.
    """
    from .teacher import teacher_canvases

    started = clock.elapsed()
    teacher = teacher_canvases(micrographs, config.init_model, device=config.device)
    clock.hold_passes(started)
    entry = teacher.summary()
    log.info("pseudo-labels of the initial model: %s", entry)
    return teacher, entry


@dataclass(frozen=True)
class Anchors:
    """The initial model's confident particles in the user's images, for the guards.

    Attributes
    ----------
    labels : list of ndarray
        Per image, its confident particles; empty when the guards have none to check.
    count : int or None
        All particles the initial model finds in the images, when known.
    """

    labels: list = field(default_factory=list)
    count: int | None = None


def anchor_step(init_model: str, teacher: Teacher, micrographs: Sequence,
                clock: _Clock) -> Anchors:
    """The anchors of the guards (:func:`.guards.keep_anchors`).

    Parameters
    ----------
    init_model : str
        Shipped model name or model folder.
    teacher : Teacher
        Its pseudo-labels, when there are any, are the anchors; else ``init_model`` segments
        the images, a pass that measures the work after fine-tuning like
        :func:`pseudo_label_step`.
    micrographs : sequence of Micrograph
    clock : _Clock

    Returns
    -------
    Anchors

    Raises
    ------
    InputError
        When the budget cannot hold the work after fine-tuning.
    """
    from .guards import anchor_particles
    from .teacher import full_frame_labels

    started = clock.elapsed()
    if teacher.labels:  # the pseudo-labelling pass has counted them
        anchors = Anchors(full_frame_labels(teacher.labels, micrographs), sum(teacher.counts))
    else:
        anchors = Anchors(*anchor_particles(init_model, micrographs, return_count=True))
    clock.hold_passes(started)
    return anchors


def finetune_step(net: torch.nn.Module, data: TrainSet, config: AdaptConfig, clock: _Clock) -> tuple:
    """Fine-tune ``net`` in place on the training set for the rest of the budget.

    Parameters
    ----------
    net : SegmentationNet
    data : TrainSet
    config : AdaptConfig
    clock : _Clock

    Returns
    -------
    ft : FinetuneConfig
        The settings, also those of the evaluations after it.
    history : dict
        The step's ``finetune`` report entry (:func:`.finetune.finetune`).
    """
    from ..train import Deadline
    from .finetune import FinetuneConfig, finetune

    zoom = data.zoom
    ft = FinetuneConfig(steps=1_000_000,
                        minutes=max(clock.minutes(FINETUNE_SHARE), MIN_STEP_MINUTES),
                        tile=config.tile, seed=config.seed, device=config.device,
                        synthetic_fraction=SYNTHETIC_FRACTION if data.train else 1.0,
                        scale_range=(SCALE_RANGE[0] * zoom, SCALE_RANGE[1] * zoom))
    # from now: its set-up (the optimiser imports torch's compiler, ~2 s) counts too
    history = finetune(net, data.train, ft, data.source, deadline=Deadline(60 * ft.minutes))
    log.info("fine-tuning: %s", history)
    return ft, history
