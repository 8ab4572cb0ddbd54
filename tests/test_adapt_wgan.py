"""Outline WGAN-GP: tiny training runs, shapes, finite losses, save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanosizer.adapt.wgan import (
    OutlineGANConfig,
    load_outline_gan,
    prepare_outlines,
    train_outline_gan,
    write_outlines,
)
from nanosizer.errors import InputError

TINY = OutlineGANConfig(latent_dim=8, channels=4, batch_size=4, critic_steps=2, size=16)


def _ellipses(n: int = 6, rng: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(rng)
    yy, xx = np.mgrid[:40, :50]
    out = []
    for _ in range(n):
        a, b = rng.uniform(6, 18, 2)
        out.append(((yy - 20) / a) ** 2 + ((xx - 25) / b) ** 2 < 1)
    return out


def test_prepare_outlines_centres_and_scales():
    square = np.zeros((20, 30), np.uint8)
    square[5:15, 2:12] = 255
    (img,) = prepare_outlines([square, np.zeros((5, 5))])
    assert img.shape == (64, 64) and img.min() == -1 and img.max() == 1
    rows, cols = np.flatnonzero((img > 0).any(1)), np.flatnonzero((img > 0).any(0))
    assert rows.size == cols.size == round(0.85 * 64)
    assert abs(rows.mean() - 31.5) <= 0.5 and abs(cols.mean() - 31.5) <= 0.5
    with pytest.raises(InputError, match="no particle"):
        prepare_outlines([np.zeros((8, 8))])


def test_train_few_steps_sample_and_round_trip(tmp_path):
    gan = train_outline_gan(_ellipses(), steps=3, rng=0, config=TINY, device="cpu")
    h = gan.history
    assert h["steps"] == 3 and np.isfinite(h["critic_loss"]) and np.isfinite(h["generator_loss"])
    samples = gan.sample(5, rng=1)
    assert samples.shape == (5, 64, 64) and samples.dtype == bool
    np.testing.assert_array_equal(samples, gan.sample(5, rng=1))
    gan.save(tmp_path / "g")
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [  # with the writer's manifest
        ".nanosizer-manifest.json", "generator.safetensors", "outline_gan.json"]
    back = load_outline_gan(tmp_path / "g", device="cpu")
    assert back.config == TINY
    np.testing.assert_array_equal(back.sample(5, rng=1), samples)
    z = torch.randn(2, TINY.latent_dim)
    with torch.no_grad():
        torch.testing.assert_close(back.generator(z), gan.generator(z))
    with pytest.raises(InputError, match="not empty"):  # never overwritten without asking
        gan.save(tmp_path / "g")
    assert gan.save(tmp_path / "g", overwrite=True) == tmp_path / "g"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]  # no staging folder left


def test_training_is_reproducible_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a = train_outline_gan(_ellipses(), steps=2, rng=5, config=TINY, device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    b = train_outline_gan(_ellipses(), steps=2, rng=5, config=TINY, device="cpu")
    for pa, pb in zip(a.generator.parameters(), b.generator.parameters()):
        torch.testing.assert_close(pa, pb)


def test_sample_is_one_filled_object():
    from scipy import ndimage as ndi

    gan = train_outline_gan(_ellipses(), steps=1, rng=0, config=TINY, device="cpu")
    for mask in gan.sample(6, rng=0):
        if mask.any():
            assert ndi.label(mask)[1] == 1
            np.testing.assert_array_equal(ndi.binary_fill_holes(mask), mask)


def test_minutes_limit_and_bad_input(tmp_path):
    gan = train_outline_gan(_ellipses(), steps=10_000, rng=0, config=TINY, minutes=1e-9)
    assert gan.history["steps"] <= 1
    with pytest.raises(ValueError, match="steps"):
        train_outline_gan(_ellipses(), steps=0, config=TINY)
    with pytest.raises(InputError, match="power of two"):
        OutlineGANConfig(size=24)
    with pytest.raises(InputError, match="outline GAN folder"):
        load_outline_gan(tmp_path)


def test_write_outlines_readable_by_synth(tmp_path):
    from nanosizer.synth._shapes import load_outlines

    masks = np.stack(_ellipses(3))
    masks[1] = False
    write_outlines(tmp_path / "o", masks)
    assert len(list((tmp_path / "o").glob("*.png"))) == 2
    polys = load_outlines(str(tmp_path / "o"))
    assert len(polys) == 2 and all(p.shape[1] == 2 for p in polys)
