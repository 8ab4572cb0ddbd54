"""'Like these images': style estimation from unlabeled micrographs and configs around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nanosizer.errors import InputError
from nanosizer.synth import (
    ArrangementConfig,
    ImagingConfig,
    ParticleConfig,
    SynthConfig,
    estimate_style,
    generate,
    like_config,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _write_images(folder: Path, modality: str) -> None:
    cfg = SynthConfig(
        size=(192, 192),
        particles=ParticleConfig(median_nm=24.0, gsd=1.1, pixel_size_nm=1.0),
        arrangement=ArrangementConfig(coverage=0.2, cluster_fraction=0.0),
        imaging=ImagingConfig(modality=modality, snr=30),
    )
    for seed in range(3):
        img = generate(cfg, seed).image
        Image.fromarray(np.round(img * 255).astype(np.uint8)).save(folder / f"im{seed}.png")


@pytest.mark.parametrize(("modality", "bright"), [("sem", True), ("tem", False)])
def test_style_of_synthetic_images(tmp_path, modality, bright):
    _write_images(tmp_path, modality)
    style = estimate_style([str(tmp_path)])
    assert style.bright_particles is bright
    assert 24 * 0.7 < style.size_px < 24 * 1.4
    assert 0.1 < style.coverage < 0.35
    assert (style.particle > style.background) is bright
    cfg = like_config(np.random.default_rng(0), style, (96, 96))
    assert (cfg.imaging.modality == "sem") is bright
    assert cfg.imaging.levels is not None
    s = generate(cfg, 0)
    if s.labels.any():
        fg, bg = s.image[s.labels > 0].mean(), s.image[s.labels == 0].mean()
        assert bool(fg > bg) == bright


def test_style_needs_images(tmp_path):
    with pytest.raises(InputError):
        estimate_style([str(tmp_path)])


def test_style_of_bam_sem():
    folder = DATA / "bam-tio2" / "sem"
    if not folder.is_dir():
        pytest.skip("shared BAM data not available")
    style = estimate_style([str(folder)])
    assert style.bright_particles
    assert 25 < style.size_px < 70  # TiO2 particles are ~25-70 px across at 7.34 nm/px
    assert style.pixel_size_nm == pytest.approx(7.34375)
    cfg = like_config(np.random.default_rng(0), style)
    assert cfg.particles.pixel_size_nm == pytest.approx(7.34375)
