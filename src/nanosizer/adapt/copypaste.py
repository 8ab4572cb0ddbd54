"""Copy-paste composites: the user's own particles pasted into the user's own images.

Without annotation, what a network adapted to the user's images lacks is training images that
look like them *and* have exact labels for touching particles.  Synthetic and CycleGAN-rendered
particles never look quite real; copy-paste (G. Ghiasi et al., "Simple Copy-Paste is a Strong
Data Augmentation Method for Instance Segmentation", CVPR 2021) avoids rendering altogether:

1. the initial model's confident particles that stand alone (no other particle within a few
   px) are cut out of the user's images (:func:`isolated_cutouts`) — real grey levels, edges,
   texture and size;
2. they are pasted back, rotated, flipped and slightly rescaled, into the user's images,
   most of them against a particle already there (:func:`paste_particles`), so that touching
   and overlapping particles with known outlines appear: the pasted particle lies on top, the
   one below keeps its visible part;
3. the canvas keeps its own pseudo-labels (:func:`nanosizer.adapt.pseudo.teacher_labels`);
   what the initial model was unsure about is ignored by the loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .pseudo import IGNORE

__all__ = ["Cutout", "CopyPasteSource", "erase_ignored", "isolated_cutouts", "paste_particles"]


@dataclass(frozen=True)
class Cutout:
    """One particle cut out of an image: its bounding box's grey values and its mask."""

    image: np.ndarray
    mask: np.ndarray

    @property
    def radius(self) -> float:
        """Equivalent-circle radius (px)."""
        return float(np.sqrt(self.mask.sum() / np.pi))


def isolated_cutouts(image: np.ndarray, labels: np.ndarray, *, gap: int = 3,
                     min_area: int = 30, max_area: int | None = None) -> list[Cutout]:
    """The labelled particles with nothing else (particle or ignored pixel) within ``gap`` px.

    Parameters
    ----------
    image : (H, W) ndarray
    labels : (H, W) ndarray of int
        Particles > 0, background 0, :data:`~nanosizer.adapt.pseudo.IGNORE` where unsure.
    gap : int
        Clearance around a particle, px.
    min_area, max_area : int
        Particle area limits, px (``max_area`` None: a quarter of the image).

    Returns
    -------
    list of Cutout
    """
    image, labels = np.asarray(image, np.float32), np.asarray(labels)
    if image.shape != labels.shape:
        raise ValueError(f"image {image.shape} and labels {labels.shape} differ in shape")
    max_area = image.size // 4 if max_area is None else max_area
    h, w = labels.shape
    cutouts = []
    for index, box in enumerate(ndi.find_objects(np.maximum(labels, 0)), start=1):
        if box is None:
            continue
        big = (slice(max(box[0].start - gap, 0), min(box[0].stop + gap, h)),
               slice(max(box[1].start - gap, 0), min(box[1].stop + gap, w)))
        own = labels[big] == index
        if not min_area <= own.sum() <= max_area:
            continue
        ring = ndi.binary_dilation(own, iterations=gap) & ~own
        if np.any(labels[big][ring] != 0):
            continue
        cutouts.append(Cutout(image[box].copy(), labels[box] == index))
    return cutouts


def _transformed(cutout: Cutout, rng: np.random.Generator,
                 scale_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    image, mask = cutout.image, cutout.mask
    k = int(rng.integers(4))
    image, mask = np.rot90(image, k), np.rot90(mask, k)
    if rng.random() < 0.5:
        image, mask = image[:, ::-1], mask[:, ::-1]
    scale = float(np.exp(rng.uniform(*np.log(scale_range))))
    if abs(scale - 1.0) > 0.02:
        image = ndi.zoom(image, scale, order=1, mode="nearest", grid_mode=True)
        mask = ndi.zoom(mask.astype(np.float32), scale, order=1, mode="nearest", grid_mode=True) > 0.5
        image, mask = image[: mask.shape[0], : mask.shape[1]], mask[: image.shape[0], : image.shape[1]]
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)


def _centres(labels: np.ndarray) -> list[tuple[float, float, float]]:
    ids = np.unique(labels[labels > 0])
    if ids.size == 0:
        return []
    centres = ndi.center_of_mass(np.ones(labels.shape), labels, ids)
    areas = ndi.sum(np.ones(labels.shape), labels, ids)
    return [(cy, cx, float(np.sqrt(a / np.pi))) for (cy, cx), a in zip(centres, areas)]


def paste_particles(image: np.ndarray, labels: np.ndarray, cutouts: Sequence[Cutout], n: int,
                    rng: np.random.Generator, *, p_touch: float = 0.75,
                    scale_range: tuple[float, float] = (0.85, 1.15),
                    min_visible: int = 15, p_behind: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``n`` random cutouts into an image, most of them against a particle already there.

    A touching cutout is placed at ``(0.55-0.95) x (r1 + r2)`` from the centre of a random
    labelled or earlier pasted particle (radii of equal-area circles), so it touches or
    overlaps it; the others anywhere.  Pasted particles lie on top: they take the pixels and
    labels they cover.  Visible pieces of covered particles smaller than ``min_visible`` px
    become :data:`~nanosizer.adapt.pseudo.IGNORE`.  A share ``p_behind`` of the touching
    cutouts goes *behind* instead: it takes background pixels only and is dimmed towards the
    background (contrast x 0.55-0.9), like a particle at the back of an agglomerate.

    Parameters
    ----------
    image : (H, W) ndarray
    labels : (H, W) ndarray of int
        Labels of ``image`` (may hold IGNORE).
    cutouts : sequence of Cutout
    n : int
    rng : numpy.random.Generator
    p_touch : float
        Share of cutouts placed against another particle.
    scale_range : (float, float)
        Random size factor of each cutout.
    min_visible : int
    p_behind : float
        Share of the touching cutouts placed behind the particle they touch.

    Returns
    -------
    image : (H, W) ndarray of float32
    labels : (H, W) ndarray of int32
    """
    out = np.array(image, np.float32)
    lab = np.array(labels, np.int32)
    if not cutouts or n <= 0:
        return out, lab
    h, w = lab.shape
    background = 0.0
    if p_behind > 0:  # the grey level that particles pasted behind fade to
        background = float(np.median(out[lab == 0])) if np.any(lab == 0) else float(out.min())
    centres = _centres(lab)
    next_id = max(int(lab.max()), 0) + 1
    for _ in range(n):
        patch, mask = _transformed(cutouts[int(rng.integers(len(cutouts)))], rng, scale_range)
        radius = float(np.sqrt(mask.sum() / np.pi))
        behind = False
        if centres and rng.random() < p_touch:
            behind = rng.random() < p_behind
            cy, cx, r = centres[int(rng.integers(len(centres)))]
            angle, dist = rng.uniform(0, 2 * np.pi), (r + radius) * rng.uniform(0.55, 0.95)
            cy, cx = cy + dist * np.sin(angle), cx + dist * np.cos(angle)
        else:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        y0, x0 = int(round(cy - mask.shape[0] / 2)), int(round(cx - mask.shape[1] / 2))
        ys, xs = slice(max(y0, 0), min(y0 + mask.shape[0], h)), slice(max(x0, 0), min(x0 + mask.shape[1], w))
        if ys.start >= ys.stop or xs.start >= xs.stop:
            continue
        inner = (slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))
        m = mask[inner] & (lab[ys, xs] == 0) if behind else mask[inner]
        if not m.any():
            continue
        values = patch[inner][m]
        if behind:  # takes background only, dimmed; only its own pieces can be too small
            values = background + rng.uniform(0.55, 0.9) * (values - background)
            covered = np.array([next_id])
        else:  # on top: the particles it covers may keep only small pieces
            covered = np.unique(lab[ys, xs][m])
            centres.append((cy, cx, radius))
        out[ys, xs][m] = values
        lab[ys, xs][m] = next_id
        for old in covered[covered > 0]:
            _ignore_small_pieces(lab, int(old), min_visible)
        next_id += 1
    return out, lab


def _ignore_small_pieces(labels: np.ndarray, index: int, min_visible: int) -> None:
    """Visible pieces of a covered particle below ``min_visible`` px become IGNORE (in place)."""
    box = ndi.find_objects(np.where(labels == index, 1, 0))
    if not box or box[0] is None:
        return
    region = labels[box[0]]
    pieces, count = ndi.label(region == index)
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    small = (sizes < min_visible)
    small[0] = False
    region[small[pieces]] = IGNORE


def erase_ignored(image: np.ndarray, labels: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fully labelled data from pseudo-labels: IGNORE regions painted over with background.

    The painted region (grown by 2 px) gets the median and spread of the unlabelled pixels plus
    Gaussian noise; its labels become 0.  Used for validation, where every pixel must be scored.
    """
    out = np.array(image, np.float32)
    region = ndi.binary_dilation(labels == IGNORE, iterations=2) & (labels <= 0)
    if region.any():
        background = out[labels == 0] if np.any(labels == 0) else out.ravel()
        mid = float(np.median(background))
        spread = float(1.4826 * np.median(np.abs(background - mid)))
        out[region] = mid + spread * rng.standard_normal(int(region.sum()))
    return out, np.where(labels == IGNORE, 0, labels).astype(np.int32)


#: Share of the touching pasted particles that :class:`CopyPasteSource` puts behind the
#: particle they touch (partly hidden, dimmer particles at the back of agglomerates).
P_BEHIND = 0.3


class CopyPasteSource:
    """Picklable ``index -> (image, labels)`` of copy-paste composites of the user's images.

    Item ``i`` is a random ``size`` x ``size`` window of a random canvas (image + pseudo-labels)
    with particles pasted in until they add 10-35 % of the window's area (at most 40); canvases
    smaller than ``size`` are padded (image by reflection, labels with IGNORE).
    Cutouts come from the same image as the canvas when it has any, else from all images.

    Parameters
    ----------
    canvases : sequence of (image, labels)
        Images and their pseudo-labels (IGNORE where unsure).
    cutouts : sequence of list of Cutout
        Per canvas, its isolated particles.
    size : int
        Window side, px.
    seed : int
    """

    def __init__(self, canvases, cutouts, size: int, seed: int) -> None:
        if len(canvases) != len(cutouts) or not canvases:
            raise ValueError("need one list of cutouts per canvas, and at least one canvas")
        self.canvases, self.cutouts, self.size, self.seed = list(canvases), list(cutouts), size, seed
        self.all_cutouts = [c for per_image in self.cutouts for c in per_image]
        if not self.all_cutouts:
            raise ValueError("no isolated particles to paste")

    def __call__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, index, 31])
        k = int(rng.integers(len(self.canvases)))
        image, labels = self.canvases[k]
        h, w = labels.shape
        sh, sw = min(self.size, h), min(self.size, w)
        y, x = int(rng.integers(0, h - sh + 1)), int(rng.integers(0, w - sw + 1))
        window = (slice(y, y + sh), slice(x, x + sw))
        image, labels = _padded(image[window], labels[window], self.size)
        cutouts = self.cutouts[k] or self.all_cutouts
        mean_area = float(np.mean([c.mask.sum() for c in cutouts]))
        n = int(min(40, max(1, round(rng.uniform(0.10, 0.35) * labels.size / mean_area))))
        return paste_particles(image, labels, cutouts, n, rng, p_behind=P_BEHIND)


def _padded(image: np.ndarray, labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A window smaller than ``size`` padded to it: image by reflection, labels with IGNORE.

    Canvases of images zoomed out for the network can be smaller than a training crop; padding
    labels with background would teach the reflected particles as background.
    """
    h, w = labels.shape
    pad = ((0, max(size - h, 0)), (0, max(size - w, 0)))
    if not any(p for _, p in pad):
        return image, labels
    mode = "reflect" if min(h, w) > 1 else "edge"
    return (np.pad(np.asarray(image, np.float32), pad, mode=mode),
            np.pad(labels, pad, constant_values=IGNORE))
