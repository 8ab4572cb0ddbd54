"""The analyze workflow: outputs, calibration, all-or-nothing writing."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.errors import InputError
from nanosizer.pipeline import AnalyzeConfig, analyze

from helpers import draw_discs

DISCS = [(20, 20, 8), (20, 60, 10), (60, 30, 12), (64, 70, 9)]
CLASSICAL = AnalyzeConfig(method="classical", n_boot=200)


@pytest.fixture
def disc_image(tmp_path):
    """A calibrated (ImageJ TIFF, 2 nm/px) image of four separate discs."""
    path = tmp_path / "discs.tif"
    image = draw_discs((96, 96), DISCS, noise=4)
    tifffile.imwrite(path, image, imagej=True, resolution=(0.5, 0.5), metadata={"unit": "nm"})
    return path


def test_outputs_layout_and_values(disc_image, tmp_path):
    out = tmp_path / "res"
    result = analyze([disc_image], out, CLASSICAL)
    assert {p.name for p in out.iterdir()} >= {
        "particles.csv", "summary.csv", "labels", "overlays", "histogram.png", "run.json"
    }
    labels = tifffile.imread(out / "labels" / "discs.tif")
    assert labels.shape == (96, 96) and labels.dtype in (np.uint16, np.uint32)
    particles = pd.read_csv(out / "particles.csv")
    assert len(particles) == 4 == labels.max()
    assert set(particles["label"]) == set(np.unique(labels[labels > 0]))
    # disc diameters 2r px at 2 nm/px (smoothing trims the one-pixel tips of rasterised discs)
    expected = sorted(2 * 2 * r for _, _, r in DISCS)
    assert np.allclose(sorted(particles["feret_min_nm"]), expected, rtol=0.1)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["image"]) == ["discs", "pooled"]
    assert summary.loc[1, "n"] == 4 and summary.loc[1, "unit"] == "nm"
    assert summary.loc[1, "median"] == pytest.approx(np.median(particles["feret_min_nm"]))
    run = json.loads((out / "run.json").read_text())
    assert run["images"][0]["pixel_size"]["value"] == pytest.approx(2.0)
    assert result.unit == "nm"


def test_pixel_size_override_scales_sizes(disc_image, tmp_path):
    base = analyze([disc_image], None, CLASSICAL)
    scaled = analyze([disc_image], None, AnalyzeConfig(method="classical", pixel_size="4 nm",
                                                       n_boot=0))
    assert np.allclose(scaled.particles["feret_min_nm"], 2 * base.particles["feret_min_nm"])
    assert scaled.images[0].pixel_size["source"].startswith("user")


def test_uncalibrated_results_in_pixels(tmp_path):
    path = tmp_path / "plain.png"
    from skimage.io import imsave

    imsave(path, draw_discs((80, 80), DISCS[:2]), check_contrast=False)
    result = analyze([path], tmp_path / "res", CLASSICAL)
    assert result.unit == "px"
    assert "feret_min_px" in result.particles.columns
    run = json.loads((tmp_path / "res" / "run.json").read_text())
    assert "pixels" in run["unit_note"]
    assert result.summary["eu_verdict"].str.startswith("undetermined").all()


def test_border_particles_kept_but_left_out(tmp_path):
    path = tmp_path / "edge.png"
    from skimage.io import imsave

    imsave(path, draw_discs((80, 80), [(40, 40, 10), (40, 2, 8)]), check_contrast=False)
    result = analyze([path], None, CLASSICAL)
    assert len(result.particles) == 2
    assert result.particles["touches_border"].sum() == 1
    assert result.summary.iloc[-1]["n"] == 1
    kept = analyze([path], None, AnalyzeConfig(method="classical", include_border=True, n_boot=0))
    assert kept.summary.iloc[-1]["n"] == 2


def test_blank_image_gives_empty_result(tmp_path):
    path = tmp_path / "black.png"
    from skimage.io import imsave

    imsave(path, np.zeros((64, 64), np.uint8), check_contrast=False)
    result = analyze([path], tmp_path / "res", CLASSICAL)
    assert result.particles.empty and result.summary.iloc[-1]["n"] == 0
    assert tifffile.imread(tmp_path / "res" / "labels" / "black.tif").max() == 0


def test_non_empty_out_refused_and_untouched(disc_image, tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="--overwrite"):
        analyze([disc_image], out, CLASSICAL)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    analyze([disc_image], out, CLASSICAL, overwrite=True)
    assert (out / "particles.csv").exists()


def test_damaged_images_are_left_out_and_listed(disc_image, tmp_path):
    import shutil

    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    second = tmp_path / "zdiscs.tif"
    shutil.copy(disc_image, second)
    out = tmp_path / "res"
    seen = []
    result = analyze([disc_image, bad, empty, second], out, CLASSICAL, on_failure=seen.append)
    assert [r.name for r in result.images] == ["discs", "zdiscs"]
    assert [f.file for f in seen] == [str(bad), str(empty)] == [f.file for f in result.failures]
    assert {f.kind for f in seen} == {"input"}
    assert "empty (0 bytes)" in seen[1].reason and "\n" not in seen[0].reason
    failures = pd.read_csv(out / "failures.csv")
    assert list(failures.columns) == ["file", "kind", "reason"]
    assert failures["file"].tolist() == [str(bad), str(empty)]
    assert len(pd.read_csv(out / "particles.csv")) == 8
    assert sorted(p.name for p in (out / "labels").iterdir()) == ["discs.tif", "zdiscs.tif"]
    run = json.loads((out / "run.json").read_text())
    assert [f["file"] for f in run["failures"]] == [str(bad), str(empty)]
    alone = analyze([disc_image], tmp_path / "alone", CLASSICAL)
    pd.testing.assert_frame_equal(result.summary.iloc[[0]], alone.summary.iloc[[0]])
    assert not (tmp_path / "alone" / "failures.csv").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_batch_where_every_image_fails_still_writes_the_list(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    result = analyze([bad], tmp_path / "res", CLASSICAL)
    assert result.images == [] and len(result.failures) == 1
    assert pd.read_csv(tmp_path / "res" / "failures.csv")["file"].tolist() == [str(bad)]


def test_unexpected_error_of_one_image_is_an_internal_failure(disc_image, tmp_path,
                                                              monkeypatch):
    from nanosizer.pipeline import run

    real = run.analyze_image

    def broken(path, *args, **kwargs):
        if path.name == "b.tif":
            raise KeyError("bug")
        return real(path, *args, **kwargs)

    b = tmp_path / "b.tif"
    b.write_bytes(disc_image.read_bytes())
    monkeypatch.setattr(run, "analyze_image", broken)
    result = analyze([disc_image, b], None, CLASSICAL)
    assert [r.name for r in result.images] == ["discs"]
    assert result.failures[0].kind == "internal" and "KeyError" in result.failures[0].reason


def test_failure_writing_leaves_nothing(disc_image, tmp_path, monkeypatch):
    import errno

    from nanosizer.io import _write

    real_fsync, calls = _write.os.fsync, []

    def full(fd):  # the run's identity is written, then the disk is full
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(_write.os, "fsync", full)
    out = tmp_path / "res"
    with pytest.raises(InputError, match=r"cannot write .*discs.tif: no space left") as info:
        analyze([disc_image], out, CLASSICAL)
    assert not out.exists()
    # no image was finished, so there is nothing to resume: the work folder is gone too
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert not getattr(info.value, "__notes__", [])


def test_mixed_calibration_refused(disc_image, tmp_path):
    from skimage.io import imsave

    plain = tmp_path / "plain.png"
    imsave(plain, draw_discs((80, 80), DISCS[:2]), check_contrast=False)
    with pytest.raises(InputError, match="plain.png"):
        analyze([disc_image, plain], None, CLASSICAL)


def test_mixed_calibration_refused_before_any_segmentation(disc_image, tmp_path, monkeypatch):
    from skimage.io import imsave

    from nanosizer import segment

    plain = tmp_path / "plain.png"
    imsave(plain, draw_discs((80, 80), DISCS[:2]), check_contrast=False)
    segmented = []
    real = segment.segment_details
    monkeypatch.setattr(segment, "segment_details",
                        lambda mg, *a, **k: segmented.append(mg.name) or real(mg, *a, **k))
    for order in ([disc_image, plain], [plain, disc_image]):
        with pytest.raises(InputError, match="plain.png has no pixel size while .*discs.tif"):
            analyze(order, tmp_path / "out", CLASSICAL)
    assert segmented == [] and not (tmp_path / "out").exists()
    both = analyze([disc_image, plain], None, AnalyzeConfig(method="classical", n_boot=0,
                                                            pixel_size="2 nm"))
    assert both.unit == "nm" and segmented == ["discs", "plain"]


def test_model_with_classical_method_is_refused(tmp_path, capsys):
    from nanosizer.cli.main import main

    with pytest.raises(ValueError, match="drop the model"):
        AnalyzeConfig(method="classical", model=str(tmp_path))
    assert main(["analyze", "--sample", "--method", "classical", "--model", str(tmp_path),
                 "--out", str(tmp_path / "o")]) == 2
    assert "drop the model" in capsys.readouterr().err
    assert main(["evaluate", "--truth", str(tmp_path), "--images", str(tmp_path), "--method",
                 "classical", "--model", str(tmp_path), "--out", str(tmp_path / "e")]) == 2
    assert "drop --model" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "e").exists()


def test_same_stem_refused(tmp_path, disc_image):
    other = tmp_path / "sub"
    other.mkdir()
    (other / "discs.tif").write_bytes(disc_image.read_bytes())
    with pytest.raises(InputError, match="same name"):
        analyze([disc_image, other / "discs.tif"], None, CLASSICAL)


def test_measure_option_and_excel(disc_image, tmp_path):
    config = AnalyzeConfig(method="classical", measure="ecd", excel=True, n_boot=0)
    result = analyze([disc_image], tmp_path / "res", config)
    pooled = result.summary.iloc[-1]
    assert pooled["measure"] == "ecd"
    assert pooled["median"] == pytest.approx(np.median(result.particles["ecd_nm"]))
    book = pd.read_excel(tmp_path / "res" / "results.xlsx", sheet_name=None)
    assert set(book) == {"summary", "particles"} and len(book["particles"]) == 4


def test_overwrite_removes_stale_results_but_keeps_user_files(disc_image, tmp_path):
    out = tmp_path / "res"
    analyze([disc_image], out, AnalyzeConfig(method="classical", excel=True, n_boot=0))
    (out / "notes.txt").write_text("mine")
    config = AnalyzeConfig(method="classical", overlays=False, n_boot=0)
    analyze([disc_image], out, config, overwrite=True)
    names = {p.name for p in out.iterdir()}
    assert "results.xlsx" not in names and "overlays" not in names
    assert {"notes.txt", "particles.csv", "labels"} <= names


def test_overwrite_keeps_the_users_files_inside_result_folders(disc_image, tmp_path):
    out = tmp_path / "res"
    analyze([disc_image], out, CLASSICAL)
    (out / "overlays" / "my_figure.png").write_bytes(b"mine")
    (out / "results.xlsx").write_bytes(b"my workbook")
    config = AnalyzeConfig(method="classical", overlays=False, n_boot=0)
    analyze([disc_image], out, config, overwrite=True)
    assert os.listdir(out / "overlays") == ["my_figure.png"]
    assert (out / "results.xlsx").read_bytes() == b"my workbook"
    excel = AnalyzeConfig(method="classical", excel=True, n_boot=0)
    before = sorted(str(p) for p in out.rglob("*"))
    with pytest.raises(InputError, match="results.xlsx was not written by nanosizer"):
        analyze([disc_image], out, excel, overwrite=True)
    assert sorted(str(p) for p in out.rglob("*")) == before


def test_out_may_be_an_existing_empty_folder_or_a_link(disc_image, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    analyze([disc_image], link, CLASSICAL)
    assert link.is_symlink() and (target / "particles.csv").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    analyze([disc_image], empty, CLASSICAL)
    assert (empty / "summary.csv").is_file()


def test_files_written_in_the_background_for_every_image_and_errors_surface(
    disc_image, tmp_path, monkeypatch
):
    import shutil

    from nanosizer.pipeline import outputs

    second = tmp_path / "discs2.tif"
    shutil.copy(disc_image, second)
    out = tmp_path / "res"
    analyze([disc_image, second], out, CLASSICAL)  # serial run: files written by a thread
    assert sorted(p.name for p in (out / "labels").iterdir()) == ["discs.tif", "discs2.tif"]
    assert sorted(p.name for p in (out / "overlays").iterdir()) == ["discs.png", "discs2.png"]

    real = outputs.write_image_outputs

    def fail_on_second(root, micrograph, *args, **kwargs):
        if micrograph.name == "discs2":
            raise OSError("disk full")
        return real(root, micrograph, *args, **kwargs)

    monkeypatch.setattr(outputs, "write_image_outputs", fail_on_second)
    with pytest.raises(OSError, match="disk full") as info:
        analyze([disc_image, second], tmp_path / "res2", CLASSICAL)
    assert not (tmp_path / "res2").exists()
    # the first image is done: its results stay in the work folder for resume
    work = tmp_path / ".res2.inprogress"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".res2.inprogress", "discs.tif", "discs2.tif", "res"]
    assert info.value.__notes__ == [f"1 of 2 images are done and kept in {work}: run the same "
                                    "command with --resume to continue"]
    assert [p.name for p in (work / "state" / "images").iterdir()] == ["discs.json"]
    monkeypatch.setattr(outputs, "write_image_outputs", real)
    analyze([disc_image, second], tmp_path / "res2", CLASSICAL, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["discs.tif", "discs2.tif", "res",
                                                          "res2"]
    for name in ("particles.csv", "summary.csv", "labels/discs2.tif", "overlays/discs.png"):
        assert (tmp_path / "res2" / name).read_bytes() == (out / name).read_bytes()


def test_run_json_records_model_checksum_zoom_and_thresholds(disc_image, tmp_path, monkeypatch):
    """run.json holds what each image was segmented with; re-running with it gives the same."""
    import hashlib

    torch = pytest.importorskip("torch")
    from nanosizer.nn import create_model, save_model
    from nanosizer.segment import cnn

    torch.manual_seed(0)
    meta = {"normalization": {"method": "percentile", "low": 1.0, "high": 99.8},
            "thresholds": {"foreground": 0.5, "marker": 0.5, "contact": 0.5, "min_area": 4}}
    model = save_model(tmp_path / "model", create_model("unet", depth=2, base_channels=4), meta)
    real_auto_zoom = cnn.auto_zoom

    def auto_zoom(loaded, image, mask, thresholds, **kw):  # the automatic zoom picks 0.5
        probs = cnn.cnn_probabilities(loaded, image, mask, scale=0.5, **kw)
        return 0.5, probs

    monkeypatch.setattr(cnn, "auto_zoom", auto_zoom)
    config = AnalyzeConfig(model=str(model), n_boot=0)
    analyze([disc_image], tmp_path / "auto", config)
    seg = json.loads((tmp_path / "auto" / "run.json").read_text())["images"][0]["segmentation"]
    expected = hashlib.sha256((model / "weights.safetensors").read_bytes()).hexdigest()
    assert seg["weights_sha256"] == expected
    assert seg["model"] == str(model) and seg["method"] == "unet"
    assert seg["zoom"] == 0.5 and seg["zoom_source"] == "automatic"
    assert seg["settings"]["foreground"] == 0.5 and "area_floor_px" in seg["settings"]
    monkeypatch.setattr(cnn, "auto_zoom", real_auto_zoom)
    again = AnalyzeConfig(model=seg["model_folder"], zoom=seg["zoom"], n_boot=0)
    analyze([disc_image], tmp_path / "again", again)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "auto" / "labels" / "discs.tif"),
                                  tifffile.imread(tmp_path / "again" / "labels" / "discs.tif"))
    seg2 = json.loads((tmp_path / "again" / "run.json").read_text())["images"][0]["segmentation"]
    assert seg2["zoom_source"] == "user" and seg2["weights_sha256"] == expected
    analyze([disc_image], tmp_path / "classical", CLASSICAL)
    seg3 = json.loads((tmp_path / "classical" / "run.json").read_text())["images"][0]
    assert seg3["segmentation"]["method"] == "classical"
    assert seg3["segmentation"]["weights_sha256"] is None


def test_decoder_option_switches_the_instance_decoder(tmp_path, capsys):
    from nanosizer.cli.main import main
    from nanosizer.segment.cnn import decoder_thresholds

    stored = decoder_thresholds("unet", "watershed")
    centres = decoder_thresholds("unet", "centres")
    assert stored.decoder == "watershed" and centres.decoder == "centres"
    assert main(["analyze", "--sample", "--decoder", "centres", "--no-overlays",
                 "--out", str(tmp_path / "c")]) == 0
    run = json.loads((tmp_path / "c" / "run.json").read_text())
    record = next(iter(run["images"].values())) if isinstance(run["images"], dict) else run["images"][0]
    assert record["segmentation"]["settings"]["decoder"] == "centres"
    assert record["segmentation"]["settings"]["vote_density"] == centres.vote_density
    # the detection limit is that of the decoder used (a model may store one per decoder)
    import shutil

    from nanosizer.segment.cnn import resolve_model
    from nanosizer.segment.limits import detection_limit_px

    folder = tmp_path / "model"
    shutil.copytree(resolve_model("unet"), folder)
    config = json.loads((folder / "config.json").read_text())
    config["metadata"]["detection_limit_px_by_decoder"] = {"watershed": 30.0, "centres": 11.0}
    (folder / "config.json").write_text(json.dumps(config))
    for decoder, limit in (("centres", 11.0), ("watershed", 30.0)):
        out = tmp_path / f"lim_{decoder}"
        assert main(["analyze", "--sample", "--model", str(folder), "--decoder", decoder,
                     "--no-overlays", "--no-report", "--quiet", "--out", str(out)]) == 0
        seg = json.loads((out / "run.json").read_text())["images"][0]["segmentation"]
        expected = detection_limit_px(seg["settings"]["area_floor_px"], limit, seg["zoom"])
        assert seg["detection_limit_px"] == pytest.approx(expected, abs=1e-3)  # rounded
    # a model without centre offsets: refused before any image is read, nothing written
    capsys.readouterr()
    assert main(["analyze", "--sample", "--method", "multiresunet", "--decoder", "centres",
                 "--out", str(tmp_path / "m")]) == 2
    assert "centre offsets" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    with pytest.raises(ValueError, match="decoder"):
        AnalyzeConfig(method="classical", decoder="centres")


@pytest.mark.parametrize("other_source", ["scale bar", "metadata (ImageJ)"])
def test_unreadable_bars_in_a_batch_give_pixels_not_a_refusal(tmp_path, monkeypatch, other_source):
    import nanosizer.io
    from nanosizer.errors import NanosizerWarning
    from nanosizer.io import PixelSize
    from nanosizer.pipeline.checks import check_calibration

    paths = [tmp_path / "read.png", tmp_path / "unread.png"]
    sizes = {paths[0]: PixelSize(5.0, f'{other_source} ("100 nm" = 20.00 px)'),
             paths[1]: PixelSize(None, "none")}
    monkeypatch.setattr(nanosizer.io, "read_pixel_size", lambda p, *a: sizes[p])
    if other_source == "scale bar":  # only bars calibrate: analysed in px, with a warning
        with pytest.warns(NanosizerWarning, match="1 of 2 images could not be read .*unread.png"):
            config = check_calibration(paths, AnalyzeConfig())
        assert config.scale_bar == "none"
        assert config == AnalyzeConfig(scale_bar="none")  # nothing else changed
        # asked for explicitly: the mix is refused as before
        with pytest.raises(InputError, match="unread.png has no pixel size while .*read.png"):
            check_calibration(paths, AnalyzeConfig(scale_bar="always"))
    else:  # metadata cannot be switched off: refused
        with pytest.raises(InputError, match="unread.png has no pixel size while .*read.png"):
            check_calibration(paths, AnalyzeConfig())


def test_overlay_ids_only_when_asked(disc_image, tmp_path):
    from dataclasses import replace

    from PIL import Image

    plain = analyze([disc_image], tmp_path / "plain", replace(CLASSICAL, report=False))
    with_ids = analyze([disc_image], tmp_path / "ids",
                       replace(CLASSICAL, report=False, overlay_ids=True))
    a = np.asarray(Image.open(tmp_path / "plain" / "overlays" / "discs.png").convert("RGB"))
    b = np.asarray(Image.open(tmp_path / "ids" / "overlays" / "discs.png").convert("RGB"))
    ids_yellow = (255, 255, 80)  # the colour of the id digits of particles in the statistics
    assert not np.all(a == ids_yellow, axis=-1).any()
    assert np.all(b == ids_yellow, axis=-1).sum() >= 5 * len(with_ids.particles)  # digits
    # the digits differ, nothing else does: same particles, same outlines under them
    assert plain.particles.equals(with_ids.particles)
    assert (np.any(a != b, axis=-1)).mean() < 0.1
