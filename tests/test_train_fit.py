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
    with pytest.raises(InputError, match="base_channels"):
        fit(TrainConfig(**{**TINY, "arch_kwargs": {"base_channels": 8},
                           "init_model": str(tmp_path / "start")}), tmp_path / "y")
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


def test_time_budget_stops_early(tmp_path):
    cfg = TrainConfig(**{**TINY, "epochs": 1000, "minutes": 0.001})
    fit(cfg, tmp_path / "m")
    assert load_model(tmp_path / "m").metadata["epochs"] == 1


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
