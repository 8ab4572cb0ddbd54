"""``nanosizer adapt``: the whole adaptation run within a time budget.

Steps (each optional, each timed against its share of the budget):

1. real training pairs: from transmission twins (:mod:`.transmission`) and/or a folder of
   (hand-corrected) pairs (:mod:`.pairs_io`);
2. pseudo-labels of the other images by the initial model, run as ``analyze`` runs it
   (:func:`.pseudo.teacher_labels`): confident particles are labels, the rest is ignored;
3. copy-paste composites (:mod:`.copypaste`): the isolated confident particles pasted back
   into the images, touching and overlapping others, with exact labels;
4. outline WGAN-GP (:mod:`.wgan`) on example outlines, whose samples become a shape family of
   the synthetic engine;
5. synthetic micrographs "like" the user's images (:func:`nanosizer.synth.like_config`);
6. CycleGAN (:mod:`.cyclegan`) from simulated masks to the user's images, rendering extra
   training pairs (particles it failed to draw are removed from the labels) — used when there
   are neither real pairs nor enough particles to paste;
7. fine-tuning (self-training) of the initial network on all of these (:mod:`.finetune`);
8. thresholds (tuned on held-out real strips, else the initial model's), the two guards
   against an adapted model worse than the initial one, and the model folder.
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

__all__ = ["AdaptConfig", "BUDGET_SHARES", "MAX_COUNT_RATIO", "MAX_IMAGES", "MAX_OVERLAYS",
           "MIN_ANCHOR_RECALL", "MIN_CUTOUTS", "REJECTED", "adapt", "anchor_particles",
           "anchor_recall", "particle_count_ratio", "simulated_domain", "spread_subset",
           "write_comparison_overlays"]

log = logging.getLogger("nanosizer.adapt")

#: Shares of the budget of the steps before fine-tuning, which takes the rest.
BUDGET_SHARES = {"wgan": 0.06, "cyclegan": 0.25}

#: Fewest isolated particles in the user's images for copy-paste composites; with fewer, the
#: CycleGAN renders training images instead (``--cyclegan auto``).
MIN_CUTOUTS = 5


#: Share of the initial model's confident particles on the user's images that the adapted model
#: must still find (IoU >= 0.5); below it the initial network is kept.  Measured (adapted model
#: scored against manual or exact labels): 0.94-0.99 on runs that helped (BAM frames, TiO2-like
#: synthetic), 0.82 on 10 EMPS SEM images of mixed magnification where it helped (F1 0.688 ->
#: 0.747: it re-segments some of the initial model's confident but wrong particles), 0.74 on 8
#: mixed EMPS SEM/TEM images where it shattered particles (F1 0.632 -> 0.214).
MIN_ANCHOR_RECALL = 0.8

#: Most particles the adapted model may find in the user's images, relative to the initial
#: model; more means it shatters particles (8 mixed EMPS SEM/TEM images: 3.5 x, F1 0.632 ->
#: 0.214), while runs that helped found 0.9-1.1 x.  Splitting merged agglomerates legitimately
#: adds particles (hand-corrected BAM crops hold 1.25 x the default UNet's count), hence 1.5.
MAX_COUNT_RATIO = 1.5


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
    """Budget bookkeeping: minutes left for a step given its share."""

    budget: float
    start: float = field(default_factory=time.perf_counter)
    reserve: float = 0.1

    def elapsed(self) -> float:
        return (time.perf_counter() - self.start) / 60.0

    def minutes(self, share: float) -> float:
        left = self.budget * (1.0 - self.reserve) - self.elapsed()
        return max(0.0, min(share * self.budget, left))


def _default_threads() -> int | None:
    """1 when the CPUs are already busy (load average >= CPU count), else None (all of them).

    On a shared machine, torch's threads wait for each other at every operation; measured with
    2 cores at load ~8, one thread ran fine-tuning steps 4x and GAN steps 10x faster than two.
    """
    import os

    try:
        cpus, load = len(os.sched_getaffinity(0)), os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - platforms without them
        return None
    if cpus > 1 and load >= cpus:
        log.info("load average %.1f on %d CPUs: using 1 torch thread (set --threads to override)",
                 load, cpus)
        return 1
    return None


def _read(paths):
    from ..io import read_micrograph

    return [read_micrograph(p) for p in paths]


def _real_pairs(config: AdaptConfig, paths, micrographs) -> list:
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
            pair = transmission_pair(by_path[sem_path], _read([trans_path])[0])
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
    from ..synth._shapes import load_outlines  # validates the folder
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


@dataclass
class _Teacher:
    """Pseudo-labelled images of the initial model, ready for copy-paste self-training.

    Attributes
    ----------
    labels : list of ndarray
        Per image, its pseudo-labels at the image's resolution (IGNORE where unsure).
    canvases : list of (image, labels)
        The same, resampled by ``factors`` so that every image's particles have the size they
        have in the image seen at ``zoom``.
    cutouts : list of list of Cutout
        Per canvas, its :func:`~.copypaste.isolated_cutouts`.
    zoom : float
        The reference zoom: the median of the zooms at which the initial model saw the images,
        snapped to one of the automatic zooms.
    factors : list of float
        Per image, its own zoom divided by ``zoom`` (all 1 when the images share one zoom).
    """

    labels: list
    canvases: list
    cutouts: list
    zoom: float = 1.0
    factors: list = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        """True when the images needed different zooms (the adapted model then chooses)."""
        return any(f != 1.0 for f in self.factors)


def _teacher_canvases(config: AdaptConfig, micrographs, report: dict) -> _Teacher:
    """Pseudo-labels of the images by the initial model, resampled to one particle scale.

    A folder may mix magnifications: the initial model (automatic zoom) then sees each image at
    its own zoom.  Each canvas is resampled by its zoom relative to the reference zoom, so the
    composites and the fine-tuning crops show particles at the size the network expects.
    """
    from ..segment.cnn import ZOOMS
    from .copypaste import isolated_cutouts
    from .pseudo import IGNORE, teacher_labels

    labels, zooms = [], []
    for m in micrographs:
        lab, zoom = teacher_labels(m, config.init_model, device=config.device)
        labels.append(lab)
        zooms.append(zoom)
    zoom = float(np.exp(np.median(np.log(zooms)))) if zooms else 1.0
    zoom = min(ZOOMS, key=lambda z: abs(np.log(z / zoom)))  # one of the automatic zooms
    factors = [z / zoom for z in zooms]
    canvases = [_zoomed((np.asarray(m.analysis_data, np.float32), lab), f)
                for m, lab, f in zip(micrographs, labels, factors)]
    min_area = max(12, round(30 / zoom**2))  # 30 px as the network sees them
    cutouts = [isolated_cutouts(image, lab, min_area=min_area) for image, lab in canvases]
    teacher = _Teacher(labels, canvases, cutouts, zoom, factors)
    report["selftrain_pseudo"] = {
        "confident_particles": int(sum(max(int(lab.max()), 0) for lab in labels)),
        "ignored_share": round(float(np.mean([np.mean(lab == IGNORE) for lab in labels])), 4),
        "isolated_particles": int(sum(len(c) for c in cutouts)), "zoom": zoom,
        "image_zooms": zooms}
    log.info("pseudo-labels of the initial model: %s", report["selftrain_pseudo"])
    return teacher


def _scaled_styles(styles, micrographs, taught, teacher: _Teacher) -> list:
    """``styles`` (one per micrograph) with particle size and blur scaled like the canvases.

    ``taught`` are the micrographs (a subset of ``micrographs``) behind ``teacher``.
    """
    import dataclasses

    factor = {id(m): f for m, f in zip(taught, teacher.factors)}
    out = []
    for m, style in zip(micrographs, styles):
        f = factor.get(id(m), 1.0)
        out.append(style if f == 1.0 else dataclasses.replace(
            style, size_px=style.size_px * f, blur_px=max(style.blur_px * f, 0.2)))
    return out


def _full_frame(labels, micrographs) -> list[np.ndarray]:
    """Pseudo-labels of the analysed rows as particle labels of the whole frames (IGNORE -> 0)."""
    frames = []
    for lab, m in zip(labels, micrographs):
        full = np.zeros(m.shape, np.int32)
        full[: lab.shape[0]] = np.maximum(lab, 0)
        frames.append(full)
    return frames


def _zoomed(pair, zoom: float):
    """An (image, labels) pair resampled by ``zoom`` (linear / nearest), as the network sees it."""
    if zoom == 1.0:
        return pair
    from scipy import ndimage as ndi

    image, labels = pair
    kw = {"mode": "nearest", "grid_mode": True}
    return (ndi.zoom(np.asarray(image, np.float32), zoom, order=1, **kw),
            ndi.zoom(np.asarray(labels, np.int32), zoom, order=0, **kw))


def _tuned_thresholds(net, val, ft):
    """Thresholds tuned on ``val`` and the F1 they reach (defaults and nan without ``val``)."""
    from ..segment.instances import InstanceThresholds
    from ..train import evaluate, normalize_image, tune_thresholds

    if not val:
        return InstanceThresholds(), float("nan")
    norm = [(normalize_image(np.asarray(i, np.float32)), lab) for i, lab in val]
    _, probs = evaluate(net, norm, device=ft.device, amp=ft.amp,
                        thresholds=InstanceThresholds(), contact_width=ft.contact_width)
    return tune_thresholds(probs, [lab for _, lab in norm])


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
    from ..nn import load_metadata
    from ..segment.cnn import resolve_model
    from ..segment.instances import InstanceThresholds

    stored = load_metadata(resolve_model(config.init_model)).get("thresholds")
    return InstanceThresholds.from_dict(stored) if stored else None


def _zoom_thresholds_of(init_model: str | None) -> dict:
    """``{"zoom_thresholds": ...}`` of the initial model when it stores them (else empty)."""
    if init_model is None:
        return {}
    from ..nn import load_metadata
    from ..segment.cnn import resolve_model

    stored = load_metadata(resolve_model(init_model)).get("zoom_thresholds")
    return {"zoom_thresholds": stored} if stored else {}


def anchor_particles(model, micrographs) -> list[np.ndarray]:
    """The particles ``model`` segments confidently in each micrograph (as ``analyze`` would).

    Confident: mean foreground probability >= 0.85, mean contact probability < 0.5, not on
    the border (:func:`nanosizer.adapt.pseudo.confident_labels`).  They are the initial model's
    most reliable particles; an adapted model that loses many of them has got worse on the
    user's images, whatever its score on synthetic validation data.
    """
    from ..segment.cnn import segmentation_maps
    from .pseudo import confident_labels

    anchors = []
    for m in micrographs:
        probs, thresholds = segmentation_maps(m, model)
        anchors.append(confident_labels(probs, thresholds, mask=m.analysis_mask)[1])
    return anchors


def anchor_recall(model, micrographs, anchors) -> float:
    """Pooled share of the ``anchors`` particles that ``model`` finds (IoU >= 0.5); nan if none."""
    from ..evaluate import score_instances
    from ..segment.cnn import segment_cnn

    found = total = 0
    for m, anchor in zip(micrographs, anchors):
        s = score_instances(anchor, segment_cnn(m, model))
        found, total = found + s["tp"], total + s["n_true"]
    return found / total if total else float("nan")


def _save_initial(out_dir: Path, net, init_model: str, about: dict) -> None:
    """Write ``net`` (holding the initial weights) with the initial model's own metadata."""
    from ..nn import load_metadata, save_model
    from ..segment.cnn import resolve_model

    metadata = dict(load_metadata(resolve_model(init_model)))
    metadata.update(trained_on=f"{metadata.get('trained_on', 'unknown')}, kept by adapt",
                    adapt=about)
    save_model(out_dir, net, metadata)


def _snapshot(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _restore(net, initial: dict, report: dict, why: str, *args) -> None:
    """Put the initial weights back into ``net``, log ``why`` and record it in ``report``."""
    log.warning(why + ": keeping the initial network", *args)
    net.load_state_dict(initial)
    report["kept"] = "initial"


def _keep_better(net, initial: dict | None, val, ft, report: dict) -> str:
    """Put the initial weights back into ``net`` when adapting made the validation F1 worse.

    Returns ``'adapted'`` or ``'initial'`` (also stored in ``report["kept"]``).  Without an
    initial model or validation data there is nothing to compare and the adapted network stays.
    """
    report["kept"] = "adapted"
    if initial is None or not val or "initial_val_f1" not in report:
        return report["kept"]
    adapted_f1 = round(_tuned_thresholds(net, val, ft)[1], 4)
    report["adapted_val_f1"] = adapted_f1
    if adapted_f1 < report["initial_val_f1"]:
        _restore(net, initial, report, "the adapted network scores validation F1 %.3f < %.3f of "
                 "the initial one", adapted_f1, report["initial_val_f1"])
    return report["kept"]


def particle_count_ratio(model, reference, micrographs) -> float:
    """Particles ``model`` finds in ``micrographs`` over those ``reference`` finds (pooled).

    Both are run as ``analyze`` runs them; nan when ``reference`` finds none.
    """
    from ..segment.cnn import segment_cnn

    counts = np.array([[len(np.unique(segment_cnn(m, net))) - 1 for net in (model, reference)]
                       for m in micrographs]).sum(axis=0)
    return float(counts[0] / counts[1]) if counts[1] else float("nan")


def _keep_anchors(net, initial, micrographs, anchors, val, ft, work: Path, report: dict, *,
                  scale: dict | None = None, thresholds=None, init_model=None) -> str:
    """Put the initial weights back when the adapted network loses the initial confident
    particles or shatters particles.

    The adapted network is written to a scratch model folder (with the zoom metadata ``scale``,
    default a fixed zoom of 1, and ``thresholds`` or thresholds tuned on ``val``) and run on the
    user's images like ``analyze``; see :data:`MIN_ANCHOR_RECALL` and, when ``init_model`` is
    given, :data:`MAX_COUNT_RATIO`.
    """
    from .finetune import tune_and_save

    candidate = work / "candidate"
    tune_and_save(candidate, net, val, {"zoom": 1.0} if scale is None else scale, ft,
                  overwrite=True, thresholds=thresholds)
    recall = anchor_recall(candidate, micrographs, anchors)
    report["anchor_particles"] = int(sum(int(a.max()) for a in anchors))
    report["anchor_recall"] = round(recall, 4)
    if recall < MIN_ANCHOR_RECALL:
        _restore(net, initial, report, "the adapted network finds only %.0f %% of the %d "
                 "particles the initial one segments confidently in these images",
                 100 * recall, report["anchor_particles"])
        return report["kept"]
    if init_model is not None:
        ratio = particle_count_ratio(candidate, init_model, micrographs)
        report["particle_count_ratio"] = round(ratio, 4)
        if ratio > MAX_COUNT_RATIO:
            _restore(net, initial, report, "the adapted network finds %.1f x as many particles "
                     "as the initial one in these images (it shatters them)", ratio)
    return report["kept"]


#: Sub-folder of ``MODEL_DIR/adapt`` that receives the adapted model when a guard keeps the
#: initial one (usable with ``analyze --model MODEL_DIR/adapt/rejected-model``).
REJECTED = "rejected-model"


#: At most this many of the given images are adapted to (:func:`spread_subset`): the initial
#: model labels each one before training and both models segment each one in the guards, which
#: must fit the budget's reserve (about 0.5 s per 1024 x 768 frame and model on 2 cores).
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


def write_comparison_overlays(folder, micrographs, before, after) -> list[Path]:
    """Side-by-side outlines of two models on each micrograph: ``before | after`` PNGs.

    Parameters
    ----------
    folder : path-like
        Created if needed; receives ``<image name>.png`` per micrograph (full resolution: zoom
        in on touching particles — scaled-down views lose the 1-px outlines).
    micrographs : sequence of Micrograph
    before, after : str or Path
        Models (shipped name or folder), segmented as ``analyze`` would.

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
        tiles = [label_overlay(m.data, segment_cnn(m, model), mask=m.analysis_mask,
                               show_ids=False)[:rows] for model in (before, after)]
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
        # the adapted model the anchor guard turned down, for the user to inspect or use
        shutil.copytree(work / "candidate", out_dir / "adapt" / REJECTED)
        report["rejected_model"] = f"adapt/{REJECTED}"
    (out_dir / "adapt").mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=str, allow_nan=True)
    (out_dir / "adapt" / "report.json").write_text(text + "\n", encoding="utf-8")


def adapt(paths, out_dir, config: AdaptConfig = AdaptConfig(), *, command: str = "") -> dict:
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

    Returns
    -------
    report : dict
        What each step did, its time, and the validation scores.
    """
    from ..nn import configure_threads
    from ..synth import estimate_style
    from .copypaste import CopyPasteSource, erase_ignored
    from .finetune import FinetuneConfig, MixedSource, finetune, initial_network, tune_and_save

    threads = configure_threads(config.threads if config.threads else _default_threads())
    clock, out_dir, paths = _Clock(config.budget_minutes), Path(out_dir), [Path(p) for p in paths]
    _check_out(out_dir)
    if not paths:
        raise InputError("no images given; pass the micrographs to adapt to")
    given = len(paths)
    paths = spread_subset(paths, MAX_IMAGES)
    if len(paths) < given:
        log.info("adapting to %d of the %d images (evenly spread; images of one kind need no "
                 "more, and the pseudo-labels and guards stay within the budget)", len(paths),
                 given)
    micrographs = _read(paths)
    report: dict = {"images": [str(p) for p in paths], "images_given": given,
                    "config": asdict(config), "threads": threads}
    with tempfile.TemporaryDirectory(prefix="nanosizer-adapt-") as tmp:
        work = Path(tmp)
        real = _real_pairs(config, paths, micrographs)
        paired = {p.name for p in real}
        unpaired = [m for m in micrographs if m.name not in paired]
        report["real_pairs"] = {p.name: {"shift": p.shift, "particles": int(p.labels.max())}
                                for p in real}
        outlines = _outline_step(config, clock.minutes(BUDGET_SHARES["wgan"]), work, report)
        styles = [estimate_style([str(p)]) for p in paths]
        report["styles"] = {p.name: asdict(s) for p, s in zip(paths, styles)}
        train, val = _split_val(real)
        teacher = _Teacher([], [], [])
        if unpaired and config.self_training and config.init_model is not None:
            teacher = _teacher_canvases(config, unpaired, report)
            styles = _scaled_styles(styles, micrographs, unpaired, teacher)
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
        val = [_zoomed(pair, zoom) for pair in val]  # as the network sees them
        source = MixedSource([paste, synth], [0.7, 0.3], config.seed) if paste else synth
        net, init_source = initial_network(config.init_model, config.arch, config.device)
        initial = _snapshot(net) if config.init_model is not None else None
        # without real labels nothing but the initial model's confident particles can show
        # that the user's images got worse (validation data are then rendered or pasted)
        anchors = []
        if initial is not None and not real:
            anchors = (_full_frame(teacher.labels, micrographs) if teacher.labels
                       else anchor_particles(config.init_model, micrographs))
        if initial is not None:
            f1 = _tuned_thresholds(net, val, _eval_config(config))[1]
            report["initial_val_f1"] = round(f1, 4)
        ft = FinetuneConfig(steps=1_000_000, minutes=max(clock.minutes(1.0), 0.05),
                            tile=config.tile, seed=config.seed, device=config.device,
                            synthetic_fraction=0.3 if train else 1.0,
                            scale_range=(0.8 * zoom, 1.25 * zoom))
        report["finetune"] = finetune(net, train, ft, source)
        log.info("fine-tuning: %s", report["finetune"])
        # images of one magnification keep their zoom; mixed ones get the automatic zoom
        scale = {**({} if teacher.mixed else {"zoom": zoom}),
                 **_zoom_thresholds_of(config.init_model)}
        kept = _keep_better(net, initial, val, ft, report)
        if kept == "adapted" and anchors:
            kept = _keep_anchors(net, initial, micrographs, anchors, val, ft, work, report,
                                 scale=scale, thresholds=_kept_thresholds(config, real),
                                 init_model=config.init_model)
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
                                                 thresholds=_kept_thresholds(config, real))
        if kept == "adapted" and config.init_model is not None:
            written = write_comparison_overlays(out_dir / "adapt" / "overlays",
                                                micrographs[:MAX_OVERLAYS], config.init_model,
                                                out_dir)
            report["overlays"] = [str(p.relative_to(out_dir)) for p in written]
        report["minutes"] = round(clock.elapsed(), 2)
        _finish(out_dir, work, report)
    return report
