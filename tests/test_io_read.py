"""Reading micrographs: formats, calibration, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from nanosizer.errors import InputError
from nanosizer.io import PixelSize, expand_paths, parse_length_nm, read_micrograph

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BAM_SEM = DATA / "bam-tio2" / "sem" / "1908256.tif"


@pytest.fixture
def grey8():
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (24, 32), dtype=np.uint8)


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int16, np.float32])
def test_tiff_dtypes_keep_file_scale(tmp_path, dtype):
    rng = np.random.default_rng(0)
    data = (rng.random((20, 30)) * 1000).astype(dtype)
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, data)
    mg = read_micrograph(path, infobar="none")
    assert mg.data.dtype == np.float32 and mg.data.shape == (20, 30)
    np.testing.assert_array_equal(mg.data, data.astype(np.float32))
    assert mg.metadata["format"] == "TIFF" and mg.metadata["dtype"] == np.dtype(dtype).name
    assert mg.pixel_size == PixelSize(None, "none")


def test_tiff_palette_applies_colormap(tmp_path):
    indices = np.arange(256, dtype=np.uint8).reshape(16, 16)
    cmap = np.zeros((3, 256), dtype=np.uint16)
    cmap[:] = (255 - np.arange(256)) * 257  # inverted grey palette
    path = tmp_path / "pal.tif"
    tifffile.imwrite(path, indices, photometric="palette", colormap=cmap)
    mg = read_micrograph(path, infobar="none")
    np.testing.assert_allclose(mg.data, 255 - indices.astype(np.float32), atol=1e-4)
    assert mg.metadata["colour"] == "palette"


def test_tiff_rgb_and_rgba_to_luma(tmp_path):
    rgb = np.zeros((10, 12, 3), dtype=np.uint8)
    rgb[..., 0] = 100
    rgb[..., 1] = 200
    rgba = np.concatenate([rgb, np.full((10, 12, 1), 7, np.uint8)], axis=-1)
    expected = 0.2125 * 100 + 0.7154 * 200
    for name, arr in [("rgb.tif", rgb), ("rgba.tif", rgba)]:
        tifffile.imwrite(tmp_path / name, arr, photometric="rgb")
        mg = read_micrograph(tmp_path / name, infobar="none")
        assert mg.data.shape == (10, 12)
        np.testing.assert_allclose(mg.data, expected, rtol=1e-6)


def test_grey_stored_as_rgb_is_exact(tmp_path, grey8):
    tifffile.imwrite(tmp_path / "g.tif", np.stack([grey8] * 3, -1), photometric="rgb")
    np.testing.assert_array_equal(read_micrograph(tmp_path / "g.tif").data, grey8)


def test_multiframe_tiff_takes_first_frame(tmp_path, grey8):
    stack = np.stack([grey8, 255 - grey8, grey8 // 2])
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    mg = read_micrograph(tmp_path / "stack.tif", infobar="none")
    np.testing.assert_array_equal(mg.data, grey8)
    assert mg.metadata["frames"] == 3 and "first of 3" in mg.metadata["frame_used"]


@pytest.mark.parametrize("ext,mode", [("png", "L"), ("bmp", "L"), ("png", "I;16"),
                                      ("png", "RGB"), ("png", "RGBA"), ("bmp", "RGB")])
def test_pillow_formats_lossless(tmp_path, grey8, ext, mode):
    if mode == "I;16":
        arr = grey8.astype(np.uint16) * 250
        img = Image.fromarray(arr)
        expected = arr
    elif mode == "L":
        img, expected = Image.fromarray(grey8), grey8
    else:
        channels = 4 if mode == "RGBA" else 3
        img = Image.fromarray(np.stack([grey8] * channels, -1), mode=mode)
        expected = grey8
    path = tmp_path / f"img.{ext}"
    img.save(path)
    mg = read_micrograph(path, infobar="none")
    assert mg.metadata["format"] == ext.upper()
    np.testing.assert_array_equal(mg.data, expected.astype(np.float32))


def test_png_palette(tmp_path, grey8):
    img = Image.fromarray(grey8).convert("P")  # grey palette
    img.save(tmp_path / "p.png")
    mg = read_micrograph(tmp_path / "p.png", infobar="none")
    assert mg.metadata["colour"] == "palette"
    np.testing.assert_allclose(mg.data, grey8, atol=1e-4)


def test_jpeg_close_to_original(tmp_path):
    smooth = np.add.outer(np.arange(32), np.arange(32)).astype(np.uint8) * 3
    Image.fromarray(smooth).save(tmp_path / "a.jpg", quality=95)
    mg = read_micrograph(tmp_path / "a.jpg", infobar="none")
    assert mg.metadata["format"] == "JPEG"
    assert np.abs(mg.data - smooth).mean() < 2


def test_nan_pixels_filled_with_median(tmp_path):
    data = np.arange(100, dtype=np.float32).reshape(10, 10)
    data[0, :3] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", data)
    mg = read_micrograph(tmp_path / "nan.tif", infobar="none")
    assert np.isfinite(mg.data).all()
    assert mg.metadata["nonfinite_pixels_filled"] == 3
    np.testing.assert_allclose(mg.data[0, :3], np.median(data[np.isfinite(data)]))


def test_all_black_and_all_white_are_valid(tmp_path):
    for value in (0, 255):
        path = tmp_path / f"flat{value}.png"
        Image.fromarray(np.full((16, 16), value, np.uint8)).save(path)
        mg = read_micrograph(path)
        assert mg.data.min() == mg.data.max() == value and mg.infobar_top is None


def test_input_file_not_modified(tmp_path, grey8):
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, grey8)
    before = path.read_bytes()
    read_micrograph(path)
    assert path.read_bytes() == before


# ---------------------------------------------------------------- calibration


@pytest.mark.parametrize(
    "text,nm",
    [("7.34 nm", 7.34), ("0.5 um", 500.0), ("0.5 µm", 500.0), ("2 Å", 0.2), ("2 A", 0.2),
     ("300 pm", 0.3), ("1.5e-9 m", 1.5), ("4", 4.0), ("7.3 nm/px", 7.3)],
)
def test_parse_length_units(text, nm):
    assert parse_length_nm(text) == pytest.approx(nm)


@pytest.mark.parametrize("text", ["", "abc", "-3 nm", "0 nm", "3 furlongs"])
def test_parse_length_rejects(text):
    with pytest.raises(ValueError):
        parse_length_nm(text)


def test_user_pixel_size_wins_and_forms(tmp_path, grey8):
    path = tmp_path / "img.png"
    Image.fromarray(grey8).save(path)
    for value in ("0.5 um", 500, 500.0, PixelSize(500.0, "user")):
        mg = read_micrograph(path, pixel_size=value)
        assert mg.pixel_size.nm == pytest.approx(500.0) and mg.pixel_size.source == "user"
    with pytest.raises(InputError, match="pixel size"):
        read_micrograph(path, pixel_size="seven nm")


def test_meaningless_resolution_is_ignored(tmp_path, grey8):
    path = tmp_path / "dpi.tif"
    tifffile.imwrite(path, grey8, resolution=(72, 72), resolutionunit="INCH")
    assert not read_micrograph(path).pixel_size.calibrated


def test_imagej_calibration(tmp_path, grey8):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, grey8, imagej=True, resolution=(1 / 0.0125, 1 / 0.0125),
                     metadata={"unit": "micron"})
    mg = read_micrograph(path)
    assert mg.pixel_size.nm == pytest.approx(12.5)
    assert mg.pixel_size.source == "metadata (ImageJ)"


def test_imagej_pixel_unit_is_uncalibrated(tmp_path, grey8):
    path = tmp_path / "ijpx.tif"
    tifffile.imwrite(path, grey8, imagej=True, metadata={"unit": "pixel"})
    assert read_micrograph(path).pixel_size.source == "none"


def test_hitachi_sidecar(tmp_path, grey8):
    Image.fromarray(grey8).save(tmp_path / "s.bmp")
    (tmp_path / "s.txt").write_text("[SemImageFile]\nInstructName=S-4800\nPixelSize=2.480469\n")
    mg = read_micrograph(tmp_path / "s.bmp")
    assert mg.pixel_size.nm == pytest.approx(2.480469)
    assert mg.pixel_size.source == "metadata (Hitachi s.txt)"


def test_tescan_sidecar(tmp_path, grey8):
    tifffile.imwrite(tmp_path / "t.tif", grey8)
    (tmp_path / "t-tif.hdr").write_text("[MAIN]\r\nCompany=TESCAN\r\nPixelSizeX=4.5e-009\r\n")
    assert read_micrograph(tmp_path / "t.tif").pixel_size.nm == pytest.approx(4.5)


def test_jeol_sidecar(tmp_path, grey8):
    tifffile.imwrite(tmp_path / "j.tif", grey8)
    (tmp_path / "j.txt").write_text(
        "$CM_FORMAT JEOL/SEM\n$$SM_MICRON_BAR 200\n$$SM_MICRON_MARKER 1um\n"
    )
    assert read_micrograph(tmp_path / "j.tif").pixel_size.nm == pytest.approx(5.0)


def test_bam_zeiss_calibration_and_infobar():
    if not BAM_SEM.is_file():
        pytest.skip("shared BAM data not available")
    mg = read_micrograph(BAM_SEM)
    assert mg.shape == (768, 1024)
    assert mg.pixel_size.nm == pytest.approx(7.34375)
    assert mg.pixel_size.source == "metadata (Zeiss CZ_SEM)"
    assert mg.infobar_top == 712
    assert read_micrograph(BAM_SEM, pixel_size="7 nm").pixel_size.nm == 7.0


# ---------------------------------------------------------------- bad input


def _bad_files(tmp_path: Path, grey8) -> dict[str, Path]:
    files = {}
    files["missing"] = tmp_path / "missing.tif"
    files["empty"] = tmp_path / "empty.png"
    files["empty"].write_bytes(b"")
    files["not_image"] = tmp_path / "notes.png"
    files["not_image"].write_text("these are my notes, not an image\n" * 5)
    files["unsupported"] = tmp_path / "table.csv"
    files["unsupported"].write_text("a,b\n1,2\n")
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.tile(grey8, (4, 4)))
    raw = good.read_bytes()
    files["truncated"] = tmp_path / "truncated.tif"
    files["truncated"].write_bytes(raw[: len(raw) // 2])
    files["tiny"] = tmp_path / "tiny.tif"
    tifffile.imwrite(files["tiny"], np.zeros((1, 1), np.uint8))
    files["all_nan"] = tmp_path / "allnan.tif"
    tifffile.imwrite(files["all_nan"], np.full((10, 10), np.nan, np.float32))
    files["folder"] = tmp_path / "folder.tif"
    files["folder"].mkdir()
    return files


@pytest.mark.parametrize(
    "kind,words",
    [("missing", "no such file"), ("empty", "empty"), ("not_image", "cannot read"),
     ("unsupported", "unsupported"), ("truncated", "truncated"), ("tiny", "at least 8x8"),
     ("all_nan", "no finite pixel"), ("folder", "folder")],
)
def test_bad_input_one_line_naming_file(tmp_path, grey8, kind, words):
    path = _bad_files(tmp_path, grey8)[kind]
    with pytest.raises(InputError) as info:
        read_micrograph(path)
    message = str(info.value)
    assert path.name in message and words in message and "\n" not in message


def test_infobar_row_outside_image(tmp_path, grey8):
    Image.fromarray(grey8).save(tmp_path / "a.png")
    with pytest.raises(InputError, match="a.png"):
        read_micrograph(tmp_path / "a.png", infobar=100)
    mg = read_micrograph(tmp_path / "a.png", infobar=20)
    assert mg.infobar_top == 20 and not mg.analysis_mask[20:].any()


# ---------------------------------------------------------------- expand_paths


def test_expand_paths(tmp_path, grey8):
    for name in ("b.tif", "a.png", "c.TIFF", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.png").write_bytes(b"x")
    folder = expand_paths([str(tmp_path)])
    assert [p.name for p in folder] == ["a.png", "b.tif", "c.TIFF"]
    mixed = expand_paths([str(tmp_path / "*.png"), str(tmp_path / "a.png"), str(tmp_path)])
    assert [p.name for p in mixed] == ["a.png", "b.tif", "c.TIFF"]
    assert expand_paths([str(tmp_path / "notes.txt")])[0].name == "notes.txt"
    with pytest.raises(InputError, match="nothere.tif"):
        expand_paths([str(tmp_path / "a.png"), str(tmp_path / "nothere.tif")])
    with pytest.raises(InputError, match=r"\*.bmp"):
        expand_paths([str(tmp_path / "*.bmp")])


# ---------------------------------------------------------------- nanosizer info


def test_info_command(tmp_path, grey8, capsys):
    from nanosizer.cli.main import main

    path = tmp_path / "img.tif"
    tifffile.imwrite(path, grey8)
    assert main(["info", str(path), "--pixel-size", "0.5 um"]) == 0
    out = capsys.readouterr().out
    assert "24 x 32" in out and "500 nm; source: user" in out and "info bar:    none" in out
    assert main(["info", str(tmp_path / "gone.tif")]) == 2
    assert "gone.tif" in capsys.readouterr().err


def _write_mrc(path, data, angstrom_per_px):
    """Minimal MRC2014 file (mode 2, float32) with a cell giving the pixel size."""
    nz, ny, nx = data.shape
    header = np.zeros(256, dtype="<i4")
    header[0:4] = [nx, ny, nz, 2]
    header[7:10] = [nx, ny, nz]
    header.view("<f4")[10:13] = [nx * angstrom_per_px, ny * angstrom_per_px, nz * angstrom_per_px]
    header[16:19] = [1, 2, 3]
    header[52] = int.from_bytes(b"MAP ", "little")
    header[53] = 0x00004444
    path.write_bytes(header.tobytes() + data.astype("<f4").tobytes())


def test_mrc_through_rosettasciio(tmp_path):
    stack = np.arange(3 * 12 * 16, dtype=np.float32).reshape(3, 12, 16)
    _write_mrc(tmp_path / "one.mrc", stack[:1], 5.0)
    mg = read_micrograph(tmp_path / "one.mrc", infobar="none")
    np.testing.assert_array_equal(mg.data, stack[0])
    assert mg.pixel_size == PixelSize(0.5, "metadata (MRC)")
    _write_mrc(tmp_path / "stack.mrc", stack, 5.0)
    mg = read_micrograph(tmp_path / "stack.mrc", infobar="none")
    np.testing.assert_array_equal(mg.data, stack[0])
    assert mg.metadata["frames"] == 3


@pytest.mark.parametrize("unit, factor", [("nm", 1.0), ("um", 1e3), ("\\u00B5m", 1e3), ("micron", 1e3)])
def test_imagej_any_length_unit(tmp_path, grey8, unit, factor):
    path = tmp_path / "ij_unit.tif"
    tifffile.imwrite(path, grey8, imagej=True, resolution=(0.4, 0.4), metadata={"unit": unit})
    assert read_micrograph(path).pixel_size.nm == pytest.approx(2.5 * factor)


def test_info_on_rgb_says_what_the_grey_range_is_of(tmp_path, capsys):
    from PIL import Image

    from nanosizer.cli.main import main

    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[4:12, 4:12] = (255, 200, 10)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert main(["info", str(tmp_path / "rgb.png")]) == 0
    out = capsys.readouterr().out
    grey = 0.2125 * 255 + 0.7154 * 200 + 0.0721 * 10
    assert "dtype:       uint8 RGB, converted to grey (0.2125 R + 0.7154 G + 0.0721 B" in out
    assert f"grey range:  0 .. {np.float32(grey):g} (of the converted grey image" in out


def test_bare_pixel_size_is_nm_and_says_so(tmp_path, grey8, capsys):
    from nanosizer.cli.main import main

    path = tmp_path / "img.tif"
    tifffile.imwrite(path, grey8)
    assert read_micrograph(path, pixel_size="0.5").pixel_size.source == (
        "user (no unit: taken as nm)")
    assert read_micrograph(path, pixel_size="0.5 um").pixel_size.source == "user"
    assert main(["info", str(path), "--pixel-size", "0.5"]) == 0
    assert "0.5 nm; source: user (no unit: taken as nm)" in capsys.readouterr().out
    for command in ("analyze", "info", "evaluate", "compare", "synth"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "bare number is" in " ".join(capsys.readouterr().out.split()), command
