"""Segmentation of the 4 real BAM TiO2 SEM frames scored against TSEM-derived masks (a proxy).

    python benchmarks/bench_bam_proxy.py [METHOD ...]

METHOD is ``classical``, a model name or folder, optionally ``@ZOOM`` (fixed input scale) and
``:key=value,...`` threshold overrides, e.g. ``unet``, ``runs/u58@0.5``,
``unet:smooth=3.5,marker=0.4``.  The frames have no manual masks: their transmission twins,
registered and thresholded by :func:`nanosizer.adapt.transmission_pair` (touching particles split
by a watershed), stand in for the truth on the region both images cover.  Prints pooled F1 at
IoU 0.5 (particles < 20 px ignored on both sides), particle counts, and the signed error of the
median minimum Feret diameter of the particles not touching the region's border, pooled over
the frames.  Exits quietly when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _scoring import feret_min

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bam-tio2"


def _parse(spec: str) -> tuple[str, float | None, dict]:
    name, _, overrides = spec.partition(":")
    name, _, zoom = name.partition("@")
    thresholds = {k: float(v) for k, v in (kv.split("=") for kv in overrides.split(",") if kv)}
    return name, float(zoom) if zoom else None, thresholds


def _segment(micrograph, spec: str) -> np.ndarray:
    from dataclasses import replace

    from nanosizer.nn import load_model
    from nanosizer.segment import segment
    from nanosizer.segment.cnn import resolve_model, segment_cnn
    from nanosizer.segment.instances import InstanceThresholds

    name, zoom, overrides = _parse(spec)
    if name == "classical":
        return segment(micrograph, "classical")
    thresholds = None
    if overrides:
        meta = load_model(resolve_model(name), device="cpu").metadata.get("thresholds", {})
        thresholds = replace(InstanceThresholds.from_dict(meta), **overrides)
    return segment_cnn(micrograph, model=name, scale=zoom, thresholds=thresholds)


def bam_frames() -> list:
    """The 4 BAM SEM frames with their TSEM-derived label pairs: ``[(micrograph, pair)]``."""
    from nanosizer.adapt import find_transmission_twins, transmission_pair
    from nanosizer.io import read_micrograph

    sems = sorted((DATA / "sem").glob("*.tif"))
    frames = []
    for sem_path, tsem_path in find_transmission_twins(sems, DATA / "tsem").items():
        sem = read_micrograph(sem_path)
        frames.append((sem, transmission_pair(sem, read_micrograph(tsem_path))))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("methods", nargs="*", default=["classical", "unet"])
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}; nothing to do")
        return
    from nanosizer.evaluate import remove_small, score_instances

    frames = bam_frames()
    truth_feret = np.concatenate([feret_min(p.labels) for _, p in frames])
    print(f"{len(frames)} frames, {truth_feret.size} proxy particles off the border, "
          f"median min Feret {np.median(truth_feret):.1f} px")
    print("| method | pooled F1 (IoU 0.5) | particles proxy / predicted | median min Feret error | s/frame |")
    print("|---|---|---|---|---|")
    for spec in args.methods:
        tp = fp = fn = 0
        ferets, seconds = [], []
        for sem, pair in frames:
            start = time.perf_counter()
            labels = _segment(sem, spec)
            seconds.append(time.perf_counter() - start)
            (r0, c0), (h, w) = pair.offset, pair.labels.shape
            pred = remove_small(labels[r0 : r0 + h, c0 : c0 + w], 20)
            s = score_instances(remove_small(pair.labels, 20), pred)
            tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
            ferets.append(feret_min(pred))
        f1 = 2 * tp / max(2 * tp + fp + fn, 1)
        err = np.median(np.concatenate(ferets)) / np.median(truth_feret) - 1
        print(f"| {spec} | {f1:.3f} | {tp + fn} / {tp + fp} | {err:+.1%} | "
              f"{np.median(seconds):.2f} |")


if __name__ == "__main__":
    main()
