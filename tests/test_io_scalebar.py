"""Scale-bar finder, label parser and the scale bar as a calibration source."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from nanosizer.io import (
    Micrograph,
    PixelSize,
    ScaleBar,
    parse_scale_label,
    read_micrograph,
    read_scale_bar,
)
from nanosizer.io._bar import find_bars
from nanosizer.io._read import choose_pixel_size
from nanosizer.synth._scalebar import _bar, draw_scale_bar


def _canvas(value: float = 40.0, shape=(200, 300)) -> np.ndarray:
    return np.full(shape, value)


def test_solid_bar_length_is_its_pixel_extent():
    img = _canvas()
    img[150:156, 40:140] = 250.0  # columns 40..139: 100 px
    bar = find_bars(img)[0]
    assert bar.style == "solid" and bar.polarity == "light"
    assert bar.length_px == pytest.approx(100.0, abs=1e-9)
    assert (bar.top, bar.bottom, bar.left, bar.right) == (150, 156, 40, 140)


@pytest.mark.parametrize("length", [57.3, 100.75, 141.5])
def test_antialiased_bar_is_measured_to_sub_pixel_precision(length):
    img = _canvas(230.0)
    _bar(img, 30.4, length, 150, 5, "solid", 10)  # dark bar on light ground
    bar = find_bars(img)[0]
    assert bar.polarity == "dark"
    assert bar.length_px == pytest.approx(length, abs=0.02)


def test_bar_with_end_ticks_is_measured_between_tick_centres():
    img = _canvas(0.0)
    img[140:142, 50:80] = 255  # Zeiss-style bar: 2-px ticks at columns 50-51 and 78-79
    img[130:152, 50:52] = 255
    img[130:152, 78:80] = 255
    bar = find_bars(img)[0]
    assert bar.style == "ticks"
    assert bar.length_px == pytest.approx(28.0, abs=1e-6)  # 50.5 -> 78.5


def test_framed_bar_is_one_candidate():
    img = _canvas(0.0)
    _bar(img, 60.0, 80.0, 120, 6, "framed", 255)
    bar = find_bars(img)[0]
    assert bar.style == "framed"
    assert bar.length_px == pytest.approx(80.0, abs=0.02)


def test_no_bar_in_noise_and_input_is_not_modified():
    rng = np.random.default_rng(0)
    img = rng.normal(120, 20, (120, 160))
    before = img.copy()
    assert all(b.length_px < 40 for b in find_bars(img))
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("text, nm, label", [
    ("200 nm", 200.0, "200 nm"), ("0,5 µm", 500.0, "0.5 µm"), ("1um", 1000.0, "1 µm"),
    ("2.5 mm", 2.5e6, "2.5 mm"), ("10 NM", 10.0, "10 nm"), ("1 μm", 1000.0, "1 µm"),
])
def test_labels_are_parsed(text, nm, label):
    assert parse_scale_label(text) == (nm, label)


@pytest.mark.parametrize("text", ["WD = 2.8 mm", "200", "nm", "2001 nm", "0 nm", "200 kV",
                                  "50.00 K X", "200rm"])
def test_non_labels_are_refused(text):
    assert parse_scale_label(text) is None


def _labelled(text: str = "200 nm", length: int = 120) -> np.ndarray:
    img = Image.new("L", (400, 300), 30)
    draw = ImageDraw.Draw(img)
    draw.rectangle([250, 260, 250 + length - 1, 267], fill=255)
    font = ImageFont.load_default(size=22)
    draw.text((265, 228), text, fill=255, font=font)
    return np.asarray(img, dtype=np.float64)


def test_labelled_bar_is_read():
    pytest.importorskip("rapidocr_onnxruntime")
    img = _labelled("200 nm", 120)
    reading = read_scale_bar(img)
    assert reading.read, reading.status
    assert reading.label == "200 nm"
    assert reading.bar.length_px == pytest.approx(120.0, abs=1e-6)
    assert reading.pixel_size_nm == pytest.approx(200 / 120, rel=1e-5)
    text_rows, text_cols = np.nonzero(img[:258] > 128)
    top, left, bottom, right = reading.region  # covers the bar and every pixel of its label
    assert top <= text_rows.min() and left <= 250 and bottom >= 268
    assert right >= max(370, text_cols.max() + 1)


def test_unlabelled_bar_is_not_a_reading():
    pytest.importorskip("rapidocr_onnxruntime")
    img = _canvas(30.0, (300, 400))
    img[260:268, 250:370] = 255
    reading = read_scale_bar(img)
    assert not reading.read and reading.pixel_size_nm is None
    assert reading.status.startswith("no label")
    assert "not read" in reading.describe()


def test_blank_image_has_no_bar():
    reading = read_scale_bar(np.zeros((64, 64)))
    assert reading.status == "no scale bar found" and reading.region is None


def test_synthetic_true_bar_is_read_within_one_percent():
    pytest.importorskip("rapidocr_onnxruntime")
    rng = np.random.default_rng(3)
    img = np.full((512, 512), 60, np.uint8)
    img, truth = draw_scale_bar(img, 1.7, rng)
    assert truth.length_px == pytest.approx(truth.length_nm / 1.7)
    reading = read_scale_bar(img)
    assert reading.read, reading.status
    assert reading.pixel_size_nm == pytest.approx(1.7, rel=0.01)


def _reading(nm_per_px: float) -> ScaleBar:
    from nanosizer.io._bar import BarCandidate

    bar = BarCandidate(10, 14, 10, 110, 9.5, 109.5, 11.5, 4, "light", "solid")
    return ScaleBar("read", bar, "x nm", nm_per_px * 100.0, (0, 10, 8, 60), 1)


def test_source_order_user_metadata_bar_none():
    bar = _reading(2.0)
    meta: dict = {}
    assert choose_pixel_size(None, None, bar, meta).source.startswith("scale bar")
    assert choose_pixel_size(None, None, bar, meta).nm == pytest.approx(2.0)
    assert choose_pixel_size(None, PixelSize(2.01, "metadata (x)"), bar, meta).nm == 2.01
    assert choose_pixel_size(PixelSize(3.0, "user"), PixelSize(2.01, "m"), bar, meta).nm == 3.0
    assert "calibration_warning" not in meta  # 0.5 % apart
    assert choose_pixel_size(None, None, None, {}).nm is None


def test_disagreement_over_two_percent_warns_with_both_values():
    meta: dict = {}
    size = choose_pixel_size(None, PixelSize(7.34375, "metadata (Zeiss)"), _reading(7.6), meta)
    assert size.nm == 7.34375
    assert "7.34375" in meta["calibration_warning"] and "7.6" in meta["calibration_warning"]


def test_read_bar_is_left_out_of_the_analysis_mask():
    mask = Micrograph(np.zeros((40, 120), np.float32), scale_bar=_reading(1.0)).analysis_mask
    assert not mask[0:16, 8:112].any() and mask[20:, :].all()


def test_png_without_metadata_is_calibrated_by_its_bar(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    path = tmp_path / "bar.png"
    Image.fromarray(_labelled("200 nm", 120).astype(np.uint8)).save(path)
    assert read_micrograph(path).pixel_size.nm is None  # reading bars is opt-in
    mg = read_micrograph(path, scale_bar="auto")
    assert mg.pixel_size.nm == pytest.approx(200 / 120, rel=1e-5)
    assert mg.pixel_size.source == 'scale bar ("200 nm" = 120.00 px)'
    assert mg.metadata["scale_bar"]["status"] == "read"
    off = read_micrograph(path, scale_bar="none")
    assert off.pixel_size.nm is None and off.scale_bar is None


def test_bam_frames_saved_without_metadata_give_7_34_nm(shared_data, tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    for tif in sorted((shared_data / "bam-tio2" / "sem").glob("*.tif"))[:1]:
        png = tmp_path / f"{tif.stem}.png"
        Image.open(tif).convert("L").save(png)
        mg = read_micrograph(png, scale_bar="auto")
        assert mg.pixel_size.source.startswith("scale bar")
        assert mg.pixel_size.nm == pytest.approx(7.34375, rel=0.01)
        assert read_micrograph(tif).pixel_size.source.startswith("metadata")
