"""CNN segmentation accuracy and speed: EMPS (F1 at IoU 0.5, pixel IoU) and BAM TiO2 SEM.

Run: python benchmarks/bench_cnn.py [--models unet multiresunet PATH ...] [--step 4]
     [--classical] [--overlays DIR]

EMPS: every ``step``-th image of ../shared/data/emps-train (info bar detection off), scored
with nanosizer.evaluate.score_instances / score_pixels; "mean" = mean per-image F1, "pooled" =
F1 from summed tp/fp/fn.  BAM: the 4 SEM images (info bar detected), particle counts, median
equivalent diameter, wall and CPU time per image (2nd run, after model loading);
``--overlays`` writes outline overlays (PNG) there.
TiO2-like: 12 synthetic dense SEM images with BAM outlines and particle sizes: F1 and the
relative error of the median min Feret (px, border particles left out) against the true labels.
Exits quietly when the data folder is absent.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _scoring import feret_min

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _segment(mg, method: str):
    """Segment with ``classical``, a model name/folder, or ``MODEL@ZOOM`` (fixed input scale)."""
    from nanosizer.segment import segment

    if method == "classical":
        return segment(mg, "classical")
    from nanosizer.segment.cnn import segment_cnn

    model, _, zoom = method.partition("@")
    return segment_cnn(mg, model, scale=float(zoom) if zoom else None)


def emps(methods: list[str], step: int) -> None:
    from skimage import io

    from nanosizer.evaluate import score_instances, score_pixels
    from nanosizer.io import read_micrograph

    names = sorted((DATA / "emps-train" / "labels").glob("*.png"))[::step]
    print(f"EMPS: {len(names)} images (every {step}th)")
    print("| method | F1 (mean) | F1 (pooled) | precision | recall | pixel IoU | s/image |")
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        f1s, tp, fp, fn, ious, t = [], 0, 0, 0, [], 0.0
        for lab_path in names:
            mg = read_micrograph(DATA / "emps-train" / "images" / lab_path.name, infobar="none")
            truth = io.imread(lab_path).astype(np.int32)
            start = time.perf_counter()
            pred = _segment(mg, method)
            t += time.perf_counter() - start
            s = score_instances(truth, pred)
            f1s.append(s["f1"])
            tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
            ious.append(score_pixels(truth, pred)["pixel_iou"])
        pooled = 2 * tp / max(2 * tp + fp + fn, 1)
        print(f"| {method} | {np.mean(f1s):.3f} | {pooled:.3f} | {tp / max(tp + fp, 1):.3f} | "
              f"{tp / max(tp + fn, 1):.3f} | {np.mean(ious):.3f} | {t / len(names):.2f} |")


def tio2_like_samples(n: int = 12, size: int = 384) -> list:
    """Synthetic SEM images resembling the BAM TiO2 micrographs (:class:`nanosizer.synth.Sample`)."""
    from dataclasses import replace

    from nanosizer.synth import OverlayConfig, generate, random_config

    outlines = DATA / "bam-tio2" / "example-outlines"
    samples = []
    for i in range(n):
        rng = np.random.default_rng(10_000 + i)
        cfg = random_config(rng, "sem", size=(size, size), outlines_dir=str(outlines))
        px = cfg.particles.pixel_size_nm
        cfg = replace(
            cfg,
            particles=replace(cfg.particles, median_nm=float(rng.uniform(22, 40)) * px),
            arrangement=replace(cfg.arrangement, coverage=float(rng.uniform(0.25, 0.45)),
                                cluster_fraction=0.9, sinter=0.0),
            imaging=replace(cfg.imaging, invert=False),
            overlay=OverlayConfig(),
        )
        samples.append(generate(cfg, rng))
    return samples


def tio2_like(methods: list[str], n: int = 12) -> None:
    """F1 on synthetic SEM images resembling the BAM TiO2 micrographs (a proxy with truth)."""
    from nanosizer.evaluate import score_instances
    from nanosizer.io import Micrograph

    samples = tio2_like_samples(n)
    print(f"\nTiO2-like synthetic SEM: {n} images 384 x 384, median min Feret 22-40 px, dense")
    print("| method | F1 (mean) | F1 (pooled) | precision | recall | median min Feret error |")
    print("|---|---|---|---|---|---|")
    true_feret = np.concatenate([feret_min(s.labels) for s in samples])
    for method in methods:
        f1s, tp, fp, fn, ferets = [], 0, 0, 0, []
        for sample in samples:
            pred = _segment(Micrograph(sample.image), method)
            sc = score_instances(sample.labels, pred)
            f1s.append(sc["f1"])
            tp, fp, fn = tp + sc["tp"], fp + sc["fp"], fn + sc["fn"]
            ferets.append(feret_min(pred))
        err = np.median(np.concatenate(ferets)) / np.median(true_feret) - 1
        print(f"| {method} | {np.mean(f1s):.3f} | {2 * tp / max(2 * tp + fp + fn, 1):.3f} | "
              f"{tp / max(tp + fp, 1):.3f} | {tp / max(tp + fn, 1):.3f} | {err:+.1%} |")


def bam(methods: list[str], overlays: Path | None) -> None:
    from nanosizer.io import read_micrograph

    paths = sorted((DATA / "bam-tio2" / "sem").glob("*.tif"))
    print(f"\nBAM SEM: {len(paths)} images")
    print("| method | particles per image | median ECD (nm) | s/image wall | s/image CPU |")
    print("|---|---|---|---|---|")
    for method in methods:
        counts, ecd, times, cpu = [], [], [], []
        for path in paths:
            mg = read_micrograph(path)
            _segment(mg, method)  # warm-up (model loading, oneDNN kernels)
            start, start_cpu = time.perf_counter(), time.process_time()
            labels = _segment(mg, method)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            areas = np.bincount(labels.ravel())[1:]
            areas = areas[areas > 0]
            counts.append(areas.size)
            ecd.extend(np.sqrt(4 * areas / np.pi) * (mg.pixel_size.nm or 1.0))
            if overlays is not None:
                _overlay(mg, labels, overlays / f"{path.stem}_{Path(method).name}.png")
        print(f"| {method} | {' / '.join(map(str, counts))} | {np.median(ecd):.1f} | "
              f"{np.median(times):.2f} | {np.median(cpu):.2f} |")


def _overlay(mg, labels: np.ndarray, out: Path) -> None:
    from skimage import io
    from skimage.segmentation import find_boundaries

    img = mg.data - mg.data.min()
    img = (255 * img / max(float(img.max()), 1e-6)).astype(np.uint8)
    rgb = np.stack([img] * 3, axis=-1)
    edges = find_boundaries(labels, mode="inner")
    rgb[edges] = (255, 40, 40)
    out.parent.mkdir(parents=True, exist_ok=True)
    io.imsave(out, rgb, check_contrast=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["unet"],
                        help="model names or folders; MODEL@ZOOM fixes the input scale")
    parser.add_argument("--classical", action="store_true", help="also run the classical method")
    parser.add_argument("--step", type=int, default=4)
    parser.add_argument("--no-emps", action="store_true")
    parser.add_argument("--no-synth", action="store_true")
    parser.add_argument("--overlays", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}; nothing to do")
        return
    methods = (["classical"] if args.classical else []) + list(args.models)
    if not args.no_emps:
        emps(methods, args.step)
    if not args.no_synth:
        tio2_like(methods)
    bam(methods, args.overlays)


if __name__ == "__main__":
    main()
