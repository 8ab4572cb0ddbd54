"""Shape families: normalisation, Feret geometry, outlines from user images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanosizer.errors import InputError
from nanosizer.synth import SHAPES, ParticleConfig
from nanosizer.synth._scene import rasterise
from nanosizer.synth._shapes import load_outlines, make_shape, polygon_area, polygon_feret

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_square_feret_and_area():
    square = np.array([[0, 0], [0, 16], [16, 16], [16, 0]], float)
    fmin, fmax = polygon_feret(square)
    assert fmin == pytest.approx(16) and fmax == pytest.approx(16 * np.sqrt(2))
    assert polygon_area(square) == pytest.approx(256)


@pytest.mark.parametrize("name", [s for s in SHAPES if s != "outline"])
def test_every_family_has_unit_min_feret(name):
    cfg = ParticleConfig(roughness=0.3, shapes=((name, 1.0),))
    rng = np.random.default_rng(0)
    for _ in range(5):
        poly, profile, fmax = make_shape(name, cfg, rng)
        fmin, fmax2 = polygon_feret(poly)
        assert fmin == pytest.approx(1.0) and fmax == pytest.approx(fmax2)
        assert profile in ("dome", "facet", "flat")
        assert fmax >= 1.0


def test_rod_aspect_follows_config():
    cfg = ParticleConfig(shapes=(("rod", 1.0),), rod_aspect_range=(5.0, 5.0), roughness=0.0)
    _, _, fmax = make_shape("rod", cfg, np.random.default_rng(1))
    assert fmax == pytest.approx(5.0, rel=0.02)


def test_rasterise_disc_area():
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    disc = np.column_stack([np.sin(t), np.cos(t)]) * 20 + [50.3, 40.7]
    mask, r0, c0 = rasterise(disc)
    assert mask.sum() == pytest.approx(np.pi * 400, rel=0.02)
    rr, cc = np.nonzero(mask)
    assert (rr + r0).mean() == pytest.approx(50.3, abs=0.1)
    assert (cc + c0).mean() == pytest.approx(40.7, abs=0.1)


def _write_ellipse_outline(folder: Path, ratio: float) -> None:
    import tifffile

    yy, xx = np.mgrid[:64, :64]
    img = (((yy - 32) / 9.0) ** 2 + ((xx - 32) / (9.0 * ratio)) ** 2 <= 1).astype(np.uint8) * 255
    tifffile.imwrite(folder / "ellipse.tif", img)


def test_outline_shapes_keep_their_aspect(tmp_path):
    _write_ellipse_outline(tmp_path, 3.0)
    cfg = ParticleConfig(shapes=(("outline", 1.0),), outlines_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    ratios = [make_shape("outline", cfg, rng)[2] for _ in range(10)]
    assert np.allclose(ratios, 3.0, rtol=0.05)
    areas = [polygon_area(make_shape("outline", cfg, rng)[0]) for _ in range(3)]
    assert np.allclose(areas, areas[0])  # rotation/flip do not change the shape


def test_outline_folder_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_outlines(str(tmp_path / "missing"))
    with pytest.raises(InputError, match="no particle outlines"):
        load_outlines(str(tmp_path))


def test_bam_example_outlines_keep_aspect():
    folder = DATA / "bam-tio2" / "example-outlines"
    if not folder.is_dir():
        pytest.skip("shared BAM data not available")
    polys = load_outlines(str(folder))
    assert len(polys) == 40
    cfg = ParticleConfig(shapes=(("outline", 1.0),), outlines_dir=str(folder), roughness=0.0)
    ref = sorted(polygon_feret(p)[1] / polygon_feret(p)[0] for p in polys)
    rng = np.random.default_rng(0)
    got = sorted(make_shape("outline", cfg, rng)[2] for _ in range(400))
    assert min(ref) - 1e-6 <= got[0] and got[-1] <= max(ref) + 1e-6
