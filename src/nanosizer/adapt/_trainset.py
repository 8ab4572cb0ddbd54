"""The training set of ``nanosizer adapt``: steps 1-6 of the run, one :class:`TrainSet` value.

Real pairs (transmission twins, ``--pairs``), pseudo-labels of the other images by the initial
model, copy-paste composites of its confident particles, outline-GAN shapes and synthetic
micrographs like the user's, CycleGAN renders, and the validation pairs, at the zoom the
network sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ._budget import BUDGET_SHARES
from ._inputs import read_images
from ._steps import SCALE_RANGE, cyclegan_step, outline_step, pseudo_label_step

if TYPE_CHECKING:
    from ._budget import _Clock
    from ._config import AdaptConfig
    from .teacher import Teacher

__all__ = ["MIN_CUTOUTS", "TrainSet", "build_trainset", "real_pairs"]

log = logging.getLogger("nanosizer.adapt")

#: Fewest isolated particles in the user's images for copy-paste composites; with fewer, the
#: CycleGAN renders training images instead (``--cyclegan auto``).
MIN_CUTOUTS = 5

#: Shares of copy-paste composites and synthetic micrographs among the generated crops.
PASTE_SHARES = (0.7, 0.3)

#: Rendered CycleGAN pairs held out for validation, and generated validation pairs otherwise.
RENDERED_VAL, GENERATED_VAL = 4, 8


@dataclass(frozen=True)
class TrainSet:
    """What the network is fine-tuned and validated on.

    Attributes
    ----------
    real : list of TrainingPair
        The labelled pairs of the run (transmission twins, ``--pairs``).
    train : list of (image, labels)
        Training pairs: the real ones but their validation strips, pseudo-labelled images
        (without composites to paste), CycleGAN renders.
    val : list of (image, labels)
        Validation pairs, resampled to :attr:`zoom` as the network sees them.
    source : callable
        ``index -> (image, labels)`` of generated training images (composites, synthetic).
    teacher : Teacher
        The initial model's pseudo-labels (empty without self-training).
    report : dict
        The report entries of the steps: ``real_pairs``, ``wgan``, ``styles``,
        ``selftrain_pseudo``, ``cyclegan`` (those that ran).
    """

    real: list
    train: list
    val: list
    source: Callable[[int], tuple]
    teacher: Teacher
    report: dict

    @property
    def zoom(self) -> float:
        """The zoom of the training images (:attr:`.teacher.Teacher.zoom`)."""
        return self.teacher.zoom

    def size_labels(self) -> list:
        """Training labels for the model's particle sizes (none when the images are zoomed)."""
        return [np.maximum(lab, 0) for _, lab in self.train] if self.zoom == 1.0 else []


def real_pairs(config: AdaptConfig, paths: Sequence[Path], micrographs: Sequence) -> list:
    """Labelled training pairs of the run.

    Parameters
    ----------
    config : AdaptConfig
        Its ``transmission_dir`` holds the TSEM twins of ``paths``, its ``pairs_dir`` the
        pairs of ``--pairs``.
    paths : sequence of Path
    micrographs : sequence of Micrograph
        Those of ``paths``.

    Returns
    -------
    list of TrainingPair

    Raises
    ------
    InputError
        When ``config.transmission_dir`` holds no twin of any image.
    """
    from .pairs_io import import_pairs
    from .transmission import find_transmission_twins, transmission_pair

    pairs = []
    if config.transmission_dir is not None:
        twins = find_transmission_twins(list(paths), config.transmission_dir)
        if not twins:
            raise InputError(f"--transmission {config.transmission_dir}: no twin (file number + 1) "
                             "of any image found; check the folder")
        by_path = dict(zip(paths, micrographs))
        for sem_path, trans_path in twins.items():
            pair = transmission_pair(by_path[sem_path], read_images([trans_path])[0])
            log.info("%s: TSEM twin %s, shift dy=%.2f dx=%.2f px, %d particles", sem_path.name,
                     trans_path.name, *pair.shift, pair.labels.max())
            pairs.append(pair)
    if config.pairs_dir is not None:
        pairs += import_pairs(config.pairs_dir)
    return pairs


def _split_val(pairs, fraction: float = 0.25):
    """Right-hand strip of each pair for validation, the rest for training."""
    train, val = [], []
    for p in pairs:
        w = p.image.shape[1]
        cut = round(w * (1 - fraction))
        if p.image.shape[0] < 64 or w - cut < 64:
            train.append((p.image, p.labels))
            continue
        train.append((p.image[:, :cut], p.labels[:, :cut]))
        val.append((p.image[:, cut:], p.labels[:, cut:]))
    return train, val


class _LikeSynth:
    """Picklable ``index -> (image, labels)`` of synthetic micrographs like the user's.

    Item ``i`` follows the style of image ``i % len(styles)``: one style per user image, so a
    folder mixing SEM and TEM frames yields both kinds rather than an average of the two.
    """

    def __init__(self, styles, size: int, seed: int, outlines_dir: str | None) -> None:
        self.styles, self.size, self.seed, self.outlines_dir = list(styles), size, seed, outlines_dir

    def sample(self, index: int):
        from ..synth import generate, like_config

        rng = np.random.default_rng([self.seed, index, 23])
        style = self.styles[index % len(self.styles)]
        cfg = like_config(rng, style, (self.size, self.size), outlines_dir=self.outlines_dir)
        return generate(cfg, rng)

    def __call__(self, index: int):
        s = self.sample(index)
        return s.image, s.labels


def _paste_source(teacher: Teacher, config: AdaptConfig):
    """Copy-paste composites of the pseudo-labelled images, or None with too few cutouts."""
    from .copypaste import CopyPasteSource

    if sum(len(c) for c in teacher.cutouts) < MIN_CUTOUTS:
        return None
    # a crop window that holds a tile at the smallest scale of fine-tuning, and a margin
    window = 16 * int(np.ceil(config.tile / (SCALE_RANGE[0] * teacher.zoom) / 16)) + 64
    return CopyPasteSource(teacher.canvases, teacher.cutouts, window, config.seed)


def _validation(val: list, paste, synth: _LikeSynth, seed: int, zoom: float) -> list:
    """``val``, else composites, else synthetic pairs; resampled as the network sees them."""
    from .copypaste import erase_ignored
    from .teacher import zoomed_pair

    if not val and paste is not None:
        rng = np.random.default_rng(seed)
        val = [erase_ignored(*paste(50_000 + i), rng) for i in range(GENERATED_VAL)]
    if not val:
        val = [synth(20_000 + i) for i in range(GENERATED_VAL)]
    return [zoomed_pair(pair, zoom) for pair in val]


def build_trainset(config: AdaptConfig, paths: Sequence[Path], micrographs: Sequence,
                   clock: _Clock, work: Path) -> TrainSet:
    """Run the steps that make the training set, each within its share of the budget.

    Parameters
    ----------
    config : AdaptConfig
    paths : sequence of Path
        The images adapted to.
    micrographs : sequence of Micrograph
        Those of ``paths``.
    clock : _Clock
        The budget; the pseudo-labelling pass sets the time it holds for the end.
    work : Path
        Scratch folder of the GAN steps.

    Returns
    -------
    TrainSet

    Raises
    ------
    InputError
        When a folder of ``config`` holds no usable data, or the budget cannot hold the work
        after fine-tuning.
    """
    from ..synth import estimate_style
    from .finetune import MixedSource
    from .teacher import Teacher, scaled_styles

    real = real_pairs(config, paths, micrographs)
    paired = {p.name for p in real}
    unpaired = [m for m in micrographs if m.name not in paired]
    outlines, wgan = outline_step(config, clock.minutes(BUDGET_SHARES["wgan"]), work)
    styles = [estimate_style([str(p)]) for p in paths]
    report = {"real_pairs": {p.name: {"shift": p.shift, "particles": int(p.labels.max())}
                             for p in real},
              "wgan": wgan, "styles": {p.name: asdict(s) for p, s in zip(paths, styles)}}
    train, val = _split_val(real)
    teacher = Teacher()
    if unpaired and config.self_training and config.init_model is not None:
        teacher, report["selftrain_pseudo"] = pseudo_label_step(config, unpaired, clock)
        styles = scaled_styles(styles, micrographs, unpaired, teacher)
    synth = _LikeSynth(styles, max(config.tile, 256), config.seed, outlines)
    paste = _paste_source(teacher, config)
    if paste is None:  # too few isolated particles to paste: the pseudo-labelled images alone
        train += teacher.canvases
    if config.cyclegan == "on" or (config.cyclegan == "auto" and not real and paste is None):
        rendered, report["cyclegan"] = cyclegan_step(
            config, clock.minutes(BUDGET_SHARES["cyclegan"]), synth, micrographs, work)
        train = train + rendered[:-RENDERED_VAL]
        val = val + (rendered[-RENDERED_VAL:] if not real else [])
    val = _validation(val, paste, synth, config.seed, teacher.zoom)
    source = MixedSource([paste, synth], list(PASTE_SHARES), config.seed) if paste else synth
    report = {k: v for k, v in report.items() if v is not None}
    return TrainSet(real, train, val, source, teacher, report)
