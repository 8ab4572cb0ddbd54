"""Per-particle measurements: calibrated size and shape of every labelled particle.

The public entry point is :func:`measure_particles` (label image -> one table row per
particle); :mod:`nanosizer.measure.feret` has the exact Feret diameters.
"""

from ._particles import SIZE_MEASURES, measure_particles, particle_columns, size_column
from .feret import FeretResult, feret_by_label, feret_diameters

__all__ = [
    "SIZE_MEASURES",
    "FeretResult",
    "feret_by_label",
    "feret_diameters",
    "measure_particles",
    "particle_columns",
    "size_column",
]
