"""Writing an ``analyze`` run's results folder, all or nothing.

Everything is written into a hidden staging folder beside ``out`` (inside it when it exists) and
moved into place only when the run finished, so a failed or interrupted run leaves no partial
results.  Into an existing folder only nanosizer's own files (its manifest) are replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import MEASURES, AnalyzeConfig
from .failures import FAILURE_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from .run import AnalysisResult

__all__ = ["OUTPUT_NAMES", "ResultWriter", "planned_outputs", "write_image_outputs"]

#: Every entry an ``analyze`` run may write into its results folder.
OUTPUT_NAMES = (
    "particles.csv", "summary.csv", "labels", "overlays", "histogram.png", "run.json",
    "results.xlsx", "failures.csv", "report.html",
)


def write_image_outputs(
    root: Path, micrograph, labels: np.ndarray, particles: pd.DataFrame, *, overlays: bool
) -> None:
    """Write ``labels/<stem>.tif`` (and ``overlays/<stem>.png``) of one image under ``root``."""
    from ..io import write_label_image, write_png

    write_label_image(root / "labels" / f"{micrograph.name}.tif", labels)
    if overlays:
        from ..report.overlay import label_overlay

        excluded = particles.loc[~particles["in_statistics"].astype(bool), "label"]
        rgb = label_overlay(
            micrograph.data, labels, excluded=excluded.tolist(), mask=micrograph.analysis_mask
        )
        write_png(root / "overlays" / f"{micrograph.name}.png", rgb)


def planned_outputs(config: AnalyzeConfig, stems: Sequence[str]) -> list[str]:
    """Relative paths of the files a run of ``stems`` writes (``failures.csv`` aside)."""
    names = ["particles.csv", "summary.csv", "histogram.png", "run.json"]
    names += ["results.xlsx"] if config.excel else []
    names += ["report.html"] if config.report else []
    names += [f"labels/{stem}.tif" for stem in stems]
    names += [f"overlays/{stem}.png" for stem in stems] if config.overlays else []
    return names


class ResultWriter:
    """Collects the files of one run in a staging folder and publishes them at the end.

    Parameters
    ----------
    out : path
        Final results folder; must be absent or empty unless ``overwrite``.
    overwrite : bool
        Replace an existing non-empty folder (only after the run succeeded).
    config : AnalyzeConfig
        Run settings (decides overlays and the Excel workbook).
    stems : sequence of str, optional
        Names of the images: a file of the user's in ``out`` with the name of one of their
        results (``labels/<stem>.tif``, ...) stops the run at once, before any work.
    """

    def __init__(self, out: str | Path, *, overwrite: bool, config: AnalyzeConfig,
                 stems: Sequence[str] = ()) -> None:
        from ..io import StagedDir

        self.config = config
        self._staged = StagedDir(Path(out), overwrite=overwrite, owned=OUTPUT_NAMES)
        try:
            self._staged.check_free(planned_outputs(config, stems))
        except BaseException:
            self._staged.discard()
            raise
        self.root = self._staged.path
        (self.root / "labels").mkdir()
        if config.overlays:
            (self.root / "overlays").mkdir()

    def finish(self, result: "AnalysisResult") -> Path:
        """Write the tables, histogram, run.json (and report.html), then publish the folder."""
        from .. import __version__
        from ..io import write_json, write_table

        write_table(self.root / "particles.csv", result.particles)
        write_table(self.root / "summary.csv", result.summary)
        self._guarded(self.root / "histogram.png", self._histogram, result)
        run = {
            "nanosizer_version": __version__,
            "settings": self.config.to_dict(),
            "unit": result.unit,
            "unit_note": (
                "sizes in nanometres"
                if result.unit == "nm"
                else "no pixel size known: all sizes are in pixels"
            ),
            "images": [r.to_dict() for r in result.images],
            "failures": [f.to_dict() for f in result.failures],
        }
        if result.failures:
            write_table(self.root / "failures.csv", pd.DataFrame(
                [f.to_dict() for f in result.failures], columns=list(FAILURE_COLUMNS)))
        write_json(self.root / "run.json", run)
        if self.config.report:
            from ..report.run_report import write_run_report

            self._guarded(self.root / "report.html", lambda r: write_run_report(
                self.root, run, r.summary, r.particles), result)
        if self.config.excel:
            self._guarded(self.root / "results.xlsx", self._excel, result)
        return self._staged.commit()

    @staticmethod
    def _guarded(path: Path, write, result: "AnalysisResult") -> None:
        """``write(result)``; a full disk or a permission error names ``path`` (InputError)."""
        from ..io import output_error

        try:
            write(result)
        except OSError as exc:
            raise output_error(exc, path) from None

    def _excel(self, result: "AnalysisResult") -> None:
        with pd.ExcelWriter(self.root / "results.xlsx") as xls:
            result.summary.to_excel(xls, sheet_name="summary", index=False)
            result.particles.to_excel(xls, sheet_name="particles", index=False)

    def abort(self) -> None:
        """Remove everything written so far."""
        self._staged.discard()

    def _histogram(self, result: "AnalysisResult") -> None:
        from matplotlib.figure import Figure

        from ..report.plots import plot_size_histogram
        from ..stats import size_distribution
        from .summary import statistics_values

        values = statistics_values(result.particles, self.config.measure, result.unit)
        dist = size_distribution(values, result.unit, n_boot=0)
        fig = Figure(figsize=(6, 4), dpi=120, layout="constrained")
        ax = fig.add_subplot()
        label = f"{MEASURES[self.config.measure]} ({result.unit})"
        plot_size_histogram(ax, values, dist, label)
        fig.savefig(self.root / "histogram.png")

