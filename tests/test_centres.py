"""Tests of centre-offset targets and the centre-vote decoder (nanosizer.segment.centres)."""

import numpy as np
import pytest

from nanosizer.evaluate import score_instances
from nanosizer.segment.centres import OFFSET_PX, decode_offsets, vote_density
from nanosizer.segment.instances import InstanceThresholds, probabilities_to_labels
from nanosizer.train.targets import centre_offsets, make_targets

CENTRES = InstanceThresholds(decoder="centres", min_area=4)


def _discs(shape, centres, radii):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    lab = np.zeros(shape, np.int32)
    for i, ((cy, cx), r) in enumerate(zip(centres, radii), start=1):
        lab[((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) & (lab == 0)] = i
    return lab


def _agglomerate(seed=0, n=40, shape=(160, 160)):
    """Overlapping discs of radius 4-12 px, the later drawn behind the earlier."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(15, shape[0] - 15, (n, 2))
    return _discs(shape, centres, rng.uniform(4, 12, n))


def test_offsets_point_at_the_centroid_and_decode_back():
    lab = _discs((40, 60), [(20, 15), (20, 40)], [8, 8])
    off = decode_offsets(centre_offsets(lab), OFFSET_PX)
    yy, xx = np.mgrid[:40, :60]
    for i, (cy, cx) in ((1, (20, 15)), (2, (20, 40))):
        inside = lab == i
        np.testing.assert_allclose((yy + off[0])[inside], cy, atol=1e-4)
        np.testing.assert_allclose((xx + off[1])[inside], cx, atol=1e-4)
    assert np.all(off[:, lab == 0] == 0)


def test_offsets_of_a_crescent_point_inside_it():
    lab = _discs((60, 60), [(30, 24), (30, 30)], [6, 16])  # 1 hides the middle of 2
    lab[lab == 1] = 0
    off = decode_offsets(centre_offsets(lab), OFFSET_PX)
    ys, xs = np.nonzero(lab == 2)
    cy, cx = ys[0] + off[0][ys[0], xs[0]], xs[0] + off[1][ys[0], xs[0]]
    assert lab[int(round(cy)), int(round(cx))] == 2


def test_exact_maps_of_an_agglomerate_give_back_every_particle():
    for seed in range(3):
        lab = _agglomerate(seed)
        pred = probabilities_to_labels(make_targets(lab, offsets=True), CENTRES)
        assert score_instances(lab, pred)["f1"] > 0.97


def test_the_seam_comes_from_the_offsets_not_from_the_masks():
    # one blob, no contact and a single distance peak: only the offsets tell two particles
    lab = _discs((40, 70), [(20, 20), (20, 45)], [12, 14])
    maps = make_targets(lab, offsets=True)
    maps[1] = 0.0
    maps[2] = make_targets((lab > 0).astype(np.int32))[2]
    assert probabilities_to_labels(maps, CENTRES).max() == 2
    one = make_targets((lab > 0).astype(np.int32), offsets=True)
    assert probabilities_to_labels(one, CENTRES).max() == 1


def test_noisy_offsets_do_not_shatter_particles():
    lab = _agglomerate(4)
    maps = make_targets(lab, offsets=True)
    rng = np.random.default_rng(0)
    maps[3:] += rng.normal(0, 2.0 / (2 * OFFSET_PX), maps[3:].shape)  # 2 px per axis
    pred = probabilities_to_labels(maps, CENTRES)
    assert abs(int(pred.max()) - int(lab.max())) <= 0.1 * lab.max()
    assert score_instances(lab, pred)["f1"] > 0.85


def test_pieces_voting_for_one_centre_are_merged():
    lab = _discs((60, 60), [(30, 30)], [20])
    maps = make_targets(lab, offsets=True)
    maps[3:, 28:33, :] = 0.5  # a band of pixels voting for themselves: a second density ridge
    merged = probabilities_to_labels(maps, CENTRES)
    assert merged.max() == 1


def test_vote_density_keeps_the_total_and_clips_to_the_image():
    fg = np.ones((10, 10), bool)
    off = np.zeros((2, 10, 10))
    off[0] = 100.0  # every vote beyond the bottom edge
    density, votes = vote_density(fg, off, sigma=1.0)
    assert density.sum() == pytest.approx(100, rel=1e-4)
    assert votes[0].max() == 9


def test_rescaled_thresholds_follow_the_zoom():
    t = InstanceThresholds(decoder="centres", min_area=12, offset_px=64.0, vote_sigma=1.0)
    r = t.rescaled(0.5)
    assert (r.min_area, r.offset_px, r.vote_sigma) == (48, 128.0, 2.0)
    assert t.rescaled(1.0) is t


def test_decoder_needs_offsets_and_a_known_name():
    with pytest.raises(ValueError, match="decoder"):
        InstanceThresholds(decoder="stardist")
    with pytest.raises(ValueError, match=r"\(5, H, W\)"):
        probabilities_to_labels(np.zeros((3, 8, 8)), CENTRES)
    with pytest.raises(ValueError, match="vote_density"):
        InstanceThresholds(vote_density=0)


def test_a_network_with_added_outputs_keeps_its_own_maps():
    torch = pytest.importorskip("torch")
    from nanosizer.nn import create_model

    torch.manual_seed(0)
    net = create_model("unet", in_channels=1, out_channels=3, depth=2, base_channels=4).eval()
    grown = net.with_outputs(5).eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        a, b = net(x), grown(x)
    assert b.shape[1] == 5 and grown.config["out_channels"] == 5
    torch.testing.assert_close(b[:, :3], a)
    assert torch.all(b[:, 3:] == 0)  # sigmoid 0.5: zero offsets
    with pytest.raises(ValueError, match="drop"):
        grown.with_outputs(3)


def test_offset_loss_is_zero_for_exact_offsets_and_needs_matching_targets():
    torch = pytest.importorskip("torch")
    from nanosizer.train.loss import segmentation_loss

    lab = _discs((32, 32), [(16, 16)], [8])
    t = torch.from_numpy(make_targets(lab, offsets=True))[None]
    logits = torch.logit(t.clamp(1e-4, 1 - 1e-4))
    _, parts = segmentation_loss(logits, t)
    assert parts["offset"] == pytest.approx(0.0, abs=1e-2)
    shifted = logits.clone()
    shifted[:, 3] += 0.5
    assert segmentation_loss(shifted, t)[1]["offset"] > 1.0
    with pytest.raises(ValueError, match="target channels"):
        segmentation_loss(logits, t[:, :3])


def test_a_separate_offset_branch_is_added_to_a_trained_network(tmp_path):
    torch = pytest.importorskip("torch")
    from nanosizer.nn import create_model, fuse_batchnorm, load_model, save_model

    torch.manual_seed(1)
    net = create_model("unet", in_channels=1, out_channels=3, depth=2, base_channels=4).eval()
    grown = net.with_outputs(5, offset_channels=8).eval()
    assert grown.config["offset_channels"] == 8
    x = torch.randn(2, 1, 40, 24)
    with torch.no_grad():
        out = grown(x)
        torch.testing.assert_close(out[:, :3], net(x))
        torch.testing.assert_close(fuse_batchnorm(grown)(x), out, atol=1e-4, rtol=1e-4)
    save_model(tmp_path / "m", grown, {})
    loaded = load_model(tmp_path / "m")
    assert loaded.arch_kwargs["offset_channels"] == 8
    with pytest.raises(ValueError, match="offset_channels"):
        create_model("unet", in_channels=1, out_channels=3, offset_channels=8)


def test_model_configs_written_before_the_offset_branch_still_load(tmp_path):
    pytest.importorskip("torch")
    import json

    from nanosizer.nn import create_model, load_model, save_model

    save_model(tmp_path / "old", create_model("unet", in_channels=1, out_channels=3, depth=2,
                                              base_channels=4), {})
    cfg = json.loads((tmp_path / "old" / "config.json").read_text())
    assert "offset_channels" not in cfg["arch_kwargs"]
    assert load_model(tmp_path / "old").net.offset_channels == 0


def test_hybrid_splits_what_the_watershed_merged_and_keeps_single_particles():
    lab = _agglomerate(7, n=25)
    maps = make_targets(lab, offsets=True)
    maps[1] = 0.0  # no contact and one distance peak per blob: the watershed merges
    maps[2] = make_targets((lab > 0).astype(np.int32))[2]
    ws = probabilities_to_labels(maps, InstanceThresholds(min_area=4))
    hybrid = probabilities_to_labels(maps, InstanceThresholds(decoder="hybrid", min_area=4))
    assert hybrid.max() > ws.max()
    assert score_instances(lab, hybrid)["f1"] > max(0.9, score_instances(lab, ws)["f1"] + 0.05)
    # a lone particle voting for one centre stays whole
    one = _discs((60, 60), [(30, 30)], [18])
    assert probabilities_to_labels(make_targets(one, offsets=True),
                                   InstanceThresholds(decoder="hybrid", min_area=4)).max() == 1
