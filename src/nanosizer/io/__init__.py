"""Reading micrographs, calibration, info-bar detection and atomic writing."""

from ._calibration import PixelSize, parse_length_nm
from ._formats import IMAGE_EXTENSIONS
from ._infobar import detect_infobar
from ._micrograph import Micrograph
from ._paths import expand_paths
from ._read import read_micrograph

__all__ = [
    "IMAGE_EXTENSIONS",
    "Micrograph",
    "PixelSize",
    "detect_infobar",
    "expand_paths",
    "parse_length_nm",
    "read_micrograph",
]
