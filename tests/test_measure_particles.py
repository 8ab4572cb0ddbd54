"""The particle table of measure_particles."""

import numpy as np
import pandas as pd
import pytest
from skimage.draw import ellipse
from skimage.measure import regionprops

from nanosizer.io import PixelSize
from nanosizer.measure import measure_particles, particle_columns, size_column


def _scene() -> np.ndarray:
    labels = np.zeros((60, 80), dtype=np.int32)
    labels[10:20, 10:30] = 3  # 10 x 20 rectangle, interior
    labels[0:5, 50:55] = 7  # touches the top edge
    rr, cc = ellipse(40, 40, 8, 14, rotation=np.radians(25), shape=labels.shape)
    labels[rr, cc] = 12
    labels[52:56, 70:74] = 20  # next to the excluded bottom rows
    return labels


def _exclude() -> np.ndarray:
    ex = np.zeros((60, 80), dtype=bool)
    ex[56:] = True
    return ex


def test_columns_and_units():
    nm = measure_particles(_scene(), pixel_size=PixelSize(2.5, "test"))
    assert list(nm.columns) == particle_columns("nm")
    assert "feret_min_nm" in nm and "area_nm2" in nm
    px = measure_particles(_scene())
    assert list(px.columns) == particle_columns("px")
    assert list(px["label"]) == [3, 7, 12, 20]
    assert np.allclose(nm["feret_min_nm"], 2.5 * px["feret_min_px"])
    assert np.allclose(nm["area_nm2"], 6.25 * px["area_px2"])
    # A plain float is nanometres too; an uncalibrated PixelSize gives pixels.
    assert np.allclose(measure_particles(_scene(), pixel_size=2.5)["ecd_nm"], nm["ecd_nm"])
    assert "ecd_px" in measure_particles(_scene(), pixel_size=PixelSize(None))


def test_rectangle_values():
    row = measure_particles(_scene(), pixel_size=2.0).set_index("label").loc[3]
    assert row["area_nm2"] == 200 * 4.0
    assert row["ecd_nm"] == pytest.approx(2.0 * np.sqrt(4 * 200 / np.pi))
    assert row["feret_min_nm"] == pytest.approx(20.0)
    assert row["feret_max_nm"] == pytest.approx(2.0 * np.hypot(10, 20))
    assert row["feret_min_angle_deg"] == 90.0
    assert row["aspect_ratio"] == pytest.approx(np.hypot(10, 20) / 10)
    assert row["solidity"] == pytest.approx(1.0)
    assert row["ellipse_angle_deg"] == pytest.approx(0.0)
    assert (row["centroid_x_px"], row["centroid_y_px"]) == pytest.approx((19.5, 14.5))
    bbox = [row[c] for c in ("bbox_x0_px", "bbox_y0_px", "bbox_x1_px", "bbox_y1_px")]
    assert bbox == [10, 10, 30, 20]
    assert not row["touches_border"]
    assert np.isnan(row["mean_intensity"])


def test_agrees_with_regionprops():
    labels = _scene()
    table = measure_particles(labels).set_index("label")
    for p in regionprops(labels):
        row = table.loc[p.label]
        assert row["area_px2"] == p.area
        assert row["perimeter_px"] == pytest.approx(p.perimeter_crofton)
        assert row["ellipse_major_px"] == pytest.approx(p.axis_major_length)
        assert row["ellipse_minor_px"] == pytest.approx(p.axis_minor_length)
        assert (row["centroid_y_px"], row["centroid_x_px"]) == pytest.approx(p.centroid)


def test_ellipse_shape_measures():
    row = measure_particles(_scene()).set_index("label").loc[12]
    assert row["ellipse_angle_deg"] == pytest.approx(25.0, abs=2.0)
    assert row["ellipse_major_px"] == pytest.approx(28.0, rel=0.05)
    assert row["ellipse_minor_px"] == pytest.approx(16.0, rel=0.05)
    a, b = 14.0, 8.0
    perimeter = np.pi * (3 * (a + b) - np.sqrt((3 * a + b) * (a + 3 * b)))  # Ramanujan
    assert row["circularity"] == pytest.approx(4 * np.pi * np.pi * a * b / perimeter**2, rel=0.03)
    assert 0.9 < row["solidity"] <= 1.0
    assert 0.9 < row["convexity"] <= 1.0


def test_disc_circularity():
    yy, xx = np.mgrid[:80, :80]
    labels = (((yy - 40) ** 2 + (xx - 40) ** 2) <= 30**2).astype(np.uint16)
    row = measure_particles(labels).iloc[0]
    assert row["perimeter_px"] == pytest.approx(2 * np.pi * 30, rel=0.02)
    assert row["circularity"] == pytest.approx(1.0, abs=0.03)


def test_touches_border_and_exclude():
    table = measure_particles(_scene(), exclude=_exclude()).set_index("label")
    assert table["touches_border"].to_dict() == {3: False, 7: True, 12: False, 20: True}
    without = measure_particles(_scene()).set_index("label")
    assert not without.loc[20, "touches_border"]


def test_mean_intensity():
    labels = _scene()
    image = np.zeros(labels.shape, dtype=np.float32)
    image[labels == 3] = 5.0
    image[labels == 7] = 2.0
    table = measure_particles(labels, image).set_index("label")
    assert table.loc[3, "mean_intensity"] == 5.0
    assert table.loc[7, "mean_intensity"] == 2.0


def test_input_not_modified():
    labels, exclude = _scene(), _exclude()
    image = np.random.default_rng(0).random(labels.shape)
    copies = labels.copy(), image.copy(), exclude.copy()
    measure_particles(labels, image, 3.0, exclude=exclude)
    for before, after in zip(copies, (labels, image, exclude)):
        np.testing.assert_array_equal(before, after)


def test_empty_labels():
    table = measure_particles(np.zeros((10, 10), dtype=np.int32), pixel_size=1.5)
    assert table.empty
    assert list(table.columns) == particle_columns("nm")
    assert table["touches_border"].dtype == bool


def test_single_pixel_and_uint_labels():
    labels = np.zeros((5, 5), dtype=np.uint64)
    labels[2, 2] = 65535
    row = measure_particles(labels).iloc[0]
    assert row["label"] == 65535
    assert (row["feret_min_px"], row["feret_max_px"]) == pytest.approx((1.0, np.sqrt(2)))


def test_bad_inputs():
    with pytest.raises(TypeError, match="integer image"):
        measure_particles(np.ones((4, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="skimage.measure.label"):
        measure_particles(np.ones((4, 4), dtype=bool))
    with pytest.raises(ValueError, match="shape"):
        measure_particles(np.ones((4, 4), dtype=int), image=np.ones((3, 4)))
    with pytest.raises(TypeError, match="pixel_size"):
        measure_particles(np.ones((4, 4), dtype=int), pixel_size="7 nm")


def test_size_column():
    assert size_column("feret_min", "nm") == "feret_min_nm"
    assert size_column("ecd", "px") == "ecd_px"
    assert size_column("feret_max", "nm") in particle_columns("nm")
    with pytest.raises(ValueError, match="feret_min"):
        size_column("diameter", "nm")
    assert isinstance(measure_particles(_scene()), pd.DataFrame)
