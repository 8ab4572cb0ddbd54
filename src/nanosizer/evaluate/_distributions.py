"""Agreement of two particle size distributions."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["SUMMARY_STATS", "compare_distributions", "summarize_sizes"]

#: Summary figures compared by :func:`compare_distributions`, in output order.
SUMMARY_STATS: tuple[str, ...] = ("n", "mean", "std", "median", "d10", "d90")


def summarize_sizes(values: np.ndarray) -> dict:
    """Number-weighted summary of a set of sizes.

    Parameters
    ----------
    values : (N,) array_like of float
        Particle sizes; NaN values are dropped.

    Returns
    -------
    dict
        ``n, mean, std`` (sample, ddof=1), ``median, d10, d90`` (10th/90th percentiles,
        linear interpolation), ``min, max``; NaN where undefined.

    Examples
    --------
    >>> summarize_sizes([1, 2, 3, 4])["median"]
    2.5
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    nan = float("nan")
    if v.size == 0:
        return {"n": 0, "mean": nan, "std": nan, "median": nan, "d10": nan, "d90": nan,
                "min": nan, "max": nan}
    d10, median, d90 = np.percentile(v, [10, 50, 90])
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else nan,
        "median": float(median), "d10": float(d10), "d90": float(d90),
        "min": float(v.min()), "max": float(v.max()),
    }


def _rel(pred: float, true: float) -> float:
    if not np.isfinite(true) or not np.isfinite(pred) or true == 0:
        return float("nan")
    return float((pred - true) / true)


def compare_distributions(true_sizes: np.ndarray, pred_sizes: np.ndarray) -> dict:
    """How well a predicted size distribution reproduces the true one.

    Parameters
    ----------
    true_sizes, pred_sizes : (N,) and (M,) array_like of float
        Sizes (e.g. min Feret) of the true and the predicted particles, same unit.

    Returns
    -------
    dict
        For each of ``n, mean, std, median, d10, d90``: ``<stat>_true``, ``<stat>_pred`` and
        ``<stat>_rel_err = (pred - true) / true``; ``ks`` (two-sample Kolmogorov-Smirnov
        statistic), ``ks_pvalue`` and ``wasserstein`` (earth mover's distance, in the unit of
        the sizes). NaN where a side is empty.

    Examples
    --------
    >>> c = compare_distributions([10, 20, 30], [11, 22, 33])
    >>> round(c["mean_rel_err"], 3), round(c["wasserstein"], 3)
    (0.1, 2.0)
    """
    t = np.asarray(true_sizes, dtype=float).ravel()
    p = np.asarray(pred_sizes, dtype=float).ravel()
    t, p = t[np.isfinite(t)], p[np.isfinite(p)]
    st, sp = summarize_sizes(t), summarize_sizes(p)
    out: dict = {}
    for key in SUMMARY_STATS:
        out[f"{key}_true"], out[f"{key}_pred"] = st[key], sp[key]
        out[f"{key}_rel_err"] = _rel(sp[key], st[key])
    if t.size and p.size:
        ks = stats.ks_2samp(t, p)
        out["ks"], out["ks_pvalue"] = float(ks.statistic), float(ks.pvalue)
        out["wasserstein"] = float(stats.wasserstein_distance(t, p))
    else:
        out["ks"] = out["ks_pvalue"] = out["wasserstein"] = float("nan")
    return out
