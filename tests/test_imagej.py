"""ImageJ Results tables and ROI zips: reading, writing, round trips."""

import zipfile

import numpy as np
import pytest

from nanosizer.errors import InputError
from nanosizer.evaluate import score_instances
from nanosizer.io._outline import trace_outline
from nanosizer.evaluate.imagej import read_results_table, read_roi_zip, write_roi_zip

RESULTS_CSV = """ ,Label,Area,Mean,Perim.,Feret,FeretX,FeretY,FeretAngle,MinFeret,AR,Round,Solidity
1,sem_01.tif:0001-0010,78.54,120.1,31.4,10.2,3,4,45.0,9.8,1.04,0.96,0.98
2,sem_01.tif:0002-0030,314.16,110.0,62.8,20.4,3,4,12.0,19.6,1.05,0.95,0.97
3,sem_02.tif:0003-0050,12.57,99.0,12.6,4.1,3,4,80.0,3.9,1.02,0.98,0.99
"""


def _particles():
    labels = np.zeros((48, 64), dtype=np.int32)
    rr, cc = np.mgrid[:48, :64]
    labels[(rr - 12) ** 2 + (cc - 14) ** 2 < 64] = 1       # disc
    labels[5:20, 30:33] = 2                                  # thin bar
    labels[30:40, 10:20] = 3                                 # square ...
    labels[30:40, 20:30] = 4                                 # ... touching another one
    labels[25, 50], labels[26, 51], labels[27, 52] = 5, 5, 5  # diagonal 8-connected pixels
    labels[40:47, 40:63] = 6                                 # touches the border
    labels[42:45, 44:48] = 0                                 # with a hole
    labels[0, 0] = 7                                         # a single pixel in the corner
    return labels


def test_results_table_columns_and_calibration(tmp_path):
    path = tmp_path / "Results.csv"
    path.write_text(RESULTS_CSV)
    px = read_results_table(path)
    assert len(px) == 3 and px["label"].tolist() == [1, 2, 3]
    assert px["image"].tolist() == ["sem_01", "sem_01", "sem_02"]
    assert px["feret_min_px"].tolist() == [9.8, 19.6, 3.9]
    assert px["ecd_px"].iloc[1] == pytest.approx(20.0, rel=1e-4)
    nm = read_results_table(path, unit="px", pixel_size=2.0)
    assert nm["feret_max_nm"].tolist() == [20.4, 40.8, 8.2]
    assert nm["area_nm2"].iloc[0] == pytest.approx(4 * 78.54)
    um = read_results_table(path, unit="um")
    assert um["feret_min_nm"].iloc[0] == pytest.approx(9800)
    assert um["solidity"].tolist() == [0.98, 0.97, 0.99]


def test_results_table_without_sizes_is_an_input_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="bad.csv"):
        read_results_table(path)


def test_outline_of_rectangle_and_diagonal():
    assert trace_outline(np.ones((2, 3), bool)).tolist() == [[0, 0], [3, 0], [3, 2], [0, 2]]
    diag = np.eye(2, dtype=bool)
    # One outline through the shared corner (1, 1): the pixels stay one particle.
    assert trace_outline(diag).tolist() == [[0, 0], [1, 0], [1, 1], [2, 1], [2, 2], [1, 2],
                                            [1, 1], [0, 1]]


def test_roi_round_trip_keeps_every_particle(tmp_path):
    labels = _particles()
    path = tmp_path / "rois.zip"
    assert write_roi_zip(labels, path) == 7
    with zipfile.ZipFile(path) as zf:
        assert len(zf.namelist()) == 7
    back = read_roi_zip(path, labels.shape)
    filled = labels.copy()
    filled[42:45, 44:48] = 6  # ROIs are outlines: the hole comes back filled
    s = score_instances(filled, back)
    assert (s["tp"], s["fp"], s["fn"]) == (7, 0, 0)
    assert s["mean_matched_iou"] == 1.0


def test_empty_labels_write_an_empty_zip(tmp_path):
    path = tmp_path / "none.zip"
    assert write_roi_zip(np.zeros((5, 5), np.uint16), path) == 0
    assert read_roi_zip(path, (5, 5)).max() == 0


def test_read_roi_zip_rejects_other_files(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="x.zip"):
        read_roi_zip(path, (4, 4))


def test_results_csv_round_trip_keeps_every_particle(tmp_path):
    from nanosizer.evaluate.imagej import write_results_table
    import pandas as pd

    particles = pd.DataFrame({
        "image": ["a", "a", "b"], "label": [1, 2, 7],
        "feret_min_nm": [5.0, 6.5, 7.25], "feret_max_nm": [6.0, 8.0, 9.0],
        "area_nm2": [20.0, 30.0, 40.0], "solidity": [0.9, 0.8, 0.95],
    })
    path = tmp_path / "Results.csv"
    assert write_results_table(particles, path) == 3
    back = read_results_table(path, unit="nm")
    assert back["image"].tolist() == ["a", "a", "b"]
    for col in ("feret_min_nm", "feret_max_nm", "area_nm2", "solidity"):
        np.testing.assert_allclose(back[col], particles[col])
