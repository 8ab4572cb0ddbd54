"""Tests of CNN segmentation (nanosizer.segment.cnn)."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nanosizer.errors import InputError  # noqa: E402
from nanosizer.io import Micrograph  # noqa: E402
from nanosizer.nn import create_model, save_model  # noqa: E402
from nanosizer.segment import cnn, cnn_model  # noqa: E402
from nanosizer.segment.cnn import resolve_model, segment_cnn  # noqa: E402

META = {
    "normalization": {"method": "percentile", "low": 1.0, "high": 99.8},
    "thresholds": {"foreground": 0.5, "marker": 0.5, "contact": 0.5, "min_area": 4},
    "particle_diameter_px": {"p5": 8.0, "median": 20.0, "p95": 60.0},
}


class _Bright(torch.nn.Module):
    """Stand-in network: foreground = bright pixels, distance = smoothed brightness."""

    def forward(self, x):
        fg = 20.0 * (x - 0.5)
        dist = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2)
        return torch.cat([fg, torch.full_like(x, -10.0), 20.0 * (dist - 0.8)], dim=1)


@pytest.fixture()
def model_dir(tmp_path):
    torch.manual_seed(0)
    net = create_model("unet", depth=2, base_channels=4)
    return save_model(tmp_path / "model", net, META)


def _micrograph(infobar_top=None):
    img = np.zeros((70, 90), np.float32)
    yy, xx = np.mgrid[:70, :90]
    for cy, cx in ((20, 20), (20, 60), (50, 40)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 64] = 1.0
    return Micrograph(img, infobar_top=infobar_top)


def test_full_shape_and_zero_in_infobar(model_dir):
    mg = _micrograph(infobar_top=40)
    labels = segment_cnn(mg, model_dir)
    assert labels.shape == mg.data.shape and labels.dtype == np.int32
    assert not labels[40:].any()


def test_particles_found_with_a_known_network(model_dir, monkeypatch):
    loaded = cnn_model._load(str(model_dir.resolve()), None)
    monkeypatch.setattr(cnn_model, "_load", lambda folder, device: type(loaded)(
        _Bright(), loaded.arch, loaded.arch_kwargs, loaded.metadata, loaded.folder))
    mg = _micrograph(infobar_top=40)
    labels = segment_cnn(mg, model_dir, scale=1.0)
    assert labels.max() == 2  # the third disc is in the info bar
    assert not labels[40:].any()
    tiled = segment_cnn(mg, model_dir, scale=1.0, tile=32)
    np.testing.assert_array_equal(tiled > 0, labels > 0)


def test_models_are_cached(model_dir):
    cnn_model._load.cache_clear()
    segment_cnn(_micrograph(), model_dir)
    segment_cnn(_micrograph(), str(model_dir))
    assert cnn_model._load.cache_info().hits >= 1


def test_unknown_model_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="neither a shipped model"):
        resolve_model(tmp_path / "missing")


def test_shipped_default_model_if_present():
    try:
        folder = resolve_model("unet")
    except InputError:
        pytest.skip("no shipped unet model")
    mg = _micrograph(infobar_top=60)
    labels = segment_cnn(mg, folder)
    assert labels.shape == mg.data.shape and not labels[60:].any()


def test_choose_zoom_takes_the_largest_zoom_after_which_sizes_stop_changing():
    # fragments at full resolution and 1/2, the same particles at 1/4 and 1/8
    assert cnn.choose_zoom({1.0: 20, 0.5: 60, 0.25: 130, 0.125: 135}, 30) == 0.25
    # small particles: found alike at full resolution and 1/2 (merged only further out)
    assert cnn.choose_zoom({1.0: 30, 0.5: 33, 0.25: 45, 0.125: 80}, 30) == 1.0
    # no two zooms agree: the one bringing the size closest to the training median
    assert cnn.choose_zoom({1.0: 10, 0.5: 40, 0.25: 100, 0.125: 300}, 30) == 0.25
    assert cnn.choose_zoom({1.0: 0, 0.5: 0}, 30) == 1.0  # nothing found anywhere
    assert cnn.choose_zoom({1.0: 10, 0.5: 40}, None) == 1.0  # model without a size range


def test_median_diameter():
    labels = np.zeros((50, 50), int)
    labels[:10, :10], labels[20:24, 20:24], labels[30:50, 30:50] = 1, 2, 3
    assert cnn.median_diameter(labels) == pytest.approx(np.sqrt(4 * 100 / np.pi))
    assert cnn.median_diameter(np.zeros((5, 5), int)) == 0.0


def test_zoom_thresholds_come_from_the_model_when_stored():
    final = cnn.InstanceThresholds(smooth=4.5)
    assert cnn.zoom_thresholds({}, final) is final
    stored = {"foreground": 0.6, "marker": 0.4, "contact": 0.3, "min_area": 12, "smooth": 1.5}
    assert cnn.zoom_thresholds({"zoom_thresholds": stored}, final).smooth == 1.5


def test_auto_zoom_keeps_full_resolution_when_sizes_agree(model_dir, monkeypatch):
    loaded = cnn_model._load(str(model_dir.resolve()), None)
    bright = type(loaded)(_Bright(), loaded.arch, loaded.arch_kwargs, loaded.metadata,
                          loaded.folder)
    monkeypatch.setattr(cnn_model, "_load", lambda folder, device: bright)
    img = np.zeros((200, 240), np.float32)
    yy, xx = np.mgrid[:200, :240]
    for cy, cx in ((40, 40), (40, 120), (120, 80), (150, 190)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 14**2] = 1.0
    image = img
    zoom, probs = cnn.auto_zoom(bright, image, None, cnn.InstanceThresholds(min_area=4))
    assert zoom == 1.0 and probs.shape == (3, 200, 240)
    auto = segment_cnn(Micrograph(img), model_dir)
    np.testing.assert_array_equal(auto, segment_cnn(Micrograph(img), model_dir, scale=1.0))
    half = segment_cnn(Micrograph(img), model_dir, scale=0.5)  # explicit zoom: same particles
    assert half.max() == 4 and abs((half > 0).sum() / (auto > 0).sum() - 1) < 0.15


def test_a_model_with_a_fixed_zoom_uses_it(tmp_path):
    torch.manual_seed(0)
    net = create_model("unet", depth=2, base_channels=4)
    fixed = save_model(tmp_path / "fixed", net, {**META, "zoom": 0.5})
    plain = save_model(tmp_path / "plain", net, META)
    mg = _micrograph()
    np.testing.assert_array_equal(segment_cnn(mg, fixed), segment_cnn(mg, plain, scale=0.5))


def test_a_model_adapted_to_mixed_magnifications_lets_its_zoom_model_choose(tmp_path,
                                                                            monkeypatch, caplog):
    import shutil

    torch.manual_seed(0)
    net = create_model("unet", depth=2, base_channels=4)
    adapted = save_model(tmp_path / "adapted", net, {**META, "zoom_model": "chooser"})
    chooser = save_model(adapted / "chooser", net, META)  # relative to the model folder
    orphan = save_model(tmp_path / "orphan", net, {**META, "zoom_model": "gone"})
    save_model(orphan / "gone", net, META)
    cnn_model._load(str(orphan.resolve()), None)
    shutil.rmtree(orphan / "gone")  # removed after the model was loaded
    asked = []

    def auto_zoom(loaded, image, mask, thresholds, **kw):
        asked.append(Path(loaded.folder).name)
        return 0.5, np.zeros((3, *image.shape), np.float32)

    monkeypatch.setattr(cnn, "auto_zoom", auto_zoom)
    mg = _micrograph()
    assert cnn.segmentation_maps(mg, adapted, return_zoom=True)[2] == 0.5
    assert asked == ["chooser"]  # the zoom model chose, the adapted model segments at 0.5
    np.testing.assert_array_equal(segment_cnn(mg, adapted), segment_cnn(mg, chooser, scale=0.5))
    asked.clear()
    with caplog.at_level("WARNING", logger="nanosizer.segment"):
        assert cnn.segmentation_maps(mg, orphan, return_zoom=True)[2] == 0.5
    assert asked == ["orphan"] and "not found" in caplog.text  # falls back to its own choice


def test_choose_zoom_prefers_the_smaller_zoom_of_a_pair_when_particles_stay_large_enough():
    from nanosizer.segment import cnn

    sizes = {1.0: 60, 0.5: 130, 0.25: 135, 0.125: 300}  # 0.5 and 0.25 agree
    assert cnn.choose_zoom(sizes, 30) == 0.5
    assert cnn.choose_zoom(sizes, 30, min_px=24) == 0.25  # 135 px x 0.25 = 34 network px
    assert cnn.choose_zoom(sizes, 30, min_px=40) == 0.5   # 34 px would be too small
    # small particles (BAM-like, ~25 px at zoom 1) keep zoom 1: 12 px at zoom 0.5
    assert cnn.choose_zoom({1.0: 25, 0.5: 24}, 30, min_px=24) == 1.0


def test_an_in_memory_model_segments_as_its_folder_does(model_dir):
    from nanosizer.nn import load_model

    mg = _micrograph()
    loaded = load_model(model_dir)
    from_memory = segment_cnn(mg, loaded, scale=1.0)
    assert cnn.load_cnn(loaded) is cnn.load_cnn(loaded)  # prepared once
    np.testing.assert_array_equal(from_memory, segment_cnn(mg, model_dir, scale=1.0))
    assert cnn.stored_thresholds(loaded).foreground == META["thresholds"]["foreground"]


def test_in_memory_models_are_prepared_per_device(model_dir):
    from nanosizer.nn import load_model

    loaded = load_model(model_dir)
    first = cnn.load_cnn(loaded, "cpu")
    assert cnn.load_cnn(loaded, "cpu") is first
    assert cnn.load_cnn(loaded, None) is not first  # another device key, its own copy
