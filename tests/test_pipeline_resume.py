"""``analyze --resume``: an interrupted run continues and ends as an uninterrupted one would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import tifffile

import nanosizer
from nanosizer.cli.main import main
from nanosizer.errors import InputError
from nanosizer.pipeline import AnalyzeConfig, analyze, run

from helpers import draw_discs

CLASSICAL = AnalyzeConfig(method="classical", n_boot=50)
GOOD = ["a", "b", "c", "d"]  # and bad.tif, which cannot be read
_REAL = run.analyze_image


@pytest.fixture
def images(tmp_path):
    """Four calibrated images of different discs (2 nm/px) and a damaged file, in a folder."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i, stem in enumerate(GOOD):
        discs = [(16 + 5 * i, 18, 7 + i), (44, 20 + 4 * i, 9), (20, 48, 6 + 2 * i)]
        tifffile.imwrite(folder / f"{stem}.tif", draw_discs((64, 64), discs, noise=3, rng=i),
                         imagej=True, resolution=(0.5, 0.5), metadata={"unit": "nm"})
    (folder / "bad.tif").write_bytes(b"II*\x00garbage")
    return folder


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {name: (data, (folder / name).stat().st_mtime_ns)
            for name, data in _tree(folder).items()}


def _interrupt_at(monkeypatch, stem: str) -> None:
    def analyze_image(path, *args, **kwargs):
        if path.stem == stem:
            raise KeyboardInterrupt
        return _REAL(path, *args, **kwargs)

    monkeypatch.setattr(run, "analyze_image", analyze_image)


def _count_analysed(monkeypatch) -> list[str]:
    seen = []

    def analyze_image(path, *args, **kwargs):
        seen.append(path.stem)
        return _REAL(path, *args, **kwargs)

    monkeypatch.setattr(run, "analyze_image", analyze_image)
    return seen


def _reference(images: Path, tmp_path: Path) -> dict[str, bytes]:
    """The outputs of an uninterrupted run (``resume`` without an unfinished run: a new one)."""
    result = analyze([images], tmp_path / "reference", CLASSICAL, resume=True)
    assert [r.name for r in result.images] == GOOD and result.resumed == 0
    assert [Path(f.file).name for f in result.failures] == ["bad.tif"]
    return _tree(tmp_path / "reference")


@pytest.mark.parametrize("existing_out", [False, True])
def test_interrupted_run_resumes_to_identical_outputs(existing_out, images, tmp_path,
                                                     monkeypatch):
    reference = _reference(images, tmp_path)
    assert {"particles.csv", "summary.csv", "run.json", "failures.csv", "histogram.png",
            "labels/a.tif", "overlays/d.png"} <= set(reference)
    out = tmp_path / "res"
    if existing_out:
        out.mkdir()
    work = out / ".nanosizer.inprogress" if existing_out else tmp_path / ".res.inprogress"
    _interrupt_at(monkeypatch, "c")
    with pytest.raises(KeyboardInterrupt) as info:
        analyze([images], out, CLASSICAL)
    assert info.value.__notes__ == [f"2 of 5 images are done and kept in {work}: run the same "
                                    "command with --resume to continue"]
    assert sorted(os.listdir(work / "state" / "images")) == ["a.json", "b.json"]
    if existing_out:
        assert os.listdir(out) == [work.name]
    else:
        assert not out.exists()
    seen = _count_analysed(monkeypatch)
    result = analyze([images], out, CLASSICAL, resume=True)
    assert seen == ["bad", "c", "d"]  # finished images are not redone; the failed one is retried
    assert result.resumed == 2 and [r.name for r in result.images] == GOOD
    assert _tree(out) == reference  # tables, pooled statistics, labels, overlays, run.json
    assert not work.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_resume_with_two_workers(images, tmp_path, monkeypatch):
    argv = ["analyze", str(images), "--method", "classical", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "reference")]) == 2  # bad.tif is left out
    out = tmp_path / "res"
    _interrupt_at(monkeypatch, "b")
    assert main([*argv, "--out", str(out)]) == 130
    monkeypatch.undo()
    assert main([*argv, "--out", str(out), "--resume", "--workers", "2"]) == 2
    assert _tree(out) == _tree(tmp_path / "reference")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


_KILLER = """
    import os, signal
    from nanosizer.pipeline import run

    _real = run.analyze_image

    def analyze_image(path, *args, **kwargs):  # a power loss while c.tif is analysed
        if path.name == "c.tif":
            os.killpg(os.getpgid(0), signal.SIGKILL)
        return _real(path, *args, **kwargs)

    run.analyze_image = analyze_image
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_resume_after_sigkill(workers, images, tmp_path, monkeypatch):
    """SIGKILL of the whole process group (main process and workers) mid-run, then resume."""
    reference = _reference(images, tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(_KILLER))
    src = Path(nanosizer.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(src)]),
           "OMP_NUM_THREADS": "1"}
    out = tmp_path / "res"
    code = ("from nanosizer.pipeline import AnalyzeConfig, analyze; "
            f"analyze([{str(images)!r}], {str(out)!r}, "
            f"AnalyzeConfig(method='classical', n_boot=50), workers={workers})")
    done = subprocess.run([sys.executable, "-c", code], env=env, start_new_session=True,
                          capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    work = tmp_path / ".res.inprogress"
    finished = {p.stem for p in (work / "state" / "images").iterdir()}
    assert finished and finished <= {"a", "b"} and not out.exists()
    if workers == "1":
        assert "a" in finished
    seen = _count_analysed(monkeypatch)
    result = analyze([images], out, CLASSICAL, resume=True)
    assert sorted(seen) == sorted({"bad", *GOOD} - finished)
    assert result.resumed == len(finished)
    assert _tree(out) == reference
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("option, fragment", [
    (["--min-area", "5"], "setting min_area_px (--min-area) was 0 when it started, now 5"),
    (["--pixel-size", "3 nm"], "setting pixel_size (--pixel-size) was None when it started, "
                               "now '3 nm'"),
    (["--no-overlays"], "setting overlays (--no-overlays) was True when it started, now False"),
    (["--measure", "ecd"], "setting measure (--measure) was 'feret_min'"),
    (["--drop", "d.tif"], "its image {images}/d.tif is not given"),
    (["--add", "e.tif"], "{images}/e.tif was not one of its images"),
])
def test_resume_with_other_settings_is_refused_and_changes_nothing(
        option, fragment, images, tmp_path, monkeypatch, capsys):
    out = tmp_path / "res"
    argv = ["analyze", str(images / "*.tif"), "--method", "classical", "--quiet",
            "--out", str(out)]
    _interrupt_at(monkeypatch, "c")
    assert main(argv) == 130
    monkeypatch.undo()
    work = tmp_path / ".res.inprogress"
    before = _snapshot(work)
    if option[0] == "--drop":
        (images / option[1]).unlink()
        option = []
    elif option[0] == "--add":
        (images / option[1]).write_bytes((images / "a.tif").read_bytes())
        option = []
    capsys.readouterr()
    monkeypatch.setattr(run, "analyze_image", lambda *a, **k: pytest.fail("analysed"))
    assert main([*argv, *option, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nanosizer analyze: error: cannot resume the unfinished run into "
                          f"{out}: ")
    assert fragment.format(images=images) in err and err.count("\n") == 1
    assert err.rstrip().endswith("resume it with the same images and settings, or start over "
                                 "with --overwrite instead of --resume")
    assert _snapshot(work) == before and not out.exists()


def test_unfinished_run_needs_resume_or_overwrite(images, tmp_path, monkeypatch, capsys):
    reference = _reference(images, tmp_path)
    out = tmp_path / "res"
    _interrupt_at(monkeypatch, "b")
    with pytest.raises(KeyboardInterrupt):
        analyze([images], out, CLASSICAL)
    monkeypatch.undo()
    work = tmp_path / ".res.inprogress"
    before = _snapshot(work)
    with pytest.raises(InputError) as info:
        analyze([images], out, CLASSICAL)
    assert str(info.value) == (f"{out} has an unfinished run (its finished images are kept in "
                               f"{work}); add --resume to continue it, or --overwrite to start "
                               "over")
    assert _snapshot(work) == before and not out.exists()
    # --overwrite without --resume: the CLI says so, and everything is analysed again
    seen = _count_analysed(monkeypatch)
    argv = ["analyze", str(images), "--method", "classical", "--quiet", "--out", str(out),
            "--overwrite"]
    assert main(argv) == 2  # bad.tif left out
    err = capsys.readouterr().err
    assert err.startswith(f"note: --overwrite without --resume: starting over, the unfinished "
                          f"run in {work} is discarded\n")
    assert sorted(seen) == ["a", "b", "bad", "c", "d"]
    assert set(_tree(out)) == set(reference) and not work.exists()
    with pytest.raises(InputError, match="finished run, so there is nothing to resume"):
        analyze([images], out, CLASSICAL, resume=True)


def test_interrupt_before_any_image_is_done_leaves_nothing(images, tmp_path, monkeypatch):
    _interrupt_at(monkeypatch, "a")
    with pytest.raises(KeyboardInterrupt) as info:
        analyze([images], tmp_path / "res", CLASSICAL)
    assert not getattr(info.value, "__notes__", [])
    assert sorted(os.listdir(tmp_path)) == ["images"]


def test_changed_or_incomplete_images_are_analysed_again(images, tmp_path, monkeypatch):
    reference = _reference(images, tmp_path)
    out = tmp_path / "res"
    _interrupt_at(monkeypatch, "d")
    with pytest.raises(KeyboardInterrupt):
        analyze([images], out, CLASSICAL)
    monkeypatch.undo()
    work = tmp_path / ".res.inprogress"
    stat = (images / "a.tif").stat()
    os.utime(images / "a.tif", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched
    (work / "results" / "overlays" / "b.png").unlink()  # an image's file is missing
    (work / "results" / "labels" / ".d.tif.0a1b2c3d.tmp").write_bytes(b"cut short")
    (work / "state" / "images" / ".d.json.0a1b2c3d.tmp").write_bytes(b"{")
    seen = _count_analysed(monkeypatch)
    result = analyze([images], out, CLASSICAL, resume=True)
    assert seen == ["a", "b", "bad", "d"] and result.resumed == 1
    assert _tree(out) == reference  # no left-over file is published


def test_records_keep_tables_and_image_facts_exactly(tmp_path):
    from nanosizer.pipeline.resume import load_images, save_image, start_or_check

    path = tmp_path / "001.tif"
    tifffile.imwrite(path, draw_discs((64, 64), [(30, 30, 9), (10, 50, 5)], noise=3))
    blank = tmp_path / "002.tif"
    tifffile.imwrite(blank, draw_discs((64, 64), []))
    config = AnalyzeConfig(method="classical", n_boot=0)
    state, results = tmp_path / "state", tmp_path / "results"
    state.mkdir()
    for folder in ("labels", "overlays"):
        (results / folder).mkdir(parents=True)
    start_or_check(state, {"nanosizer_version": "x", "settings": {}, "weights_sha256": None,
                           "images": []}, tmp_path)
    expected = {}
    for image in (path, blank):
        mg, labels, table, info = run.analyze_image(image, config, return_segmentation=True)
        record = run.ImageRecord(mg.name, str(image), mg.shape, mg.pixel_size.to_dict(),
                                 mg.infobar_top, len(table), dict(mg.metadata), info)
        save_image(state, image, record, table)
        for name in (f"labels/{mg.name}.tif", f"overlays/{mg.name}.png"):
            (results / name).write_bytes(b"")
        expected[mg.name] = (record, table)
    loaded = load_images(state, results, [path, blank], config)
    assert list(loaded) == ["001", "002"]
    for stem, (record, table) in expected.items():
        assert loaded[stem][0] == record
        pd.testing.assert_frame_equal(loaded[stem][1], table, check_exact=True)
    assert len(loaded["002"][1]) == 0 and loaded["001"][1]["image"].tolist() == ["001"] * 2


def test_a_second_run_into_the_same_out_is_refused_while_the_first_runs(images, tmp_path):
    from nanosizer.io import WorkDir

    out = tmp_path / "res"
    first = WorkDir(out)  # a run in progress holds its work folder's lock
    for resume in (False, True):
        with pytest.raises(InputError, match=f"another nanosizer run is writing into {out} "):
            analyze([images], out, CLASSICAL, resume=resume)
    assert first.results.is_dir() and not out.exists()
    first.close()  # that run ended (the lock goes with its process, however it ends)
    result = analyze([images], out, CLASSICAL, resume=True)
    assert result.resumed == 0 and (out / "particles.csv").is_file()
    assert not first.root.exists()
