"""Exact Feret diameters against analytic answers."""

import numpy as np
import pytest
from skimage.draw import ellipse, polygon

from nanosizer.measure import feret_by_label, feret_diameters
from nanosizer.measure.feret import _calipers

SQRT2 = np.sqrt(2.0)


def _rotated_square(side: float, theta_deg: float, centre=(50.0, 50.0)) -> np.ndarray:
    """(4, 2) vertices (x, y) of a square rotated counter-clockwise on screen (y down)."""
    t = np.radians(theta_deg)
    u = np.array([np.cos(t), -np.sin(t)])  # on-screen CCW: y flips sign
    v = np.array([np.sin(t), np.cos(t)])
    c = np.asarray(centre)
    h = side / 2
    return np.array([c - h * u - h * v, c + h * u - h * v, c + h * u + h * v, c - h * u + h * v])


def _brute_force(points: np.ndarray, n_dir: int = 20000) -> tuple[float, float]:
    """Min/max caliper width by dense direction sampling (upper bound of min, lower of max)."""
    t = np.linspace(0, np.pi, n_dir, endpoint=False)
    proj = points @ np.stack([np.cos(t), np.sin(t)])
    width = proj.max(0) - proj.min(0)
    return width.min(), width.max()


def _angles_close(a: float, b: float, tol: float) -> bool:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d) <= tol


@pytest.mark.parametrize("s", [1, 2, 7, 16])
def test_axis_aligned_square(s):
    r = feret_diameters(np.ones((s, s), dtype=bool))
    assert r.min == pytest.approx(s)
    assert r.max == pytest.approx(s * SQRT2)
    assert r.min_angle_deg in (0.0, 90.0)
    assert r.max_angle_deg in (45.0, 135.0)
    assert r.hull_area == pytest.approx(s * s)
    assert r.hull_perimeter == pytest.approx(4 * s)


def test_single_pixel_mask_and_coords():
    for arg in (np.ones((1, 1), dtype=bool), np.array([[5, 9]])):
        r = feret_diameters(arg)
        assert (r.min, r.max) == pytest.approx((1.0, SQRT2))


@pytest.mark.parametrize("n", [2, 5, 40])
def test_line_of_pixels(n):
    horizontal = feret_diameters(np.ones((1, n), dtype=bool))
    assert horizontal.min == pytest.approx(1.0)
    assert horizontal.max == pytest.approx(np.hypot(n, 1))
    assert horizontal.min_angle_deg == 90.0
    vertical = feret_diameters(np.ones((n, 1), dtype=bool))
    assert vertical.min_angle_deg == 0.0
    assert vertical.max == pytest.approx(np.hypot(n, 1))


def test_max_angle_is_counter_clockwise_on_screen():
    # A staircase rising to the right on screen: rows decrease as columns increase.
    mask = np.zeros((10, 10), dtype=bool)
    for i in range(10):
        mask[9 - i, i] = True
    r = feret_diameters(mask)
    assert _angles_close(r.max_angle_deg, 45.0, 1e-9)
    x1, y1 = r.max_endpoints[0]
    x2, y2 = r.max_endpoints[1]
    assert x1 < x2 and y1 > y2  # goes up-right on screen
    assert r.max == pytest.approx(10 * SQRT2)


@pytest.mark.parametrize("theta", [0.0, 10.0, 22.5, 30.0, 45.0, 60.0, 81.0])
def test_exact_polygon_square(theta):
    side = 37.0
    res = _calipers([_rotated_square(side, theta)])
    assert res["min"][0] == pytest.approx(side, abs=1e-9)
    assert res["max"][0] == pytest.approx(side * SQRT2, abs=1e-9)
    assert _angles_close(res["min_angle_deg"][0], theta, 1e-6) or _angles_close(
        res["min_angle_deg"][0], theta + 90, 1e-6
    )
    assert res["hull_area"][0] == pytest.approx(side**2)


@pytest.mark.parametrize("theta", [0.0, 15.0, 30.0, 45.0, 70.0])
def test_rasterised_rotated_square(theta):
    side = 40.0
    verts = _rotated_square(side, theta)
    rr, cc = polygon(verts[:, 1], verts[:, 0], shape=(100, 100))
    mask = np.zeros((100, 100), dtype=bool)
    mask[rr, cc] = True
    r = feret_diameters(mask)
    assert abs(r.min - side) <= 1.5
    assert abs(r.max - side * SQRT2) <= 1.5
    # Exact for the hull of the pixel squares: dense sampling agrees to sampling precision.
    lo, hi = _brute_force(r.hull)
    assert r.min <= lo + 1e-9 and lo - r.min < 1e-3
    assert r.max >= hi - 1e-9 and r.max - hi < 1e-3


def test_right_triangle():
    a, b = 30.0, 40.0
    exact = _calipers([np.array([[0.0, 0.0], [a, 0.0], [0.0, b]])])
    assert exact["max"][0] == pytest.approx(50.0)
    assert exact["min"][0] == pytest.approx(a * b / 50.0)  # altitude onto the hypotenuse
    rr, cc = polygon([0, 0, b], [0, a, 0], shape=(60, 60))
    mask = np.zeros((60, 60), dtype=bool)
    mask[rr, cc] = True
    r = feret_diameters(mask)
    assert abs(r.max - 50.0) <= 1.5
    assert abs(r.min - 24.0) <= 1.5


@pytest.mark.parametrize("radius", [10, 25, 60])
def test_disc(radius):
    yy, xx = np.mgrid[: 2 * radius + 4, : 2 * radius + 4]
    c = radius + 1.5
    mask = (yy - c) ** 2 + (xx - c) ** 2 <= radius**2
    r = feret_diameters(mask)
    d = 2 * radius
    assert r.min == pytest.approx(d, rel=0.02, abs=1.0)
    assert r.max == pytest.approx(d, rel=0.02, abs=1.5)
    assert r.max >= r.min


@pytest.mark.parametrize("angle", [0.0, 30.0, 100.0])
def test_ellipse(angle):
    a, b = 40.0, 15.0
    mask = np.zeros((120, 120), dtype=bool)
    # skimage's rotation is clockwise on screen for positive values in (row, col) terms.
    rr, cc = ellipse(60, 60, b, a, rotation=np.radians(angle), shape=mask.shape)
    mask[rr, cc] = True
    r = feret_diameters(mask)
    assert abs(r.max - 2 * a) <= 2.0
    assert abs(r.min - 2 * b) <= 2.0
    # Digitised outlines shift the extreme corners a little, so angles agree to a few degrees.
    assert _angles_close(r.max_angle_deg, angle, 6.0)
    assert _angles_close(r.min_angle_deg, angle + 90.0, 6.0)


def test_feret_by_label_matches_single_particle():
    rng = np.random.default_rng(1)
    labels = np.zeros((64, 64), dtype=np.int32)
    for k in range(1, 9):
        r0, c0 = rng.integers(0, 56, 2)
        blob = rng.random((8, 8)) < 0.6
        labels[r0 : r0 + 8, c0 : c0 + 8][blob] = k
    table = feret_by_label(labels)
    assert list(table.label) == sorted(set(np.unique(labels)) - {0})
    for i, k in enumerate(table.label):
        single = feret_diameters(labels == k)
        assert table.min[i] == pytest.approx(single.min)
        assert table.max[i] == pytest.approx(single.max)
        assert table.hull_area[i] == pytest.approx(single.hull_area)
        lo, hi = _brute_force(single.hull)
        assert single.min <= lo + 1e-9 and single.max >= hi - 1e-9


def test_bad_input():
    with pytest.raises(ValueError, match="no pixels"):
        feret_diameters(np.zeros((4, 4), dtype=bool))
    with pytest.raises(ValueError, match="bool"):
        feret_diameters(np.ones((4, 4), dtype=np.float32))
