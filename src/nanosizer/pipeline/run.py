"""``analyze``: micrograph files -> labels, particle table and size distribution."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .checks import check_calibration, check_model, check_unique_stems, common_unit
from .config import AnalyzeConfig
from .failures import ImageFailure, failure_of

__all__ = ["AnalysisResult", "ImageRecord", "analyze", "analyze_image"]


@dataclass(frozen=True)
class ImageRecord:
    """What ``analyze`` learnt about one image (written to run.json)."""

    name: str
    path: str
    shape: tuple[int, int]
    pixel_size: dict
    infobar_top: int | None
    n_particles: int
    metadata: dict = field(default_factory=dict)
    segmentation: dict = field(default_factory=dict)
    review: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict (``review`` only when the labels were corrected by hand)."""
        return {
            "name": self.name,
            "path": self.path,
            "shape": list(self.shape),
            "pixel_size": self.pixel_size,
            "infobar_rows": (
                None if self.infobar_top is None else [self.infobar_top, self.shape[0] - 1]
            ),
            "n_particles": self.n_particles,
            "reader": self.metadata,
            "segmentation": self.segmentation,
            **({"review": self.review} if self.review else {}),
        }


@dataclass
class AnalysisResult:
    """Outcome of :func:`analyze`.

    Attributes
    ----------
    particles : DataFrame
        One row per particle of every image (``image``, ``label``, measures,
        ``in_statistics``).
    summary : DataFrame
        One row per image and a last row ``image == "pooled"``.
    images : list of ImageRecord
        Per-image facts (calibration source, info bar, particle count).
    unit : str
        ``"nm"`` for calibrated results, ``"px"`` otherwise.
    out : Path or None
        Results folder, when one was written.
    failures : list of ImageFailure
        Images that could not be read or analysed and were left out (``failures.csv``).
    resumed : int
        Images whose results were taken from the interrupted run (``resume``), not analysed
        again.
    """

    particles: pd.DataFrame
    summary: pd.DataFrame
    images: list[ImageRecord]
    unit: str
    config: AnalyzeConfig
    out: Path | None = None
    failures: list[ImageFailure] = field(default_factory=list)
    resumed: int = 0


def analyze_image(path: Path, config: AnalyzeConfig, *, return_segmentation: bool = False):
    """Read, segment and measure one micrograph.

    Parameters
    ----------
    path : Path
        Image file.
    config : AnalyzeConfig
        Run settings.
    return_segmentation : bool
        Also return what the segmentation chose (zoom, settings, detection limit).

    Returns
    -------
    micrograph : Micrograph
    labels : (H, W) ndarray of int32
        Instance labels with the image's full shape (0 in the info bar).
    particles : DataFrame
        :func:`nanosizer.measure_particles` table with ``image`` and ``in_statistics``
        columns added.
    segmentation : dict
        Only with ``return_segmentation``: :meth:`nanosizer.segment.result.Segmentation.to_dict`
        (the zoom actually used and the applied thresholds), the detection limit raised to
        ``config.min_area_px``'s equivalent diameter, and the method, model, resolved model
        folder, SHA-256 of its weights and where the zoom came from
        (:func:`nanosizer.pipeline.provenance.model_record`).
    """
    from ..io import read_micrograph
    from ..measure import measure_particles
    from ..segment import relabel_min_area, segment_details
    from ..segment.limits import area_to_diameter
    from .provenance import model_record

    mg = read_micrograph(path, pixel_size=config.pixel_size, infobar=config.infobar,
                         max_pixels=config.max_pixels, scale_bar=config.scale_bar)
    seg = segment_details(mg, config.method, model=config.model, zoom=config.zoom,
                          decoder=config.decoder)
    labels = relabel_min_area(seg.labels, config.min_area_px)
    info = {**model_record(config.method, config.model, config.zoom), **seg.to_dict()}
    info["detection_limit_px"] = round(max(seg.detection_limit_px,
                                           area_to_diameter(config.min_area_px)), 3)
    table = measure_particles(labels, mg.data, mg.pixel_size, exclude=~mg.analysis_mask)
    table.insert(0, "image", mg.name)
    table["in_statistics"] = True if config.include_border else ~table["touches_border"]
    if return_segmentation:
        return mg, labels, table, info
    return mg, labels, table


@dataclass(frozen=True)
class _Job:
    path: Path
    config: AnalyzeConfig
    staging: Path | None
    state: Path | None = None


def _keep(job: _Job, mg, labels, table: pd.DataFrame, record: ImageRecord) -> None:
    """Write an image's label image and overlay, then its record: from then on it is done."""
    from .outputs import write_image_outputs
    from .resume import save_image

    write_image_outputs(job.staging, mg, labels, table, overlays=job.config.overlays,
                        ids=job.config.overlay_ids, roi=job.config.roi)
    if job.state is not None:
        save_image(job.state, job.path, record, table)


def _run_job(job: _Job, writer_pool=None) -> tuple[ImageRecord | ImageFailure, Any, Any]:
    """Per-image work of :func:`analyze` (module level, so worker processes can run it).

    With ``writer_pool`` (a thread pool, serial runs only) the image's label and overlay files
    and its record are written in the background while the next image is analysed; the
    returned future (else None) must be waited for.  An image that cannot be read or analysed
    gives ``(ImageFailure, None, None)``; errors writing the results (a full disk) end the run.
    """
    try:
        mg, labels, table, info = analyze_image(job.path, job.config, return_segmentation=True)
    except Exception as exc:  # noqa: BLE001 - one bad image must not end the batch
        return failure_of(job.path, exc), None, None
    record = ImageRecord(
        mg.name, str(job.path), mg.shape, mg.pixel_size.to_dict(), mg.infobar_top,
        int(table.shape[0]), dict(mg.metadata), info,
    )
    pending = None
    if job.staging is not None:
        args = (job, mg, labels, table, record)
        if writer_pool is None:
            _keep(*args)
        else:
            pending = writer_pool.submit(_keep, *args)
    return record, table, pending


def analyze(
    paths: str | Path | Iterable[str | Path],
    out: str | Path | None = None,
    config: AnalyzeConfig | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = False,
    on_image: Callable[[str, int], None] | None = None,
    on_failure: Callable[[ImageFailure], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> AnalysisResult:
    """Measure the particle size distribution of one or more micrographs.

    Parameters
    ----------
    paths : path, glob or iterable of them
        Image files, folders (their images) or glob patterns.
    out : path, optional
        Results folder (``particles.csv``, ``summary.csv``, ``labels/``, ``overlays/``,
        ``histogram.png``, ``report.html`` unless ``config.report`` is False, ``run.json``, and
        ``failures.csv`` when images were left out).  It must be empty or absent unless
        ``overwrite``.  Results appear only when the run finished (images that failed are left
        out).  Until then they are assembled in the work folder ``<out>/.nanosizer.inprogress``
        (``out`` exists) or ``.<name>.inprogress`` beside ``out``, where each image's results
        are kept as soon as it is done; the work folder is removed when the run finishes, and
        also when it stops before any image was done.
    config : AnalyzeConfig, optional
        Settings; defaults to the shipped UNet and minimum Feret diameter.
    overwrite : bool
        Replace the contents of a non-empty ``out``.  Without ``resume`` it also discards an
        unfinished run's work folder and starts over.
    resume : bool
        Continue the unfinished run into ``out`` (interrupted by Ctrl-C, SIGTERM, SIGKILL, a
        power loss or an error): its finished images are not analysed again, the others are
        (also those that had failed), and the results equal those of an uninterrupted run.
        The images and settings must be those of the interrupted run (InputError naming the
        difference otherwise).  Without an unfinished run, a new one starts.
    progress : bool
        Show a progress bar on stderr.
    on_image : callable, optional
        Called as ``on_image(name, n_particles)`` after each image analysed by this call.
    on_failure : callable, optional
        Called as ``on_failure(failure)`` with the :class:`ImageFailure` of each image that
        could not be read or analysed.  Such images are left out and listed in
        ``result.failures`` (and ``failures.csv``); the others are analysed as usual.
    workers : int
        Images processed in parallel by local worker processes (1: in this process).
    scheduler : str, optional
        Dask scheduler address, or ``"dask"`` for a local Dask cluster (see
        :func:`nanosizer.pipeline.parallel.map_images`); for thousands of images.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InputError
        When a path is missing, the results folder is occupied or cannot be written, it has
        an unfinished run and neither ``resume`` nor ``overwrite`` is given, ``resume`` finds
        other images or settings, or calibrated and uncalibrated images are mixed.  Images
        that cannot be read do not raise: they are in ``result.failures``.  Whatever stops a
        run that has finished images (an error, KeyboardInterrupt) keeps its work folder and
        carries a note (``exc.__notes__``) saying where it is and that ``resume`` continues.
    """
    from ..io import expand_paths
    from .outputs import ResultWriter
    from .summary import summarize

    config = config or AnalyzeConfig()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths([str(p) for p in paths])
    check_unique_stems(files)
    check_model(config)
    config = check_calibration(files, config)
    writer = (ResultWriter(out, overwrite=overwrite, config=config, files=files, resume=resume)
              if out is not None else None)
    done = writer.done if writer is not None else {}
    root, state = (writer.root, writer.state) if writer is not None else (None, None)
    todo = [_Job(p, config, root, state) for p in files if p.stem not in done]
    try:
        fresh, failures = _run_jobs(todo, len(files), progress=progress, on_image=on_image,
                                    on_failure=on_failure, workers=workers,
                                    scheduler=scheduler)
        finished = [done.get(p.stem) or fresh.get(p.stem) for p in files]
        records = [f[0] for f in finished if f is not None]
        tables = [f[1] for f in finished if f is not None]
        unit = common_unit(records)
        particles = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        summary = summarize(particles, records, config, unit)
        result = AnalysisResult(particles, summary, records, unit, config, failures=failures,
                                resumed=len(done))
        if writer is not None:
            result.out = writer.finish(result)
    except BaseException as exc:
        if writer is not None:
            writer.abort(exc)
        raise
    return result


def _run_jobs(jobs: Sequence[_Job], total: int, *, progress: bool, on_image, on_failure,
              workers: int, scheduler: str | None) -> tuple[dict, list[ImageFailure]]:
    """Run ``jobs`` (of ``total`` images); ``({stem: (record, table)}, failures)`` in order.

    Whatever ends it early (an error writing, an interrupt) returns only once the images in
    flight are written or abandoned, so what is recorded as done is complete.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .parallel import map_images

    fresh: dict[str, tuple] = {}
    failures: list[ImageFailure] = []
    serial = workers <= 1 and scheduler is None and bool(jobs) and jobs[0].staging is not None
    pool = ThreadPoolExecutor(max_workers=1) if serial else None
    func = functools.partial(_run_job, writer_pool=pool) if serial else _run_job
    results = map_images(func, jobs, workers=workers, scheduler=scheduler)
    try:
        shown = results
        if progress:
            from tqdm.auto import tqdm

            shown = tqdm(results, total=total, initial=total - len(jobs), desc="analyze",
                         unit="image")
        pending = None
        for record, table, written in shown:
            if isinstance(record, ImageFailure):
                failures.append(record)
                if on_failure is not None:
                    on_failure(record)
                continue
            if pending is not None:
                pending.result()  # at most one image's files in flight; raises its error
            pending = written
            fresh[record.name] = (record, table)
            if on_image is not None:
                on_image(record.name, record.n_particles)
        if pending is not None:
            pending.result()
    except BaseException:
        if pool is not None:
            # the one image whose files are queued is analysed already: write it, keep it
            pool.shutdown(wait=True)
        results.close()  # local workers: cancel the images not handed to a worker yet
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return fresh, failures
