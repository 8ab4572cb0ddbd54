"""One micrograph under review: its labels, particle table, corrections, filters and summary.

The napari widget (:mod:`nanosizer.gui`) is a view of an :class:`ImageReview`; everything it
does to the particles goes through here, so the same corrections work without a display.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..pipeline.config import AnalyzeConfig
from . import _edits

__all__ = ["Filters", "ImageReview"]

_PX_COLUMNS = ("centroid_x_px", "centroid_y_px", "bbox_x0_px", "bbox_y0_px", "bbox_x1_px",
               "bbox_y1_px")


@dataclass(frozen=True)
class Filters:
    """Ranges a particle must lie in to enter the statistics (None = no limit).

    Particles outside are kept (and drawn) but marked ``in_statistics = False``.

    Attributes
    ----------
    size : (low, high)
        Of the run's size measure (e.g. minimum Feret), in the table's unit.
    solidity, circularity : (low, high)
    """

    size: tuple[float | None, float | None] = (None, None)
    solidity: tuple[float | None, float | None] = (None, None)
    circularity: tuple[float | None, float | None] = (None, None)

    def to_dict(self) -> dict:
        """JSON-ready ranges."""
        return {"size": list(self.size), "solidity": list(self.solidity),
                "circularity": list(self.circularity)}

    @property
    def active(self) -> bool:
        """True when any limit is set."""
        return any(v is not None for r in (self.size, self.solidity, self.circularity) for v in r)


def _within(values: pd.Series, bounds) -> pd.Series:
    lo, hi = bounds
    keep = pd.Series(True, index=values.index)
    if lo is not None:
        keep &= values >= lo
    if hi is not None:
        keep &= values <= hi
    return keep


@dataclass
class _Step:
    """What one correction changed, to undo it: the labels' box before and the rows before."""

    what: dict
    box: tuple[slice, slice]
    before: np.ndarray
    rows: pd.DataFrame


@dataclass
class ImageReview:
    """A micrograph, its instance labels and their measurements, corrected by hand.

    Parameters
    ----------
    micrograph : Micrograph
        The image with its pixel size and analysed region.
    labels : (H, W) ndarray of int
        Instance labels (copied; 0 = background).
    config : AnalyzeConfig
        Settings of the run the labels came from (size measure, border rule, ...).
    segmentation : dict
        What produced the labels (``run.json``'s per-image ``segmentation``).

    Attributes
    ----------
    table : DataFrame
        ``analyze``'s particle table (``image``, measures, ``in_statistics``), kept up to date
        after every correction by measuring only the particles it changed.
    corrections : list of dict
        The corrections applied, in order (``{"action": "delete", "labels": [7]}`` ...).
    """

    micrograph: object
    labels: np.ndarray
    config: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    segmentation: dict = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    corrections: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.labels = np.array(self.labels, dtype=np.int32, copy=True)
        if self.labels.shape != self.micrograph.shape:
            raise ValueError(f"labels shape {self.labels.shape} differs from the image's "
                             f"{self.micrograph.shape}")
        self._undo: list[_Step] = []
        self.table = self._measure(self.labels)
        self._apply_filters()

    # construction -----------------------------------------------------------------------
    @classmethod
    def from_image(cls, path: str | Path, config: AnalyzeConfig | None = None
                   ) -> "ImageReview":
        """Read and segment ``path`` as ``analyze`` does with ``config``."""
        from ..pipeline.run import analyze_image

        config = config or AnalyzeConfig()
        mg, labels, _, info = analyze_image(Path(path), config, return_segmentation=True)
        return cls(mg, labels, config, info)

    # properties -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The image's name (file stem)."""
        return self.micrograph.name

    @property
    def unit(self) -> str:
        """``'nm'`` when the image is calibrated, else ``'px'``."""
        return "nm" if self.micrograph.pixel_size.calibrated else "px"

    @property
    def size_column(self) -> str:
        """The table column of the run's size measure."""
        from ..measure import size_column

        return size_column(self.config.measure, self.unit)

    @property
    def can_undo(self) -> bool:
        """True when a correction can be undone."""
        return bool(self._undo)

    # measuring --------------------------------------------------------------------------
    def _measure(self, labels: np.ndarray, origin: tuple[int, int] = (0, 0),
                 box: tuple[slice, slice] | None = None) -> pd.DataFrame:
        from ..measure import measure_particles

        mg = self.micrograph
        box = box or (slice(0, labels.shape[0]), slice(0, labels.shape[1]))
        table = measure_particles(labels, mg.data[box], mg.pixel_size,
                                  exclude=~mg.analysis_mask[box])
        if origin != (0, 0):
            for col in _PX_COLUMNS:
                table[col] = table[col] + (origin[0] if "_y" in col else origin[1])
        table.insert(0, "image", mg.name)
        table["in_statistics"] = True
        return table

    def _remeasure(self, ids: list[int]) -> pd.DataFrame:
        """Rows of the particles ``ids`` as they are now (measured in their box only)."""
        present = [i for i in ids if (self.labels == i).any()]
        if not present:
            return self.table.iloc[0:0]
        mask = np.isin(self.labels, present)
        box = self._box(mask)
        sub = np.where(mask[box], self.labels[box], 0)
        return self._measure(sub, (box[0].start, box[1].start), box)

    def _box(self, mask: np.ndarray) -> tuple[slice, slice]:
        """Bounding box of ``mask`` with one pixel of margin where the image allows.

        A particle at the image edge touches the box's edge there too, so it is flagged as
        touching the border as in the whole image; inside, the margin keeps it off the edge.
        """
        ys, xs = np.nonzero(mask)
        h, w = mask.shape
        return (slice(max(ys.min() - 1, 0), min(ys.max() + 2, h)),
                slice(max(xs.min() - 1, 0), min(xs.max() + 2, w)))

    def _apply_filters(self) -> None:
        t = self.table
        keep = (pd.Series(True, index=t.index) if self.config.include_border
                else ~t["touches_border"].astype(bool))
        f = self.filters
        if t.shape[0]:
            keep &= _within(t[self.size_column], f.size)
            keep &= _within(t["solidity"], f.solidity)
            keep &= _within(t["circularity"], f.circularity)
        self.table["in_statistics"] = keep.astype(bool)

    # corrections ------------------------------------------------------------------------
    def _replace_rows(self, ids: list[int], rows: pd.DataFrame) -> None:
        """The table without the rows of ``ids``, plus ``rows``, in label order, filtered."""
        kept = self.table[~self.table["label"].isin(ids)]
        self.table = (pd.concat([kept, rows], ignore_index=True)
                      .sort_values("label", kind="stable").reset_index(drop=True))
        self._apply_filters()

    def _edit(self, what: dict, region: np.ndarray, ids_touched: list[int], edit) -> list[int]:
        """Apply ``edit`` (changes labels inside ``region`` only and returns the changed ids),
        measure those again and keep what undoes it."""
        box = self._box(region)
        before = self.labels[box].copy()
        old_rows = self.table[self.table["label"].isin(ids_touched)].copy()
        changed = edit()
        self._replace_rows(changed, self._remeasure(changed))
        self._undo.append(_Step({**what, "changed": changed}, box, before, old_rows))
        self.corrections.append({**what, "labels": changed})
        return changed

    def _edit_particles(self, what: dict, ids: list[int], edit) -> list[int]:
        mask = np.isin(self.labels, ids)
        if not mask.any():
            raise ValueError(f"no particle {ids} in {self.name}")
        return self._edit(what, mask, ids, edit)

    def delete(self, label: int) -> list[int]:
        """Remove particle ``label``; returns the changed ids."""
        return self._edit_particles({"action": "delete"}, [int(label)],
                                    lambda: _edits.delete_particle(self.labels, int(label)))

    def merge(self, first: int, second: int) -> list[int]:
        """Join two particles into one (the smaller id stays); returns ``[kept, removed]``."""
        return self._edit_particles(
            {"action": "merge"}, [int(first), int(second)],
            lambda: _edits.merge_particles(self.labels, int(first), int(second)))

    def split(self, label: int, points) -> list[int]:
        """Cut ``label`` along the polyline ``points`` ((row, col) pairs); returns the ids."""
        points = [(float(r), float(c)) for r, c in points]
        return self._edit_particles({"action": "split", "line": points}, [int(label)],
                                    lambda: _edits.split_particle(self.labels, int(label), points))

    def paint(self, mask: np.ndarray) -> int:
        """Add a particle where ``mask`` covers background; returns its id."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.labels.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the labels' "
                             f"{self.labels.shape}")
        if not mask.any():
            raise ValueError("the painted area is empty")
        (new_id,) = self._edit({"action": "paint"}, mask, [],
                               lambda: _edits.paint_particle(self.labels, mask))
        return new_id

    def undo(self) -> dict:
        """Undo the last correction; returns what it was (``action``, ``changed`` ids)."""
        if not self._undo:
            raise ValueError("nothing to undo")
        step = self._undo.pop()
        self.labels[step.box] = step.before
        self._replace_rows(step.what["changed"], step.rows)
        self.corrections.pop()
        return step.what

    def set_filters(self, filters: Filters) -> None:
        """Mark particles outside ``filters`` as out of the statistics (nothing is deleted)."""
        self.filters = filters
        self._apply_filters()

    def set_pixel_size(self, nm: float | None) -> None:
        """Replace the image's pixel size (None: uncalibrated) and measure everything again."""
        from ..io import PixelSize

        size = PixelSize(None, "none") if nm is None else PixelSize(float(nm), "user (review)")
        self.micrograph = replace(self.micrograph, pixel_size=size)
        self.table = self._measure(self.labels)
        self._apply_filters()
        self._undo.clear()  # the rows kept for undo are in the old unit

    # statistics -------------------------------------------------------------------------
    def values(self) -> np.ndarray:
        """Sizes (the run's measure, table unit) of the particles in the statistics."""
        from ..pipeline.summary import statistics_values

        return statistics_values(self.table, self.config.measure, self.unit)

    def summary(self) -> dict:
        """N, mean, std, median, D10/D50/D90 (table unit) and the EU screen when in nm."""
        return summarize_values(self.values(), self.unit,
                                self.table if self.unit == "nm" else None)


def summarize_values(values: np.ndarray, unit: str, table: pd.DataFrame | None = None) -> dict:
    """The widget's summary of ``values``; with a calibrated ``table``, its EU screen too."""
    from ..stats import eu_nanomaterial_screen, size_distribution

    dist = size_distribution(values, unit, n_boot=0)
    out = {"n": dist.n, "mean": dist.mean, "std": dist.std, "median": dist.median,
           "d10": dist.d10, "d50": dist.d50, "d90": dist.d90, "unit": unit}
    if table is not None and unit == "nm":
        feret = table.loc[table["in_statistics"].astype(bool), "feret_min_nm"].to_numpy(float)
        eu = eu_nanomaterial_screen(feret)
        out.update(eu_share_below_100nm=eu.share_below, eu_ci_low=eu.ci_low,
                   eu_ci_high=eu.ci_high, eu_verdict=eu.verdict)
    return out
