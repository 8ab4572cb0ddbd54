"""Matching and scores on hand-made label images with known answers."""

import numpy as np
import pytest

from nanosizer.evaluate import (
    iou_matrix,
    match_instances,
    remove_small,
    score_instances,
    score_pixels,
)
from nanosizer.evaluate import _matching


def _squares(shape=(40, 40), boxes=((2, 2, 10), (2, 20, 10), (20, 2, 10), (20, 20, 10))):
    labels = np.zeros(shape, dtype=np.uint16)
    for i, (r, c, s) in enumerate(boxes, start=1):
        labels[r : r + s, c : c + s] = i
    return labels


def test_perfect_prediction_scores_one():
    truth = _squares()
    pred = truth * 3  # other label values, same particles
    s = score_instances(truth, pred)
    for key in ("precision", "recall", "f1", "mean_matched_iou", "pq", "ap", "instance_iou"):
        assert s[key] == 1.0, key
    assert (s["tp"], s["fp"], s["fn"]) == (4, 0, 0)
    p = score_pixels(truth, pred)
    assert p["pixel_iou"] == 1.0 and p["youden"] == 1.0


def test_merged_pair_gives_hand_computed_f1():
    truth = np.zeros((30, 30), dtype=np.int32)
    truth[2:8, 2:8] = 1          # 36 px, predicted correctly
    truth[20:26, 2:8] = 2        # 36 px, predicted correctly
    truth[10:16, 10:22] = 3      # 72 px } merged into one prediction of 96 px
    truth[10:16, 22:26] = 4      # 24 px }
    pred = np.zeros_like(truth)
    pred[truth == 1] = 5
    pred[truth == 2] = 6
    pred[(truth == 3) | (truth == 4)] = 7
    s = score_instances(truth, pred)
    # The merged particle matches particle 3 (IoU 72/96 = 0.75); particle 4 is missed.
    assert (s["tp"], s["fp"], s["fn"]) == (3, 0, 1)
    assert s["precision"] == 1.0 and s["recall"] == 0.75
    assert s["f1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))  # 6/7
    assert s["mean_matched_iou"] == pytest.approx((1 + 1 + 0.75) / 3)
    assert s["pq"] == pytest.approx(2.75 / 3.5)
    assert s["instance_iou"] == pytest.approx((1 + 1 + 0.75) / 3)
    # AP: 3 matches up to IoU 0.75, 2 above; tp/(tp+fp+fn) = 3/4 or 2/5.
    assert s["ap"] == pytest.approx((6 * 0.75 + 4 * 0.4) / 10)


def test_shifted_square_lowers_iou_by_expected_amount():
    truth = np.zeros((20, 30), dtype=np.uint8)
    truth[5:15, 5:15] = 1
    pred = np.roll(truth, 2, axis=1)  # 80 px overlap, 120 px union
    iou, ti, pi = iou_matrix(truth, pred)
    assert iou.shape == (1, 1) and iou[0, 0] == pytest.approx(2 / 3)
    assert score_pixels(truth, pred)["pixel_iou"] == pytest.approx(2 / 3)
    s = score_instances(truth, pred)
    assert s["f1"] == 1.0 and s["mean_matched_iou"] == pytest.approx(2 / 3)
    assert s["ap"] == pytest.approx(0.4)  # matched at 0.50 ... 0.65 only
    assert score_instances(truth, pred, threshold=0.7)["f1"] == 0.0


def test_pixel_scores_youden():
    truth = np.zeros((10, 10), dtype=bool)
    truth[:, :5] = True                     # 50 fg, 50 bg
    pred = np.zeros_like(truth)
    pred[:, 1:6] = True                     # tp 40, fp 10, fn 10, tn 40
    s = score_pixels(truth, pred)
    assert (s["tp_px"], s["fp_px"], s["fn_px"], s["tn_px"]) == (40, 10, 10, 40)
    assert s["tpr"] == 0.8 and s["tnr"] == 0.8 and s["youden"] == pytest.approx(0.6)
    mask = np.zeros_like(truth)
    mask[:, :5] = True
    assert score_pixels(truth, pred, mask=mask)["tnr"] == 1.0


def test_tie_at_threshold_is_matched_once():
    truth = np.zeros((3, 4), dtype=np.int32)
    truth[1, 1:3] = 1
    pred = np.zeros_like(truth)
    pred[1, 1], pred[1, 2] = 1, 2  # both have IoU exactly 0.5 with the true particle
    m = match_instances(truth, pred)
    assert m["iou"].tolist() == [0.5] and m["n_pred"] == 2
    s = score_instances(truth, pred)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)


def test_iou_matrix_matches_brute_force_and_sparse_path(monkeypatch):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 6, size=(24, 24)) * 3
    pred = rng.integers(0, 5, size=(24, 24))
    iou, ti, pi = iou_matrix(truth, pred)
    for i, a in enumerate(ti):
        for j, b in enumerate(pi):
            inter = np.sum((truth == a) & (pred == b))
            union = np.sum((truth == a) | (pred == b))
            assert iou[i, j] == pytest.approx(inter / union)
    monkeypatch.setattr(_matching, "_DENSE_LIMIT", 0)
    np.testing.assert_allclose(iou_matrix(truth, pred)[0], iou)


def test_min_area_removes_fragments_on_both_sides():
    truth = _squares()
    pred = truth.copy()
    pred[35:37, 35:37] = 9   # 4-px fragment: a false positive unless filtered
    truth[0, 39] = 8         # 1-px true fragment: a false negative unless filtered
    assert score_instances(truth, pred)["f1"] < 1
    assert score_instances(truth, pred, min_area=5)["f1"] == 1.0
    assert np.count_nonzero(remove_small(pred, 5) == 9) == 0


def test_empty_images_and_inputs_unchanged():
    empty = np.zeros((5, 5), dtype=np.int32)
    s = score_instances(empty, empty)
    assert s["f1"] == 1.0 and s["tp"] == 0
    truth = _squares()
    before = truth.copy()
    assert score_instances(truth, np.zeros_like(truth))["recall"] == 0.0
    score_instances(truth, truth, min_area=50)
    np.testing.assert_array_equal(truth, before)


def test_bad_input_raises():
    with pytest.raises(TypeError, match="integer label image"):
        score_instances(np.zeros((3, 3)), np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="shapes differ"):
        score_instances(np.zeros((3, 3), int), np.zeros((3, 4), int))
