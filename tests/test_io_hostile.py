"""Files that lie in their headers, are cut short or hold a thumbnail first; unreadable paths."""

from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image

from nanosizer.errors import InputError
from nanosizer.io import expand_paths, read_micrograph

from helpers import draw_discs


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _short_png(path, rows_declared: int, rows_held: int, width: int = 40) -> None:
    """A grey PNG whose header declares ``rows_declared`` rows and whose (valid) data has fewer."""
    image = draw_discs((rows_held, width), [(10, 10, 5)])
    raw = b"".join(b"\x00" + image[i].tobytes() for i in range(rows_held))
    header = struct.pack(">IIBBBBB", width, rows_declared, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                     + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def test_tiff_header_declaring_a_huge_width_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8))
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].tags["ImageWidth"].valueoffset
    data[offset:offset + 4] = struct.pack("<I", 4294967295)
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"huge.tif: the image is 4294967295 x 64 px .* above "
                                         r"the limit of 268435456 px; crop or bin it"):
        read_micrograph(path)
    assert time.perf_counter() - start < 2


def test_pixel_limit_applies_to_png_and_can_be_raised_or_lifted(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(draw_discs((30, 40), [(15, 20, 6)])).save(path)
    with pytest.raises(InputError, match=r"a.png: the image is 40 x 30 px \(1200 px\), above the "
                                         r"limit of 1000 px.*--max-pixels"):
        read_micrograph(path, max_pixels=1000)
    assert read_micrograph(path, max_pixels=1200).shape == (30, 40)
    assert read_micrograph(path, max_pixels=None).shape == (30, 40)


def test_png_with_missing_rows_is_refused(tmp_path):
    path = tmp_path / "short.png"
    _short_png(path, 200, 51)
    with pytest.raises(InputError, match="short.png: the PNG is truncated: its header declares "
                                         "200 rows but the file holds only 51; copy"):
        read_micrograph(path)
    _short_png(path, 51, 51)
    assert read_micrograph(path).shape == (51, 40)


def test_png_cut_in_the_middle_is_refused(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(InputError, match="cut.png: cannot read it as PNG .*truncated"):
        read_micrograph(path)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
def test_complete_pngs_of_every_mode_pass_the_check(mode, tmp_path):
    grey = draw_discs((33, 27), [(16, 13, 7)])
    image = Image.fromarray(grey).convert("RGB").convert(mode) if mode != "I;16" else (
        Image.fromarray(grey.astype(np.uint16) * 257))
    path = tmp_path / "ok.png"
    image.save(path)
    assert read_micrograph(path).shape == (33, 27)


def test_tiff_whose_first_page_is_a_thumbnail_reads_the_largest_page(tmp_path):
    path = tmp_path / "thumb.tif"
    big = draw_discs((80, 64), [(40, 30, 10)])
    tifffile.imwrite(path, big[::5, ::4])
    tifffile.imwrite(path, big, append=True)
    mg = read_micrograph(path)
    assert mg.shape == (80, 64)
    np.testing.assert_array_equal(mg.data, big.astype(np.float32))
    assert mg.metadata["page_used"].startswith("image 2 of 2 (16 x 16, 64 x 80 px)")
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.stack([big, big // 2]))
    mg = read_micrograph(stack)
    assert "page_used" not in mg.metadata and mg.metadata["frame_used"] == "first of 2 frames"
    np.testing.assert_array_equal(mg.data, big.astype(np.float32))


def test_unreadable_file_and_folder_are_one_line_errors(tmp_path, monkeypatch):
    # Simulated: the tests may run as root, for whom permissions are not enforced.
    from pathlib import Path

    from nanosizer.io import _read

    path = tmp_path / "a.tif"
    tifffile.imwrite(path, draw_discs((32, 32), [(16, 16, 6)]))

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_read, "decode", denied)
    with pytest.raises(InputError, match=r"a.tif: permission denied; make the file readable"):
        read_micrograph(path)
    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(InputError, match=rf"{tmp_path}: permission denied .*make it readable"):
        expand_paths([str(tmp_path)])
