"""Score every segmentation method on EMPS (the seed paper's kind of comparison).

Run: python benchmarks/bench_methods_emps.py [--limit N] [--methods classical unet ...]
     [--model NAME=DIR ...] [--min-area PX] [--out DIR]

Each method segments ../shared/data/emps-train/images (info bar detection off: the EMPS
crops have none) and is scored against labels/ with nanosizer.evaluate: pooled F1, precision,
recall at IoU 0.5, mean per-image F1, panoptic quality, AP 0.50:0.95, the seed paper's
instance IoU, pixel IoU, Youden's index, and the error of the mean min Feret (border particles
excluded, sizes in pixels).  A method that cannot run (e.g. no shipped CNN model yet) is
reported and skipped.  Exits quietly when the data folder is absent.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emps-train"

COLUMNS = (
    ("f1", "F1"), ("precision", "precision"), ("recall", "recall"),
    ("mean_image_f1", "mean image F1"), ("pq", "PQ"), ("ap", "AP .5:.95"),
    ("instance_iou", "instance IoU (seed)"), ("pixel_iou", "pixel IoU"), ("youden", "Youden"),
    ("feret_min_mean_rel_err", "min Feret mean error"),
)


def subset(limit: int | None, workdir: Path) -> tuple[Path, Path]:
    """Folders of symlinks to the first ``limit`` images and labels (all when None)."""
    names = sorted(p.name for p in (DATA / "labels").glob("*.png"))
    if limit:
        names = names[:limit]
    for sub in ("images", "labels"):
        (workdir / sub).mkdir()
        for n in names:
            (workdir / sub / n).symlink_to(DATA / sub / n)
    return workdir / "images", workdir / "labels"


def score(method: str, model: str | None, images: Path, labels: Path, min_area: int):
    from nanosizer.evaluate import EvaluateConfig, evaluate_folders

    start = time.perf_counter()
    ev = evaluate_folders(
        labels, images=images, method=method, model=model,
        config=EvaluateConfig(min_area=min_area), infobar="none",
    )
    return ev, time.perf_counter() - start


def row(name: str, pooled: dict, seconds: float, n_images: int) -> str:
    cells = [f"{pooled[k]:+.1%}" if k.endswith("rel_err") else f"{pooled[k]:.3f}"
             for k, _ in COLUMNS]
    return (f"| {name} | {pooled['n_true']} | {pooled['n_pred']} | " + " | ".join(cells)
            + f" | {seconds / max(n_images, 1):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N images (sorted by name)")
    parser.add_argument("--methods", nargs="+", default=["classical", "unet", "multiresunet"])
    parser.add_argument("--model", nargs="*", default=[], metavar="NAME=DIR",
                        help="extra model folders to score")
    parser.add_argument("--min-area", type=int, default=0)
    parser.add_argument("--out", help="keep per-method results (per_image.csv, ...) here")
    args = parser.parse_args()
    if not (DATA / "images").is_dir():
        print(f"EMPS data not found at {DATA}; nothing to do")
        return
    runs = [(m, m, None) for m in args.methods]
    runs += [(spec.partition("=")[0], "unet", spec.partition("=")[2]) for spec in args.model]
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = subset(args.limit, Path(tmp))
        n_images = len(list(images.iterdir()))
        header = ("| method | N true | N pred | " + " | ".join(c for _, c in COLUMNS)
                  + " | s/image |")
        lines = [header, "|" + "---|" * (header.count("|") - 1)]
        for name, method, model in runs:
            try:
                ev, seconds = score(method, model, images, labels, args.min_area)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next method
                print(f"{name}: skipped ({type(exc).__name__}: {exc})")
                continue
            lines.append(row(name, ev.pooled, seconds, n_images))
            print(lines[-1], flush=True)
            if args.out:
                from nanosizer.evaluate import write_evaluation

                out = Path(args.out) / name
                out.mkdir(parents=True, exist_ok=True)
                write_evaluation(ev, out)
    print(f"\nEMPS train, {n_images} images, IoU 0.5, min area {args.min_area} px:\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
