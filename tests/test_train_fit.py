"""End-to-end training: a tiny run writes a loadable model folder and resumes."""

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nanosizer.errors import InputError  # noqa: E402
from nanosizer.nn import load_model  # noqa: E402
from nanosizer.train import TrainConfig, fit  # noqa: E402

TINY = dict(
    arch="unet", arch_kwargs={"depth": 2, "base_channels": 4}, tile=32, batch_size=4,
    epochs=2, samples_per_epoch=8, crops_per_image=4, val_samples=2, num_workers=0,
    warmup_steps=1, threads=1, seed=3,
)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_tiny_run_writes_model_and_resumes(tmp_path):
    out = tmp_path / "model"
    fit(TrainConfig(**TINY), out, command="nanosizer train --test")
    loaded = load_model(out)
    meta = loaded.metadata
    assert loaded.arch == "unet" and loaded.arch_kwargs["base_channels"] == 4
    assert set(meta["thresholds"]) == {
        "foreground", "marker", "contact", "min_area", "smooth", "min_relative_area", "decoder",
        "offset_px", "vote_sigma", "vote_density", "vote_prominence", "vote_merge", "vote_steps",
    }
    assert meta["thresholds"]["decoder"] == "watershed" and meta["outputs"][-1] == "distance"
    assert meta["normalization"]["method"] == "percentile"
    assert meta["epochs"] == 2 and meta["training_command"] == "nanosizer train --test"
    assert 0 < meta["particle_diameter_px"]["median"] < 300
    assert 0.0 <= meta["val_scores"]["f1"] <= 1.0
    assert len(_rows(out / "metrics.csv")) == 2
    assert (out / "train.log").read_text().count("epoch=") == 2

    with pytest.raises(InputError, match="--resume"):
        fit(TrainConfig(**TINY), out)
    with pytest.raises(InputError, match="different settings"):
        fit(TrainConfig(**{**TINY, "lr": 1e-2}), out, resume=True)

    fit(TrainConfig(**{**TINY, "epochs": 3}), out, resume=True)
    rows = _rows(out / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert int(rows[-1]["step"]) == 3 * 2  # steps continue, not restart
    assert json.loads((out / "config.json").read_text())["metadata"]["epochs"] == 3


def test_init_starts_from_a_models_weights_and_checks_the_architecture(tmp_path):
    import torch

    from nanosizer.nn import create_model, save_model
    from nanosizer.train.loop import _start, initial_weights

    torch.manual_seed(5)
    start = create_model("unet", in_channels=1, out_channels=3, depth=2, base_channels=4)
    save_model(tmp_path / "start", start, {})
    # no arch_kwargs needed: the model folder's are used
    config = TrainConfig(**{**TINY, "arch_kwargs": {}, "init_model": str(tmp_path / "start")})
    initial = initial_weights(config.init_model, config.arch, config.arch_kwargs)
    net, _, state = _start(config, tmp_path / "run", False, torch.device("cpu"), initial)
    assert state.step == 0 and net.config["base_channels"] == 4
    assert all(torch.equal(v, start.state_dict()[k]) for k, v in net.state_dict().items())

    fit(config, tmp_path / "run")  # trains on from there and writes the same architecture
    assert load_model(tmp_path / "run").arch_kwargs["base_channels"] == 4

    with pytest.raises(InputError, match="--arch unet"):
        fit(TrainConfig(**{**TINY, "arch": "multiresunet", "arch_kwargs": {},
                           "init_model": str(tmp_path / "start")}), tmp_path / "x")
    with pytest.raises(InputError, match="base_channels"):  # not a multiple: cannot widen
        fit(TrainConfig(**{**TINY, "arch_kwargs": {"base_channels": 6},
                           "init_model": str(tmp_path / "start")}), tmp_path / "y")
    # a multiple of the width widens the network, computing what it computed
    wide = initial_weights(str(tmp_path / "start"), "unet", {"base_channels": 8})
    assert wide.config["base_channels"] == 8
    x = torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        assert torch.allclose(wide.eval()(x), start.eval()(x), atol=0.05)
    with pytest.raises(InputError, match="neither a shipped model"):
        fit(TrainConfig(**{**TINY, "init_model": str(tmp_path / "missing")}), tmp_path / "z")
    # nothing written for a refused initial model
    assert not any((tmp_path / d).exists() for d in ("x", "y", "z"))


def test_centre_offsets_add_two_outputs_to_an_initial_model(tmp_path):
    import torch

    from nanosizer.nn import create_model, save_model

    torch.manual_seed(5)
    start = create_model("unet", in_channels=1, out_channels=3, depth=2, base_channels=4)
    save_model(tmp_path / "start", start, {})
    config = TrainConfig(**{**TINY, "arch_kwargs": {}, "init_model": str(tmp_path / "start"),
                            "centre_offsets": True})
    fit(config, tmp_path / "run")
    loaded = load_model(tmp_path / "run")
    assert loaded.arch_kwargs["out_channels"] == 5
    assert loaded.metadata["outputs"][3:] == ["offset_y", "offset_x"]
    assert loaded.metadata["thresholds"]["decoder"] == "centres"
    # a model with offsets cannot be trained on without them
    with pytest.raises(InputError, match="--centre-offsets"):
        fit(TrainConfig(**{**TINY, "arch_kwargs": {}, "init_model": str(tmp_path / "run")}),
            tmp_path / "again")
    assert not (tmp_path / "again").exists()


def test_time_budget_holds_for_the_whole_run_including_threshold_search(tmp_path):
    """Start to written model within the budget: training stops early enough for the last
    validation, the threshold search (stopped early, best kept) and the export.  Before, the
    budget covered the steps only: 8 validation images made the 138-candidate search alone
    outlast the budget."""
    import time

    from nanosizer.train.deadline import Deadline

    budget_s = 12.0
    cfg = TrainConfig(**{**TINY, "epochs": 1000, "val_samples": 8, "minutes": budget_s / 60})
    deadline = Deadline(budget_s)
    fit(cfg, tmp_path / "m", deadline=deadline)
    took = time.monotonic() - deadline.start
    meta = load_model(tmp_path / "m").metadata
    assert took <= 1.05 * budget_s + 0.5, f"{took:.1f} s for a {budget_s} s budget"
    assert meta["epochs"] >= 1 and meta["steps"] >= 1
    search = meta["threshold_search"]
    assert 0 <= search["tried"] <= search["candidates"] == 138
    assert search["complete"] == (search["tried"] == 138)
    assert "threshold search" in (tmp_path / "m" / "train.log").read_text()


def test_a_budget_too_small_for_one_step_and_the_export_is_refused_up_front(tmp_path):
    with pytest.raises(InputError, match=r"--minutes 0.001 is too short .* give --minutes \d"):
        fit(TrainConfig(**{**TINY, "epochs": 1000, "minutes": 0.001}), tmp_path / "m")
    assert not (tmp_path / "m").exists()  # nothing written


def test_cli_refuses_a_too_small_budget_with_exit_2(tmp_path, capsys):
    from nanosizer.cli.main import main

    assert main(["train", "--out", str(tmp_path / "m"), "--depth", "2", "--base-channels", "4",
                 "--tile", "32", "--batch-size", "4", "--val-samples", "2", "--threads", "1",
                 "--minutes", "0.001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--minutes 0.001 is too short" in err[0]


def test_config_validation_and_roundtrip():
    cfg = TrainConfig(**TINY)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown arch"):
        TrainConfig(arch="resnet")
    with pytest.raises(ValueError, match="tile"):
        TrainConfig(tile=100)
    with pytest.raises(ValueError, match="unknown training config"):
        TrainConfig.from_dict({"foo": 1})
    big = TrainConfig(**{**TINY, "synth_size": 96, "particle_px": (30.0, 40.0)})
    assert TrainConfig.from_dict(big.to_dict()) == big and big.synth_side == 96
    with pytest.raises(ValueError, match="synth_size"):
        TrainConfig(tile=64, synth_size=32)
    with pytest.raises(ValueError, match="particle_px"):
        TrainConfig(particle_px=(0.0, 5.0))


def test_training_crops_come_from_synthetic_images_of_the_given_size_and_particle_range():
    from nanosizer.train.data import TrainingSet, validation_set

    cfg = TrainConfig(**{**TINY, "synth_size": 272, "particle_px": (30.0, 40.0), "val_samples": 2})
    x, targets = TrainingSet(cfg, epoch=0)[0]
    assert x.shape[-2:] == (cfg.tile, cfg.tile) and targets.shape[-2:] == (cfg.tile, cfg.tile)
    for image, labels in validation_set(cfg):
        assert image.shape == (272, 272)
        areas = np.bincount(labels.ravel())[1:]
        diameters = np.sqrt(4 * areas[areas > 0] / np.pi)
        assert 18 < np.median(diameters) < 50  # median 30-40 px drawn (some hidden or cut)


def test_folder_data(tmp_path):
    from skimage import io

    rng = np.random.default_rng(0)
    (tmp_path / "d" / "images").mkdir(parents=True)
    (tmp_path / "d" / "labels").mkdir()
    yy, xx = np.mgrid[:48, :48]
    for i in range(5):
        lab = np.zeros((48, 48), np.uint16)
        for j, (cy, cx) in enumerate(rng.uniform(8, 40, size=(3, 2)), start=1):
            lab[((yy - cy) ** 2 + (xx - cx) ** 2 <= 36) & (lab == 0)] = j
        img = (40 + 150 * (lab > 0) + rng.normal(0, 5, lab.shape)).clip(0, 255).astype(np.uint8)
        io.imsave(tmp_path / "d" / "images" / f"im{i}.png", img, check_contrast=False)
        io.imsave(tmp_path / "d" / "labels" / f"im{i}.png", lab, check_contrast=False)
    cfg = TrainConfig(**{**TINY, "data": str(tmp_path / "d"), "epochs": 1})
    fit(cfg, tmp_path / "m")
    meta = load_model(tmp_path / "m").metadata
    assert meta["trained_on"] == "folder" and meta["val_scores"]["n_images"] == 1
    with pytest.raises(InputError, match="images/ and labels/"):
        fit(TrainConfig(**{**TINY, "data": str(tmp_path)}), tmp_path / "m2")


def test_cli_warns_when_the_trained_model_finds_nothing(tmp_path, capsys):
    """A tiny run's untrained network scores validation F1 ~0: the command must say so."""
    from nanosizer.cli.main import main
    from nanosizer.cli.train import USABLE_F1
    from nanosizer.nn import load_metadata

    out = tmp_path / "model"
    assert main(["train", "--out", str(out), "--depth", "2", "--base-channels", "4",
                 "--tile", "32", "--batch-size", "4", "--epochs", "1", "--samples-per-epoch",
                 "4", "--val-samples", "2", "--threads", "1", "--seed", "3"]) == 0
    f1 = load_metadata(out)["val_scores"]["f1"]
    captured = capsys.readouterr()
    assert f"validation F1 {f1:.3f} on 2 images" in captured.out
    assert (f"warning: validation F1 {f1:.3f}" in captured.err) == (f1 < USABLE_F1)
    assert f1 < USABLE_F1  # what this test is for: the warning is printed


class _Budget:
    """A deadline that lets exactly ``n`` more pieces of work start."""

    limited = True

    def __init__(self, n):
        self.n = n

    def fits(self, seconds):
        self.n -= 1
        return self.n >= 0


def test_threshold_search_stopped_by_the_deadline_keeps_the_best_candidate_so_far(monkeypatch):
    from nanosizer.segment.instances import InstanceThresholds
    from nanosizer.train import validate

    # F1 rises with the smoothing, then falls with the foreground threshold: of the first 5
    # grid points (fg 0.4, marker 0.3, contact 0.3/0.5, smooth 0/1.5/3), the third is best
    def fake_f1(probabilities, labels, t):
        return t.smooth / 10 - t.contact / 100 - (t.foreground - 0.4)

    monkeypatch.setattr(validate, "instance_f1", fake_f1)
    search = {}
    best, f1 = validate.tune_thresholds([], [], InstanceThresholds(), deadline=_Budget(5),
                                        search=search)
    assert (best.foreground, best.marker, best.contact, best.smooth) == (0.4, 0.3, 0.3, 3.0)
    assert f1 == pytest.approx(0.3 - 0.003)
    assert search["tried"] == 5 and search["candidates"] == 138 and not search["complete"]

    # the same first five candidates when asked for (a fair comparison with a cut search)
    assert validate.tune_thresholds([], [], InstanceThresholds(), max_candidates=5,
                                    search=search) == (best, f1)
    assert search["tried"] == 5 and not search["complete"]

    best, _ = validate.tune_thresholds([], [], InstanceThresholds(), deadline=_Budget(0),
                                       search=search)
    assert best == InstanceThresholds() and search["tried"] == 0  # the base, scored first
    validate.tune_thresholds([], [], InstanceThresholds(decoder="centres"), search=search)
    assert search["tried"] == search["candidates"] == 27 + 3 and search["complete"]


def test_outcome_lines_say_when_the_threshold_search_was_cut_short(tmp_path):
    from nanosizer.cli.train import outcome_lines
    from nanosizer.nn import create_model, save_model

    net = create_model("unet", depth=2, base_channels=4)
    meta = {"val_scores": {"f1": 0.5, "n_images": 4}, "training_minutes": 1.0, "steps": 9}
    save_model(tmp_path / "cut", net, {**meta, "threshold_search": {
        "candidates": 138, "tried": 40, "complete": False}})
    save_model(tmp_path / "full", net, {**meta, "threshold_search": {
        "candidates": 138, "tried": 138, "complete": True}})
    assert any("after 40 of 138 candidates" in line for line in outcome_lines(tmp_path / "cut"))
    assert not any(line.startswith("note") for line in outcome_lines(tmp_path / "full"))
