"""Choose a model's post-processing thresholds on the tuning halves of BAM and EMPS together.

    python benchmarks/tune_on_halves.py MODEL [--emps-step 4] [--cache-dir DIR] [--rounds 2]
        [--thresholds JSON]

Coordinate descent (the grid of ``bench_manual_truth.py --sweep`` for the model's decoder) from
the model's stored thresholds, maximising the sum over the two sets of
``F1 - |median min-Feret error| - 0.5 |count ratio - 1|`` (in-process copy of the acceptance
scorer) on the BAM dev-set tuning frames (1908256, 1908282) and every ``--emps-step``-th image
of the EMPS tuning half (even positions).  The report halves are never read.  Prints the best
thresholds as JSON, to be scored on the report halves with
``bench_manual_truth.py MODEL --half report --thresholds JSON``.

The network's maps are computed once per set (as ``analyze`` computes them: automatic zoom with
the model's own zoom thresholds) and kept in ``--cache-dir`` when given.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_manual_truth", HERE / "bench_manual_truth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _maps(bench, model: str, items, cache: Path | None):
    if cache is not None and cache.exists():
        return pickle.loads(cache.read_bytes())
    cached = bench.predict_maps(model, [image for image, _ in items], None)
    if cache is not None:
        cache.write_bytes(pickle.dumps(cached))
    return cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--emps-step", type=int, default=4)
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--thresholds", help="JSON of overrides of the starting thresholds")
    args = parser.parse_args()

    from nanosizer.segment.cnn import stored_thresholds

    bench = _bench()
    sc = bench._scorer()
    sets = []
    for name in ("bam", "emps"):
        folder, items = bench.set_items(name, "tune")
        if name == "emps":
            items = items[:: args.emps_step]
        meta = json.loads((folder / "set.json").read_text()) if (folder / "set.json").exists() else {}
        cache = args.cache_dir / f"{name}_tune_{args.emps_step}.pkl" if args.cache_dir else None
        cached = _maps(bench, args.model, items, cache)
        sets.append((name, items, cached, meta.get("crop_rows"), meta.get("nm_per_px") or 1.0))
        print(f"{name}: {len(items)} tuning images", flush=True)

    def score(t):
        out = {}
        for name, items, cached, crop, nm in sets:
            preds = [bench.to_labels(c, t) for c in cached]
            out[name] = bench.quick_scores(sc, items, preds, crop, nm)
        return out

    def total(s):
        return sum(bench.objective(v) for v in s.values())

    def show(s):
        return "; ".join(f"{k} F1 {v['f1']:.3f} median {v['median_err']:+.1%} "
                         f"count x{v['count_ratio']:.2f}" for k, v in s.items())

    best = stored_thresholds(args.model)
    if args.thresholds:
        best = replace(best, **json.loads(args.thresholds))
    best, best_s = bench.coordinate_search(best, score, total, show, args.rounds)
    print("best:", show(best_s))
    print("best thresholds:", json.dumps(best.to_dict()))


if __name__ == "__main__":
    main()
