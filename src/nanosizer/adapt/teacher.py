"""Pseudo-labelled canvases of the user's images for self-training (``nanosizer adapt``).

The initial model labels each image as ``analyze`` would (:func:`.pseudo.teacher_labels`,
automatic zoom).  A folder may mix magnifications: the model then sees each image at its own
zoom.  Every canvas (image + pseudo-labels) is resampled by its zoom relative to the median
one, so that the composites and the fine-tuning crops show particles at one scale.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Teacher", "full_frame_labels", "scaled_styles", "teacher_canvases", "zoomed_pair"]


@dataclass
class Teacher:
    """Pseudo-labelled images of the initial model, ready for copy-paste self-training.

    Attributes
    ----------
    labels : list of ndarray
        Per image, its pseudo-labels at the image's resolution (IGNORE where unsure).
    canvases : list of (image, labels)
        The same, resampled by ``factors`` so that every image's particles have the size they
        have in an image seen at ``zoom``.
    cutouts : list of list of Cutout
        Per canvas, its :func:`~.copypaste.isolated_cutouts`.
    zoom : float
        The reference zoom: the median of the zooms at which the initial model saw the images,
        snapped to one of the automatic zooms.
    factors : list of float
        Per image, its own zoom divided by ``zoom`` (all 1 when the images share one zoom).
    counts : list of int
        Per image, the particles the initial model finds in it (as ``analyze``), for the
        count guard.
    """

    labels: list = field(default_factory=list)
    canvases: list = field(default_factory=list)
    cutouts: list = field(default_factory=list)
    zoom: float = 1.0
    factors: list = field(default_factory=list)
    counts: list = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        """True when the images needed different zooms (the adapted model then chooses)."""
        return any(f != 1.0 for f in self.factors)

    def summary(self) -> dict:
        """What the pseudo-labels hold, for the adapt report."""
        from .pseudo import IGNORE

        return {
            "confident_particles": int(sum(max(int(lab.max()), 0) for lab in self.labels)),
            "ignored_share": round(float(np.mean([np.mean(lab == IGNORE)
                                                  for lab in self.labels])), 4),
            "isolated_particles": int(sum(len(c) for c in self.cutouts)), "zoom": self.zoom,
            "image_zooms": [f * self.zoom for f in self.factors]}


def zoomed_pair(pair, zoom: float):
    """An (image, labels) pair resampled by ``zoom`` (linear / nearest), as the network sees it."""
    if zoom == 1.0:
        return pair
    from scipy import ndimage as ndi

    image, labels = pair
    kw = {"mode": "nearest", "grid_mode": True}
    return (ndi.zoom(np.asarray(image, np.float32), zoom, order=1, **kw),
            ndi.zoom(np.asarray(labels, np.int32), zoom, order=0, **kw))


def teacher_canvases(micrographs, model, *, device=None) -> Teacher:
    """Pseudo-labels of the micrographs by ``model``, resampled to one particle scale.

    Parameters
    ----------
    micrographs : sequence of Micrograph
    model : str or Path
        The initial model (shipped name or model folder).
    device : str, optional

    Returns
    -------
    Teacher
    """
    from ..segment.cnn import ZOOMS
    from .copypaste import isolated_cutouts
    from .pseudo import teacher_labels

    labels, zooms, counts = [], [], []
    for m in micrographs:
        lab, zoom, count = teacher_labels(m, model, device=device, return_count=True)
        labels.append(lab)
        zooms.append(zoom)
        counts.append(count)
    zoom = float(np.exp(np.median(np.log(zooms)))) if zooms else 1.0
    zoom = min(ZOOMS, key=lambda z: abs(np.log(z / zoom)))  # one of the automatic zooms
    factors = [z / zoom for z in zooms]
    canvases = [zoomed_pair((np.asarray(m.analysis_data, np.float32), lab), f)
                for m, lab, f in zip(micrographs, labels, factors)]
    min_area = max(12, round(30 / zoom**2))  # 30 px as the network sees them
    cutouts = [isolated_cutouts(image, lab, min_area=min_area) for image, lab in canvases]
    return Teacher(labels, canvases, cutouts, zoom, factors, counts)


def scaled_styles(styles, micrographs, taught, teacher: Teacher) -> list:
    """``styles`` (one per micrograph) with particle size and blur scaled like the canvases.

    Parameters
    ----------
    styles : sequence of ImageStyle
        One per micrograph.
    micrographs : sequence of Micrograph
    taught : sequence of Micrograph
        The micrographs (a subset of ``micrographs``, same objects) behind ``teacher``.
    teacher : Teacher

    Returns
    -------
    list of ImageStyle
    """
    factor = {id(m): f for m, f in zip(taught, teacher.factors)}
    out = []
    for m, style in zip(micrographs, styles):
        f = factor.get(id(m), 1.0)
        out.append(style if f == 1.0 else dataclasses.replace(
            style, size_px=style.size_px * f, blur_px=max(style.blur_px * f, 0.2)))
    return out


def full_frame_labels(labels, micrographs) -> list[np.ndarray]:
    """Pseudo-labels of the analysed rows as particle labels of the whole frames (IGNORE -> 0)."""
    frames = []
    for lab, m in zip(labels, micrographs):
        full = np.zeros(m.shape, np.int32)
        full[: lab.shape[0]] = np.maximum(lab, 0)
        frames.append(full)
    return frames
