"""Info-bar detection on synthetic and (when present) real SEM images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanosizer.io import detect_infobar, read_micrograph

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _particles(shape, n, radius, rng, background=0.0, value=200.0, noise=0.0):
    """Bright discs on a background, optionally noisy."""
    h, w = shape
    img = np.full(shape, background, dtype=np.float64)
    yy, xx = np.mgrid[:h, :w]
    for cy, cx in zip(rng.uniform(0, h, n), rng.uniform(0, w, n)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = value
    if noise:
        img += rng.normal(0, noise, shape)
    return img


def _add_bar(img, top, bar_value, ink_value):
    img = img.copy()
    img[top:] = bar_value
    height = img.shape[0] - top
    for k, x in enumerate(range(8, img.shape[1] - 20, 30)):  # "words" on two text lines
        y = top + 4 + (k % 2) * (height // 2)
        img[y : y + max(3, height // 4), x : x + 15] = ink_value
        img[y : y + max(3, height // 4), x + 4 : x + 6] = bar_value  # a gap inside the glyph
    return img


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dark_bar_with_bright_text(seed):
    rng = np.random.default_rng(seed)
    img = _particles((200, 256), 40, 8, rng, background=60, value=180, noise=8)
    assert detect_infobar(_add_bar(img, 170, 0, 255)) == 170


def test_bright_bar_with_dark_text_16bit_scale():
    rng = np.random.default_rng(3)
    img = _particles((300, 400), 60, 10, rng, background=20000, value=40000, noise=1500)
    assert detect_infobar(_add_bar(img, 262, 65535, 0)) == 262


def test_rows_below_bar_tolerated():
    rng = np.random.default_rng(4)
    img = _add_bar(_particles((256, 256), 50, 8, rng, 80, 200, 10), 220, 0, 255)
    img[-2:] = rng.normal(100, 10, (2, 256))  # like the Zeiss images' last two rows
    assert detect_infobar(img) == 220


@pytest.mark.parametrize("seed", range(5))
def test_no_bar_on_noisy_particle_images(seed):
    rng = np.random.default_rng(seed)
    assert detect_infobar(_particles((200, 256), 50, 9, rng, 60, 180, 8)) is None


@pytest.mark.parametrize("seed", range(5))
def test_no_bar_when_particles_on_black_reach_the_bottom(seed):
    rng = np.random.default_rng(10 + seed)
    img = _particles((256, 256), 120, 7, rng, background=0, value=255)
    img[-30:] = _particles((30, 256), 8, 6, rng, background=0, value=255)  # sparse at bottom
    assert detect_infobar(img) is None


def test_no_bar_on_flat_or_blank_strips():
    assert detect_infobar(np.zeros((64, 64))) is None
    assert detect_infobar(np.full((64, 64), 255.0)) is None
    rng = np.random.default_rng(5)
    img = rng.normal(100, 10, (128, 128))
    img[100:] = 0  # a blank strip without any text is not an info bar
    assert detect_infobar(img) is None
    tall = _add_bar(rng.normal(100, 10, (128, 128)), 60, 0, 255)  # covers half the image
    assert detect_infobar(tall) is None


def test_infobar_options_in_read(tmp_path):
    import tifffile

    rng = np.random.default_rng(6)
    img = _add_bar(_particles((128, 160), 20, 7, rng, 60, 180, 8), 110, 0, 255)
    path = tmp_path / "bar.tif"
    tifffile.imwrite(path, np.clip(img, 0, 255).astype(np.uint8))
    assert read_micrograph(path).infobar_top == 110
    assert read_micrograph(path, infobar="none").infobar_top is None
    assert read_micrograph(path, infobar=100).infobar_top == 100


@pytest.mark.parametrize("folder", ["sem", "tsem"])
def test_bam_images_bar_at_712(folder):
    files = sorted((DATA / "bam-tio2" / folder).glob("*.tif"))
    if not files:
        pytest.skip("shared BAM data not available")
    assert [read_micrograph(f).infobar_top for f in files] == [712] * len(files)


# EMPS images whose crops kept the microscope's info bar (checked by eye: JEOL and Zeiss bars).
EMPS_WITH_BAR = {"2e4a3ab627.png": 487, "37ce835fb2.png": 466}


def test_emps_images_fire_only_on_real_bars():
    folder = DATA / "emps-train" / "images"
    files = sorted(folder.glob("*.png"))[:40]
    if not files:
        pytest.skip("shared EMPS data not available")
    fired = {f.name: read_micrograph(f).infobar_top for f in files}
    assert {k: v for k, v in fired.items() if v is not None and k not in EMPS_WITH_BAR} == {}
    for name, top in EMPS_WITH_BAR.items():
        assert read_micrograph(folder / name).infobar_top == top
