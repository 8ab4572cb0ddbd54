"""Does ``nanosizer adapt`` keep its budget on a folder of many large images?

    python benchmarks/bench_adapt_budget.py [--images 24] [--upscale 2] [--budget 5] OUT

Writes ``--images`` frames made from the 4 BAM SEM frames (info bar cropped, flipped and rotated,
upscaled ``--upscale`` x: 2048 x 1424 px by default) to ``OUT/frames``, runs
``nanosizer adapt`` on them into ``OUT/model`` and prints the wall time against the budget,
with the report's fine-tuning steps and minutes.  Exits quietly when the BAM data are absent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_bam_proxy import DATA as BAM


def write_frames(folder: Path, n: int, upscale: float) -> list[Path]:
    """``n`` flipped / rotated, upscaled copies of the BAM SEM frames as 8-bit TIFFs."""
    import tifffile
    from scipy import ndimage as ndi

    from nanosizer.io import read_micrograph

    sems = [np.asarray(read_micrograph(p).analysis_data, np.float32)
            for p in sorted((BAM / "sem").glob("*.tif"))]
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        image = sems[i % len(sems)]
        k = i // len(sems)
        image = np.rot90(image, 2 * (k % 2))
        image = image[:, ::-1] if k >= 3 else image
        big = ndi.zoom(image, upscale, order=1)
        paths.append(folder / f"frame{i:02d}.tif")
        tifffile.imwrite(paths[-1], np.clip(big, 0, 255).astype(np.uint8))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="new folder")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--upscale", type=float, default=2.0)
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not (BAM / "sem").is_dir():
        print(f"no BAM data at {BAM}; nothing to do")
        return
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; choose a new folder")
    paths = write_frames(args.out / "frames", args.images, args.upscale)
    model = args.out / "model"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nanosizer", "adapt", *map(str, paths), "--budget",
                    str(args.budget), "--threads", str(args.threads), "--out", str(model)],
                   check=True, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - start) / 60
    report = json.loads((model / "adapt" / "report.json").read_text())
    ft = report["finetune"]
    print(f"{len(paths)} frames of {args.upscale:g}x BAM, --budget {args.budget:g}: wall "
          f"{wall:.2f} min ({wall / args.budget:.0%} of the budget); fine-tuning {ft['steps']} "
          f"steps in {ft['minutes']} min; kept {report['kept']}")


if __name__ == "__main__":
    main()
