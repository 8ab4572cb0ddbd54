"""``report.html`` of a ``compare`` run: the method-comparison table and overlaid distributions.

Built from the tables ``compare`` writes (``comparison.csv`` and ``sizes.csv``), so its figures
are those of the tables; the page needs no other file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._html import Markup, element, figure_uri, join, number, report_page
from ._html import table as html_table
from .checks import FEW_PARTICLES

__all__ = ["comparison_report_html", "comparison_warnings", "write_comparison_report"]

_SECTIONS = (("warnings", "Warnings"), ("comparison", "Comparison"),
             ("figures", "Distributions"), ("per-image", "Per image"),
             ("settings", "Settings"))  # fmt: skip


def _signed_percent(value: object) -> str:
    v = float(value)  # type: ignore[arg-type]
    return f"{100 * v:+.1f} %" if np.isfinite(v) else number(None)


def comparison_warnings(table: pd.DataFrame, unit: str) -> list[str]:
    """Warnings about a comparison: sizes in pixels, methods with few or no particles.

    Parameters
    ----------
    table : DataFrame
        :func:`nanosizer.evaluate.compare.comparison_table` (``method``, ``n``, ...).
    unit : {'nm', 'px'}

    Returns
    -------
    list of str
    """
    found = []
    if unit != "nm":
        found.append("no pixel size known for every image: sizes are in pixels; pass "
                     '--pixel-size (e.g. "7.34 nm") to compare in nanometres')
    for r in table.itertuples(index=False):
        if r.n == 0:
            found.append(f"{r.method}: no particles (check its images, labels or table)")
        elif r.n < FEW_PARTICLES:
            found.append(f"{r.method}: only {r.n} particles, fewer than {FEW_PARTICLES}: its "
                         "median and D10/D90 are uncertain")
    return found


def _comparison(table: pd.DataFrame, unit: str, reference: str | None) -> Markup:
    columns = ["method", "N", f"mean ± std ({unit})", f"median ({unit})", f"D10 ({unit})",
               f"D90 ({unit})", f"min ({unit})", f"max ({unit})"]
    agreement = "ks" in table.columns
    if agreement:
        columns += ["N error", "mean error", "median error", "KS", f"Wasserstein ({unit})"]
    rows = []
    for r in table.itertuples(index=False):
        std = f" ± {number(r.std)}" if np.isfinite(r.std) else ""
        row = [r.method, number(r.n), f"{number(r.mean)}{std}", number(r.median),
               number(r.d10), number(r.d90), number(r.min), number(r.max)]
        if agreement:
            row += [_signed_percent(r.n_rel_err), _signed_percent(r.mean_rel_err),
                    _signed_percent(r.median_rel_err), number(r.ks, 3), number(r.wasserstein)]
        rows.append(row)
    classes = [("reference" if r.method == reference else None)
               for r in table.itertuples(index=False)]
    parts = [html_table(columns, rows, numeric=[False] + [True] * (len(columns) - 1),
                        row_classes=classes)]
    if agreement:
        parts.append(element("p", (
            f"Errors relative to the reference {reference} ((method - reference) / reference); "
            "KS: two-sample Kolmogorov-Smirnov statistic (0: same distribution, 1: disjoint); "
            "Wasserstein: the earth mover's distance between the distributions.")))
    return join(parts)


def _figures(sizes: pd.DataFrame, methods: list[str], label: str) -> Markup:
    from matplotlib.figure import Figure

    from .plots import plot_distributions

    samples = {m: sizes.loc[sizes["method"] == m, "size"].to_numpy(float) for m in methods}
    figures = []
    for kind, caption in (
        ("kde", "Kernel densities of the methods' sizes (number of particles per unit size)."),
        ("hist", "Histograms on common bins."),
        ("cdf", "Cumulative number distributions."),
    ):
        fig = Figure(figsize=(6, 4), layout="constrained")
        plot_distributions(fig.add_subplot(), samples, kind=kind, label=label)
        img = element("img", src=figure_uri(fig), alt=caption, class_="plot")
        figures.append(element("figure", img, element("figcaption", caption)))
    return join(figures)


def _per_image(sizes: pd.DataFrame, methods: list[str], unit: str) -> Markup:
    """N and median per image and method."""
    images = list(dict.fromkeys(sizes["image"].astype(str)))
    columns = ["image"] + [f"{m}: N / median ({unit})" for m in methods]
    rows = []
    for image in images:
        own = sizes[sizes["image"].astype(str) == image]
        row = [image]
        for m in methods:
            v = own.loc[own["method"] == m, "size"].to_numpy(float)
            row.append(f"{v.size} / {number(np.median(v))}" if v.size else "0")
        rows.append(row)
    return html_table(columns, rows, numeric=[False] + [True] * len(methods))


def comparison_report_html(
    table: pd.DataFrame,
    sizes: pd.DataFrame,
    *,
    measure: str,
    unit: str,
    reference: str | None = None,
    settings: Mapping[str, object] | None = None,
) -> str:
    """The HTML of a method comparison's report.

    Parameters
    ----------
    table : DataFrame
        :func:`nanosizer.evaluate.compare.comparison_table`: one row per method.
    sizes : DataFrame
        Long table ``method, image, label, size`` (``sizes.csv``).
    measure : str
        Size measure compared (``'feret_min'``, ...).
    unit : {'nm', 'px'}
    reference : str, optional
        The method the others were compared with.
    settings : mapping, optional
        What the comparison was run with (methods as given, images, options), shown as given.

    Returns
    -------
    str
        A complete HTML document without external resources (user strings escaped).
    """
    from .. import __version__
    from ..pipeline.config import MEASURES

    methods = [str(m) for m in table["method"]]
    label = f"{MEASURES.get(measure, measure)} ({unit})"
    lead = (f"{len(methods)} method(s): {', '.join(methods)}; {label}"
            + (f"; reference {reference}" if reference else "") + f"; nanosizer {__version__}.")
    found = comparison_warnings(table, unit)
    warnings = (element("ul", *(element("li", w) for w in found), class_="warnings warn")
                if found else element("p", "No warnings.", class_="ok"))
    rows = [(k, "none" if v is None else (", ".join(map(str, v))
                                          if isinstance(v, (list, tuple)) else v))
            for k, v in {"measure": measure, "unit": unit, "reference": reference,
                         **(settings or {})}.items()]
    sections = {
        "warnings": warnings,
        "comparison": _comparison(table, unit, reference),
        "figures": _figures(sizes, methods, label) if len(sizes) else element("p", "No sizes."),
        "per-image": _per_image(sizes, methods, unit) if len(sizes) else element("p", "–"),
        "settings": html_table(["setting", "value"], rows),
    }
    return report_page(f"nanosizer comparison: {', '.join(methods)}", "Method comparison", lead,
                       _SECTIONS, sections)


def write_comparison_report(
    out: str | Path,
    table: pd.DataFrame,
    sizes: pd.DataFrame,
    *,
    measure: str,
    unit: str,
    reference: str | None = None,
    settings: Mapping[str, object] | None = None,
) -> Path:
    """Write ``report.html`` of a comparison into the folder ``out`` (atomically).

    Parameters
    ----------
    out : path
        The comparison's results folder.
    table, sizes, measure, unit, reference, settings
        As :func:`comparison_report_html`.

    Returns
    -------
    Path
    """
    from ..io import atomic_write_text

    html = comparison_report_html(table, sizes, measure=measure, unit=unit,
                                  reference=reference, settings=settings)
    return atomic_write_text(Path(out) / "report.html", html)
