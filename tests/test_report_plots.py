"""Histogram and comparison plots (headless, object-oriented matplotlib)."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.integrate import trapezoid

from nanosizer.report.plots import (
    kde_counts,
    plot_cumulative,
    plot_distributions,
    plot_size_histogram,
)
from nanosizer.stats import size_distribution


def _texts(ax) -> str:
    return "\n".join(t.get_text() for t in ax.texts)


def test_histogram_annotation(tmp_path):
    x = np.random.default_rng(0).lognormal(np.log(40), 0.3, 250)
    dist = size_distribution(x, "nm", n_boot=0)
    fig = Figure()
    ax = fig.add_subplot()
    plot_size_histogram(ax, x, dist, "minimum Feret diameter (nm)")
    text = _texts(ax)
    assert "N = 250" in text
    assert f"median = {dist.median:.3g} nm" in text
    assert "±" in text
    assert ax.get_xlabel() == "minimum Feret diameter (nm)"
    assert sum(p.get_height() for p in ax.patches) == 250  # number-weighted bars
    assert any(line.get_label() == "lognormal fit" for line in ax.lines)
    fig.savefig(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0


@pytest.mark.parametrize("values", [np.empty(0), np.array([12.0])])
def test_histogram_degenerate(values, tmp_path):
    dist = size_distribution(values, "px", n_boot=0)
    fig = Figure()
    ax = fig.add_subplot()
    plot_size_histogram(ax, values, dist, "equivalent circular diameter (px)")
    assert f"N = {values.size}" in _texts(ax)
    fig.savefig(tmp_path / "d.png")


@pytest.mark.parametrize("kind", ["hist", "cdf"])
def test_distributions_overlay(kind):
    rng = np.random.default_rng(1)
    samples = {"manual": rng.normal(50, 5, 100), "unet": rng.normal(52, 5, 80), "none": []}
    fig = Figure()
    ax = fig.add_subplot()
    plot_distributions(ax, samples, kind=kind, label="minimum Feret diameter (nm)")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("manual (N = 100, median")
    assert legend[2] == "none (N = 0)"
    if kind == "cdf":
        assert ax.lines[0].get_ydata()[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="kind"):
        plot_distributions(ax, samples, kind="violin")


def test_histogram_with_kernel_density():
    x = np.random.default_rng(2).lognormal(np.log(40), 0.3, 300)
    dist = size_distribution(x, "nm", n_boot=0)
    fig = Figure()
    ax = fig.add_subplot()
    plot_size_histogram(ax, x, dist, "minimum Feret diameter (nm)", kde=True)
    [kde] = [line for line in ax.lines if line.get_label() == "kernel density"]
    # on the scale of the bars: the area under the curve is N times the bin width
    width = float(np.diff(dist.hist_edges).mean())
    area = trapezoid(kde.get_ydata(), kde.get_xdata())
    assert area == pytest.approx(300 * width, rel=0.1)
    assert kde_counts([5.0, 5.0, 5.0], [5.0], 1.0) is None


def test_cumulative_marks_d10_d50_d90():
    x = np.random.default_rng(3).lognormal(np.log(40), 0.3, 200)
    dist = size_distribution(x, "nm", n_boot=0)
    fig = Figure()
    ax = fig.add_subplot()
    plot_cumulative(ax, x, dist, "minimum Feret diameter (nm)")
    text = _texts(ax)
    for name, value in (("D10", dist.d10), ("D50", dist.d50), ("D90", dist.d90)):
        assert f"{name} = {value:.3g} nm" in text
    marked = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--")
    assert marked == pytest.approx([dist.d10, dist.d50, dist.d90])
    measured = next(line for line in ax.lines if line.get_label() == "measured")
    assert measured.get_ydata()[-1] == pytest.approx(100.0)
    assert ax.get_ylabel() == "cumulative number (%)"
    empty = Figure().add_subplot()
    plot_cumulative(empty, np.empty(0), size_distribution(np.empty(0), n_boot=0), "d (nm)")
    assert not empty.lines


def test_distributions_kde_overlay():
    rng = np.random.default_rng(4)
    samples = {"a": rng.normal(50, 5, 200), "b": rng.normal(60, 5, 200), "one": [30.0]}
    ax = Figure().add_subplot()
    plot_distributions(ax, samples, kind="kde", label="d (nm)")
    a, b, one = ax.lines
    assert a.get_xdata()[np.argmax(a.get_ydata())] == pytest.approx(50, abs=3)
    assert b.get_xdata()[np.argmax(b.get_ydata())] == pytest.approx(60, abs=3)
    assert np.isnan(one.get_ydata()).all()  # a single size has no density
    assert ax.get_ylabel() == "particles per unit size"


@pytest.mark.parametrize("n", [2, 7, 500])
def test_kernel_density_equals_scipy(n):
    from scipy.stats import gaussian_kde

    from nanosizer.report.plots import _gaussian_kde

    v = np.random.default_rng(n).lognormal(3.0, 0.4, n)
    x = np.linspace(0.0, 80.0, 301)
    expected = gaussian_kde(v)(x)
    assert np.allclose(_gaussian_kde(v, x), expected, rtol=1e-12, atol=1e-15 * expected.max())
