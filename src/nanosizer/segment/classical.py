"""Classical segmentation: smoothing, global or local threshold, marker-controlled watershed.

Meant for near-ideal micrographs: compact particles whose grey level differs clearly from a
fairly even background (bright on dark in SEM, dark on bright in TEM/TSEM).  Touching
particles are split by a watershed on the distance transform of the foreground, seeded by
its h-maxima, with ``h`` proportional to the size of each connected clump.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage as ndi

from ..errors import InputError
from ._classical_steps import (
    POLARITIES,
    THRESHOLD_METHODS,
    choose_polarity,
    foreground_threshold,
    global_threshold,
)
from ._classical_split import split_touching
from ._labels import relabel_min_area

__all__ = ["ClassicalConfig", "global_threshold", "segment_classical"]


@dataclass(frozen=True)
class ClassicalConfig:
    """Settings of :func:`segment_classical` (defaults tuned on EMPS, see docs/benchmarks.md).

    Parameters
    ----------
    polarity : {'auto', 'bright', 'dark'}
        ``'bright'``: bright particles on a dark background (SEM); ``'dark'``: dark particles
        on a bright background (TEM, TSEM); ``'auto'`` decides from the image (the class of
        the side of the Otsu threshold holding the most common grey level is the background).
    sigma : float
        Standard deviation (px) of the Gaussian smoothing before thresholding; 0 disables it.
    threshold : {'otsu', 'li', 'triangle', 'local'} or float
        Global threshold method computed on the pixels inside the mask, ``'local'`` for a
        Gaussian-weighted local mean (window ``local_block`` px), or a grey value on the
        image's own scale.
    local_block : int
        Odd window size (px) of the ``'local'`` threshold.
    fill_holes : bool
        Fill holes enclosed by a particle (bright cores of TEM particles, dark SEM centres).
    min_area : int
        Particles smaller than this many pixels are discarded.
    watershed : bool
        Split touching particles with a marker-controlled watershed.
    marker_h : float
        Depth a distance-transform peak must have, as a fraction of the largest inscribed
        radius of its clump, to seed its own particle.  Smaller splits more.
    marker_min_h : float
        Lower bound (px) of that depth, so boundary noise never seeds a particle.
    marker_sigma : float
        Gaussian smoothing (px) of the distance transform before finding peaks.
    """

    polarity: str = "auto"
    sigma: float = 2.0
    threshold: str | float = "otsu"
    local_block: int = 101
    fill_holes: bool = True
    min_area: int = 50
    watershed: bool = True
    marker_h: float = 0.1
    marker_min_h: float = 3.0
    marker_sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.polarity not in POLARITIES:
            raise InputError(
                f"classical polarity must be one of {', '.join(POLARITIES)}, got {self.polarity!r}"
            )
        if isinstance(self.threshold, str):
            if self.threshold not in THRESHOLD_METHODS:
                raise InputError(
                    f"classical threshold must be one of {', '.join(THRESHOLD_METHODS)} or a "
                    f"grey value, got {self.threshold!r}"
                )
        elif isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise InputError(f"classical threshold must be a method name or a number, "
                             f"got {self.threshold!r}")
        elif not np.isfinite(self.threshold):
            raise InputError(f"classical threshold must be finite, got {self.threshold!r}")
        for name in ("sigma", "marker_h", "marker_min_h", "marker_sigma"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise InputError(f"classical {name} must be a number >= 0, got {value!r}")
        if not isinstance(self.min_area, int) or self.min_area < 0:
            raise InputError(f"classical min_area must be an integer >= 0, got {self.min_area!r}")
        if not isinstance(self.local_block, int) or self.local_block < 3 or self.local_block % 2 == 0:
            raise InputError(
                f"classical local_block must be an odd integer >= 3, got {self.local_block!r}"
            )

    def to_dict(self) -> dict:
        """All settings as a JSON-serialisable dict."""
        return asdict(self)


def _check_inputs(image: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D grey image, got shape {image.shape}")
    if not (np.issubdtype(image.dtype, np.number) or image.dtype == bool):
        raise TypeError(f"image must be numeric, got {image.dtype}")
    if mask is None:
        return image, np.ones(image.shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != image.shape:
        raise ValueError(f"mask shape {mask.shape} differs from image shape {image.shape}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be a bool array, got {mask.dtype}")
    return image, mask


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def segment_classical(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    config: ClassicalConfig = ClassicalConfig(),
) -> np.ndarray:
    """Segment particles by threshold and marker-controlled watershed.

    Parameters
    ----------
    image : (H, W) ndarray of float
        Grey image on any scale (not modified).
    mask : (H, W) ndarray of bool, optional
        True where particles may be found (e.g. not the info bar).  Threshold statistics
        use only these pixels; labels are 0 elsewhere.  None analyses the whole image.
    config : ClassicalConfig, optional
        Method settings.

    Returns
    -------
    labels : (H, W) ndarray of int32
        0 = background, 1..N = particles, numbered sequentially.  A constant image (or
        empty mask) gives all zeros.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = ((yy - 20) ** 2 + (xx - 20) ** 2 < 100) + ((yy - 44) ** 2 + (xx - 44) ** 2 < 100)
    >>> labels = segment_classical(img.astype(float))
    >>> int(labels.max()), labels.dtype.name
    (2, 'int32')
    """
    image, mask = _check_inputs(image, mask)
    labels = np.zeros(image.shape, dtype=np.int32)
    box = _bounding_box(mask)
    if box is None:
        return labels
    sub_mask = mask[box]
    sub = image[box].astype(np.float32, copy=False)  # read only (smoothing makes a new one)
    if config.sigma > 0:
        sub = ndi.gaussian_filter(sub, config.sigma)
    values = sub[sub_mask]
    if values.max() - values.min() <= 1e-6 * max(1.0, abs(float(values.max()))):
        return labels
    thr = foreground_threshold(sub, sub_mask, config.threshold, config.local_block)
    polarity = choose_polarity(sub, sub_mask, thr) if config.polarity == "auto" else config.polarity
    fg = (sub < thr if polarity == "dark" else sub > thr) & sub_mask
    del sub, values, thr  # the watershed needs memory more than these
    if config.fill_holes:
        fg = ndi.binary_fill_holes(fg) & sub_mask
    if config.watershed:
        sub_labels = split_touching(fg, config.marker_h, config.marker_min_h, config.marker_sigma)
    else:
        sub_labels = ndi.label(fg)[0]
    labels[box] = relabel_min_area(sub_labels, config.min_area)
    return labels
