"""``nanosizer analyze``: particle size distribution of micrographs."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys

from .. import choices
from ._options import parse_infobar

HELP = "Segment and measure particles in micrographs; write a size distribution report."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer analyze``."""
    _input_options(parser)
    _segmentation_options(parser)
    _output_options(parser)
    _execution_options(parser)


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="image files, folders or glob patterns"
    )
    parser.add_argument(
        "--sample", action="store_true",
        help="analyse the built-in sample micrograph (a synthetic SEM image shipped with nanosizer)",
    )
    parser.add_argument("--out", default="results", metavar="DIR",
                        help="results folder (default: ./results); must be empty or new")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the contents of a non-empty results folder; without "
                             "--resume, also discard an unfinished run into it and start over")
    parser.add_argument("--resume", action="store_true",
                        help="continue the unfinished run into --out (stopped by Ctrl-C, "
                             "SIGTERM, SIGKILL, a power loss or an error) with the same images "
                             "and settings: finished images are not analysed again, images "
                             "that failed are tried again; other images or settings are "
                             "refused. Without an unfinished run, a new one starts")


def _segmentation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", default="unet", choices=choices.METHODS,
                        help="segmentation method (default: unet, the shipped model)")
    parser.add_argument("--model", metavar="MODEL_DIR",
                        help="model folder for the CNN methods (default: the shipped model); "
                             "an error with --method classical")
    parser.add_argument("--pixel-size", metavar="LENGTH",
                        help='pixel size overriding the file\'s metadata, with its unit: "7.34 nm", '
                             '"0.5 um", "3 A" (a bare number is taken as nm)')
    parser.add_argument("--measure", default="feret_min", choices=choices.SIZE_MEASURES,
                        help="size measure of the distribution (default: minimum Feret diameter)")
    parser.add_argument("--infobar", default="auto", metavar="auto|none|ROW",
                        help="microscope info bar: detect (auto), ignore (none) or first row")
    parser.add_argument("--scale-bar", default="auto", choices=choices.SCALE_BAR_MODES,
                        help="scale bar burnt into the image: read it when neither --pixel-size "
                             "nor metadata gives the pixel size; it then calibrates the image "
                             "and is left out of the segmentation (auto, default); read it on "
                             "every image, also to check the metadata (always); never (none)")
    parser.add_argument("--include-border", action="store_true",
                        help="keep particles touching the image border or info bar in statistics")
    parser.add_argument("--min-area", type=int, default=0, metavar="PX",
                        help="drop particles smaller than this many pixels")
    parser.add_argument("--decoder", choices=choices.DECODERS,
                        help="CNN methods: how touching particles are separated (default: the "
                             "model's; the default UNet: watershed).  centres: by the network's "
                             "centre votes, better on dense agglomerates of small particles "
                             "(BAM TiO2: F1 0.767 vs 0.752), worse on large textured ones")
    parser.add_argument("--zoom", type=float, metavar="FACTOR",
                        help="CNN methods: rescale the image before the network, e.g. 0.25 when "
                             "particles are ~4x larger than the model's training sizes "
                             "(default UNet: ~15-120 px); default: automatic (the zoom among "
                             "1, 1/2, 1/4, 1/8 after which particle sizes stop changing)")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--excel", action="store_true", help="also write results.xlsx")
    parser.add_argument("--no-overlays", action="store_true", help="skip overlays/<stem>.png")
    parser.add_argument("--overlay-ids", action="store_true",
                        help="print each particle's id (the label column of particles.csv) in "
                             "the overlays (default: outlines only, so small particles stay "
                             "visible)")
    parser.add_argument("--roi", action="store_true",
                        help="also write rois/<stem>.zip: the particles' outlines as ImageJ ROI "
                             "sets for Fiji's ROI Manager (names = the label column of "
                             "particles.csv)")
    parser.add_argument("--no-report", action="store_true",
                        help="skip report.html (one self-contained page: statistics, figures, "
                             "EU screen, overlay thumbnails and warnings)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the bootstrap intervals (a whole number >= 0)")


def _execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-pixels", type=int, default=2**28, metavar="N",
                        help="refuse images of more than N pixels (height x width), checked "
                             "from the file header before decoding; default 2^28 = 268435456 "
                             "(16384 x 16384), which fits a 24 GB machine (about 50 bytes per "
                             "pixel with the default UNet: 3.5 GB for 8192 x 8192); 0: no limit")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="images analysed in parallel by N local processes (default 1); "
                             "each gets CPUs/N torch threads, at most one process per CPU. "
                             "Each process loads the model first, so a few images gain little")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:8786) or 'dask' for a local "
                             "Dask cluster; for thousands of images (pip install nanosizer[dask])")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer analyze``."""
    from ..errors import InputError
    from ..pipeline import analyze

    paths = list(args.paths)
    if args.sample:
        from ..data import sample_path

        paths.append(str(sample_path()))
    if not paths:
        raise InputError("no images given; name image files, folders or globs, or pass --sample")
    config = _config(args)
    _plan_threads(args, config)
    if args.overwrite and not args.resume:
        from ..io import work_dir_of

        unfinished = work_dir_of(args.out)
        if unfinished is not None:
            print(f"note: --overwrite without --resume: starting over, the unfinished run in "
                  f"{unfinished} is discarded", file=sys.stderr)
    with _terminate_as_interrupt(), _warnings_as_lines():
        result = analyze(
            paths, args.out, config, overwrite=args.overwrite, resume=args.resume,
            progress=not args.quiet, on_failure=_print_failure, workers=args.workers,
            scheduler=args.scheduler,
        )
    for record in result.images:
        if record.metadata.get("calibration_warning"):
            print(f"warning: {record.name}: {record.metadata['calibration_warning']}",
                  file=sys.stderr)
    if not args.quiet and result.images:
        _print_summary(result)
    warning = detection_limit_warning(result)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return _failure_status(result)


def _config(args: argparse.Namespace):
    """The :class:`~nanosizer.pipeline.AnalyzeConfig` of the options (InputError naming one)."""
    from ..errors import InputError
    from ..pipeline import AnalyzeConfig

    if args.pixel_size is not None:
        from ..io import parse_length_nm

        try:
            parse_length_nm(args.pixel_size)
        except ValueError as exc:
            raise InputError(f"--pixel-size: {exc}") from None
    try:
        config = AnalyzeConfig(
            method=args.method, model=args.model, measure=args.measure, pixel_size=args.pixel_size,
            infobar=parse_infobar(args.infobar), scale_bar=args.scale_bar,
            include_border=args.include_border,
            min_area_px=args.min_area, zoom=args.zoom, decoder=args.decoder, excel=args.excel,
            overlays=not args.no_overlays, overlay_ids=args.overlay_ids, roi=args.roi,
            report=not args.no_report, seed=args.seed,
            max_pixels=args.max_pixels or None,
        )
    except ValueError as exc:
        option = next((f"--{name.replace('_', '-')}" for name in ("seed", "max_pixels", "zoom", "decoder")
                       if str(exc).startswith(name)), "bad option")
        raise InputError(f"{option}: {exc}") from None
    return config


def _plan_threads(args: argparse.Namespace, config) -> None:
    """Check ``--workers`` and give each process the CPUs the others leave free."""
    from ..errors import InputError

    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and args.scheduler is None:
        from ..pipeline.parallel import available_cpus, worker_plan

        used, threads = worker_plan(args.workers)
        if used < args.workers:
            print(f"note: --workers {args.workers} but only {available_cpus()} CPUs are "
                  f"available: running {used} workers of {threads} thread(s)", file=sys.stderr)
    if args.workers == 1 and args.scheduler is None and config.method != "classical":
        from ..nn.device import configure_threads

        configure_threads()  # the CPUs other work leaves free (OMP_NUM_THREADS respected)


@contextlib.contextmanager
def _warnings_as_lines():
    """:class:`~nanosizer.errors.NanosizerWarning` printed as one ``warning:`` line at once."""
    import warnings

    from ..errors import NanosizerWarning

    default = warnings.showwarning

    def show(message, category, *args, **kwargs):
        if issubclass(category, NanosizerWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            default(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("always", NanosizerWarning)
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM handled like Ctrl-C while the run lasts: the images in flight are finished or
    abandoned cleanly and the finished ones are kept for ``--resume``."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_failure(failure) -> None:
    print(f"nanosizer analyze: skipped {failure}", file=sys.stderr)


def _failure_status(result) -> int:
    """0 when every image was analysed; else the closing line and 2 (bad input) or 1 (bug)."""
    if not result.failures:
        return 0
    n, total = len(result.failures), len(result.failures) + len(result.images)
    where = f"; the list is in {result.out / 'failures.csv'}" if result.out is not None else ""
    internal = sum(f.kind == "internal" for f in result.failures)
    if internal:
        print(f"nanosizer analyze: internal error: {internal} of {total} images failed because "
              f"of a nanosizer bug (please report it){where}", file=sys.stderr)
        return 1
    print(f"nanosizer analyze: error: {n} of {total} images could not be analysed and were "
          f"left out{where}", file=sys.stderr)
    return 2


def detection_limit_warning(result) -> str | None:
    """The warning when the EU screen's 100 nm lies below the detection limit, else None."""
    from ..report.checks import detection_limit_warning as warning

    return warning(result.summary, result.unit)


def calibration_sources(records) -> str:
    """Where the pixel sizes came from, e.g. ``"2 from metadata, 1 from scale bar"``."""
    from collections import Counter

    def kind(source: str) -> str:
        for prefix in ("user", "metadata", "scale bar"):
            if source.startswith(prefix):
                return {"user": "--pixel-size"}.get(prefix, prefix)
        return "none (pixels)"

    counts = Counter(kind(r.pixel_size["source"]) for r in records)
    return ", ".join(f"{n} from {k}" if not k.startswith("none") else f"{n} uncalibrated"
                     for k, n in counts.items())


def _print_summary(result) -> None:
    pooled = result.summary.iloc[-1]
    unit = result.unit
    print(f"{len(result.images)} image(s), {int(pooled['n_detected'])} particles detected, "
          f"{int(pooled['n'])} in statistics ({result.config.measure}, {unit})")
    if result.resumed:
        print(f"  resumed: {result.resumed} image(s) were finished by the interrupted run")
    if pooled["n"] > 0:
        print(f"  mean {pooled['mean']:.1f} ± {pooled['std']:.1f} {unit}, median "
              f"{pooled['median']:.1f} {unit}, D10/D50/D90 {pooled['d10']:.1f}/"
              f"{pooled['d50']:.1f}/{pooled['d90']:.1f} {unit}")
    print(f"  calibration: {calibration_sources(result.images)}")
    limit = float(pooled.get(f"detection_limit_{unit}", float("nan")))
    if not math.isnan(limit):
        print(f"  smallest reliably detected: {limit:.1f} {unit} (min Feret)")
    if unit == "nm" and not pooled["n"] > 0:
        print("  EU screen: no particles in the statistics, so no share below 100 nm (check "
              "the overlays; a model that finds nothing may need --zoom or another --model)")
    elif unit == "nm":
        print(f"  EU screen: {pooled['eu_share_below_100nm']:.1%} below 100 nm "
              f"(95% CI {pooled['eu_ci_low']:.1%}-{pooled['eu_ci_high']:.1%}): "
              f"{pooled['eu_verdict']}")
    else:
        print("  no pixel size: sizes are in pixels (pass --pixel-size to calibrate)")
    print(f"results in {result.out}", file=sys.stdout)
