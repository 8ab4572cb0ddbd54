"""Synthetic micrographs: exact labels, determinism, sizes, every modality and arrangement."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from skimage.draw import polygon as draw_polygon

from nanosizer.synth import (
    ArrangementConfig,
    ImagingConfig,
    OverlayConfig,
    ParticleConfig,
    SynthConfig,
    SyntheticDataset,
    generate,
    random_config,
)
from nanosizer.synth._layout import place_particles


def _config(**arrangement) -> SynthConfig:
    return SynthConfig(
        size=(96, 128),
        particles=ParticleConfig(median_nm=28.0, gsd=1.2, pixel_size_nm=2.0,
                                 shapes=(("sphere", 1), ("crystal", 1), ("rod", 1),
                                         ("irregular", 1), ("polygon", 1))),
        arrangement=ArrangementConfig(**{"coverage": 0.35, "gap_range": (0.7, 0.9),
                                         **arrangement}),
    )


def _painter(particles, shape):
    """Independent reference: paint skimage-rasterised polygons back to front."""
    out = np.zeros(shape, np.int32)
    for i, p in enumerate(particles):
        for poly in (p.poly, *p.necks):
            rr, cc = draw_polygon(poly[:, 0], poly[:, 1], shape=shape)
            out[rr, cc] = i + 1
    return out


@pytest.mark.parametrize("sinter", [0.0, 0.8])
def test_labels_are_exact_visible_pixels(sinter):
    cfg = _config(sinter=sinter, cluster_fraction=0.8)
    sample = generate(cfg, 7)
    particles = place_particles(cfg, np.random.default_rng(7))
    ref = _painter(particles, cfg.size)
    # the same pixels are background, and each label maps to exactly one reference particle
    assert np.array_equal(sample.labels == 0, ref == 0)
    pairs = np.unique(np.stack([sample.labels[ref > 0], ref[ref > 0]]), axis=1)
    assert len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))
    assert sample.labels.max() == len(sample.truth) == len(np.unique(ref)) - 1
    counts = np.bincount(sample.labels.ravel())
    assert np.array_equal(counts[sample.truth["label"]], sample.truth["visible_px"])


def test_occlusion_and_border_are_recorded():
    sample = generate(_config(cluster_fraction=1.0, cluster_size=30), 3)
    t = sample.truth
    assert (t["hidden_fraction"] > 0.05).any(), "overlapping clusters hide some pixels"
    assert t["hidden_fraction"].between(0, 1).all() and t["cut_fraction"].between(0, 1).all()
    assert (t["visible_px"] <= t["area_px"]).all()
    border = np.unique(np.concatenate([sample.labels[0], sample.labels[-1],
                                       sample.labels[:, 0], sample.labels[:, -1]]))
    assert set(t.loc[t["touches_border"], "label"]) == set(border) - {0}


def test_same_seed_same_sample_and_input_not_modified():
    cfg = _config()
    a, b, c = generate(cfg, 11), generate(cfg, 11), generate(cfg, 12)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert a.truth.equals(b.truth)
    assert not np.array_equal(a.image, c.image)
    assert cfg == _config()


@pytest.mark.parametrize("modality", ["sem", "tem", "tsem"])
@pytest.mark.parametrize("mode", ["compact", "chain", "random", "lattice"])
def test_every_modality_and_arrangement_renders(modality, mode):
    cfg = dataclasses.replace(
        _config(cluster_modes=((mode, 1.0),), cluster_fraction=0.8, sinter=0.5),
        imaging=ImagingConfig(modality=modality, drift_px=1.5, charging=0.3, dust=10,
                              scanline_noise=0.02, fringe=0.2),
        overlay=OverlayConfig(infobar=0.1, scalebar=True, panel_label=True),
    )
    s = generate(cfg, 5)
    assert s.image.shape == s.labels.shape == cfg.size
    assert s.image.dtype == np.float32 and s.labels.dtype == np.int32
    assert np.isfinite(s.image).all() and s.image.min() >= 0 and s.image.max() <= 1
    assert s.image.std() > 0.02
    assert set(np.unique(s.labels)) - {0} == set(s.truth["label"])
    assert (s.labels[-9:] == 0).all(), "info bar pixels are never labelled"


def test_particle_polarity_per_modality():
    means = {}
    for modality in ("sem", "tem", "tsem"):
        cfg = dataclasses.replace(_config(), imaging=ImagingConfig(modality=modality))
        s = generate(cfg, 1)
        means[modality] = s.image[s.labels > 0].mean() - s.image[s.labels == 0].mean()
    assert means["sem"] > 0.2 and means["tem"] < -0.2 and means["tsem"] < -0.2


def test_size_distribution_matches_request():
    cfg = SynthConfig(
        size=(256, 256),
        particles=ParticleConfig(median_nm=60.0, gsd=1.3, pixel_size_nm=4.0,
                                 shapes=(("sphere", 1), ("crystal", 1), ("irregular", 1))),
        arrangement=ArrangementConfig(coverage=0.3, cluster_fraction=0.5),
    )
    truths = [generate(cfg, seed).truth for seed in range(8)]
    import pandas as pd

    t = pd.concat(truths)  # labelled (visible) particles only: placement must not bias sizes
    assert len(t) > 600
    assert abs(np.median(t["feret_min_nm"]) / 60.0 - 1) < 0.02
    log_gsd = np.std(np.log(t["feret_min_nm"]))
    assert abs(np.exp(log_gsd) - 1.3) < 0.08


def test_size_median_large_sample_within_2_percent():
    from nanosizer.synth._layout import _draw_particles

    cfg = SynthConfig(
        particles=ParticleConfig(median_nm=60.0, gsd=1.25, pixel_size_nm=3.0,
                                 shapes=(("ellipse", 1), ("rod", 1), ("cube", 1))),
    )
    drawn = _draw_particles(cfg, np.random.default_rng(0), 3000)
    sizes_nm = np.array([d[1] for d in drawn]) * 3.0
    assert abs(np.median(sizes_nm) / 60.0 - 1) < 0.02


def test_pixel_mask_min_feret_matches_truth_for_large_isolated_particles():
    cfg = SynthConfig(
        size=(256, 256),
        particles=ParticleConfig(median_nm=50.0, gsd=1.1, pixel_size_nm=1.0,
                                 shapes=(("sphere", 1), ("crystal", 1), ("ellipse", 1))),
        arrangement=ArrangementConfig(coverage=0.15, cluster_fraction=0.0),
        imaging=ImagingConfig(drift_px=0.0),
    )
    s = generate(cfg, 2)
    t = s.truth[(s.truth["hidden_fraction"] == 0) & (s.truth["cut_fraction"] == 0)]
    assert len(t) >= 3
    angles = np.linspace(0, np.pi, 360, endpoint=False)
    dirs = np.stack([np.sin(angles), np.cos(angles)])
    for _, row in t.iterrows():
        rr, cc = np.nonzero(s.labels == row["label"])
        proj = np.stack([rr, cc], 1) @ dirs
        width = (proj.max(0) - proj.min(0)).min() + 1.0  # pixel centres -> pixel extent
        assert abs(width / row["feret_min_px"] - 1) < 0.05


def test_random_config_is_valid_and_covers_modalities():
    rng = np.random.default_rng(0)
    cfgs = [random_config(rng) for _ in range(60)]
    mods = {c.imaging.modality for c in cfgs}
    assert mods == {"sem", "tem", "tsem"}
    med = np.array([c.particles.median_px for c in cfgs])
    assert med.min() >= 8 and med.max() <= 110
    assert random_config(1, "tem", size=(64, 80)).size == (64, 80)
    assert random_config(np.random.default_rng(3)) == random_config(np.random.default_rng(3))
    big = [random_config(rng, size=(320, 320), particle_px=(60, 150)).particles.median_px
           for _ in range(20)]
    assert min(big) >= 60 and max(big) <= 150  # images >= 256 px keep the range as given
    small = [random_config(rng, size=(128, 128), particle_px=(60, 150)).particles.median_px
             for _ in range(20)]
    assert min(small) >= 30 and max(small) <= 75  # smaller images scale it down
    with pytest.raises(ValueError, match="particle_px"):
        random_config(rng, particle_px=(20, 10))


def test_dataset_deterministic_and_picklable():
    ds = SyntheticDataset(length=5, size=(64, 64), modality=None, seed=4)
    assert len(ds) == 5
    img, lab = ds[2]
    img2, lab2 = pickle.loads(pickle.dumps(ds))[2]
    assert np.array_equal(img, img2) and np.array_equal(lab, lab2)
    assert img.shape == (64, 64) and img.dtype == np.float32 and lab.dtype == np.int32
    assert not np.array_equal(ds[1][0], img)
    with pytest.raises(IndexError):
        ds[5]


@pytest.mark.parametrize(
    "bad",
    [lambda: ParticleConfig(gsd=0.5), lambda: ParticleConfig(shapes=(("blob", 1.0),)),
     lambda: ParticleConfig(shapes=(("outline", 1.0),)),
     lambda: ArrangementConfig(coverage=0), lambda: ImagingConfig(modality="xray"),
     lambda: SynthConfig(size=(8, 8))],
)
def test_invalid_configs_raise(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("shape", ["sphere", "crystal", "plate"])
def test_scene_maps_vanish_outside_particles(shape):
    from nanosizer.synth._scene import render_scene

    cfg = dataclasses.replace(
        _config(), particles=ParticleConfig(median_nm=30.0, shapes=((shape, 1.0),)))
    particles = place_particles(cfg, np.random.default_rng(0))
    scene = render_scene(particles, cfg.size, np.ones(len(particles)))
    bg = scene.labels == 0
    assert bg.any() and (~bg).any()
    assert (scene.height[bg] == 0).all() and (scene.tilt[bg] == 0).all()
    assert (scene.thickness[bg] == 0).all() and (scene.height[~bg] > 0).all()


def test_coverage_controls_density():
    fractions = []
    for coverage in (0.05, 0.2, 0.5):
        cfg = _config(coverage=coverage, gap_range=(0.95, 1.0))
        fractions.append(np.mean([(generate(cfg, s).labels > 0).mean() for s in range(3)]))
    assert fractions[0] < fractions[1] < fractions[2]
    assert 0.02 < fractions[0] < 0.1 and 0.3 < fractions[2] < 0.7


def test_agglomerate_preset_gives_dense_overlapping_small_particles():
    from nanosizer.synth import generate, random_config

    hidden, plain_hidden, sizes = [], [], []
    for i in range(8):
        cfg = random_config(np.random.default_rng([3, i]), "sem", (192, 192), p_agglomerate=1.0,
                            agglomerate_px=(8.0, 12.0))
        if cfg.arrangement.gap_range[0] >= 0.9:
            continue  # a crowded monolayer (drawn first, 15 %): tested on its own
        assert 1.2 <= cfg.particles.gsd <= 1.5 and cfg.arrangement.cluster_fraction >= 0.8
        sample = generate(cfg, np.random.default_rng(i))
        hidden.append(sample.truth["hidden_fraction"].mean())
        sizes.append(np.median(sample.truth["feret_min_px"]))
        plain = generate(random_config(np.random.default_rng([3, i]), "sem", (192, 192)),
                         np.random.default_rng(i))
        plain_hidden.append(plain.truth["hidden_fraction"].mean())
    assert len(sizes) >= 4
    assert 6.0 < np.median(sizes) < 16.0  # 8-12 px medians of a lognormal, gsd <= 1.5
    assert np.mean(hidden) > np.mean(plain_hidden)  # heavier overlap than the general mix


def test_agglomerate_share_is_validated():
    from nanosizer.synth import random_config
    from nanosizer.train import TrainConfig

    with pytest.raises(ValueError, match="p_agglomerate"):
        random_config(0, p_agglomerate=1.5)
    with pytest.raises(ValueError, match="agglomerate_px"):  # whatever preset is drawn
        random_config(0, p_agglomerate=0.01, agglomerate_px=(10.0, 5.0))
    with pytest.raises(ValueError, match="p_agglomerate"):
        TrainConfig(p_agglomerate=-0.1)
    with pytest.raises(ValueError, match="agglomerate_px"):
        TrainConfig(agglomerate_px=(10.0, 5.0))


def test_charging_streaks_equal_a_one_pole_filter():
    from scipy import signal

    from nanosizer.synth._imaging import _streaks

    rng = np.random.default_rng(0)
    src = np.zeros((40, 200), np.float32)
    rows = rng.random(40) < 0.3
    src[rows] = rng.random((int(rows.sum()), 200)).astype(np.float32)
    expected = signal.lfilter([0.05], [1, -0.95], src, axis=1)
    assert np.allclose(_streaks(src), expected, rtol=0, atol=1e-12)
    assert not _streaks(src)[~rows].any()
