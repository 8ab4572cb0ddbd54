"""Histogram and comparison plots (headless, object-oriented matplotlib)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from nanosizer.report.plots import plot_distributions, plot_size_histogram
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
