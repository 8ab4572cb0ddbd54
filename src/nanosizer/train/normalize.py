"""The intensity normalisation of training and inference (moved to :mod:`nanosizer.normalize`).

Kept so that ``nanosizer.train.normalize`` imports keep working; inference imports
:mod:`nanosizer.normalize` directly and never loads the training package.
"""

from __future__ import annotations

from ..normalize import NORMALIZATION, normalize_image

__all__ = ["NORMALIZATION", "normalize_image"]
