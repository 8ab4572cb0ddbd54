"""Correcting particles by hand (nanosizer.review): known answers on drawn discs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.measure import measure_particles
from nanosizer.pipeline import AnalyzeConfig
from nanosizer.review import Filters, ReviewSession, load_results, save_pairs, save_results

from helpers import draw_discs

# two separate discs, two that touch (centres 18 px apart, radii 10), one at the left edge
DISCS = [(20, 20, 8), (24, 70, 10), (70, 40, 10), (70, 58, 10), (40, 3, 6)]
CONFIG = AnalyzeConfig(method="classical", pixel_size="2 nm")


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, draw_discs((100, 100), DISCS, noise=2))
    return path


def _truth_labels(shape=(100, 100)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for k, (cy, cx, r) in enumerate(DISCS, 1):
        labels[((yy - cy) ** 2 + (xx - cx) ** 2 <= r**2) & (labels == 0)] = k
    return labels


@pytest.fixture
def session(image):
    from nanosizer.io import read_micrograph

    return ReviewSession(read_micrograph(image, pixel_size="2 nm"), _truth_labels(), CONFIG)


def _full(session) -> pd.DataFrame:
    """The table a fresh measurement of the whole label image gives."""
    mg = session.micrograph
    return measure_particles(session.labels, mg.data, mg.pixel_size, exclude=~mg.analysis_mask)


def _assert_table_is_fresh(session) -> None:
    full = _full(session)
    ours = session.table[full.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, full, check_dtype=False)


def test_table_and_border_rule_as_analyze(session):
    _assert_table_is_fresh(session)
    stats = session.table.set_index("label")["in_statistics"]
    assert stats.tolist() == [True, True, True, True, False]  # disc 5 touches the left edge


def test_delete_merge_split_paint_and_undo_keep_the_table_fresh(session):
    start_labels, start_table = session.labels.copy(), session.table.copy()
    area = session.table.set_index("label")["area_nm2"]
    assert session.delete(2) == [2]
    assert 2 not in session.table["label"].tolist() and not (session.labels == 2).any()
    _assert_table_is_fresh(session)

    assert session.merge(4, 3) == [3, 4]
    merged = session.table.set_index("label").loc[3]
    assert merged["area_nm2"] == pytest.approx(area[3] + area[4])
    assert merged["feret_max_nm"] > 2 * 2 * 19  # spans both discs (2 nm/px)
    _assert_table_is_fresh(session)

    # cut the merged pair where the discs meet (column 49) again
    ids = session.split(3, [(50, 49), (90, 49)])
    assert ids[0] == 3 and len(ids) == 2 and ids[1] == int(session.labels.max())
    pieces = session.table.set_index("label").loc[ids, "area_nm2"]
    assert pieces.sum() == pytest.approx(area[3] + area[4])  # the line's pixels are kept
    assert pieces.min() > 0.4 * pieces.sum()
    _assert_table_is_fresh(session)

    painted = np.zeros(session.labels.shape, bool)
    painted[85:95, 5:15] = True
    new = session.paint(painted)
    assert session.table.set_index("label").loc[new, "area_nm2"] == pytest.approx(100 * 4)
    _assert_table_is_fresh(session)
    assert [c["action"] for c in session.corrections] == ["delete", "merge", "split", "paint"]

    for expected in ("paint", "split", "merge", "delete"):
        assert session.undo()["action"] == expected
        _assert_table_is_fresh(session)
    assert np.array_equal(session.labels, start_labels)
    pd.testing.assert_frame_equal(session.table, start_table)
    assert not session.can_undo and session.corrections == []
    with pytest.raises(ValueError, match="nothing to undo"):
        session.undo()


def test_bad_corrections_are_refused_and_change_nothing(session):
    before = session.labels.copy()
    with pytest.raises(ValueError, match="no particle"):
        session.delete(99)
    with pytest.raises(ValueError, match="itself"):
        session.merge(1, 1)
    with pytest.raises(ValueError, match="does not cut"):
        session.split(1, [(10, 20), (14, 20)])  # a line ending inside the particle
    covered = session.labels == 1
    with pytest.raises(ValueError, match="covers no background"):
        session.paint(covered)
    assert np.array_equal(session.labels, before) and not session.can_undo


def test_filters_mark_particles_out_of_the_statistics_without_deleting(session):
    sizes = session.table.set_index("label")["feret_min_nm"]
    limit = float(sizes.loc[1]) + 1  # disc 1 (r 8) is the smallest inside the image
    session.set_filters(Filters(size=(limit, None)))
    stats = session.table.set_index("label")["in_statistics"]
    assert stats.tolist() == [False, True, True, True, False]
    assert session.table.shape[0] == 5
    assert session.summary()["n"] == 3
    session.set_filters(Filters(solidity=(1.01, None)))
    assert not session.table["in_statistics"].any()


def test_summary_and_pixel_size(session):
    values = session.table.loc[session.table["in_statistics"], "feret_min_nm"]
    summary = session.summary()
    assert summary["n"] == 4 and summary["unit"] == "nm"
    assert summary["median"] == pytest.approx(float(np.median(values)))
    assert summary["d90"] == pytest.approx(float(np.percentile(values, 90)))
    assert summary["eu_share_below_100nm"] == 1.0  # all below 100 nm at 2 nm/px
    session.set_pixel_size(4.0)
    assert session.summary()["median"] == pytest.approx(2 * summary["median"])
    session.set_pixel_size(None)
    assert session.unit == "px" and "feret_min_px" in session.table.columns
    assert "eu_verdict" not in session.summary()


def test_saved_folder_is_an_analyze_folder_and_opens_again(session, tmp_path):
    session.delete(2)
    session.set_filters(Filters(size=(0.0, 200.0)))
    out = save_results([session], tmp_path / "corrected")
    for name in ("particles.csv", "summary.csv", "run.json", "histogram.png", "report.html",
                 "labels/discs.tif", "overlays/discs.png"):
        assert (out / name).is_file(), name
    particles = pd.read_csv(out / "particles.csv")
    assert particles["label"].tolist() == [1, 3, 4, 5]
    assert np.array_equal(tifffile.imread(out / "labels" / "discs.tif"), session.labels)
    run = json.loads((out / "run.json").read_text())
    review = run["images"][0]["review"]
    assert review["corrections"] == [{"action": "delete", "labels": [2]}]
    assert review["filters"]["size"] == [0.0, 200.0] and review["corrected_by_hand"]
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[summary["image"] == "pooled", "n"].item() == 3

    (again,) = load_results(out)
    assert np.array_equal(again.labels, session.labels)
    assert again.corrections == session.corrections and again.filters == session.filters
    pd.testing.assert_frame_equal(again.table, session.table)
    with pytest.raises(Exception, match="not empty|non-empty|exists"):
        save_results([session], out)  # nothing of the user's is replaced without asking


def test_pairs_are_read_by_adapt(session, tmp_path):
    from nanosizer.adapt.pairs_io import import_pairs

    session.delete(5)
    folder = save_pairs([session], tmp_path / "pairs")
    (pair,) = import_pairs(folder)
    assert pair.name == "discs" and pair.image.shape == session.labels.shape
    assert pair.labels.max() == 4
    assert np.array_equal(pair.labels > 0, session.labels > 0)
    from nanosizer.errors import InputError

    with pytest.raises(InputError, match="already exists"):
        save_pairs([session], folder)


def test_from_image_segments_as_analyze(image, tmp_path):
    from nanosizer import analyze

    session = ReviewSession.from_image(image, CONFIG)
    result = analyze([image], tmp_path / "res", CONFIG)
    pd.testing.assert_frame_equal(session.table.reset_index(drop=True),
                                  result.particles.reset_index(drop=True), check_dtype=False)
