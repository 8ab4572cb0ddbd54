"""How the review widget shows a review: labels coloured by status, table, sliders, summary."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QTableWidgetItem

__all__ = ["DrawingMixin", "TABLE_COLUMNS"]

_IN = (0.16, 1.0, 0.24, 1.0)  # green: in the statistics
_OUT = (1.0, 0.59, 0.0, 1.0)  # orange: left out (border, filters)
_SELECTED = (1.0, 0.2, 1.0, 1.0)
#: The particle table's columns: header, column of the review's table, format.
TABLE_COLUMNS = (("label", "label", "{:d}"), ("min Feret", None, "{:.4g}"),
                 ("area", None, "{:.4g}"), ("solidity", "solidity", "{:.3f}"),
                 ("circularity", "circularity", "{:.3f}"),
                 ("in statistics", "in_statistics", "{}"))


class _NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number, not its text."""

    def __init__(self, text: str, value: float) -> None:
        super().__init__(text)
        self.setData(Qt.UserRole, float(value))

    def __lt__(self, other) -> bool:  # noqa: D105
        return self.data(Qt.UserRole) < other.data(Qt.UserRole)


class DrawingMixin:
    """Drawing of :class:`~nanosizer.gui.ReviewWidget`: the labels layer, the table, the
    slider ranges, the summary and the histogram, all from an
    :class:`~nanosizer.review.ImageReview`."""

    def _colormap(self, review, selected: int | None = None):
        from napari.utils.colormaps import DirectLabelColormap

        colours = {None: (0, 0, 0, 0), 0: (0, 0, 0, 0)}
        for label, keep in zip(review.table["label"], review.table["in_statistics"]):
            colours[int(label)] = _IN if keep else _OUT
        if selected is not None:
            colours[int(selected)] = _SELECTED
        return DirectLabelColormap(color_dict=colours)

    def _draw_labels(self, review, selected: int | None = None) -> None:
        layer = self._labels_layer
        if layer is None or layer not in self.viewer.layers:
            layer = self.viewer.add_labels(review.labels, name="particles", opacity=0.9)
            layer.contour = 1
            layer.mouse_drag_callbacks.append(self._on_click)
            self._labels_layer = layer
        else:
            layer.data = review.labels
        layer.colormap = self._colormap(review, selected)
        layer.editable = False  # corrections go through the review

    def _fill_table(self, review) -> None:
        t = review.table
        size_col, area_col = review.size_column, f"area_{review.unit}2"
        self.table.setSortingEnabled(False)
        self.table.setRowCount(t.shape[0])
        for r, row in enumerate(t.itertuples(index=False)):
            values = row._asdict()
            for c, (_, col, fmt) in enumerate(TABLE_COLUMNS):
                col = size_col if c == 1 else area_col if c == 2 else col
                v = values[col]
                text = fmt.format(bool(v) if col == "in_statistics" else v)
                self.table.setItem(r, c, _NumberItem(text, float(v)))
        self.table.setSortingEnabled(True)
        unit = review.unit
        self.table.setHorizontalHeaderLabels(
            [f"min Feret ({unit})" if c == 1 else f"area ({unit}²)" if c == 2 else h[0]
             for c, h in enumerate(TABLE_COLUMNS)])
        self._update_slider_ranges(review)

    def _update_slider_ranges(self, review) -> None:
        t = review.table
        if not t.shape[0]:
            return
        top = float(np.ceil(t[review.size_column].max())) + 1.0
        slider = self.sliders["size"]
        slider.blockSignals(True)
        lo, hi = review.filters.size
        slider.setRange(0.0, top)
        slider.setValue((lo if lo is not None else 0.0, hi if hi is not None else top))
        slider.blockSignals(False)

    def _draw_summary(self, review) -> None:
        s = review.summary()
        u = s["unit"]
        text = (f"{review.name}: N = {s['n']}, mean {s['mean']:.4g} ± {s['std']:.3g} {u}, "
                f"median {s['median']:.4g} {u}, D10/D50/D90 {s['d10']:.4g}/{s['d50']:.4g}/"
                f"{s['d90']:.4g} {u}")
        if "eu_verdict" in s:
            text += (f"; EU screen {100 * s['eu_share_below_100nm']:.1f} % below 100 nm "
                     f"(95 % CI {100 * s['eu_ci_low']:.1f}-{100 * s['eu_ci_high']:.1f} %): "
                     f"{s['eu_verdict']}")
        self.summary.setText(text)
        self.figure.clear()
        ax = self.figure.add_subplot()
        values = review.values()
        if values.size:
            ax.hist(values, bins="auto", color="0.5")
        ax.set_xlabel(f"{review.config.measure} ({u})")
        ax.set_ylabel("particles")
        self.canvas.draw_idle()
