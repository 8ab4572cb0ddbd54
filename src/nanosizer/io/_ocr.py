"""Reading short lines of text (scale-bar labels) offline with RapidOCR.

RapidOCR (``rapidocr-onnxruntime`` on PyPI) runs PaddleOCR's text detector and recogniser with
onnxruntime; the ONNX models ship inside its wheel, so nothing is downloaded at run time.  It is
imported only when a label is read, and its engine is created once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["TextBox", "ocr_available", "read_text"]

_MIN_SIDE = 400  # crops smaller than this are enlarged so that 8-px text is readable


@dataclass(frozen=True)
class TextBox:
    """One line of text found in an image.

    Attributes
    ----------
    text : str
        The recognised characters.
    score : float
        Recogniser confidence, 0-1.
    top, left, bottom, right : float
        Bounding box in the coordinates of the image given to :func:`read_text`.
    """

    text: str
    score: float
    top: float
    left: float
    bottom: float
    right: float

    @property
    def height(self) -> float:
        """Height of the box in pixels."""
        return self.bottom - self.top


def ocr_available() -> bool:
    """True when the OCR engine (``rapidocr-onnxruntime``) can be imported."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _engine():
    import logging

    from rapidocr_onnxruntime import RapidOCR

    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, det_limit_type="max",
                    det_limit_side_len=1280, use_cls=False, text_score=0.5)


def read_text(image: np.ndarray, enlarge: int = 1) -> list[TextBox]:
    """Lines of text in a grey image.

    Parameters
    ----------
    image : (H, W) ndarray of uint8
        Grey image (a crop around a scale bar); dark text on light or light on dark.
    enlarge : int, optional
        Extra enlargement (bilinear) before reading, on top of the one that brings small crops
        to a readable size.

    Returns
    -------
    list of TextBox
        In no particular order; empty when no text is found.

    Raises
    ------
    ImportError
        When ``rapidocr-onnxruntime`` is not installed.
    """
    from PIL import Image

    grey = np.asarray(image, dtype=np.uint8)
    factor = 1
    while factor < 4 and (min(grey.shape) * factor < _MIN_SIDE // 4
                          or max(grey.shape) * factor < _MIN_SIDE):
        factor *= 2
    factor *= max(1, int(enlarge))
    if factor > 1:
        size = (grey.shape[1] * factor, grey.shape[0] * factor)
        grey = np.asarray(Image.fromarray(grey).resize(size, Image.BILINEAR))
    rgb = np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    result, _ = _engine()(rgb, use_cls=False)
    boxes = []
    for points, text, score in result or []:
        pts = np.asarray(points, dtype=np.float64) / factor
        boxes.append(TextBox(str(text), float(score), float(pts[:, 1].min()),
                             float(pts[:, 0].min()), float(pts[:, 1].max()),
                             float(pts[:, 0].max())))
    return boxes
