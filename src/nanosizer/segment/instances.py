"""Instance separation: network probability maps -> particle labels.

The CNN predicts ``foreground``, ``contact`` and a per-particle normalised ``distance`` map (see
:mod:`nanosizer.train.targets`).  Particles are grown by a marker-controlled watershed:

1. the particle mask is ``foreground > thresholds.foreground``;
2. markers are confident interiors, ``distance > thresholds.marker`` (after an optional
   Gaussian smoothing of the distance map, ``thresholds.smooth``) and
   ``contact < thresholds.contact`` inside the mask, one marker per connected component;
3. the markers are flooded over ``-distance`` within the mask
   (:func:`skimage.segmentation.watershed`), so touching particles meet along the valley of
   the distance map;
4. mask components that received no marker become particles of their own, and particles
   smaller than ``thresholds.min_area`` pixels (or than ``thresholds.min_relative_area`` times
   the median particle area) are removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from scipy import ndimage as ndi

from .. import choices
from ._labels import relabel_min_area

__all__ = ["DECODERS", "InstanceThresholds", "probabilities_to_labels"]

#: Instance decoders (:attr:`InstanceThresholds.decoder`).
DECODERS: tuple[str, ...] = choices.DECODERS


@dataclass(frozen=True)
class InstanceThresholds:
    """Post-processing parameters, stored with each model and tuned on validation data.

    Parameters
    ----------
    foreground : float
        Probability above which a pixel belongs to a particle.
    marker : float
        Normalised distance above which a pixel is a confident particle interior (seed).
    contact : float
        Contact probability below which an interior pixel may be a seed.
    min_area : int
        Particles with fewer pixels are removed.
    smooth : float
        Gaussian sigma (px) applied to the distance map before seeding and flooding; merges
        spurious distance peaks inside one particle (0 = off).
    min_relative_area : float
        Particles smaller than this fraction of the median particle area are removed too
        (fragments of faint particles; 0 = off).
    decoder : {'watershed', 'centres'}
        ``'watershed'``: markers from the distance and contact maps (this module);
        ``'centres'``: centre votes of models with offset outputs
        (:mod:`nanosizer.segment.centres`; ``marker``, ``contact`` and ``smooth`` unused);
        ``'hybrid'``: the watershed, then particles split and merged where the centre votes
        say so (:func:`nanosizer.segment.centres.refine_with_votes`).
    offset_px : float
        Offset (px) that an offset output of 1 stands for; rescaled with the maps' zoom.
    vote_sigma : float
        Gaussian sigma (px) of the vote density; rescaled with the maps' zoom.
    vote_density : float
        Vote density (votes per px²) above which a region is a particle centre.
    vote_prominence : float
        Relative height above the saddle at which one centre region splits into two.
    vote_steps : int
        Steps each vote takes along the offset field (1 = ``pixel + offset``).
    vote_merge : float
        Touching particles whose mean votes lie closer than this times the sum of their
        equivalent radii are merged (0 = never).
    """

    foreground: float = 0.5
    marker: float = 0.5
    contact: float = 0.5
    min_area: int = 12
    smooth: float = 0.0
    min_relative_area: float = 0.0
    decoder: str = "watershed"
    offset_px: float = 64.0
    vote_sigma: float = 1.0
    vote_density: float = 0.5
    vote_prominence: float = 0.5
    vote_merge: float = 0.3
    vote_steps: int = 1

    def __post_init__(self) -> None:
        for name in ("foreground", "marker", "contact"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} threshold must be in [0, 1], got {value}")
        if self.min_area < 0:
            raise ValueError(f"min_area must be >= 0, got {self.min_area}")
        if self.smooth < 0:
            raise ValueError(f"smooth must be >= 0, got {self.smooth}")
        if not 0 <= self.min_relative_area < 1:
            raise ValueError(f"min_relative_area must be in [0, 1), got {self.min_relative_area}")
        if not 1 <= self.vote_steps <= 100:
            raise ValueError(f"vote_steps must be in 1..100, got {self.vote_steps}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")
        for name in ("offset_px", "vote_density"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("vote_sigma", "vote_prominence", "vote_merge"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def rescaled(self, zoom: float) -> InstanceThresholds:
        """The thresholds for maps brought from a network zoom back to full resolution.

        ``min_area`` (network px) becomes ``min_area / zoom**2``; ``offset_px`` and
        ``vote_sigma`` become ``/ zoom``.
        """
        if zoom == 1.0:
            return self
        return replace(self, min_area=max(1, round(self.min_area / zoom**2)),
                       offset_px=self.offset_px / zoom, vote_sigma=self.vote_sigma / zoom)

    def to_dict(self) -> dict:
        """JSON-serialisable form (for model metadata)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> InstanceThresholds:
        """Inverse of :meth:`to_dict`; unknown keys and values of the wrong type are errors.

        ``decoder`` must be a string, ``min_area`` and ``vote_steps`` integers, the others finite numbers
        (integers are accepted for them); booleans are refused everywhere.

        Raises
        ------
        ValueError
            Naming the key, what it holds and what was expected.
        """
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown threshold keys {sorted(unknown)}")
        for name, value in values.items():
            if name == "decoder":
                ok, expected = isinstance(value, str), "a string"
            elif name in ("min_area", "vote_steps"):
                ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
            else:
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and np.isfinite(value))
                expected = "a finite number"
            if not ok:
                raise ValueError(f"threshold {name!r} must be {expected}, got {value!r}")
        return cls(**values)


def _watershed_in_boxes(
    distance: np.ndarray, markers: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Watershed restricted to the bounding box of each mask component (much faster on sparse images)."""
    from skimage.segmentation import watershed

    components, _ = ndi.label(mask)
    out = np.zeros(mask.shape, dtype=np.int32)
    for index, slc in enumerate(ndi.find_objects(components)):
        if slc is None:
            continue
        comp = components[slc] == index + 1
        seeds = np.where(comp, markers[slc], 0)
        if not seeds.any():
            continue
        if np.unique(seeds[seeds > 0]).size == 1:
            out[slc][comp] = seeds[seeds > 0][0]
            continue
        grown = watershed(-distance[slc], seeds, mask=comp)
        out[slc][comp] = grown[comp]
    return out


def probabilities_to_labels(
    outputs: np.ndarray,
    thresholds: InstanceThresholds | None = None,
    *,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Instance labels from foreground, contact and distance maps.

    Parameters
    ----------
    outputs : (3, H, W) or (5, H, W) ndarray of float
        Probabilities (after the sigmoid) in the order foreground, contact, distance and, for
        the ``'centres'`` decoder, offset_y, offset_x.
    thresholds : InstanceThresholds, optional
        Post-processing parameters; None uses the defaults.
    mask : (H, W) ndarray of bool, optional
        Pixels that may belong to particles (e.g. the analysis mask without the info bar).

    Returns
    -------
    labels : (H, W) ndarray of int32
        0 = background, particles numbered 1..N.

    Examples
    --------
    >>> fg = np.zeros((5, 9)); fg[1:4, 1:8] = 1
    >>> dist = np.zeros((5, 9)); dist[2, 2:4] = 1; dist[2, 5:7] = 1
    >>> contact = np.zeros((5, 9)); contact[1:4, 4] = 1
    >>> lab = probabilities_to_labels(np.stack([fg, contact, dist]),
    ...                               InstanceThresholds(min_area=1))
    >>> int(lab.max())
    2
    """
    outputs = np.asarray(outputs)
    t = thresholds if thresholds is not None else InstanceThresholds()
    channels = 3 if t.decoder == "watershed" else 5
    if outputs.ndim != 3 or outputs.shape[0] < channels:
        raise ValueError(f"outputs must be ({channels}, H, W) probabilities for the {t.decoder} "
                         f"decoder, got shape {outputs.shape}")
    if mask is not None and mask.shape != outputs.shape[1:]:
        raise ValueError(f"mask shape {mask.shape} != image shape {outputs.shape[1:]}")
    if t.decoder == "centres":
        from .centres import centres_to_labels

        return centres_to_labels(outputs, t, mask=mask)
    labels = _watershed_labels(outputs, t, mask)
    if t.decoder == "hybrid":
        from .centres import refine_with_votes

        return refine_with_votes(labels, outputs, t)
    return relabel_min_area(labels, t.min_area, t.min_relative_area)


def _watershed_labels(outputs: np.ndarray, t: InstanceThresholds,
                      mask: np.ndarray | None) -> np.ndarray:
    """Marker-controlled watershed of the first three maps, before the area filters."""
    fg, contact, distance = outputs[:3]
    distance = distance.astype(np.float32, copy=False)
    if t.smooth > 0:
        distance = ndi.gaussian_filter(distance, t.smooth)
    fgmask = fg > t.foreground
    if mask is not None:
        fgmask &= mask
    seeds = fgmask & (distance > t.marker) & (contact < t.contact)
    markers, n_markers = ndi.label(seeds)
    del seeds
    labels = _watershed_in_boxes(distance, markers, fgmask)
    del markers, distance
    orphans, n_orphans = ndi.label(fgmask & (labels == 0))
    if n_orphans:
        orphans[orphans > 0] += n_markers
        np.copyto(labels, orphans, where=orphans > 0)
    return labels
