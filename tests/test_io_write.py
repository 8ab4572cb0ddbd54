"""Atomic writers and staged results folders."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from nanosizer.errors import InputError
from nanosizer.io import (
    StagedDir,
    atomic_write,
    atomic_write_text,
    prepare_output_dir,
    staged_output_dir,
    write_json,
    write_label_image,
    write_png,
    write_table,
)


def test_label_image_dtype_and_roundtrip(tmp_path):
    small = np.zeros((10, 12), np.int64)
    small[2:5, 3:7] = 65535
    big = small.astype(np.int64) * 2
    write_label_image(tmp_path / "s.tif", small)
    write_label_image(tmp_path / "b.tif", big)
    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        assert tif.pages[0].compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert tif.pages[0].dtype == np.uint16
        np.testing.assert_array_equal(tif.asarray(), small)
    read = tifffile.imread(tmp_path / "b.tif")
    assert read.dtype == np.uint32 and read.max() == 131070
    assert sorted(os.listdir(tmp_path)) == ["b.tif", "s.tif"]  # no temp files left


def test_label_image_rejects_float_and_negative(tmp_path):
    with pytest.raises(ValueError, match="integer"):
        write_label_image(tmp_path / "x.tif", np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="non-negative"):
        write_label_image(tmp_path / "x.tif", -np.ones((4, 4), np.int32))
    assert not (tmp_path / "x.tif").exists()


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")

    def explode(fh):
        fh.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


def test_table_json_png(tmp_path):
    df = pd.DataFrame({"label": [1, 2], "feret_min_nm": [3.5, np.nan]})
    write_table(tmp_path / "t.csv", df)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), df)
    write_json(tmp_path / "r.json", {"n": np.int64(3), "x": np.float32(0.5), "bad": np.nan,
                                     "arr": np.arange(2), "p": tmp_path})
    assert json.loads((tmp_path / "r.json").read_text()) == {
        "n": 3, "x": 0.5, "bad": None, "arr": [0, 1], "p": str(tmp_path)}
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[..., 1] = 200
    write_png(tmp_path / "o.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.png")), rgb)
    grey16 = np.arange(30, dtype=np.uint16).reshape(5, 6) * 2000
    write_png(tmp_path / "g.png", grey16)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "g.png")), grey16)
    with pytest.raises(ValueError):
        write_png(tmp_path / "f.png", np.full((4, 4), 3.0))


def test_prepare_output_dir(tmp_path):
    out = prepare_output_dir(tmp_path / "new" / "results")
    assert out.is_dir()
    (out / "old.csv").write_text("x")
    with pytest.raises(InputError, match="not empty; choose another --out or pass --overwrite"):
        prepare_output_dir(out)
    assert prepare_output_dir(out, overwrite=True) == out
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        prepare_output_dir(tmp_path / "file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX non-root")
def test_unwritable_output(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="locked"):
            prepare_output_dir(locked / "results")
        with pytest.raises(InputError, match="locked"):
            StagedDir(locked / "results")
    finally:
        locked.chmod(0o700)


def test_staged_success_publishes(tmp_path):
    out = tmp_path / "results"
    with staged_output_dir(out) as folder:
        (folder / "labels").mkdir()
        write_label_image(folder / "labels" / "a.tif", np.ones((3, 3), np.uint8))
        write_table(folder / "particles.csv", pd.DataFrame({"a": [1]}))
        assert not out.exists()
    assert sorted(p.name for p in out.iterdir()) == [".nanosizer-manifest.json", "labels",
                                                     "particles.csv"]
    assert os.listdir(tmp_path) == ["results"]  # staging folder gone
    manifest = json.loads((out / ".nanosizer-manifest.json").read_text())
    assert manifest == {"files": ["labels/a.tif", "particles.csv"]}


def test_staged_failure_leaves_nothing(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(RuntimeError):
        with staged_output_dir(out) as folder:
            write_table(folder / "particles.csv", pd.DataFrame({"a": [1]}))
            raise RuntimeError("segmentation failed")
    assert os.listdir(tmp_path) == []
    staged = StagedDir(out)
    (staged.path / "x.txt").write_text("x")
    staged.discard()
    assert os.listdir(tmp_path) == []


def test_staged_refuses_non_empty_then_overwrite_replaces_only_its_entries(tmp_path):
    out = tmp_path / "results"
    (out / "labels").mkdir(parents=True)
    (out / "labels" / "stale.tif").write_text("old")
    (out / "particles.csv").write_text("old")
    (out / "my_notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        StagedDir(out)
    # no manifest (a folder of an older version): only same-named files are replaced
    with StagedDir(out, overwrite=True) as staged:
        (staged.path / "labels").mkdir()
        (staged.path / "labels" / "new.tif").write_text("new")
        (staged.path / "particles.csv").write_text("new")
    assert sorted(os.listdir(out / "labels")) == ["new.tif", "stale.tif"]
    assert (out / "particles.csv").read_text() == "new"
    assert (out / "my_notes.txt").read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["results"]
    # with the manifest: nanosizer's files of the last run are replaced or removed, no other
    with StagedDir(out, overwrite=True) as staged:
        (staged.path / "summary.csv").write_text("new")
    assert sorted(os.listdir(out)) == [".nanosizer-manifest.json", "labels", "my_notes.txt",
                                       "summary.csv"]
    assert os.listdir(out / "labels") == ["stale.tif"]


def test_overwrite_refuses_to_replace_a_users_file_and_changes_nothing(tmp_path):
    out = tmp_path / "results"
    with StagedDir(out) as staged:
        (staged.path / "a.csv").write_text("1")
    (out / "b.csv").write_text("mine")
    staged = StagedDir(out, overwrite=True)
    with pytest.raises(InputError, match=r"b.csv was not written by nanosizer .* move it away"):
        staged.check_free(["a.csv", "b.csv"])
    (staged.path / "b.csv").write_text("new")
    with pytest.raises(InputError, match="b.csv was not written by nanosizer"):
        staged.commit()
    assert (out / "b.csv").read_text() == "mine" and (out / "a.csv").read_text() == "1"
    assert sorted(os.listdir(out)) == [".nanosizer-manifest.json", "a.csv", "b.csv"]


def test_overwrite_is_all_or_nothing_when_a_file_cannot_be_moved(tmp_path, monkeypatch):
    from nanosizer.io import _publish

    out = tmp_path / "results"
    with StagedDir(out) as staged:
        (staged.path / "labels").mkdir()
        for name in ("a.csv", "labels/x.tif", "labels/y.tif"):
            (staged.path / name).write_text("old")
    before = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    real, calls = os.replace, []

    def flaky(src, dst):  # like a read-only labels/ folder: its second file cannot move
        calls.append(dst)
        if len(calls) == 7:
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    staged = StagedDir(out, overwrite=True)
    (staged.path / "labels").mkdir()
    for name in ("a.csv", "b.csv", "labels/x.tif"):
        (staged.path / name).write_text("new")
    monkeypatch.setattr(_publish.os, "replace", flaky)
    with pytest.raises(InputError, match=r"cannot replace .* \(Permission denied\); nothing in "
                                         r".* was changed"):
        staged.commit()
    monkeypatch.undo()
    assert {p: p.read_text() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(os.listdir(tmp_path)) == ["results"]
    assert not [p for p in os.listdir(out) if p.startswith(".nanosizer.")]


def test_staged_into_existing_empty_folder(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    staged = StagedDir(out)
    (staged.path / "run.json").write_text("{}")
    assert staged.commit() == out and (out / "run.json").is_file()
    with pytest.raises(RuntimeError):
        staged.commit()
