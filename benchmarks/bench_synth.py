"""Throughput of the synthetic micrograph engine (tiles per second).

Usage::

    python benchmarks/bench_synth.py [--n 200] [--size 256] [--workers 2] [--modality sem]
    python benchmarks/bench_synth.py --contact-sheet docs/synth_contact_sheet.png

Prints single-process ms/tile (wall and CPU time, with the spread over modalities) and the
multi-process tiles/s of ``SyntheticDataset`` items with domain-randomised configurations.
CPU time per tile is the figure to trust on a shared machine: 2 free cores give about
``2000 / cpu_ms`` tiles/s.  ``--contact-sheet`` instead writes the documentation's sheet.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from nanosizer.synth import ImageStyle, SyntheticDataset, generate, like_config, random_config

# Statistics of the BAM TiO2 SEM images as measured by nanosizer.synth.estimate_style
# (median over the 4 images); hard-coded so the sheet can be made without the real data.
BAM_SEM_STYLE = ImageStyle(bright_particles=True, background=0.12, particle=0.62, noise=0.013,
                           blur_px=0.6, size_px=39.0, coverage=0.25)


def contact_sheet(path: str, tile: int = 192) -> None:
    """Rows: BAM-like SEM, random SEM, random TEM, random TSEM, then label outlines."""
    from PIL import Image
    from skimage.segmentation import find_boundaries

    rows, outlines = [], []
    for r, kind in enumerate(("bam", "sem", "tem", "tsem")):
        tiles = []
        for c in range(5):
            rng = np.random.default_rng([2024, r, c])
            cfg = (like_config(rng, BAM_SEM_STYLE, (tile, tile)) if kind == "bam"
                   else random_config(rng, kind, (tile, tile)))
            s = generate(cfg, rng)
            tiles.append(np.pad(s.image, 2, constant_values=1.0))
            if c == 0:
                rgb = np.repeat(s.image[..., None], 3, axis=2)
                rgb[find_boundaries(s.labels)] = (1.0, 0.1, 0.1)
                outlines.append(np.pad(rgb, ((2, 2), (2, 2), (0, 0)), constant_values=1.0))
        rows.append(np.repeat(np.hstack(tiles)[..., None], 3, axis=2))
    last = np.hstack([*outlines, np.ones_like(outlines[0])])
    sheet = np.vstack([*rows, last])
    img = Image.fromarray(np.round(sheet * 255).astype(np.uint8)).quantize(128)
    img.save(path, optimize=True)
    print(f"wrote {path} ({sheet.shape[1]}x{sheet.shape[0]})")


def _chunk(args) -> int:
    start, stop, size, modality = args
    ds = SyntheticDataset(length=stop, size=(size, size), modality=modality, seed=0)
    for i in range(start, stop):
        ds[i]
    return stop - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modality", default=None)
    parser.add_argument("--contact-sheet", metavar="PNG", help="write the contact sheet and exit")
    args = parser.parse_args()
    if args.contact_sheet:
        contact_sheet(args.contact_sheet)
        return
    ds = SyntheticDataset(length=args.n, size=(args.size, args.size), modality=args.modality)
    ds[0]  # warm up imports
    per_mod: dict[str, list[float]] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    n1 = max(args.n // 2, 10)
    for i in range(n1):
        t = time.process_time()
        s = ds.sample(i)
        per_mod.setdefault(s.config.imaging.modality, []).append(time.process_time() - t)
    single = (time.perf_counter() - t0) / n1
    cpu = (time.process_time() - c0) / n1
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"1 process: {1000 * single:.1f} ms/tile wall, {1000 * cpu:.1f} ms/tile CPU "
          f"(=> {2 / cpu:.0f} tiles/s on 2 free cores), size {args.size}x{args.size}, n={n1}")
    for mod, times in sorted(per_mod.items()):
        print(f"  {mod}: {1000 * np.mean(times):.1f} ms CPU mean, "
              f"{1000 * np.max(times):.1f} ms max, "
              f"n={len(times)}")
    bounds = np.linspace(0, args.n, args.workers + 1).astype(int)
    jobs = [(int(a), int(b), args.size, args.modality) for a, b in zip(bounds[:-1], bounds[1:])]
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_chunk, [(0, 1, args.size, args.modality)] * args.workers))  # warm up
        t0 = time.perf_counter()
        done = sum(pool.map(_chunk, jobs))
        dt = time.perf_counter() - t0
    print(f"{args.workers} processes: {done / dt:.1f} tiles/s ({done} tiles in {dt:.2f} s)")


if __name__ == "__main__":
    main()
