"""Truth formats (label images, binary masks, COCO, ROI zips) and distribution agreement."""

import json

import numpy as np
import pytest
import tifffile

from nanosizer.errors import InputError
from nanosizer.evaluate import (
    compare_distributions,
    find_label_files,
    read_coco,
    read_truth,
    score_instances,
)
from nanosizer.evaluate.imagej import write_roi_zip


def _labels():
    labels = np.zeros((20, 30), dtype=np.uint16)
    labels[2:8, 2:8] = 3
    labels[2:8, 8:14] = 9   # touches particle 3
    labels[12:18, 20:28] = 1
    return labels


def test_label_image_and_binary_mask_with_separating_lines(tmp_path):
    labels = _labels()
    tifffile.imwrite(tmp_path / "a.tif", labels)
    np.testing.assert_array_equal(read_truth(tmp_path / "a.tif"), labels)
    mask = (labels > 0).astype(np.uint8) * 255
    mask[2:8, 8] = 0  # 1-px line between the touching particles
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "b.png", mask)
    truth = read_truth(tmp_path / "b.png")
    assert truth.max() == 3
    s = score_instances(labels, truth)
    assert (s["tp"], s["fp"], s["fn"]) == (3, 0, 0)


def test_diagonal_neighbours_in_a_mask_are_two_particles(tmp_path):
    mask = np.zeros((6, 6), bool)
    mask[1:3, 1:3] = True
    mask[3:5, 3:5] = True  # touches only at a corner
    np.save(tmp_path / "m.npy", mask)
    assert read_truth(tmp_path / "m.npy").max() == 2


def test_coco_polygon_and_rle(tmp_path):
    # Square polygon covering pixels 2..5 x 2..5 and an uncompressed RLE (column-major).
    rle_mask = np.zeros((10, 12), bool)
    rle_mask[7:9, 8:11] = True
    flat = rle_mask.T.ravel()
    change = np.flatnonzero(np.diff(np.r_[0, flat.astype(int), 0]))
    runs = np.diff(np.r_[0, change, flat.size]).tolist()
    coco = {
        "images": [{"id": 1, "file_name": "dir/img1.png", "height": 10, "width": 12}],
        "annotations": [
            {"id": 1, "image_id": 1, "segmentation": [[2, 2, 6, 2, 6, 6, 2, 6]], "iscrowd": 0},
            {"id": 2, "image_id": 1, "segmentation": {"size": [10, 12], "counts": runs},
             "iscrowd": 0},
        ],
    }
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(coco))
    labels = read_coco(path)["img1"]
    assert np.count_nonzero(labels == 1) == 16 and labels[2:6, 2:6].min() == 1
    np.testing.assert_array_equal(labels == 2, rle_mask)
    np.testing.assert_array_equal(read_truth(path, name="img1"), labels)


def _encode_rle(counts):
    """pycocotools' rleToString, written out for the test."""
    out = []
    for i, x in enumerate(counts):
        x = x - counts[i - 2] if i > 2 else x
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def test_compressed_rle_decoding():
    from nanosizer.evaluate._truth import _rle_counts

    runs = [3, 4, 5, 100, 2, 1, 40000, 7]
    assert _rle_counts(_encode_rle(runs)) == runs


def test_roi_zip_truth_needs_shape(tmp_path):
    labels = _labels()
    write_roi_zip(labels, tmp_path / "t.zip")
    with pytest.raises(InputError, match="shape"):
        read_truth(tmp_path / "t.zip")
    s = score_instances(labels, read_truth(tmp_path / "t.zip", shape=labels.shape))
    assert s["f1"] == 1.0


def test_find_label_files_uses_analyze_layout(tmp_path):
    (tmp_path / "labels").mkdir()
    tifffile.imwrite(tmp_path / "labels" / "x.tif", _labels())
    (tmp_path / "particles.csv").write_text("image,label\n")
    assert list(find_label_files(tmp_path)) == ["x"]
    with pytest.raises(InputError, match="not found"):
        find_label_files(tmp_path / "missing")


def test_compare_distributions_known_values():
    c = compare_distributions([10, 20, 30, 40], [10, 20, 30, 40])
    assert c["ks"] == 0 and c["wasserstein"] == 0 and c["mean_rel_err"] == 0
    c = compare_distributions([10, 20, 30, 40], [20, 30, 40, 50])
    assert c["mean_rel_err"] == pytest.approx(0.4)
    assert c["wasserstein"] == pytest.approx(10.0)
    assert c["ks"] == pytest.approx(0.25)
    assert c["n_rel_err"] == 0
    assert np.isnan(compare_distributions([1.0], [])["ks"])
