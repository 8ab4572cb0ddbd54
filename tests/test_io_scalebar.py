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


def _near(bars, length: float, rel: float = 0.2):
    """Candidates whose length is within ``rel`` of ``length``."""
    return [b for b in bars if abs(b.length_px / length - 1) <= rel]


@pytest.mark.parametrize("x0", [60.0, 60.25, 60.5, 60.8])
def test_framed_bar_is_measured_outside_not_on_its_hollow(x0):
    img = _canvas(0.0)
    _bar(img, x0, 80.3, 120, 6, "framed", 255)  # 1-px outline, sub-pixel ends
    bars = find_bars(img)
    assert bars[0].style == "framed"
    assert bars[0].length_px == pytest.approx(80.3, abs=0.05)
    assert [b.style for b in _near(bars, 80.3)] == ["framed"]  # not the 78-px hollow


def test_framed_bar_on_a_patch_of_its_hollow_grey():
    img = _canvas(120.0)
    img[100:150, 40:190] = 0.0  # the frame's ground is a black patch, like its hollow
    _bar(img, 60.4, 100.0, 118, 7, "framed", 255)
    bars = find_bars(img)
    assert bars[0].style == "framed"
    assert bars[0].length_px == pytest.approx(100.0, abs=0.05)
    assert len(_near(bars, 100.0)) == 1


@pytest.mark.parametrize("x0", [50.0, 50.25, 50.5, 50.75])
def test_thin_anti_aliased_end_ticks_are_measured_between_centres(x0):
    img = _canvas(0.0)
    _bar(img, x0, 60.3, 120, 3, "ticks", 255)  # 2-px ticks centred on the bar's ends
    bar = find_bars(img)[0]
    assert bar.style == "ticks"
    assert bar.length_px == pytest.approx(60.3, abs=0.05)


def test_bar_inside_a_box_is_measured_not_the_box():
    img = _canvas(128.0)
    img[100:150, 40:190] = 0.0  # a dark box behind a light bar
    _bar(img, 60.3, 110.0, 130, 6, "solid", 255)
    bars = find_bars(img)
    assert bars[0].polarity == "light"
    assert bars[0].length_px == pytest.approx(110.0, abs=0.05)
    assert not _near(bars, 150.0, 0.05)  # no part of the box is taken as a bar


def _disc(img: np.ndarray, row: float, col: float, radius: float, value: float) -> None:
    rr, cc = np.mgrid[:img.shape[0], :img.shape[1]]
    img[(rr - row) ** 2 + (cc - col) ** 2 <= radius**2] = value


def test_particle_touching_an_end_refuses_the_bar():
    img = _canvas(30.0)
    _bar(img, 60.0, 100.0, 120, 5, "solid", 250)
    _disc(img, 118, 160, 6, 220)  # a bright particle on the right end
    assert not _near(find_bars(img), 100.0)  # no length, rather than a wrong one


def test_tick_merged_with_a_particle_refuses_the_bar():
    img = _canvas(0.0)
    _bar(img, 50.0, 80.0, 120, 3, "ticks", 255)
    _disc(img, 133, 131, 5, 255)  # touches the lower half of the right tick
    assert not _near(find_bars(img), 80.0)


def test_bracket_with_ticks_on_one_side_is_refused():
    img = _canvas(0.0)
    img[130:133, 50:130] = 255.0  # |___| : ticks stand up only
    img[118:133, 50:52] = 255.0
    img[118:133, 128:130] = 255.0
    assert not _near(find_bars(img), 79.0)  # centres (78) or outer ends (80): not known


def test_blurred_bar_keeps_its_length():
    from scipy import ndimage as ndi

    img = _canvas(20.0)
    _bar(img, 40.3, 100.4, 120, 6, "solid", 240)
    bar = find_bars(ndi.gaussian_filter(img, 1.0))[0]
    assert bar.length_px == pytest.approx(100.4, abs=0.1)


def test_bar_just_inside_a_dark_info_bar_is_read():
    img = _canvas(200.0)  # the image above, bright
    img[100:, :] = 0.0  # the info bar, from row 100
    _bar(img, 60.2, 80.0, 103, 5, "solid", 255)  # two rows below the info bar's edge
    bar = find_bars(img)[0]
    assert bar.length_px == pytest.approx(80.0, abs=0.05)


def test_ringing_line_along_a_dark_bar_is_not_a_candidate():
    img = _canvas(220.0)
    _bar(img, 40.0, 65.6, 100, 12, "solid", 0)
    img[97:99, 39:106] = 255.0  # the bright ring of a JPEG-compressed bar
    img[113:115, 39:106] = 255.0
    bars = find_bars(img)
    assert [b.polarity for b in _near(bars, 65.6)] == ["dark"]
    assert bars[0].length_px == pytest.approx(65.6, abs=0.05)


def test_textured_ground_at_an_end_does_not_move_it():
    rng = np.random.default_rng(1)
    img = rng.normal(140.0, 6.0, (200, 300))
    img[118:126, 37:40] = 180.0  # brighter ground right beyond the left end
    img[118:126, 40:100] = 255.0  # bar from column 39.5 to 99.5
    bar = find_bars(img)[0]
    assert bar.x0 == pytest.approx(39.5, abs=0.15)
    assert bar.length_px == pytest.approx(60.0, abs=0.25)


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


def _test_bar():
    from nanosizer.io._bar import BarCandidate

    return BarCandidate(100, 104, 50, 150, 49.5, 149.5, 101.5, 4, "light", "solid")


def _text(text: str, score: float, top: float = 80.0, left: float = 80.0) -> "TextBox":
    from nanosizer.io._ocr import TextBox

    return TextBox(text, score, top, left, top + 14.0, left + 8.0 * len(text))


def _label_read(monkeypatch, readings: list[list]) -> tuple | None:
    """``_read_label`` of a bar whose surroundings read as ``readings`` in turn."""
    from nanosizer.io import _scalebar

    turns = iter(readings)
    monkeypatch.setattr(_scalebar, "_texts_near", lambda *args, **kw: next(turns, []))
    return _scalebar._read_label(_test_bar(), np.zeros((200, 300), np.uint8))


def test_confident_label_is_read_at_once(monkeypatch):
    found = _label_read(monkeypatch, [[_text("200 nm", 0.99)]])
    assert found is not None and found[0] == (200.0, "200 nm")


def test_unsure_label_needs_another_reading_that_agrees(monkeypatch):
    assert _label_read(monkeypatch, [[_text("200 nm", 0.85)], [], [], []]) is None
    found = _label_read(monkeypatch, [[_text("200 nm", 0.85)], [_text("200nm", 0.6)]])
    assert found[0] == (200.0, "200 nm")
    three = [[_text("1.0 um", 0.6)], [_text("1.0 um", 0.7)], [_text("1.0 um", 0.55)]]
    assert _label_read(monkeypatch, three)[0] == (1000.0, "1.0 µm")  # serif µ, low scores


def test_label_read_two_ways_leaves_the_bar_unread(monkeypatch):
    readings = [[_text("500 nm", 0.9)], [_text("500 um", 0.9)]]
    assert _label_read(monkeypatch, readings) is None


def test_label_in_mm_is_never_taken_from_one_reading(monkeypatch):
    assert _label_read(monkeypatch, [[_text("50 mm", 0.99)], [], [], []]) is None
    readings = [[_text("50 mm", 0.81)], [_text("50 mm", 0.89)], [_text("50 nm", 0.91)],
                [_text("50 nm", 0.92)]]  # OCR made "mm" of "nm": unsure mm is no label
    assert _label_read(monkeypatch, readings)[0] == (50.0, "50 nm")


def test_number_and_unit_read_apart_are_joined():
    from nanosizer.io._scalebar import _label_of

    number, unit = _text("3", 1.0, left=80.0), _text("µm", 0.95, left=80.0 + 8 + 20)
    found = _label_of(_test_bar(), [number, unit])  # 20 px apart: 1.4 text heights
    assert found is not None and found[0] == (3000.0, "3 µm")


def test_crop_widens_where_text_reaches_its_edge():
    from nanosizer.io._scalebar import _widened

    box = (40, 100, 160, 300)
    assert _widened(box, [_text("200 n", 0.9, top=60, left=255)], (400, 600)) == \
        (40, 100, 160, 400)  # "200 n" ends 5 px (0.4 text heights) from the right edge
    assert _widened(box, [_text("x", 0.9, top=60, left=150)], (400, 600)) == box
    assert _widened((0, 0, 160, 300), [_text("2", 0.9, top=1, left=1)], (400, 600)) == \
        (0, 0, 160, 300)  # the image border: nothing to widen


def test_synthetic_bar_is_drawn_only_where_it_is_legible():
    from nanosizer.synth._scalebar import _legible

    img = np.full((200, 300), 40, np.uint8)
    assert _legible(img, (100, 105), 50.0, 100.0) == ["light"]
    img[95:110, 146:160] = 230  # a bright particle at the right end
    assert _legible(img, (100, 105), 50.0, 100.0) == []  # drawn on a patch instead


@pytest.mark.parametrize("seed", range(12))
def test_every_synthetic_bar_is_found_and_measured(seed):
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(90, 12, (320, 320)), 0, 255).astype(np.uint8)
    for _ in range(25):  # particles, some of them where the bar may go
        _disc(img, *rng.uniform(0, 320, 2), rng.uniform(4, 12), int(rng.integers(0, 256)))
    out, truth = draw_scale_bar(img, 1.5, rng)
    bars = _near(find_bars(out), truth.length_px, 0.01)
    assert [b.style for b in bars] == [truth.style]
    assert bars[0].length_px == pytest.approx(truth.length_px, rel=5e-3)  # 1 % is the goal


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
    mg = read_micrograph(path)  # default "auto": no --pixel-size, no metadata
    assert mg.pixel_size.nm == pytest.approx(200 / 120, rel=1e-5)
    assert mg.pixel_size.source == 'scale bar ("200 nm" = 120.00 px)'
    assert mg.metadata["scale_bar"]["status"] == "read"
    off = read_micrograph(path, scale_bar="none")
    assert off.pixel_size.nm is None and off.scale_bar is None


def test_auto_reads_no_bar_when_the_pixel_size_is_known(tmp_path):
    from nanosizer.synth._writer import png_calibration

    path = tmp_path / "calibrated.png"
    Image.fromarray(_labelled("200 nm", 120).astype(np.uint8)).save(
        path, pnginfo=png_calibration(2.5))
    mg = read_micrograph(path)
    assert mg.pixel_size.nm == 2.5 and mg.scale_bar is None
    assert mg.metadata["scale_bar"]["status"] == "not looked for (pixel size known)"
    user = read_micrograph(tmp_path / "calibrated.png", pixel_size="3 nm")
    assert user.pixel_size.nm == 3.0 and user.scale_bar is None


def test_always_reads_the_bar_of_a_calibrated_image_and_checks_it(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from nanosizer.synth._writer import png_calibration

    path = tmp_path / "calibrated.png"
    Image.fromarray(_labelled("200 nm", 120).astype(np.uint8)).save(
        path, pnginfo=png_calibration(2.5))
    mg = read_micrograph(path, scale_bar="always")
    assert mg.pixel_size.nm == 2.5 and mg.scale_bar.read  # the metadata wins
    assert "calibration_warning" in mg.metadata  # 1.667 nm/px from the bar: 33 % apart
    assert not mg.analysis_mask[260:268, 250:370].any()


def test_unknown_scale_bar_mode_is_refused(tmp_path):
    from nanosizer.errors import InputError

    path = tmp_path / "bar.png"
    Image.fromarray(_labelled().astype(np.uint8)).save(path)
    with pytest.raises(InputError, match="'auto', 'always' or 'none'"):
        read_micrograph(path, scale_bar="yes")


def test_bam_frames_saved_without_metadata_give_7_34_nm(shared_data, tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    for tif in sorted((shared_data / "bam-tio2" / "sem").glob("*.tif"))[:1]:
        png = tmp_path / f"{tif.stem}.png"
        Image.open(tif).convert("L").save(png)
        mg = read_micrograph(png, scale_bar="auto")
        assert mg.pixel_size.source.startswith("scale bar")
        assert mg.pixel_size.nm == pytest.approx(7.34375, rel=0.01)
        assert read_micrograph(tif).pixel_size.source.startswith("metadata")


def test_analyze_overlay_marks_the_bar_it_read(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from nanosizer import analyze
    from nanosizer.pipeline.config import AnalyzeConfig
    from nanosizer.report.overlay import _BAR_COLOUR

    img = _labelled("200 nm", 120)
    img[60:90, 60:90] = 200.0  # one particle
    Image.fromarray(img.astype(np.uint8)).save(tmp_path / "bar.png")
    analyze([tmp_path / "bar.png"], tmp_path / "out", AnalyzeConfig(method="classical"))
    rgb = np.asarray(Image.open(tmp_path / "out" / "overlays" / "bar.png"))
    marked = np.all(rgb == _BAR_COLOUR, axis=-1)
    assert marked[258, 248:372].all() and marked[269, 248:372].all()  # bar frame
    assert not marked[100:220].any()  # nothing else is magenta
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "&quot;200 nm&quot; = 120.00 px → 1.667 nm/px" in html
