"""Default vs adapted model: scores and overlays (``nanosizer adapt``, issue #6).

Run:
  python benchmarks/bench_adapt.py bam  --default DIR --adapted DIR [--overlays DIR]
  python benchmarks/bench_adapt.py emps --default DIR --adapted DIR IMAGE...
  python benchmarks/bench_adapt.py make-synth FOLDER
  python benchmarks/bench_adapt.py synth FOLDER --default DIR --adapted DIR
  python benchmarks/bench_adapt.py hand FOLDER --default DIR --adapted DIR

``bam``: the 4 BAM TiO2 SEM images, scored against labels made from their registered TSEM twins
(:func:`nanosizer.adapt.transmission_pair`) on the held-out right quarter of each image (adapt
validates there and never trains on it).  ``emps``: the given EMPS images (the ones adapted to),
scored against their manual labels.  ``synth``: TiO2-like synthetic images written by
``make-synth`` (adapt to them as if unlabelled), scored against their exact labels.  ``hand``:
hand-corrected crops of the BAM frames (``_hand_truth.py``; kept outside the repository).
Scores: pooled instance F1 at IoU 0.5 (particles < 20 px ignored on both sides), and the
relative error of the median min Feret of matched-or-not particles (border particles
excluded): per image, the median of the absolute errors; for ``hand`` the signed error of the
pooled median (crops hold 30-65 particles).  Exits quietly when the data are absent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _scoring import pooled_scores

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _scores(truths, preds) -> dict:
    s = pooled_scores(truths, preds)
    medians = [(np.median(p), np.median(t)) for t, p in zip(s["true_feret"], s["pred_feret"])
               if p.size and t.size]
    rel = [abs(p - t) / t for p, t in medians if t > 0]
    return {**s, "median_feret_rel_err": float(np.median(rel)) if rel else float("nan")}


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


def make_synth(folder: Path, n: int = 4) -> None:
    """Write ``n`` TiO2-like synthetic SEM images (``bench_cnn.tio2_like_samples``, 768 px) and
    their exact labels (``labels/``): an unlabelled set to adapt to whose truth is known."""
    import tifffile
    from bench_cnn import tio2_like_samples

    (folder / "labels").mkdir(parents=True, exist_ok=False)
    for i, sample in enumerate(tio2_like_samples(n, size=768)):
        image = np.clip(255 * sample.image, 0, 255).astype(np.uint8)
        tifffile.imwrite(folder / f"tio2like{i}.tif", image)
        tifffile.imwrite(folder / "labels" / f"tio2like{i}.tif", sample.labels.astype(np.uint16))


def synth(default: str, adapted: str, folder: Path) -> None:
    import tifffile

    from nanosizer.io import read_micrograph

    truths, preds = [], {"default": [], "adapted": []}
    for path in sorted(folder.glob("*.tif")):
        m = read_micrograph(path, infobar="none")
        truths.append(tifffile.imread(folder / "labels" / path.name).astype(np.int32))
        for name, model in (("default", default), ("adapted", adapted)):
            preds[name].append(_segment(m, model))
    for name, p in preds.items():
        print(f"| TiO2-like synthetic ({len(truths)} images) | {name} | " + _fmt(_scores(truths, p)))


def hand(default: str, adapted: str, folder: Path) -> None:
    from _hand_truth import hand_crops

    crops = hand_crops(folder)
    truths, preds = [truth for _, _, truth in crops], {"default": [], "adapted": []}
    for sem, (r0, c0, h, w), _ in crops:
        for name, model in (("default", default), ("adapted", adapted)):
            preds[name].append(_segment(sem, model)[r0 : r0 + h, c0 : c0 + w])
    for name, p in preds.items():
        s = pooled_scores(truths, p)
        print(f"| BAM hand-corrected crops ({len(truths)}) | {name} | {s['f1']:.3f} | "
              f"{s['n_true']} | {s['n_pred']} | {s['feret_error']:+.1%} |")


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
    parser.add_argument("dataset", choices=("bam", "emps", "synth", "make-synth", "hand"))
    parser.add_argument("--default")
    parser.add_argument("--adapted")
    parser.add_argument("--overlays", type=Path)
    parser.add_argument("images", nargs="*")
    args = parser.parse_args()
    if args.dataset == "make-synth":
        make_synth(Path(args.images[0]))
        return
    if not DATA.is_dir():
        print("shared data absent; nothing to do")
        return
    print("| data | model | F1 (IoU 0.5) | true | predicted | median min Feret error |")
    print("|---|---|---|---|---|---|")
    if args.dataset == "bam":
        bam(args.default, args.adapted, args.overlays)
    elif args.dataset == "synth":
        synth(args.default, args.adapted, Path(args.images[0]))
    elif args.dataset == "hand":
        hand(args.default, args.adapted, Path(args.images[0]))
    else:
        emps(args.default, args.adapted, args.images)


if __name__ == "__main__":
    main()
