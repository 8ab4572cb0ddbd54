"""Correcting particles by hand (nanosizer.review): known answers on drawn discs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosizer.measure import measure_particles
from nanosizer.pipeline import AnalyzeConfig
from nanosizer.review import Filters, ImageReview, load_results, save_pairs, save_results

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
def review(image):
    from nanosizer.io import read_micrograph

    return ImageReview(read_micrograph(image, pixel_size="2 nm"), _truth_labels(), CONFIG)


def _full(review) -> pd.DataFrame:
    """The table a fresh measurement of the whole label image gives."""
    mg = review.micrograph
    return measure_particles(review.labels, mg.data, mg.pixel_size, exclude=~mg.analysis_mask)


def _assert_table_is_fresh(review) -> None:
    full = _full(review)
    ours = review.table[full.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, full, check_dtype=False)


def test_table_and_border_rule_as_analyze(review):
    _assert_table_is_fresh(review)
    stats = review.table.set_index("label")["in_statistics"]
    assert stats.tolist() == [True, True, True, True, False]  # disc 5 touches the left edge


def test_delete_merge_split_paint_and_undo_keep_the_table_fresh(review):
    start_labels, start_table = review.labels.copy(), review.table.copy()
    area = review.table.set_index("label")["area_nm2"]
    assert review.delete(2) == [2]
    assert 2 not in review.table["label"].tolist() and not (review.labels == 2).any()
    _assert_table_is_fresh(review)

    assert review.merge(4, 3) == [3, 4]
    merged = review.table.set_index("label").loc[3]
    assert merged["area_nm2"] == pytest.approx(area[3] + area[4])
    assert merged["feret_max_nm"] > 2 * 2 * 19  # spans both discs (2 nm/px)
    _assert_table_is_fresh(review)

    # cut the merged pair where the discs meet (column 49) again
    ids = review.split(3, [(50, 49), (90, 49)])
    assert ids[0] == 3 and len(ids) == 2 and ids[1] == int(review.labels.max())
    pieces = review.table.set_index("label").loc[ids, "area_nm2"]
    assert pieces.sum() == pytest.approx(area[3] + area[4])  # the line's pixels are kept
    assert pieces.min() > 0.4 * pieces.sum()
    _assert_table_is_fresh(review)

    painted = np.zeros(review.labels.shape, bool)
    painted[85:95, 5:15] = True
    new = review.paint(painted)
    assert review.table.set_index("label").loc[new, "area_nm2"] == pytest.approx(100 * 4)
    _assert_table_is_fresh(review)
    assert [c["action"] for c in review.corrections] == ["delete", "merge", "split", "paint"]

    for expected in ("paint", "split", "merge", "delete"):
        assert review.undo()["action"] == expected
        _assert_table_is_fresh(review)
    assert np.array_equal(review.labels, start_labels)
    pd.testing.assert_frame_equal(review.table, start_table)
    assert not review.can_undo and review.corrections == []
    with pytest.raises(ValueError, match="nothing to undo"):
        review.undo()


def test_bad_corrections_are_refused_and_change_nothing(review):
    before = review.labels.copy()
    with pytest.raises(ValueError, match="no particle"):
        review.delete(99)
    with pytest.raises(ValueError, match="itself"):
        review.merge(1, 1)
    with pytest.raises(ValueError, match="does not cut"):
        review.split(1, [(10, 20), (14, 20)])  # a line ending inside the particle
    covered = review.labels == 1
    with pytest.raises(ValueError, match="covers no background"):
        review.paint(covered)
    assert np.array_equal(review.labels, before) and not review.can_undo


def test_filters_mark_particles_out_of_the_statistics_without_deleting(review):
    sizes = review.table.set_index("label")["feret_min_nm"]
    limit = float(sizes.loc[1]) + 1  # disc 1 (r 8) is the smallest inside the image
    review.set_filters(Filters(size=(limit, None)))
    stats = review.table.set_index("label")["in_statistics"]
    assert stats.tolist() == [False, True, True, True, False]
    assert review.table.shape[0] == 5
    assert review.summary()["n"] == 3
    review.set_filters(Filters(solidity=(1.01, None)))
    assert not review.table["in_statistics"].any()


def test_summary_and_pixel_size(review):
    values = review.table.loc[review.table["in_statistics"], "feret_min_nm"]
    summary = review.summary()
    assert summary["n"] == 4 and summary["unit"] == "nm"
    assert summary["median"] == pytest.approx(float(np.median(values)))
    assert summary["d90"] == pytest.approx(float(np.percentile(values, 90)))
    assert summary["eu_share_below_100nm"] == 1.0  # all below 100 nm at 2 nm/px
    review.set_pixel_size(4.0)
    assert review.summary()["median"] == pytest.approx(2 * summary["median"])
    review.set_pixel_size(None)
    assert review.unit == "px" and "feret_min_px" in review.table.columns
    assert "eu_verdict" not in review.summary()


def test_saved_folder_is_an_analyze_folder_and_opens_again(review, tmp_path):
    review.delete(2)
    review.set_filters(Filters(size=(0.0, 200.0)))
    out = save_results([review], tmp_path / "corrected")
    for name in ("particles.csv", "summary.csv", "run.json", "histogram.png", "report.html",
                 "labels/discs.tif", "overlays/discs.png"):
        assert (out / name).is_file(), name
    particles = pd.read_csv(out / "particles.csv")
    assert particles["label"].tolist() == [1, 3, 4, 5]
    assert np.array_equal(tifffile.imread(out / "labels" / "discs.tif"), review.labels)
    run = json.loads((out / "run.json").read_text())
    noted = run["images"][0]["review"]
    assert noted["corrections"] == [{"action": "delete", "labels": [2]}]
    assert noted["filters"]["size"] == [0.0, 200.0] and noted["corrected_by_hand"]
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[summary["image"] == "pooled", "n"].item() == 3

    (again,) = load_results(out)
    assert np.array_equal(again.labels, review.labels)
    assert again.corrections == review.corrections and again.filters == review.filters
    pd.testing.assert_frame_equal(again.table, review.table)
    with pytest.raises(Exception, match="not empty|non-empty|exists"):
        save_results([review], out)  # nothing of the user's is replaced without asking


def test_pairs_are_read_by_adapt(review, tmp_path):
    from nanosizer.adapt.pairs_io import import_pairs

    review.delete(5)
    folder = save_pairs([review], tmp_path / "pairs")
    (pair,) = import_pairs(folder)
    assert pair.name == "discs" and pair.image.shape == review.labels.shape
    assert pair.labels.max() == 4
    assert np.array_equal(pair.labels > 0, review.labels > 0)
    from nanosizer.errors import InputError

    with pytest.raises(InputError, match="already exists"):
        save_pairs([review], folder)


def test_from_image_segments_as_analyze(image, tmp_path):
    from nanosizer import analyze

    review = ImageReview.from_image(image, CONFIG)
    result = analyze([image], tmp_path / "res", CONFIG)
    pd.testing.assert_frame_equal(review.table.reset_index(drop=True),
                                  result.particles.reset_index(drop=True), check_dtype=False)
