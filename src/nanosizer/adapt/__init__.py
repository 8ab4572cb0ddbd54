"""Adapting the segmentation network to a user's own, unlabelled micrographs.

Building blocks (each usable on its own):

:mod:`~nanosizer.adapt.transmission`
    SEM training pairs from transmission (TSEM/TEM) twins of the same field: threshold,
    registration, watershed split; :mod:`~nanosizer.adapt.pairs_io` exports them for hand
    correction and imports them back.
:mod:`~nanosizer.adapt.wgan`
    WGAN-GP generator of single-particle outlines.
:mod:`~nanosizer.adapt.cyclegan`
    CycleGAN rendering realistic images from simulated masks.
:mod:`~nanosizer.adapt.workflow`
    The whole ``nanosizer adapt`` run within a time budget.

Torch is imported only by the GAN and workflow modules, when they are imported.
"""

from .pairs_io import export_pairs, import_pairs
from .transmission import (
    TrainingPair,
    TransmissionConfig,
    find_transmission_twins,
    read_trakem2_translation,
    register_translation,
    transmission_pair,
)

__all__ = [
    "TrainingPair",
    "TransmissionConfig",
    "register_translation",
    "transmission_pair",
    "read_trakem2_translation",
    "find_transmission_twins",
    "export_pairs",
    "import_pairs",
]
