"""How well the automatic zoom chooses, against the best fixed zoom per image (manual truth).

    python benchmarks/bench_zoom_choice.py MODEL [--half tune|report|all] [--step K]
        [--json OUT]

For every ``--step``-th EMPS image of the half, the model segments the image at each zoom of
``nanosizer.segment.cnn.ZOOMS`` (and what the automatic zoom picks); each is scored against the
manual labels (F1 at IoU 0.5 and predicted/true count, scorer conventions: fragments < 20 px
ignored).  Prints, per class of the image's median true particle diameter (ECD < 40, 40-80,
> 80 px), the mean F1 and count ratio of the automatic zoom and of the per-image best zoom
(an oracle: the ceiling the zoom choice can reach), and the per-image table with ``--json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_manual_truth import _prepared, _scorer, matched, predict_maps, set_items, to_labels

ECD_CLASSES = ((0, 40), (40, 80), (80, np.inf))


def image_scores(sc, truth_path: Path, pred: np.ndarray) -> tuple[float, float, float]:
    """(F1, count ratio, median true ECD px) of one image."""
    gt, pr = _prepared(sc, truth_path, pred, None)
    gids, pids, sub, ag = matched(sc, gt, pr)
    tp = int((sub > 0.5).sum())
    f1 = 2 * tp / max(len(gids) + len(pids), 1)
    ecd = float(np.median(np.sqrt(4 * ag[gids] / np.pi))) if len(gids) else 0.0
    return f1, len(pids) / max(len(gids), 1), ecd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--half", choices=("tune", "report", "all"), default="tune")
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from nanosizer.segment.cnn import ZOOMS

    sc = _scorer()
    _, items = set_items("emps", args.half)
    items = items[:: args.step]
    images = [image for image, _ in items]
    runs = {"auto": predict_maps(args.model, images, None)}
    for zoom in ZOOMS:
        runs[zoom] = predict_maps(args.model, images, zoom)
    rows = []
    for i, (image, truth) in enumerate(items):
        row = {"image": image.stem, "auto_zoom": runs["auto"][i][2]}
        for key, cached in runs.items():
            f1, ratio, ecd = image_scores(sc, truth, to_labels(cached[i]))
            row[str(key)] = (round(f1, 4), round(ratio, 3))
            row["ecd_px"] = round(ecd, 1)
        row["best_zoom"] = max(ZOOMS, key=lambda z: row[str(z)][0])
        rows.append(row)
    print(f"{len(rows)} EMPS images ({args.half} half, every {args.step}th)")
    for lo, hi in ECD_CLASSES:
        sel = [r for r in rows if lo <= r["ecd_px"] < hi]
        if not sel:
            continue
        auto = np.mean([r["auto"][0] for r in sel])
        best = np.mean([r[str(r["best_zoom"])][0] for r in sel])
        ratio = np.median([r["auto"][1] for r in sel])
        agree = np.mean([r["auto_zoom"] == r["best_zoom"] for r in sel])
        print(f"  median ECD {lo:g}-{hi:g} px: {len(sel):3d} images, mean F1 auto {auto:.3f} "
              f"(best zoom {best:.3f}), median count ratio auto {ratio:.2f}, "
              f"auto = best in {agree:.0%}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
