"""Copy-paste composites and pseudo-labels of the initial model (nanosizer.adapt.copypaste)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanosizer.adapt.copypaste import (
    CopyPasteSource, Cutout, _ignore_small_pieces, erase_ignored, isolated_cutouts,
    paste_particles,
)
from nanosizer.adapt.finetune import MixedSource
from nanosizer.adapt.pseudo import IGNORE


def _disk(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(yy - cy, xx - cx) <= r


def _scene():
    """Three particles: one alone, two touching each other, one next to an ignored blob."""
    shape = (80, 120)
    labels = np.zeros(shape, np.int32)
    labels[_disk(shape, 20, 20, 8)] = 1  # alone
    labels[_disk(shape, 20, 60, 8)] = 2
    labels[_disk(shape, 20, 75, 8) & (labels == 0)] = 3  # touches 2
    labels[_disk(shape, 60, 60, 8)] = 4
    labels[_disk(shape, 60, 76, 6)] = IGNORE  # 2 px from particle 4
    image = np.where(labels != 0, 200.0, 30.0).astype(np.float32)
    image[labels == 1] = 180.0
    return image, labels


def test_isolated_cutouts_keep_only_particles_with_clearance():
    image, labels = _scene()
    cutouts = isolated_cutouts(image, labels, gap=3, min_area=10)
    assert len(cutouts) == 1
    (cut,) = cutouts
    assert cut.mask.sum() == (labels == 1).sum() and np.all(cut.image[cut.mask] == 180.0)
    assert cut.radius == pytest.approx(np.sqrt((labels == 1).sum() / np.pi))
    assert isolated_cutouts(image, labels, gap=3, min_area=500) == []
    with pytest.raises(ValueError, match="shape"):
        isolated_cutouts(image[:10], labels)


def _one_particle_and_cutout(background: float, cutout_value: float):
    """A 120 px image with one disk particle (grey 100) and a disk cutout of radius 10."""
    labels = _disk((120, 120), 60, 60, 12).astype(np.int32)
    image = np.where(labels > 0, 100.0, background).astype(np.float32)
    mask = _disk((21, 21), 10, 10, 10)
    return image, labels, mask, Cutout(np.where(mask, cutout_value, 7.0).astype(np.float32), mask)


def test_pasted_particles_lie_on_top_with_exact_labels():
    image, labels, mask, cutout = _one_particle_and_cutout(0.0, 255.0)
    out, lab = paste_particles(image, labels, [cutout], 3, np.random.default_rng(1), p_touch=1.0,
                               scale_range=(1.0, 1.0))
    new = lab > 1
    assert 2 <= len(np.unique(lab[new])) <= 3
    assert np.all(out[new] == 255.0) and np.all(out[lab == 1] == 100.0)
    assert np.all(out[lab == 0] == 0.0)  # nothing outside a particle changed
    assert (lab == 1).sum() < (labels == 1).sum()  # touching: the first particle is overlapped
    assert np.array_equal(image, np.where(labels > 0, 100.0, 0.0))  # inputs untouched


def test_particles_pasted_behind_take_background_only_and_are_dimmer():
    image, labels, mask, cutout = _one_particle_and_cutout(10.0, 210.0)
    out, lab = paste_particles(image, labels, [cutout], 3, np.random.default_rng(1), p_touch=1.0,
                               scale_range=(1.0, 1.0), p_behind=1.0)
    assert np.array_equal(lab == 1, labels == 1)  # the front particle keeps every pixel
    assert np.all(out[labels == 1] == 100.0)
    new = lab > 1
    assert new.any() and (lab == IGNORE).sum() + new.sum() <= 3 * mask.sum()
    # dimmed towards the background level (10): contrast x 0.55-0.9 of the cutout's 200
    assert np.all((out[new] >= 10 + 0.55 * 200 - 1e-3) & (out[new] <= 10 + 0.9 * 200 + 1e-3))
    assert np.all(out[lab == 0] == 10.0)


def test_small_visible_pieces_of_covered_particles_are_ignored():
    labels = np.zeros((10, 20), np.int32)
    labels[2:8, 2:18] = 1
    labels[2:8, 5:15] = 2  # covers the middle: pieces of 18 and 18 px remain
    _ignore_small_pieces(labels, 1, min_visible=20)
    assert not np.any(labels == 1) and (labels == IGNORE).sum() == 36


def test_erase_ignored_paints_background_and_drops_the_label():
    image, labels = _scene()
    out, lab = erase_ignored(image, labels, np.random.default_rng(0))
    assert lab.min() == 0 and np.array_equal(lab, np.where(labels == IGNORE, 0, labels))
    assert np.all(out[labels == IGNORE] == pytest.approx(30.0))  # background has no spread
    assert np.array_equal(out[labels > 0], image[labels > 0])


def test_copy_paste_source_is_deterministic_and_adds_particles():
    image, labels = _scene()
    cutouts = isolated_cutouts(image, labels, min_area=10)
    source = CopyPasteSource([(image, labels)], [cutouts], size=64, seed=3)
    img, lab = source(5)
    assert img.shape == lab.shape == (64, 64)
    img2, lab2 = source(5)
    assert np.array_equal(img, img2) and np.array_equal(lab, lab2)
    assert lab.max() > 4  # pasted particles get new ids
    with pytest.raises(ValueError, match="isolated"):
        CopyPasteSource([(image, labels)], [[]], size=64, seed=0)


def test_mixed_source_follows_the_shares():
    def first(i):
        return np.zeros((4, 4)), np.zeros((4, 4), np.int32)

    def second(i):
        return np.ones((4, 4)), np.zeros((4, 4), np.int32)

    only_first = MixedSource([first, second], [1.0, 0.0])
    assert all(only_first(i)[0].sum() == 0 for i in range(20))
    mixed = [MixedSource([first, second], [1, 1], seed=2)(i)[0].sum() > 0 for i in range(200)]
    assert 60 < sum(mixed) < 140
    with pytest.raises(ValueError):
        MixedSource([first], [0.0])


def test_loss_ignores_zero_weight_pixels():
    from nanosizer.train.loss import segmentation_loss

    torch.manual_seed(0)
    logits = torch.randn(2, 3, 16, 16)
    targets = (torch.rand(2, 3, 16, 16) > 0.5).float()
    ones = torch.ones(2, 1, 16, 16)
    plain, _ = segmentation_loss(logits, targets)
    weighted, _ = segmentation_loss(logits, torch.cat([targets, ones], 1))
    assert torch.allclose(plain, weighted, atol=1e-5)
    weight = ones.clone()
    weight[..., :8] = 0
    changed = targets.clone()
    changed[..., :8] = 1 - changed[..., :8]
    a, _ = segmentation_loss(logits, torch.cat([targets, weight], 1))
    b, _ = segmentation_loss(logits, torch.cat([changed, weight], 1))
    assert torch.allclose(a, b, atol=1e-6) and not torch.allclose(a, plain)


def test_teacher_labels_of_the_sample_follow_analyze():
    from nanosizer.adapt.pseudo import teacher_labels
    from nanosizer.data import sample_path
    from nanosizer.io import read_micrograph
    from nanosizer.segment.cnn import ZOOMS, segment_cnn

    m = read_micrograph(sample_path())
    labels, zoom = teacher_labels(m, "unet")
    assert labels.shape == m.analysis_data.shape and zoom in ZOOMS
    confident = labels > 0
    assert labels.max() > 50 and np.any(labels == IGNORE)
    analyzed = segment_cnn(m, "unet")[: labels.shape[0]]
    assert np.mean(analyzed[confident] > 0) > 0.99  # confident particles are analyze's particles
    # the count guard reuses this pass: its count is analyze's
    assert teacher_labels(m, "unet", return_count=True)[2] == len(np.unique(analyzed)) - 1


def test_copy_paste_source_pads_canvases_smaller_than_the_window_with_ignore():
    image, labels = _scene()  # 80 x 120
    cutouts = isolated_cutouts(image, labels, min_area=10)
    source = CopyPasteSource([(image, labels)], [cutouts], size=160, seed=1)
    img, lab = source(0)
    assert img.shape == lab.shape == (160, 160)
    pad = np.ones((160, 160), bool)
    pad[:80, :120] = False
    # the margin is ignored (its reflected particles are neither particles nor background),
    # except where a particle was pasted into it
    assert np.all((lab[pad] == IGNORE) | (lab[pad] > labels.max()))
    assert np.mean(lab[pad] == IGNORE) > 0.5
    assert lab.max() > labels.max()  # particles were pasted
