"""Reading micrographs, calibration, info-bar detection and atomic writing."""

from ._calibration import PixelSize, parse_length_nm
from ._micrograph import Micrograph

__all__ = ["Micrograph", "PixelSize", "parse_length_nm"]
