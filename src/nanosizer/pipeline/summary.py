"""Per-image and pooled summary rows of an ``analyze`` run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import AnalyzeConfig

__all__ = ["detection_limit", "summarize", "statistics_values"]


def statistics_values(particles: pd.DataFrame, measure: str, unit: str) -> np.ndarray:
    """Sizes of the particles that enter the statistics (``in_statistics`` rows).

    Parameters
    ----------
    particles : DataFrame
        Particle table with ``in_statistics`` and the measure's column.
    measure : {'feret_min', 'feret_max', 'ecd'}
    unit : {'nm', 'px'}

    Returns
    -------
    (N,) ndarray of float
    """
    from ..measure import size_column

    if particles.empty:
        return np.empty(0)
    column = size_column(measure, unit)
    return particles.loc[particles["in_statistics"].astype(bool), column].to_numpy(float)


def _row(name: str, particles: pd.DataFrame, config: AnalyzeConfig, unit: str) -> dict:
    from ..stats import eu_nanomaterial_screen, size_distribution

    values = statistics_values(particles, config.measure, unit)
    dist = size_distribution(values, unit, ci=config.ci, n_boot=config.n_boot, rng=config.seed)
    row: dict = {
        "image": name,
        "method": config.method if config.model is None else f"model:{config.model}",
        "measure": config.measure,
        "unit": unit,
        "n_detected": int(particles.shape[0]),
        "n_excluded_border": int((~particles["in_statistics"].astype(bool)).sum())
        if not particles.empty
        else 0,
    }
    row.update(dist.to_dict())
    if unit == "nm":
        feret_min = statistics_values(particles, "feret_min", unit)
        eu = eu_nanomaterial_screen(feret_min, ci=config.ci)
        row.update(
            eu_share_below_100nm=eu.share_below,
            eu_ci_low=eu.ci_low,
            eu_ci_high=eu.ci_high,
            eu_verdict=eu.verdict,
        )
    else:
        row.update(
            eu_share_below_100nm=np.nan,
            eu_ci_low=np.nan,
            eu_ci_high=np.nan,
            eu_verdict="undetermined (no pixel size)",
        )
    return row


def summarize(
    particles: pd.DataFrame, records: Sequence, config: AnalyzeConfig, unit: str
) -> pd.DataFrame:
    """One summary row per image plus a ``pooled`` row over all images.

    Parameters
    ----------
    particles : DataFrame
        All particles (``image`` column identifies the image).
    records : sequence of ImageRecord
        The analysed images, in order.
    config : AnalyzeConfig
    unit : {'nm', 'px'}

    Returns
    -------
    DataFrame
    """
    rows, limits = [], []
    for record in records:
        own = particles[particles["image"] == record.name] if not particles.empty else particles
        row = _row(record.name, own, config, unit)
        limits.append(detection_limit(record, unit))
        row[f"detection_limit_{unit}"] = limits[-1]
        row["pixel_size_nm"] = record.pixel_size["value"]
        row["pixel_size_source"] = record.pixel_size["source"]
        rows.append(row)
    pooled = _row("pooled", particles, config, unit)
    known = [v for v in limits if np.isfinite(v)]
    pooled[f"detection_limit_{unit}"] = max(known) if known else np.nan
    pooled["pixel_size_nm"] = np.nan
    pooled["pixel_size_source"] = ""
    rows.append(pooled)
    return pd.DataFrame(rows)


def detection_limit(record, unit: str) -> float:
    """An image's detection limit (minimum Feret below which particles are not reliably found).

    Parameters
    ----------
    record : ImageRecord
        With ``segmentation["detection_limit_px"]`` (NaN when absent).
    unit : {'nm', 'px'}

    Returns
    -------
    float
        In ``unit``; the pooled row of :func:`summarize` takes the largest over the images.
    """
    limit_px = float((record.segmentation or {}).get("detection_limit_px", np.nan))
    if unit == "nm":
        return limit_px * float(record.pixel_size["value"])
    return limit_px
