"""Number-weighted size distribution: summary statistics, lognormal fit, bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SizeDistribution", "size_distribution", "bootstrap_ci"]

# Bound on the (resamples x n) index arrays of one bootstrap chunk.
_BOOT_CHUNK_ELEMENTS = 2_000_000

_SCALARS = (
    "n", "mean", "std", "median", "min", "max", "d10", "d50", "d90", "geo_mean", "geo_std",
    "lognorm_mu", "lognorm_sigma", "mean_ci_low", "mean_ci_high", "median_ci_low",
    "median_ci_high", "ci_level",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class SizeDistribution:
    """Number-weighted statistics of particle sizes (all lengths in :attr:`unit`).

    Attributes
    ----------
    unit : str
        Length unit of the values, ``'nm'`` or ``'px'``.
    n : int
        Number of particles.
    mean, std : float
        Arithmetic mean and sample standard deviation (ddof=1; NaN for n < 2).
    median, min, max : float
    d10, d50, d90 : float
        10th, 50th and 90th number-weighted percentiles (linear interpolation between order
        statistics, NumPy's default), so ``d50 == median``.
    geo_mean, geo_std : float
        exp(mean(ln x)) and exp(std(ln x, ddof=1)) (geo_std NaN for n < 2).
    lognorm_mu, lognorm_sigma : float
        Maximum-likelihood lognormal fit: mean and std (ddof=0) of ln x, identical to
        ``scipy.stats.lognorm.fit(x, floc=0)`` (``s = sigma``, ``scale = exp(mu)``); NaN for
        n < 2.
    mean_ci_low, mean_ci_high, median_ci_low, median_ci_high : float
        Percentile-bootstrap confidence intervals at level ``ci_level`` (NaN when n < 2 or
        no resamples were requested).
    ci_level : float
    n_boot : int
    hist_counts : (B,) ndarray of int
        Particle counts per bin.
    hist_edges : (B + 1,) ndarray of float
        Bin edges (empty arrays when n = 0).
    """

    unit: str
    n: int
    mean: float
    std: float
    median: float
    min: float
    max: float
    d10: float
    d50: float
    d90: float
    geo_mean: float
    geo_std: float
    lognorm_mu: float
    lognorm_sigma: float
    mean_ci_low: float
    mean_ci_high: float
    median_ci_low: float
    median_ci_high: float
    ci_level: float
    n_boot: int
    hist_counts: np.ndarray = field(repr=False)
    hist_edges: np.ndarray = field(repr=False)

    def to_dict(self, prefix: str = "") -> dict:
        """Flat ``{prefix + name: value}`` dict of the scalar statistics (for summary.csv)."""
        return {prefix + name: getattr(self, name) for name in _SCALARS}

    def lognormal_pdf(self, x: np.ndarray) -> np.ndarray:
        """Density of the fitted lognormal at ``x`` (NaN when there is no fit)."""
        x = np.asarray(x, dtype=np.float64)
        mu, sigma = self.lognorm_mu, self.lognorm_sigma
        if not np.isfinite(sigma) or sigma <= 0:
            return np.full(x.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(x) - mu) / sigma
            pdf = np.exp(-0.5 * z**2) / (x * sigma * np.sqrt(2.0 * np.pi))
        return np.where(x > 0, pdf, 0.0)


def size_distribution(
    values: np.ndarray,
    unit: str = "nm",
    *,
    ci: float = 0.95,
    n_boot: int = 2000,
    rng: int | np.random.Generator | None = 0,
    bins: int | str | np.ndarray = "auto",
) -> SizeDistribution:
    """Summarise particle sizes as a number-weighted distribution.

    Parameters
    ----------
    values : (N,) array_like of float
        Positive, finite sizes (e.g. minimum Feret diameters).
    unit : str, optional
        Their length unit, carried along for labels.
    ci : float, optional
        Confidence level of the bootstrap intervals, in (0, 1).
    n_boot : int, optional
        Bootstrap resamples; 0 skips the intervals (they are NaN).
    rng : int or numpy.random.Generator or None, optional
        Seed or generator of the bootstrap.
    bins : int, str or array, optional
        Histogram bins, as ``numpy.histogram_bin_edges``.

    Returns
    -------
    SizeDistribution

    Raises
    ------
    ValueError
        If values are not finite and positive, or ``ci``/``n_boot`` are out of range.

    Examples
    --------
    >>> d = size_distribution([10.0, 20.0, 30.0, 40.0], n_boot=0)
    >>> d.n, d.mean, d.median, d.d10
    (4, 25.0, 25.0, 13.0)
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot!r}")
    if x.size and not (np.all(np.isfinite(x)) and x.min() > 0):
        raise ValueError("sizes must be finite and positive")
    n = int(x.size)
    nan = float("nan")
    if n == 0:
        empty = {name: nan for name in _SCALARS}
        empty.update(n=0, ci_level=ci)
        return SizeDistribution(
            unit=unit, n_boot=n_boot, hist_counts=np.zeros(0, dtype=np.int64),
            hist_edges=np.zeros(0), **empty,
        )  # fmt: skip
    logs = np.log(x)
    d10, d50, d90 = (float(v) for v in np.percentile(x, (10, 50, 90)))
    mean_ci = median_ci = (nan, nan)
    if n >= 2 and n_boot > 0:
        mean_ci, median_ci = bootstrap_ci(x, ci=ci, n_boot=n_boot, rng=rng)
    counts, edges = np.histogram(x, bins=bins)
    return SizeDistribution(
        unit=unit,
        n=n,
        mean=float(x.mean()),
        std=float(x.std(ddof=1)) if n >= 2 else nan,
        median=float(np.median(x)),
        min=float(x.min()),
        max=float(x.max()),
        d10=d10,
        d50=d50,
        d90=d90,
        geo_mean=float(np.exp(logs.mean())),
        geo_std=float(np.exp(logs.std(ddof=1))) if n >= 2 else nan,
        lognorm_mu=float(logs.mean()) if n >= 2 else nan,
        lognorm_sigma=float(logs.std(ddof=0)) if n >= 2 else nan,
        mean_ci_low=mean_ci[0],
        mean_ci_high=mean_ci[1],
        median_ci_low=median_ci[0],
        median_ci_high=median_ci[1],
        ci_level=ci,
        n_boot=n_boot,
        hist_counts=counts,
        hist_edges=edges,
    )


def bootstrap_ci(
    x: np.ndarray,
    *,
    ci: float = 0.95,
    n_boot: int = 2000,
    rng: int | np.random.Generator | None = 0,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile-bootstrap intervals of the mean and the median.

    Resamples are drawn in chunks of ``(rows, n)`` index arrays, so memory stays bounded
    for large ``n``.

    Parameters
    ----------
    x : (N,) ndarray of float
        N >= 1 values.
    ci : float
    n_boot : int
        Number of resamples (> 0).
    rng : int or numpy.random.Generator or None

    Returns
    -------
    (mean_low, mean_high), (median_low, median_high)
    """
    gen = np.random.default_rng(rng)
    n = x.size
    rows = max(1, _BOOT_CHUNK_ELEMENTS // n)
    means, medians = [], []
    for start in range(0, n_boot, rows):
        sample = x[gen.integers(0, n, size=(min(rows, n_boot - start), n))]
        means.append(sample.mean(axis=1))
        medians.append(np.median(sample, axis=1))
    alpha = (1.0 - ci) / 2.0
    q = (alpha, 1.0 - alpha)
    mean_ci = np.quantile(np.concatenate(means), q)
    median_ci = np.quantile(np.concatenate(medians), q)
    return (float(mean_ci[0]), float(mean_ci[1])), (float(median_ci[0]), float(median_ci[1]))
