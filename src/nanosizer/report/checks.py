"""What a reader of an ``analyze`` run's results should be warned about.

The checks read only what the run writes (the ``run.json`` content, the summary and particle
tables), so they give the same answer for a run in memory and for a results folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "FEW_PARTICLES", "NEAR_LIMIT_FACTOR", "NEAR_LIMIT_SHARE", "RunWarning",
    "detection_limit_warning", "run_warnings",
]  # fmt: skip

#: An image (or a pooled run) with fewer particles in the statistics is flagged: below this
#: the D10/D90 and the EU share have wide intervals.
FEW_PARTICLES = 50
#: A particle whose minimum Feret diameter is below this multiple of the detection limit is
#: "near the detection limit".
NEAR_LIMIT_FACTOR = 1.2
#: An image is flagged when at least this share of its particles is near the detection limit.
NEAR_LIMIT_SHARE = 0.05


@dataclass(frozen=True)
class RunWarning:
    """One warning about a run's results.

    Attributes
    ----------
    kind : str
        ``'uncalibrated'``, ``'calibration'`` (metadata and scale bar disagree),
        ``'few particles'``, ``'near detection limit'``, ``'detection limit'`` (above the
        EU screen's 100 nm) or ``'left out'`` (an image that could not be analysed).
    image : str or None
        The image it concerns (None: the whole run).
    message : str
        One sentence with what to do about it.
    """

    kind: str
    image: str | None
    message: str


def detection_limit_warning(summary: pd.DataFrame, unit: str) -> str | None:
    """The warning when the EU screen's 100 nm lies below the pooled detection limit.

    Parameters
    ----------
    summary : DataFrame
        ``summary.csv`` of the run (its last row is the pooled one).
    unit : {'nm', 'px'}

    Returns
    -------
    str or None
    """
    if unit != "nm" or summary.empty:
        return None
    limit = float(summary.iloc[-1].get("detection_limit_nm", float("nan")))
    if not limit > 100.0:
        return None
    return (f"particles below {limit:.1f} nm are not reliably detected, so the EU screen's "
            f"share below 100 nm is a lower bound; analyse at a higher magnification "
            f"(or --zoom > 1) to measure it")


def _few(name: str | None, row: pd.Series, unit: str) -> RunWarning | None:
    n = int(row["n"])
    if n >= FEW_PARTICLES:
        return None
    if n == 0:
        text = ("no particles in the statistics; check the overlay (a model that finds nothing "
                "may need --zoom or another --model)")
    else:
        ci = ""
        if np.isfinite(row.get("median_ci_low", np.nan)):
            ci = (f" (median {row['median']:.3g} {unit}, "
                  f"{100 * row['ci_level']:.0f} % CI {row['median_ci_low']:.3g}-"
                  f"{row['median_ci_high']:.3g} {unit})")
        text = (f"only {n} particles in the statistics{ci}, fewer than {FEW_PARTICLES}: "
                "D10/D90 and the EU share are uncertain; analyse more images")
    return RunWarning("few particles", name, text)


def _near_limit(name: str, own: pd.DataFrame, limit: float, unit: str) -> RunWarning | None:
    column = f"feret_min_{unit}"
    if not np.isfinite(limit) or own.empty or column not in own:
        return None
    sizes = own.loc[own["in_statistics"].astype(bool), column].to_numpy(float)
    near = int(np.count_nonzero(sizes < NEAR_LIMIT_FACTOR * limit))
    if not sizes.size or near / sizes.size < NEAR_LIMIT_SHARE:
        return None
    return RunWarning("near detection limit", name, (
        f"{near} of {sizes.size} particles ({near / sizes.size:.0%}) have a minimum Feret "
        f"diameter within {NEAR_LIMIT_FACTOR - 1:.0%} of the detection limit "
        f"({limit:.3g} {unit}): smaller particles may have been missed, so D10 and the share "
        "below 100 nm may be biased; analyse at a higher magnification (or --zoom > 1)"))


def run_warnings(
    run: Mapping, summary: pd.DataFrame, particles: pd.DataFrame
) -> list[RunWarning]:
    """Every warning about a run, in the order images, whole run, images left out.

    Parameters
    ----------
    run : mapping
        The run's ``run.json`` content (``unit``, ``images``, ``failures``).
    summary : DataFrame
        ``summary.csv``: one row per image, the pooled row last.
    particles : DataFrame
        ``particles.csv`` (``image``, ``in_statistics``, ``feret_min_<unit>``).

    Returns
    -------
    list of RunWarning
    """
    unit = str(run.get("unit", "px"))
    rows = {str(r["image"]): r for _, r in summary.iloc[:-1].iterrows()} if len(summary) else {}
    found: list[RunWarning] = []
    for image in run.get("images", []):
        name = str(image["name"])
        if image["pixel_size"].get("unit") != "nm":
            found.append(RunWarning("uncalibrated", name, (
                "no pixel size known: sizes are in pixels and the EU screen is undetermined; "
                'pass --pixel-size (e.g. "7.34 nm") or --scale-bar auto')))
        note = (image.get("reader") or {}).get("calibration_warning")
        if note:
            found.append(RunWarning("calibration", name, str(note)))
        row = rows.get(name)
        if row is None:
            continue
        few = _few(name, row, unit)
        if few is not None:
            found.append(few)
        own = particles[particles["image"] == name] if not particles.empty else particles
        near = _near_limit(name, own, float(row.get(f"detection_limit_{unit}", np.nan)), unit)
        if near is not None:
            found.append(near)
    if len(rows) > 1 and len(summary):
        few = _few(None, summary.iloc[-1], unit)
        if few is not None:
            found.append(RunWarning(few.kind, None, "pooled: " + few.message))
    limit = detection_limit_warning(summary, unit)
    if limit is not None:
        found.append(RunWarning("detection limit", None, limit))
    for failure in run.get("failures", []):
        found.append(RunWarning("left out", str(failure.get("file", "")),
                                f"{failure.get('kind', '')}: {failure.get('reason', '')}"))
    return found
