"""Large images in bounded memory: block-wise and in-place steps give the same results.

Each step that used to make image-size temporaries (float64 copies, int64 casts, whole-image
dilations) is compared with the whole-image computation it replaces, on small images cut
into several blocks; a peak-memory guard (``tracemalloc`` sees NumPy's buffers) keeps the
bytes per pixel of the steps of ``analyze`` from growing back.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.measure import label as connected
from skimage.segmentation import find_boundaries

import nanosizer._blocks as blocks
from nanosizer.measure import measure_particles
from nanosizer.normalize import normalize_image
from nanosizer.report import overlay
from nanosizer.segment import centres
from nanosizer.segment.instances import InstanceThresholds, probabilities_to_labels


def _small_blocks(monkeypatch, module, pixels: int = 500) -> None:
    """Make ``module`` cut images into blocks of ``pixels`` pixels (several per test image)."""
    monkeypatch.setattr(module, "row_blocks",
                        lambda shape: blocks.row_blocks(shape, pixels=pixels))


def _particles(shape=(96, 128), n=40, seed=0) -> np.ndarray:
    """int32 labels of touching random discs, some split into several pieces."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, dtype=np.int32)
    for k in range(1, n + 1):
        cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(3, 9)
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    return labels


def _maps(shape=(96, 128), seed=1) -> np.ndarray:
    """(5, H, W) float32 maps with particles, contacts, distances and offsets."""
    labels = _particles(shape, seed=seed)
    fg = (labels > 0).astype(np.float32)
    dist = ndi.distance_transform_edt(labels > 0).astype(np.float32)
    dist /= max(float(dist.max()), 1.0)
    contact = find_boundaries(labels, mode="inner").astype(np.float32) * fg
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(0.4, 0.6, (2, *shape)).astype(np.float32)
    return np.stack([fg, contact, dist, *offsets])


def test_in_place_sigmoid_equals_the_expression_bit_for_bit():
    from nanosizer.segment._cnn_maps import _sigmoid

    logits = np.random.default_rng(0).normal(0, 8, (3, 40, 50)).astype(np.float32)
    expected = (0.5 * (np.tanh(0.5 * logits) + 1.0)).astype(np.float32)
    assert np.array_equal(_sigmoid(logits.copy()), expected)


@pytest.mark.parametrize("masked", [False, True])
def test_normalize_in_blocks_equals_the_whole_image_formula(monkeypatch, masked):
    import nanosizer.normalize as normalize

    _small_blocks(monkeypatch, normalize)
    rng = np.random.default_rng(2)
    image = rng.normal(100, 30, (70, 45)).astype(np.float32)
    mask = rng.random(image.shape) > 0.3 if masked else None
    lo, hi = np.percentile(image[mask] if masked else image, (1.0, 99.8))
    expected = ((image - lo) / (hi - lo)).astype(np.float32)
    before = image.copy()
    assert np.array_equal(normalize_image(image, 1.0, 99.8, mask=mask), expected)
    assert np.array_equal(image, before)


def test_label_counts_and_lookups_in_blocks_equal_numpy():
    labels = _particles()
    assert np.array_equal(blocks.label_counts(labels, block=777), np.bincount(labels.ravel()))
    lut = np.arange(labels.max() + 1, dtype=np.int32)[::-1].copy()
    assert np.array_equal(blocks.apply_lut(lut, labels, block=333), lut[labels])
    assert np.array_equal(blocks.label_counts(np.zeros((3, 4), np.int32)), [12])


def test_votes_decoded_where_cast_and_counted_in_blocks_equal_the_full_decoding(monkeypatch):
    maps = _maps()
    fg = maps[0] > 0.5
    full = centres.decode_offsets(maps[3:5], 20.0)
    expected_density, expected_votes = centres.vote_density(fg, full, 1.0, steps=3)
    _small_blocks(monkeypatch, centres)
    monkeypatch.setattr(centres, "_vote_counts",
                        lambda votes, h, w: _vote_counts(votes, h, w, block=97))
    density, votes = centres.vote_density(fg, centres.EncodedOffsets(maps[3:5], 20.0), 1.0,
                                          steps=3)
    assert np.array_equal(votes, expected_votes)
    assert np.array_equal(density, expected_density)
    counts = np.bincount(votes[0] * fg.shape[1] + votes[1], minlength=fg.size)
    counts = counts.astype(np.float32).reshape(fg.shape)
    assert np.array_equal(_vote_counts(votes, *fg.shape, block=50), counts)
    assert np.array_equal(density, ndi.gaussian_filter(counts, 1.0))  # smoothed in place


def test_local_maxima_in_bands_equal_the_whole_image_filter(monkeypatch):
    values = np.random.default_rng(6).poisson(3, (90, 70)).astype(np.float32)
    where = values > 2
    expected = where & (values >= ndi.maximum_filter(values, size=3))
    _small_blocks(monkeypatch, centres, pixels=300)
    assert np.array_equal(centres._local_maxima(values, where), expected)


def test_lookups_in_place_equal_a_new_array():
    labels = _particles()
    lut = (np.arange(labels.max() + 1, dtype=np.int32) * 3) % 17
    expected = lut[labels]
    assert blocks.apply_lut(lut, labels, block=211, out=labels) is labels
    assert np.array_equal(labels, expected)


_vote_counts = centres._vote_counts


def _largest_pieces_whole_image(labels, fgmask):
    """The previous implementation: one image-size map of all pieces (skimage.measure.label)."""
    pieces = connected(labels, connectivity=1, background=0)
    n = int(pieces.max())
    if n == 0:
        return labels
    owner = np.zeros(n + 1, dtype=np.int64)
    owner[pieces.ravel()] = labels.ravel()
    size = np.bincount(pieces.ravel(), minlength=n + 1)
    order = np.lexsort((size[1:], owner[1:]))
    largest = np.zeros(n + 1, dtype=bool)
    last = np.r_[owner[1:][order][1:] != owner[1:][order][:-1], True]
    largest[1 + order[last]] = True
    largest[0] = False
    kept = np.where(largest[pieces], labels, 0)
    for _ in range(2):
        grown = ndi.maximum_filter(kept, size=5)
        kept = np.where((kept == 0) & fgmask, grown, kept)
    return kept.astype(np.int32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_largest_pieces_per_particle_equal_the_whole_image_piece_map(seed):
    rng = np.random.default_rng(seed)
    labels = _particles(seed=seed)
    # scatter specks of other ids (pieces of equal size: ties) over the particles
    ys, xs = rng.integers(0, labels.shape[0], 300), rng.integers(0, labels.shape[1], 300)
    labels[ys, xs] = rng.integers(1, 41, 300)
    fgmask = (labels > 0) | (rng.random(labels.shape) > 0.7)
    expected = _largest_pieces_whole_image(labels, fgmask)
    assert np.array_equal(centres._largest_pieces(labels.copy(), fgmask), expected)


@pytest.mark.parametrize("decoder", ["watershed", "centres", "hybrid"])
def test_decoders_do_not_change_their_maps(decoder):
    maps = _maps()
    before = maps.copy()
    t = InstanceThresholds(decoder=decoder, smooth=1.0, min_area=4, offset_px=8.0)
    labels = probabilities_to_labels(maps, t)
    assert labels.dtype == np.int32 and labels.max() > 5
    assert np.array_equal(maps, before)


def test_overlay_in_bands_equals_the_whole_image_drawing(monkeypatch):
    labels = _particles((200, 260), n=60)
    image = np.random.default_rng(3).normal(90, 20, labels.shape).astype(np.float32)
    excluded = [3, 7, 11, 999]
    whole = overlay.label_overlay(image, labels, excluded=excluded)
    _small_blocks(monkeypatch, overlay, pixels=2000)
    banded = overlay.label_overlay(image, labels, excluded=excluded)
    assert np.array_equal(banded, whole)
    ids, centroids = overlay._centroids(labels)
    present = np.unique(labels[labels > 0])
    assert np.array_equal(ids, present)
    assert centroids == ndi.center_of_mass(np.ones_like(labels, np.uint8), labels, present)
    edges = np.zeros(labels.shape, bool)
    for rows, band in overlay._inner_boundaries(labels):
        edges[rows] = band
    assert np.array_equal(edges, find_boundaries(labels, mode="inner"))


def test_measuring_int32_labels_as_they_are_equals_int64():
    labels = _particles()
    image = np.random.default_rng(4).normal(100, 10, labels.shape).astype(np.float32)
    exclude = np.zeros(labels.shape, bool)
    exclude[-5:] = True
    a = measure_particles(labels, image, 2.5, exclude=exclude)
    b = measure_particles(labels.astype(np.int64), image, 2.5, exclude=exclude)
    assert a.equals(b)
    assert a["label"].dtype == np.int64


def _peak_bytes_per_pixel(func, *args, pixels: int, **kwargs) -> float:
    tracemalloc.start()
    try:
        func(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1] / pixels
    finally:
        tracemalloc.stop()


def test_large_image_steps_stay_within_their_memory_per_pixel(monkeypatch):
    """Peak NumPy memory per pixel of the steps that ran an 8192 x 8192 image out of memory.

    Blocks of 1/16 of the 1024 x 1024 test image stand for the 4 Mpx blocks of a large image.
    Limits: what the steps use (8.4, 17.2, 13.9, 11.4 and 6.1 B/px) plus ~15 %; the
    whole-image versions took 16 (normalisation), 27 (watershed decoder), 35 (centre decoder),
    20 (measuring) and 23 (overlay).
    """
    monkeypatch.setattr(blocks, "BLOCK_PIXELS", 1 << 16)
    shape = (1024, 1024)
    px = shape[0] * shape[1]
    image = np.random.default_rng(5).normal(100, 20, shape).astype(np.float32)
    mask = np.ones(shape, bool)
    mask[-50:] = False
    maps = np.concatenate([_maps(shape=(256, 256), seed=s) for s in range(4)], axis=1)
    maps = np.concatenate([maps] * 4, axis=2)
    watershed_t = InstanceThresholds(smooth=1.0)
    centre_t = InstanceThresholds(decoder="centres", offset_px=8.0)
    labels = probabilities_to_labels(maps, watershed_t)
    peaks = {
        "normalize": _peak_bytes_per_pixel(normalize_image, image, mask=mask, pixels=px),
        "watershed": _peak_bytes_per_pixel(probabilities_to_labels, maps, watershed_t,
                                           pixels=px),
        "centres": _peak_bytes_per_pixel(probabilities_to_labels, maps, centre_t, pixels=px),
        "measure": _peak_bytes_per_pixel(measure_particles, labels, image, 1.0, pixels=px),
        "overlay": _peak_bytes_per_pixel(overlay.label_overlay, image, labels, mask=mask,
                                         pixels=px),
    }
    limits = {"normalize": 9.7, "watershed": 20, "centres": 16, "measure": 13, "overlay": 7}
    assert {k: round(v, 1) for k, v in peaks.items() if v > limits[k]} == {}
