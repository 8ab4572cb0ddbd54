"""Tests of the classical segmentation on small synthetic images with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanosizer.errors import InputError
from nanosizer.segment.classical import ClassicalConfig, segment_classical

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def discs(shape, centres, radius):
    """Bool image with filled discs of ``radius`` at ``centres`` [(row, col), ...]."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    out = np.zeros(shape, dtype=bool)
    for r, c in centres:
        out |= (yy - r) ** 2 + (xx - c) ** 2 <= radius**2
    return out


def micrograph(fg, bright=True, noise=3.0, seed=0):
    """Grey image of a foreground: 160/60 grey levels (bright) or swapped, with noise."""
    rng = np.random.default_rng(seed)
    img = np.where(fg, 160.0, 60.0) if bright else np.where(fg, 60.0, 160.0)
    return img + rng.normal(0, noise, fg.shape)


def test_two_separated_discs_have_correct_areas():
    fg = discs((100, 140), [(50, 35), (50, 105)], 20)
    labels = segment_classical(micrograph(fg))
    assert labels.max() == 2
    true_area = (discs((100, 140), [(50, 35)], 20)).sum()
    areas = np.bincount(labels.ravel())[1:]
    np.testing.assert_allclose(areas, true_area, rtol=0.03)


def test_touching_discs_are_split():
    fg = discs((100, 140), [(50, 48), (50, 92)], 24)  # centres 44 px apart, overlapping
    labels = segment_classical(micrograph(fg))
    assert labels.max() == 2
    left, right = labels[50, 30], labels[50, 110]
    assert left != right and left > 0 and right > 0
    areas = np.bincount(labels.ravel())[1:]
    assert abs(int(areas[0]) - int(areas[1])) < 0.05 * areas.mean()


def test_single_disc_with_watershed_stays_one():
    fg = discs((80, 80), [(40, 40)], 25)
    assert segment_classical(micrograph(fg)).max() == 1


def test_watershed_off_keeps_clump():
    fg = discs((100, 140), [(50, 48), (50, 92)], 24)
    labels = segment_classical(micrograph(fg), config=ClassicalConfig(watershed=False))
    assert labels.max() == 1


@pytest.mark.parametrize("bright", [True, False])
def test_auto_polarity_finds_particles(bright):
    fg = discs((100, 140), [(30, 30), (70, 100)], 12)
    labels = segment_classical(micrograph(fg, bright=bright))
    assert labels.max() == 2
    assert np.array_equal(labels > 0, fg) or (np.mean((labels > 0) == fg) > 0.99)


def test_dark_on_bright_auto_matches_explicit_dark():
    fg = discs((100, 140), [(30, 30), (70, 100), (20, 110)], 10)
    img = micrograph(fg, bright=False)
    auto = segment_classical(img)
    dark = segment_classical(img, config=ClassicalConfig(polarity="dark"))
    assert np.array_equal(auto, dark) and auto.max() == 3


def test_mask_excludes_region():
    fg = discs((120, 120), [(30, 60), (95, 60)], 12)
    img = micrograph(fg)
    img[105:] = 255.0  # a bright "info bar" that would skew the statistics
    mask = np.ones(img.shape, dtype=bool)
    mask[80:] = False
    labels = segment_classical(img, mask=mask)
    assert labels.max() == 1
    assert not labels[~mask].any()
    assert labels[30, 60] == 1


def test_threshold_ignores_pixels_outside_mask():
    fg = discs((120, 120), [(40, 60)], 15)
    img = micrograph(fg)
    img[90:] = 10_000.0
    mask = np.ones(img.shape, dtype=bool)
    mask[90:] = False
    labels = segment_classical(img, mask=mask)
    assert labels.max() == 1 and abs((labels > 0).sum() - fg.sum()) < 0.03 * fg.sum()


@pytest.mark.parametrize("value", [0.0, 1.0, 255.0, 0.37])
def test_constant_image_gives_no_particles(value):
    labels = segment_classical(np.full((40, 50), value))
    assert labels.shape == (40, 50) and labels.dtype == np.int32 and labels.max() == 0


def test_empty_mask_gives_no_particles():
    fg = discs((40, 40), [(20, 20)], 8)
    labels = segment_classical(micrograph(fg), mask=np.zeros((40, 40), dtype=bool))
    assert labels.max() == 0


def test_small_objects_removed():
    fg = discs((100, 100), [(50, 50)], 15) | discs((100, 100), [(10, 10)], 2)  # 13 px
    labels = segment_classical(micrograph(fg, noise=0), config=ClassicalConfig(min_area=30))
    assert labels.max() == 1 and labels[50, 50] == 1 and labels[10, 10] == 0


def test_labels_sequential_dtype_shape_and_input_unchanged():
    fg = discs((90, 130), [(20, 20), (60, 60), (30, 110), (75, 110)], 9)
    img = micrograph(fg)
    before = img.copy()
    labels = segment_classical(img)
    assert np.array_equal(img, before)
    assert labels.dtype == np.int32 and labels.shape == img.shape
    assert np.array_equal(np.unique(labels), np.arange(5))


def test_fill_holes():
    fg = discs((80, 80), [(40, 40)], 20) & ~discs((80, 80), [(40, 40)], 5)
    img = micrograph(fg, noise=0)
    filled = segment_classical(img, config=ClassicalConfig(polarity="bright"))
    assert filled[40, 40] == 1
    hollow = segment_classical(img, config=ClassicalConfig(polarity="bright", fill_holes=False))
    assert hollow[40, 40] == 0


@pytest.mark.parametrize("method", ["otsu", "li", "triangle", "local", 110.0])
def test_threshold_methods(method):
    fg = discs((100, 140), [(30, 30), (70, 100)], 12)
    labels = segment_classical(micrograph(fg), config=ClassicalConfig(threshold=method))
    assert labels.max() == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"polarity": "up"},
        {"threshold": "mean"},
        {"threshold": float("nan")},
        {"sigma": -1.0},
        {"min_area": -5},
        {"min_area": 2.5},
        {"local_block": 20},
        {"marker_h": -0.1},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(InputError):
        ClassicalConfig(**kwargs)


def test_config_to_dict_round_trip():
    cfg = ClassicalConfig(polarity="dark", threshold=0.5)
    assert ClassicalConfig(**cfg.to_dict()) == cfg


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        segment_classical(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError):
        segment_classical(np.zeros((4, 4)), mask=np.ones((3, 4), dtype=bool))


def test_bam_sem_smoke():
    folder = DATA / "bam-tio2" / "sem"
    if not folder.is_dir():
        pytest.skip("shared BAM data not available")
    import tifffile

    img = tifffile.imread(sorted(folder.glob("*.tif"))[0]).astype(np.float32)
    mask = np.ones(img.shape, dtype=bool)
    mask[712:] = False
    labels = segment_classical(img, mask=mask)
    assert not labels[712:].any()
    assert 20 < labels.max() < 500
