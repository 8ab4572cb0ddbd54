"""Detection limits: the area filters and the model's measured limit, in image pixels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.cli.main import main
from nanosizer.pipeline import AnalyzeConfig, analyze
from nanosizer.segment._labels import relabel_min_area
from nanosizer.segment.limits import area_floor, area_to_diameter, detection_limit_px
from nanosizer.train.validate import SIZE_EDGES, detection_limit, recall_by_size

from helpers import draw_discs


def _random_labels(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = np.zeros((80, 80), int)
    for k in range(1, 30):
        r, c = rng.integers(0, 76, 2)
        h, w = rng.integers(1, 9, 2)
        labels[r:r + h, c:c + w] = k
    return labels


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("relative", [0.0, 0.3, 0.7])
def test_area_floor_is_exactly_what_the_filter_keeps(seed, relative):
    labels = _random_labels(seed)
    kept = relabel_min_area(labels, 4, relative)
    floor = area_floor(relabel_min_area(labels, 4), 4, relative)
    areas = np.bincount(kept.ravel())[1:]
    assert areas.min() >= floor
    np.testing.assert_array_equal(relabel_min_area(labels, floor), kept)


def test_limit_is_the_larger_of_filter_and_model_at_the_zoom():
    assert area_to_diameter(np.pi * 25) == pytest.approx(10.0)
    assert detection_limit_px(np.pi * 25) == pytest.approx(10.0)
    assert detection_limit_px(np.pi * 25, 8.0, zoom=0.5) == pytest.approx(16.0)
    assert detection_limit_px(np.pi * 25, 8.0, zoom=1.0) == pytest.approx(10.0)
    assert detection_limit_px(np.pi * 25, None, zoom=0.25) == pytest.approx(10.0)


def _perfect_outputs(labels: np.ndarray) -> np.ndarray:
    from nanosizer.train.targets import make_targets

    return make_targets(labels, 2).astype(np.float32)


def test_recall_by_size_counts_found_and_missed_particles():
    from nanosizer.segment.instances import InstanceThresholds

    labels = np.zeros((120, 120), int)
    labels[10:40, 10:40] = 1   # 30 px: class 30-40
    labels[60:72, 60:72] = 2   # 12 px: class 12-15
    labels[100:105, 100:105] = 3  # 5 px: class 4-6
    outputs = _perfect_outputs(labels)
    outputs[:, 100:105, 100:105] = 0  # the network misses the smallest particle
    found, total = recall_by_size([outputs], [labels], InstanceThresholds(min_area=1))
    classes = {SIZE_EDGES[i]: (f, t) for i, (f, t) in enumerate(zip(found, total)) if t}
    assert classes == {30: (1, 1), 12: (1, 1), 4: (0, 1)}


def test_detection_limit_needs_every_larger_class_reliable():
    edges = (4, 8, 12, 20, 40)
    assert detection_limit([5, 25, 30, 30], [30, 30, 30, 30], edges) == 8.0
    assert detection_limit([5, 25, 10, 30], [30, 30, 30, 30], edges) == 20.0
    # sparse classes (< 20 particles) neither block nor set the limit
    assert detection_limit([25, 0, 30, 30], [30, 3, 30, 30], edges) == 4.0
    # judged against the recall of large particles (here 80 %), not against 100 %
    assert detection_limit([2, 20, 24, 24], [30, 30, 30, 30], edges) == 8.0
    assert np.isnan(detection_limit([0, 0, 0, 0], [30, 30, 30, 30], edges))


def test_summary_run_json_and_console_report_the_limit(tmp_path, capsys):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, draw_discs((96, 96), [(20, 20, 8), (60, 60, 10)], noise=4),
                     imagej=True, resolution=(0.5, 0.5), metadata={"unit": "nm"})
    result = analyze([path], tmp_path / "r", AnalyzeConfig(method="classical", n_boot=0))
    limit_px = area_to_diameter(50)  # classical min_area 50 px
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["images"][0]["segmentation"]["detection_limit_px"] == pytest.approx(limit_px, 1e-3)
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    assert summary["detection_limit_nm"].tolist() == pytest.approx([2 * limit_px] * 2, rel=1e-3)
    assert result.summary.iloc[-1]["detection_limit_nm"] == pytest.approx(2 * limit_px, 1e-3)
    # at 20 nm/px the limit (~160 nm) lies above the EU screen's 100 nm: the user is warned
    assert main(["analyze", str(path), "--method", "classical", "--pixel-size", "20 nm",
                 "--out", str(tmp_path / "r2")]) == 0
    captured = capsys.readouterr()
    assert "smallest reliably detected: 159.6 nm" in captured.out
    assert "warning: particles below 159.6 nm are not reliably detected" in captured.err
    assert main(["analyze", str(path), "--method", "classical", "--out", str(tmp_path / "r3"),
                 "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_cnn_details_match_plain_segmentation():
    import nanosizer
    from nanosizer.data import sample_path
    from nanosizer.segment import segment, segment_details

    mg = nanosizer.read_micrograph(sample_path())
    details = segment_details(mg, "unet", zoom=1.0)
    np.testing.assert_array_equal(details.labels, segment(mg, "unet", zoom=1.0))
    floor = details.settings["area_floor_px"]
    assert np.bincount(details.labels.ravel())[1:].min() >= floor
    assert details.detection_limit_px >= area_to_diameter(floor) - 1e-9
    assert details.zoom == 1.0
