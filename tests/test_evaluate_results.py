"""``evaluate`` and ``compare`` on an ``analyze`` results folder and a ``synth`` data set.

Every input form must give the run's own answer: the particles and sizes of ``summary.csv``
(calibrated, info bar and border particles left out), never ``histogram.png`` read as labels.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.evaluate import evaluate_folders
from nanosizer.evaluate.compare import compare_methods, comparison_table, parse_method
from nanosizer.pipeline import AnalyzeConfig, analyze

from helpers import draw_discs

# Four whole discs, one cut by the image border, one cut by the info bar (rows 80-95).
DISCS = [(20, 20, 8), (20, 60, 10), (50, 30, 12), (50, 70, 9), (3, 85, 6), (78, 50, 7)]
INFOBAR = 80
CONFIG = AnalyzeConfig(method="classical", infobar=INFOBAR, n_boot=0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """An analyze results folder of one 2 nm/px image, and its own labels as the truth."""
    root = tmp_path_factory.mktemp("results")
    image = draw_discs((96, 96), DISCS, noise=2)
    image[INFOBAR:] = 0
    tifffile.imwrite(root / "discs.tif", image, imagej=True, resolution=(0.5, 0.5),
                     metadata={"unit": "nm"})
    result = analyze([root / "discs.tif"], root / "results", CONFIG)
    (root / "truth").mkdir()
    shutil.copy(root / "results" / "labels" / "discs.tif", root / "truth" / "discs.tif")
    pooled = result.summary.iloc[-1]
    # The fixture is what the tests assume: 6 particles, 4 in the statistics, nm.
    assert result.unit == "nm" and int(pooled["n_detected"]) == 6 and int(pooled["n"]) == 4
    return root, pooled


@pytest.mark.parametrize("pred", ["results", "results/labels"])
def test_evaluate_results_folder_uses_labels_and_run_calibration(run, pred):
    root, pooled = run
    ev = evaluate_folders(root / "truth", root / pred)
    p = ev.pooled
    assert (p["n_true"], p["n_pred"], p["f1"]) == (6, 6, 1.0)
    assert p["size_unit"] == "nm"
    # the same four particles as analyze's statistics, in nm
    assert p["feret_min_n_pred"] == 4
    assert p["feret_min_mean_pred"] == pytest.approx(pooled["mean"])


def test_evaluate_images_equals_evaluate_of_the_run(run):
    root, pooled = run
    from_run = evaluate_folders(root / "truth", root / "results").pooled
    fresh = evaluate_folders(root / "truth", images=root, method="classical",
                             infobar=INFOBAR).pooled
    assert fresh["size_unit"] == "nm" and fresh["feret_min_n_pred"] == 4
    for key in ("f1", "pq", "pixel_iou", "feret_min_mean_pred", "ecd_mean_true"):
        assert fresh[key] == pytest.approx(from_run[key]), key


def test_evaluate_cli_on_readme_example(run, tmp_path, capsys):
    root, pooled = run
    argv = ["evaluate", "--truth", str(root / "truth"), "--pred", str(root / "results"),
            "--out", str(tmp_path / "scores")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "F1 (pooled)             1.0000" in out and "feret_min mean (nm)" in out


@pytest.mark.parametrize("images", [False, True])
@pytest.mark.parametrize("target", ["results", "results/labels"])
def test_compare_labels_of_a_results_folder_reproduce_its_summary(run, target, images):
    root, pooled = run
    micrographs = {}
    if images:
        from nanosizer.io import read_micrograph

        micrographs = {"discs": read_micrograph(root / "discs.tif", infobar=INFOBAR)}
    sizes = compare_methods([parse_method(f"unet=labels:{root / target}")], micrographs)
    assert set(sizes["unit"]) == {"nm"} and set(sizes["image"]) == {"discs"}
    table = comparison_table(sizes)
    assert table["n"].tolist() == [pooled["n"]] == [4]
    assert table["mean"].iloc[0] == pytest.approx(pooled["mean"])
    assert table["d10"].iloc[0] == pytest.approx(pooled["d10"])


def test_compare_cli_results_folder(run, tmp_path, capsys):
    root, pooled = run
    argv = ["compare", f"unet=labels:{root / 'results'}", "--out", str(tmp_path / "cmp")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"| unet | 4 | {pooled['mean']:.2f} ± {pooled['std']:.2f} |" in out
    assert "mean ± std (nm)" in out


@pytest.fixture
def synth_set(tmp_path):
    """A two-image synth-layout folder: images/, labels/, truth.csv (3 nm/px, 1.5 nm/px)."""
    labels = np.zeros((40, 40), np.uint16)
    labels[4:12, 4:12] = 1      # 8 px square
    labels[20:30, 20:26] = 2    # 6 x 10
    for sub in ("images", "labels"):
        (tmp_path / "set" / sub).mkdir(parents=True)
    for name in ("synth_0000", "synth_0001"):
        tifffile.imwrite(tmp_path / "set" / "labels" / f"{name}.tif", labels)
        tifffile.imwrite(tmp_path / "set" / "images" / f"{name}.tif",
                         (labels > 0).astype(np.uint8) * 200)
    pd.DataFrame({"image": ["synth_0000", "synth_0000", "synth_0001", "synth_0001"],
                  "pixel_size_nm": [3.0, 3.0, 1.5, 1.5]}).to_csv(tmp_path / "set" / "truth.csv")
    return tmp_path / "set"


def test_synth_folder_is_read_through_labels_with_its_pixel_sizes(synth_set):
    sizes = compare_methods([parse_method(f"truth=labels:{synth_set}")])
    assert set(sizes["unit"]) == {"nm"}
    assert sorted(sizes["size"]) == pytest.approx([6 * 1.5, 8 * 1.5, 6 * 3.0, 8 * 3.0])
    ev = evaluate_folders(synth_set, synth_set / "labels")
    assert ev.pooled["f1"] == 1.0 and ev.pooled["size_unit"] == "nm"
    assert ev.pooled["feret_min_mean_true"] == pytest.approx((9 + 12 + 18 + 24) / 4)


def test_mixed_calibration_is_an_input_error(synth_set):
    from nanosizer.errors import InputError
    from nanosizer.evaluate import evaluate_images

    labels = tifffile.imread(synth_set / "labels" / "synth_0000.tif")
    with pytest.raises(InputError, match="'b' has no pixel size while 'a' has one"):
        evaluate_images([("a", labels, labels, None, 2.0), ("b", labels, labels, None, None)])
    doc = json.dumps({"images": "nope"})
    (synth_set / "run.json").write_text(doc)
    with pytest.raises(InputError, match="run.json"):
        evaluate_folders(synth_set, synth_set)
