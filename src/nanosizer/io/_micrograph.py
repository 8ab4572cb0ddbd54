"""The Micrograph: pixels, calibration and the region that may be analysed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._calibration import PixelSize
from ._scalebar import ScaleBar

__all__ = ["Micrograph"]


@dataclass
class Micrograph:
    """A grey-level electron micrograph ready for analysis.

    Parameters
    ----------
    data : (H, W) ndarray of float32
        Grey values on the file's own scale (not rescaled); NaN never occurs.
    pixel_size : PixelSize
        Calibration and its source.
    path : Path or None
        File the image was read from.
    infobar_top : int or None
        First row of the microscope's info bar; rows ``infobar_top:`` are left out of the
        analysis.  None when there is no info bar.
    metadata : dict
        Reader facts worth keeping (format, original dtype, vendor).
    scale_bar : ScaleBar or None
        The scale bar read from the image (None when not looked for); when read, the bar and
        its label are left out of the analysis.
    """

    data: np.ndarray
    pixel_size: PixelSize = field(default_factory=PixelSize)
    path: Path | None = None
    infobar_top: int | None = None
    metadata: dict = field(default_factory=dict)
    scale_bar: ScaleBar | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the full image, info bar included."""
        return tuple(self.data.shape[:2])  # type: ignore[return-value]

    @property
    def name(self) -> str:
        """File stem, or ``"image"`` for in-memory micrographs."""
        return self.path.stem if self.path is not None else "image"

    @property
    def analysis_mask(self) -> np.ndarray:
        """(H, W) bool array, True where particles may be analysed.

        The info bar and a scale bar that was read (with its label) are excluded.
        """
        mask = np.ones(self.shape, dtype=bool)
        if self.infobar_top is not None:
            mask[self.infobar_top :] = False
        region = self.scale_bar.region if self.scale_bar is not None else None
        if region is not None:
            top, left, bottom, right = region
            mask[top:bottom, left:right] = False
        return mask

    @property
    def analysis_data(self) -> np.ndarray:
        """The image without the info bar rows (a view)."""
        return self.data if self.infobar_top is None else self.data[: self.infobar_top]
