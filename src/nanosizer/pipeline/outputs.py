"""Writing an ``analyze`` run's results folder, all or nothing, resumable.

Everything is written into the run's work folder (:class:`nanosizer.io.WorkDir`:
``<out>/.nanosizer.inprogress`` in an existing ``out``, else ``.<name>.inprogress`` beside it) and
moved into place only when the run finished, so a failed or interrupted run leaves no partial
results in ``out``.  Each finished image's files and record (:mod:`nanosizer.pipeline.resume`)
stay in the work folder until then, so ``resume`` continues where the run stopped.  Into an
existing folder only nanosizer's own files (its manifest) are replaced.
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

__all__ = ["OUTPUT_NAMES", "ResultWriter", "image_outputs", "planned_outputs",
           "write_image_outputs"]

#: Every entry an ``analyze`` run may write into its results folder.
OUTPUT_NAMES = (
    "particles.csv", "summary.csv", "labels", "overlays", "histogram.png", "run.json",
    "results.xlsx", "failures.csv", "report.html", "rois",
)


def _add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, also before Python 3.11 (the notes are in ``exc.__notes__``)."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]


def write_image_outputs(
    root: Path, micrograph, labels: np.ndarray, particles: pd.DataFrame, *, overlays: bool,
    ids: bool = False, roi: bool = False,
) -> None:
    """Write ``labels/<stem>.tif`` (and ``overlays/<stem>.png``, with the particle ids when
    ``ids``; ``rois/<stem>.zip`` when ``roi``) of one image under ``root``."""
    from ..io import write_label_image, write_png, write_roi_zip

    write_label_image(root / "labels" / f"{micrograph.name}.tif", labels)
    if roi:
        write_roi_zip(labels, root / "rois" / f"{micrograph.name}.zip")
    if overlays:
        from ..report.overlay import label_overlay

        excluded = particles.loc[~particles["in_statistics"].astype(bool), "label"]
        rgb = label_overlay(
            micrograph.data, labels, excluded=excluded.tolist(), mask=micrograph.analysis_mask,
            show_ids=ids, scale_bar=micrograph.scale_bar,
        )
        write_png(root / "overlays" / f"{micrograph.name}.png", rgb)


def image_outputs(config: AnalyzeConfig, stem: str) -> list[str]:
    """Relative paths of the files :func:`write_image_outputs` writes for image ``stem``."""
    return ([f"labels/{stem}.tif"] + ([f"overlays/{stem}.png"] if config.overlays else [])
            + ([f"rois/{stem}.zip"] if config.roi else []))


def planned_outputs(config: AnalyzeConfig, stems: Sequence[str]) -> list[str]:
    """Relative paths of the files a run of ``stems`` writes (``failures.csv`` aside)."""
    names = ["particles.csv", "summary.csv", "histogram.png", "run.json"]
    names += ["results.xlsx"] if config.excel else []
    names += ["report.html"] if config.report else []
    names += [f"labels/{stem}.tif" for stem in stems]
    names += [f"overlays/{stem}.png" for stem in stems] if config.overlays else []
    names += [f"rois/{stem}.zip" for stem in stems] if config.roi else []
    return names


class ResultWriter:
    """Collects the files of one run in its work folder and publishes them at the end.

    Parameters
    ----------
    out : path
        Final results folder; must be absent or empty unless ``overwrite``.
    overwrite : bool
        Replace an existing non-empty folder (only after the run succeeded); without
        ``resume``, also start over when ``out`` has an unfinished run.
    config : AnalyzeConfig
        Run settings (decides overlays and the Excel workbook).
    files : sequence of Path
        The images: a file of the user's in ``out`` with the name of one of their results
        (``labels/<stem>.tif``, ...) stops the run at once, before any work.
    resume : bool
        Continue the unfinished run into ``out`` (same images and settings, else InputError),
        or start one when there is none.

    Attributes
    ----------
    root : Path
        Where the results are assembled (the work folder's ``results/``).
    state : Path
        The work folder's ``state/``, where each finished image's record goes
        (:func:`nanosizer.pipeline.resume.save_image`).
    done : dict
        ``stem -> (ImageRecord, particle table)`` of the images the interrupted run finished.
    """

    def __init__(self, out: str | Path, *, overwrite: bool, config: AnalyzeConfig,
                 files: Sequence[Path] = (), resume: bool = False) -> None:
        from ..io import WorkDir
        from .resume import load_images, run_identity, start_or_check

        self.config = config
        self.total = len(files)
        self._work = WorkDir(Path(out), overwrite=overwrite, owned=OUTPUT_NAMES, resume=resume)
        try:
            self._work.check_free(planned_outputs(config, [p.stem for p in files]))
            start_or_check(self._work.state, run_identity(config, files), out)
            self.done = load_images(self._work.state, self._work.results, files, config)
            self._work.prune(name for stem in self.done for name in image_outputs(config, stem))
        except BaseException:
            if self._work.resumed:  # a refused resume leaves the unfinished run alone
                self._work.close()
            else:
                self._work.discard()
            raise
        self.root = self._work.results
        self.state = self._work.state
        (self.root / "labels").mkdir(exist_ok=True)
        if config.overlays:
            (self.root / "overlays").mkdir(exist_ok=True)
        if config.roi:
            (self.root / "rois").mkdir(exist_ok=True)

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
        return self._work.commit()

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

    def abort(self, exc: BaseException | None = None) -> None:
        """Stop after an error or an interrupt ``exc``.

        The work folder is kept when images are done (``exc`` then gets a note saying where
        and that ``resume`` continues), else removed.
        """
        from .resume import count_done

        done = count_done(self._work.state)
        if not done:
            self._work.discard()
            return
        self._work.close()
        if exc is not None:
            _add_note(exc, f"{done} of {self.total} images are done and kept in "
                          f"{self._work.root}: run the same command with --resume to continue")

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

