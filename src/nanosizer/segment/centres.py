"""Instance separation by centre votes: every particle pixel points at its particle's centre.

Networks with the two extra ``offset_y``/``offset_x`` outputs (see
:mod:`nanosizer.train.targets`) predict, for each pixel, the vector to the centre of the particle
it belongs to.  Pixels on either side of the contact between two touching particles point in
different directions, so the seam is carried by the direction of the vectors rather than by a
thin contact line or a dip in a distance map, which small particles in dense agglomerates
hardly have.

:func:`centres_to_labels`:

1. the particle mask is ``foreground > thresholds.foreground``;
2. each mask pixel casts a vote at ``pixel + offset`` (followed ``thresholds.vote_steps``
   times along the offset field); the votes are counted per pixel and smoothed (Gaussian, ``thresholds.vote_sigma``) into a vote density (votes per px²);
3. centres are the regions where the density exceeds ``thresholds.vote_density``, split where
   one region holds several peaks that rise more than ``thresholds.vote_prominence`` (relative)
   above the saddle between them;
4. each mask pixel joins the centre its vote lands in (or one within ``3 * vote_sigma`` px);
   touching particles whose mean votes lie closer than ``thresholds.vote_merge`` times the
   sum of their equivalent radii are merged (pieces of one particle vote for one centre);
   detached pieces of a particle (but the largest) join the particles around them,
   mask pixels that reached no centre become particles of their own, and the area filters
   apply as for the watershed.

Offsets are stored as sigmoid outputs: ``offset = (2 * p - 1) * thresholds.offset_px``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .. import _blocks
from .._blocks import apply_lut, row_blocks
from ._labels import relabel_min_area

__all__ = ["OFFSET_PX", "EncodedOffsets", "predicts_offsets", "decode_offsets", "vote_density",
           "centres_to_labels", "refine_with_votes"]

#: Offset (network px) that a sigmoid output of 1 stands for (0 -> -OFFSET_PX, 0.5 -> 0).
OFFSET_PX: float = 64.0


def predicts_offsets(net) -> bool:
    """Whether a network has the two centre-offset outputs (five maps instead of three)."""
    return getattr(net, "out_channels", 3) == 5


def decode_offsets(encoded: np.ndarray, offset_px: float = OFFSET_PX) -> np.ndarray:
    """Offsets in px from their sigmoid encoding ``(2 * p - 1) * offset_px``.

    >>> decode_offsets(np.array([0.5, 1.0, 0.25]), 64.0)
    array([  0.,  64., -32.])
    """
    return (2.0 * np.asarray(encoded, dtype=np.float64) - 1.0) * offset_px


class EncodedOffsets:
    """Centre offsets kept in their sigmoid encoding and decoded where they are read.

    ``EncodedOffsets(encoded, offset_px)[axis][rows, cols]`` equals
    ``decode_offsets(encoded, offset_px)[axis][rows, cols]`` bit for bit, without the
    (2, H, W) float64 array of all offsets.

    Parameters
    ----------
    encoded : (2, H, W) ndarray of float
        Sigmoid outputs offset_y, offset_x.
    offset_px : float
        Offset (px) that an output of 1 stands for.
    """

    def __init__(self, encoded: np.ndarray, offset_px: float = OFFSET_PX) -> None:
        self.encoded = encoded
        self.offset_px = offset_px

    def __getitem__(self, axis: int) -> "_DecodedChannel":
        return _DecodedChannel(self.encoded[axis], self.offset_px)


class _DecodedChannel:
    """One channel of :class:`EncodedOffsets`; indexing decodes the values picked."""

    def __init__(self, encoded: np.ndarray, offset_px: float) -> None:
        self.encoded = encoded
        self.offset_px = offset_px

    def __getitem__(self, index) -> np.ndarray:
        return decode_offsets(self.encoded[index], self.offset_px)


def vote_density(
    fgmask: np.ndarray, offsets: np.ndarray, sigma: float, steps: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed count of the votes ``pixel + offset`` of the mask pixels.

    With ``steps > 1`` each vote follows the offsets further: from the point reached, the
    offset found there is added again (Euler steps along the offset field, as Cellpose follows
    its flows).  Exact offsets stay at the centre (its offset is 0); offsets a network predicts
    too short, but in the right direction, still arrive.

    Parameters
    ----------
    fgmask : (H, W) ndarray of bool
        Pixels that vote.
    offsets : (2, H, W) ndarray of float, or EncodedOffsets
        Vector (y, x) in px from each pixel to its particle centre; an
        :class:`EncodedOffsets` decodes them only where votes are cast.
    sigma : float
        Gaussian smoothing of the counts (px).
    steps : int
        Number of steps along the offsets (>= 1).

    Returns
    -------
    density : (H, W) ndarray of float32
        Votes per px² (the smoothing keeps the total).
    votes : (2, n) ndarray of int
        Row and column where each mask pixel (in ``np.nonzero`` order) voted, clipped to the
        image.
    """
    h, w = fgmask.shape
    votes = np.empty((2, int(np.count_nonzero(fgmask))), dtype=np.int32)
    done = 0
    for rows in row_blocks(fgmask.shape):
        ys, xs = np.nonzero(fgmask[rows])
        ys += rows.start
        votes[:, done : done + ys.size] = _follow(ys, xs, offsets, steps, h, w)
        done += ys.size
    density = _vote_counts(votes, h, w)
    if sigma > 0:
        ndi.gaussian_filter(density, sigma, output=density)  # in place, line by line
    return density, votes


def _follow(ys: np.ndarray, xs: np.ndarray, offsets, steps: int, h: int, w: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (row, column) each voter at ``(ys, xs)`` reaches in ``steps`` offset steps."""
    py, px = ys.astype(np.float64), xs.astype(np.float64)
    iy, ix = ys, xs
    for _ in range(max(int(steps), 1)):
        py = np.clip(py + offsets[0][iy, ix], 0, h - 1)
        px = np.clip(px + offsets[1][iy, ix], 0, w - 1)
        iy, ix = np.rint(py).astype(np.intp), np.rint(px).astype(np.intp)
    return iy, ix


def _vote_counts(votes: np.ndarray, h: int, w: int, block: int | None = None) -> np.ndarray:
    """(H, W) float32 number of votes per pixel.

    Counted in blocks of votes over the span of pixels each block reaches (votes come in
    raster order of the voting pixels and land near them), so no (H * W,) int64 array is made.
    The same as ``np.bincount(...).astype(np.float32)`` while a pixel gets fewer than 2**24
    votes.
    """
    counts = np.zeros(h * w, dtype=np.float32)
    block = block or _blocks.BLOCK_PIXELS
    for start in range(0, votes.shape[1], block):
        flat = votes[0, start : start + block].astype(np.intp) * w + votes[1, start : start + block]
        low = int(flat.min())
        span = np.bincount(flat - low)
        counts[low : low + span.size] += span
    return counts.reshape(h, w)


def _local_maxima(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``where & (values >= ndi.maximum_filter(values, size=3))``, in row bands.

    Each band is filtered with one row of context above and below, so no image-size filtered
    copy is made.
    """
    out = np.empty(values.shape, dtype=bool)
    h = values.shape[0]
    for rows in row_blocks(values.shape):
        top, bottom = max(rows.start - 1, 0), min(rows.stop + 1, h)
        peak = ndi.maximum_filter(values[top:bottom], size=3)[rows.start - top : rows.stop - top]
        out[rows] = where[rows] & (values[rows] >= peak)
    return out


def _centre_regions(density: np.ndarray, level: float, prominence: float) -> np.ndarray:
    """Labelled centre regions: density above ``level``, split between prominent peaks.

    Only regions with several local maxima are searched for prominent peaks (h-maxima of the
    log density, in their bounding box); most centre regions are small single peaks.
    """
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    above = density > level
    regions, n = ndi.label(above)
    if n == 0:
        return regions.astype(np.int32)
    local_max = _local_maxima(density, above)
    n_max = np.bincount(regions[local_max], minlength=n + 1)
    # split in place: a split region's new ids (> n) never match another region's id
    out = regions.astype(np.int32, copy=False)
    next_id = n + 1
    for index, slc in enumerate(ndi.find_objects(regions)):
        if slc is None or n_max[index + 1] < 2:
            continue
        own = regions[slc] == index + 1
        # in log density a relative prominence is a fixed height; outside, far below every peak
        logd = np.where(own, np.log(np.maximum(density[slc], level)), np.log(level) - 10.0)
        markers, k = ndi.label(h_maxima(logd, np.log1p(prominence)) > 0)
        if k < 2:
            continue
        split = watershed(-logd, markers, mask=own)
        out[slc][own] = np.where(split[own] == 1, index + 1, split[own] + next_id - 2)
        next_id += k - 1
    return out


def _merge_same_centre(labels: np.ndarray, votes: np.ndarray, fgmask: np.ndarray,
                       ratio: float) -> np.ndarray:
    """Merge touching particles whose votes point at the same place (in place).

    Two touching particles ``a``, ``b`` are one when their mean votes lie closer than
    ``ratio * (r_a + r_b)`` (``r``: equivalent-circle radius): the centres of two real particles
    are about ``r_a + r_b`` apart (more than half of it even when they overlap heavily), while
    pieces of one particle vote for one centre.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = int(labels.max())
    if n < 2:
        return labels
    ids = labels[fgmask]
    area = np.bincount(ids, minlength=n + 1).astype(np.float64)
    cy = np.bincount(ids, weights=votes[0], minlength=n + 1) / np.maximum(area, 1)
    cx = np.bincount(ids, weights=votes[1], minlength=n + 1) / np.maximum(area, 1)
    radius = np.sqrt(area / np.pi)
    pairs = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        touch = (a != b) & (a > 0) & (b > 0)
        pairs.append(np.stack([a[touch], b[touch]]))
    a, b = np.unique(np.concatenate(pairs, axis=1), axis=1)
    close = np.hypot(cy[a] - cy[b], cx[a] - cx[b]) < ratio * (radius[a] + radius[b])
    if not close.any():
        return labels
    graph = coo_matrix((np.ones(int(close.sum())), (a[close], b[close])), shape=(n + 1, n + 1))
    _, root = connected_components(graph, directed=False)
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[1:] = root[1:] + 1  # background keeps 0; ids stay unique per merged group
    return apply_lut(lut, labels, out=labels)


def _largest_pieces(labels: np.ndarray, fgmask: np.ndarray) -> np.ndarray:
    """Keep each particle's largest connected piece; other pieces join touching particles.

    Pixels whose votes strayed into a neighbour's centre leave specks of that neighbour on the
    wrong side of the seam; they are given to the particle around them (grown over at most
    4 px, the rest stays unlabelled).  Pieces are 4-connected; of equally large pieces the
    last in raster order (of its first pixel) is kept.  Each particle is split into its pieces
    within its bounding box, so no image-size piece map is made.  ``labels`` (int32,
    C-contiguous) is changed in place and returned.
    """
    kept = labels
    for index, box in enumerate(ndi.find_objects(kept)):
        if box is not None:
            _drop_small_pieces(kept, box, index + 1)
    for _ in range(2):
        grown = ndi.maximum_filter(kept, size=5)
        np.copyto(kept, grown, where=(kept == 0) & fgmask)
        del grown
    return kept


def _drop_small_pieces(labels: np.ndarray, box: tuple[slice, slice], label: int) -> None:
    """Set all but the largest 4-connected piece of ``label`` (inside ``box``) to 0, in place."""
    own = labels[box] == label
    pieces, n = ndi.label(own)
    if n < 2:
        return
    size = np.bincount(pieces.ravel())[1:]
    largest = n - int(np.argmax(size[::-1]))  # the last of equally large pieces
    labels[box][own & (pieces != largest)] = 0


def centres_to_labels(outputs: np.ndarray, thresholds, *, mask: np.ndarray | None = None) -> np.ndarray:
    """Instance labels from foreground and centre-offset maps (module docstring).

    Parameters
    ----------
    outputs : (5, H, W) ndarray of float
        Sigmoid outputs: foreground, contact, distance, offset_y, offset_x.
    thresholds : InstanceThresholds
        ``foreground``, ``offset_px``, ``vote_sigma``, ``vote_density``, ``vote_prominence``,
        ``vote_merge``, ``min_area`` and ``min_relative_area`` are used.
    mask : (H, W) ndarray of bool, optional
        Pixels that may belong to particles.

    Returns
    -------
    labels : (H, W) ndarray of int32
        0 = background, particles numbered 1..N.
    """
    t = thresholds
    fgmask = outputs[0] > t.foreground
    if mask is not None:
        fgmask &= mask
    votes, centre = _voted_centres(fgmask, outputs, t)
    labels = np.zeros(fgmask.shape, dtype=np.int32)
    labels[fgmask] = centre
    del centre
    return _finish(labels, votes, fgmask, t)


def _voted_centres(fgmask: np.ndarray, outputs: np.ndarray, t) -> tuple[np.ndarray, np.ndarray]:
    """Where each mask pixel votes and the centre region its vote reaches (0: none).

    Both in ``np.nonzero(fgmask)`` order; a vote outside every region reaches one within
    ``3 * vote_sigma`` px.
    """
    offsets = EncodedOffsets(outputs[3:5], t.offset_px)
    density, votes = vote_density(fgmask, offsets, t.vote_sigma, t.vote_steps)
    regions = _centre_regions(density, t.vote_density, t.vote_prominence)
    del density
    reach = 2 * int(np.ceil(3.0 * max(t.vote_sigma, 1.0))) + 1
    near = ndi.maximum_filter(regions, size=reach)
    np.copyto(near, regions, where=regions > 0)
    return votes, near[votes[0], votes[1]]


def _finish(labels: np.ndarray, votes: np.ndarray, fgmask: np.ndarray, t) -> np.ndarray:
    """Merge particles voting for one centre, keep each one's largest piece, make the mask
    pixels left over particles of their own, apply the area filters.

    ``labels`` (int32, C-contiguous, the decoder's own) is worked on in place.
    """
    if t.vote_merge > 0:
        labels = _merge_same_centre(labels, votes, fgmask, t.vote_merge)
    labels = _largest_pieces(labels, fgmask)
    orphans, n_orphans = ndi.label(fgmask & (labels == 0))
    if n_orphans:
        orphans[orphans > 0] += labels.max()
        np.copyto(labels, orphans, where=orphans > 0)
    del orphans
    return relabel_min_area(labels, t.min_area, t.min_relative_area)


def refine_with_votes(labels: np.ndarray, outputs: np.ndarray, thresholds,
                      *, share: float = 0.25) -> np.ndarray:
    """Split and merge watershed particles where the centre votes say so (``'hybrid'``).

    A particle whose pixels vote for two or more centre regions, each receiving at least
    ``share`` times the votes of its most voted centre (and ``min_area``), is cut between them
    (its pixels go to the centre they vote for; the rest to the piece around them); then touching particles whose mean votes
    coincide are merged (``vote_merge``, see :func:`centres_to_labels`).  The watershed's
    particles stand where the votes are unclear, which is where offsets of a network trained on
    other images are least reliable.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Particles of the watershed decoder.
    outputs : (5, H, W) ndarray of float
        The maps they came from, with the offsets.
    thresholds : InstanceThresholds
    share : float
        Smallest share of the votes of a particle's most voted centre that makes another
        centre count for the cut.

    Returns
    -------
    (H, W) ndarray of int32
    """
    t = thresholds
    fgmask = labels > 0
    votes, centre = _voted_centres(fgmask, outputs, t)
    centre = centre.astype(np.int64)
    lab = labels[fgmask].astype(np.int64)
    n_centres = int(centre.max()) + 1 if centre.size else 1
    key = lab * n_centres + centre
    keys, counts = np.unique(key, return_counts=True)
    owner, part = keys // n_centres, keys % n_centres
    n_labels = int(labels.max()) + 1
    largest = np.zeros(n_labels, dtype=np.int64)
    voted = part > 0
    np.maximum.at(largest, owner[voted], counts[voted])
    big = voted & (counts >= np.maximum(share * largest[owner], max(t.min_area, 1)))
    n_big = np.bincount(owner[big], minlength=n_labels)
    split = n_big[lab] >= 2
    out = labels.astype(np.int64)
    if split.any():
        is_big = np.zeros(keys.size, bool)
        is_big[big] = True
        pixel_big = is_big[np.searchsorted(keys, key)]
        # pixels of a split particle voting for none of its big centres stay 0 here and
        # are given to the piece around them by _finish
        new = np.where(split & pixel_big, labels.max() + 1 + key, 0)
        flat = out[fgmask]
        flat[split] = new[split]
        out[fgmask] = flat
        ids = out > 0
        out[ids] = np.unique(out[ids], return_inverse=True)[1].ravel() + 1
    return _finish(out.astype(np.int32), votes, fgmask, t)
