"""``nanosizer info``: what nanosizer reads from a micrograph file."""

from __future__ import annotations

import argparse

from .. import choices
from ._options import parse_infobar

HELP = "Show an image's size, type, pixel size (and its source), format and detected info bar."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer info``."""
    parser.add_argument("file", metavar="FILE", help="image file")
    parser.add_argument("--pixel-size", metavar="LENGTH",
                        help='pixel size overriding the file\'s metadata, with its unit: "7.34 nm", '
                             '"0.5 um", "3 A" (a bare number is taken as nm)')
    parser.add_argument("--infobar", default="auto", metavar="auto|none|ROW",
                        help="microscope info bar: detect (auto), ignore (none) or first row")
    parser.add_argument("--scale-bar", default="auto", choices=choices.SCALE_BAR_MODES,
                        help="read the scale bar burnt into the image when neither --pixel-size "
                             "nor metadata gives the pixel size (auto, default), always (also "
                             "to check the metadata) or never (none)")


def describe(micrograph) -> list[str]:
    """Lines describing a :class:`~nanosizer.io.Micrograph` as ``nanosizer info`` prints them."""
    meta = micrograph.metadata
    height, width = micrograph.shape
    size = micrograph.pixel_size
    fmt = meta.get("format", "?")
    if meta.get("vendor"):
        fmt += f" ({meta['vendor']})"
    kind = meta.get("dtype", "?")
    grey = ""
    if meta.get("colour"):
        from ..io import GREY_WEIGHTS as _LUMA

        r, g, b = (float(v) for v in _LUMA)
        kind += (f" {meta['colour']}, converted to grey "
                 f"({r:g} R + {g:g} G + {b:g} B; equal channels taken as they are)")
        grey = " (of the converted grey image, not of the file's channels)"
    value = f"{size.nm:g} nm" if size.calibrated else "unknown (results in pixels)"
    if micrograph.infobar_top is None:
        bar = f"none ({meta.get('infobar', 'not checked')})"
    else:
        bar = f"rows {micrograph.infobar_top}-{height - 1} ({meta.get('infobar', '')})"
    lines = [
        f"file:        {micrograph.path}",
        f"format:      {fmt}",
        f"shape:       {height} x {width} pixels (height x width)",
        f"dtype:       {kind}",
        f"grey range:  {float(micrograph.data.min()):g} .. {float(micrograph.data.max()):g}"
        f"{grey}",
        f"pixel size:  {value}; source: {size.source}",
        f"info bar:    {bar}",
    ]
    if micrograph.scale_bar is not None:
        lines.append(f"scale bar:   {micrograph.scale_bar.describe()}")
    if meta.get("calibration_warning"):
        lines.append(f"warning:     {meta['calibration_warning']}")
    if meta.get("frame_used"):
        lines.append(f"frames:      {meta['frame_used']} used")
    if meta.get("nonfinite_pixels_filled"):
        lines.append(f"note:        {meta['nonfinite_pixels_filled']} NaN/inf pixels replaced by "
                     "the median grey value")
    if meta.get("calibration_error"):
        lines.append(f"note:        calibration metadata unreadable: {meta['calibration_error']}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer info``."""
    from ..io import read_micrograph

    micrograph = read_micrograph(
        args.file, pixel_size=args.pixel_size, infobar=parse_infobar(args.infobar),
        scale_bar=args.scale_bar,
    )
    print("\n".join(describe(micrograph)))
    return 0
