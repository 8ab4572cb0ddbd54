"""``analyze --roi`` writes ImageJ ROI sets; ``compare imagej-roi:DIR`` reads them back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.errors import InputError
from nanosizer.evaluate.compare import MethodSpec, parse_method
from nanosizer.io import read_roi_zip

from helpers import draw_discs

roifile = pytest.importorskip("roifile")

DISCS = [(20, 20, 8), (24, 64, 10), (60, 24, 9), (66, 68, 11), (46, 46, 7)]


def _analyzed(tmp_path, *extra: str):
    image = tmp_path / "discs.tif"
    tifffile.imwrite(image, draw_discs((96, 96), DISCS, noise=3))
    out = tmp_path / "res"
    assert main(["analyze", str(image), "--method", "classical", "--out", str(out), "--quiet",
                 "--pixel-size", "2 nm", *extra]) == 0
    return image, out


def test_roi_zip_holds_every_particle_and_rasterises_to_its_labels(tmp_path):
    _, out = _analyzed(tmp_path, "--roi")
    labels = tifffile.imread(out / "labels" / "discs.tif")
    rois = roifile.ImagejRoi.fromfile(out / "rois" / "discs.zip")
    table = pd.read_csv(out / "particles.csv")
    assert len(rois) == len(DISCS) == len(table)
    assert sorted(r.name for r in rois) == [f"{lab:04d}" for lab in sorted(table["label"])]
    back = read_roi_zip(out / "rois" / "discs.zip", labels.shape)
    # the same particles, pixel for pixel (ROI i is label i + 1 in file order)
    for roi, k in zip(rois, range(1, len(rois) + 1)):
        assert np.array_equal(back == k, labels == int(roi.name))


def test_no_rois_unless_asked(tmp_path):
    _, out = _analyzed(tmp_path)
    assert not (out / "rois").exists()


def test_compare_reads_the_rois_as_a_method(tmp_path):
    image, out = _analyzed(tmp_path, "--roi")
    cmp = tmp_path / "cmp"
    assert main(["compare", f"fiji=imagej-roi:{out / 'rois'}", f"run=labels:{out}",
                 "--images", str(image), "--pixel-size", "2 nm", "--out", str(cmp)]) == 0
    table = pd.read_csv(cmp / "comparison.csv")
    rows = table.set_index("method")
    assert rows.loc["fiji", "n"] == rows.loc["run", "n"] == len(DISCS)
    assert rows.loc["fiji", "median"] == pytest.approx(rows.loc["run", "median"])


def test_imagej_roi_spec_needs_roi_zips(tmp_path):
    (tmp_path / "lab").mkdir()
    tifffile.imwrite(tmp_path / "lab" / "img.tif", np.ones((4, 4), np.uint16))
    with pytest.raises(InputError, match="expected ImageJ ROI zips"):
        parse_method(f"imagej-roi:{tmp_path / 'lab'}")
    with pytest.raises(InputError, match="no such ROI zip or folder"):
        parse_method(f"imagej-roi:{tmp_path / 'missing'}")
    zipped = tmp_path / "one.zip"
    zipped.write_bytes(b"")
    assert parse_method(f"imagej-roi:{zipped}") == MethodSpec("one", "labels", str(zipped))
