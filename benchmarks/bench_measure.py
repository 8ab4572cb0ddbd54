"""Speed of measure_particles and size_distribution on a 1024 x 768 label image.

Run: python benchmarks/bench_measure.py [--particles 300] [--repeats 9]
Prints the median wall time of each step and, for reference, of scikit-image's regionprops
with comparable properties.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from skimage.draw import ellipse
from skimage.measure import regionprops_table

from nanosizer.measure import measure_particles
from nanosizer.measure import _shape
from nanosizer.measure.feret import feret_by_label
from nanosizer.stats import size_distribution


def scene(n: int, rng: np.random.Generator) -> np.ndarray:
    """Non-overlapping random ellipses (radii 4-20 px) on a 768 x 1024 canvas."""
    labels = np.zeros((768, 1024), dtype=np.int32)
    k = 0
    while k < n:
        a, b = rng.uniform(4, 20, 2)
        r, c = rng.uniform(0, 768), rng.uniform(0, 1024)
        rr, cc = ellipse(r, c, a, b, rotation=rng.uniform(0, np.pi), shape=labels.shape)
        if rr.size and not labels[rr, cc].any():
            k += 1
            labels[rr, cc] = k
    return labels


def timed(fn, repeats: int) -> str:
    """Median wall and CPU (process) time in ms; CPU time is robust on a shared machine."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return f"{np.median(wall) * 1e3:7.1f} wall {np.median(cpu) * 1e3:7.1f} cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    labels = scene(args.particles, rng)
    image = rng.random(labels.shape).astype(np.float32)
    n = int(labels.max()) + 1
    table = measure_particles(labels, image, 5.0)
    values = table["feret_min_nm"].to_numpy()
    r = args.repeats
    print(f"{args.particles} particles on 1024 x 768, median of {r} runs (ms):")  # noqa
    print(f"  measure_particles (all columns)   {timed(lambda: measure_particles(labels, image, 5.0), r)}")
    print(f"    feret_by_label (hull+calipers)  {timed(lambda: feret_by_label(labels), r)}")
    print(f"    moments + mean intensity        {timed(lambda: _shape.moments(labels, n, image), r)}")
    print(f"    crofton perimeter               {timed(lambda: _shape.crofton_perimeter(labels, n), r)}")
    print(f"  size_distribution (n_boot=2000)   {timed(lambda: size_distribution(values), r)}")
    props = ("label", "area", "perimeter_crofton", "feret_diameter_max", "solidity",
             "axis_major_length", "axis_minor_length", "orientation", "centroid", "bbox")  # fmt: skip
    ref = timed(lambda: regionprops_table(labels, intensity_image=image, properties=props), 3)
    print(f"  [reference] skimage regionprops_table, similar props {ref}")


if __name__ == "__main__":
    main()
