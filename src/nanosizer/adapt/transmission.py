"""SEM training pairs from transmission twins (TSEM/TEM images of the same field).

A transmission image shows the particles dark on a bright background, with clean outlines and
no edge glow, so a threshold gives their projected shape.  Registered onto the SEM image of the
same field, these masks turn the SEM image into a labelled training image without any manual
annotation:

1. :func:`register_translation` finds the shift between the two images by phase correlation
   (on the SEM image and the inverted transmission image, info bars excluded);
2. :func:`transmission_foreground` thresholds the transmission image, resampled into the SEM
   frame;
3. :func:`split_particles` separates touching particles by a watershed guided by the SEM image
   (touching particles meet along its darker contact lines) and the distance transform;
4. :func:`transmission_pair` does all three and crops to the region seen by both images.

:func:`find_transmission_twins` and :func:`read_trakem2_translation` (defined in
:mod:`._twins`) find the twins and read a TrakEM2 registration.

Shift convention: ``shift = (dy, dx)`` means ``sem[y, x] ~ transmission[y - dy, x - dx]``, i.e.
moving the transmission image by ``shift`` lays it onto the SEM image.  This is the convention
of :func:`skimage.registration.phase_cross_correlation` and of TrakEM2's ``TranslationModel2D``
(``data="dx dy"``) that registers the transmission image onto the SEM image.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage as ndi

from ..errors import InputError
from ._twins import find_transmission_twins, read_trakem2_translation  # re-exported

__all__ = [
    "TransmissionConfig",
    "TrainingPair",
    "register_translation",
    "shift_image",
    "transmission_foreground",
    "split_particles",
    "transmission_pair",
    "read_trakem2_translation",
    "find_transmission_twins",
]

REGISTER_METHODS: tuple[str, ...] = ("intensity", "gradient")
SPLIT_METHODS: tuple[str, ...] = ("sem", "distance", "none")


@dataclass(frozen=True)
class TransmissionConfig:
    """Settings of :func:`transmission_pair` (defaults checked on the BAM TiO2 twins).

    Parameters
    ----------
    register_on : {'intensity', 'gradient'}
        Phase-correlate the SEM image with the inverted transmission image, or the two
        gradient magnitudes (for pairs whose contrast is not simply inverted).
    upsample : int
        Sub-pixel precision of the registration is ``1 / upsample`` px.
    max_shift : float
        Largest plausible shift (px); a larger one means the images do not show the same
        field and raises :class:`~nanosizer.errors.InputError`.
    sigma : float
        Gaussian smoothing (px) of the transmission image before thresholding.
    threshold : {'otsu', 'li', 'triangle'} or float
        Threshold method, or a grey value of the transmission image.
    min_area : int
        Particles with fewer pixels are dropped.
    split : {'sem', 'distance', 'none'}
        How touching particles are separated: watershed on the smoothed SEM image plus the
        capped distance transform (``'sem'``), on the distance transform alone, or not at all.
    split_sigma : float
        Smoothing (px) of the SEM image for ``split='sem'``; about a third of a particle radius.
    split_h : float
        Depth of a maximum (in units of the SEM grey-level spread inside particles) needed to
        seed its own particle.  Smaller splits more.
    distance_weight : float
        Weight of the distance transform (capped at ``distance_cap`` px, scaled to 1).
    distance_cap : float
        Distance (px) beyond which the distance transform no longer grows; about a particle
        radius.
    """

    register_on: str = "intensity"
    upsample: int = 20
    max_shift: float = 64.0
    sigma: float = 1.0
    threshold: str | float = "otsu"
    min_area: int = 30
    split: str = "sem"
    split_sigma: float = 3.0
    split_h: float = 0.3
    distance_weight: float = 2.0
    distance_cap: float = 15.0

    def __post_init__(self) -> None:
        if self.register_on not in REGISTER_METHODS:
            raise InputError(f"register_on must be one of {', '.join(REGISTER_METHODS)}, "
                             f"got {self.register_on!r}")
        if self.split not in SPLIT_METHODS:
            raise InputError(f"split must be one of {', '.join(SPLIT_METHODS)}, got {self.split!r}")
        if isinstance(self.threshold, str) and self.threshold not in ("otsu", "li", "triangle"):
            raise InputError(f"threshold must be otsu, li, triangle or a grey value, "
                             f"got {self.threshold!r}")
        if not isinstance(self.upsample, int) or self.upsample < 1:
            raise InputError(f"upsample must be an integer >= 1, got {self.upsample!r}")
        for name in ("max_shift", "sigma", "split_sigma", "split_h", "distance_weight",
                     "distance_cap"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a number >= 0, got {value!r}")
        if self.distance_cap <= 0:
            raise InputError(f"distance_cap must be > 0, got {self.distance_cap!r}")

    def to_dict(self) -> dict:
        """All settings as a JSON-serialisable dict."""
        return asdict(self)


@dataclass(frozen=True)
class TrainingPair:
    """A real image with instance labels, ready for training.

    Attributes
    ----------
    image : (H, W) ndarray of float32
        Grey image on its file's scale.
    labels : (H, W) ndarray of int32
        0 = background, 1..N = particles.
    name : str
        Name used for exported files.
    offset : tuple of int
        (row, col) of ``image[0, 0]`` in the original micrograph.
    shift : tuple of float
        Registration shift (dy, dx) of the transmission image onto this one; (0, 0) if none.
    """

    image: np.ndarray
    labels: np.ndarray
    name: str = "image"
    offset: tuple[int, int] = (0, 0)
    shift: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.image.ndim != 2 or self.image.shape != self.labels.shape:
            raise ValueError(f"image {self.image.shape} and labels {self.labels.shape} must be "
                             "2-D arrays of the same shape")


def _zscore(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    std = image.std()
    return (image - image.mean()) / (std if std > 0 else 1.0)


def _gradient(image: np.ndarray) -> np.ndarray:
    from skimage.filters import sobel

    return sobel(ndi.gaussian_filter(np.asarray(image, dtype=np.float64), 1.0))


def register_translation(
    sem: np.ndarray, transmission: np.ndarray, *, method: str = "intensity", upsample: int = 20
) -> tuple[float, float]:
    """Translation that lays the transmission image onto the SEM image.

    Parameters
    ----------
    sem, transmission : (H, W) ndarray
        The two images of the same field, same shape, info bars already cut off.
    method : {'intensity', 'gradient'}
        Correlate ``sem`` with ``-transmission`` (inverted contrast), or the two gradient
        magnitudes.
    upsample : int
        Sub-pixel precision ``1 / upsample`` px.

    Returns
    -------
    shift : tuple of float
        (dy, dx) with ``sem[y, x] ~ transmission[y - dy, x - dx]``; TrakEM2's
        ``TranslationModel2D`` of the transmission image holds ``data="dx dy"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = ndi.gaussian_filter(rng.random((96, 96)), 3)
    >>> sem = ndi.shift(base, (2.0, -3.0), mode="wrap")
    >>> dy, dx = register_translation(sem, -base, upsample=10)
    >>> round(dy, 1), round(dx, 1)
    (2.0, -3.0)
    """
    from skimage.registration import phase_cross_correlation

    sem, transmission = np.asarray(sem), np.asarray(transmission)
    if sem.ndim != 2 or sem.shape != transmission.shape:
        raise ValueError(f"need two 2-D images of the same shape, got {sem.shape} and "
                         f"{transmission.shape}")
    if method == "intensity":
        ref, moving = _zscore(sem), -_zscore(transmission)
    elif method == "gradient":
        ref, moving = _zscore(_gradient(sem)), _zscore(_gradient(transmission))
    else:
        raise ValueError(f"method must be one of {', '.join(REGISTER_METHODS)}, got {method!r}")
    shift, _, _ = phase_cross_correlation(ref, moving, upsample_factor=upsample)
    return float(shift[0]), float(shift[1])


def shift_image(
    image: np.ndarray, shift: tuple[float, float], order: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Move ``image`` by ``shift`` = (dy, dx): ``out[y, x] = image[y - dy, x - dx]``.

    Returns
    -------
    shifted : (H, W) ndarray of float32
        Resampled image (spline of ``order``); edge values repeated outside.
    valid : (H, W) ndarray of bool
        True where the source pixel lies inside ``image``.
    """
    image = np.asarray(image, dtype=np.float32)
    shifted = ndi.shift(image, shift, order=order, mode="nearest")
    yy, xx = np.arange(image.shape[0]) - shift[0], np.arange(image.shape[1]) - shift[1]
    ok_y = (yy >= -1e-6) & (yy <= image.shape[0] - 1 + 1e-6)
    ok_x = (xx >= -1e-6) & (xx <= image.shape[1] - 1 + 1e-6)
    return shifted, ok_y[:, None] & ok_x[None, :]


def transmission_foreground(
    transmission: np.ndarray, valid: np.ndarray | None = None,
    config: TransmissionConfig = TransmissionConfig(),
) -> np.ndarray:
    """Particle mask of a transmission image: dark particles on a bright background.

    Parameters
    ----------
    transmission : (H, W) ndarray
        Transmission image (already in the SEM frame when used for pairs).
    valid : (H, W) ndarray of bool, optional
        Pixels that may be used for the threshold statistics and may hold particles.
    config : TransmissionConfig
        ``sigma``, ``threshold`` and ``min_area`` are used.

    Returns
    -------
    foreground : (H, W) ndarray of bool
        Holes filled; components smaller than ``min_area`` removed.
    """
    from ..segment.classical import global_threshold

    image = np.asarray(transmission, dtype=np.float32)
    valid = np.ones(image.shape, bool) if valid is None else np.asarray(valid, bool)
    smooth = ndi.gaussian_filter(image, config.sigma) if config.sigma > 0 else image
    values = smooth[valid]
    if values.size == 0 or np.ptp(values) <= 1e-6:
        return np.zeros(image.shape, bool)
    thr = (global_threshold(values, config.threshold) if isinstance(config.threshold, str)
           else float(config.threshold))
    fg = ndi.binary_fill_holes((smooth < thr) & valid) & valid
    labels, _ = ndi.label(fg)
    counts = np.bincount(labels.ravel())
    small = counts < max(config.min_area, 1)
    small[0] = True
    return ~small[labels]


def split_particles(
    foreground: np.ndarray, sem: np.ndarray | None = None,
    config: TransmissionConfig = TransmissionConfig(),
) -> np.ndarray:
    """Instance labels of a particle mask, touching particles split by a watershed.

    The landscape is ``sem_z + distance_weight * min(d, distance_cap) / distance_cap`` (``'sem'``)
    or the capped distance alone (``'distance'``), where ``sem_z`` is the smoothed SEM image in
    units of its grey-level spread inside the mask and ``d`` the Euclidean distance to the
    background.  Its h-maxima (depth ``split_h``) seed the particles, which grow downhill.

    Parameters
    ----------
    foreground : (H, W) ndarray of bool
    sem : (H, W) ndarray, optional
        SEM image of the same field (needed for ``split='sem'``).
    config : TransmissionConfig

    Returns
    -------
    labels : (H, W) ndarray of int32
        0 = background, 1..N; components without a seed stay whole.
    """
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    fg = np.asarray(foreground, bool)
    clumps, n = ndi.label(fg)
    if config.split == "none" or n == 0:
        return clumps.astype(np.int32)
    land = np.minimum(ndi.distance_transform_edt(fg), config.distance_cap) / config.distance_cap
    if config.split == "sem":
        if sem is None or np.shape(sem) != fg.shape:
            raise ValueError("split='sem' needs the SEM image, of the foreground's shape")
        smooth = ndi.gaussian_filter(np.asarray(sem, np.float64), config.split_sigma)
        spread = smooth[fg].std()
        land = smooth / (spread if spread > 0 else 1.0) + config.distance_weight * land
        h = config.split_h
    else:
        h = max(config.split_h, 1e-3)
    land = np.where(fg, land, land[fg].min() - 1.0)
    markers, _ = ndi.label(h_maxima(land, h) & fg)
    labels = watershed(-land, markers, mask=fg)
    unseeded = fg & (labels == 0)
    if unseeded.any():
        extra, _ = ndi.label(unseeded)
        labels = np.where(unseeded, extra + labels.max(), labels)
    return labels.astype(np.int32)


def _common_box(valid: np.ndarray) -> tuple[slice, slice]:
    """Bounding box of ``valid``, a rectangle (the footprint of a shifted image)."""
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        raise InputError("the registered images do not overlap; check that they show the same field")
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def transmission_pair(
    sem, transmission, config: TransmissionConfig = TransmissionConfig(),
    shift: tuple[float, float] | None = None,
) -> TrainingPair:
    """SEM training pair: the SEM image with particle labels from its transmission twin.

    Parameters
    ----------
    sem, transmission : Micrograph
        The same field imaged in SEM and in transmission (same shape; info bars, if any, are
        excluded from registration and labels).
    config : TransmissionConfig
    shift : tuple of float, optional
        Known (dy, dx) that lays the transmission image onto the SEM image (e.g. from
        :func:`read_trakem2_translation`, as ``(dy, dx)``); None registers the images.

    Returns
    -------
    TrainingPair
        SEM image and labels, cropped to the rows above both info bars and to the region the
        shifted transmission image covers; ``offset`` locates the crop in the SEM image.
    """
    if sem.shape != transmission.shape:
        raise InputError(f"{transmission.path}: shape {transmission.shape} differs from its SEM "
                         f"twin {sem.path} {sem.shape}; pair images of the same field")
    top = min(sem.analysis_data.shape[0], transmission.analysis_data.shape[0])
    sem_px, trans_px = sem.data[:top], transmission.data[:top]
    if shift is None:
        shift = register_translation(sem_px, trans_px, method=config.register_on,
                                     upsample=config.upsample)
    if np.hypot(*shift) > config.max_shift:
        raise InputError(f"{transmission.path}: registration shift {shift[0]:.1f}, {shift[1]:.1f} px "
                         f"exceeds max_shift {config.max_shift:g}; are both images the same field?")
    moved, valid = shift_image(trans_px, shift)
    rows, cols = _common_box(valid)
    fg = transmission_foreground(moved[rows, cols], None, config)
    image = np.asarray(sem_px[rows, cols], np.float32)
    labels = split_particles(fg, image, config)
    from ..segment import relabel_min_area

    labels = relabel_min_area(labels, config.min_area)
    return TrainingPair(image.copy(), labels, sem.name, (int(rows.start), int(cols.start)),
                        (float(shift[0]), float(shift[1])))
