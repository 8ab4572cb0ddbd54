"""Decoders: one function per file family, returning raw pixels, calibration and facts.

Each ``decode_*`` function returns ``(pixels, pixel_size_or_None, metadata)``; ``pixels`` may
still be colour or a stack (see :func:`nanosizer.io._grey.to_grey_float32`).  Decoding errors
propagate; :func:`nanosizer.io.read_micrograph` turns them into one-line InputErrors.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._calibration import PixelSize
from ._grey import palette_to_grey
from ._metadata import calibration_from_axes, calibration_from_tescan_text

__all__ = ["DEFAULT_MAX_PIXELS", "FORMATS", "IMAGE_EXTENSIONS", "PNG_PIXEL_SIZE_KEY",
           "check_pixel_count", "decode"]

#: Largest image (height x width) read by default: 2**28 px (16384 x 16384).  Analysis needs
#: about 50 bytes per pixel, so this fits a machine with 24 GB of memory.
DEFAULT_MAX_PIXELS = 2**28

#: PNG text chunk holding the pixel size in nm (written by ``nanosizer synth``).  Only this
#: chunk is read: a PNG's pHYs "resolution" is usually a screen dpi, not a calibration.
PNG_PIXEL_SIZE_KEY = "pixel_size_nm"

# Extension -> (format name, decoder name).  EM formats go through RosettaSciIO plugins.
FORMATS: dict[str, tuple[str, str]] = {
    ".tif": ("TIFF", "tiff"),
    ".tiff": ("TIFF", "tiff"),
    ".png": ("PNG", "pillow"),
    ".jpg": ("JPEG", "pillow"),
    ".jpeg": ("JPEG", "pillow"),
    ".bmp": ("BMP", "pillow"),
    ".dm3": ("DM3", "rsciio:digitalmicrograph"),
    ".dm4": ("DM4", "rsciio:digitalmicrograph"),
    ".emd": ("EMD", "rsciio:emd"),
    ".ser": ("SER", "rsciio:tia"),
    ".mrc": ("MRC", "rsciio:mrc"),
}
IMAGE_EXTENSIONS = frozenset(FORMATS)

# TIFF tag numbers of DigitalMicrograph-written TIFFs (as RosettaSciIO checks them).
_DM_TAGS = {65003, 65004, 65005, 65009, 65010, 65011, 65006, 65007, 65008, 65012, 65022}
_TESCAN_TAG = 50431


def check_pixel_count(path: Path, height: int, width: int, max_pixels: int | None) -> None:
    """InputError when a ``height`` x ``width`` image is above ``max_pixels`` (None: no limit).

    Examples
    --------
    >>> check_pixel_count(Path("a.tif"), 100, 100, 10**4)
    >>> check_pixel_count(Path("a.tif"), 100, 101, 10**4)
    Traceback (most recent call last):
    ...
    nanosizer.errors.InputError: a.tif: the image is 101 x 100 px (10100 px), above the limit of 10000 px; crop or bin it, or raise --max-pixels if the machine has about 50 bytes of memory per pixel
    """
    if max_pixels is None or int(height) * int(width) <= max_pixels:
        return
    raise InputError(
        f"{path}: the image is {width} x {height} px ({int(height) * int(width)} px), above the "
        f"limit of {max_pixels} px; crop or bin it, or raise --max-pixels if the machine has "
        "about 50 bytes of memory per pixel"
    )


def decode(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS,
           ) -> tuple[np.ndarray, PixelSize | None, dict]:
    """Decode ``path`` according to its extension (see :data:`FORMATS`).

    TIFF, PNG, JPEG and BMP images larger than ``max_pixels`` are refused from their header,
    before any pixel is decoded; the EM formats after decoding.
    """
    fmt, decoder = FORMATS[path.suffix.lower()]
    if decoder == "tiff":
        pixels, pixel_size, meta = decode_tiff(path, max_pixels)
    elif decoder == "pillow":
        pixels, pixel_size, meta = decode_pillow(path, max_pixels)
    else:
        pixels, pixel_size, meta = decode_rsciio(path, decoder.split(":", 1)[1], fmt)
        check_pixel_count(path, *pixels.shape[:2], max_pixels)
    return pixels, pixel_size, {"format": fmt, **meta}


def _largest_series(tif, path: Path, meta: dict):
    """The series whose first page has the most pixels (a first-page thumbnail is skipped)."""
    sizes = [(s.pages[0].imagelength, s.pages[0].imagewidth) for s in tif.series]
    if not sizes:
        raise ValueError("no image found in it")
    best = max(range(len(sizes)), key=lambda i: (sizes[i][0] * sizes[i][1], -i))
    if best != 0:
        listed = ", ".join(f"{w} x {h}" for h, w in sizes)
        meta["page_used"] = (f"image {best + 1} of {len(sizes)} ({listed} px): the largest, "
                             "not the first (a thumbnail)")
    return tif.series[best]


@contextlib.contextmanager
def _quiet_tifffile():
    """tifffile's log warnings off (a damaged file's reason is reported once, as InputError)."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def decode_tiff(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                ) -> tuple[np.ndarray, PixelSize | None, dict]:
    """Pixels of the largest image of a TIFF via tifffile; calibration via RosettaSciIO.

    A TIFF can hold several images of different sizes (a 16 x 16 thumbnail first, then the
    micrograph): the largest is read (``metadata["page_used"]`` says so), the first when
    they have the same size.  Palette images are mapped through their colour map
    (RosettaSciIO would return indices), MinIsWhite images are inverted, and grey+alpha keeps
    the grey channel.
    """
    import tifffile

    with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
        meta: dict = {}
        series = _largest_series(tif, path, meta)
        page = series.pages[0]
        check_pixel_count(path, page.imagelength, page.imagewidth, max_pixels)
        data = page.asarray()
        meta["dtype"] = str(data.dtype)
        frames = int(np.prod(series.shape) // max(1, np.prod(page.shape)))
        if frames > 1:
            meta["frames"] = frames
            meta["frame_used"] = f"first of {frames} frames"
        photometric = page.photometric
        if photometric == tifffile.PHOTOMETRIC.PALETTE and page.colormap is not None:
            data = palette_to_grey(data, page.colormap, page.bitspersample)
            meta["colour"] = "palette"
        elif photometric == tifffile.PHOTOMETRIC.MINISWHITE and data.dtype.kind in "ui":
            data = (2 ** page.bitspersample - 1) - data.astype(np.int64)
            meta["inverted"] = "MinIsWhite"
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and data.ndim == 3:
            data = np.moveaxis(data, 0, -1)
        if data.ndim == 3 and data.shape[-1] == 2:  # grey + alpha
            data = data[..., 0]
        vendor = _tiff_vendor(tif, page)
        imagej = _imagej_calibration(tif, page) if vendor == "ImageJ" else None
        tescan = page.tags.get(_TESCAN_TAG)
        tescan_text = _tag_text(tescan.value) if tescan is not None else None
    if vendor is not None:
        meta["vendor"] = vendor
    if tescan_text is not None:
        meta["vendor"] = "TESCAN"
        return data, calibration_from_tescan_text(tescan_text, "metadata (TESCAN)"), meta
    if vendor is None:
        return data, None, meta
    if imagej is not None:
        return data, imagej, meta
    return data, _rsciio_tiff_calibration(path, vendor, meta), meta


def _tiff_vendor(tif, page) -> str | None:
    """Name of the metadata flavour RosettaSciIO can calibrate from, or None."""
    tags = page.tags
    if "CZ_SEM" in tags:
        return "Zeiss CZ_SEM"
    if tif.is_fei:
        return "FEI/Thermo"
    if "SightX_Notes" in tags:
        return "JEOL SightX"
    if tif.is_sis:
        return "Olympus SIS"
    if tif.is_tvips:
        return "TVIPS"
    if any(code in tags for code in _DM_TAGS):
        return "DigitalMicrograph"
    if tif.is_imagej:
        return "ImageJ"
    return None


def _imagej_calibration(tif, page) -> PixelSize | None:
    """Pixel size from an ImageJ TIFF: ``unit=`` in its description and the X resolution.

    RosettaSciIO only recognises a few ImageJ unit spellings ("micron"); Fiji writes any length
    unit there ("nm", "µm", "um", ...), so read it directly.
    """
    from ._metadata import unit_to_nm

    unit = (tif.imagej_metadata or {}).get("unit")
    if isinstance(unit, str):  # ImageJ writes non-ASCII units escaped, e.g. "\\u00B5m"
        unit = unit.replace("\\u00B5", "µ").replace("\\u00b5", "µ")
    factor = unit_to_nm(unit if isinstance(unit, str) else None)
    xres = page.tags.get("XResolution")
    if factor is None or xres is None:
        return None
    num, den = xres.value
    if not num or not den:
        return None
    nm = den / num * factor
    return PixelSize(float(f"{nm:.10g}"), "metadata (ImageJ)") if nm > 0 else None


def _rsciio_tiff_calibration(path: Path, vendor: str, meta: dict) -> PixelSize | None:
    from rsciio.tiff import file_reader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signals = file_reader(str(path))
    except Exception as exc:  # noqa: BLE001 - calibration is optional; pixels were read
        meta["calibration_error"] = f"{type(exc).__name__}: {exc}"
        return None
    return calibration_from_axes(signals[0]["axes"], f"metadata ({vendor})")


def _tag_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _open_pillow(path: Path):
    """``Image.open`` without Pillow's own decompression-bomb limit (``max_pixels`` rules)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def decode_pillow(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                  ) -> tuple[np.ndarray, PixelSize | None, dict]:
    """PNG, JPEG and BMP through Pillow; palettes are applied, colour is kept for later.

    A PNG whose pixel data ends before the rows its header declares is refused (Pillow
    would fill the missing rows with zeros).
    """
    with _open_pillow(path) as img:
        check_pixel_count(path, img.height, img.width, max_pixels)
        img.load()
        if img.format == "PNG":
            _check_png_complete(path)
        info = dict(img.info)
        meta = {"mode": img.mode}
        if getattr(img, "n_frames", 1) > 1:
            meta["frames"] = img.n_frames
            meta["frame_used"] = f"first of {img.n_frames} frames"
        mode = img.mode
        if mode == "1":
            data = np.asarray(img.convert("L"))
        elif mode in ("L", "I", "F") or mode.startswith("I;16"):
            data = np.asarray(img)
        elif mode in ("LA", "La"):
            data = np.asarray(img)[..., 0]
        elif mode in ("P", "PA"):
            data = np.asarray(img.convert("RGBA" if mode == "PA" else "RGB"))
            meta["colour"] = "palette"
        else:
            data = np.asarray(img.convert("RGBA" if "A" in mode else "RGB"))
    meta["dtype"] = str(data.dtype)
    return data, _png_calibration(info), meta


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2),
          (1, 0, 2, 1))  # (first row, first column, row step, column step) of each pass


def _png_rows_bytes(width: int, height: int, bits: int, interlaced: bool) -> list[int]:
    """Bytes of each filtered row (filter byte included) a PNG of this header must hold."""
    def row(w: int) -> int:
        return 1 + (w * bits + 7) // 8

    if not interlaced:
        return [row(width)] * height
    rows: list[int] = []
    for y0, x0, dy, dx in _ADAM7:
        w, h = max(0, (width - x0 + dx - 1) // dx), max(0, (height - y0 + dy - 1) // dy)
        if w and h:
            rows += [row(w)] * h
    return rows


def _check_png_complete(path: Path) -> None:
    """InputError when the PNG's compressed data holds fewer rows than its header declares."""
    import struct
    import zlib

    with open(path, "rb") as fh:
        head = fh.read(33)
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
        rows = _png_rows_bytes(width, height, depth * _PNG_CHANNELS.get(colour, 1),
                               interlace == 1)
        inflate, found = zlib.decompressobj(), 0
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                data = fh.read(length)
                while data:  # at most 16 MB inflated at a time
                    found += len(inflate.decompress(data, 1 << 24))
                    data = inflate.unconsumed_tail
                fh.seek(4, 1)
            elif kind == b"IEND":
                break
            else:
                fh.seek(length + 4, 1)
    if found < sum(rows):
        held = f"only {found // rows[0]}" if interlace != 1 else "fewer"
        raise InputError(
            f"{path}: the PNG is truncated: its header declares {height} rows but the file "
            f"holds {held}; copy or export it again"
        )


def _png_calibration(info: dict) -> PixelSize | None:
    """Pixel size from the ``pixel_size_nm`` text chunk that nanosizer writes into PNGs."""
    text = info.get(PNG_PIXEL_SIZE_KEY)
    if text is None:
        return None
    try:
        return PixelSize(float(text), f"metadata (PNG text {PNG_PIXEL_SIZE_KEY})")
    except (TypeError, ValueError):
        return None


def decode_rsciio(path: Path, plugin: str, fmt: str) -> tuple[np.ndarray, PixelSize | None, dict]:
    """EM formats through a RosettaSciIO plugin: the first 2-D signal, first navigation index."""
    module = importlib.import_module(f"rsciio.{plugin}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signals = module.file_reader(str(path))
    images = [s for s in signals if sum(not ax.get("navigate", False) for ax in s["axes"]) == 2]
    if not images:
        raise ValueError(f"the {fmt} file holds no 2-D image (only spectra or tables)")
    signal = images[0]
    data = np.asarray(signal["data"])
    axes = signal["axes"]
    nav = [i for i, ax in enumerate(axes) if ax.get("navigate", False)]
    meta: dict = {"dtype": str(data.dtype)}
    if len(images) > 1:
        meta["signals"] = f"first image of {len(images)}"
    if nav and data.ndim == len(axes):
        frames = int(np.prod([data.shape[i] for i in nav]))
        meta["frames"] = frames
        meta["frame_used"] = f"first of {frames} frames"
        index = tuple(0 if i in nav else slice(None) for i in range(data.ndim))
        data = data[index]
    title = signal.get("metadata", {}).get("General", {}).get("title")
    if title:
        meta["title"] = str(title)
    return data, calibration_from_axes(axes, f"metadata ({fmt})"), meta
