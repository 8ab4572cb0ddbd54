"""Confident pseudo-labels of real images, for self-training."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["IGNORE", "probabilities", "confident_labels", "teacher_labels"]


def probabilities(net, image: np.ndarray, mask: np.ndarray | None = None, device=None,
                  tile: int | None = None) -> np.ndarray:
    """Sigmoid outputs (3, H, W) of ``net`` for a raw image, normalised as in training."""
    from ..nn import predict
    from ..train import normalize_image

    x = normalize_image(np.asarray(image, np.float32), mask=mask)
    if tile is None and x.size > 2048 * 2048:
        tile = 512
    logits = predict(net, x, tile=tile, overlap=64 if tile else 0, device=device)
    return (0.5 * (np.tanh(0.5 * logits) + 1.0)).astype(np.float32)


def confident_labels(probs: np.ndarray, thresholds, mask: np.ndarray | None = None,
                     min_confidence: float = 0.85, max_contact: float = 0.5,
                     max_relative_area: float | None = None) -> tuple:
    """Instance labels, and which particles are confident enough to train on.

    A particle is confident when its mean foreground probability is at least
    ``min_confidence``, the mean contact probability on its pixels is below ``max_contact`` and
    it does not touch the border of ``mask`` (or of the image).  With ``max_relative_area``,
    a particle larger than that many times the median area of the otherwise confident ones is
    not confident either: unsplit agglomerates are confident to the network, but large.

    Parameters
    ----------
    probs : (3, H, W) ndarray
        Foreground, contact, distance probabilities.
    thresholds : InstanceThresholds
    mask : (H, W) ndarray of bool, optional
    min_confidence, max_contact : float
    max_relative_area : float, optional
        Applied only when at least 5 particles are otherwise confident.

    Returns
    -------
    labels : (H, W) ndarray of int32
        All particles found.
    confident : (H, W) ndarray of int32
        Only the confident ones, renumbered 1..K.
    """
    from ..segment import relabel_min_area
    from ..segment.instances import probabilities_to_labels

    labels = probabilities_to_labels(probs, thresholds, mask=mask)
    ids = np.arange(1, int(labels.max()) + 1)
    if ids.size == 0:
        return labels, labels.copy()
    fg = np.asarray(ndi.mean(probs[0], labels, ids))
    contact = np.asarray(ndi.mean(probs[1], labels, ids))
    region = np.ones(labels.shape, bool) if mask is None else np.asarray(mask, bool)
    edge = region & ~ndi.binary_erosion(region, border_value=0)
    touching = np.unique(labels[edge])
    keep = np.zeros(ids.size + 1, bool)
    keep[ids] = (fg >= min_confidence) & (contact < max_contact)
    keep[touching] = False
    keep[0] = False
    if max_relative_area is not None and keep.sum() >= 5:
        area = np.bincount(labels.ravel(), minlength=ids.size + 1)
        keep &= area <= max_relative_area * np.median(area[keep])
    return labels, relabel_min_area(np.where(keep[labels], labels, 0), 1)


#: Label value of pixels that self-training ignores (unconfident particles and their rims).
IGNORE = -1


#: Confident particles larger than this times the median confident area become IGNORE: on the
#: BAM frames, checked against hand-corrected labels, it drops 57 % of the agglomerates the
#: default UNet leaves unsplit and 8 % of the real single particles.
MAX_RELATIVE_AREA = 1.5


def teacher_labels(micrograph, model, *, device=None, ignore_margin: int = 2,
                   max_relative_area: float | None = MAX_RELATIVE_AREA,
                   return_count: bool = False) -> tuple:
    """Pseudo-labels of a micrograph by ``model`` run as ``analyze`` runs it.

    Confident particles (:func:`confident_labels`, at most ``max_relative_area`` times their
    median area) become labels; the other particles, grown by ``ignore_margin`` px, become
    :data:`IGNORE`, so that training neither teaches them as particles nor as background.
    Only the analysed rows (no info bar) are returned.

    Parameters
    ----------
    micrograph : Micrograph
    model : str or Path
        Shipped model name or model folder.
    device : str, optional
    ignore_margin : int
    max_relative_area : float, optional
    return_count : bool
        Also return how many particles ``analyze`` finds in the micrograph with ``model``.

    Returns
    -------
    labels : (H, W) ndarray of int32
        Confident particles 1..K, background 0, :data:`IGNORE` elsewhere; the shape of
        ``micrograph.analysis_data``.
    zoom : float
        The zoom at which the model saw the image.
    count : int
        Only with ``return_count``: all particles found, confident or not.
    """
    from ..segment.cnn import segmentation_maps

    probs, thresholds, zoom = segmentation_maps(micrograph, model, device=device, return_zoom=True)
    rows = micrograph.analysis_data.shape[0]
    # on the whole maps, as analyze does (smoothing at a cropped edge would differ), then cropped
    labels, confident = confident_labels(probs, thresholds, mask=micrograph.analysis_mask,
                                         max_relative_area=max_relative_area)
    labels, confident = labels[:rows], confident[:rows]
    unsure = (labels > 0) & (confident == 0)
    if ignore_margin > 0 and unsure.any():
        unsure = ndi.binary_dilation(unsure, iterations=ignore_margin)
    out = np.where(unsure & (confident == 0), IGNORE, confident).astype(np.int32)
    return (out, float(zoom), int(labels.max())) if return_count else (out, float(zoom))
