"""Tune the defaults of the classical segmentation on EMPS and check it on the BAM SEM images.

Scores configurations by object F1 at IoU 0.5 (one-to-one Hungarian matching,
:func:`nanosizer.evaluate.score_instances`) and foreground pixel IoU on a fixed subset of the
EMPS training images (every ``--step``-th), by a coordinate search around the defaults.

Usage::

    python benchmarks/tune_classical.py                 # coordinate search, prints tables
    python benchmarks/tune_classical.py --rounds 0      # only score the current defaults
    python benchmarks/tune_classical.py --bam /tmp/bam  # + overlays of the 4 BAM SEM images

The data folder is ``../shared/data`` beside the repository (never copied into it).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from skimage import io as skio

from nanosizer.evaluate import score_instances, score_pixels
from nanosizer.segment._classical_steps import choose_polarity, global_threshold
from nanosizer.segment.classical import ClassicalConfig, segment_classical

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Values tried for each setting, one setting at a time (coordinate search).
SEARCH: dict[str, list] = {
    "threshold": ["otsu", "li", "triangle", "local"],
    "sigma": [0.0, 1.0, 2.0, 3.0],
    "marker_h": [0.1, 0.2, 0.3, 0.4, 0.6],
    "marker_min_h": [0.5, 1.0, 2.0, 3.0],
    "marker_sigma": [0.0, 1.0, 2.0],
    "watershed": [True, False],
    "fill_holes": [True, False],
    "min_area": [10, 20, 50, 100],
    "local_block": [51, 101, 201],
}


def load_emps(folder: Path, step: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Every ``step``-th EMPS image as (id, float32 image, uint16 labels)."""
    paths = sorted((folder / "images").glob("*.png"))[::step]
    out = []
    for path in paths:
        image = skio.imread(path)
        if image.ndim == 3:
            image = image[..., :3].mean(axis=2)
        out.append((path.stem, image.astype(np.float32), skio.imread(folder / "labels" / path.name)))
    return out


def score(config: ClassicalConfig, data) -> dict:
    """Mean per-image F1 and pixel IoU, pooled F1, and segmentation seconds per image."""
    f1, iou, tp, fp, fn, seconds = [], [], 0, 0, 0, 0.0
    for _, image, truth in data:
        start = time.perf_counter()
        pred = segment_classical(image, config=config)
        seconds += time.perf_counter() - start
        s = score_instances(truth, pred, ap_thresholds=())
        f1.append(s["f1"])
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
        iou.append(score_pixels(truth, pred)["pixel_iou"])
    return {
        "f1": float(np.mean(f1)),
        "f1_pooled": 2 * tp / max(2 * tp + fp + fn, 1),
        "pixel_iou": float(np.mean(iou)),
        "s_per_image": seconds / len(data),
    }


def polarity_accuracy(data) -> tuple[int, int, list[str]]:
    """How often 'auto' polarity agrees with the truth (particle mean vs background mean)."""
    from scipy import ndimage as ndi

    right, wrong = 0, []
    for name, image, truth in data:
        if not truth.any() or truth.all():
            continue
        dark_truth = image[truth > 0].mean() < image[truth == 0].mean()
        smoothed = ndi.gaussian_filter(image, 1.0)
        mask = np.ones(image.shape, dtype=bool)
        thr = global_threshold(smoothed.ravel(), "otsu")
        if (choose_polarity(smoothed, mask, thr) == "dark") == dark_truth:
            right += 1
        else:
            wrong.append(name)
    return right, right + len(wrong), wrong


def row(label: str, s: dict) -> str:
    return (f"| {label} | {s['f1']:.3f} | {s['f1_pooled']:.3f} | {s['pixel_iou']:.3f} "
            f"| {1000 * s['s_per_image']:.0f} |")


def coordinate_search(data, base: ClassicalConfig, rounds: int) -> ClassicalConfig:
    """Change one setting at a time, keep the value with the best mean F1; print a table."""
    best = score(base, data)
    print("| setting | F1 (mean) | F1 (pooled) | pixel IoU | ms/image |\n|---|---|---|---|---|")
    print(row("start: " + _describe(base), best))
    for _ in range(rounds):
        for name, values in SEARCH.items():
            for value in values:
                if getattr(base, name) == value:
                    continue
                trial = dataclasses.replace(base, **{name: value})
                s = score(trial, data)
                print(row(f"{name}={value}", s), flush=True)
                if s["f1"] > best["f1"] + 1e-4:
                    base, best = trial, s
        print(row("best: " + _describe(base), best), flush=True)
    return base


def _describe(config: ClassicalConfig) -> str:
    default = ClassicalConfig()
    diff = {k: v for k, v in config.to_dict().items() if getattr(default, k) != v}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or "defaults"


def bam_overlays(out_dir: Path, config: ClassicalConfig) -> None:
    """Segment the BAM SEM images (info bar rows 712: masked), print counts/time, save PNGs."""
    import tifffile
    from skimage.segmentation import find_boundaries

    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((DATA / "bam-tio2" / "sem").glob("*.tif")):
        image = tifffile.imread(path).astype(np.float32)
        mask = np.zeros(image.shape, dtype=bool)
        mask[:712] = True
        times, cpu = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            labels = segment_classical(image, mask=mask, config=config)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        grey = (image - image.min()) / max(float(np.ptp(image)), 1.0)
        rgb = np.stack([grey] * 3, axis=-1)
        rgb[find_boundaries(labels, mode="inner")] = (1.0, 0.2, 0.1)
        skio.imsave(out_dir / f"{path.stem}_classical.png", (255 * rgb).astype(np.uint8),
                    check_contrast=False)
        print(f"{path.name}: {labels.max()} particles, {1000 * min(times):.0f} ms wall, "
              f"{1000 * min(cpu):.0f} ms CPU (best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emps", type=Path, default=DATA / "emps-train")
    parser.add_argument("--step", type=int, default=4, help="use every STEP-th image")
    parser.add_argument("--rounds", type=int, default=1, help="coordinate-search passes")
    parser.add_argument("--bam", type=Path, default=None, help="write BAM overlays here")
    args = parser.parse_args()
    data = load_emps(args.emps, args.step)
    right, total, wrong = polarity_accuracy(data)
    print(f"{len(data)} EMPS images; auto polarity right on {right}/{total} (wrong: {wrong})")
    best = coordinate_search(data, ClassicalConfig(), args.rounds)
    print("chosen:", best.to_dict())
    if args.bam is not None:
        bam_overlays(args.bam, best)


if __name__ == "__main__":
    main()
