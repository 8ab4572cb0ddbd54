"""Atomic folder writing shared by model and GAN folders."""

from __future__ import annotations

import pytest

from nanosizer.errors import InputError
from nanosizer.nn import write_folder


def test_write_folder_appears_whole_or_not_at_all(tmp_path):
    def write(tmp):
        (tmp / "a.txt").write_text("new")

    def fail(tmp):
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("disk full")

    assert write_folder(tmp_path / "out", write) == tmp_path / "out"
    assert (tmp_path / "out" / "a.txt").read_text() == "new"
    with pytest.raises(InputError, match="not empty"):
        write_folder(tmp_path / "out", write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_folder(tmp_path / "out", fail, overwrite=True)
    assert (tmp_path / "out" / "a.txt").read_text() == "new"  # the old folder survives a failure
    with pytest.raises(RuntimeError):
        write_folder(tmp_path / "other", fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folders left
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_folder(tmp_path / "file", write, kind="GAN folder")


def test_load_metadata_reads_the_config_only(tmp_path):
    from nanosizer.nn import create_model, load_metadata, save_model

    folder = save_model(tmp_path / "m", create_model("unet", depth=2, base_channels=4), {"a": 1})
    (folder / "weights.safetensors").unlink()  # not needed for the metadata
    assert load_metadata(folder) == {"a": 1}
    with pytest.raises(InputError, match="config.json"):
        load_metadata(tmp_path / "none")


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755),
                                                         (0o027, 0o640, 0o750)])
def test_model_folder_modes_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    import os
    import stat

    from nanosizer.nn import create_model, save_model

    old = os.umask(umask)
    try:
        folder = save_model(tmp_path / "m", create_model("unet", depth=2, base_channels=4), {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == dir_mode
    for name in ("config.json", "weights.safetensors"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == file_mode, name


def test_overwriting_a_model_folder_keeps_the_users_own_files(tmp_path):
    from nanosizer.nn import create_model, load_metadata, save_model

    net = create_model("unet", depth=2, base_channels=4)
    folder = save_model(tmp_path / "m", net, {"a": 1})
    (folder / "notes.txt").write_text("mine")
    save_model(folder, net, {"a": 2}, overwrite=True)
    assert load_metadata(folder) == {"a": 2}
    assert (folder / "notes.txt").read_text() == "mine"
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
