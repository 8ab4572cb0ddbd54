"""Throughput of the synthetic micrograph engine (tiles per second).

Usage::

    python benchmarks/bench_synth.py [--n 200] [--size 256] [--workers 2] [--modality sem]

Prints single-process ms/tile (with the spread over modalities) and the multi-process
tiles/s of ``SyntheticDataset`` items with domain-randomised configurations.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from nanosizer.synth import SyntheticDataset


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
    args = parser.parse_args()
    ds = SyntheticDataset(length=args.n, size=(args.size, args.size), modality=args.modality)
    ds[0]  # warm up imports
    per_mod: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    n1 = max(args.n // 4, 10)
    for i in range(n1):
        t = time.perf_counter()
        s = ds.sample(i)
        per_mod.setdefault(s.config.imaging.modality, []).append(time.perf_counter() - t)
    single = (time.perf_counter() - t0) / n1
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"1 process: {1000 * single:.1f} ms/tile ({1 / single:.1f} tiles/s), "
          f"size {args.size}x{args.size}, n={n1}")
    for mod, times in sorted(per_mod.items()):
        print(f"  {mod}: {1000 * np.mean(times):.1f} ms mean, {1000 * np.max(times):.1f} ms max, "
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
