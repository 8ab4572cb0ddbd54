"""Post-processing thresholds of a CNN model on three kinds of images with truth.

    python benchmarks/sweep_thresholds.py MODEL [--emps-step 16 | --emps-images LIST]
        [--hand-truth DIR] [--marker ...] [--smooth ...] [--contact ...] [--foreground ...]
        [--relative-area ...]

The network runs once per image (automatic zoom, as ``analyze``); every threshold combination
then turns the cached probabilities into particles.  Scored sets: the 4 BAM TiO2 SEM frames
against TSEM-derived masks (``bench_bam_proxy.py``), 12 TiO2-like synthetic SEM images
(``bench_cnn.py``), every ``--emps-step``-th EMPS image (or those listed in the text file
``--emps-images``, e.g. the images a model was adapted to) with its manual labels and, with
``--hand-truth``, hand-corrected crops of the BAM frames (``_hand_truth.py``).  Prints, per
combination, pooled F1 at IoU 0.5 and the signed median min Feret error on each set, the
model's stored thresholds first; the rows are sorted by the mean F1 over the sets.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
from _hand_truth import hand_crops
from _scoring import pooled_scores
from bench_bam_proxy import DATA as BAM
from bench_bam_proxy import bam_frames
from bench_cnn import DATA, tio2_like_samples


def _probabilities(model, micrograph, thresholds):
    """Full-resolution maps as ``analyze`` predicts them, and ``min_area`` for their zoom."""
    from nanosizer.segment.cnn import segmentation_maps

    probs, scaled = segmentation_maps(micrograph, model, thresholds=thresholds)
    return probs, scaled.min_area


def _emps_images(step: int, listed: str | None) -> list[Path]:
    """Every ``step``-th EMPS image, or the image paths listed (whitespace-separated) in a file."""
    if listed is not None:
        return [Path(p) for p in Path(listed).read_text().split()]
    return [DATA / "emps-train" / "images" / p.name
            for p in sorted((DATA / "emps-train" / "labels").glob("*.png"))[::step]]


def _sets(model, thresholds, emps: list[Path], hand_truth=None) -> dict:
    """name -> list of (probabilities, min_area, mask, truth, crop) with crop = (r0, c0, h, w)."""
    from skimage import io

    from nanosizer.io import Micrograph, read_micrograph

    sets = {"bam": [], "tio2": [], "emps": []}
    if hand_truth is not None:
        sets["hand"] = [(*_probabilities(model, sem, thresholds), sem.analysis_mask, truth, crop)
                        for sem, crop, truth in hand_crops(hand_truth)]
    for sem, pair in bam_frames():
        (r0, c0), (h, w) = pair.offset, pair.labels.shape
        sets["bam"].append((*_probabilities(model, sem, thresholds), sem.analysis_mask,
                            pair.labels, (r0, c0, h, w)))
    for sample in tio2_like_samples():
        m = Micrograph(sample.image)
        sets["tio2"].append((*_probabilities(model, m, thresholds), m.analysis_mask,
                             sample.labels, None))
    for path in emps:
        m = read_micrograph(path, infobar="none")
        sets["emps"].append((*_probabilities(model, m, thresholds), m.analysis_mask,
                             io.imread(path.parent.parent / "labels" / path.name)
                             .astype(np.int32), None))
    return sets


def _score(items, thresholds) -> tuple[float, float]:
    from nanosizer.segment.instances import probabilities_to_labels

    truths, preds = [], []
    for probs, min_area, mask, truth, crop in items:
        pred = probabilities_to_labels(probs, replace(thresholds, min_area=min_area), mask=mask)
        if crop is not None:
            r0, c0, h, w = crop
            pred = pred[r0 : r0 + h, c0 : c0 + w]
        truths.append(truth)
        preds.append(pred)
    s = pooled_scores(truths, preds)
    return s["f1"], s["feret_error"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--emps-step", type=int, default=16)
    parser.add_argument("--emps-images", help="text file listing the EMPS images to score")
    parser.add_argument("--foreground", type=float, nargs="+", default=[0.5])
    parser.add_argument("--marker", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6])
    parser.add_argument("--contact", type=float, nargs="+", default=[0.3, 0.5])
    parser.add_argument("--smooth", type=float, nargs="+", default=[1.5, 2.5, 3.5])
    parser.add_argument("--relative-area", type=float, nargs="+", default=[0.2])
    parser.add_argument("--hand-truth", help="folder of hand-corrected BAM crops")
    args = parser.parse_args()
    if not (DATA.is_dir() and BAM.is_dir()):
        print(f"no data at {DATA}; nothing to do")
        return
    from nanosizer.nn import load_model
    from nanosizer.segment.cnn import resolve_model
    from nanosizer.segment.instances import InstanceThresholds

    loaded = load_model(resolve_model(args.model), device="cpu")
    stored = InstanceThresholds.from_dict(loaded.metadata.get("thresholds", {}))
    emps = _emps_images(args.emps_step, args.emps_images)
    sets = _sets(args.model, stored, emps, args.hand_truth)
    print(f"{args.model}: " + ", ".join(f"{k} {len(v)} images" for k, v in sets.items()))
    grid = [stored] + [
        replace(stored, foreground=fg, marker=mk, contact=ct, smooth=sm, min_relative_area=ra)
        for fg, mk, ct, sm, ra in itertools.product(args.foreground, args.marker, args.contact,
                                                    args.smooth, args.relative_area)
    ]
    rows = []
    for i, t in enumerate(grid):
        scores = {name: _score(items, t) for name, items in sets.items()}
        rows.append((i == 0, np.mean([f for f, _ in scores.values()]), t, scores))
    rows.sort(key=lambda r: (not r[0], -r[1]))
    print("| fg | marker | contact | smooth | rel. area | " +
          " | ".join(f"{k} F1 | {k} Feret err" for k in sets) + " | mean F1 |")
    print("|---" * (6 + 2 * len(sets)) + "|")
    for is_stored, mean, t, scores in rows:
        cells = " | ".join(f"{f:.3f} | {e:+.1%}" for f, e in scores.values())
        tag = " (stored)" if is_stored else ""
        print(f"| {t.foreground} | {t.marker}{tag} | {t.contact} | {t.smooth} | "
              f"{t.min_relative_area} | {cells} | {mean:.3f} |")


if __name__ == "__main__":
    main()
