"""Evaluation: matching predicted to true particles, scores, size-distribution agreement.

Object scores follow the usual definitions (IoU by label co-occurrence, one-to-one Hungarian
matching at IoU >= 0.5, precision, recall, F1, panoptic quality); see
:func:`score_instances`.  ImageJ/Fiji import and export live in :mod:`nanosizer.evaluate.imagej`.
"""

from ._distributions import SUMMARY_STATS, compare_distributions, summarize_sizes
from ._matching import (
    AP_THRESHOLDS,
    iou_matrix,
    match_instances,
    pixel_scores_from_counts,
    remove_small,
    score_instances,
    score_pixels,
)
from ._truth import find_label_files, read_coco, read_label_image, read_truth

__all__ = [
    "AP_THRESHOLDS",
    "SUMMARY_STATS",
    "compare_distributions",
    "find_label_files",
    "iou_matrix",
    "match_instances",
    "pixel_scores_from_counts",
    "read_coco",
    "read_label_image",
    "read_truth",
    "remove_small",
    "score_instances",
    "score_pixels",
    "summarize_sizes",
]
