"""Reading micrographs, calibration, info-bar detection, ImageJ ROI sets and atomic writing."""

from ._calibration import PixelSize, parse_length_nm
from ._formats import IMAGE_EXTENSIONS, PNG_PIXEL_SIZE_KEY
from ._grey import GREY_WEIGHTS, MIN_SIDE
from ._imagej_roi import read_roi_zip, write_roi_zip
from ._infobar import detect_infobar
from ._micrograph import Micrograph
from ._paths import expand_paths
from ._read import read_micrograph, read_pixel_size
from ._scalebar import ScaleBar, parse_scale_label, read_scale_bar
from ._staging import StagedDir, prepare_output_dir, staged_output_dir, write_folder
from ._workdir import WorkDir, work_dir_of
from ._write import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    output_error,
    write_json,
    write_label_image,
    write_png,
    write_table,
)

__all__ = [
    "GREY_WEIGHTS",
    "IMAGE_EXTENSIONS",
    "MIN_SIDE",
    "PNG_PIXEL_SIZE_KEY",
    "Micrograph",
    "PixelSize",
    "ScaleBar",
    "StagedDir",
    "WorkDir",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "detect_infobar",
    "expand_paths",
    "output_error",
    "parse_length_nm",
    "parse_scale_label",
    "prepare_output_dir",
    "read_micrograph",
    "read_pixel_size",
    "read_roi_zip",
    "read_scale_bar",
    "staged_output_dir",
    "work_dir_of",
    "write_folder",
    "write_json",
    "write_label_image",
    "write_png",
    "write_roi_zip",
    "write_table",
]
