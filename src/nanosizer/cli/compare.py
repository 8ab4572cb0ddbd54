"""``nanosizer compare``: size distributions of several methods on the same images."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import choices

HELP = "Compare the size distributions of several methods (manual, classical, CNN models)."

_EPILOG = """methods:
  classical | unet | multiresunet   segment --images with that method
  model:DIR                         segment --images with a trained model folder
  labels:PATH                       label images: an analyze results folder (its labels/,
                                    with the pixel size and info bar of its run.json), a synth
                                    set (labels/, truth.csv), ground truth, ImageJ ROI zips
                                    (<stem>.zip), binary masks or a COCO file
  imagej-roi:DIR                    outlines drawn in ImageJ/Fiji: ROI Manager zips
                                    (<stem>.zip per image, e.g. from analyze --roi)
  imagej:PATH                       ImageJ Results CSV (or folder of CSVs) of manual measurements
  NAME=SPEC                         any of the above, shown as NAME

example:
  nanosizer compare manual=imagej:Results.csv classical unet --images sem/ --out cmp/ \\
      --reference manual
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer compare``."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("methods", nargs="+", metavar="METHOD", help="methods to compare (below)")
    parser.add_argument("--images", metavar="PATH", nargs="+",
                        help="image files, folders or globs (needed by segmenting methods)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder (comparison.csv/.md/.png, sizes.csv, report.html)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    parser.add_argument("--measure", default="feret_min", choices=choices.SIZE_MEASURES,
                        help="size measure (default: minimum Feret diameter)")
    parser.add_argument("--reference", metavar="NAME",
                        help="method the others are compared with (mean error, KS, Wasserstein)")
    parser.add_argument("--pixel-size", metavar="LENGTH",
                        help='pixel size for all images, e.g. "7.34 nm" (a bare number is nm; '
                             'default: file metadata, or run.json / truth.csv of labels folders)')
    parser.add_argument("--imagej-unit", default="px", choices=("px", "nm", "um"),
                        help="length unit of ImageJ Results tables (default: px)")
    parser.add_argument("--infobar", default="auto", metavar="auto|none|ROW",
                        help="microscope info bar: detect (auto), ignore (none) or first row")
    parser.add_argument("--min-area", type=int, default=0, metavar="PX",
                        help="ignore particles smaller than this many pixels")
    parser.add_argument("--include-border", action="store_true",
                        help="keep particles touching the image border or info bar")
    parser.add_argument("--no-report", action="store_true",
                        help="skip report.html (the table and overlaid distributions on one "
                             "self-contained page)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")


def _settings(args: argparse.Namespace) -> dict:
    """The options of the comparison, as given, for its report."""
    return {
        "methods": list(args.methods), "images": list(args.images or []) or None,
        "pixel_size": args.pixel_size, "imagej_unit": args.imagej_unit,
        "infobar": args.infobar, "min_area_px": args.min_area,
        "include_border": args.include_border,
    }


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer compare``."""
    from ..io import staged_output_dir
    from ..evaluate.compare import compare_methods, parse_method, write_comparison
    from ._options import parse_infobar
    from .evaluate import build_config

    methods = [parse_method(m) for m in args.methods]
    names = [m.name for m in methods]
    if args.reference is not None and args.reference not in names:
        from ..errors import InputError

        raise InputError(f"--reference {args.reference!r} is not one of the methods {names}")
    args.iou_threshold = 0.5
    config = build_config(args)
    micrographs = {}
    if args.images:
        from ..io import expand_paths, read_micrograph

        infobar = parse_infobar(args.infobar)
        for path in expand_paths(args.images):
            m = read_micrograph(path, pixel_size=args.pixel_size, infobar=infobar)
            micrographs[m.name] = m
    with staged_output_dir(args.out, args.overwrite) as staging:
        sizes = compare_methods(
            methods, micrographs, measure=args.measure, config=config,
            imagej_unit=args.imagej_unit,
        )
        unit = str(sizes["unit"].iloc[0]) if len(sizes) else config.unit
        write_comparison(sizes.drop(columns="unit"), staging, measure=args.measure, unit=unit,
                         reference=args.reference, report=not args.no_report,
                         settings=_settings(args))
    out = Path(args.out)
    if not args.quiet:
        print((out / "comparison.md").read_text(), end="")
        print(f"Written to {out}")
    return 0
