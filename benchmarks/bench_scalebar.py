"""Scale-bar calibration: accuracy and read rate on BAM, synthetic and hand-checked EMPS images.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_scalebar.py [--n-synth 60] [--data ../shared/data]

1. The 4 BAM SEM and 4 TSEM frames saved as PNG (no metadata): pixel size from the bar against
   the Zeiss metadata's 7.34375 nm/px (goal: within 1 %).
2. ``--n-synth`` synthetic images drawn by ``nanosizer synth --scale-bars`` (true bars of
   random style, font, size and position): share read within 1 % of the true pixel size, and
   the share read wrongly.
3. ``benchmarks/data/emps_scale_bars.csv`` (40 EMPS images, labels read by eye): share read
   correctly (label equal, length within 1 % where the CSV has one), share not read, share
   wrong; images without a visible label count as correct when nothing is read.
4. Cost per image (finding the bar and reading its label; the OCR engine's one-off start-up is
   reported apart).
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
    times = []
    print("BAM frames saved as PNG (no metadata):")
    for folder in ("sem", "tsem"):
        for tif in sorted((data / "bam-tio2" / folder).glob("*.tif")):
            png = tmp / f"{tif.stem}.png"
            Image.open(tif).convert("L").save(png)
            start = time.perf_counter()
            mg = read_micrograph(png)
            times.append(time.perf_counter() - start)
            nm = mg.pixel_size.nm
            err = f"{nm / BAM_NM - 1:+.2%}" if nm else "not read"
            print(f"  {folder:4s} {tif.stem}: {nm} nm/px ({err}); {mg.pixel_size.source}")
    return times


def synthetic(n: int, tmp: Path) -> list[float]:
    import pandas as pd

    from nanosizer.synth._writer import Options, write_dataset

    out = tmp / "synth"
    write_dataset(out, n, Options(size=(512, 512), seed=19, scale_bars=True), workers=1,
                  progress=False)
    truth = pd.read_csv(out / "scale_bars.csv")
    good = wrong = 0
    times = []
    for row in truth.itertuples():
        image = np.asarray(Image.open(out / "images" / f"{row.image}.png"))
        reading = read_scale_bar(image)
        times.append(reading.seconds)
        if reading.read:
            ok = abs(reading.pixel_size_nm / row.pixel_size_nm - 1) <= 0.01
            good += ok
            wrong += not ok
    print(f"synthetic ({n} images, true bars): {good / n:.0%} read within 1 %, "
          f"{wrong / n:.0%} read wrongly, {(n - good - wrong) / n:.0%} not read")
    return times


def emps(data: Path) -> list[float]:
    rows = list(csv.DictReader(open(ROOT / "benchmarks" / "data" / "emps_scale_bars.csv")))
    correct = wrong = 0
    times = []
    for row in rows:
        image = np.asarray(Image.open(data / "emps-train" / "images" / row["file"]).convert("L"))
        reading = read_scale_bar(image)
        times.append(reading.seconds)
        if not reading.read:
            correct += row["label"] == ""
            continue
        same = reading.label == row["label"].replace(",", ".")
        if row["bar_length_px"]:
            same &= abs(reading.bar.length_px / float(row["bar_length_px"]) - 1) <= 0.01
        correct += same
        wrong += not same
        if not same:
            print(f"  wrong: {row['file']} read {reading.describe()}, hand {row}")
    labelled = sum(r["label"] != "" for r in rows)
    print(f"EMPS hand-checked ({len(rows)} images, {labelled} with a visible label): "
          f"{correct / len(rows):.0%} correct, {wrong / len(rows):.0%} wrong, "
          f"{(len(rows) - correct - wrong) / len(rows):.0%} not read although labelled")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-synth", type=int, default=60)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    start = time.perf_counter()
    from nanosizer.io._ocr import _engine

    _engine()(np.zeros((32, 64, 3), np.uint8))
    print(f"OCR engine start-up: {time.perf_counter() - start:.2f} s (once per process)")
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.data.is_dir():
            times += bam(args.data, Path(tmp))
        times += synthetic(args.n_synth, Path(tmp))
        if args.data.is_dir():
            times += emps(args.data)
    print(f"cost per image: median {np.median(times):.2f} s, 90th percentile "
          f"{np.percentile(times, 90):.2f} s, max {max(times):.2f} s (1 thread)")


if __name__ == "__main__":
    main()
