"""CycleGAN: tiny runs (finite losses, shapes), pool, save/load, unrendered-particle filter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanosizer.adapt._cyclegan_nets import ImagePool, PatchDiscriminator, ResnetGenerator
from nanosizer.adapt.cyclegan import (
    CycleGANConfig,
    filter_unrendered,
    load_cyclegan,
    random_tiles,
    train_cyclegan,
)
from nanosizer.errors import InputError

TINY = CycleGANConfig(gen_channels=4, gen_blocks=1, disc_channels=4, disc_layers=2,
                      batch_size=2, pool_size=3)


def _domains(rng=0):
    rng = np.random.default_rng(rng)
    masks = rng.random((4, 32, 32)) > 0.8
    real = rng.random((5, 40, 40)).astype(np.float32)
    return masks, real


@pytest.mark.parametrize("shape", [(1, 1, 32, 32), (2, 1, 30, 45), (1, 1, 5, 7)])
def test_generator_keeps_any_shape(shape):
    net = ResnetGenerator(channels=4, n_blocks=1)
    out = net(torch.rand(shape) * 2 - 1)
    assert out.shape == shape and out.abs().max() <= 1


def test_patch_discriminator_output_grid():
    out = PatchDiscriminator(channels=4, n_layers=3)(torch.zeros(2, 1, 64, 64))
    assert out.shape == (2, 1, 6, 6)  # 64 -> 32 -> 16 -> 8 -> 7 -> 6


def test_image_pool_returns_same_shape_and_stores():
    pool = ImagePool(2, np.random.default_rng(0))
    batches = [torch.full((1, 1, 4, 4), float(i)) for i in range(6)]
    outs = [pool.query(b) for b in batches]
    assert all(o.shape == (1, 1, 4, 4) for o in outs)
    assert len(pool.images) == 2
    assert torch.equal(outs[0], batches[0]) and torch.equal(outs[1], batches[1])
    assert ImagePool(0, np.random.default_rng(0)).query(batches[3]) is batches[3]


def test_train_few_steps_translate_and_round_trip(tmp_path):
    masks, real = _domains()
    gan = train_cyclegan(masks, real, steps=3, rng=0, config=TINY, device="cpu")
    h = gan.history
    assert h["steps"] == 3
    for key in ("adversarial", "cycle", "identity", "discriminator"):
        assert np.isfinite(h[key]) and h[key] >= 0
    out = gan.translate(masks[:3])
    assert out.shape == (3, 32, 32) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    assert gan.translate(real[:2, :21, :33], "ba").shape == (2, 21, 33)
    gan.save(tmp_path / "cg")
    back = load_cyclegan(tmp_path / "cg", device="cpu")
    assert back.config == TINY and back.history["steps"] == 3
    np.testing.assert_allclose(back.translate(masks[:3]), out, atol=1e-6)
    assert not any(p.suffix in (".pt", ".pth", ".pkl") for p in (tmp_path / "cg").iterdir())


def test_training_reproducible_and_minutes_limit():
    masks, real = _domains()
    a = train_cyclegan(masks, real, steps=2, rng=3, config=TINY, device="cpu")
    b = train_cyclegan(masks, real, steps=2, rng=3, config=TINY, device="cpu")
    np.testing.assert_allclose(a.translate(masks), b.translate(masks), atol=1e-6)
    c = train_cyclegan(masks, real, steps=1000, config=TINY, minutes=1e-9, device="cpu")
    assert c.history["steps"] <= 1


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="lr"):
        CycleGANConfig(lr=0)
    with pytest.raises(ValueError, match="tiles"):
        train_cyclegan(np.zeros((4, 4)), np.zeros((1, 4, 4)), config=TINY)
    with pytest.raises(InputError, match="CycleGAN folder"):
        load_cyclegan(tmp_path)


def test_random_tiles_cut_images_and_labels_together():
    img = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    tiles, labs = random_tiles([img, img[:5]], 8, 6, 0, labels=[img.astype(int), img[:5].astype(int)])
    assert tiles.shape == labs.shape == (6, 8, 8)
    np.testing.assert_array_equal(tiles, labs)
    with pytest.raises(InputError, match="smaller"):
        random_tiles([img], 64, 1, 0)


def test_filter_unrendered_drops_invisible_particle():
    rng = np.random.default_rng(0)
    labels = np.zeros((40, 60), np.int32)
    labels[5:15, 5:15], labels[20:30, 20:30], labels[5:15, 40:50] = 1, 2, 3
    image = 0.2 + 0.01 * rng.standard_normal(labels.shape)
    image[labels == 1] += 0.5
    image[labels == 3] += 0.4
    kept, contrast = filter_unrendered(image, labels, min_contrast=3.0)
    assert kept.max() == 2 and contrast.shape == (3,)
    assert kept[10, 10] > 0 and kept[25, 25] == 0 and kept[10, 45] > 0
    assert contrast[0] > 10 and abs(contrast[1]) < 3
    dark, _ = filter_unrendered(1 - image, labels, min_contrast=3.0, polarity="dark")
    np.testing.assert_array_equal(dark, kept)
    assert filter_unrendered(image, labels, 3.0, polarity="dark")[0].max() == 0
