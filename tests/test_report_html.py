"""``report.html`` of analyze and compare: self-contained, escaped, the numbers of the tables."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.report._html import Markup, element, escape, number, table
from nanosizer.report.checks import run_warnings

from helpers import draw_discs

ODD = "a<b&c"  # a file name that is markup if not escaped
DISCS = [(20, 20, 8), (24, 64, 10), (60, 24, 9), (66, 68, 11), (46, 46, 7)]


class _Page(HTMLParser):
    """Attributes of every tag, and the text of every table cell, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table_with(self, first_header: str) -> list[list[str]]:
        return next(t for t in self.tables if t and t[0] and t[0][0] == first_header)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _assert_self_contained(out: Path, page: _Page, html: str) -> None:
    """Only data: URIs as sources; links are anchors or relative files that exist."""
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "url(" not in html
    for tag, name, value in page.attrs:
        if name == "src":
            assert value.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,"))
        elif name == "href" and not value.startswith("#"):
            assert "//" not in value and ":" not in value and not value.startswith("/")
            assert (out / unquote(value)).is_file(), value


def _calibrated(path: Path) -> Path:
    image = draw_discs((96, 96), DISCS, noise=3)
    tifffile.imwrite(path, image, imagej=True, resolution=(0.5, 0.5), metadata={"unit": "nm"})
    return path


@pytest.fixture
def run_out(tmp_path) -> Path:
    """A classical analyze run of a calibrated image named ``a<b&c.tif``."""
    image = _calibrated(tmp_path / f"{ODD}.tif")
    out = tmp_path / "res"
    assert main(["analyze", str(image), "--method", "classical", "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_analyze_report_is_self_contained_with_the_summary_numbers(run_out):
    html = (run_out / "report.html").read_text(encoding="utf-8")
    page = _parse(run_out / "report.html")
    _assert_self_contained(run_out, page, html)
    summary = pd.read_csv(run_out / "summary.csv", keep_default_na=False, na_values=[""])
    pooled = summary.iloc[-1]
    rows = page.table_with("image")  # the per-image table comes first
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    assert header[:3] == ["image", "N", "detected"]
    assert set(body) == {ODD, "pooled"}
    assert int(body["pooled"][1]) == int(pooled["n"]) == len(DISCS)
    median_col = header.index("median (nm)")
    assert float(body["pooled"][median_col]) == pytest.approx(pooled["median"], rel=1e-3)
    key = dict(r[:2] for r in page.table_with("pooled over all images")[1:])
    assert key["particles in the statistics (N)"] == str(len(DISCS))
    assert float(key["median"].split()[0]) == pytest.approx(pooled["median"], rel=1e-3)
    assert f"{100 * pooled['eu_share_below_100nm']:.1f} % below 100 nm" in html
    assert "Detection limit:" in html
    # two embedded figures (histogram with KDE, cumulative) and one thumbnail
    sources = [v for t, k, v in page.attrs if k == "src"]
    assert sum(s.startswith("data:image/svg+xml") for s in sources) == 2
    assert sum(s.startswith("data:image/png") for s in sources) == 1
    text = " ".join(page.text)
    assert "Gaussian kernel density" in text and "lognormal fit" in text
    assert "D10, D50 and D90 marked" in text
    assert "only 5 particles in the statistics" in text and "uncalibrated" not in text


def test_analyze_report_escapes_the_file_name_and_links_its_overlay(run_out):
    html = (run_out / "report.html").read_text(encoding="utf-8")
    assert ODD not in html
    assert "a&lt;b&amp;c" in html
    links = [v for t, k, v in _parse(run_out / "report.html").attrs
             if t == "a" and k == "href" and v.startswith("overlays/")]
    assert links and set(links) == {"overlays/a%3Cb%26c.png"}
    assert (run_out / unquote(links[0])).is_file()
    names = json.loads((run_out / ".nanosizer-manifest.json").read_text())["files"]
    assert "report.html" in names


def test_analyze_report_is_rebuilt_byte_for_byte_from_the_results_files(run_out):
    from nanosizer.report import write_run_report

    written = (run_out / "report.html").read_bytes()
    (run_out / "report.html").unlink()
    write_run_report(run_out, json.loads((run_out / "run.json").read_text()),
                     pd.read_csv(run_out / "summary.csv", dtype={"image": str}),
                     pd.read_csv(run_out / "particles.csv", dtype={"image": str}))
    assert (run_out / "report.html").read_bytes() == written


def test_uncalibrated_image_is_warned_and_its_eu_screen_undetermined(tmp_path):
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, draw_discs((96, 96), DISCS, noise=3))
    out = tmp_path / "res"
    assert main(["analyze", str(path), "--method", "classical", "--out", str(out),
                 "--quiet"]) == 0
    page = _parse(out / "report.html")
    text = re.sub(r"\s+", " ", "".join(page.text))
    assert "uncalibrated (raw): no pixel size known: sizes are in pixels" in text
    assert "only 5 particles in the statistics" in text
    assert "Undetermined: no pixel size is known" in text
    calibration = next(t for t in page.tables if "pixel size source" in t[0])
    row = dict(zip(calibration[0], calibration[1]))
    assert row["image"] == "raw" and row["pixel size"] == "none (pixels)"
    assert row["pixel size source"] == "none"
    assert row["scale bar"] == "no scale bar found"


def test_no_overlays_is_said_and_no_report_writes_none(tmp_path):
    image = _calibrated(tmp_path / "discs.tif")
    out = tmp_path / "res"
    assert main(["analyze", str(image), "--method", "classical", "--out", str(out),
                 "--quiet", "--no-overlays"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Overlays were not written (--no-overlays)" in html
    assert 'href="overlays/' not in html
    bare = tmp_path / "bare"
    assert main(["analyze", str(image), "--method", "classical", "--out", str(bare),
                 "--quiet", "--no-report"]) == 0
    assert not (bare / "report.html").exists()
    assert (bare / "summary.csv").is_file() and (bare / "histogram.png").is_file()


def _label_folder(path: Path, sizes: list[int]) -> Path:
    """Square particles of the given side lengths (px), none touching the border."""
    labels = np.zeros((80, 80), dtype=np.uint16)
    for i, side in enumerate(sizes):
        y, x = 4 + 25 * (i // 3), 4 + 25 * (i % 3)
        labels[y:y + side, x:x + side] = i + 1
    path.mkdir()
    tifffile.imwrite(path / "img.tif", labels)
    return path


def test_compare_report_lists_each_method(tmp_path, capsys):
    first = _label_folder(tmp_path / "lab1", [8, 10, 12, 14])
    second = _label_folder(tmp_path / "lab2", [9, 11, 13])
    out = tmp_path / "cmp"
    assert main(["compare", f"manual=labels:{first}", f"{ODD}=labels:{second}",
                 "--reference", "manual", "--out", str(out), "--quiet"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    page = _parse(out / "report.html")
    _assert_self_contained(out, page, html)
    assert ODD not in html and "a&lt;b&amp;c" in html
    rows = page.table_with("method")
    csv = pd.read_csv(out / "comparison.csv")
    assert [r[0] for r in rows[1:]] == csv["method"].tolist() == ["manual", ODD]
    assert [int(r[1]) for r in rows[1:]] == csv["n"].tolist() == [4, 3]
    median_col = rows[0].index("median (px)")
    assert [float(r[median_col]) for r in rows[1:]] == pytest.approx(csv["median"].tolist(),
                                                                      rel=1e-3)
    assert "mean error" in rows[0]
    sources = [v for t, k, v in page.attrs if k == "src"]
    assert len(sources) == 3  # kernel densities, histograms, cumulative distributions
    text = "".join(page.text)
    assert "sizes are in pixels" in text and "manual: only 4 particles" in text
    assert main(["compare", f"manual=labels:{first}", f"b=labels:{second}", "--quiet",
                 "--no-report", "--out", str(tmp_path / "bare")]) == 0
    assert not (tmp_path / "bare" / "report.html").exists()
    assert (tmp_path / "bare" / "comparison.csv").is_file()


def _run(unit="nm", **reader) -> dict:
    return {"unit": unit, "settings": {"measure": "feret_min"}, "failures": [],
            "images": [{"name": "x", "pixel_size": {"value": 2.0, "unit": unit, "source": "s"},
                        "reader": reader}]}


def _tables(sizes, limit, unit="nm"):
    particles = pd.DataFrame({"image": "x", "in_statistics": True,
                              f"feret_min_{unit}": np.asarray(sizes, float)})
    row = {"image": "x", "n": len(sizes), "median": float(np.median(sizes)),
           "median_ci_low": np.nan, "median_ci_high": np.nan, "ci_level": 0.95,
           f"detection_limit_{unit}": limit}
    return pd.DataFrame([row, {**row, "image": "pooled"}]), particles


def test_run_warnings_flag_few_particles_and_the_detection_limit():
    summary, particles = _tables(np.linspace(20, 80, 60), 18.0)
    assert run_warnings(_run(), summary, particles) == []
    near = np.r_[np.full(5, 20.0), np.linspace(40, 80, 55)]  # 5 of 60 below 1.2 x 18 nm
    summary, particles = _tables(near, 18.0)
    [w] = run_warnings(_run(), summary, particles)
    assert w.kind == "near detection limit" and w.image == "x"
    assert w.message.startswith("5 of 60 particles (8%)")
    summary, particles = _tables([30.0, 40.0], 10.0)
    kinds = [w.kind for w in run_warnings(_run(calibration_warning="metadata 2 nm, bar 3 nm"),
                                          summary, particles)]
    assert kinds == ["calibration", "few particles"]
    summary, particles = _tables(np.linspace(120, 300, 60), 101.0)
    run = {**_run(), "failures": [{"file": "bad.tif", "kind": "input", "reason": "truncated"}]}
    assert [(w.kind, w.image) for w in run_warnings(run, summary, particles)] == [
        ("detection limit", None), ("left out", "bad.tif")]


def test_html_builder_escapes_text_and_attributes():
    assert element("td", "<i>") == "<td>&lt;i&gt;</td>"
    assert element("a", Markup("<b>x</b>"), href='"><script>') == (
        '<a href="&quot;&gt;&lt;script&gt;"><b>x</b></a>')
    assert escape("&") == "&amp;" and isinstance(escape("x"), Markup)
    assert table(["a"], [["<"]], numeric=[True]) == (
        '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td class="num">&lt;</td></tr>'
        "</tbody></table>")
    assert [number(v) for v in (np.int64(3), 2.5, np.nan, None, True)] == [
        "3", "2.5", "–", "–", "True"]
