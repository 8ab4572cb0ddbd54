"""nanosizer: calibrated nanoparticle size distributions from electron micrographs.

The public API is imported lazily, so ``import nanosizer`` costs nothing::

    >>> import nanosizer
    >>> mg = nanosizer.read_micrograph("image.tif")            # doctest: +SKIP
    >>> result = nanosizer.analyze(["image.tif"], out="results")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "read_micrograph": "nanosizer.io",
    "Micrograph": "nanosizer.io",
    "PixelSize": "nanosizer.io",
    "measure_particles": "nanosizer.measure",
    "size_distribution": "nanosizer.stats",
    "segment": "nanosizer.segment",
    "analyze": "nanosizer.pipeline",
    "AnalyzeConfig": "nanosizer.pipeline",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'nanosizer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
