"""Instance matching and segmentation scores (pixel and object level)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "AP_THRESHOLDS",
    "instance_counts",
    "instance_figures",
    "iou_matrix",
    "match_instances",
    "pixel_scores_from_counts",
    "remove_small",
    "score_instances",
    "score_pixels",
]

#: IoU thresholds of the averaged precision (0.50, 0.55, ..., 0.95), as in COCO.
AP_THRESHOLDS: tuple[float, ...] = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))

# Above this many (truth + 1) x (pred + 1) cells the joint histogram is built sparsely.
_DENSE_LIMIT = 4_000_000


def _check_labels(labels: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"{name} must be a 2-D label image, got shape {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise TypeError(
            f"{name} must be an integer label image, got {labels.dtype}; label a binary mask "
            "with scipy.ndimage.label first"
        )
    if labels.dtype != bool and labels.size and labels.min() < 0:
        raise ValueError(f"{name} must not contain negative labels")
    return labels


def _compact(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Renumber labels 1..K; return (flat index image, ids (K,), areas (K,))."""
    flat = labels.ravel().astype(np.int64, copy=False)
    counts = np.bincount(flat) if flat.size else np.zeros(1, np.int64)
    ids = np.flatnonzero(counts)
    ids = ids[ids > 0]
    lut = np.zeros(counts.size, dtype=np.int64)
    lut[ids] = np.arange(1, ids.size + 1)
    return lut[flat], ids, counts[ids]


def _overlaps(truth: np.ndarray, pred: np.ndarray):
    """Sparse overlap table of two label images.

    Returns (truth ids (T,), pred ids (P,), truth areas, pred areas, rows, cols, intersections)
    where rows/cols index ids and only pairs with a non-empty intersection are listed.
    """
    truth = _check_labels(truth, "truth")
    pred = _check_labels(pred, "pred")
    if truth.shape != pred.shape:
        raise ValueError(f"truth and pred shapes differ: {truth.shape} vs {pred.shape}")
    t, t_ids, t_area = _compact(truth)
    p, p_ids, p_area = _compact(pred)
    n_cols = p_ids.size + 1
    both = (t > 0) & (p > 0)
    codes = t[both] * n_cols + p[both]
    if (t_ids.size + 1) * n_cols <= _DENSE_LIMIT:
        counts = np.bincount(codes, minlength=(t_ids.size + 1) * n_cols)
        codes = np.flatnonzero(counts)
        inter = counts[codes]
    else:
        codes, inter = np.unique(codes, return_counts=True)
    rows, cols = codes // n_cols - 1, codes % n_cols - 1
    return t_ids, p_ids, t_area, p_area, rows, cols, inter


def _pair_iou(t_area, p_area, rows, cols, inter) -> np.ndarray:
    return inter / (t_area[rows] + p_area[cols] - inter)


def iou_matrix(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection over union of every true with every predicted particle.

    Parameters
    ----------
    truth, pred : (H, W) ndarray of int
        Instance label images (0 = background); labels need not be consecutive.

    Returns
    -------
    iou : (T, P) ndarray of float64
        ``iou[i, j]`` is the IoU of true particle ``truth_ids[i]`` and predicted particle
        ``pred_ids[j]``.
    truth_ids : (T,) ndarray of int
        Sorted non-zero labels of ``truth``.
    pred_ids : (P,) ndarray of int
        Sorted non-zero labels of ``pred``.

    Examples
    --------
    >>> a = np.zeros((4, 4), int); a[:2, :2] = 1
    >>> b = np.zeros((4, 4), int); b[:2, :1] = 7
    >>> iou, ti, pi = iou_matrix(a, b)
    >>> float(iou[0, 0]), int(pi[0])
    (0.5, 7)
    """
    t_ids, p_ids, t_area, p_area, rows, cols, inter = _overlaps(truth, pred)
    iou = np.zeros((t_ids.size, p_ids.size))
    iou[rows, cols] = _pair_iou(t_area, p_area, rows, cols, inter)
    return iou, t_ids, p_ids


def _assign(rows, cols, iou, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one assignment maximising total IoU among pairs with IoU >= threshold."""
    keep = iou >= threshold
    rows, cols, iou = rows[keep], cols[keep], iou[keep]
    if rows.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    r_u, r_inv = np.unique(rows, return_inverse=True)
    c_u, c_inv = np.unique(cols, return_inverse=True)
    if r_u.size == rows.size and c_u.size == cols.size:  # already one-to-one (IoU > 0.5)
        return rows, cols, iou
    cost = np.zeros((r_u.size, c_u.size))
    cost[r_inv, c_inv] = iou
    ri, ci = linear_sum_assignment(cost, maximize=True)
    good = cost[ri, ci] >= threshold
    ri, ci = ri[good], ci[good]
    return r_u[ri], c_u[ci], cost[ri, ci]


def match_instances(truth: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict:
    """One-to-one matching of true and predicted particles by IoU (Hungarian assignment).

    Pairs with IoU >= ``threshold`` are candidates; the assignment maximising the summed IoU
    is chosen (for ``threshold > 0.5`` every particle has at most one candidate anyway).

    Parameters
    ----------
    truth, pred : (H, W) ndarray of int
        Instance label images (0 = background).
    threshold : float, optional
        Minimum IoU of a match, in (0, 1].

    Returns
    -------
    dict
        ``truth_ids`` (M,), ``pred_ids`` (M,), ``iou`` (M,) of the matched pairs, and
        ``n_true``, ``n_pred``.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    t_ids, p_ids, t_area, p_area, rows, cols, inter = _overlaps(truth, pred)
    r, c, iou = _assign(rows, cols, _pair_iou(t_area, p_area, rows, cols, inter), threshold)
    return {
        "truth_ids": t_ids[r], "pred_ids": p_ids[c], "iou": iou,
        "n_true": int(t_ids.size), "n_pred": int(p_ids.size),
    }


def remove_small(labels: np.ndarray, min_area: int) -> np.ndarray:
    """Copy of ``labels`` with particles smaller than ``min_area`` pixels set to 0.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels.
    min_area : int
        Smallest area kept, in pixels; 0 or 1 keeps everything.

    Returns
    -------
    (H, W) ndarray, same dtype as ``labels``.
    """
    labels = _check_labels(labels, "labels")
    if min_area <= 1:
        return labels.copy()
    counts = np.bincount(labels.ravel().astype(np.int64, copy=False))
    small = counts < min_area
    small[0] = False
    out = labels.copy()
    out[small[labels]] = 0
    return out


def _counts(tp: int, n_true: int, n_pred: int, iou_sum: float) -> dict:
    fp, fn = n_pred - tp, n_true - tp
    precision = tp / n_pred if n_pred else float(n_true == 0)
    recall = tp / n_true if n_true else float(n_pred == 0)
    denom = tp + 0.5 * (fp + fn)
    f1 = tp / denom if denom else 1.0
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1,
        "mean_matched_iou": iou_sum / tp if tp else float("nan"),
        "pq": iou_sum / denom if denom else 1.0,
    }


def score_instances(
    truth: np.ndarray,
    pred: np.ndarray,
    *,
    threshold: float = 0.5,
    min_area: int = 0,
    ap_thresholds: tuple[float, ...] = AP_THRESHOLDS,
) -> dict:
    """Object-level agreement of a predicted with a true instance label image.

    Parameters
    ----------
    truth, pred : (H, W) ndarray of int
        Instance label images (0 = background).
    threshold : float, optional
        IoU needed for a one-to-one match (true positive).
    min_area : int, optional
        Particles smaller than this many pixels are removed from both images first.
    ap_thresholds : tuple of float, optional
        IoU thresholds averaged in ``ap``.

    Returns
    -------
    dict
        ``n_true, n_pred, tp, fp, fn`` (int); ``precision = tp/(tp+fp)``,
        ``recall = tp/(tp+fn)``, ``f1 = 2tp/(2tp+fp+fn)``; ``mean_matched_iou``;
        ``pq`` (panoptic quality, sum of matched IoU / (tp + fp/2 + fn/2));
        ``ap``: mean over ``ap_thresholds`` of tp/(tp+fp+fn) (the score-free "average
        precision" of the Data Science Bowl 2018, StarDist and Cellpose);
        ``instance_iou``: the seed paper's figure, the mean over predicted particles of their
        best IoU with any true particle (NaN without predictions). With no particles on
        either side every ratio is 1.

    Examples
    --------
    >>> t = np.zeros((8, 8), int); t[:3, :3] = 1; t[5:, 5:] = 2
    >>> s = score_instances(t, t)
    >>> s["f1"], s["ap"], s["instance_iou"]
    (1.0, 1.0, 1.0)
    """
    if min_area > 1:
        truth, pred = remove_small(truth, min_area), remove_small(pred, min_area)
    return instance_figures(instance_counts(truth, pred, threshold, ap_thresholds))


def instance_counts(
    truth: np.ndarray,
    pred: np.ndarray,
    threshold: float = 0.5,
    ap_thresholds: tuple[float, ...] = AP_THRESHOLDS,
) -> dict:
    """Matching counts of one image, which can be summed over images.

    Returns
    -------
    dict
        ``n_true, n_pred, tp`` at ``threshold``, ``iou_sum`` (summed IoU of the matches),
        ``best_iou_sum`` (summed best IoU of every predicted particle) and ``tp_ap`` (list of
        TP counts at each of ``ap_thresholds``).  :func:`instance_figures` turns them into
        scores.
    """
    t_ids, p_ids, t_area, p_area, rows, cols, inter = _overlaps(truth, pred)
    pair_iou = _pair_iou(t_area, p_area, rows, cols, inter)
    iou = _assign(rows, cols, pair_iou, threshold)[2]
    best = np.zeros(p_ids.size)
    np.maximum.at(best, cols, pair_iou)
    return {
        "n_true": int(t_ids.size), "n_pred": int(p_ids.size), "tp": int(iou.size),
        "iou_sum": float(iou.sum()), "best_iou_sum": float(best.sum()),
        "tp_ap": [int(_assign(rows, cols, pair_iou, t)[2].size) for t in ap_thresholds],
    }


def instance_figures(counts: dict) -> dict:
    """Scores from (possibly summed) :func:`instance_counts`; see :func:`score_instances`."""
    n_true, n_pred = counts["n_true"], counts["n_pred"]
    out = {"n_true": n_true, "n_pred": n_pred}
    out.update(_counts(counts["tp"], n_true, n_pred, counts["iou_sum"]))
    aps = []
    for tp in counts["tp_ap"]:
        total = n_true + n_pred - tp
        aps.append(tp / total if total else 1.0)
    out["ap"] = float(np.mean(aps)) if aps else float("nan")
    out["instance_iou"] = counts["best_iou_sum"] / n_pred if n_pred else float("nan")
    return out


def score_pixels(truth: np.ndarray, pred: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Foreground/background agreement of two label images or masks.

    Parameters
    ----------
    truth, pred : (H, W) ndarray of int or bool
        Non-zero = particle.
    mask : (H, W) ndarray of bool, optional
        Pixels to score (e.g. the analysis mask without the info bar); all by default.

    Returns
    -------
    dict
        ``pixel_iou`` (foreground IoU; 1 when both are empty), ``tpr`` (sensitivity),
        ``tnr`` (specificity), ``youden = tpr + tnr - 1``, ``dice``, ``accuracy`` and the
        pixel counts ``tp_px, fp_px, fn_px, tn_px``.

    Examples
    --------
    >>> t = np.zeros((4, 4), bool); t[:, :2] = True
    >>> p = np.zeros((4, 4), bool); p[:, 1:3] = True
    >>> score_pixels(t, p)["pixel_iou"]
    0.3333333333333333
    """
    truth = _check_labels(truth, "truth") > 0
    pred = _check_labels(pred, "pred") > 0
    if truth.shape != pred.shape:
        raise ValueError(f"truth and pred shapes differ: {truth.shape} vs {pred.shape}")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        truth, pred = truth[mask], pred[mask]
    tp = int(np.count_nonzero(truth & pred))
    fp = int(np.count_nonzero(~truth & pred))
    fn = int(np.count_nonzero(truth & ~pred))
    tn = int(truth.size - tp - fp - fn)
    return pixel_scores_from_counts(tp, fp, fn, tn)


def pixel_scores_from_counts(tp: int, fp: int, fn: int, tn: int) -> dict:
    """Pixel scores from confusion counts (used to pool images); see :func:`score_pixels`."""
    tpr = tp / (tp + fn) if tp + fn else 1.0
    tnr = tn / (tn + fp) if tn + fp else 1.0
    union = tp + fp + fn
    total = tp + fp + fn + tn
    return {
        "pixel_iou": tp / union if union else 1.0,
        "dice": 2 * tp / (union + tp) if union else 1.0,
        "tpr": tpr, "tnr": tnr, "youden": tpr + tnr - 1,
        "accuracy": (tp + tn) / total if total else 1.0,
        "tp_px": tp, "fp_px": fp, "fn_px": fn, "tn_px": tn,
    }
