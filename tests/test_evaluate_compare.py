"""Method comparison: spec parsing, size tables, output files."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.errors import InputError
from nanosizer.evaluate import EvaluateConfig
from nanosizer.evaluate.compare import (
    MethodSpec,
    compare_methods,
    comparison_table,
    parse_method,
)
from nanosizer.evaluate.imagej import write_roi_zip


def _labels():
    labels = np.zeros((40, 40), dtype=np.uint16)
    labels[4:12, 4:12] = 1     # 8 x 8
    labels[20:30, 20:26] = 2   # 10 x 6
    labels[0:5, 30:35] = 3     # touches the border: not in size figures
    return labels


def test_parse_method():
    assert parse_method("classical") == MethodSpec("classical", "segment", "classical")
    assert parse_method("manual=imagej:R.csv") == MethodSpec("manual", "imagej", "R.csv")
    assert parse_method("labels:out/run1").name == "run1"
    with pytest.raises(InputError, match="unknown method"):
        parse_method("watershed")


def test_labels_roi_and_imagej_methods_agree(tmp_path):
    labels = _labels()
    (tmp_path / "lab").mkdir()
    (tmp_path / "roi").mkdir()
    tifffile.imwrite(tmp_path / "lab" / "img.tif", labels)
    write_roi_zip(labels, tmp_path / "roi" / "img.zip")
    (tmp_path / "Results.csv").write_text(
        " ,Label,Area,MinFeret,Feret\n1,img.tif,64,8,11.3\n2,img.tif,60,6,11.7\n"
    )
    methods = [parse_method(f"truth=labels:{tmp_path / 'lab'}"),
               parse_method(f"rois=labels:{tmp_path / 'roi'}"),
               parse_method(f"manual=imagej:{tmp_path / 'Results.csv'}")]
    sizes = compare_methods(methods)
    assert set(sizes["unit"]) == {"px"}
    for name in ("truth", "rois", "manual"):
        assert sorted(sizes.loc[sizes["method"] == name, "size"]) == [6.0, 8.0], name
    table = comparison_table(sizes, reference="truth")
    assert table["n"].tolist() == [2, 2, 2]
    assert table["mean"].tolist() == [7.0, 7.0, 7.0]
    assert table["ks"].tolist() == [0.0, 0.0, 0.0]
    nm = compare_methods(methods[:1], config=EvaluateConfig(pixel_size_nm=2.0), measure="ecd")
    assert nm["unit"].iloc[0] == "nm"
    assert sorted(nm["size"]) == pytest.approx([2 * 2 * np.sqrt(60 / np.pi),
                                                2 * 2 * np.sqrt(64 / np.pi)])


def test_unit_mismatch_and_missing_images_are_input_errors(tmp_path):
    (tmp_path / "Results.csv").write_text("Area,MinFeret\n64,8\n")
    with pytest.raises(InputError, match="pixel-size"):
        compare_methods([parse_method(f"imagej:{tmp_path / 'Results.csv'}")], imagej_unit="nm")
    calibrated = compare_methods([parse_method(f"imagej:{tmp_path / 'Results.csv'}")],
                                 config=EvaluateConfig(pixel_size_nm=1.5))
    assert calibrated["size"].tolist() == [12.0] and calibrated["unit"].iloc[0] == "nm"
    (tmp_path / "roi").mkdir()
    write_roi_zip(_labels(), tmp_path / "roi" / "img.zip")
    with pytest.raises(InputError, match="--images"):
        compare_methods([parse_method(f"labels:{tmp_path / 'roi'}")])
    with pytest.raises(InputError, match="--images"):
        compare_methods([parse_method("classical")])


def test_cli_writes_csv_markdown_png(tmp_path, capsys):
    (tmp_path / "lab").mkdir()
    tifffile.imwrite(tmp_path / "lab" / "img.tif", _labels())
    out = tmp_path / "out"
    argv = ["compare", f"a=labels:{tmp_path / 'lab'}", f"b=labels:{tmp_path / 'lab'}",
            "--reference", "a", "--out", str(out)]
    assert main(argv) == 0
    assert "| a | 2 | 7.00 ± 1.41 |" in capsys.readouterr().out
    for name in ("comparison.csv", "comparison.md", "comparison.png", "sizes.csv"):
        assert (out / name).stat().st_size > 0
    assert pd.read_csv(out / "comparison.csv")["method"].tolist() == ["a", "b"]
    assert main([*argv[:-2], "--reference", "zzz", "--out", str(tmp_path / "o2")]) == 2
