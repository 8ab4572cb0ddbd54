"""Evaluation: matching predicted to true particles, scores, size-distribution agreement.

Object scores follow the usual definitions (IoU by label co-occurrence, one-to-one Hungarian
matching at IoU >= 0.5, precision, recall, F1, panoptic quality); see
:func:`score_instances`.  Whole folders are scored by :func:`evaluate_folders`; ImageJ/Fiji
import and export live in :mod:`nanosizer.evaluate.imagej`, method comparison in
:mod:`nanosizer.evaluate.compare`.
"""

from ._distributions import SUMMARY_STATS, compare_distributions, summarize_sizes
from ._evaluation import SIZE_MEASURES, EvaluateConfig, Evaluation, evaluate_images, particle_sizes
from ._folders import (
    evaluate_folders,
    load_label_sources,
    predict_images,
    write_evaluation,
)
from ._matching import (
    AP_THRESHOLDS,
    instance_counts,
    instance_figures,
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
    "SIZE_MEASURES",
    "SUMMARY_STATS",
    "EvaluateConfig",
    "Evaluation",
    "compare_distributions",
    "evaluate_folders",
    "evaluate_images",
    "find_label_files",
    "instance_counts",
    "instance_figures",
    "iou_matrix",
    "load_label_sources",
    "match_instances",
    "particle_sizes",
    "pixel_scores_from_counts",
    "predict_images",
    "read_coco",
    "read_label_image",
    "read_truth",
    "remove_small",
    "score_instances",
    "score_pixels",
    "summarize_sizes",
    "write_evaluation",
]
