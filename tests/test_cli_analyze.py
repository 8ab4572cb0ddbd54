"""``nanosizer analyze`` on the command line: exit codes, messages, the built-in sample."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main

from helpers import draw_discs


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, draw_discs((64, 64), [(20, 20, 8), (40, 44, 9)]))
    return path


def test_analyze_classical_writes_results(image, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["analyze", str(image), "--method", "classical", "--out", str(out), "--quiet"])
    assert code == 0
    assert len(pd.read_csv(out / "particles.csv")) == 2


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["missing.tif"], "missing.tif"),
        (["--pixel-size", "7 parsecs", "{image}"], "--pixel-size"),
        (["--infobar", "bottom", "{image}"], "--infobar"),
        (["--zoom", "0", "{image}"], "zoom"),
        ([], "no images"),
    ],
)
def test_bad_input_exit_2_one_line(args, fragment, image, tmp_path, capsys):
    argv = ["analyze", "--method", "classical", "--out", str(tmp_path / "r")]
    argv += [a.replace("{image}", str(image)) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_unwritable_out_exit_2(image, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = main(["analyze", str(image), "--method", "classical", "--quiet",
                     "--out", str(locked / "res")])
    finally:
        locked.chmod(0o700)
    if code == 0:  # running as a user that ignores permissions (root)
        pytest.skip("permissions are not enforced for this user")
    assert code == 2
    assert "res" in capsys.readouterr().err


def test_help_is_fast_and_lists_commands():
    done = subprocess.run([sys.executable, "-m", "nanosizer", "--help"], capture_output=True,
                          text=True, check=True)
    assert "analyze" in done.stdout and "info" in done.stdout
    probe = "import sys, nanosizer.cli.main as m; m.build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_sample_with_classical(tmp_path):
    out = tmp_path / "res"
    assert main(["analyze", "--sample", "--method", "classical", "--out", str(out),
                 "--quiet"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.iloc[-1]["unit"] == "nm" and summary.iloc[-1]["n"] > 50


def test_sample_with_default_model_finds_the_particles(tmp_path):
    """The README's main job: the shipped UNet on the built-in sample, scored on its truth."""
    from nanosizer.data import sample_labels_path
    from nanosizer.evaluate import score_instances

    out = tmp_path / "res"
    assert main(["analyze", "--sample", "--out", str(out), "--quiet"]) == 0
    pred = tifffile.imread(out / "labels" / "sample_sem.tif")
    truth = tifffile.imread(sample_labels_path())
    assert pred.shape == truth.shape
    run = json.loads((out / "run.json").read_text())
    top = run["images"][0]["infobar_rows"][0]
    truth[top:] = 0
    assert pred[top:].max() == 0
    scores = score_instances(truth, pred)
    assert scores["f1"] > 0.75, scores
    summary = pd.read_csv(out / "summary.csv")
    assert summary.iloc[-1]["method"] == "unet" and summary.iloc[-1]["unit"] == "nm"


def test_no_particles_prints_no_nan(tmp_path, capsys):
    """A calibrated image where only border particles are found: no 'nan%' EU screen."""
    path = tmp_path / "edge.tif"
    tifffile.imwrite(path, draw_discs((64, 64), [(0, 0, 12), (63, 63, 10)]))
    code = main(["analyze", str(path), "--method", "classical", "--pixel-size", "2 nm",
                 "--out", str(tmp_path / "res")])
    assert code == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower()
    assert "2 particles detected, 0 in statistics" in out
    assert "EU screen: no particles in the statistics" in out


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_with_damaged_files_finishes_exit_2(workers, image, tmp_path, capsys):
    import shutil

    for name in ("a.tif", "c.tif"):
        shutil.copy(image, tmp_path / name)
    (tmp_path / "b.tif").write_bytes(b"II*\x00garbage")
    (tmp_path / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "discs.tif").unlink()
    out = tmp_path / "res"
    code = main(["analyze", str(tmp_path), "--method", "classical", "--quiet", "--out", str(out),
                 "--workers", workers])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"nanosizer analyze: skipped {tmp_path / 'b.tif'}: cannot read")
    assert err[1].startswith(f"nanosizer analyze: skipped {tmp_path / 'd.png'}: cannot read")
    assert err[2] == (f"nanosizer analyze: error: 2 of 4 images could not be analysed and were "
                      f"left out; the list is in {out / 'failures.csv'}")
    assert len(err) == 3
    assert sorted(pd.read_csv(out / "particles.csv")["image"].unique()) == ["a", "c"]
    assert pd.read_csv(out / "failures.csv")["file"].tolist() == [
        str(tmp_path / "b.tif"), str(tmp_path / "d.png")]


def test_internal_failure_of_an_image_exit_1(image, tmp_path, capsys, monkeypatch):
    from nanosizer.pipeline import run

    monkeypatch.setattr(run, "analyze_image", lambda *a, **k: 1 / 0)
    code = main(["analyze", str(image), "--method", "classical", "--quiet",
                 "--out", str(tmp_path / "res")])
    assert code == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "internal error: 1 of 1 images" in err


@pytest.mark.parametrize("option, fragment", [
    (["--seed", "-1"], "--seed: seed must be a whole number >= 0, got -1"),
    (["--max-pixels", "-5"], "--max-pixels: max_pixels must be a whole number"),
])
def test_bad_options_refused_before_any_work(option, fragment, image, tmp_path, capsys,
                                             monkeypatch):
    from nanosizer.pipeline import run

    monkeypatch.setattr(run, "analyze_image", lambda *a, **k: pytest.fail("analysed"))
    code = main(["analyze", str(image), "--method", "classical", "--quiet",
                 "--out", str(tmp_path / "res"), *option])
    err = capsys.readouterr().err.strip()
    assert code == 2 and fragment in err and "\n" not in err
    assert not (tmp_path / "res").exists()


def test_image_above_max_pixels_is_a_listed_failure(image, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["analyze", str(image), "--method", "classical", "--quiet", "--out", str(out),
                 "--max-pixels", "4000"])
    assert code == 2
    reason = pd.read_csv(out / "failures.csv")["reason"].iloc[0]
    assert reason.startswith("the image is 64 x 64 px (4096 px), above the limit of 4000 px")
    assert main(["analyze", str(image), "--method", "classical", "--quiet",
                 "--out", str(tmp_path / "ok"), "--max-pixels", "0"]) == 0


def test_existing_out_on_another_file_system(image, tmp_path, capsys):
    import os
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        if os.stat(other).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("/dev/shm is on the same file system as the test folder")
        link = tmp_path / "res"
        link.symlink_to(other, target_is_directory=True)
        code = main(["analyze", str(image), "--method", "classical", "--quiet",
                     "--out", str(link)])
        assert code == 0, capsys.readouterr().err
        assert sorted(os.listdir(other)) == [".nanosizer-manifest.json", "histogram.png",
                                             "labels", "overlays", "particles.csv",
                                             "report.html", "run.json", "summary.csv"]
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_invalid_model_folder_refused_before_any_image(image, tmp_path, capsys):
    from nanosizer.nn import create_model, save_model

    model = save_model(tmp_path / "m", create_model("unet", depth=2, base_channels=4),
                       {"zoom": 30})
    code = main(["analyze", str(image), "--model", str(model), "--quiet",
                 "--out", str(tmp_path / "res")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "metadata.zoom must be a number in [0.015625, 8]" in err
    assert "\n" not in err and not (tmp_path / "res").exists()


def test_sigterm_keeps_the_finished_images_for_resume(image, tmp_path, capsys, monkeypatch):
    import os
    import shutil
    import signal

    from nanosizer.pipeline import run

    for name in ("a.tif", "b.tif"):
        shutil.copy(image, tmp_path / name)
    (tmp_path / "discs.tif").unlink()
    real = run.analyze_image

    def terminated_on_b(path, *args, **kwargs):
        if path.name == "b.tif":
            os.kill(os.getpid(), signal.SIGTERM)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(run, "analyze_image", terminated_on_b)
    before = signal.getsignal(signal.SIGTERM)
    argv = ["analyze", str(tmp_path), "--method", "classical", "--quiet",
            "--out", str(tmp_path / "res")]
    assert main(argv) == 130
    work = tmp_path / ".res.inprogress"
    assert capsys.readouterr().err == (
        f"nanosizer analyze: interrupted; 1 of 2 images are done and kept in {work}: run the "
        "same command with --resume to continue\n")
    assert sorted(os.listdir(tmp_path)) == [".res.inprogress", "a.tif", "b.tif"]
    assert signal.getsignal(signal.SIGTERM) is before
    monkeypatch.setattr(run, "analyze_image", real)
    assert main([*argv, "--resume"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif", "res"]  # work folder removed
    assert sorted(pd.read_csv(tmp_path / "res" / "particles.csv")["image"].unique()) == ["a", "b"]
