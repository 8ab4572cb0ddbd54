"""``nanosizer synth``: files, determinism, refusal of occupied folders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import tifffile
from PIL import Image

from nanosizer.cli.main import main


def test_synth_writes_paired_files_deterministically(tmp_path):
    args = ["synth", "--n", "3", "--size", "64", "--seed", "5", "--quiet", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--modality", "tem"]) == 0
    assert main([*args[:-1], "2", "--out", str(tmp_path / "c")]) == 0  # 2 worker processes
    a, c = tmp_path / "a", tmp_path / "c"
    names = sorted(p.stem for p in (a / "images").glob("*.png"))
    assert names == ["synth_0000", "synth_0001", "synth_0002"]
    assert sorted(p.stem for p in (a / "labels").glob("*.tif")) == names
    truth = pd.read_csv(a / "truth.csv")
    for name in names:
        img = np.asarray(Image.open(a / "images" / f"{name}.png"))
        lab = tifffile.imread(a / "labels" / f"{name}.tif")
        assert img.shape == lab.shape == (64, 64)
        assert np.array_equal(img, np.asarray(Image.open(c / "images" / f"{name}.png")))
        assert set(np.unique(lab)) - {0} == set(truth.loc[truth["image"] == name, "label"])
    assert {"feret_min_nm", "feret_max_nm", "area_px", "hidden_fraction"} <= set(truth.columns)
    assert (a / "truth.csv").read_bytes() == (c / "truth.csv").read_bytes()
    assert set(pd.read_csv(tmp_path / "b" / "truth.csv")["modality"]) == {"tem"}


def test_synth_options_and_refusals(tmp_path, capsys):
    out = tmp_path / "o"
    args = ["synth", "--n", "2", "--size", "48", "--quiet", "--workers", "1", "--out", str(out),
            "--pixel-size", "2 nm", "--median-nm", "20", "--coverage", "0.2"]
    assert main(args) == 0
    truth = pd.read_csv(out / "truth.csv")
    assert np.allclose(truth["pixel_size_nm"], 2.0)
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main([*args[:-2], "--coverage", "2", "--overwrite"]) == 2


def test_synth_like_real_images(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    yy, xx = np.mgrid[:128, :128]
    for k in range(2):  # dark discs of ~20 px on a bright film
        img = np.full((128, 128), 220, np.uint8)
        for cy, cx in ((30, 30 + k * 10), (80, 70), (40, 100)):
            img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 100] = 40
        Image.fromarray(img).save(real / f"r{k}.png")
    out = tmp_path / "o"
    assert main(["synth", "--n", "2", "--size", "64", "--quiet", "--workers", "1",
                 "--out", str(out), "--like", str(real)]) == 0
    truth = pd.read_csv(out / "truth.csv")
    assert set(truth["modality"]) <= {"tem", "tsem"}


def test_synth_pngs_carry_the_pixel_size_of_truth_csv(tmp_path, capsys):
    from nanosizer.io import read_micrograph

    out = tmp_path / "o"
    assert main(["synth", "--n", "2", "--size", "64", "--seed", "3", "--quiet", "--workers", "1",
                 "--out", str(out)]) == 0
    truth = pd.read_csv(out / "truth.csv").groupby("image")["pixel_size_nm"].first()
    for name, nm in truth.items():  # random per image, exactly as recorded
        size = read_micrograph(out / "images" / f"{name}.png").pixel_size
        assert size.nm == nm and size.source == "metadata (PNG text pixel_size_nm)"
    assert main(["evaluate", "--truth", str(out / "labels"), "--images", str(out / "images"),
                 "--infobar", "none", "--out", str(tmp_path / "scores")]) == 0
    assert "feret_min mean (nm)" in capsys.readouterr().out
    assert main(["info", str(out / "images" / "synth_0000.png")]) == 0
    assert f"pixel size:  {truth.iloc[0]:g} nm" in capsys.readouterr().out


def test_png_without_the_text_chunk_stays_uncalibrated(tmp_path):
    from nanosizer.io import read_micrograph

    img = Image.fromarray(np.zeros((16, 16), np.uint8))
    img.save(tmp_path / "dpi.png", dpi=(300, 300))  # a pHYs resolution is not a calibration
    assert not read_micrograph(tmp_path / "dpi.png").pixel_size.calibrated
