"""A small HTML builder for self-contained report pages.

Every string is escaped unless it is :class:`Markup` (HTML built here), so a file name such as
``a<b&c.tif`` or a setting typed by the user can never inject markup.  Figures and thumbnails
are embedded as ``data:`` URIs: a page needs no other file, no network and no script.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "Markup", "element", "escape", "figure_uri", "join", "number", "page", "percent",
    "report_page", "table", "thumbnail_uri",
]  # fmt: skip

MISSING = "–"

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 0 1.5em 3em; color: #1d2430; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 1.2em 0 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccd3dd; padding-bottom: 0.2em;
     margin-top: 1.8em; }
p.lead { color: #4a5566; margin-top: 0; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #d5dbe3; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #eef2f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.pooled td, tr.reference td { font-weight: bold; background: #f7f9fc; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; }
figure img.plot { max-width: 100%; width: 520px; }
figcaption { font-size: 0.85em; color: #4a5566; max-width: 520px; }
.thumbs figure { width: 330px; vertical-align: top; }
.thumbs img { max-width: 320px; border: 1px solid #ccd3dd; }
.verdict { font-size: 1.15em; font-weight: bold; }
ul.warnings li { margin: 0.3em 0; }
.warn { color: #8a4b00; }
.ok { color: #1c6b2a; }
details { margin: 0.6em 0; }
code { font-size: 0.92em; }
"""


class Markup(str):
    """A string of trusted HTML, inserted as it is by :func:`element` and :func:`table`."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """HTML-escape ``value`` (quotes too) unless it already is :class:`Markup`.

    Examples
    --------
    >>> escape("a<b&c.tif")
    'a&lt;b&amp;c.tif'
    >>> escape(Markup("<b>kept</b>"))
    '<b>kept</b>'
    """
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    """Concatenate escaped parts into one :class:`Markup`."""
    return Markup(escape(sep).join(escape(p) for p in parts))


def element(tag: str, *children: object, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>`` with escaped children and attribute values.

    Attribute names: a trailing underscore is dropped (``class_``), other underscores become
    hyphens (``data_value``); attributes whose value is None or False are left out.

    Examples
    --------
    >>> element("a", "x & y", href="overlays/a%3Cb.png", class_="link")
    '<a href="overlays/a%3Cb.png" class="link">x &amp; y</a>'
    """
    parts = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{escape(value)}"')
    inner = "".join(escape(c) for c in children)
    if tag in ("img", "meta", "br"):
        return Markup(f"<{' '.join(parts)}>")
    return Markup(f"<{' '.join(parts)}>{inner}</{tag}>")


def number(value: object, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (no exponent); integers as they are.

    NaN, None and empty strings become a dash; other strings are returned as they are.

    Examples
    --------
    >>> number(65.00824), number(169), number(12345.6), number(float("nan"))
    ('65.01', '169', '12346', '–')
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value or MISSING
    if isinstance(value, numbers.Integral):
        return str(value) if isinstance(value, bool) else str(int(value))
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return MISSING
    if abs(v) >= 10**digits:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def percent(value: object, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage (``0.905 -> '90.5 %'``); NaN as a dash."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    return f"{100 * v:.{digits}f} %" if math.isfinite(v) else MISSING


def table(
    columns: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str | None] | None = None,
    class_: str | None = None,
) -> Markup:
    """An HTML table; cells are escaped unless they are :class:`Markup`.

    Parameters
    ----------
    columns : sequence
        Header cells.
    rows : iterable of sequences
        Body cells, one sequence per row.
    numeric : sequence of bool, optional
        Per column: right-align (numbers).
    row_classes : sequence of str or None, optional
        CSS class per row (e.g. ``"pooled"``).
    class_ : str, optional
        CSS class of the table.

    Returns
    -------
    Markup
    """
    numeric = list(numeric) if numeric is not None else [False] * len(columns)
    head = element("tr", *(element("th", c) for c in columns))
    body = []
    for i, row in enumerate(rows):
        cells = [element("td", c, class_="num" if numeric[j] else None)
                 for j, c in enumerate(row)]
        cls = row_classes[i] if row_classes is not None else None
        body.append(element("tr", *cells, class_=cls))
    return element("table", element("thead", head), element("tbody", *body), class_=class_)


def figure_uri(fig, fmt: str = "svg") -> str:
    """A matplotlib Figure as a ``data:`` URI (SVG with text as paths, or PNG).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    fmt : {'svg', 'png'}

    Returns
    -------
    str
        ``data:image/svg+xml;base64,...`` or ``data:image/png;base64,...``.
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"fmt must be 'svg' or 'png', got {fmt!r}")
    from matplotlib import rc_context

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with rc_context({"svg.hashsalt": "nanosizer"}):  # the same figure gives the same bytes
        fig.savefig(buffer, format=fmt, dpi=110, metadata=metadata)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def thumbnail_uri(path: str | Path, max_side: int = 320) -> str:
    """A PNG file scaled down to at most ``max_side`` pixels, as a ``data:image/png`` URI.

    Parameters
    ----------
    path : path
        The PNG (e.g. an overlay).
    max_side : int
        Longest side of the thumbnail in pixels (never enlarged).

    Returns
    -------
    str
    """
    from PIL import Image

    with Image.open(path) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG", optimize=True)
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def page(title: str, body: Iterable[object]) -> str:
    """A complete HTML5 document: inline CSS, no script, no external resource.

    Parameters
    ----------
    title : str
        The page title (escaped).
    body : iterable
        Body content; strings are escaped unless :class:`Markup`.

    Returns
    -------
    str
    """
    head = element(
        "head",
        element("meta", charset="utf-8"),
        element("meta", name="viewport", content="width=device-width, initial-scale=1"),
        element("title", title),
        element("style", Markup(_CSS)),
    )
    return "<!DOCTYPE html>\n" + element("html", head, element("body", *body), lang="en") + "\n"


def report_page(title: str, heading: str, lead: str,
                toc: Sequence[tuple[str, str]], sections: Mapping[str, object]) -> str:
    """A report document: heading, lead paragraph, a link to every entry of ``toc``, then one
    ``<section id=key>`` with its ``<h2>`` per ``(key, title)`` of ``toc`` in ``sections``.

    Parameters
    ----------
    title : str
        The page title.
    heading, lead : str
        The ``<h1>`` and the paragraph under it.
    toc : sequence of (str, str)
        Section ids and titles, in page order.
    sections : mapping
        Section id -> content; ids of ``toc`` missing here get no section.

    Returns
    -------
    str
        As :func:`page`.
    """
    body: list[object] = [
        element("h1", heading), element("p", lead, class_="lead"),
        element("nav", *(element("a", t, href=f"#{k}") for k, t in toc)),
    ]
    body += [element("section", element("h2", t), sections[k], id=k)
             for k, t in toc if k in sections]
    return page(title, body)
