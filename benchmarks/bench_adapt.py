"""Default vs adapted model: scores and overlays (``nanosizer adapt``, issue #6).

Run:
  python benchmarks/bench_adapt.py bam  --default DIR --adapted DIR [--overlays DIR]
  python benchmarks/bench_adapt.py emps --default DIR --adapted DIR IMAGE...

``bam``: the 4 BAM TiO2 SEM images, scored against labels made from their registered TSEM twins
(:func:`nanosizer.adapt.transmission_pair`) on the held-out right quarter of each image (adapt
validates there and never trains on it).  ``emps``: the given EMPS images (the ones adapted to),
scored against their manual labels.  Scores: pooled instance F1 at IoU 0.5 (particles < 20 px
ignored on both sides), and the relative error of the median min Feret of matched-or-not
particles (border particles excluded).  Exits quietly when the data are absent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _border_free(labels: np.ndarray) -> np.ndarray:
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.where(np.isin(labels, edge[edge > 0]), 0, labels)


def _median_feret(labels: np.ndarray) -> float:
    from nanosizer.measure import feret_by_label

    table = feret_by_label(_border_free(labels))
    return float(np.median(table.min)) if table.min.size else float("nan")


def _scores(truths, preds) -> dict:
    from nanosizer.evaluate import remove_small, score_instances

    tp = fp = fn = 0
    t_feret, p_feret = [], []
    for truth, pred in zip(truths, preds):
        truth, pred = remove_small(truth, 20), remove_small(pred, 20)
        s = score_instances(truth, pred)
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
        t_feret.append(_median_feret(truth))
        p_feret.append(_median_feret(pred))
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    rel = [(p - t) / t for t, p in zip(t_feret, p_feret) if np.isfinite(p) and t > 0]
    return {"f1": f1, "n_true": tp + fn, "n_pred": tp + fp,
            "median_feret_rel_err": float(np.median(np.abs(rel))) if rel else float("nan")}


def _segment(micrograph, model: str) -> np.ndarray:
    from nanosizer.segment.cnn import segment_cnn

    return segment_cnn(micrograph, model=model)


def bam(default: str, adapted: str, overlays: Path | None) -> None:
    from nanosizer.adapt import find_transmission_twins, transmission_pair
    from nanosizer.io import read_micrograph

    sems = sorted((DATA / "bam-tio2" / "sem").glob("*.tif"))
    twins = find_transmission_twins(sems, DATA / "bam-tio2" / "tsem")
    results = {"default": ([], []), "adapted": ([], [])}
    for sem_path, tsem_path in twins.items():
        sem = read_micrograph(sem_path)
        pair = transmission_pair(sem, read_micrograph(tsem_path))
        (r0, c0), (h, w) = pair.offset, pair.labels.shape
        cut = int(round(w * 0.75))
        truth = pair.labels[:, cut:]
        panels = []
        for name, model in (("default", default), ("adapted", adapted)):
            labels = _segment(sem, model)
            pred = labels[r0 : r0 + h, c0 : c0 + w][:, cut:]
            results[name][0].append(truth)
            results[name][1].append(pred)
            panels.append((name, labels))
        if overlays is not None:
            _overlay(overlays / f"{sem_path.stem}.png", sem, panels)
    for name, (truths, preds) in results.items():
        print(f"| BAM held-out quarter vs TSEM labels | {name} | " + _fmt(_scores(truths, preds)))


def emps(default: str, adapted: str, images: list[str]) -> None:
    from nanosizer.evaluate._truth import read_label_image
    from nanosizer.io import read_micrograph

    truths, preds = [], {"default": [], "adapted": []}
    for path in map(Path, images):
        m = read_micrograph(path, infobar="none")
        truths.append(read_label_image(DATA / "emps-train" / "labels" / path.name))
        for name, model in (("default", default), ("adapted", adapted)):
            preds[name].append(_segment(m, model))
    for name, p in preds.items():
        print(f"| EMPS subset ({len(images)} images) | {name} | " + _fmt(_scores(truths, p)))


def _fmt(s: dict) -> str:
    return (f"{s['f1']:.3f} | {s['n_true']} | {s['n_pred']} | "
            f"{s['median_feret_rel_err']:.1%} |")


def _overlay(path: Path, micrograph, panels) -> None:
    import imageio.v3 as iio

    from nanosizer.report.overlay import label_overlay

    path.parent.mkdir(parents=True, exist_ok=True)
    tiles = []
    for name, labels in panels:
        rgb = label_overlay(micrograph.data, labels, mask=micrograph.analysis_mask, show_ids=False)
        tiles.append(rgb[: micrograph.infobar_top or None])
    gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
    iio.imwrite(path, np.concatenate([tiles[0], gap, tiles[1]], axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("bam", "emps"))
    parser.add_argument("--default", required=True)
    parser.add_argument("--adapted", required=True)
    parser.add_argument("--overlays", type=Path)
    parser.add_argument("images", nargs="*")
    args = parser.parse_args()
    if not DATA.is_dir():
        print("shared data absent; nothing to do")
        return
    print("| data | model | F1 (IoU 0.5) | true | predicted | median min Feret error |")
    print("|---|---|---|---|---|---|")
    if args.dataset == "bam":
        bam(args.default, args.adapted, args.overlays)
    else:
        emps(args.default, args.adapted, args.images)


if __name__ == "__main__":
    main()
