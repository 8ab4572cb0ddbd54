"""Synthetic micrographs with exact instance labels, for training and testing segmentation.

Public API
----------
:class:`SynthConfig` (with :class:`ParticleConfig`, :class:`ArrangementConfig`,
:class:`ImagingConfig`, :class:`OverlayConfig`) describes one image; :func:`random_config`
draws a domain-randomised one; :func:`generate` renders it into a :class:`Sample` (image,
labels, truth table); :class:`SyntheticDataset` serves ``(image, labels)`` pairs on the fly;
:func:`estimate_style` and :func:`like_config` draw configurations "like these images".
"""

from ._config import (
    CLUSTER_MODES,
    MODALITIES,
    SHAPES,
    ArrangementConfig,
    ImagingConfig,
    OverlayConfig,
    ParticleConfig,
    SynthConfig,
)
from ._dataset import SyntheticDataset
from ._generate import Sample, generate
from ._like import ImageStyle, estimate_style, like_config
from ._random import random_config
from ._shapes import load_outlines
from ._writer import Options, write_dataset

__all__ = [
    "SHAPES", "CLUSTER_MODES", "MODALITIES",
    "SynthConfig", "ParticleConfig", "ArrangementConfig", "ImagingConfig", "OverlayConfig",
    "Sample", "generate", "random_config", "SyntheticDataset",
    "ImageStyle", "estimate_style", "like_config", "load_outlines", "Options", "write_dataset",
]
