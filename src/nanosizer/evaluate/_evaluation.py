"""Scoring many images: per-image and pooled figures, size-distribution agreement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ._distributions import compare_distributions
from ._matching import (
    instance_counts,
    instance_figures,
    pixel_scores_from_counts,
    remove_small,
    score_pixels,
)

__all__ = ["SIZE_MEASURES", "Evaluation", "EvaluateConfig", "evaluate_images", "particle_sizes"]

#: Size measures compared between truth and prediction.
SIZE_MEASURES: tuple[str, ...] = ("feret_min", "ecd")


@dataclass(frozen=True)
class EvaluateConfig:
    """How predictions are scored against the truth.

    Parameters
    ----------
    threshold : float
        IoU of a one-to-one match (true positive).
    min_area : int
        Particles smaller than this many pixels are removed from truth and prediction.
    exclude_border : bool
        Leave particles touching the image (or analysis-region) border out of the size
        figures, as ``analyze`` does; matching always uses every particle.
    measures : tuple of str
        Size measures (particle-table column stems) whose distributions are compared.
    pixel_size_nm : float or None
        Pixel size for the size figures; None reports them in pixels.
    """

    threshold: float = 0.5
    min_area: int = 0
    exclude_border: bool = True
    measures: tuple[str, ...] = SIZE_MEASURES
    pixel_size_nm: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.min_area < 0:
            raise ValueError(f"min_area must be >= 0, got {self.min_area}")
        if self.pixel_size_nm is not None and not self.pixel_size_nm > 0:
            raise ValueError(f"pixel_size_nm must be positive, got {self.pixel_size_nm}")

    @property
    def unit(self) -> str:
        """Unit of the size figures."""
        return "nm" if self.pixel_size_nm is not None else "px"

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)


@dataclass
class Evaluation:
    """Scores of a set of images.

    Attributes
    ----------
    per_image : DataFrame
        One row per image: counts, precision, recall, f1, pq, ap, instance_iou, pixel scores
        and size agreement (``<measure>_<stat>_...``).
    pooled : dict
        The same figures over all images (counts summed before ratios; particles pooled for
        the size figures) plus ``mean_image_f1``.
    sizes : DataFrame
        Long table of the sizes compared: ``image, source ('truth'|'pred'), label`` and one
        column per measure.
    config : EvaluateConfig
    """

    per_image: pd.DataFrame
    pooled: dict
    sizes: pd.DataFrame
    config: EvaluateConfig = field(default_factory=EvaluateConfig)


def particle_sizes(
    labels: np.ndarray, config: EvaluateConfig, mask: np.ndarray | None = None
) -> pd.DataFrame:
    """Sizes of the particles of a label image (border-touching ones dropped if configured).

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels.
    config : EvaluateConfig
        Measures, pixel size and border rule.
    mask : (H, W) ndarray of bool, optional
        Analysed region; particles touching its edge count as border particles.

    Returns
    -------
    DataFrame
        ``label`` and one column per measure of ``config.measures`` (in ``config.unit``).
    """
    from ..measure import measure_particles

    exclude = None if mask is None else ~np.asarray(mask, dtype=bool)
    table = measure_particles(labels, pixel_size=config.pixel_size_nm, exclude=exclude)
    if config.exclude_border and "touches_border" in table.columns:
        table = table[~table["touches_border"].astype(bool)]
    cols = {f"{m}_{config.unit}": m for m in config.measures}
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"measure_particles gave no column {missing[0]!r}")
    return table[["label", *cols]].rename(columns=cols).reset_index(drop=True)


def _size_figures(truth_sizes: pd.DataFrame, pred_sizes: pd.DataFrame, measures) -> dict:
    out = {}
    for m in measures:
        for key, value in compare_distributions(truth_sizes[m], pred_sizes[m]).items():
            out[f"{m}_{key}"] = value
    return out


def evaluate_images(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]],
    config: EvaluateConfig | None = None,
) -> Evaluation:
    """Score predicted against true label images, per image and pooled.

    Parameters
    ----------
    pairs : iterable of (name, truth, pred, mask) or (name, truth, pred, mask, pixel_size_nm)
        Image name, (H, W) true and predicted instance labels, an optional (H, W) bool
        analysis mask (pixels outside are not scored and count as image border) and,
        optionally, the image's own pixel size in nm (None: uncalibrated), used for the size
        figures unless ``config.pixel_size_nm`` is set.
    config : EvaluateConfig, optional

    Returns
    -------
    Evaluation
        ``pooled["size_unit"]`` is ``"nm"`` when every image has a pixel size, else ``"px"``.

    Raises
    ------
    InputError
        When some images have a pixel size and others have none (their sizes cannot be pooled).
    """
    from dataclasses import replace

    from ..errors import InputError

    config = config or EvaluateConfig()
    rows, totals, sizes = [], [], []
    px = np.zeros(4, dtype=np.int64)
    unit, first = None, None
    for name, truth, pred, mask, *own in pairs:
        cfg = config
        if config.pixel_size_nm is None and own and own[0] is not None:
            cfg = replace(config, pixel_size_nm=float(own[0]))
        if unit is not None and cfg.unit != unit:
            raw, cal = (name, first) if cfg.unit == "px" else (first, name)
            raise InputError(f"image {raw!r} has no pixel size while {cal!r} has one, so sizes "
                             "cannot be pooled; pass --pixel-size, --scale-bar none or score them "
                             "separately")
        unit, first = cfg.unit, first or name
        truth = remove_small(truth, config.min_area)
        pred = remove_small(pred, config.min_area)
        if mask is not None:
            truth, pred = np.where(mask, truth, 0), np.where(mask, pred, 0)
        counts = instance_counts(truth, pred, config.threshold)
        pix = score_pixels(truth, pred, mask)
        px += [pix["tp_px"], pix["fp_px"], pix["fn_px"], pix["tn_px"]]
        ts, ps = particle_sizes(truth, cfg, mask), particle_sizes(pred, cfg, mask)
        row = {"image": name, **instance_figures(counts), **pix}
        row.update(_size_figures(ts, ps, config.measures))
        rows.append(row)
        totals.append(counts)
        sizes += [ts.assign(image=name, source="truth"), ps.assign(image=name, source="pred")]
    per_image = pd.DataFrame(rows)
    sizes_df = (pd.concat(sizes, ignore_index=True) if sizes
                else pd.DataFrame(columns=["image", "source", "label", *config.measures]))
    sizes_df = sizes_df[["image", "source", "label", *config.measures]]
    pooled = _pool(totals, px, sizes_df, per_image, config, unit or config.unit)
    return Evaluation(per_image, pooled, sizes_df, config)


def _pool(totals, px, sizes, per_image, config, unit) -> dict:
    summed = {k: sum(c[k] for c in totals) for k in ("n_true", "n_pred", "tp", "iou_sum",
                                                      "best_iou_sum")}
    summed["tp_ap"] = np.sum([c["tp_ap"] for c in totals], axis=0).tolist() if totals else []
    pooled = {"n_images": len(totals), **instance_figures(summed)}
    pooled["mean_image_f1"] = float(per_image["f1"].mean()) if len(per_image) else float("nan")
    pooled.update(pixel_scores_from_counts(*(int(v) for v in px)))
    truth, pred = sizes[sizes["source"] == "truth"], sizes[sizes["source"] == "pred"]
    pooled.update(_size_figures(truth, pred, config.measures))
    pooled["size_unit"] = unit
    return pooled
