"""Data shipped with nanosizer: the built-in sample micrograph (made by tools/make_sample.py)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["sample_path", "sample_labels_path"]


def sample_path() -> Path:
    """Path of the built-in sample: a synthetic 1024x768 SEM image, 2.5 nm/px, with info bar."""
    return Path(str(files("nanosizer.data") / "sample_sem.tif"))


def sample_labels_path() -> Path:
    """Path of the sample's exact instance labels (uint16 TIFF, 0 = background)."""
    return Path(str(files("nanosizer.data") / "sample_sem_labels.tif"))
