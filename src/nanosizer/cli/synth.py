"""``nanosizer synth``: synthetic micrographs with instance labels and a truth table."""

from __future__ import annotations

import argparse

from .. import choices

HELP = "Generate synthetic micrographs with exact instance labels and per-particle truth."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer synth``."""
    parser.add_argument("--n", type=int, default=100, help="number of images (default: 100)")
    parser.add_argument("--size", type=int, default=256, metavar="PX",
                        help="image width and height in pixels (default: 256)")
    parser.add_argument("--modality", default="mixed", choices=("mixed", *choices.MODALITIES),
                        help="contrast model (default: a random mix)")
    parser.add_argument("--seed", type=int, default=0, help="seed; same seed -> identical files")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="allow a non-empty --out")
    parser.add_argument("--like", nargs="+", metavar="IMAGES",
                        help="real micrographs (files/folders/globs) whose look to imitate")
    parser.add_argument("--outlines", metavar="DIR",
                        help="folder of binary particle outline images to use as shapes")
    parser.add_argument("--pixel-size", metavar="LENGTH",
                        help='pixel size with its unit, e.g. "7.34 nm" (a bare number is taken as '
                             'nm; default: random per image)')
    parser.add_argument("--median-nm", type=float, metavar="NM",
                        help="median true min Feret in nm (default: random per image)")
    parser.add_argument("--gsd", type=float, help="geometric standard deviation of sizes")
    parser.add_argument("--coverage", type=float,
                        help="fraction of the area covered by particles, 0-0.9 (default: random)")
    parser.add_argument("--scale-bars", action="store_true",
                        help="draw a true scale bar (label / pixel size long) into every image "
                             "instead of storing the pixel size; truth in scale_bars.csv")
    parser.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer synth``."""
    from pathlib import Path

    from ..errors import InputError
    from ..synth import Options, write_dataset

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise InputError(f"--out {out} is not empty; choose a new folder or pass --overwrite")
    if args.n < 1 or args.size < 16:
        raise InputError("--n must be >= 1 and --size >= 16")
    if args.coverage is not None and not 0 < args.coverage <= 0.9:
        raise InputError(f"--coverage must be in (0, 0.9], got {args.coverage}")
    if args.outlines is not None and not Path(args.outlines).is_dir():
        raise InputError(f"--outlines {args.outlines} is not a folder of outline images")
    pixel_nm = None
    if args.pixel_size is not None:
        from ..io import parse_length_nm

        try:
            pixel_nm = float(parse_length_nm(args.pixel_size))
        except ValueError as exc:
            raise InputError(f"--pixel-size {args.pixel_size!r}: {exc}") from None
    style = None
    if args.like:
        from ..synth import estimate_style

        style = estimate_style(args.like)
    opts = Options(
        size=(args.size, args.size),
        modality=None if args.modality == "mixed" else args.modality,
        seed=args.seed, style=style,
        outlines_dir=str(Path(args.outlines).resolve()) if args.outlines else None,
        pixel_size_nm=pixel_nm, median_nm=args.median_nm, gsd=args.gsd, coverage=args.coverage,
        scale_bars=args.scale_bars,
    )
    write_dataset(out, args.n, opts, workers=max(1, args.workers), progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {args.n} images to {out / 'images'}, labels to {out / 'labels'}, "
              f"truth to {out / 'truth.csv'}")
    return 0
