"""Reading the scale bar burnt into a micrograph: its length in pixels and its label.

:func:`~nanosizer.io._bar.find_bars` proposes straight horizontal bars; the text next to each
(above, below or beside it) is read by OCR (:mod:`nanosizer.io._ocr`).  The longest bar whose
neighbouring text is exactly a length ("200 nm", "0.5 µm", "1 um", "2,5 mm"), read for certain
(:func:`_certain`), is the scale bar.  A bar without such a label is never used: the reading
then says why there is none.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from ._bar import BarCandidate, find_bars
from ._calibration import _UNIT_TO_NM
from ._ocr import TextBox, ocr_available, read_text

__all__ = ["ScaleBar", "parse_scale_label", "read_scale_bar"]

_MAX_TRIED = 6  # bar candidates whose surroundings are read
# (inverted, enlargement) of the crop: when digits near a bar do not read as a length, the crop
# is read again inverted and enlarged; only an exact length label is ever accepted.
_VARIANTS = ((False, 1), (True, 1), (False, 2), (True, 2))
_PLAUSIBLE_NM = (0.005, 50_000.0)  # pixel sizes of electron micrographs, nm/px
_MIN_SCORE = 0.8  # recogniser confidence of a label read once and confirmed once
_SURE_SCORE = 0.95  # confidence from which one reading is enough (else two must agree)
_AGAIN_SCORE = 0.5  # confidence of a reading that confirms a label
_LABEL_RE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(nm|[uµμ]m|mm)\s*$", re.IGNORECASE)
# text worth reading again (inverted, enlarged) when it is not yet a length: a digit, or
# letters of a unit as OCR gets them wrong ("nr", "ni", "pm", "um")
_LABEL_LIKE = re.compile(r"[0-9]|[nuµμp][mnri]", re.IGNORECASE)
_JOIN_GAP = 2.0  # text heights between a number and its unit read as two boxes

READ = "read"
NO_BAR = "no scale bar found"
NO_LABEL = "no label read next to any bar-like line"
IMPLAUSIBLE = "label read, but it gives an implausible pixel size for a micrograph"
NO_OCR = "label not read: the OCR engine is not installed (pip install rapidocr-onnxruntime)"


def parse_scale_label(text: str) -> tuple[float, str] | None:
    """Length in nm and the normalised label of a scale-bar text, or None.

    Parameters
    ----------
    text : str
        Recognised text, e.g. ``"200 nm"``, ``"0,5 µm"``, ``"1um"``.

    Returns
    -------
    (float, str) or None
        Nanometres and the label written as ``"<number> <unit>"`` with unit nm, µm or mm;
        None unless the text is exactly a positive number of at most two significant digits
        (scale bars carry round lengths such as 1, 2.5, 20, 150 or 500) and one of these
        units.

    Examples
    --------
    >>> parse_scale_label("0,5 um")
    (500.0, '0.5 µm')
    >>> parse_scale_label("WD = 2.8 mm") is None
    True
    >>> parse_scale_label("2001 nm") is None
    True
    """
    match = _LABEL_RE.match(text.replace("\u00a0", " "))
    if match is None:
        return None
    number = match.group(1).replace(",", ".")
    unit = match.group(2).lower()
    unit = "µm" if unit in ("um", "µm", "μm") else unit
    value = float(number)
    significant = number.replace(".", "").strip("0")
    if value <= 0 or len(significant) > 2:
        return None  # scale bars carry round numbers: "2001 nm" is a misread "200 nm"
    return float(round(value * _UNIT_TO_NM[unit], 9)), f"{number} {unit}"


@dataclass(frozen=True)
class ScaleBar:
    """What was read from a micrograph's scale bar.

    Attributes
    ----------
    status : str
        ``"read"``, or why nothing was read (no bar, no label, no OCR engine).
    bar : BarCandidate or None
        The bar whose label was read (None unless read).
    label : str or None
        The label as read, normalised (``"200 nm"``).
    length_nm : float or None
        The label's length in nm.
    label_box : (top, left, bottom, right) or None
        Where the label is, in image pixels.
    candidates : int
        Bar-like lines found (whether or not labelled).
    seconds : float
        Time spent finding and reading the bar.
    """

    status: str
    bar: BarCandidate | None = None
    label: str | None = None
    length_nm: float | None = None
    label_box: tuple[int, int, int, int] | None = None
    candidates: int = 0
    seconds: float = 0.0

    @property
    def read(self) -> bool:
        """True when a bar and its label were read."""
        return self.status == READ

    @property
    def pixel_size_nm(self) -> float | None:
        """Label length over bar length, or None when not read."""
        if not self.read or self.bar is None or self.length_nm is None:
            return None
        return float(f"{self.length_nm / self.bar.length_px:.6g}")

    @property
    def region(self) -> tuple[int, int, int, int] | None:
        """(top, left, bottom, right) covering the bar and its label, 2 px margin; or None."""
        if not self.read or self.bar is None or self.label_box is None:
            return None
        b, t = self.bar, self.label_box
        return (max(0, min(b.top, t[0]) - 2), max(0, min(b.left, t[1]) - 2),
                max(b.bottom, t[2]) + 2, max(b.right, t[3]) + 2)

    def describe(self) -> str:
        """One line for the console, e.g. ``'"200 nm" = 27.00 px at rows 732-752 ...'``."""
        if not self.read or self.bar is None:
            return f"not read ({self.status}; {self.candidates} bar-like lines checked)"
        b = self.bar
        return (f'"{self.label}" = {b.length_px:.2f} px -> {self.pixel_size_nm:g} nm/px '
                f"({b.style} {b.polarity} bar, rows {b.top}-{b.bottom - 1}, "
                f"columns {b.left}-{b.right - 1})")

    def to_dict(self) -> dict:
        """JSON-ready description (run.json, reader metadata)."""
        return {
            "status": self.status, "label": self.label, "length_nm": self.length_nm,
            "pixel_size_nm": self.pixel_size_nm,
            "bar": None if self.bar is None else self.bar.to_dict(),
            "label_box": None if self.label_box is None else list(self.label_box),
            "candidates": self.candidates, "seconds": round(self.seconds, 3),
        }


def read_scale_bar(image: np.ndarray, *, region: tuple[int, int, int, int] | None = None
                   ) -> ScaleBar:
    """Find the scale bar of a micrograph and read its label.

    Parameters
    ----------
    image : (H, W) ndarray
        Grey image on any scale (the full micrograph, info bar included).
    region : (top, left, bottom, right), optional
        Only look for bars inside this box (e.g. the info bar); default: everywhere.

    Returns
    -------
    ScaleBar
        ``status == "read"`` with the bar, its length and its label, or the reason nothing
        was read.  A bar without a readable length label is never used.
    """
    start = time.perf_counter()
    data = np.asarray(image, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"image must be a 2-D grey image, got shape {data.shape}")
    bars = find_bars(data)
    if region is not None:
        top, left, bottom, right = region
        bars = [b for b in bars if b.top >= top and b.left >= left and b.bottom <= bottom
                and b.right <= right]
    if not bars:
        return ScaleBar(NO_BAR, seconds=time.perf_counter() - start)
    if not ocr_available():
        return ScaleBar(NO_OCR, candidates=len(bars), seconds=time.perf_counter() - start)
    grey = _to_uint8(data)
    status = NO_LABEL
    for bar in bars[:_MAX_TRIED]:
        found = _read_label(bar, grey)
        if found is None:
            continue
        (nm, label), box = found
        if _PLAUSIBLE_NM[0] <= nm / bar.length_px <= _PLAUSIBLE_NM[1]:
            return ScaleBar(READ, bar, label, nm, box, len(bars), time.perf_counter() - start)
        status = IMPLAUSIBLE
    return ScaleBar(status, candidates=len(bars), seconds=time.perf_counter() - start)


def _read_label(bar: BarCandidate, grey: np.ndarray):
    """((nm, label), box) of ``bar``'s label, or None when none is read for certain.

    The surroundings are read as they are, inverted and enlarged (:data:`_VARIANTS`) until
    the label is certain (:func:`_certain`); a label read two different ways (confidence
    >= 0.5 each) leaves the bar unread.
    """
    seen: list = []  # ((nm, label), box, score) of each reading that found a label
    for variant in _VARIANTS:
        texts = _texts_near(bar, grey, *variant)
        found = _label_of(bar, texts, _AGAIN_SCORE)
        if found is None:
            if not seen and not any(_near_label_like(bar, t) for t in texts):
                return None  # no misread label here: try the next bar
            continue
        if seen and found[0][1] != seen[0][0][1]:
            return None  # read two ways: not certain
        seen.append(found)
        if _certain(seen):
            return max(seen, key=lambda f: f[2])[:2]
    return None


def _certain(seen: list) -> bool:
    """True when the readings of one label make it certain.

    One reading with recogniser confidence >= 0.95, two with >= 0.8 for one of them, or
    three with >= 0.5 (a serif "µm" is read "um" with low confidence, but every time);
    a label in mm (which OCR also makes of "nm") is never certain from one reading.
    """
    top = max(f[2] for f in seen)
    mm = seen[0][0][1].endswith("mm")
    return ((top >= _SURE_SCORE and not mm) or (len(seen) >= 2 and top >= _MIN_SCORE)
            or (len(seen) >= 3 and not mm))


def _to_uint8(data: np.ndarray) -> np.ndarray:
    lo, hi = float(data.min()), float(data.max())
    if hi <= lo:
        return np.zeros(data.shape, np.uint8)
    return np.round((data - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _neighbourhood(bar: BarCandidate, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Box around a bar where its label may be: a bar length or 5 text heights on each side."""
    length = bar.right - bar.left
    reach_x = int(max(length, 90))
    reach_y = int(max(0.6 * length, 45))
    return (max(0, bar.top - reach_y), max(0, bar.left - reach_x),
            min(shape[0], bar.bottom + reach_y), min(shape[1], bar.right + reach_x))


def _near_label_like(bar: BarCandidate, text: TextBox) -> bool:
    """True when ``text`` has a digit or a unit-like letter and sits where a label would."""
    return _LABEL_LIKE.search(text.text) is not None and _gap(bar, text) is not None


def _texts_near(bar: BarCandidate, grey: np.ndarray, invert: bool = False,
                enlarge: int = 1) -> list[TextBox]:
    """Text boxes (image coordinates) around ``bar``, read with the bar painted over.

    Painting the bar in its ground's grey keeps text that touches it from being misread
    ("200" above a bar read as "2001").  When text touches a side of the crop that is not
    the image border, the crop is widened on that side and read again, so that a label is
    never read cut in half ("250 nm" as "250 n").
    """
    box = _neighbourhood(bar, grey.shape)
    texts = _read_crop(bar, grey, box, invert, enlarge)
    wider = _widened(box, texts, grey.shape)
    return texts if wider == box else _read_crop(bar, grey, wider, invert, enlarge)


def _widened(box: tuple[int, int, int, int], texts: list[TextBox],
             shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``box`` grown by half its size on each side where a text box reaches its edge."""
    top, left, bottom, right = box
    grow_y, grow_x = (bottom - top) // 2, (right - left) // 2
    for t in texts:
        near = max(3.0, 0.6 * t.height)  # a cut letter may be left out of the text box
        if t.left <= box[1] + near and box[1] > 0:
            left = max(0, box[1] - grow_x)
        if t.right >= box[3] - near and box[3] < shape[1]:
            right = min(shape[1], box[3] + grow_x)
        if t.top <= box[0] + near and box[0] > 0:
            top = max(0, box[0] - grow_y)
        if t.bottom >= box[2] - near and box[2] < shape[0]:
            bottom = min(shape[0], box[2] + grow_y)
    return top, left, bottom, right


def _read_crop(bar: BarCandidate, grey: np.ndarray, box: tuple[int, int, int, int],
               invert: bool, enlarge: int) -> list[TextBox]:
    """Text boxes (image coordinates) in ``box`` of ``grey``, the bar painted over."""
    top, left, bottom, right = box
    crop = grey[top:bottom, left:right].copy()
    t, l, b, r = bar.top - top, bar.left - left, bar.bottom - top, bar.right - left
    ring = np.concatenate([crop[max(0, t - 2):t, l:r].ravel(), crop[b:b + 2, l:r].ravel()])
    if ring.size:
        crop[t:b, l:r] = np.uint8(np.median(ring))
    if invert:
        crop = 255 - crop
    return [TextBox(x.text, x.score, x.top + top, x.left + left, x.bottom + top, x.right + left)
            for x in read_text(crop, enlarge)]


def _lines(texts: list[TextBox]) -> list[TextBox]:
    """Each box, and each pair of boxes side by side on one line joined into one."""
    out = list(texts)
    for a in texts:
        for b in texts:
            if a is b or b.left <= a.left:
                continue
            h = max(a.height, b.height)
            same_line = abs((a.top + a.bottom) - (b.top + b.bottom)) / 2 < 0.5 * h
            if same_line and b.left - a.right < _JOIN_GAP * h:
                out.append(TextBox(f"{a.text} {b.text}", min(a.score, b.score),
                                   min(a.top, b.top), a.left, max(a.bottom, b.bottom), b.right))
    return out


def _label_of(bar: BarCandidate, texts: list[TextBox], min_score: float = 0.8):
    """((nm, label), box, score) of the nearest length label beside, above or below ``bar``.

    Labels need a recogniser confidence of ``min_score``, in mm of 0.95 (OCR reads "nm" as
    "mm").
    """
    best = None
    for line in _lines(texts):
        parsed = parse_scale_label(line.text) if line.score >= min_score else None
        if parsed is None or (parsed[1].endswith("mm") and line.score < _SURE_SCORE):
            continue
        gap = _gap(bar, line)
        if gap is not None and (best is None or gap < best[0]):
            box = (int(np.floor(line.top)), int(np.floor(line.left)), int(np.ceil(line.bottom)),
                   int(np.ceil(line.right)))
            best = (gap, parsed, box, line.score)
    return None if best is None else best[1:]


def _gap(bar: BarCandidate, text: TextBox) -> float | None:
    """Distance from bar to label in text heights, or None when not placed like a label."""
    h = max(text.height, 1.0)
    body_top = bar.row - (bar.thickness - 1) / 2
    body_bottom = body_top + bar.thickness
    overlap_x = min(bar.right, text.right) - max(bar.left, text.left)
    inside = (bar.left >= text.left - 2 and bar.right <= text.right + 2
              and body_top >= text.top and body_bottom <= text.bottom)
    overlap_y = min(bar.bottom, text.bottom) - max(bar.top, text.top)
    shared = max(overlap_x, 0.0) * max(overlap_y, 0.0)
    if inside or shared > 0.3 * (text.right - text.left) * h:
        return None  # the "bar" is a stroke of the text, or a patch the text is written on
    dx = max(bar.left - text.right, text.left - bar.right, 0.0)
    dy = max(body_top - text.bottom, text.top - body_bottom, 0.0)
    if overlap_x > -0.5 * h and dy <= 2.5 * h:  # above or below
        return dy / h
    centre_off = abs((text.top + text.bottom) / 2 - bar.row)
    if centre_off <= 0.75 * h and dx <= 3.0 * h:  # beside
        return dx / h
    return None
