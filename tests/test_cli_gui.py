"""``nanosizer gui``: bad input and a missing napari are one-line errors with exit 2."""

from __future__ import annotations

import importlib.util

from nanosizer.cli.main import main


def test_results_folder_without_run_json_is_refused(tmp_path, capsys):
    assert main(["gui", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"nanosizer gui: error: {tmp_path}: no run.json; give a folder written by "
                   "nanosizer analyze")


def test_missing_napari_says_how_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "napari" else real(name, *a))
    assert main(["gui"]) == 2
    assert 'pip install -e ".[gui]"' in capsys.readouterr().err


def test_missing_image_is_refused(tmp_path, capsys):
    assert main(["gui", str(tmp_path / "none.tif")]) == 2
    assert "none.tif" in capsys.readouterr().err
