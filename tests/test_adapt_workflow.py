"""The adapt workflow and CLI on tiny images with tiny budgets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from nanosizer.adapt.finetune import FinetuneConfig, PairCrops, initial_network
from nanosizer.adapt.pseudo import confident_labels
from nanosizer.adapt.workflow import AdaptConfig, _Clock, _split_val, adapt
from nanosizer.adapt.transmission import TrainingPair
from nanosizer.cli.main import main
from nanosizer.errors import InputError


def _field(rng, shape=(160, 272), n=18):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for cy, cx, r in zip(rng.uniform(15, shape[0] - 15, n), rng.uniform(15, shape[1] - 15, n),
                         rng.uniform(6, 11, n)):
        img = np.maximum(img, np.clip(r - np.hypot(yy - cy, xx - cx), 0, 1))
    return img


def _write_twins(folder, count=2):
    rng = np.random.default_rng(0)
    (folder / "sem").mkdir()
    (folder / "tsem").mkdir()
    for i in range(count):
        scene = _field(rng)
        sem = 40 + 150 * scene + 5 * rng.standard_normal(scene.shape)
        tsem = 220 - 200 * ndi.shift(scene, (1.0, -2.0), order=1) + 5 * rng.standard_normal(scene.shape)
        tifffile.imwrite(folder / "sem" / f"img{10 + 2 * i}.tif", np.clip(sem, 0, 255).astype(np.uint8))
        tifffile.imwrite(folder / "tsem" / f"img{11 + 2 * i}.tif", np.clip(tsem, 0, 255).astype(np.uint8))


def test_clock_shares_never_exceed_budget():
    clock = _Clock(10.0)
    assert clock.minutes(0.5) == pytest.approx(5.0, abs=0.01)
    assert clock.minutes(2.0) == pytest.approx(9.0, abs=0.01)  # 10 % reserve


def test_clock_holds_time_for_slow_images_and_warns_when_little_is_left(caplog):
    clock = _Clock(10.0)
    clock.hold(0.2)  # less than the 10 % reserve: unchanged
    assert clock.minutes(2.0) == pytest.approx(9.0, abs=0.01)
    clock.hold(2.5)  # 2.5 min + 5 % of the budget kept for the end
    assert clock.minutes(2.0) == pytest.approx(7.0, abs=0.01)
    assert not caplog.records
    clock.hold(9.0)
    assert clock.minutes(2.0) == pytest.approx(0.5, abs=0.01)  # all of it held: the end fits
    assert "little is left for fine-tuning" in caplog.text


def test_clock_refuses_work_that_cannot_fit_and_names_the_minimum():
    clock = _Clock(1.0)
    clock.require(0.5, "the fixed work")  # fits: nothing happens
    with pytest.raises(InputError, match=r"--budget 1 is too small .* the fixed work take about "
                                         r"2.00 min here; give --budget 2.4 or more"):
        clock.require(2.0, "the fixed work")


def test_clock_holds_the_measured_work_after_finetuning():
    import time

    clock = _Clock(10.0, start=time.monotonic() - 60.0)  # 1 min used
    clock.hold_passes(0.0)  # a pass over the images from minute 0 to 1: 2.5 min after
    assert clock.after == pytest.approx(2.5, abs=0.01)
    assert clock.minutes(2.0) == pytest.approx(6.0, abs=0.01)  # 30 % held, 1 min used
    clock.hold_evaluations(6.0, 30.0)  # 3 evaluations of 0.1 min and a search of 0.5 min
    assert clock.after == pytest.approx(3.3, abs=0.01)
    # the adapted network's search keeps all of that but itself; unmeasured, 5 %
    assert clock.search_deadline(30.0).seconds == pytest.approx(600 - 60 * 2.8, abs=0.5)
    assert clock.search_deadline(None).seconds == pytest.approx(570.0)


def test_adapt_ends_within_its_budget_start_to_written_model(tmp_path):
    """Budget 12 s: before, the three threshold searches and fine-tuning's set-up made it 30 s."""
    import time

    from nanosizer.nn import load_metadata
    from nanosizer.train import Deadline

    _write_twins(tmp_path)
    budget_s = 12.0
    config = AdaptConfig(init_model="unet", budget_minutes=budget_s / 60, tile=64, device="cpu",
                         threads=1)
    deadline = Deadline(budget_s)
    report = adapt(sorted((tmp_path / "sem").glob("*.tif")), tmp_path / "model", config,
                   deadline=deadline)
    took = time.monotonic() - deadline.start
    assert took <= 1.05 * budget_s + 0.6, f"{took:.1f} s for a {budget_s} s budget"
    assert report["finetune"]["steps"] >= 1 and load_metadata(tmp_path / "model")["thresholds"]


def test_adapt_refuses_a_budget_too_small_for_labelling_checks_and_export(tmp_path, capsys):
    _write_twins(tmp_path)
    images = sorted((tmp_path / "sem").glob("*.tif"))
    with pytest.raises(InputError, match=r"--budget 0.01 is too small .* give --budget \d"):
        adapt(images, tmp_path / "model",
              AdaptConfig(init_model="unet", budget_minutes=0.01, tile=64, device="cpu"))
    assert not (tmp_path / "model").exists()
    assert main(["adapt", *map(str, images), "--budget", "0.01", "--tile", "64", "--threads",
                 "1", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--budget 0.01 is too small" in err[-1] and not (tmp_path / "m").exists()


def test_split_val_holds_out_right_strip():
    pair = TrainingPair(np.zeros((100, 400), np.float32), np.ones((100, 400), np.int32))
    (train,), (val,) = _split_val([pair])
    assert train[0].shape == (100, 300) and val[0].shape == (100, 100)


def test_pair_crops_mix_real_and_synthetic():
    real = [(np.full((80, 80), 0.5, np.float32), np.pad(np.ones((20, 20), np.int32), 30))]
    calls = []

    def synth(i):
        calls.append(i)
        return np.zeros((64, 64), np.float32), np.zeros((64, 64), np.int32)

    ds = PairCrops(real, FinetuneConfig(steps=4, batch_size=2, tile=64, synthetic_fraction=0.5), synth)
    items = [ds[i] for i in range(len(ds))]
    assert len(items) == 8 and items[0][0].shape == (1, 64, 64) and items[0][1].shape == (4, 64, 64)
    assert np.all(items[0][1][3].numpy() == 1)  # no IGNORE: every pixel counts
    assert 0 < len(calls) < 8
    x0, _ = ds[0]
    assert np.array_equal(x0.numpy(), items[0][0].numpy())  # deterministic


def test_pair_crops_weight_is_zero_where_labels_are_ignored():
    from nanosizer.adapt.pseudo import IGNORE

    labels = np.zeros((64, 64), np.int32)
    labels[10:30, 10:30], labels[40:60, 40:60] = 1, IGNORE
    ds = PairCrops([(np.zeros((64, 64), np.float32), labels)],
                   FinetuneConfig(steps=1, batch_size=1, tile=64, synthetic_fraction=0.0,
                                  scale_range=(1.0, 1.0)))
    _, targets = ds[0]
    weight, foreground = targets[3].numpy(), targets[0].numpy()
    assert weight.sum() == 64 * 64 - 400 and foreground.sum() == 400  # IGNORE is not a particle
    assert np.all(weight[foreground > 0] == 1)


def test_confident_labels_and_erase():
    probs = np.zeros((3, 40, 40), np.float32)
    probs[0, 5:15, 5:15], probs[2, 8:12, 8:12] = 0.99, 0.9
    probs[0, 20:30, 20:30], probs[2, 23:27, 23:27] = 0.6, 0.9
    probs[0, 0:6, 30:38], probs[2, 1:4, 32:36] = 0.99, 0.9  # touches the border
    from nanosizer.segment.instances import InstanceThresholds

    labels, confident = confident_labels(probs, InstanceThresholds(min_area=1))
    assert labels.max() == 3 and confident.max() == 1 and confident[10, 10] == 1
    from nanosizer.adapt.copypaste import erase_ignored
    from nanosizer.adapt.pseudo import IGNORE

    image = np.zeros((40, 40), np.float32)
    image[20:30, 20:30] = 5.0
    pseudo = np.where((labels > 0) & (confident == 0), IGNORE, confident)
    erased, erased_labels = erase_ignored(image, pseudo, np.random.default_rng(0))
    assert erased[25, 25] == 0 and erased[10, 10] == 0
    assert erased_labels.min() == 0 and np.array_equal(erased_labels > 0, confident > 0)


def test_confident_labels_drop_particles_far_above_the_median_area():
    from nanosizer.segment.instances import InstanceThresholds

    probs = np.zeros((3, 60, 80), np.float32)
    for i in range(5):  # five 6 x 6 particles ...
        r, c = 4 + 12 * i, 4
        probs[0, r : r + 6, c : c + 6], probs[2, r + 2 : r + 4, c + 2 : c + 4] = 0.99, 0.9
    probs[0, 10:30, 30:60], probs[2, 15:25, 40:50] = 0.99, 0.9  # ... and one 20 x 30 "agglomerate"
    t = InstanceThresholds(min_area=1)
    _, every = confident_labels(probs, t)
    _, sized = confident_labels(probs, t, max_relative_area=1.5)
    assert every.max() == 6 and every[20, 45] > 0
    assert sized.max() == 5 and sized[20, 45] == 0 and sized[6, 6] > 0
    probs[:, 34:] = 0  # 3 small particles and the large one left: too few for a median
    _, few = confident_labels(probs, t, max_relative_area=1.5)
    assert few.max() == 4 and few[20, 45] > 0


def test_initial_network_random_and_bad_arch(tmp_path):
    net, source = initial_network(None, "unet", device="cpu")
    assert source == "random" and net.arch == "unet"
    from nanosizer.nn import save_model

    save_model(tmp_path / "m", net, {})
    with pytest.raises(InputError, match="--arch"):
        initial_network(str(tmp_path / "m"), "multiresunet", device="cpu")


def test_adapt_with_transmission_twins_writes_loadable_model(tmp_path):
    from nanosizer.nn import load_model

    _write_twins(tmp_path)
    config = AdaptConfig(init_model=None, budget_minutes=0.1, tile=64, device="cpu",
                         transmission_dir=str(tmp_path / "tsem"), cyclegan="off")
    images = sorted((tmp_path / "sem").glob("*.tif"))
    report = adapt(images, tmp_path / "model", config)
    assert set(report["real_pairs"]) == {"img10", "img12"}
    for entry in report["real_pairs"].values():
        assert entry["particles"] > 5
        np.testing.assert_allclose(entry["shift"], (-1.0, 2.0), atol=0.3)  # tsem moved by (1, -2)
    assert report["finetune"]["steps"] >= 1 and "selftrain" not in report
    loaded = load_model(tmp_path / "model", device="cpu")
    assert loaded.metadata["trained_on"] == "adapt" and "thresholds" in loaded.metadata
    saved = json.loads((tmp_path / "model" / "adapt" / "report.json").read_text())
    assert saved["val_scores"]["n_images"] == 2
    with pytest.raises(InputError, match="not an empty folder"):
        adapt(images, tmp_path / "model", config)


def test_cli_export_pairs_and_errors(tmp_path, capsys):
    _write_twins(tmp_path, count=1)
    code = main(["adapt", str(tmp_path / "sem"), "--transmission", str(tmp_path / "tsem"),
                 "--export-pairs", str(tmp_path / "pairs"), "--out", str(tmp_path / "m")])
    assert code == 0 and "img10" in capsys.readouterr().out
    assert (tmp_path / "pairs" / "labels" / "img10.tif").is_file()
    assert main(["adapt", str(tmp_path / "sem"), "--budget", "0", "--out", str(tmp_path / "m")]) == 2
    assert "--budget" in capsys.readouterr().err


@pytest.mark.slow
def test_adapt_unlabelled_route_with_cyclegan_and_selftraining(tmp_path):
    _write_twins(tmp_path)
    config = AdaptConfig(init_model=None, budget_minutes=2.0, tile=64, device="cpu")
    report = adapt(sorted((tmp_path / "sem").glob("*.tif")), tmp_path / "model", config)
    assert report["cyclegan"]["steps"] >= 1 and "selftrain_pseudo" not in report  # no teacher
    assert report["minutes"] < 2.2


def test_simulated_domain_keeps_touching_particles_apart():
    from nanosizer.adapt.workflow import simulated_domain

    labels = np.zeros((12, 20), np.int32)
    labels[2:10, 2:10], labels[2:10, 10:18] = 1, 2
    sim = simulated_domain(labels)
    assert sim[0, 0] == 0 and sim.max() == 1.0 and sim[labels > 0].min() >= 0.5
    assert sim[6, 9] < sim[6, 5] and sim[6, 10] < sim[6, 14]  # a valley at the contact


def _val_pairs(n=2):
    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(n):
        scene = _field(rng, shape=(96, 96), n=6)
        labels, _ = ndi.label(scene > 0.5)
        pairs.append(((40 + 150 * scene).astype(np.float32), labels.astype(np.int32)))
    return pairs


@pytest.mark.parametrize("initial_f1, kept", [(1.01, "initial"), (-1.0, "adapted")])
def test_keep_better_restores_the_initial_weights_only_when_adapting_lost(initial_f1, kept):
    import torch

    from nanosizer.adapt.guards import Verdict, keep_better, snapshot

    net, _ = initial_network(None, "unet", device="cpu")
    initial = snapshot(net)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)  # "adapting" changed every weight
    verdict = keep_better(net, initial, _val_pairs(), FinetuneConfig(device="cpu"), initial_f1)
    assert verdict.kept == kept and 0.0 <= verdict.report["adapted_val_f1"] <= 1.0
    assert keep_better(net, None, _val_pairs(), FinetuneConfig(device="cpu"), initial_f1) == \
        Verdict("adapted", {})  # no initial model: nothing to compare, nothing measured
    state = net.state_dict()
    same = all(torch.equal(state[k], v) for k, v in initial.items())
    assert same == (kept == "initial")


def test_like_synth_follows_each_images_style():
    from nanosizer.adapt.workflow import _LikeSynth
    from nanosizer.synth import ImageStyle

    dark = ImageStyle(False, 0.85, 0.15, 0.02, 0.8, 20.0, 0.3, None)
    bright = ImageStyle(True, 0.15, 0.85, 0.02, 0.8, 20.0, 0.3, None)
    synth = _LikeSynth([dark, bright], size=96, seed=0, outlines_dir=None)
    for index in range(4):
        image, labels = synth(index)
        inside, outside = image[labels > 0].mean(), image[labels == 0].mean()
        assert (inside > outside) == (index % 2 == 1)


def test_adapted_models_keep_the_initial_models_zoom_thresholds(tmp_path):
    from nanosizer.adapt.workflow import _zoom_thresholds_of
    from nanosizer.nn import create_model, save_model

    assert _zoom_thresholds_of(None) == {}
    stored = {"foreground": 0.6, "marker": 0.4, "contact": 0.3, "min_area": 12, "smooth": 1.5}
    save_model(tmp_path / "m", create_model("unet", depth=2, base_channels=4),
               {"zoom_thresholds": stored})
    assert _zoom_thresholds_of(str(tmp_path / "m")) == {"zoom_thresholds": stored}
    save_model(tmp_path / "plain", create_model("unet", depth=2, base_channels=4), {})
    assert _zoom_thresholds_of(str(tmp_path / "plain")) == {}


def test_adapted_network_that_loses_the_confident_particles_is_not_kept(tmp_path):
    import torch

    from nanosizer.adapt.finetune import tune_and_save
    from nanosizer.adapt.guards import keep_anchors, snapshot
    from nanosizer.io import Micrograph

    pairs = _val_pairs()
    micrographs = [Micrograph(image) for image, _ in pairs]
    anchors = [labels for _, labels in pairs]  # "confident particles" of the initial model
    net, _ = initial_network(None, "unet", device="cpu")
    initial = snapshot(net)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(0.0)  # adapting destroyed the network: it finds nothing
    tune_and_save(tmp_path / "candidate", net, pairs, {"zoom": 1.0}, FinetuneConfig(device="cpu"))
    verdict = keep_anchors(net, initial, tmp_path / "candidate", micrographs, anchors)
    assert verdict.kept == "initial" and verdict.report["anchor_recall"] == 0.0
    assert verdict.report["anchor_particles"] == sum(int(a.max()) for a in anchors) > 0
    assert all(torch.equal(net.state_dict()[k], v) for k, v in initial.items())


@pytest.mark.parametrize("ratio, kept", [(3.5, "initial"), (1.2, "adapted")])
def test_adapted_network_that_shatters_particles_is_not_kept(tmp_path, monkeypatch, ratio, kept):
    import torch

    from nanosizer.adapt import guards
    from nanosizer.adapt.finetune import tune_and_save
    from nanosizer.io import Micrograph

    pairs = _val_pairs()
    micrographs = [Micrograph(image) for image, _ in pairs]
    net, _ = initial_network(None, "unet", device="cpu")
    initial = {k: torch.zeros_like(v) for k, v in guards.snapshot(net).items()}
    monkeypatch.setattr(guards, "_recall", lambda *args: 1.0)  # keeps every anchor ...
    monkeypatch.setattr(guards, "_ratio", lambda *args: ratio)  # ... and more
    tune_and_save(tmp_path / "candidate", net, pairs, {"zoom": 1.0}, FinetuneConfig(device="cpu"))
    verdict = guards.keep_anchors(net, initial, tmp_path / "candidate", micrographs,
                                  [p[1] for p in pairs], init_model="unet")
    assert verdict.kept == kept and verdict.report["particle_count_ratio"] == ratio


def test_count_guard_reuses_the_known_count_of_the_initial_model(tmp_path, monkeypatch):
    from nanosizer.adapt import guards
    from nanosizer.io import Micrograph

    pairs = _val_pairs()
    micrographs = [Micrograph(image) for image, _ in pairs]
    net, _ = initial_network(None, "unet", device="cpu")
    runs = []

    def segmented(model, images):  # the candidate finds each image's labels; nothing else runs
        runs.append(str(model))
        return [lab for _, lab in pairs]

    monkeypatch.setattr(guards, "_segmented", segmented)
    found = sum(int(lab.max()) for _, lab in pairs)
    verdict = guards.keep_anchors(net, guards.snapshot(net), tmp_path / "candidate", micrographs,
                                  [lab for _, lab in pairs], init_model="unet",
                                  init_count=found // 2)
    assert verdict.kept == "initial"
    assert verdict.report["particle_count_ratio"] == pytest.approx(found / (found // 2), abs=1e-4)
    assert runs == [str(tmp_path / "candidate")]  # the initial model was not run again


def test_particle_count_ratio_pools_the_images(monkeypatch):
    from nanosizer.adapt.guards import particle_count_ratio
    from nanosizer.io import Micrograph
    from nanosizer.segment import cnn

    def fake(micrograph, model):  # "many" finds 2 particles more per image than "few"
        count = {"many": 4, "few": 2}[model] + int(micrograph.data[0, 0])
        labels = np.zeros((8, 8), np.int32)
        labels[0, :count] = np.arange(1, count + 1)
        return labels

    monkeypatch.setattr(cnn, "segment_cnn", fake)
    images = [Micrograph(np.full((8, 8), k)) for k in (0, 2)]  # "few" finds 2 and 4
    assert particle_count_ratio("many", "few", images) == pytest.approx(10 / 6)
    assert np.isnan(particle_count_ratio("many", "few", [Micrograph(np.full((8, 8), -2))]))


def test_kept_initial_model_is_written_with_its_own_metadata(tmp_path):
    from nanosizer.adapt.workflow import _save_initial
    from nanosizer.nn import create_model, load_model, save_model

    net = create_model("unet", depth=2, base_channels=4)
    meta = {"thresholds": {"smooth": 4.5}, "trained_on": "synthetic"}
    save_model(tmp_path / "init", net, meta)
    _save_initial(tmp_path / "out", net, str(tmp_path / "init"), {"training_minutes": 1.0})
    back = load_model(tmp_path / "out").metadata
    assert back["thresholds"] == meta["thresholds"] and "zoom" not in back
    assert back["trained_on"] == "synthetic, kept by adapt"
    assert back["adapt"] == {"training_minutes": 1.0}


def test_adapt_unlabelled_route_pastes_the_initial_models_particles(tmp_path):
    from nanosizer.nn import load_metadata

    _write_twins(tmp_path)
    config = AdaptConfig(init_model="unet", budget_minutes=0.1, tile=64, device="cpu")
    report = adapt(sorted((tmp_path / "sem").glob("*.tif")), tmp_path / "model", config)
    pseudo = report["selftrain_pseudo"]
    assert pseudo["isolated_particles"] >= 5 and pseudo["confident_particles"] >= 10
    assert "cyclegan" not in report and report["finetune"]["steps"] >= 1
    assert report["kept"] in ("adapted", "initial") and 0 <= report["initial_val_f1"] <= 1
    assert load_metadata(tmp_path / "model")["thresholds"]


def test_comparison_overlays_put_two_models_side_by_side(tmp_path):
    from nanosizer.adapt.workflow import write_comparison_overlays
    from nanosizer.io import Micrograph

    image, _ = _val_pairs(1)[0]
    written = write_comparison_overlays(tmp_path / "ov", [Micrograph(image)], "unet", "unet")
    import imageio.v3 as iio

    (path,) = written
    rgb = iio.imread(path)
    assert path.name == "image.png" and rgb.shape == (16 + 96, 2 * 96 + 8, 3)
    panels = rgb[16:, :96], rgb[16:, 104:]
    assert np.array_equal(*panels)  # same model: same outlines
    assert np.any(panels[0][..., 0] != panels[0][..., 1])  # outlines drawn in colour
    left, right = rgb[:16, :96], rgb[:16, 104:]
    assert (left < 128).any() and (right < 128).any()  # a title above each panel ...
    assert not np.array_equal(left, right)  # ... and they differ ("before" / "after")


def test_tune_and_save_keeps_given_thresholds_and_reports_both_scores(tmp_path):
    from nanosizer.adapt.finetune import tune_and_save
    from nanosizer.nn import load_metadata
    from nanosizer.segment.instances import InstanceThresholds

    net, _ = initial_network(None, "unet", device="cpu")
    fixed = InstanceThresholds(foreground=0.6, marker=0.4, smooth=4.5)
    scores = tune_and_save(tmp_path / "m", net, _val_pairs(), {}, FinetuneConfig(device="cpu"),
                           thresholds=fixed)
    metadata = load_metadata(tmp_path / "m")
    assert metadata["thresholds"] == fixed.to_dict()
    assert 0 <= scores["f1"] <= 1 and 0 <= scores["f1_tuned_thresholds"] <= 1
    tuned = InstanceThresholds.from_dict(metadata["thresholds_validation_tuned"])
    assert isinstance(tuned, InstanceThresholds)


def test_teacher_brings_images_of_another_magnification_to_one_particle_scale(monkeypatch):
    from nanosizer.adapt import pseudo
    from nanosizer.adapt.teacher import scaled_styles, teacher_canvases
    from nanosizer.io import Micrograph
    from nanosizer.synth import ImageStyle

    (image, labels), _ = _val_pairs()
    big = ndi.zoom(image, 2, order=1), ndi.zoom(labels, 2, order=0)  # 2x the magnification
    shots = [(image, labels, 1.0), (image, labels, 1.0), (*big, 0.5)]
    micrographs = [Micrograph(i) for i, _, _ in shots]
    teacher_of = {id(m): (lab, zoom, int(lab.max())) for m, (_, lab, zoom) in
                  zip(micrographs, shots)}
    monkeypatch.setattr(pseudo, "teacher_labels",
                        lambda m, model, device, return_count: teacher_of[id(m)])
    teacher = teacher_canvases(micrographs, "unet")
    assert teacher.zoom == 1.0 and teacher.factors == [1.0, 1.0, 0.5] and teacher.mixed
    assert teacher.summary()["image_zooms"] == [1.0, 1.0, 0.5]
    assert teacher.canvases[2][0].shape == image.shape  # zoomed out to the others' scale
    areas = [np.bincount(lab.ravel())[1:] for _, lab in teacher.canvases]
    assert np.median(areas[2]) == pytest.approx(np.median(areas[0]), rel=0.15)
    assert teacher.labels[2].shape == big[1].shape  # anchors stay at the image's resolution
    style = ImageStyle(True, 0.15, 0.85, 0.02, 0.8, 20.0, 0.3, None)
    other = Micrograph(image)  # not pseudo-labelled (e.g. it has a transmission twin)
    scaled = scaled_styles([style] * 3, [other, micrographs[0], micrographs[2]], micrographs,
                           teacher)
    assert scaled[0] == scaled[1] == style and scaled[2].size_px == pytest.approx(10.0)
    assert not teacher_canvases(micrographs[:2], "unet").mixed


@pytest.mark.parametrize("kept", ["initial", "adapted"])
def test_a_turned_down_adapted_model_is_kept_beside_the_initial_one(tmp_path, kept):
    from nanosizer.adapt.workflow import REJECTED, _finish
    from nanosizer.nn import create_model, load_model, save_model

    work, out = tmp_path / "work", tmp_path / "out"
    save_model(work / "candidate", create_model("unet", depth=2, base_channels=4), {"zoom": 1.0})
    out.mkdir()
    report = {"kept": kept}
    _finish(out, work, report)
    saved = json.loads((out / "adapt" / "report.json").read_text())
    if kept == "initial":
        assert saved["rejected_model"] == f"adapt/{REJECTED}"
        assert load_model(out / "adapt" / REJECTED).metadata["zoom"] == 1.0
    else:
        assert "rejected_model" not in saved and not (out / "adapt" / REJECTED).exists()


def test_spread_subset_keeps_the_ends_and_the_order():
    from nanosizer.adapt.workflow import spread_subset

    items = list(range(100))
    picked = spread_subset(items, 24)
    assert len(picked) == 24 == len(set(picked)) and picked == sorted(picked)
    assert picked[0] == 0 and picked[-1] == 99
    assert max(np.diff(picked)) - min(np.diff(picked)) <= 1  # evenly spread
    assert spread_subset(items[:5], 24) == items[:5] and spread_subset(items, 1) == [0]


def test_the_zoom_model_of_an_adapted_model_is_a_shipped_name_or_a_copy_inside_it(tmp_path):
    import torch

    from nanosizer.adapt.finetune import FinetuneConfig, tune_and_save
    from nanosizer.adapt.workflow import _model_reference
    from nanosizer.nn import create_model, load_model, save_model
    from nanosizer.nn._schema import resolve_zoom_model

    assert _model_reference("unet") == ("unet", None)
    torch.manual_seed(0)
    save_model(tmp_path / "mine", create_model("unet", depth=2, base_channels=4), {})
    reference, source = _model_reference(str(tmp_path / "mine"))
    assert source == (tmp_path / "mine").resolve() and reference == "zoom_model"
    net = create_model("unet", depth=2, base_channels=4)
    tune_and_save(tmp_path / "adapted", net, [], {"zoom_model": reference}, FinetuneConfig(),
                  zoom_model_source=source)
    # the adapted folder loads (validated) and its zoom model is the copy inside it
    load_model(tmp_path / "adapted")
    chooser = resolve_zoom_model(reference, tmp_path / "adapted")
    assert chooser == (tmp_path / "adapted" / "zoom_model").resolve()
    assert (chooser / "weights.safetensors").read_bytes() == (
        tmp_path / "mine" / "weights.safetensors").read_bytes()


def test_anchor_particles_count_what_analyze_finds():
    from nanosizer.adapt.guards import anchor_particles
    from nanosizer.data import sample_path
    from nanosizer.io import read_micrograph
    from nanosizer.segment.cnn import segment_cnn

    m = read_micrograph(sample_path())
    anchors, count = anchor_particles("unet", [m], return_count=True)
    analyzed = segment_cnn(m, "unet")
    assert count == len(np.unique(analyzed)) - 1 > anchors[0].max() > 50
    # without return_count the same anchors alone (the --no-self-training path's guard input)
    assert np.array_equal(anchor_particles("unet", [m])[0], anchors[0])


def test_finetune_ends_with_the_average_of_its_weights():
    import torch

    from nanosizer.adapt.finetune import finetune
    from nanosizer.nn import create_model

    def run(decay):
        torch.manual_seed(0)
        net = create_model("unet", in_channels=1, out_channels=3, depth=2, base_channels=4)
        start = {k: v.clone() for k, v in net.state_dict().items()}
        config = FinetuneConfig(steps=1, tile=32, batch_size=2, device="cpu", amp=False,
                                average_decay=decay)
        finetune(net, _val_pairs(), config)
        return start, net.state_dict()

    start, last = run(None)
    _, averaged = run(0.998)
    # one update of the ramped average: 0.1 x the start + 0.9 x the trained weights
    name = next(k for k, v in start.items() if v.is_floating_point() and v.ndim == 4)
    assert not torch.allclose(last[name], start[name])
    assert torch.allclose(averaged[name], 0.1 * start[name] + 0.9 * last[name], atol=1e-6)
    with pytest.raises(ValueError, match="average_decay"):
        FinetuneConfig(average_decay=1.0)


def test_adapt_summary_gives_initial_and_adapted_f1_and_clean_paths():
    from nanosizer.cli.adapt import summary_lines

    report = {"kept": "adapted", "minutes": 3.04, "initial_val_f1": 0.803,
              "adapted_val_f1": 0.807, "overlays": ["adapt/overlays/a.png"],
              "val_scores": {"f1": 0.772, "f1_tuned_thresholds": 0.807, "n_images": 8}}
    text = "\n".join(summary_lines(report, "adapted/"))
    assert "adapted model written to adapted in 3.0 min" in text
    assert "initial 0.803, adapted 0.807; kept: adapted" in text
    assert "with the initial model's thresholds, stored with it: F1 0.772 on 8" in text
    assert "adapted/adapt/overlays " in text and "//" not in text
    rejected = {"kept": "initial", "minutes": 1.0, "initial_val_f1": 0.8,
                "adapted_val_f1": 0.7, "rejected_model": "adapt/rejected",
                "val_scores": {"kept": "initial"}}
    text = "\n".join(summary_lines(rejected, "m//"))
    assert "initial 0.800, adapted 0.700; kept: initial" in text
    assert "m/adapt/rejected" in text and "//" not in text and "written model" not in text
