"""A model whose weights lie between an initial model and one adapted from it (WiSE-FT).

    python benchmarks/interpolate_models.py INITIAL ADAPTED ALPHA OUT

Writes ``OUT`` with ``(1 - ALPHA) * INITIAL + ALPHA * ADAPTED`` for every floating-point
tensor (BatchNorm statistics included) and the adapted model's metadata (zoom, thresholds), so
that ``bench_adapt.py ... --adapted OUT`` scores it.  Weight interpolation often keeps most of
a fine-tuning gain while undoing its losses; docs/benchmarks.md ("Adapting to unlabelled
images") has what it does for ``nanosizer adapt``.  ``OUT`` must not exist.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def interpolate(initial: Path, adapted: Path, alpha: float, out: Path) -> None:
    """Write the interpolated model folder ``out`` (see the module docstring)."""
    from safetensors.numpy import load_file, save_file

    a = load_file(str(initial / "weights.safetensors"))
    b = load_file(str(adapted / "weights.safetensors"))
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise SystemExit(f"{adapted} was not adapted from {initial}: the weights differ in layout")
    mixed = {k: ((1 - alpha) * a[k] + alpha * b[k]).astype(b[k].dtype)
             if b[k].dtype.kind == "f" else b[k] for k in b}
    out.mkdir(parents=True)
    shutil.copy(adapted / "config.json", out / "config.json")
    save_file(mixed, str(out / "weights.safetensors"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("initial", help="initial model (shipped name or folder)")
    parser.add_argument("adapted", help="model folder written by 'nanosizer adapt'")
    parser.add_argument("alpha", type=float, help="0 = initial, 1 = adapted")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    from nanosizer.segment.cnn import resolve_model

    if args.out.exists():
        raise SystemExit(f"{args.out} exists; choose a new folder")
    interpolate(resolve_model(args.initial), resolve_model(args.adapted), args.alpha, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
