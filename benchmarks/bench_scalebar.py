"""Scale-bar calibration: accuracy and read rate on BAM, synthetic and hand-checked EMPS images.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_scalebar.py [--n-synth 60] [--seed 19]
        [--data ../shared/data] [--failures DIR]

1. The 4 BAM SEM and 4 TSEM frames saved as PNG (no metadata), read with
   ``scale_bar="auto"``: pixel size from the bar against the Zeiss metadata's 7.34375 nm/px
   (goal: within 1 %).
2. ``--n-synth`` synthetic images drawn by ``nanosizer synth --scale-bars`` (true bars of
   random style, font, size and position, 512 px): share read, share read within 1 % of the
   true pixel size, share read wrongly; every image not read within 1 % is listed.
3. ``benchmarks/data/emps_scale_bars.csv`` (40 EMPS images, labels read by eye, bar lengths
   checked on the pixel values): of the images with a visible label, how many are read
   correctly (label equal, length within 1 % where the CSV has one), wrongly, or not at all;
   images without a visible label must not be read.
4. Cost per image (finding the bar and reading its label; the OCR engine's one-off start-up is
   reported apart).

``--failures DIR`` saves a 3x enlarged crop around the true bar of every synthetic image not
read within 1 % (PNG), to look at.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from nanosizer.io import read_micrograph, read_scale_bar

ROOT = Path(__file__).resolve().parents[1]
BAM_NM = 7.34375


def bam(data: Path, tmp: Path) -> list[float]:
    """Read the 8 BAM frames saved as PNG; print each pixel size and its error."""
    times = []
    print("BAM frames saved as PNG (no metadata):")
    for folder in ("sem", "tsem"):
        for tif in sorted((data / "bam-tio2" / folder).glob("*.tif")):
            png = tmp / f"{tif.stem}.png"
            Image.open(tif).convert("L").save(png)
            start = time.perf_counter()
            mg = read_micrograph(png, scale_bar="auto")
            times.append(time.perf_counter() - start)
            nm = mg.pixel_size.nm
            err = f"{nm / BAM_NM - 1:+.2%}" if nm else "not read"
            print(f"  {folder:4s} {tif.stem}: {nm} nm/px ({err}); {mg.pixel_size.source}")
    return times


def _save_crop(image: np.ndarray, row, folder: Path) -> None:
    top, left = max(0, int(row.row) - 50), max(0, int(row.x0) - 60)
    crop = image[top:int(row.row) + 50, left:int(row.x0 + row.length_px) + 60]
    Image.fromarray(np.kron(crop, np.ones((3, 3), np.uint8))).save(folder / f"{row.image}.png")


def synthetic(n: int, seed: int, tmp: Path, failures: Path | None) -> list[float]:
    """Read ``n`` synthetic bars; print the shares read, within 1 % and wrong."""
    import pandas as pd

    from nanosizer.synth._writer import Options, write_dataset

    out = tmp / "synth"
    write_dataset(out, n, Options(size=(512, 512), seed=seed, scale_bars=True), workers=1,
                  progress=False)
    truth = pd.read_csv(out / "scale_bars.csv")
    read = good = 0
    times = []
    for row in truth.itertuples():
        image = np.asarray(Image.open(out / "images" / f"{row.image}.png"))
        reading = read_scale_bar(image)
        times.append(reading.seconds)
        error = reading.pixel_size_nm / row.pixel_size_nm - 1 if reading.read else None
        read += reading.read
        good += error is not None and abs(error) <= 0.01
        if error is None or abs(error) > 0.01:
            result = "not read" if error is None else f"read {error:+.2%} off"
            print(f"  {row.image} ({row.style} {row.polarity} bar, {row.length_px:.1f} px, "
                  f'"{row.label}", {row.font}): {result}; {reading.describe()}')
            if failures is not None:
                failures.mkdir(parents=True, exist_ok=True)
                _save_crop(image, row, failures)
    print(f"synthetic ({n} images, seed {seed}, true bars): {read / n:.0%} read, "
          f"{good / n:.0%} read within 1 %, {(read - good) / n:.0%} read wrongly, "
          f"{(n - read) / n:.0%} not read")
    return times


def _emps_verdict(row: dict, reading) -> str:
    if not reading.read:
        return "unread" if row["label"] else "correct"
    same = reading.label == row["label"].replace(",", ".")
    if row["bar_length_px"]:
        same &= abs(reading.bar.length_px / float(row["bar_length_px"]) - 1) <= 0.01
    return "correct" if same else "wrong"


def emps(data: Path) -> list[float]:
    """Read the 40 hand-checked EMPS images; print correct, wrong and unread counts."""
    with open(ROOT / "benchmarks" / "data" / "emps_scale_bars.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    counts = {"correct": 0, "wrong": 0, "unread": 0}
    labelled = {"correct": 0, "wrong": 0, "unread": 0}
    times = []
    for row in rows:
        image = np.asarray(Image.open(data / "emps-train" / "images" / row["file"]).convert("L"))
        reading = read_scale_bar(image)
        times.append(reading.seconds)
        verdict = _emps_verdict(row, reading)
        counts[verdict] += 1
        if row["label"]:
            labelled[verdict] += 1
        if verdict == "wrong":
            print(f"  wrong: {row['file']} read {reading.describe()}, hand {row}")
    n_lab = sum(labelled.values())
    print(f"EMPS hand-checked ({len(rows)} images, {n_lab} with a visible label): of the "
          f"labelled {labelled['correct']} read correctly, {labelled['wrong']} wrongly, "
          f"{labelled['unread']} not read; of all 40 {counts['correct']} correct "
          f"({counts['correct'] / len(rows):.0%}), {counts['wrong']} wrong")
    return times


def main() -> None:
    """Run the three sets and print the cost per image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-synth", type=int, default=60, help="synthetic images (default 60)")
    parser.add_argument("--seed", type=int, default=19, help="synthetic set's seed (default 19)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with bam-tio2/ and emps-train/ (skipped when missing)")
    parser.add_argument("--failures", type=Path, metavar="DIR",
                        help="save crops of the synthetic bars not read within 1 %% here")
    args = parser.parse_args()
    start = time.perf_counter()
    from nanosizer.io._ocr import _engine

    _engine()(np.zeros((32, 64, 3), np.uint8))
    print(f"OCR engine start-up: {time.perf_counter() - start:.2f} s (once per process)")
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.data.is_dir():
            times += bam(args.data, Path(tmp))
        times += synthetic(args.n_synth, args.seed, Path(tmp), args.failures)
        if args.data.is_dir():
            times += emps(args.data)
    print(f"cost per image: median {np.median(times):.2f} s, 90th percentile "
          f"{np.percentile(times, 90):.2f} s, max {max(times):.2f} s (1 thread)")


if __name__ == "__main__":
    main()
