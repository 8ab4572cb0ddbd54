"""Screening against the EU definition of a nanomaterial (Recommendation 2022/C 229/01).

A material is a nanomaterial when 50 % or more of its particles (number-based) have a minimum
external dimension -- measured here as the minimum Feret diameter -- in 1-100 nm.  This screen
estimates that share with an exact (Clopper-Pearson) binomial confidence interval and calls a
verdict only when the interval lies on one side of 50 %.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["EUScreen", "eu_nanomaterial_screen", "clopper_pearson"]

VERDICTS = ("nanomaterial", "not nanomaterial", "borderline", "undetermined")


@dataclass(frozen=True)
class EUScreen:
    """Result of :func:`eu_nanomaterial_screen`.

    Attributes
    ----------
    n : int
        Particles screened.
    n_below : int
        Particles with minimum Feret diameter below the threshold.
    share_below : float
        ``n_below / n`` (NaN when undetermined).
    ci_low, ci_high : float
        Clopper-Pearson interval of the share at level ``ci``.
    verdict : str
        ``'nanomaterial'`` (interval entirely >= 50 %), ``'not nanomaterial'`` (entirely
        < 50 %), ``'borderline'`` (interval contains 50 %) or ``'undetermined'`` (no particles
        or sizes not in nanometres).
    threshold_nm, ci : float
    """

    n: int
    n_below: int
    share_below: float
    ci_low: float
    ci_high: float
    verdict: str
    threshold_nm: float
    ci: float

    def to_dict(self) -> dict:
        """Plain dict of the fields."""
        return asdict(self)


def clopper_pearson(k: int, n: int, ci: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of a proportion ``k / n``.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 10)
    >>> lo, round(hi, 4)
    (0.0, 0.3085)
    """
    # the beta distribution's quantiles (scipy.stats.beta.ppf) without importing scipy.stats
    from scipy.special import betaincinv

    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    alpha = 1.0 - ci
    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return low, high


def eu_nanomaterial_screen(
    feret_min_nm: np.ndarray,
    threshold_nm: float = 100.0,
    ci: float = 0.95,
    *,
    unit: str = "nm",
) -> EUScreen:
    """Share of particles with minimum Feret diameter below ``threshold_nm``, with a verdict.

    Parameters
    ----------
    feret_min_nm : (N,) array_like of float
        Minimum Feret diameters in nanometres.
    threshold_nm : float, optional
        Size limit (100 nm in the EU definition); a particle counts when strictly below it.
    ci : float, optional
        Confidence level of the Clopper-Pearson interval.
    unit : str, optional
        Unit of the values; anything but ``'nm'`` (an uncalibrated image) gives
        ``'undetermined'``.

    Returns
    -------
    EUScreen

    Examples
    --------
    >>> eu_nanomaterial_screen([20.0] * 30 + [150.0] * 5).verdict
    'nanomaterial'
    >>> eu_nanomaterial_screen([20.0] * 10 + [150.0] * 10).verdict
    'borderline'
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    x = np.asarray(feret_min_nm, dtype=np.float64).ravel()
    n = int(x.size)
    if n == 0 or unit != "nm":
        nan = float("nan")
        return EUScreen(n, 0, nan, nan, nan, "undetermined", float(threshold_nm), ci)
    k = int(np.count_nonzero(x < threshold_nm))
    low, high = clopper_pearson(k, n, ci)
    if low >= 0.5:
        verdict = "nanomaterial"
    elif high < 0.5:
        verdict = "not nanomaterial"
    else:
        verdict = "borderline"
    return EUScreen(n, k, k / n, low, high, verdict, float(threshold_nm), ci)
