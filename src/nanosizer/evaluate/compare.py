"""Comparing the size distributions that several methods give for the same images.

A method is named by a spec string:

``classical``, ``unet``, ``multiresunet``
    Segment the images with that method (CNN methods use the shipped model).
``model:DIR`` (or a folder holding ``config.json``)
    Segment with a trained model folder.
``labels:PATH``
    Label images already made: an ``analyze`` results folder, ground truth, ImageJ ROI zips
    (``<stem>.zip``), binary masks or a COCO file.
``imagej-roi:PATH``
    Outlines drawn in ImageJ / Fiji: a folder of ROI Manager zips (``<stem>.zip``, one per
    image) or one zip; rasterised as ImageJ does and measured like any label image (needs the
    images for their size).
``imagej:PATH``
    Manual measurements: an ImageJ Results CSV (or a folder of them); sizes are read as they
    are (no border rule).

Any spec may be prefixed with ``NAME=`` to set the name shown in tables and legends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._distributions import compare_distributions, summarize_sizes
from ._evaluation import EvaluateConfig, particle_sizes
from ._folders import _load, load_label_sources
from ._sources import ImageFacts, folder_facts
from ._truth import find_label_files

__all__ = ["MethodSpec", "compare_methods", "comparison_table", "parse_method", "write_comparison"]

_SEGMENTERS = ("classical", "unet", "multiresunet")


@dataclass(frozen=True)
class MethodSpec:
    """One method of a comparison: ``kind`` is 'segment', 'model', 'labels' or 'imagej'."""

    name: str
    kind: str
    target: str


def parse_method(text: str) -> MethodSpec:
    """Parse ``[NAME=]SPEC`` (see the module docstring); InputError for unknown specs."""
    name, _, spec = text.partition("=") if "=" in text else ("", "", text)
    if spec in _SEGMENTERS:
        return MethodSpec(name or spec, "segment", spec)
    kind, sep, target = spec.partition(":")
    if sep and kind == "imagej-roi" and target:
        return MethodSpec(name or Path(target).stem or kind, "labels", _roi_target(target))
    if sep and kind in ("model", "labels", "imagej") and target:
        return MethodSpec(name or Path(target).stem or kind, kind, target)
    if Path(spec, "config.json").is_file():
        return MethodSpec(name or Path(spec).name, "model", spec)
    raise InputError(
        f"unknown method {text!r}; use classical, unet, multiresunet, model:DIR, "
        "labels:PATH, imagej-roi:DIR or imagej:RESULTS.csv (optionally NAME=...)"
    )


def _roi_target(target: str) -> str:
    """``target`` of an ``imagej-roi:`` spec, checked to be ROI zips (InputError otherwise)."""
    path = Path(target)
    if path.is_file() and path.suffix.lower() in (".zip", ".roi"):
        return target
    if not path.is_dir():
        raise InputError(f"{target}: no such ROI zip or folder; give a folder of ImageJ ROI "
                         "zips (<stem>.zip) or one zip")
    files = find_label_files(path)
    if not files or any(f.suffix.lower() not in (".zip", ".roi") for f in files.values()):
        raise InputError(f"{target}: expected ImageJ ROI zips (<stem>.zip, one per image); "
                         "use labels:DIR for label images")
    return target


def _imagej_sizes(target: str, measure: str, unit: str, pixel_size) -> pd.DataFrame:
    from .imagej import read_results_table

    path = Path(target)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        raise InputError(f"{target}: no ImageJ Results CSV found")
    tables = [read_results_table(f, unit=unit, pixel_size=pixel_size) for f in files]
    table = pd.concat(tables, ignore_index=True)
    col = next((c for c in table.columns if c.startswith(f"{measure}_")), None)
    if col is None:
        raise InputError(f"{target}: no column for {measure!r} (ImageJ's MinFeret/Feret/Area)")
    return pd.DataFrame({"image": table["image"], "label": table["label"], "size": table[col],
                         "unit": col.rsplit("_", 1)[1]})


def _roi_only(spec: MethodSpec) -> bool:
    """True for label methods given as ImageJ ROIs only (they need the image size)."""
    path = Path(spec.target)
    if spec.kind != "labels":
        return False
    if path.suffix.lower() in (".zip", ".roi"):
        return True
    files = find_label_files(path) if path.is_dir() else {}
    return bool(files) and all(f.suffix.lower() in (".zip", ".roi") for f in files.values())


def _method_sizes(
    spec: MethodSpec, micrographs: dict, config: EvaluateConfig, measure: str,
    facts: dict[str, ImageFacts] | None, shapes: dict,
) -> pd.DataFrame:
    """Sizes of one label-producing method: DataFrame image, label, size.

    ``facts`` (stem -> ImageFacts) gives each image's own pixel size and info bar (None: use
    ``config``'s pixel size).  ``shapes`` (stem -> (H, W)) is filled from label images read
    without micrographs, so that ROI zips of later methods can be rasterised.
    """
    from ..segment import segment

    sources = load_label_sources(spec.target) if spec.kind == "labels" else {}
    names = sorted(micrographs) if micrographs else sorted(sources)
    rows = []
    for name in names:
        micrograph = micrographs.get(name)
        shape = micrograph.shape if micrograph is not None else shapes.get(name)
        if spec.kind == "labels":
            if name not in sources:
                raise InputError(f"{spec.target}: no labels for image {name!r}")
            if shape is None and Path(str(sources[name])).suffix.lower() in (".zip", ".roi"):
                raise InputError(f"{sources[name]}: ROIs need the image size; pass --images")
            labels = _load(sources[name], shape)
            shapes.setdefault(name, labels.shape)
        else:
            model = spec.target if spec.kind == "model" else None
            method = spec.target if spec.kind == "segment" else "unet"
            labels = np.asarray(segment(micrograph, method, model=model))
        fact = (facts or {}).get(name, ImageFacts())
        mask = micrograph.analysis_mask if micrograph is not None else fact.mask(labels.shape)
        cfg = replace(config, pixel_size_nm=fact.pixel_size_nm) if facts is not None else config
        sizes = particle_sizes(labels, cfg, mask)
        rows.append(pd.DataFrame({"image": name, "label": sizes["label"], "size": sizes[measure]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["image", "label", "size"])


def _image_facts(methods: list[MethodSpec], micrographs: dict) -> dict | None:
    """Each image's own calibration and info bar, when every image has a pixel size.

    From the micrographs when given, else from the ``run.json`` / ``truth.csv`` beside the
    label methods' folders (an image's facts from the first method that records them).
    None when any image is uncalibrated (sizes then stay in pixels).
    """
    if micrographs:
        facts = {name: ImageFacts(m.pixel_size.nm, m.infobar_top, m.shape)
                 for name, m in micrographs.items()}
    else:
        facts = {}
        for spec in methods:
            if spec.kind == "labels":
                for name, fact in folder_facts(spec.target).items():
                    facts.setdefault(name, fact)
        names = set()
        for spec in methods:
            if spec.kind == "labels":
                names |= set(load_label_sources(spec.target))
        if not facts or any(n not in facts for n in names):
            return None
    if all(f.pixel_size_nm is not None for f in facts.values()):
        return facts
    return None


def compare_methods(
    methods: list[MethodSpec],
    micrographs: dict | None = None,
    *,
    measure: str = "feret_min",
    config: EvaluateConfig | None = None,
    imagej_unit: str = "px",
) -> pd.DataFrame:
    """Particle sizes of every method on the same images.

    Parameters
    ----------
    methods : list of MethodSpec
        See :func:`parse_method`.
    micrographs : dict, optional
        Image stem -> Micrograph; needed by segmenting methods, and used to check shapes and
        the analysis region of label methods.  Without it the stems of the first label source
        are used, with the pixel size and info bar recorded by an ``analyze`` results folder
        (``run.json``) or a ``synth`` data set (``truth.csv``) among the label methods.
    measure : {'feret_min', 'feret_max', 'ecd'}
        Size measure compared.
    config : EvaluateConfig, optional
        Pixel size (``pixel_size_nm``), border rule and minimum area (applied to label methods).
    imagej_unit : str
        Length unit of ImageJ Results tables ('px', 'nm', 'um').

    Returns
    -------
    DataFrame
        Long table ``method, image, label, size, unit``; sizes in nm when ``config`` has a
        pixel size or every image's own is known, else in pixels.
    """
    micrographs = micrographs or {}
    base = config or EvaluateConfig()
    config = replace(base, measures=(measure,))
    if not micrographs and any(m.kind in ("segment", "model") for m in methods):
        raise InputError("segmenting methods need images; pass --images")
    if len({m.name for m in methods}) != len(methods):
        raise InputError("two methods have the same name; name them with NAME=SPEC")
    facts = _image_facts(methods, micrographs) if config.pixel_size_nm is None else None
    unit = "nm" if facts is not None else config.unit
    frames, shapes = [], {}
    for spec in sorted(methods, key=_roi_only):  # ROI zips last: they take earlier shapes
        if spec.kind == "imagej":
            sizes = _imagej_sizes(spec.target, measure, imagej_unit, config.pixel_size_nm)
            if sizes["unit"].iloc[0] != unit:
                raise InputError(
                    f"{spec.target}: sizes in {sizes['unit'].iloc[0]} but the other methods in "
                    f"{unit}; give --pixel-size or --imagej-unit"
                )
            sizes = sizes.drop(columns="unit")
        else:
            sizes = _method_sizes(spec, micrographs, config, measure, facts, shapes)
        frames.append(sizes.assign(method=spec.name))
    order = {m.name: i for i, m in enumerate(methods)}
    table = pd.concat(frames, ignore_index=True)[["method", "image", "label", "size"]]
    table = table.sort_values("method", key=lambda c: c.map(order), kind="stable")
    return table.assign(unit=unit)


def comparison_table(sizes: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Per method: N, mean, std, median, D10, D90, min, max (and agreement with ``reference``).

    Parameters
    ----------
    sizes : DataFrame
        Long table from :func:`compare_methods`.
    reference : str, optional
        Method the others are compared with (e.g. manual measurements or ground truth):
        adds ``mean_rel_err``, ``median_rel_err``, ``ks`` and ``wasserstein``.

    Returns
    -------
    DataFrame
        One row per method, in order of first appearance.
    """
    order = list(dict.fromkeys(sizes["method"]))
    if reference is not None and reference not in order:
        raise InputError(f"--reference {reference!r} is not one of the methods {order}")
    rows = []
    for method in order:
        values = sizes.loc[sizes["method"] == method, "size"].to_numpy(float)
        s = summarize_sizes(values)
        row = {"method": method, **{k: s[k] for k in ("n", "mean", "std", "median", "d10",
                                                      "d90", "min", "max")}}
        if reference is not None:
            ref = sizes.loc[sizes["method"] == reference, "size"].to_numpy(float)
            c = compare_distributions(ref, values)
            row.update({k: c[k] for k in ("n_rel_err", "mean_rel_err", "median_rel_err", "ks",
                                          "wasserstein")})
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame, measure: str, unit: str) -> str:
    head = (f"| method | N | mean ± std ({unit}) | median ({unit}) | D10 ({unit}) | "
            f"D90 ({unit}) |")
    extra = "ks" in table.columns
    if extra:
        head += " mean error | KS | Wasserstein |"
    lines = [f"Size measure: {measure}", "", head,
             "|" + "---|" * (head.count("|") - 1)]
    for r in table.itertuples(index=False):
        line = (f"| {r.method} | {r.n} | {r.mean:.2f} ± {r.std:.2f} | {r.median:.2f} | "
                f"{r.d10:.2f} | {r.d90:.2f} |")
        if extra:
            line += f" {100 * r.mean_rel_err:+.1f} % | {r.ks:.3f} | {r.wasserstein:.2f} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_comparison(
    sizes: pd.DataFrame, out: str | Path, *, measure: str, unit: str, reference: str | None = None,
    report: bool = True, settings: dict | None = None,
) -> pd.DataFrame:
    """Write ``comparison.csv``, ``comparison.md``, ``comparison.png``, ``sizes.csv`` and
    ``report.html``.

    Parameters
    ----------
    sizes : DataFrame
        Long table from :func:`compare_methods` without its ``unit`` column.
    out : path
        Results folder.
    measure : str
        Size measure compared.
    unit : {'nm', 'px'}
    reference : str, optional
        Method the others are compared with.
    report : bool
        Also write ``report.html`` (:mod:`nanosizer.report.comparison_report`).
    settings : dict, optional
        What the comparison was run with, shown in the report.

    Returns
    -------
    DataFrame
        The comparison table (see :func:`comparison_table`).
    """
    from matplotlib.figure import Figure

    from ..report.plots import plot_distributions

    out = Path(out)
    table = comparison_table(sizes, reference)
    table.assign(measure=measure, unit=unit).to_csv(out / "comparison.csv", index=False)
    sizes.to_csv(out / "sizes.csv", index=False)
    (out / "comparison.md").write_text(_markdown(table, measure, unit))
    samples = {m: sizes.loc[sizes["method"] == m, "size"].to_numpy(float)
               for m in table["method"]}
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax_hist, ax_cdf = fig.subplots(1, 2)
    label = f"{measure.replace('_', ' ')} ({unit})"
    plot_distributions(ax_hist, samples, kind="hist", label=label)
    plot_distributions(ax_cdf, samples, kind="cdf", label=label)
    fig.savefig(out / "comparison.png", dpi=120)
    if report:
        from ..report.comparison_report import write_comparison_report

        write_comparison_report(out, table, sizes, measure=measure, unit=unit,
                                reference=reference, settings=settings)
    return table
