"""Render an ``analyze`` run's ``report.html`` in headless Chromium and save a screenshot.

    python benchmarks/render_report.py [--results DIR] [--png docs/report.png]

Without ``--results`` it first runs the README's main job, ``nanosizer analyze --sample`` (the
shipped UNet on the built-in sample), into a temporary folder.  The page is opened from disk
(``file://``) with the network unused, so the screenshot also shows that the report is
self-contained.  Needs the Debian package ``chromium`` (``apt-get install -y chromium``).
Prints the screenshot's path and size.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str:
    """Path of a Chromium-like browser, or SystemExit naming the package to install."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium found; install it with: apt-get install -y chromium")


def screenshot(html: Path, png: Path, *, width: int = 1200, height: int = 4000) -> Path:
    """Screenshot ``html`` at ``width`` px, then crop the blank space below the page."""
    from PIL import Image, ImageChops

    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png}", html.resolve().as_uri()],
            check=True, capture_output=True, timeout=300,
        )
    with Image.open(png) as shot:
        rgb = shot.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box is not None:
        rgb = rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + 40)))
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path,
                        help="an analyze results folder (default: analyse the built-in sample)")
    parser.add_argument("--png", type=Path, default=Path("docs/report.png"),
                        help="where to save the screenshot (default: docs/report.png)")
    parser.add_argument("--method", default="unet",
                        help="method of the sample run without --results (default: unet)")
    parser.add_argument("--width", type=int, default=1200, help="window width in px")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        results = args.results
        if results is None:
            from nanosizer.cli.main import main as nanosizer

            results = Path(work) / "results"
            code = nanosizer(["analyze", "--sample", "--method", args.method, "--out",
                              str(results), "--quiet"])
            if code != 0:
                return code
        png = screenshot(results / "report.html", args.png, width=args.width)
    print(f"{png}: {png.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
