"""The napari review widget, driven as a user would (needs a display: run under xvfb-run)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import draw_discs

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    pytest.skip("no display: run the GUI tests under a display, e.g. xvfb-run -a .venv/bin/python "
                "-m pytest tests/test_gui.py (README, GUI)", allow_module_level=True)
pytest.importorskip("napari", reason='napari is not installed: pip install -e ".[gui]"')
pytest.importorskip("pytestqt", reason='pytest-qt is not installed: pip install -e ".[gui]"')

# two separate discs and two that touch (centres 18 px apart, radii 10)
DISCS = [(20, 20, 8), (24, 70, 10), (70, 40, 10), (70, 58, 10)]


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    from nanosizer.gui._widget import ReviewWidget

    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, draw_discs((100, 100), DISCS, noise=2))
    viewer = make_napari_viewer()
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.open_images([path])
    w.pixel_size.setText("2 nm")
    w.method.setCurrentText("classical")
    return w


def _table_labels(w) -> list[int]:
    return sorted(int(w.table.item(r, 0).text()) for r in range(w.table.rowCount()))


def test_plugin_is_registered_with_napari(make_napari_viewer):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("nanosizer", "nanosizer review")
    assert type(widget).__name__ == "ReviewWidget"


def test_run_shows_labels_table_and_summary(widget):
    widget.run(blocking=True)
    review = widget.review
    assert review.micrograph.pixel_size.nm == 2.0
    n = int(review.labels.max())
    assert widget.table.rowCount() == n == review.table.shape[0]
    assert "particles" in widget.viewer.layers
    assert np.array_equal(widget.viewer.layers["particles"].data, review.labels)
    assert widget.summary.text().startswith(f"discs: N = {n},")
    assert "EU screen 100.0 % below 100 nm" in widget.summary.text()


def test_delete_split_merge_paint_undo_by_clicks_and_lines(widget):
    widget.run(blocking=True)
    labels = widget.review.labels.copy()
    first, pair = labels[20, 20], labels[70, 40]
    assert labels[70, 58] == pair  # the classical method keeps the touching discs as one
    n = widget.table.rowCount()
    area = widget.review.table.set_index("label")["area_nm2"]

    widget.set_mode("delete")
    widget.click((20, 20))
    assert first not in _table_labels(widget) and widget.table.rowCount() == n - 1
    assert not (widget.viewer.layers["particles"].data == first).any()

    # cut the pair where the discs meet (column 49): two discs of about pi 10^2 px each
    widget.split_along_line([(50, 49), (90, 49)])
    assert widget.table.rowCount() == n
    left, right = widget.review.labels[70, 40], widget.review.labels[70, 58]
    assert left != right
    pieces = widget.review.table.set_index("label").loc[[left, right], "area_nm2"]
    assert pieces.sum() == pytest.approx(area[pair])
    assert pieces.to_numpy() / 4 == pytest.approx([np.pi * 100] * 2, rel=0.1)

    widget.set_mode("merge")
    widget.click((70, 40))
    widget.click((70, 58))
    assert widget.review.table.set_index("label").loc[min(left, right), "area_nm2"] == \
        pytest.approx(area[pair])
    assert widget.table.rowCount() == n - 1

    painted = np.zeros(labels.shape, bool)
    painted[85:95, 5:15] = True
    widget.add_painted(painted)
    assert widget.review.table.set_index("label")["area_nm2"].iloc[-1] == pytest.approx(400)

    for _ in range(4):
        widget.undo()
    assert widget.table.rowCount() == n and widget.status.text() == "undone: delete"
    assert np.array_equal(widget.viewer.layers["particles"].data, labels)


def test_table_row_and_click_select_the_same_particle(widget):
    widget.run(blocking=True)
    label = int(widget.review.labels[24, 70])
    widget.set_mode("select")
    widget.click((24, 70))
    row = widget.table.selectionModel().selectedRows()[0].row()
    assert int(widget.table.item(row, 0).text()) == label
    widget.table.sortItems(1)  # by min Feret: numbers, not text
    values = [widget.table.item(r, 1).data(256) for r in range(widget.table.rowCount())]
    assert values == sorted(values)


def test_filters_and_saving_as_analyze_and_as_pairs(widget, tmp_path):
    widget.run(blocking=True)
    smallest = float(widget.review.table["feret_min_nm"].min())
    widget.set_filters(size=(smallest + 1, None))
    assert widget.review.table["in_statistics"].sum() == widget.table.rowCount() - 1
    widget.set_mode("delete")
    widget.click((24, 70))
    out = widget.save_results(tmp_path / "corrected")
    particles = pd.read_csv(out / "particles.csv")
    assert particles.shape[0] == widget.table.rowCount()
    assert particles["in_statistics"].sum() == widget.review.table["in_statistics"].sum()
    run = json.loads((out / "run.json").read_text())
    assert run["images"][0]["review"]["corrections"][0]["action"] == "delete"
    pairs = widget.save_pairs(tmp_path / "pairs")
    assert np.array_equal(tifffile.imread(pairs / "labels" / "discs.tif"), widget.review.labels)

    from nanosizer.gui._widget import ReviewWidget

    again = ReviewWidget(widget.viewer)
    again.open_results(out)
    assert np.array_equal(again.review.labels, widget.review.labels)
    assert again.review.filters == widget.review.filters


def test_rois_out_and_in(widget, tmp_path):
    widget.run(blocking=True)
    (zip_path,) = widget.export_rois(tmp_path / "rois")
    before = widget.review.labels.copy()
    widget.set_mode("delete")
    widget.click((20, 20))
    widget.import_rois(zip_path)
    assert np.array_equal(widget.review.labels > 0, before > 0)
    assert widget.table.rowCount() == int(before.max())


def test_sample_with_the_default_unet(make_napari_viewer):
    from nanosizer.data import sample_path
    from nanosizer.gui._widget import ReviewWidget

    w = ReviewWidget(make_napari_viewer())
    w.open_images([sample_path()])
    w.run(blocking=True)
    assert w.table.rowCount() == w.review.table.shape[0] > 20
    assert w.review.segmentation["method"] == "unet"


def test_worker_thread_runs_with_progress(widget, qtbot):
    widget.run(all_images=True)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60000)
    assert widget.progress.value() == widget.progress.maximum() == 1
    assert widget.review is not None and widget.table.rowCount() > 0


def test_a_trained_model_folder_can_be_chosen(widget):
    from nanosizer.segment.cnn import resolve_model

    widget.model.setText(str(resolve_model("unet")))
    widget.method.setCurrentText("classical")
    widget.run(blocking=True)
    assert widget.review.segmentation["method"] == "unet"
    assert widget.review.segmentation["model"] == str(resolve_model("unet"))
