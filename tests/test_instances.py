"""Tests of training targets and instance separation (nanosizer.train.targets, segment.instances)."""

import time

import numpy as np
import pytest

from nanosizer.segment.instances import InstanceThresholds, probabilities_to_labels
from nanosizer.train.targets import contact_map, make_targets, normalized_distance


def _two_squares():
    lab = np.zeros((12, 16), np.int32)
    lab[2:10, 2:8] = 1
    lab[2:10, 8:14] = 2
    return lab


def test_contact_exactly_on_the_touching_line():
    lab = _two_squares()
    contact = make_targets(lab, contact_width=2)[1]
    expected = np.zeros_like(contact)
    expected[2:10, 6:10] = 1  # two pixels on each side of the shared edge (columns 7|8)
    np.testing.assert_array_equal(contact, expected)


def test_contact_ignores_background_and_isolated_particles():
    lab = np.zeros((10, 10), np.int32)
    lab[2:6, 2:6] = 3
    assert not contact_map(lab).any()


def test_distance_peaks_at_one_per_particle_and_respects_neighbours():
    lab = _two_squares()
    dist = normalized_distance(lab)
    assert dist[lab == 0].max() == 0
    for i in (1, 2):
        assert dist[lab == i].max() == pytest.approx(1.0)
        assert dist[lab == i].min() > 0
    # the shared edge is an outline of both squares: low distance there
    assert dist[5, 7] < dist[5, 4] and dist[5, 8] < dist[5, 11]


def test_targets_shape_dtype_and_input_not_modified():
    lab = _two_squares()
    before = lab.copy()
    t = make_targets(lab)
    assert t.shape == (3, *lab.shape) and t.dtype == np.float32
    np.testing.assert_array_equal(t[0], lab > 0)
    np.testing.assert_array_equal(lab, before)


def test_targets_reject_float_labels():
    with pytest.raises(TypeError, match="integer"):
        make_targets(np.zeros((4, 4), np.float32))


def _touching_discs(shape=(64, 96), r=14, centres=((32, 32), (32, 59))):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    lab = np.zeros(shape, np.int32)
    for i, (cy, cx) in enumerate(centres, start=1):
        lab[((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) & (lab == 0)] = i
    return lab


def test_ideal_maps_split_two_touching_discs():
    lab = _touching_discs()
    assert (lab > 0).sum() > 0 and len(np.unique(lab)) == 3
    out = probabilities_to_labels(make_targets(lab))
    assert out.dtype == np.int32 and out.max() == 2
    # each predicted particle matches one disc almost exactly
    for i in (1, 2):
        j = np.bincount(out[lab == i]).argmax()
        inter = np.sum((out == j) & (lab == i))
        union = np.sum((out == j) | (lab == i))
        assert inter / union > 0.95


def test_mask_and_min_area():
    lab = _touching_discs()
    lab[2:4, 2:4] = 9  # 4-pixel speck
    maps = make_targets(lab)
    out = probabilities_to_labels(maps, InstanceThresholds(min_area=10))
    assert out.max() == 2
    mask = np.ones(lab.shape, bool)
    mask[:, 46:] = False  # hide the right disc
    out = probabilities_to_labels(maps, InstanceThresholds(min_area=10), mask=mask)
    assert out.max() == 1 and not out[:, 46:].any()


def test_foreground_without_marker_is_kept():
    fg = np.zeros((20, 20)); fg[5:12, 5:12] = 1
    maps = np.stack([fg, np.zeros_like(fg), np.zeros_like(fg)])  # no distance -> no seeds
    out = probabilities_to_labels(maps, InstanceThresholds(min_area=1))
    assert out.max() == 1 and (out > 0).sum() == 49


def test_thresholds_roundtrip_and_validation():
    t = InstanceThresholds(foreground=0.4, marker=0.6, contact=0.3, min_area=5)
    assert InstanceThresholds.from_dict(t.to_dict()) == t
    with pytest.raises(ValueError, match="marker"):
        InstanceThresholds(marker=1.5)
    with pytest.raises(ValueError, match="unknown"):
        InstanceThresholds.from_dict({"foo": 1})


def test_postprocessing_is_fast_on_a_full_frame():
    rng = np.random.default_rng(0)
    lab = np.zeros((768, 1024), np.int32)
    yy, xx = np.mgrid[:768, :1024]
    for i, (cy, cx) in enumerate(rng.uniform((20, 20), (748, 1004), size=(150, 2)), start=1):
        lab[((yy - cy) ** 2 + (xx - cx) ** 2 <= 15**2) & (lab == 0)] = i
    maps = make_targets(lab)
    probabilities_to_labels(maps)
    t0 = time.perf_counter()
    out = probabilities_to_labels(maps)
    assert time.perf_counter() - t0 < 0.3  # ~0.05 s unloaded; generous for a shared CI machine
    assert out.max() >= 140


def test_relative_area_filter_removes_fragments():
    lab = _touching_discs()
    lab[2:5, 2:6] = 9  # 12-pixel fragment, far below the median disc area (~600 px)
    maps = make_targets(lab)
    assert probabilities_to_labels(maps, InstanceThresholds(min_area=5)).max() == 3
    out = probabilities_to_labels(maps, InstanceThresholds(min_area=5, min_relative_area=0.1))
    assert out.max() == 2 and not out[2:5, 2:6].any()


def test_contact_ignores_the_image_border():
    lab = np.zeros((4, 6), np.int64)
    lab[:, :3] = 1
    lab[:, 3:] = 2
    np.testing.assert_array_equal(contact_map(lab, width=1)[0], [0, 0, 1, 1, 0, 0])
    assert not contact_map(np.ones((5, 5), np.int32)).any()
