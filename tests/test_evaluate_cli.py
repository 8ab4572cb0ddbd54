"""Folder evaluation and the ``nanosizer evaluate`` command on tiny files."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.errors import InputError
from nanosizer.evaluate import EvaluateConfig, evaluate_folders, evaluate_images

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emps-train"


def _truth():
    labels = np.zeros((40, 40), dtype=np.uint16)
    labels[4:12, 4:12] = 1
    labels[4:12, 20:30] = 2
    labels[20:30, 4:12] = 3
    labels[20:30, 12:20] = 4  # touches 3
    return labels


def _write(folder: Path, name: str, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(folder / f"{name}.tif", labels)


@pytest.fixture
def folders(tmp_path):
    truth = _truth()
    merged = truth.copy()
    merged[merged == 4] = 3   # particles 3 and 4 merged: 80/160 = 0.5 IoU with each
    merged[20:30, 4:6] = 0    # shrink so that it matches particle 4 (80/140) only
    _write(tmp_path / "truth", "a", truth)
    _write(tmp_path / "truth", "b", truth)
    _write(tmp_path / "pred" / "labels", "a", truth)   # analyze layout
    _write(tmp_path / "pred" / "labels", "b", merged)
    (tmp_path / "pred" / "particles.csv").write_text("image,label\n")
    return tmp_path


def test_pooled_counts_and_mean_image_f1(folders):
    ev = evaluate_folders(folders / "truth", folders / "pred")
    assert ev.per_image["f1"].tolist() == [1.0, pytest.approx(2 * 3 / (2 * 3 + 1 + 0))]
    p = ev.pooled
    assert (p["tp"], p["fp"], p["fn"]) == (7, 0, 1)
    assert p["f1"] == pytest.approx(14 / 15)
    assert p["mean_image_f1"] == pytest.approx((1 + 6 / 7) / 2)
    assert p["recall"] == pytest.approx(7 / 8) and p["precision"] == 1.0
    # Size figures: all 8 true particles are inside; prediction has one fewer particle.
    assert p["feret_min_n_true"] == 8 and p["feret_min_n_pred"] == 7
    assert set(ev.sizes["source"]) == {"truth", "pred"}


def test_border_particles_left_out_of_sizes_only():
    truth = np.zeros((20, 20), np.int32)
    truth[0:5, 0:5] = 1     # touches the border
    truth[8:14, 8:14] = 2
    ev = evaluate_images([("x", truth, truth, None)])
    assert ev.pooled["tp"] == 2 and ev.pooled["feret_min_n_true"] == 1
    assert ev.pooled["feret_min_mean_true"] == 6.0
    ev = evaluate_images([("x", truth, truth, None)], EvaluateConfig(exclude_border=False))
    assert ev.pooled["feret_min_n_true"] == 2


def test_cli_writes_tables_and_refuses_non_empty_out(folders, capsys):
    out = folders / "out"
    argv = ["evaluate", "--truth", str(folders / "truth"), "--pred", str(folders / "pred"),
            "--out", str(out)]
    assert main(argv) == 0
    assert "F1 (pooled)" in capsys.readouterr().out
    assert len(pd.read_csv(out / "per_image.csv")) == 2
    doc = json.loads((out / "scores.json").read_text())
    assert doc["pooled"]["tp"] == 7 and doc["config"]["threshold"] == 0.5
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--quiet"]) == 0


def test_missing_prediction_is_an_input_error(folders):
    (folders / "pred" / "labels" / "b.tif").unlink()
    with pytest.raises(InputError, match="no prediction for 'b'"):
        evaluate_folders(folders / "truth", folders / "pred")
    tifffile.imwrite(folders / "pred" / "labels" / "b.tif", np.zeros((5, 5), np.uint16))
    with pytest.raises(InputError, match="shape"):
        evaluate_folders(folders / "truth", folders / "pred")


@pytest.mark.skipif(not DATA.is_dir(), reason="EMPS data not available")
def test_classical_on_two_emps_images(tmp_path, capsys):
    names = sorted(p.name for p in (DATA / "labels").glob("*.png"))[:2]
    for sub in ("images", "labels"):
        (tmp_path / sub).mkdir()
        for n in names:
            (tmp_path / sub / n).symlink_to(DATA / sub / n)
    argv = ["evaluate", "--truth", str(tmp_path / "labels"), "--images", str(tmp_path / "images"),
            "--method", "classical", "--infobar", "none", "--scale-bar", "none",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    per_image = pd.read_csv(tmp_path / "out" / "per_image.csv")
    assert len(per_image) == 2 and per_image["f1"].between(0, 1).all()
    assert sorted(p.name for p in (tmp_path / "out" / "labels").iterdir()) == [
        n.replace(".png", ".tif") for n in names
    ]
