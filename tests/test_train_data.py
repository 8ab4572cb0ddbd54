"""Tests of training data helpers: normalisation, augmentation, loss, datasets."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nanosizer.train.augment import augment_geometry, augment_intensity, random_crop  # noqa: E402
from nanosizer.train.config import TrainConfig  # noqa: E402
from nanosizer.train.data import TrainingSet, find_pairs  # noqa: E402
from nanosizer.train.loss import segmentation_loss  # noqa: E402
from nanosizer.train.normalize import normalize_image  # noqa: E402
from nanosizer.train.targets import make_targets  # noqa: E402
from nanosizer.errors import InputError  # noqa: E402


def test_normalize_percentiles_and_mask():
    img = np.arange(100, dtype=np.float32).reshape(10, 10)
    out = normalize_image(img, 0, 100)
    assert out.dtype == np.float32 and out.min() == 0 and out.max() == 1
    mask = np.zeros_like(img, bool)
    mask[:5] = True  # values 0..49
    assert normalize_image(img, 0, 100, mask=mask)[4, 9] == pytest.approx(1.0)
    assert not normalize_image(np.ones((4, 4))).any()


def test_crop_keeps_image_and_labels_aligned():
    rng = np.random.default_rng(0)
    lab = np.zeros((100, 120), np.int32)
    lab[20:60, 30:90] = 5
    img = (lab > 0).astype(np.float32)
    for _ in range(10):
        ci, cl = random_crop(img, lab, 48, rng, (0.8, 1.25))
        ci, cl = augment_geometry(ci, cl, rng)
        assert ci.shape == cl.shape == (48, 48) and cl.dtype == np.int32
        assert set(np.unique(cl)) <= {0, 5}
        inside = ci[cl > 0]
        assert inside.size == 0 or inside.mean() > 0.9


def test_small_images_are_padded():
    img, lab = random_crop(np.ones((10, 12), np.float32), np.ones((10, 12), np.int32), 16,
                           np.random.default_rng(1))
    assert img.shape == (16, 16) and lab[12:].max() == 0


def test_intensity_augmentation_is_reproducible():
    img = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    a = augment_intensity(img, np.random.default_rng(5), p_invert=1.0)
    b = augment_intensity(img, np.random.default_rng(5), p_invert=1.0)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == img.shape


def test_loss_prefers_the_truth():
    lab = np.zeros((32, 32), np.int32)
    lab[4:16, 4:16] = 1
    lab[4:16, 16:28] = 2
    t = torch.from_numpy(make_targets(lab))[None]
    good = 12.0 * (2 * t - 1)
    good[:, 2] = torch.logit(t[:, 2].clamp(1e-4, 1 - 1e-4))
    bad = torch.zeros_like(good)
    assert segmentation_loss(good, t)[0] < 0.3 * segmentation_loss(bad, t)[0]


def test_training_set_items_are_deterministic():
    cfg = TrainConfig(tile=32, samples_per_epoch=4, crops_per_image=2, seed=1)
    ds = TrainingSet(cfg, epoch=0)
    x0, y0 = ds[1]
    x1, y1 = TrainingSet(cfg, epoch=0)[1]
    assert x0.shape == (1, 32, 32) and y0.shape == (3, 32, 32)
    assert torch.equal(x0, x1) and torch.equal(y0, y1)
    assert not torch.equal(TrainingSet(cfg, epoch=1)[1][0], x0)


def test_find_pairs_requires_labels(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"")
    with pytest.raises(InputError, match="no labels/a"):
        find_pairs(tmp_path)


def test_particle_augmentation_leaves_background_alone():
    from nanosizer.train.augment import augment_particles

    lab = np.zeros((40, 40), np.int32)
    lab[5:20, 5:20] = 1
    lab[22:35, 10:30] = 2
    img = np.where(lab > 0, 0.8, 0.1).astype(np.float32)
    for seed in range(6):
        out = augment_particles(img, lab, np.random.default_rng(seed))
        assert out.dtype == np.float32 and out.shape == img.shape
        np.testing.assert_array_equal(out[lab == 0], img[lab == 0])
    assert augment_particles(np.zeros((4, 4), np.float32), np.zeros((4, 4), int),
                             np.random.default_rng(0)).max() == 0
