"""Time ``nanosizer analyze`` per 1024x768 image, end to end (read, segment, measure, write).

    python benchmarks/bench_analyze.py [--methods classical unet] [--images N] [--repeat R]

Uses the 4 BAM TiO2 SEM images from ../shared/data when present, else copies of the built-in
sample. Prints seconds per image for each method (whole run / N, and the marginal cost of one more
image: (run of N - run of 1) / (N - 1)), with the split into stages for one image.
Goal (issues #2, #4): <= 0.5 s per image on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "bam-tio2" / "sem"


def _images(n: int, work: Path) -> list[Path]:
    from nanosizer.data import sample_path

    sources = sorted(SHARED.glob("*.tif")) if SHARED.is_dir() else []
    sources = sources or [sample_path()]
    paths = []
    for i in range(n):
        src = sources[i % len(sources)]
        dst = work / f"img{i:03d}{src.suffix}"
        shutil.copy(src, dst)
        paths.append(dst)
    return paths


def _stages(path: Path, method: str) -> dict[str, float]:
    from nanosizer.io import read_micrograph
    from nanosizer.measure import measure_particles
    from nanosizer.segment import segment

    t0 = time.perf_counter()
    mg = read_micrograph(path)
    t1 = time.perf_counter()
    labels = segment(mg, method)
    t2 = time.perf_counter()
    measure_particles(labels, mg.data, mg.pixel_size, exclude=~mg.analysis_mask)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "segment": t2 - t1, "measure": t3 - t2, "n": int(labels.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["classical", "unet"])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from nanosizer.pipeline import AnalyzeConfig, analyze

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = _images(args.images, work)
        print(f"{len(paths)} images of 1024x768 ({'BAM SEM' if SHARED.is_dir() else 'sample'})")
        print("| method | s/image (end to end) | s/extra image | read | segment | measure | "
              "particles/image |")
        print("|---|---|---|---|---|---|---|")
        for method in args.methods:
            config = AnalyzeConfig(method=method)
            analyze(paths[:1], work / f"warm-{method}", config)  # load model, JIT caches
            best, one = float("inf"), float("inf")
            for r in range(args.repeat):
                t = time.perf_counter()
                analyze(paths[:1], work / f"one-{method}-{r}", config)
                one = min(one, time.perf_counter() - t)
                t = time.perf_counter()
                analyze(paths, work / f"out-{method}-{r}", config)
                best = min(best, time.perf_counter() - t)
            # marginal cost: run of N images minus run of 1 image (per-run costs: histogram,
            # tables, run.json) over N - 1
            extra = (best - one) / max(len(paths) - 1, 1)
            st = _stages(paths[0], method)
            print(f"| {method} | {best / len(paths):.3f} | {extra:.3f} | {st['read']:.3f} | "
                  f"{st['segment']:.3f} | {st['measure']:.3f} | {st['n']} |")


if __name__ == "__main__":
    main()
