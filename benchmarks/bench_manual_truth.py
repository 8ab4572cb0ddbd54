"""A CNN model against manual masks, with the acceptance scorer, per particle-size class.

    python benchmarks/bench_manual_truth.py MODEL --set bam|emps [--half tune|report|all]
        [--thresholds JSON] [--zoom Z] [--sweep] [--labels-out DIR] [--json OUT] [--cache PKL]

Sets: ``bam`` = ``../shared/data/bam-tio2/dev-set`` (4 SEM frames, BAM's manual masks; halves:
tune = frames 1908256 and 1908282, report = 1908268 and 1908320), ``emps`` =
``../shared/data/emps-train`` (366 images with manual labels; halves: tune = even positions of
the sorted stems, report = odd).  The network runs once per image as ``analyze`` runs it
(automatic zoom unless ``--zoom``; the zoom uses the model's own zoom thresholds, so it does not
depend on the thresholds swept); post-processing is then applied to the cached maps.

Figures come from ``../shared/tools/score_labels.py`` (run on the written labels: F1 at IoU 0.5,
pooled median min-Feret error, counts, per-image median |size error|).  The size classes (true
min Feret < 15, 15-30, 30-80, > 80 px; same conventions as the scorer: fragments < 20 px
ignored, info bar cropped) give, per class, the manual particles, the share found (IoU > 0.5)
and the predicted particles whose min Feret falls in the class.

``--also JSON`` (repeatable) scores further threshold sets on the same maps.
``--sweep`` searches the post-processing thresholds on the chosen half (coordinate descent over
foreground, marker, contact, smoothing, relative area, from the model's stored ones), maximising
``F1 - |median error| - 0.5 |count ratio - 1|`` of the in-process copy of the scorer, and prints
the best; report them on the other half with ``--thresholds``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "shared"
DATA = ROOT / "data"
SCORER = ROOT / "tools" / "score_labels.py"
CLASSES = ((0, 15), (15, 30), (30, 80), (80, np.inf))
BAM_TUNE = ("1908256", "1908282")


def _scorer():
    spec = importlib.util.spec_from_file_location("score_labels", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_items(name: str, half: str) -> tuple[Path, list[tuple[Path, Path]]]:
    """(set folder, [(image, truth)]) of a set's half."""
    folder = DATA / ("bam-tio2/dev-set" if name == "bam" else "emps-train")
    tdir = folder / ("truth" if (folder / "truth").is_dir() else "labels")
    truths = sorted(tdir.glob("*.tif")) + sorted(tdir.glob("*.png"))
    images = {p.stem: p for p in (folder / "images").iterdir()}
    items = [(images[t.stem], t) for t in sorted(truths, key=lambda p: p.stem)]
    if half == "all":
        return folder, items
    if name == "bam":
        tune = [it for it in items if it[0].stem in BAM_TUNE]
        rest = [it for it in items if it[0].stem not in BAM_TUNE]
    else:
        tune, rest = items[0::2], items[1::2]
    return folder, tune if half == "tune" else rest


def predict_maps(model: str, images: list[Path], zoom: float | None) -> list[tuple]:
    """[(probabilities, thresholds at the zoom, zoom, analysis mask)] as ``analyze`` computes them."""
    from nanosizer import read_micrograph
    from nanosizer.segment.cnn import segmentation_maps

    out = []
    for path in images:
        mg = read_micrograph(path)
        probs, thresholds, z = segmentation_maps(mg, model, scale=zoom, return_zoom=True)
        out.append((probs, thresholds, z, mg.analysis_mask))
    return out


def to_labels(cached, thresholds=None) -> np.ndarray:
    """Labels from cached maps; ``thresholds`` (network scale) replace the model's."""
    from nanosizer.segment.instances import probabilities_to_labels

    probs, scaled, zoom, mask = cached
    t = scaled if thresholds is None else thresholds.rescaled(zoom)
    return probabilities_to_labels(probs, t, mask=mask)


def _prepared(sc, truth_path: Path, pred: np.ndarray, crop) -> tuple[np.ndarray, np.ndarray]:
    gt = sc.truth_labels(sc.read_labels(str(truth_path)))
    pr = pred.astype(np.int64)
    h, w = min(pr.shape[0], gt.shape[0]), min(pr.shape[1], gt.shape[1])
    gt, pr = gt[:h, :w].copy(), pr[:h, :w].copy()
    if crop:
        gt, pr = gt[:crop], pr[:crop]
    for lab in (gt, pr):
        sizes = np.bincount(lab.ravel())
        small = np.where(sizes < sc.MIN_AREA)[0]
        lab[np.isin(lab, small[small > 0])] = 0
    return gt, pr


def matched(sc, gt: np.ndarray, pr: np.ndarray):
    """The scorer's matching: true and predicted ids (>= MIN_AREA px, as indices into the
    label ids minus 1) and their IoU table; a pair with IoU > 0.5 is a true positive."""
    iou, ag, ap = sc.match(gt, pr)
    gids, pids = np.where(ag >= sc.MIN_AREA)[0], np.where(ap >= sc.MIN_AREA)[0]
    sub = iou[np.ix_(gids, pids)] if len(gids) and len(pids) else np.zeros((len(gids), len(pids)))
    return gids, pids, sub, ag


def quick_scores(sc, items, preds, crop, nm: float) -> dict:
    """In-process copy of the scorer's F1, counts and pooled median min-Feret error, plus
    per-class figures (manual particles, share found, predicted particles)."""
    from skimage import measure

    tp = n_truth = n_pred = 0
    fer_t, fer_p = [], []
    cls = {c: [0, 0, 0] for c in CLASSES}  # truth, found, predicted
    for (_, truth_path), pred in zip(items, preds):
        gt, pr = _prepared(sc, truth_path, pred, crop)
        gids, pids, sub, _ = matched(sc, gt, pr)
        tp += int((sub > 0.5).sum())
        n_truth, n_pred = n_truth + len(gids), n_pred + len(pids)
        found = (sub > 0.5).any(1) if sub.shape[1] else np.zeros(len(gids), bool)
        for lab, fer, is_truth in ((gt, fer_t, True), (pr, fer_p, False)):
            height, width = lab.shape
            props = {p.label: p for p in measure.regionprops(lab) if p.area >= sc.MIN_AREA}
            ids = gids + 1 if is_truth else pids + 1
            for k, label in enumerate(ids):
                p = props.get(int(label))
                if p is None:
                    continue
                size = sc.min_feret(p.coords.astype(float))
                c = next(c for c in CLASSES if c[0] <= size < c[1])
                if is_truth:
                    cls[c][0] += 1
                    cls[c][1] += bool(found[k])
                else:
                    cls[c][2] += 1
                r0, c0, r1, c1 = p.bbox
                if r0 > 0 and c0 > 0 and r1 < height and c1 < width:
                    fer.append(size * nm)
    f1 = 2 * tp / max(n_truth + n_pred, 1)
    err = float(np.median(fer_p) / np.median(fer_t) - 1) if fer_p else -1.0
    return {"f1": f1, "median_err": err, "n_truth": n_truth, "n_pred": n_pred,
            "count_ratio": n_pred / max(n_truth, 1),
            "classes": {f"{lo:g}-{hi:g} px": {"truth": t, "found": f / t if t else float("nan"),
                                               "pred": p}
                        for (lo, hi), (t, f, p) in cls.items()}}


def objective(s: dict) -> float:
    return s["f1"] - abs(s["median_err"]) - 0.5 * abs(s["count_ratio"] - 1)


def sweep_grid(base) -> dict:
    """Values tried per threshold by the coordinate search, for ``base``'s decoder."""
    votes = {"vote_sigma": (0.75, 1.0, 1.5, 2.0, 3.0), "vote_density": (0.1, 0.25, 0.5, 1.0, 2.0),
             "vote_prominence": (0.1, 0.25, 0.5, 1.0, 2.0),
             "vote_merge": (0.0, 0.2, 0.3, 0.45, 0.6), "vote_steps": (1, 3, 6, 10)}
    watershed = {"marker": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7), "contact": (0.2, 0.3, 0.5, 0.7, 0.9),
                 "smooth": (0.0, 0.75, 1.5, 2.5)}
    grid = {"foreground": (0.4, 0.5, 0.6, 0.7)}
    if base.decoder != "centres":
        grid.update(watershed)
    if base.decoder != "watershed":
        grid.update(votes)
    return {**grid, "min_relative_area": (0.0, 0.1, 0.2, 0.3)}


def coordinate_search(base, score, objective, show, rounds: int = 2):
    """Coordinate descent over :func:`sweep_grid` from ``base``: ``score(thresholds)`` gives the
    scores ``objective`` ranks (higher is better); the start and each improvement are printed
    with ``show``."""
    best, best_s = base, score(base)
    print(f"  start: {show(best_s)}", flush=True)
    for _ in range(rounds):
        for name, values in sweep_grid(base).items():
            for v in values:
                t = replace(best, **{name: v})
                s = score(t)
                if objective(s) > objective(best_s) + 1e-9:
                    best, best_s = t, s
                    print(f"  {name}={v}: {show(s)}", flush=True)
    return best, best_s


def sweep(sc, items, cached, crop, nm, base):
    """Coordinate descent over the post-processing thresholds from ``base`` on one set."""
    return coordinate_search(
        base, lambda t: quick_scores(sc, items, [to_labels(c, t) for c in cached], crop, nm),
        objective, lambda s: (f"F1 {s['f1']:.3f}, median {s['median_err']:+.1%}, "
                              f"count x{s['count_ratio']:.2f}"))


def acceptance_scores(set_folder: Path, items, preds, labels_out: Path | None) -> dict:
    """``score_labels.py`` on the written labels of ``items`` (a temporary set of links)."""
    import tifffile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "images").mkdir()
        (tmp / "truth").mkdir()
        pred_dir = labels_out or tmp / "pred"
        pred_dir.mkdir(parents=True, exist_ok=True)
        if (set_folder / "set.json").exists():
            (tmp / "set.json").symlink_to(set_folder / "set.json")
        for (image, truth), pred in zip(items, preds):
            (tmp / "images" / image.name).symlink_to(image)
            (tmp / "truth" / truth.name).symlink_to(truth)
            tifffile.imwrite(pred_dir / f"{image.stem}.tif", pred.astype(np.uint32))
        out = subprocess.run([sys.executable, str(SCORER), str(tmp), str(pred_dir),
                              "--json", str(tmp / "s.json")], capture_output=True, text=True,
                             check=True)
        print(out.stdout.strip())
        return json.loads((tmp / "s.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--set", choices=("bam", "emps"), required=True)
    parser.add_argument("--half", choices=("tune", "report", "all"), default="all")
    parser.add_argument("--thresholds", help="JSON of threshold overrides (network scale)")
    parser.add_argument("--also", action="append", default=[], metavar="JSON",
                        help="more threshold overrides to score on the same maps (in-process scorer)")
    parser.add_argument("--zoom", type=float)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--labels-out", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--cache", type=Path, metavar="FILE",
                        help="keep the network's maps in FILE (.pkl) and reuse them when it exists")
    args = parser.parse_args()

    from nanosizer.segment.cnn import stored_thresholds

    sc = _scorer()
    set_folder, items = set_items(args.set, args.half)
    meta = json.loads((set_folder / "set.json").read_text()) if (set_folder / "set.json").exists() else {}
    crop, nm = meta.get("crop_rows"), meta.get("nm_per_px") or 1.0
    base = stored_thresholds(args.model)
    if args.thresholds:
        base = replace(base, **json.loads(args.thresholds))
    if args.cache is not None and args.cache.exists():
        cached = pickle.loads(args.cache.read_bytes())
    else:
        cached = predict_maps(args.model, [image for image, _ in items], args.zoom)
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps(cached))
    zooms = [c[2] for c in cached]
    print(f"{args.set}/{args.half}: {len(items)} images, zooms "
          f"{ {z: zooms.count(z) for z in sorted(set(zooms))} }", flush=True)
    if args.sweep:
        base, _ = sweep(sc, items, cached, crop, nm, base)
        print("best thresholds:", json.dumps(base.to_dict()))
    preds = [to_labels(c, base) for c in cached]
    quick = quick_scores(sc, items, preds, crop, nm)
    accepted = acceptance_scores(set_folder, items, preds, args.labels_out)
    for name, c in quick["classes"].items():
        print(f"  min Feret {name:>9}: manual {c['truth']:5d}, found {c['found']:.1%}, "
              f"predicted {c['pred']:5d}")
    for extra in args.also:
        t = replace(base, **json.loads(extra))
        q = quick_scores(sc, items, [to_labels(c, t) for c in cached], crop, nm)
        print(f"also {extra}: F1 {q['f1']:.3f}, median {q['median_err']:+.1%}, "
              f"count {q['n_pred']}/{q['n_truth']}")
        for name, c in q["classes"].items():
            print(f"  min Feret {name:>9}: manual {c['truth']:5d}, found {c['found']:.1%}, "
                  f"predicted {c['pred']:5d}")
    if args.json:
        args.json.write_text(json.dumps({"set": args.set, "half": args.half, "model": args.model,
                                         "thresholds": base.to_dict(), "zooms": zooms,
                                         "scores": accepted, "classes": quick["classes"]},
                                        indent=1))


if __name__ == "__main__":
    main()
