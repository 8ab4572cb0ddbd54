"""Size-distribution plots drawn on a given matplotlib Axes.

Only the object-oriented API is used (the caller creates a ``matplotlib.figure.Figure``), so
the functions keep no global pyplot state and work without a display.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..stats import SizeDistribution, size_distribution

__all__ = [
    "kde_counts", "plot_cumulative", "plot_distributions", "plot_size_histogram",
    "summary_text",
]


_YLABELS = {"hist": "number of particles", "cdf": "cumulative fraction",
            "kde": "particles per unit size"}


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
    kde: bool = False,
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
    kde : bool, optional
        Overlay a Gaussian kernel density estimate scaled to counts (when one exists, see
        :func:`kde_counts`).
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
        x = np.linspace(dist.hist_edges[0], dist.hist_edges[-1], 300)
        density = kde_counts(values, x, float(widths.mean())) if kde else None
        if density is not None:
            ax.plot(x, density, color="tab:orange", lw=1.4, label="kernel density")
        if fit and np.isfinite(dist.lognorm_sigma) and dist.lognorm_sigma > 0:
            scale = dist.n * float(widths.mean())  # density -> counts per bin
            ax.plot(x, dist.lognormal_pdf(x) * scale, color="black", lw=1.2,
                    label="lognormal fit")  # fmt: skip
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="center right" if kde else "upper left", frameon=False,
                      fontsize="small")
        ax.axvline(dist.median, color="tab:red", lw=1.0, ls="--")
    ax.text(
        0.97, 0.95, summary_text(dist), transform=ax.transAxes, ha="right", va="top",
        fontsize="small", bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
    )  # fmt: skip
    ax.set_xlabel(label)
    ax.set_ylabel("number of particles")
    return ax


def kde_counts(values: np.ndarray, x: np.ndarray, bin_width: float) -> np.ndarray | None:
    """Gaussian kernel density of ``values`` at ``x``, scaled to particles per bin.

    Parameters
    ----------
    values : (N,) array_like of float
        Sizes.
    x : (M,) array_like of float
        Where to evaluate the density.
    bin_width : float
        Histogram bin width: the density times ``N * bin_width`` is on the scale of the bars.

    Returns
    -------
    (M,) ndarray of float or None
        None when there is no density (fewer than 2 distinct values).

    Examples
    --------
    >>> kde_counts([5.0, 5.0], [5.0], 1.0) is None
    True
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2 or np.ptp(v) == 0:
        return None
    return _gaussian_kde(v, np.asarray(x, dtype=np.float64)) * v.size * bin_width


def _gaussian_kde(v: np.ndarray, x: np.ndarray, block: int = 64) -> np.ndarray:
    """Gaussian kernel density of ``v`` at ``x`` with Scott's bandwidth, as
    ``scipy.stats.gaussian_kde(v)(x)`` computes it (without importing scipy.stats)."""
    var = np.var(v, ddof=1) * v.size ** (-2 / 5)
    x = np.atleast_1d(x)
    out = np.empty(x.shape, dtype=np.float64)
    for start in range(0, x.size, block):  # (block, n) distances at a time
        d = x[start : start + block, None] - v[None, :]
        out[start : start + block] = np.exp(-0.5 * d * d / var).sum(axis=1)
    return out / (v.size * np.sqrt(2 * np.pi * var))


def plot_cumulative(ax, values: np.ndarray, dist: SizeDistribution, label: str, *,
                    fit: bool = True):
    """Cumulative number distribution (in %) with D10, D50 and D90 marked.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : (N,) array_like of float
        The sizes that ``dist`` summarises.
    dist : SizeDistribution
        Statistics of ``values`` (its D10/D50/D90 are marked).
    label : str
        x-axis label including the unit.
    fit : bool, optional
        Overlay the fitted lognormal's cumulative distribution (when a fit exists).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy.special import ndtr

    xs = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if xs.size:
        ax.step(xs, 100 * np.arange(1, xs.size + 1) / xs.size, where="post", color="tab:blue",
                lw=1.5, label="measured")
        if fit and np.isfinite(dist.lognorm_sigma) and dist.lognorm_sigma > 0:
            grid = np.linspace(xs[0], xs[-1], 300)
            cdf = ndtr((np.log(grid) - dist.lognorm_mu) / dist.lognorm_sigma)
            ax.plot(grid, 100 * cdf, color="black", lw=1.0, ls=":", label="lognormal fit")
        for name, q, value in (("D10", 10, dist.d10), ("D50", 50, dist.d50),
                               ("D90", 90, dist.d90)):
            ax.axhline(q, color="0.75", lw=0.8, zorder=0)
            ax.axvline(value, color="tab:red", lw=1.0, ls="--")
            ax.annotate(f"{name} = {value:.3g} {dist.unit}", (value, q), xytext=(5, -13),
                        textcoords="offset points", fontsize="small", color="tab:red",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.85})
        ax.legend(loc="lower right", frameon=False, fontsize="small")
    ax.set_ylim(0, 100)
    ax.set_xlabel(label)
    ax.set_ylabel("cumulative number (%)")
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
    kind : {'hist', 'cdf', 'kde'}
        Step histograms on common bins, empirical cumulative distributions, or Gaussian
        kernel densities (number of particles per unit size; omitted for methods with fewer
        than 2 distinct sizes).
    label : str, optional
        x-axis label with unit.
    bins : int, str or array, optional
        Common histogram bins, as ``numpy.histogram_bin_edges`` over all values.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if kind not in ("hist", "cdf", "kde"):
        raise ValueError(f"kind must be 'hist', 'cdf' or 'kde', got {kind!r}")
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
        elif kind == "kde":
            pad = 0.05 * (edges[-1] - edges[0])
            grid = np.linspace(max(edges[0] - pad, 0.0), edges[-1] + pad, 300)
            density = kde_counts(x, grid, 1.0)
            ax.plot(grid, density if density is not None else np.full(grid.shape, np.nan),
                    lw=1.5, label=legend)
        else:
            xs = np.sort(x)
            ax.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", label=legend)
    ax.set_xlabel(label)
    ax.set_ylabel(_YLABELS[kind])
    if arrays:
        ax.legend(frameon=False, fontsize="small")
    return ax
