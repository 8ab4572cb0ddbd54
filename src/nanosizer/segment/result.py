"""What a segmentation produced besides its labels (recorded per image in ``run.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Segmentation"]


@dataclass(frozen=True)
class Segmentation:
    """Instance labels and the settings that made them.

    Attributes
    ----------
    labels : (H, W) ndarray of int32
        Instance labels, 0 = background.
    detection_limit_px : float
        Minimum Feret diameter (image px) below which particles are not reliably found (see
        :mod:`nanosizer.segment.limits`).
    zoom : float or None
        Zoom at which the network saw the image (None for the classical method).
    settings : dict
        Post-processing settings actually applied (thresholds, ``min_area`` at image scale).
    """

    labels: np.ndarray
    detection_limit_px: float
    zoom: float | None = None
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict of everything but the labels."""
        return {"zoom": self.zoom, "detection_limit_px": round(float(self.detection_limit_px), 3),
                "settings": self.settings}
