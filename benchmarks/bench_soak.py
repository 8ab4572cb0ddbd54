"""Soak test of ``nanosizer analyze``: many images, damaged files, SIGKILLs and ``--resume``.

    python benchmarks/bench_soak.py [--images 1000] [--kills 3] [--method classical] [--seed 0]

Makes ``--images`` 256 x 256 crops of the built-in sample (random places and flips), of which
5 % are damaged (truncated TIFFs, truncated PNGs, garbage), then runs ``nanosizer analyze`` in a
subprocess:

1. uninterrupted over a quarter of the images and over all of them (peak RSS of each, RSS
   sampled over the run of all);
2. over all of them again, killed with SIGKILL ``--kills`` times at random points (after a
   random number of finished images, part of the way into the next one) and each time
   continued with ``--resume`` until it finishes.

Reports, per kill, the images done when it came, the work thrown away (time since the last
image was recorded) and the time lost in all (the interrupted runs' wall time minus the
uninterrupted run's, per kill); whether ``particles.csv``, ``summary.csv``, ``failures.csv``,
``labels/`` and ``overlays/`` equal the uninterrupted run's byte for byte; and the peak RSS of
the runs.
The console and work folder of every run stay in ``--work`` (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

COMPARED = ("particles.csv", "summary.csv", "failures.csv")
DAMAGED_SHARE = 0.05
CROP = 256


@dataclass
class Run:
    """One ``nanosizer analyze`` process: how it ended and what it cost."""

    seconds: float
    returncode: int
    peak_rss_mb: float
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB) samples
    done_at_kill: int | None = None
    lost_seconds: float | None = None  # since the last image was recorded, at the kill


def make_images(folder: Path, n: int, seed: int) -> list[str]:
    """Write ``n`` crops of the sample into ``folder``; returns the names of the damaged ones."""
    import tifffile

    from nanosizer.data import sample_path

    folder.mkdir(parents=True, exist_ok=True)
    sample = tifffile.imread(sample_path())[:715]  # above the info bar
    rng = np.random.default_rng(seed)
    damaged = set(rng.choice(n, size=round(n * DAMAGED_SHARE), replace=False).tolist())
    names = []
    for i in range(n):
        y, x = rng.integers(0, sample.shape[0] - CROP), rng.integers(0, sample.shape[1] - CROP)
        crop = sample[y : y + CROP, x : x + CROP]
        crop = crop[::-1] if rng.random() < 0.5 else crop
        crop = np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop)
        if i in damaged:
            names.append(_damaged(folder, i, crop, rng))
        else:
            tifffile.imwrite(folder / f"img{i:04d}.tif", crop)
    return names


def _damaged(folder: Path, i: int, crop: np.ndarray, rng: np.random.Generator) -> str:
    """A damaged file of one of three kinds, in turn: truncated TIFF, truncated PNG, garbage."""
    import io

    import tifffile
    from PIL import Image

    kind = i % 3
    if kind == 0:
        buf = io.BytesIO()
        tifffile.imwrite(buf, crop)
        name, data = f"img{i:04d}.tif", buf.getvalue()[: len(buf.getvalue()) // 2]
    elif kind == 1:
        buf = io.BytesIO()
        Image.fromarray(crop).save(buf, format="PNG")
        name, data = f"img{i:04d}.png", buf.getvalue()[: len(buf.getvalue()) // 2]
    else:
        name, data = f"img{i:04d}.tif", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    (folder / name).write_bytes(data)
    return name


def _command(images: Path, out: Path, method: str, resume: bool) -> list[str]:
    cmd = [sys.executable, "-m", "nanosizer", "analyze", str(images), "--out", str(out),
           "--method", method, "--pixel-size", "2.5 nm", "--quiet"]
    return cmd + (["--resume"] if resume else [])


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _records(out: Path) -> list[Path]:
    """The per-image records of the unfinished run into ``out`` (its work folder's state)."""
    state = out.parent / f".{out.name}.inprogress" / "state" / "images"
    return list(state.glob("*.json")) if state.is_dir() else []


def run_analyze(cmd: list[str], log: Path, kill_after: tuple[int, float] | None = None,
                out: Path | None = None) -> Run:
    """Run ``cmd``; with ``kill_after=(images, seconds)``, SIGKILL it that many seconds after
    ``images`` images of ``out`` are recorded.  Peak RSS from the kernel (``wait4``)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            mb = _rss_mb(proc.pid)
            if mb is not None:
                samples.append((time.perf_counter() - start, mb))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    done_at_kill = lost = None
    if kill_after is not None:
        done_at_kill, lost = _kill_when(proc, out, *kill_after)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    return Run(seconds, code, usage.ru_maxrss / 1024, samples, done_at_kill, lost)


def _kill_when(proc: subprocess.Popen, out: Path, images: int, delay: float
               ) -> tuple[int | None, float | None]:
    """SIGKILL ``proc`` ``delay`` s after ``images`` records exist; (records, s since last)."""
    while proc.poll() is None and len(_records(out)) < images:
        time.sleep(0.05)
    time.sleep(delay)
    if proc.poll() is not None:
        return None, None  # finished first
    proc.send_signal(signal.SIGKILL)
    records = _records(out)
    newest = max((p.stat().st_mtime for p in records), default=None)
    lost = time.time() - newest if newest is not None else None
    return len(records), lost


def same_outputs(a: Path, b: Path) -> dict[str, bool]:
    """Whether each of :data:`COMPARED` is byte-identical (or absent) in both folders."""
    def content(folder: Path, name: str) -> bytes | None:
        path = folder / name
        return path.read_bytes() if path.is_file() else None

    def tree(folder: Path, sub: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((folder / sub).glob("*"))}

    equal = {name: content(a, name) == content(b, name) for name in COMPARED}
    equal.update({f"{sub}/": tree(a, sub) == tree(b, sub) for sub in ("labels", "overlays")})
    return equal


def soak(images: Path, out: Path, work: Path, method: str, kills: int, per_image: float,
         n_images: int, rng: random.Random) -> list[Run]:
    """The run killed ``kills`` times, each time resumed; the last run finishes it."""
    targets = sorted(rng.sample(range(n_images // 10, n_images * 8 // 10), kills))
    runs: list[Run] = []
    for k, target in enumerate(targets):
        delay = rng.uniform(0.1, 0.9) * per_image
        target = max(target, len(_records(out)) + 2)  # always part of the way into this run
        runs.append(run_analyze(_command(images, out, method, resume=k > 0),
                                work / "soak.log", (target, delay), out))
    runs.append(run_analyze(_command(images, out, method, resume=True), work / "soak.log"))
    return runs


def _rss_flatness(run: Run) -> str:
    """RSS sampled over a run, by fifths of its time (MB)."""
    if not run.rss_mb:
        return "no samples"
    fifths = [[mb for t, mb in run.rss_mb if k * run.seconds / 5 <= t < (k + 1) * run.seconds / 5]
              for k in range(5)]
    return " / ".join(f"{max(f):.0f}" if f else "-" for f in fifths)


def report(n: int, damaged: int, quarter: Run, full: Run, runs: list[Run],
           equal: dict[str, bool], method: str) -> None:
    """Print the figures as Markdown."""
    lost_total = sum(r.seconds for r in runs) - full.seconds
    kills = [r for r in runs if r.done_at_kill is not None]
    print(f"\n{n} images ({damaged} damaged), method {method}\n")
    print("| run | wall (s) | exit | peak RSS (MB) |")
    print("|---|---|---|---|")
    print(f"| uninterrupted, {n // 4} images | {quarter.seconds:.1f} | {quarter.returncode} | "
          f"{quarter.peak_rss_mb:.0f} |")
    print(f"| uninterrupted, {n} images | {full.seconds:.1f} | {full.returncode} | "
          f"{full.peak_rss_mb:.0f} |")
    for k, r in enumerate(runs):
        what = (f"killed after {r.done_at_kill} images done" if r.done_at_kill is not None
                else "finished" if k else "finished before its kill")
        label = "first run" if k == 0 else f"--resume {k}"
        print(f"| {label}: {what} | {r.seconds:.1f} | {r.returncode} | {r.peak_rss_mb:.0f} |")
    thrown = [r.lost_seconds for r in kills if r.lost_seconds is not None]
    print(f"\nwork thrown away at each kill (s since the last image was recorded): "
          f"{', '.join(f'{s:.2f}' for s in thrown)}")
    print(f"time lost in all: {lost_total:.1f} s = {lost_total / max(len(kills), 1):.1f} s per "
          f"kill (interrupted runs {sum(r.seconds for r in runs):.1f} s, uninterrupted "
          f"{full.seconds:.1f} s)")
    print("outputs equal to the uninterrupted run: "
          + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in equal.items()))
    print(f"RSS over the uninterrupted run of {n}, max by fifths of its time (MB): "
          f"{_rss_flatness(full)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--method", default="classical", choices=("classical", "unet",
                                                                  "multiresunet"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="keep the images and results here")
    args = parser.parse_args()
    if args.images < 40:
        parser.error("--images must be at least 40")
    work = args.work or Path(tempfile.mkdtemp(prefix="nanosizer-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    images, quarter_images = work / "images", work / "images-quarter"
    damaged = make_images(images, args.images, args.seed)
    quarter_images.mkdir(exist_ok=True)
    for path in sorted(images.iterdir())[: args.images // 4]:
        shutil.copy(path, quarter_images / path.name)
    print(f"{args.images} images in {images} ({len(damaged)} damaged)", flush=True)
    quarter = run_analyze(_command(quarter_images, work / "quarter", args.method, False),
                          work / "quarter.log")
    full = run_analyze(_command(images, work / "full", args.method, False), work / "full.log")
    print(f"uninterrupted: {full.seconds:.1f} s, exit {full.returncode}", flush=True)
    per_image = full.seconds / args.images
    runs = soak(images, work / "soak", work, args.method, args.kills, per_image, args.images,
                rng)
    equal = same_outputs(work / "full", work / "soak")
    report(args.images, len(damaged), quarter, full, runs, equal, args.method)
    print(f"\nmedian RSS sample of the uninterrupted run: "
          f"{statistics.median(mb for _, mb in full.rss_mb):.0f} MB" if full.rss_mb else "")


if __name__ == "__main__":
    main()
