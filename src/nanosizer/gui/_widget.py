"""The napari dock widget: open, segment, look, correct, filter and save particles.

A view of :class:`nanosizer.review.ImageReview` (one per image): every correction goes through
the review, which measures the changed particles again; the widget redraws the labels layer,
the table, the histogram and the summary from it (:mod:`._drawing`).  Its controls are built by
:mod:`._controls`, its file dialogs live in :mod:`._dialogs`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QWidget

from ._controls import MODES, build_controls
from ._dialogs import FilesMixin
from ._drawing import DrawingMixin

__all__ = ["ReviewWidget"]


class ReviewWidget(DrawingMixin, FilesMixin, QWidget):
    """nanosizer's review dock widget.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer it docks into (napari passes it).
    """

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.paths: list[Path] = []
        self.reviews: dict[str, object] = {}
        self.current: str | None = None
        self.worker = None
        self._merge_first: int | None = None
        self._image_layer = self._labels_layer = None

        build_controls(self)

    # opening ----------------------------------------------------------------------------
    def open_images(self, paths) -> None:
        """Add micrographs to the list (any format nanosizer reads) and show the first."""
        from ..io import expand_paths

        new = [p for p in expand_paths([str(p) for p in paths]) if p not in self.paths]
        self.paths += new
        for p in new:
            self.files.addItem(p.name)
        if new and self.current is None:
            self.files.setCurrentRow(self.paths.index(new[0]))

    def open_results(self, folder) -> None:
        """Open an ``analyze`` results folder (or a saved review) for more corrections."""
        from ..review import load_results

        for review in load_results(folder):
            path = Path(review.micrograph.path)
            if path not in self.paths:
                self.paths.append(path)
                self.files.addItem(path.name)
            self.reviews[path.stem] = review
        if self.paths:
            self.files.setCurrentRow(0)
            self._show(self.paths[0].stem)

    def _on_file(self, row: int) -> None:
        if 0 <= row < len(self.paths):
            self._show(self.paths[row].stem)

    def _show(self, name: str) -> None:
        from ..io import read_micrograph

        self.current = name
        self._merge_first = None
        path = next(p for p in self.paths if p.stem == name)
        review = self.reviews.get(name)
        mg = review.micrograph if review is not None else read_micrograph(path)
        data = mg.data
        if self._image_layer is None or self._image_layer not in self.viewer.layers:
            self._image_layer = self.viewer.add_image(data, name="micrograph")
        else:
            self._image_layer.data = data
            self._image_layer.reset_contrast_limits()
        self.pixel_size.setText(f"{mg.pixel_size.nm:g} nm" if mg.pixel_size.calibrated else "")
        self.refresh()

    # segmentation -----------------------------------------------------------------------
    def _config(self):
        from ..pipeline import AnalyzeConfig

        text = self.pixel_size.text().strip()
        model = self.model.text().strip() or None
        method = self.method.currentText()
        if model is not None and method == "classical":
            method = "unet"  # a model folder is a CNN's; its config names the architecture
        return AnalyzeConfig(method=method, model=model, pixel_size=text or None)

    def run(self, all_images: bool = False, *, blocking: bool = False) -> None:
        """Segment the current image (or all) with the chosen method, in a worker thread.

        ``blocking`` runs in this thread (scripts and tests).
        """
        from ..review import ImageReview

        names = [p.stem for p in self.paths] if all_images else [self.current]
        names = [n for n in names if n is not None]
        paths = {p.stem: p for p in self.paths}
        try:
            config = self._config()
        except ValueError as exc:
            self.status.setText(f"error: {exc}")
            return
        if all_images:  # the pixel size field is the current image's, not every image's
            from dataclasses import replace

            config = replace(config, pixel_size=None)

        def work():
            for k, name in enumerate(names):
                yield k, name, ImageReview.from_image(paths[name], config)

        self.progress.setRange(0, len(names))
        self.progress.setValue(0)
        if blocking:
            for item in work():
                self._on_result(item)
            self._done()
            return
        from napari.qt.threading import create_worker

        self.worker = create_worker(work, _progress={"total": len(names)})
        self.worker.yielded.connect(self._on_result)
        self.worker.finished.connect(self._done)
        self.worker.errored.connect(lambda exc: self.status.setText(f"error: {exc}"))
        self.cancel.setEnabled(True)
        self.run_one.setEnabled(False)
        self.run_all.setEnabled(False)
        self.worker.start()

    def cancel_run(self) -> None:
        """Stop the running segmentation after the image in progress."""
        if self.worker is not None:
            self.worker.quit()
            self.status.setText("cancelled")

    def _on_result(self, item) -> None:
        k, name, review = item
        self.reviews[name] = review
        self.progress.setValue(k + 1)
        if name == self.current:
            self.refresh()

    def _done(self) -> None:
        self.worker = None
        self.cancel.setEnabled(False)
        self.run_one.setEnabled(True)
        self.run_all.setEnabled(True)

    # drawing ----------------------------------------------------------------------------
    @property
    def review(self):
        """The current image's :class:`ImageReview` (None before it is segmented)."""
        return self.reviews.get(self.current) if self.current is not None else None

    def refresh(self) -> None:
        """Redraw the labels layer, table, histogram and summary from the review."""
        review = self.review
        if review is None:
            self.summary.setText("not segmented yet: Run on image")
            self.table.setRowCount(0)
            return
        self._draw_labels(review)
        self._fill_table(review)
        self._draw_summary(review)

    # corrections ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """The click mode: 'select', 'delete' or 'merge'."""
        return MODES[self.modes.checkedId()]

    def set_mode(self, mode: str) -> None:
        """Choose what a click on a particle does."""
        self.modes.button(MODES.index(mode)).setChecked(True)
        self._merge_first = None

    def _label_at(self, position) -> int:
        r, c = (int(round(v)) for v in position[-2:])
        labels = self.review.labels
        if 0 <= r < labels.shape[0] and 0 <= c < labels.shape[1]:
            return int(labels[r, c])
        return 0

    def _on_click(self, layer, event) -> None:
        if self.review is None:
            return
        self.click(event.position)

    def click(self, position) -> None:
        """What a click at ``position`` (row, col) does in the current mode."""
        label = self._label_at(position)
        if not label:
            return
        try:
            if self.mode == "delete":
                self.review.delete(label)
                self._after_edit(f"deleted particle {label}")
            elif self.mode == "merge":
                if self._merge_first is None or self._merge_first == label:
                    self._merge_first = label
                    self._draw_labels(self.review, selected=label)
                    self.status.setText(f"merge: particle {label} chosen, click the other one")
                else:
                    kept, gone = self.review.merge(self._merge_first, label)
                    self._merge_first = None
                    self._after_edit(f"merged particle {gone} into {kept}")
            else:
                self.select(label)
        except ValueError as exc:
            self.status.setText(str(exc))

    def select(self, label: int) -> None:
        """Highlight particle ``label`` and select its table row."""
        self._draw_labels(self.review, selected=label)
        for r in range(self.table.rowCount()):
            if int(self.table.item(r, 0).data(Qt.UserRole)) == label:
                self.table.blockSignals(True)
                self.table.selectRow(r)
                self.table.blockSignals(False)
                break

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.review is not None:
            label = int(self.table.item(rows[0].row(), 0).data(Qt.UserRole))
            self._draw_labels(self.review, selected=label)

    def _split_line(self):
        layer = self.viewer.layers["split line"] if "split line" in self.viewer.layers else None
        if layer is None or not len(layer.data):
            return None, layer
        return np.asarray(layer.data[-1])[:, -2:], layer

    def split_along_line(self, points=None) -> None:
        """Cut the particle the line crosses most; the line is the last shape of the
        'split line' layer (added on first use: draw a line or path there, then press again)."""
        layer = None
        if points is None:
            points, layer = self._split_line()
            if points is None:
                if layer is None:
                    self.viewer.add_shapes(name="split line", shape_type="path", edge_width=1,
                                           edge_color="magenta")
                    self.viewer.layers["split line"].mode = "add_path"
                self.status.setText("draw a line across the particle in 'split line', then "
                                    "press Split along line again")
                return
        points = np.asarray(points, float)
        from skimage.draw import line

        hit = []
        for (r0, c0), (r1, c1) in zip(points[:-1], points[1:]):
            rr, cc = line(int(round(r0)), int(round(c0)), int(round(r1)), int(round(c1)))
            ok = (rr >= 0) & (rr < self.review.labels.shape[0]) & (cc >= 0) & (
                cc < self.review.labels.shape[1])
            hit.append(self.review.labels[rr[ok], cc[ok]])
        hit = np.concatenate(hit)
        hit = hit[hit > 0]
        if not hit.size:
            self.status.setText("the line crosses no particle")
            return
        label = int(np.bincount(hit).argmax())
        try:
            ids = self.review.split(label, points.tolist())
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        if layer is not None:
            layer.data = []
        self._after_edit(f"split particle {label} into {len(ids)}")

    def add_painted(self, mask=None) -> None:
        """Add the area painted in the 'paint' layer (added on first use) as a new particle."""
        layer = self.viewer.layers["paint"] if "paint" in self.viewer.layers else None
        if mask is None:
            if layer is None or not np.asarray(layer.data).any():
                if layer is None:
                    layer = self.viewer.add_labels(np.zeros(self.review.labels.shape, np.int32),
                                                   name="paint")
                    layer.mode = "paint"
                    layer.selected_label = 1
                self.status.setText("paint the missed particle in 'paint', then press Add "
                                    "painted again")
                return
            mask = np.asarray(layer.data) > 0
        try:
            new = self.review.paint(mask)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        if layer is not None:
            layer.data = np.zeros_like(layer.data)
        self._after_edit(f"added particle {new}")

    def undo(self) -> None:
        """Undo the last correction of the current image."""
        if self.review is None or not self.review.can_undo:
            self.status.setText("nothing to undo")
            return
        what = self.review.undo()
        self._after_edit(f"undone: {what['action']}")

    def _after_edit(self, message: str) -> None:
        self.status.setText(message)
        self.refresh()

    # filters and pixel size -------------------------------------------------------------
    def set_filters(self, size=(None, None), solidity=(None, None),
                    circularity=(None, None)) -> None:
        """Mark particles outside these ranges out of the statistics (all images)."""
        from ..review import Filters

        filters = Filters(tuple(size), tuple(solidity), tuple(circularity))
        for review in self.reviews.values():
            review.set_filters(filters)
        self.refresh()

    def _on_filters(self) -> None:
        if self.review is None:
            return
        size = self.sliders["size"].value()
        top = self.sliders["size"].maximum()

        def bounds(v, lo=0.0, hi=1.0):
            return (v[0] if v[0] > lo else None, v[1] if v[1] < hi else None)

        self.set_filters(bounds(size, 0.0, top), bounds(self.sliders["solidity"].value()),
                         bounds(self.sliders["circularity"].value()))

    def _on_pixel_size(self) -> None:
        from ..errors import InputError
        from ..io import parse_length_nm

        if self.review is None:
            return
        text = self.pixel_size.text().strip()
        try:
            nm = parse_length_nm(text) if text else None
        except (InputError, ValueError) as exc:
            self.status.setText(f"pixel size {text!r}: {exc}")
            return
        if nm != self.review.micrograph.pixel_size.nm:
            self.review.set_pixel_size(nm)
            self._after_edit(f"pixel size {text or 'none'}")

    # saving -----------------------------------------------------------------------------
