"""``report.html`` of an ``analyze`` run: one self-contained page of its results.

The page is built from what the run writes (the ``run.json`` content, ``summary.csv``,
``particles.csv`` and the ``overlays/`` beside it), so every figure it shows is the one in the
tables.  Figures and thumbnails are embedded; the only links are relative ones to the overlays.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from ._html import Markup, element, figure_uri, join, number, percent, report_page, table
from .checks import run_warnings

__all__ = ["MAX_THUMBNAILS", "run_report_html", "write_run_report"]

#: Thumbnails embedded at most (each ~30-60 kB); further images are listed with links only.
MAX_THUMBNAILS = 100

_SECTIONS = (("warnings", "Warnings"), ("summary", "Size distribution"),
             ("figures", "Figures"), ("eu", "EU screen"), ("images", "Images"),
             ("settings", "Settings"))  # fmt: skip


def _unit_label(run: Mapping) -> tuple[str, str, str]:
    """(measure, unit, axis label) of the run."""
    from ..pipeline.config import MEASURES

    measure = str(run["settings"].get("measure", "feret_min"))
    unit = str(run.get("unit", "px"))
    return measure, unit, f"{MEASURES.get(measure, measure)} ({unit})"


def _values(particles: pd.DataFrame, measure: str, unit: str) -> np.ndarray:
    column = f"{measure}_{unit}"
    if particles.empty or column not in particles:
        return np.empty(0)
    return particles.loc[particles["in_statistics"].astype(bool), column].to_numpy(float)


def _pm(row: Mapping, unit: str) -> str:
    std = f" ± {number(row['std'])}" if np.isfinite(row["std"]) else ""
    return f"{number(row['mean'])}{std} {unit}" if row["n"] else number(None)


def _ci(row: Mapping, stat: str, unit: str = "") -> str:
    low, high = row[f"{stat}_ci_low"], row[f"{stat}_ci_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return number(None)
    return f"{number(low)} – {number(high)} {unit}".rstrip()


def _pooled_last(rows: list) -> list[str | None]:
    return [None] * (len(rows) - 1) + ["pooled"]


def _key_figures(pooled: Mapping, unit: str) -> Markup:
    level = f"{100 * float(pooled['ci_level']):.0f} %"
    rows = [
        ("particles in the statistics (N)", number(pooled["n"])),
        ("particles detected", number(pooled["n_detected"])),
        ("left out (touching the border or info bar)", number(pooled["n_excluded_border"])),
    ]
    if not pooled["n"]:
        return table(("pooled over all images", "value"), rows, numeric=(False, True))
    rows += [
        ("mean ± std", _pm(pooled, unit)),
        (f"mean, {level} bootstrap CI", _ci(pooled, "mean", unit)),
        ("median", f"{number(pooled['median'])} {unit}"),
        (f"median, {level} bootstrap CI", _ci(pooled, "median", unit)),
        ("D10 / D50 / D90", f"{number(pooled['d10'])} / {number(pooled['d50'])} / "
                            f"{number(pooled['d90'])} {unit}"),
        ("min / max", f"{number(pooled['min'])} / {number(pooled['max'])} {unit}"),
        ("geometric mean / geometric std", f"{number(pooled['geo_mean'])} {unit} / "
                                           f"{number(pooled['geo_std'])}"),
        ("lognormal fit: median exp(μ) / σ",
         f"{number(np.exp(pooled['lognorm_mu']))} {unit} / {number(pooled['lognorm_sigma'])}"),
    ]  # fmt: skip
    return table(("pooled over all images", "value"), rows, numeric=(False, True),
                 class_="key")


def _per_image(summary: pd.DataFrame, unit: str) -> Markup:
    columns = ("image", "N", "detected", f"mean ± std ({unit})", f"median ({unit})",
               f"median CI ({unit})", f"D10 ({unit})", f"D50 ({unit})", f"D90 ({unit})")
    rows = [(r["image"], number(r["n"]), number(r["n_detected"]), _pm(r, "").strip(),
             number(r["median"]), _ci(r, "median"), number(r["d10"]), number(r["d50"]),
             number(r["d90"])) for _, r in summary.iterrows()]
    return table(columns, rows, numeric=(False,) + (True,) * 8, row_classes=_pooled_last(rows),
                 class_="per-image")


def _all_columns(summary: pd.DataFrame) -> Markup:
    """summary.csv transposed: one row per column, one column per image (pooled last)."""
    rows = [(name, *(number(v) for v in summary[name])) for name in summary.columns
            if name != "image"]
    return element("details", element("summary", "All columns of summary.csv"),
                   table(("column", *summary["image"].astype(str)), rows,
                         numeric=(False,) + (True,) * len(summary)))


def _figures(particles: pd.DataFrame, run: Mapping) -> Markup:
    from matplotlib.figure import Figure

    from ..stats import size_distribution
    from .plots import plot_cumulative, plot_size_histogram

    measure, unit, label = _unit_label(run)
    values = _values(particles, measure, unit)
    dist = size_distribution(values, unit, n_boot=0)
    figures = []
    for draw, caption in (
        (lambda ax: plot_size_histogram(ax, values, dist, label, kde=True),
         "Number-weighted histogram with a Gaussian kernel density (orange) and the "
         "maximum-likelihood lognormal fit (black); dashed: the median."),
        (lambda ax: plot_cumulative(ax, values, dist, label),
         "Cumulative number distribution with D10, D50 and D90 marked; dotted: the lognormal "
         "fit."),
    ):
        fig = Figure(figsize=(6, 4), layout="constrained")
        draw(fig.add_subplot())
        img = element("img", src=figure_uri(fig), alt=caption, class_="plot")
        figures.append(element("figure", img, element("figcaption", caption)))
    return join(figures)


def _eu(summary: pd.DataFrame, unit: str) -> Markup:
    pooled = summary.iloc[-1]
    intro = element("p", (
        "Screen against the EU definition of a nanomaterial (Recommendation 2022/C 229/01): "
        "share of particles whose minimum Feret diameter is below 100 nm (whatever the size "
        "measure of the run), with an exact Clopper-Pearson interval; a verdict is called only "
        "when the interval lies on one side of 50 %."))
    if unit != "nm":
        return join([intro, element("p", "Undetermined: no pixel size is known, so sizes are in "
                                         "pixels.", class_="verdict warn")])
    level = f"{100 * float(pooled['ci_level']):.0f} %"
    share = (f"{percent(pooled['eu_share_below_100nm'])} below 100 nm ({level} CI "
             f"{percent(pooled['eu_ci_low'])} – {percent(pooled['eu_ci_high'])}): "
             f"{pooled['eu_verdict']}")
    limit = float(pooled.get("detection_limit_nm", np.nan))
    limit_text = (f"Detection limit: {number(limit)} nm minimum Feret diameter (the largest over "
                  "the images); smaller particles are not reliably detected."
                  if np.isfinite(limit) else "Detection limit: not known.")
    rows = [(r["image"], number(r["n"]), percent(r["eu_share_below_100nm"]),
             f"{percent(r['eu_ci_low'])} – {percent(r['eu_ci_high'])}", r["eu_verdict"],
             number(r.get("detection_limit_nm", np.nan)))
            for _, r in summary.iterrows()]
    per = table(("image", "N", "share < 100 nm", f"{level} CI", "verdict",
                 "detection limit (nm)"), rows, numeric=(False, True, True, True, False, True),
                row_classes=_pooled_last(rows))
    return join([intro, element("p", share, class_="verdict"), element("p", limit_text), per])


def _calibration(run: Mapping, summary: pd.DataFrame) -> Markup:
    """Per image: size, pixel size and its source, info bar, counts, zoom, detection limit."""
    unit = str(run.get("unit", "px"))
    counts = {str(r["image"]): r for _, r in summary.iloc[:-1].iterrows()}
    rows = []
    for image in run.get("images", []):
        px, seg = image["pixel_size"], image.get("segmentation") or {}
        row = counts.get(str(image["name"]), {})
        bar = image.get("infobar_rows")
        zoom = seg.get("zoom")
        rows.append((
            image["name"], f"{image['shape'][1]} × {image['shape'][0]}",
            f"{number(px['value'])} nm" if px.get("unit") == "nm" else "none (pixels)",
            px.get("source", ""), _bar_reading(image.get("reader") or {}),
            f"{bar[0]}–{bar[1]}" if bar else "none",
            number(image.get("n_particles")), number(row.get("n")) if len(row) else number(None),
            f"{number(zoom)} ({seg.get('zoom_source')})" if zoom is not None else number(None),
            number(row.get(f"detection_limit_{unit}")) if len(row) else number(None),
        ))
    return table(("image", "width × height (px)", "pixel size", "pixel size source",
                  "scale bar", "info bar rows", "detected", "in statistics", "zoom",
                  f"detection limit ({unit})"), rows,
                 numeric=(False, True, True, False, False, True, True, True, True, True))


def _bar_reading(reader: Mapping) -> str:
    """The scale bar's reading (label, bar length, pixel size), or why there is none."""
    bar = reader.get("scale_bar")
    if not isinstance(bar, Mapping):
        return "not looked for"
    if bar.get("status") != "read":
        return str(bar.get("status", "not read"))
    return (f'"{bar["label"]}" = {bar["bar"]["length_px"]:.2f} px → '
            f'{number(bar["pixel_size_nm"])} nm/px (framed in magenta on the overlay)')


def _thumbnails(root: Path, run: Mapping) -> Markup:
    """Thumbnails of the overlays, each a link to the full overlay (relative)."""
    from ._html import thumbnail_uri

    if not run["settings"].get("overlays", True):
        return element("p", "Overlays were not written (--no-overlays), so there are no "
                            "thumbnails; run analyze without --no-overlays to see the outlines.",
                       class_="warn")
    figures, listed = [], []
    for i, image in enumerate(run.get("images", [])):
        name = str(image["name"])
        path = root / "overlays" / f"{name}.png"
        href = quote(f"overlays/{name}.png")
        if not path.is_file():
            listed.append(element("li", f"{name}: no overlay"))
        elif i < MAX_THUMBNAILS:
            img = element("img", src=thumbnail_uri(path), alt=f"overlay of {name}")
            caption = element("figcaption", element("a", name, href=href))
            figures.append(element("figure", element("a", img, href=href), caption))
        else:
            listed.append(element("li", element("a", name, href=href)))
    parts = [element("p", "Outlines on each image (green: in the statistics; orange: left "
                          "out, touching the border or info bar). Click a thumbnail for the "
                          "full overlay in overlays/.")]
    parts.append(element("div", *figures, class_="thumbs"))
    if listed:
        parts.append(element("ul", *listed))
    return join(parts)


def _settings(run: Mapping) -> Markup:
    rows = [(key, "none" if value is None else value) for key, value in run["settings"].items()]
    rows.insert(0, ("nanosizer version", run.get("nanosizer_version", "")))
    rows.append(("unit", run.get("unit_note", run.get("unit", ""))))
    return table(("setting", "value"), rows)


def _warnings(run: Mapping, summary: pd.DataFrame, particles: pd.DataFrame) -> Markup:
    found = run_warnings(run, summary, particles)
    if not found:
        return element("p", "No warnings: every image is calibrated, has enough particles and "
                            "few near the detection limit.", class_="ok")
    items = [element("li", element("strong", f"{w.kind}"),
                     f" ({w.image})" if w.image else "", ": ", w.message) for w in found]
    return element("ul", *items, class_="warnings warn")


def run_report_html(
    root: str | Path, run: Mapping, summary: pd.DataFrame, particles: pd.DataFrame
) -> str:
    """The HTML of an ``analyze`` run's report.

    Parameters
    ----------
    root : path
        The results folder (its ``overlays/`` are embedded as thumbnails and linked).
    run : mapping
        The run's ``run.json`` content (``settings``, ``unit``, ``images``, ``failures``).
    summary : DataFrame
        ``summary.csv``: one row per image and the pooled row last.
    particles : DataFrame
        ``particles.csv``.

    Returns
    -------
    str
        A complete HTML document without external resources (user strings escaped).
    """
    root = Path(root)
    _, unit, label = _unit_label(run)
    images = run.get("images", [])
    settings = run["settings"]
    method = settings.get("method", "")
    method += f" (model {settings['model']})" if settings.get("model") else ""
    lead = (f"{len(images)} image(s), method {method}, {label}; nanosizer "
            f"{run.get('nanosizer_version', '')}.")
    if summary.empty:
        sections = {"warnings": _warnings(run, summary, particles),
                    "summary": element("p", "No image was analysed."),
                    "settings": _settings(run)}
    else:
        sections = {
            "warnings": _warnings(run, summary, particles),
            "summary": join([_key_figures(summary.iloc[-1], unit),
                             element("h3", "Per image"), _per_image(summary, unit),
                             _all_columns(summary)]),
            "figures": _figures(particles, run),
            "eu": _eu(summary, unit),
            "images": join([_calibration(run, summary), _thumbnails(root, run)]),
            "settings": _settings(run),
        }
    return report_page(f"nanosizer report: {len(images)} image(s)", "Particle size report", lead,
                       _SECTIONS, sections)


def write_run_report(
    root: str | Path, run: Mapping, summary: pd.DataFrame, particles: pd.DataFrame
) -> Path:
    """Write ``report.html`` into the results folder ``root`` (atomically).

    Parameters
    ----------
    root : path
        The results folder (or its staging folder), holding ``overlays/`` when they were
        written.
    run, summary, particles
        As :func:`run_report_html`.

    Returns
    -------
    Path
        The written file.
    """
    from ..io import atomic_write_text

    path = Path(root) / "report.html"
    return atomic_write_text(path, run_report_html(root, run, summary, particles))
