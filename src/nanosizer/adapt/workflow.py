"""``nanosizer adapt``: the whole adaptation run within a time budget.

Steps (each optional, each timed against its share of the budget):

1. real training pairs: from transmission twins (:mod:`.transmission`) and/or a folder of
   (hand-corrected) pairs (:mod:`.pairs_io`);
2. pseudo-labels of the other images by the initial model, run as ``analyze`` runs it
   (:func:`.pseudo.teacher_labels`): confident particles are labels, the rest is ignored;
   images of different magnifications are resampled to one particle scale (:mod:`.teacher`);
3. copy-paste composites (:mod:`.copypaste`): the isolated confident particles pasted back
   into the images, touching and overlapping others, with exact labels;
4. outline WGAN-GP (:mod:`.wgan`) on example outlines, whose samples become a shape family of
   the synthetic engine;
5. synthetic micrographs "like" the user's images (:func:`nanosizer.synth.like_config`);
6. CycleGAN (:mod:`.cyclegan`) from simulated masks to the user's images, rendering extra
   training pairs (particles it failed to draw are removed from the labels) — used when there
   are neither real pairs nor enough particles to paste;
7. fine-tuning (self-training) of the initial network on all of these (:mod:`.finetune`);
8. thresholds (tuned on held-out real strips, else the initial model's), the guards against
   an adapted model worse than the initial one (:mod:`.guards`), and the model folder.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .guards import (  # re-exported: callers import them from adapt.workflow
    MAX_COUNT_RATIO,
    MIN_ANCHOR_RECALL,
    anchor_particles,
    anchor_recall,
    particle_count_ratio,
)

__all__ = ["AFTER_FINETUNE_PASSES", "AdaptConfig", "BUDGET_SHARES", "MAX_COUNT_RATIO",
           "MAX_IMAGES", "MAX_OVERLAYS", "MIN_ANCHOR_RECALL", "MIN_CUTOUTS", "REJECTED", "adapt",
           "anchor_particles", "anchor_recall", "particle_count_ratio", "simulated_domain",
           "spread_subset", "write_comparison_overlays"]

log = logging.getLogger("nanosizer.adapt")

#: Shares of the budget of the steps before fine-tuning, which takes the rest.
BUDGET_SHARES = {"wgan": 0.06, "cyclegan": 0.25}

#: The work after fine-tuning, in units of one pass of the initial model over the images (the
#: pseudo-labels): the guards run the candidate on every image (for images of mixed
#: magnification with the initial model choosing the zooms), the overlays both models on a
#: few, thresholds are scored on the validation data.  Measured on 24 frames of
#: 2048 x 1424 px: pseudo-labels about 0.75 min, the work after fine-tuning 1.5 min.
AFTER_FINETUNE_PASSES = 2.5

#: What :meth:`_Clock.require` names as the work a budget must hold.
_FIXED_WORK = ("start-up, labelling them with the initial model, the guards and writing the "
               "model")

#: Fewest isolated particles in the user's images for copy-paste composites; with fewer, the
#: CycleGAN renders training images instead (``--cyclegan auto``).
MIN_CUTOUTS = 5


@dataclass(frozen=True)
class AdaptConfig:
    """One ``nanosizer adapt`` run.

    Parameters
    ----------
    arch : {'unet', 'multiresunet'}
    init_model : str or None
        Shipped model name or model folder to start from; None trains from random weights.
    budget_minutes : float
        Wall-clock budget of the whole run.
    outlines_dir : str or None
        Example particle outlines (binary images) for the outline GAN.
    transmission_dir : str or None
        Folder of transmission twins (file number + 1) of the images.
    pairs_dir : str or None
        Folder of labelled pairs (``images/`` + ``labels/``) to train on, e.g. exported and
        hand-corrected ones.
    cyclegan : {'auto', 'on', 'off'}
        ``'auto'`` runs the CycleGAN only when there are no real pairs.
    self_training : bool
    tile : int
        Training crop side (multiple of 16).
    seed : int
    device : str or None
        None uses CUDA when available.
    threads : int or None
        Torch CPU threads; None uses the CPUs available to the process (on a CPU shared with
        other jobs, 1 thread is often faster).
    """

    arch: str = "unet"
    init_model: str | None = "unet"
    budget_minutes: float = 20.0
    outlines_dir: str | None = None
    transmission_dir: str | None = None
    pairs_dir: str | None = None
    cyclegan: str = "auto"
    self_training: bool = True
    tile: int = 256
    seed: int = 0
    device: str | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise InputError(f"--threads must be >= 1, got {self.threads}")
        if not self.budget_minutes > 0:
            raise InputError(f"--budget must be > 0 minutes, got {self.budget_minutes}")
        if self.cyclegan not in ("auto", "on", "off"):
            raise InputError(f"cyclegan must be auto, on or off, got {self.cyclegan!r}")
        if self.tile < 64 or self.tile % 16:
            raise InputError(f"--tile must be a multiple of 16 and >= 64, got {self.tile}")


@dataclass
class _Clock:
    """Budget bookkeeping: minutes left for a step given its share.

    ``reserve`` (share of the budget) is kept for the work after the timed steps; 10 % unless
    :meth:`hold` asks for more.  ``start`` is on the :func:`time.monotonic` clock (that of
    :class:`~nanosizer.train.Deadline`).
    """

    budget: float
    start: float = field(default_factory=time.monotonic)
    reserve: float = 0.1

    @property
    def deadline(self):
        """The end of the budget as a :class:`~nanosizer.train.Deadline`."""
        from ..train import Deadline

        return Deadline(60.0 * self.budget, self.start)

    def elapsed(self) -> float:
        return (time.monotonic() - self.start) / 60.0

    def minutes(self, share: float) -> float:
        left = self.budget * (1.0 - self.reserve) - self.elapsed()
        return max(0.0, min(share * self.budget, left))

    def hold(self, minutes: float) -> None:
        """Keep ``minutes`` plus 5 % of the budget for the end, when that is more than the
        reserve; warns when that leaves less than 40 % for the rest (:meth:`require` refuses
        what does not fit at all)."""
        wanted = 0.05 + minutes / self.budget
        if wanted > 0.6:
            log.warning("the work after fine-tuning needs about %.1f min of the budget of %.3g "
                        "min: little is left for fine-tuning; pass fewer or smaller images or a "
                        "larger --budget", minutes, self.budget)
        self.reserve = min(max(self.reserve, wanted), 1.0)

    def require(self, minutes: float, what: str) -> None:
        """Refuse the run (:class:`InputError`) when the time used so far plus ``minutes`` of
        work that cannot be skipped, ``what``, exceeds the budget; the message gives the
        minimum."""
        need = self.elapsed() + minutes
        if need > self.budget:
            minimum = np.ceil(round(need * 12, 3)) / 10  # 20 % margin, up to a tenth
            raise InputError(f"--budget {self.budget:g} is too small for these images: {what} "
                             f"take about {need:.2f} min here; give --budget {minimum:g} or more, "
                             "or fewer or smaller images")


#: Longest share of the budget each threshold search (of the initial and of the adapted
#: network) may take; stopped early, it keeps the best thresholds so far.
TUNING_SHARE = 0.1


def _default_threads() -> int | None:
    """Fewer torch threads when other work keeps CPUs busy (:func:`nanosizer._cpus.free_cpus`),
    else None (all of them).

    On a shared machine, torch's threads wait for each other at every operation; measured with
    2 cores at load ~8, one thread ran fine-tuning steps 4x and GAN steps 10x faster than two.
    """
    from .._cpus import available_cpus, free_cpus

    cpus, free = available_cpus(), free_cpus()
    if free < cpus:
        log.info("other work keeps %d of %d CPUs busy: using %d torch thread(s) (set --threads "
                 "to override)", cpus - free, cpus, free)
        return free
    return None


def read_images(paths) -> list:
    """The micrographs of ``paths`` (:func:`nanosizer.io.read_micrograph`), in order."""
    from ..io import read_micrograph

    return [read_micrograph(p) for p in paths]


def real_pairs(config: AdaptConfig, paths, micrographs) -> list:
    """Labelled training pairs of the run: TSEM twins of ``paths`` (``--transmission``) and
    the pairs of ``--pairs``."""
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
        cut = int(round(w * (1 - fraction)))
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


def _outline_step(config: AdaptConfig, minutes: float, work: Path, report: dict) -> str | None:
    """Train the outline GAN and write sampled outlines; returns the outlines folder."""
    if config.outlines_dir is None:
        return None
    from ..synth import load_outlines  # validates the folder
    from .wgan import train_outline_gan, write_outlines

    load_outlines(config.outlines_dir)
    examples = _read_masks(Path(config.outlines_dir))
    if minutes <= 0.05:
        report["wgan"] = {"skipped": "no budget"}
        return config.outlines_dir
    gan = train_outline_gan(examples, steps=5000, rng=config.seed, minutes=minutes,
                            device=config.device)
    gan.save(work / "outline_gan")
    folder = write_outlines(work / "outlines", gan.sample(200, rng=config.seed))
    for i, mask in enumerate(examples):  # keep the user's own outlines in the family too
        write_outlines(folder, np.asarray(mask)[None] > 0, prefix=f"example{i:03d}")
    report["wgan"] = gan.history
    log.info("outline GAN: %s", gan.history)
    return str(folder)


def _read_masks(folder: Path) -> list[np.ndarray]:
    import imageio.v3 as iio

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png", ".bmp"))
    masks = []
    for path in files:
        img = np.asarray(iio.imread(path))
        img = img[..., 0] if img.ndim == 3 else img
        masks.append(img > img.min() + 0.5 * np.ptp(img) if np.ptp(img) else np.zeros(img.shape, bool))
    return masks


def _normalised(micrographs) -> list[np.ndarray]:
    from ..train import normalize_image

    return [np.clip(normalize_image(m.analysis_data), 0, 1) for m in micrographs]


def simulated_domain(labels: np.ndarray) -> np.ndarray:
    """CycleGAN input for simulated labels: 0 on background, 0.5-1 domes on particles.

    A plain binary mask would merge touching particles into one blob, so the generator could
    not draw their contact; each particle's normalised distance to its own outline keeps them
    apart (valleys of 0.5 at contacts, 1 at centres).
    """
    from ..train.targets import normalized_distance

    return np.where(labels > 0, 0.5 + 0.5 * normalized_distance(labels), 0.0).astype(np.float32)


def _cyclegan_step(config, minutes, synth, micrographs, work, report) -> list:
    """Train the CycleGAN simulated labels -> real, render pairs, filter unrendered particles."""
    from .cyclegan import filter_unrendered, random_tiles, train_cyclegan

    tile = 128
    real = random_tiles(_normalised(micrographs), tile, 256, config.seed)
    samples = [synth(10_000 + i) for i in range(24)]
    sims = random_tiles([simulated_domain(lab) for _, lab in samples], tile, 256, config.seed + 1)
    gan = train_cyclegan(sims, real, steps=100_000, rng=config.seed, minutes=minutes * 0.85,
                         device=config.device)
    gan.save(work / "cyclegan")
    pairs, kept, total = [], 0, 0
    for _, labels in samples:
        rendered = gan.translate(simulated_domain(labels)[None])[0]
        filtered, _ = filter_unrendered(rendered, labels, min_contrast=1.0)
        kept, total = kept + int(filtered.max()), total + int(labels.max())
        pairs.append((rendered, filtered))
    report["cyclegan"] = {**gan.history, "rendered_images": len(pairs),
                          "particles_kept": kept, "particles_simulated": total}
    log.info("CycleGAN: %s", report["cyclegan"])
    return pairs


def _eval_config(config: AdaptConfig):
    """The evaluation settings (device, precision, contact width) of a fine-tuning run."""
    from .finetune import FinetuneConfig

    return FinetuneConfig(tile=config.tile, seed=config.seed, device=config.device)


def _kept_thresholds(config: AdaptConfig, real):
    """The initial model's thresholds when there are no real labels to tune new ones on.

    Validation data are then composites or renders, on which tuning prefers little smoothing:
    touching pasted particles are sharp-edged.  On the BAM frames (TSEM-derived proxy truth)
    the thresholds tuned on composites split real particles (pooled F1 0.58, median min Feret
    -13 %) where the initial model's, tuned on real images, did not (0.66, -5 %).
    """
    if real or config.init_model is None:
        return None
    from ..nn import load_card
    from ..segment.cnn import resolve_model
    from ..segment.instances import InstanceThresholds

    stored = load_card(resolve_model(config.init_model)).thresholds
    return InstanceThresholds.from_dict(stored) if stored else None


#: Where an adapted model keeps a copy of a (not shipped) initial model that chooses its zoom.
ZOOM_MODEL_DIR = "zoom_model"


def _model_reference(model: str) -> tuple[str, Path | None]:
    """``metadata.zoom_model`` for an initial model and the folder to copy there (None: shipped).

    A model folder may only name shipped models or folders inside it
    (:func:`nanosizer.nn._schema.resolve_zoom_model`), so a custom initial model is copied in.
    """
    from ..segment.cnn import SHIPPED_MODELS, resolve_model

    if model in SHIPPED_MODELS:
        return model, None
    return ZOOM_MODEL_DIR, resolve_model(model)


def _zoom_thresholds_of(init_model: str | None) -> dict:
    """``{"zoom_thresholds": ...}`` of the initial model when it stores them (else empty)."""
    if init_model is None:
        return {}
    from ..nn import load_card
    from ..segment.cnn import resolve_model

    stored = load_card(resolve_model(init_model)).zoom_thresholds
    return {"zoom_thresholds": dict(stored)} if stored else {}


def _save_initial(out_dir: Path, net, init_model: str, about: dict) -> None:
    """Write ``net`` (holding the initial weights) with the initial model's own metadata."""
    from ..nn import load_card, save_model
    from ..segment.cnn import resolve_model

    card = load_card(resolve_model(init_model))
    metadata = dict(card.metadata)
    metadata.update(trained_on=f"{card.trained_on or 'unknown'}, kept by adapt", adapt=about)
    save_model(out_dir, net, metadata)


#: Sub-folder of ``MODEL_DIR/adapt`` that receives the adapted model when a guard keeps the
#: initial one (usable with ``analyze --model MODEL_DIR/adapt/rejected-model``).
REJECTED = "rejected-model"


#: At most this many of the given images are adapted to (:func:`spread_subset`): the initial
#: model labels each one before training and the adapted model segments each one in the
#: guards (about 0.5 s per 1024 x 768 frame and model on 2 cores), which the budget's reserve
#: must hold (:data:`AFTER_FINETUNE_PASSES`).
MAX_IMAGES = 24


def spread_subset(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``, evenly spread over the list (all of them if fewer).

    Parameters
    ----------
    items : list
    limit : int
        At least 1.

    Returns
    -------
    list
        ``items`` itself when ``len(items) <= limit``, else ``limit`` items in their order,
        the first and the last included.
    """
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


#: At most this many images get a before/after overlay in ``MODEL_DIR/adapt/overlays``.
MAX_OVERLAYS = 8


#: Height (px) of the title band above each overlay panel.
TITLE_PX = 16


def _titled(tile: np.ndarray, title: str) -> np.ndarray:
    """``tile`` (H, W, 3) uint8 under a white band holding ``title`` in black."""
    from PIL import Image, ImageDraw

    band = Image.new("RGB", (tile.shape[1], TITLE_PX), "white")
    ImageDraw.Draw(band).text((4, 2), title, fill="black")
    return np.concatenate([np.asarray(band), tile], axis=0)


def write_comparison_overlays(folder, micrographs, before, after,
                              titles: tuple[str, str] = ("before: initial model",
                                                         "after: adapted model")) -> list[Path]:
    """Side-by-side outlines of two models on each micrograph: ``before | after`` PNGs.

    Parameters
    ----------
    folder : path-like
        Created if needed; receives ``<image name>.png`` per micrograph (full resolution: zoom
        in on touching particles — scaled-down views lose the 1-px outlines).
    micrographs : sequence of Micrograph
    before, after : str or Path
        Models (shipped name or folder), segmented as ``analyze`` would.
    titles : (str, str)
        Written above the left and right panels (a white band of ``TITLE_PX`` rows).

    Returns
    -------
    list of Path
    """
    import imageio.v3 as iio

    from ..report.overlay import label_overlay
    from ..segment.cnn import segment_cnn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for m in micrographs:
        rows = m.infobar_top or None
        tiles = [_titled(label_overlay(m.data, segment_cnn(m, model), mask=m.analysis_mask,
                                       show_ids=False)[:rows], title)
                 for model, title in zip((before, after), titles)]
        gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
        path = folder / f"{m.name}.png"
        iio.imwrite(path, np.concatenate([tiles[0], gap, tiles[1]], axis=1))
        written.append(path)
    return written


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"--out {out_dir} exists and is not an empty folder; choose a new folder")


def _finish(out_dir: Path, work: Path, report: dict) -> None:
    import shutil

    for name in ("outline_gan", "cyclegan", "outlines"):
        if (work / name).is_dir():
            shutil.copytree(work / name, out_dir / "adapt" / name)
    if report.get("kept") == "initial" and (work / "candidate").is_dir():
        # the adapted model a guard on the user's images turned down, to inspect or use
        shutil.copytree(work / "candidate", out_dir / "adapt" / REJECTED)
        report["rejected_model"] = f"adapt/{REJECTED}"
    (out_dir / "adapt").mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=str, allow_nan=True)
    (out_dir / "adapt" / "report.json").write_text(text + "\n", encoding="utf-8")


def adapt(paths, out_dir, config: AdaptConfig = AdaptConfig(), *, command: str = "",
          deadline=None) -> dict:
    """Adapt the segmentation network to the user's unlabelled images.

    Parameters
    ----------
    paths : sequence of path-like
        The user's micrographs (any format :func:`nanosizer.io.read_micrograph` reads).
    out_dir : path-like
        New (or empty) folder; receives the model (``config.json``, ``weights.safetensors``,
        usable with ``analyze --model``) and ``adapt/`` (report, GAN folders, outlines).
    config : AdaptConfig
    command : str
        Command line, stored in the model metadata.
    deadline : Deadline, optional
        When the model must be written (:class:`nanosizer.train.Deadline`, e.g. from the start
        of the command); default ``config.budget_minutes`` from now.

    Returns
    -------
    report : dict
        What each step did, its time, and the validation scores.

    Raises
    ------
    InputError
        Among others, when the budget cannot hold the work that cannot be skipped (labelling
        the images with the initial model, the guards, writing the model), measured on the
        first pass over the images; the message gives the minimum.
    """
    from ..train import Deadline

    deadline = deadline or Deadline.from_minutes(config.budget_minutes)  # imports count too
    from ..io import StagedDir
    from ..nn import configure_threads
    from ..synth import estimate_style
    from .copypaste import CopyPasteSource, erase_ignored
    from .finetune import FinetuneConfig, MixedSource, finetune, initial_network, tune_and_save
    from .guards import keep_anchors, keep_better, snapshot, tuned_thresholds
    from .teacher import (Teacher, full_frame_labels, scaled_styles, teacher_canvases,
                          zoomed_pair)

    threads = configure_threads(config.threads if config.threads else _default_threads())
    clock = _Clock(deadline.seconds / 60.0, start=deadline.start)
    out_dir, paths = Path(out_dir), [Path(p) for p in paths]
    _check_out(out_dir)
    if not paths:
        raise InputError("no images given; pass the micrographs to adapt to")
    given = len(paths)
    paths = spread_subset(paths, MAX_IMAGES)
    if len(paths) < given:
        log.info("adapting to %d of the %d images (evenly spread; images of one kind need no "
                 "more, and the pseudo-labels and guards stay within the budget)", len(paths),
                 given)
    micrographs = read_images(paths)
    report: dict = {"images": [str(p) for p in paths], "images_given": given,
                    "config": asdict(config), "threads": threads}
    # everything is written into a staging folder that becomes out_dir at the end, whole
    with (tempfile.TemporaryDirectory(prefix="nanosizer-adapt-") as tmp,
          StagedDir(out_dir) as staged):
        work, out_dir = Path(tmp), staged.path
        real = real_pairs(config, paths, micrographs)
        paired = {p.name for p in real}
        unpaired = [m for m in micrographs if m.name not in paired]
        report["real_pairs"] = {p.name: {"shift": p.shift, "particles": int(p.labels.max())}
                                for p in real}
        outlines = _outline_step(config, clock.minutes(BUDGET_SHARES["wgan"]), work, report)
        styles = [estimate_style([str(p)]) for p in paths]
        report["styles"] = {p.name: asdict(s) for p, s in zip(paths, styles)}
        train, val = _split_val(real)
        teacher, started, after = Teacher(), clock.elapsed(), 0.0
        if unpaired and config.self_training and config.init_model is not None:
            teacher = teacher_canvases(unpaired, config.init_model, device=config.device)
            after = AFTER_FINETUNE_PASSES * (clock.elapsed() - started)
            clock.require(after, _FIXED_WORK)
            clock.hold(after)
            report["selftrain_pseudo"] = teacher.summary()
            log.info("pseudo-labels of the initial model: %s", report["selftrain_pseudo"])
            styles = scaled_styles(styles, micrographs, unpaired, teacher)
        zoom = teacher.zoom
        synth = _LikeSynth(styles, max(config.tile, 256), config.seed, outlines)
        paste = None
        if sum(len(c) for c in teacher.cutouts) >= MIN_CUTOUTS:
            window = 16 * int(np.ceil(config.tile / (0.8 * zoom) / 16)) + 64
            paste = CopyPasteSource(teacher.canvases, teacher.cutouts, window, config.seed)
        else:  # too few isolated particles to paste: the pseudo-labelled images alone
            train += teacher.canvases
        if config.cyclegan == "on" or (config.cyclegan == "auto" and not real and paste is None):
            rendered = _cyclegan_step(config, clock.minutes(BUDGET_SHARES["cyclegan"]), synth,
                                      micrographs, work, report)
            train, val = train + rendered[:-4], val + (rendered[-4:] if not real else [])
        if not val and paste is not None:
            rng = np.random.default_rng(config.seed)
            val = [erase_ignored(*paste(50_000 + i), rng) for i in range(8)]
        if not val:
            val = [synth(20_000 + i) for i in range(8)]
        val = [zoomed_pair(pair, zoom) for pair in val]  # as the network sees them
        source = MixedSource([paste, synth], [0.7, 0.3], config.seed) if paste else synth
        net, init_source = initial_network(config.init_model, config.arch, config.device)
        initial = snapshot(net) if config.init_model is not None else None
        # without real labels nothing but the initial model's confident particles can show
        # that the user's images got worse (validation data are then rendered or pasted)
        anchors, init_count = [], None
        if initial is not None and not real:
            started = clock.elapsed()
            if teacher.labels:  # the pseudo-labelling pass has counted them
                anchors = full_frame_labels(teacher.labels, micrographs)
                init_count = sum(teacher.counts)
            else:
                anchors, init_count = anchor_particles(config.init_model, micrographs,
                                                       return_count=True)
            after = max(after, AFTER_FINETUNE_PASSES * (clock.elapsed() - started))
            clock.require(after, _FIXED_WORK)
            clock.hold(after)
        timing: dict = {}
        searches: dict = {"initial": {}, "adapted": {}}
        if initial is not None:  # the adapted network's search will cost about as much
            f1 = tuned_thresholds(net, val, _eval_config(config), timing=timing,
                                  search=searches["initial"],
                                  deadline=Deadline(60 * clock.minutes(TUNING_SHARE)))[1]
            report["initial_val_f1"] = round(f1, 4)
            # the adapted network is evaluated three times: its search, the guard, the export
            evaluations = 3 * timing.get("evaluate_s", 0.0) / 60
            clock.require(after + evaluations, _FIXED_WORK)
            after += evaluations + timing.get("search_s", 0.0) / 60
            clock.hold(after)
        ft = FinetuneConfig(steps=1_000_000, minutes=max(clock.minutes(1.0), 0.05),
                            tile=config.tile, seed=config.seed, device=config.device,
                            synthetic_fraction=0.3 if train else 1.0,
                            scale_range=(0.8 * zoom, 1.25 * zoom))
        # from now: its set-up (the optimiser imports torch's compiler, ~2 s) counts too
        report["finetune"] = finetune(net, train, ft, source, deadline=Deadline(60 * ft.minutes))
        log.info("fine-tuning: %s", report["finetune"])
        # the adapted network's thresholds, tuned once for the guards and the model folder;
        # the search keeps the time of the guards' passes and the writing
        adapted = None
        if val:
            keep = (after - timing["search_s"] / 60 if "search_s" in timing
                    else 0.05 * clock.budget)  # no measurement: the 5 % margin of hold()
            # on the same candidates as the initial network, for a fair comparison
            adapted = tuned_thresholds(net, val, ft, deadline=clock.deadline.before(60 * keep),
                                       search=searches["adapted"],
                                       max_candidates=searches["initial"].get("tried"))
            report["threshold_search"] = {k: v for k, v in searches.items() if v}
        # images of one magnification keep their zoom; for mixed ones the initial model,
        # which chose each image's zoom for the canvases, chooses it
        zoom_source = None
        if teacher.mixed:
            reference, zoom_source = _model_reference(config.init_model)
            scale = {"zoom_model": reference}
        else:
            scale = {"zoom": zoom}
        scale.update(_zoom_thresholds_of(config.init_model))
        kept = keep_better(net, initial, val, ft, report, adapted=adapted)
        if kept == "adapted" and anchors:
            kept = keep_anchors(net, initial, micrographs, anchors, val, ft, work, report,
                                scale=scale, thresholds=_kept_thresholds(config, real),
                                init_model=config.init_model, init_count=init_count,
                                tuned=adapted, zoom_model_source=zoom_source)
        about = {"init_model": init_source, "training_command": command,
                 "adapt_config": asdict(config), "training_minutes": round(clock.elapsed(), 2)}
        if kept == "initial":  # the initial model unchanged (thresholds, automatic zoom)
            _save_initial(out_dir, net, config.init_model, about)
            report["val_scores"] = {"kept": "initial"}
        else:  # fitted to these images at their scale
            metadata = {"trained_on": "adapt", **about, **scale}
            sizes = [np.maximum(lab, 0) for _, lab in train] if zoom == 1.0 else []
            report["val_scores"] = tune_and_save(out_dir, net, val, metadata, ft,
                                                 size_labels=sizes,
                                                 thresholds=_kept_thresholds(config, real),
                                                 tuned=adapted, zoom_model_source=zoom_source)
        if kept == "adapted" and config.init_model is not None:
            written = write_comparison_overlays(out_dir / "adapt" / "overlays",
                                                micrographs[:MAX_OVERLAYS], config.init_model,
                                                out_dir, (f"before: {config.init_model}",
                                                          "after: adapted"))
            report["overlays"] = [str(p.relative_to(out_dir)) for p in written]
        report["minutes"] = round(clock.elapsed(), 2)
        _finish(out_dir, work, report)
    return report
