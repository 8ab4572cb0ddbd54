"""Size-distribution plots drawn on a given matplotlib Axes.

Only the object-oriented API is used (the caller creates a ``matplotlib.figure.Figure``), so
the functions keep no global pyplot state and work without a display.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..stats import SizeDistribution, size_distribution

__all__ = ["plot_size_histogram", "plot_distributions", "summary_text"]


def summary_text(dist: SizeDistribution) -> str:
    """Three-line annotation: N, mean +- std and median with the unit."""
    u = dist.unit
    if dist.n == 0:
        return "N = 0"
    std = f" ± {dist.std:.3g}" if np.isfinite(dist.std) else ""
    return f"N = {dist.n}\nmean = {dist.mean:.3g}{std} {u}\nmedian = {dist.median:.3g} {u}"


def plot_size_histogram(
    ax,
    values: np.ndarray,
    dist: SizeDistribution,
    label: str,
    *,
    fit: bool = True,
    color: str = "tab:blue",
):
    """Number-weighted histogram of particle sizes with a statistics box.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw on (e.g. ``Figure().add_subplot()``).
    values : (N,) array_like of float
        The sizes that ``dist`` summarises.
    dist : SizeDistribution
        Statistics of ``values``; its histogram bins are reused.
    label : str
        x-axis label including the unit, e.g. ``"minimum Feret diameter (nm)"``.
    fit : bool, optional
        Overlay the fitted lognormal density scaled to counts (when a fit exists).
    color : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if dist.n > 0:
        ax.hist(values, bins=dist.hist_edges, color=color, alpha=0.75, edgecolor="white")
        widths = np.diff(dist.hist_edges)
        if fit and np.isfinite(dist.lognorm_sigma) and dist.lognorm_sigma > 0:
            x = np.linspace(dist.hist_edges[0], dist.hist_edges[-1], 300)
            scale = dist.n * float(widths.mean())  # density -> counts per bin
            ax.plot(x, dist.lognormal_pdf(x) * scale, color="black", lw=1.2,
                    label="lognormal fit")  # fmt: skip
            ax.legend(loc="upper left", frameon=False, fontsize="small")
        ax.axvline(dist.median, color="tab:red", lw=1.0, ls="--")
    ax.text(
        0.97, 0.95, summary_text(dist), transform=ax.transAxes, ha="right", va="top",
        fontsize="small", bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
    )  # fmt: skip
    ax.set_xlabel(label)
    ax.set_ylabel("number of particles")
    return ax


def plot_distributions(
    ax,
    samples: Mapping[str, np.ndarray],
    *,
    kind: str = "hist",
    label: str = "size",
    bins: int | str | np.ndarray = "auto",
):
    """Overlay the size distributions of several methods.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    samples : mapping of str to (N,) array_like
        Sizes per method name (legend entries show the name, N and the median).
    kind : {'hist', 'cdf'}
        Step histograms on common bins, or empirical cumulative distributions.
    label : str, optional
        x-axis label with unit.
    bins : int, str or array, optional
        Common histogram bins, as ``numpy.histogram_bin_edges`` over all values.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if kind not in ("hist", "cdf"):
        raise ValueError(f"kind must be 'hist' or 'cdf', got {kind!r}")
    arrays = {name: np.asarray(v, dtype=np.float64).ravel() for name, v in samples.items()}
    pooled = np.concatenate([a for a in arrays.values()] or [np.empty(0)])
    edges = np.histogram_bin_edges(pooled, bins=bins) if pooled.size else None
    for name, x in arrays.items():
        dist = size_distribution(x, n_boot=0) if x.size else None
        legend = f"{name} (N = {x.size}" + (f", median {dist.median:.3g})" if dist else ")")
        if x.size == 0:
            ax.plot([], [], label=legend)
        elif kind == "hist":
            ax.hist(x, bins=edges, histtype="step", lw=1.5, label=legend)
        else:
            xs = np.sort(x)
            ax.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", label=legend)
    ax.set_xlabel(label)
    ax.set_ylabel("number of particles" if kind == "hist" else "cumulative fraction")
    if arrays:
        ax.legend(frameon=False, fontsize="small")
    return ax
