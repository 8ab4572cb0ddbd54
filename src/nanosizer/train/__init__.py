"""Training of the CNN segmentation models on synthetic or labelled micrographs.

:class:`TrainConfig` describes a run; :func:`fit` trains, validates every epoch (loss and
instance F1 at IoU 0.5), keeps the best checkpoint, resumes after interruption and writes a model
folder with tuned post-processing thresholds.  :func:`make_targets` builds the three training maps
and :func:`normalize_image` is the intensity normalisation shared with inference.
"""

from .config import TrainConfig
from .deadline import Deadline
from .loop import TrainState, fit, train_one_epoch
from .normalize import NORMALIZATION, normalize_image
from .targets import TARGET_CHANNELS, make_targets
from .validate import evaluate, tune_thresholds

__all__ = [
    "TrainConfig",
    "Deadline",
    "TrainState",
    "fit",
    "train_one_epoch",
    "evaluate",
    "tune_thresholds",
    "make_targets",
    "TARGET_CHANNELS",
    "normalize_image",
    "NORMALIZATION",
]
