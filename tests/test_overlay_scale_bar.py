"""Overlays mark the scale bar that calibrated the image and print its reading."""

from __future__ import annotations

import numpy as np

from nanosizer.io._bar import BarCandidate
from nanosizer.io._scalebar import NO_BAR, READ, ScaleBar
from nanosizer.report.overlay import _BAR_COLOUR, _text_mask, label_overlay, scale_bar_reading


def _image_with_bar() -> tuple[np.ndarray, ScaleBar]:
    img = np.full((300, 400), 30.0)
    img[260:268, 250:370] = 255.0  # the bar: 120 px
    img[230:250, 265:330] = 200.0  # stands in for its label
    bar = BarCandidate(top=260, bottom=268, left=250, right=370, x0=249.5, x1=369.5,
                       row=263.5, thickness=8, polarity="light", style="solid")
    return img, ScaleBar(READ, bar, "200 nm", 200.0, (230, 265, 250, 330), 1)


def _magenta(rgb: np.ndarray) -> np.ndarray:
    return np.all(rgb == _BAR_COLOUR, axis=-1)


def test_read_bar_and_label_are_framed_and_the_reading_written():
    img, reading = _image_with_bar()
    labels = np.zeros(img.shape, np.int32)
    labels[40:60, 40:60] = 1
    rgb = label_overlay(img, labels, scale_bar=reading, show_ids=False)
    marked = _magenta(rgb)
    # the bar's frame: 2 px outside its box on all four sides
    assert marked[258, 248:372].all() and marked[269, 248:372].all()
    assert marked[258:270, 248].all() and marked[258:270, 371].all()
    assert not marked[260:268, 250:370].any()  # the bar itself is left as it is
    # the label's frame
    assert marked[228, 263:332].all() and marked[251, 263:332].all()
    # the reading above the label, as many magenta pixels as its glyphs have
    text = _text_mask(scale_bar_reading(reading), 1)
    assert scale_bar_reading(reading) == "200 nm = 120.00 px: 1.667 nm/px"
    assert marked[:226].sum() == text.sum()
    # the particle's outline is still drawn in green
    assert np.all(rgb[40, 45] == (40, 255, 60))


def test_no_mark_without_a_reading():
    img, _ = _image_with_bar()
    labels = np.zeros(img.shape, np.int32)
    for bar in (None, ScaleBar(NO_BAR)):
        rgb = label_overlay(img, labels, scale_bar=bar)
        assert not _magenta(rgb).any()
        assert np.array_equal(rgb, label_overlay(img, labels))


def test_reading_at_the_top_edge_goes_below():
    img, reading = _image_with_bar()
    img = img[::-1].copy()
    bar = BarCandidate(top=3, bottom=11, left=250, right=370, x0=249.5, x1=369.5, row=6.5,
                       thickness=8, polarity="light", style="solid")
    reading = ScaleBar(READ, bar, "200 nm", 200.0, (14, 265, 34, 330), 1)
    rgb = label_overlay(img, np.zeros(img.shape, np.int32), scale_bar=reading)
    marked = _magenta(rgb)
    text = _text_mask(scale_bar_reading(reading), 1)
    assert marked[37:].sum() == text.sum()  # below the label's frame, inside the image
