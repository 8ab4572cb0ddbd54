"""The napari dock widget: open, segment, look, correct, filter and save particles.

A view of :class:`nanosizer.review.ImageReview` (one per image): every correction goes through
the review, which measures the changed particles again; the widget redraws the labels layer,
the table, the histogram and the summary from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ReviewWidget"]

_IN = (0.16, 1.0, 0.24, 1.0)  # green: in the statistics
_OUT = (1.0, 0.59, 0.0, 1.0)  # orange: left out (border, filters)
_SELECTED = (1.0, 0.2, 1.0, 1.0)
_MODES = ("select", "delete", "merge")
_TABLE = (("label", "label", "{:d}"), ("min Feret", None, "{:.4g}"), ("area", None, "{:.4g}"),
          ("solidity", "solidity", "{:.3f}"), ("circularity", "circularity", "{:.3f}"),
          ("in statistics", "in_statistics", "{}"))


class _NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number, not its text."""

    def __init__(self, text: str, value: float) -> None:
        super().__init__(text)
        self.setData(Qt.UserRole, float(value))

    def __lt__(self, other) -> bool:  # noqa: D105
        return self.data(Qt.UserRole) < other.data(Qt.UserRole)


class ReviewWidget(QWidget):
    """nanosizer's review dock widget.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer it docks into (napari passes it).
    """

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        from superqt import QLabeledDoubleRangeSlider

        self.viewer = napari_viewer
        self.paths: list[Path] = []
        self.reviews: dict[str, object] = {}
        self.current: str | None = None
        self.worker = None
        self._merge_first: int | None = None
        self._image_layer = self._labels_layer = None

        layout = QVBoxLayout(self)
        self.files = QListWidget()
        self.files.currentRowChanged.connect(self._on_file)
        open_row = QHBoxLayout()
        for text, slot in (("Open images…", self._ask_images), ("Open results…", self._ask_results)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            open_row.addWidget(button)
        layout.addLayout(open_row)
        layout.addWidget(self.files)

        grid = QGridLayout()
        grid.addWidget(QLabel("pixel size"), 0, 0)
        self.pixel_size = QLineEdit()
        self.pixel_size.setPlaceholderText("e.g. 7.34 nm (empty: pixels)")
        self.pixel_size.editingFinished.connect(self._on_pixel_size)
        grid.addWidget(self.pixel_size, 0, 1)
        grid.addWidget(QLabel("method"), 1, 0)
        self.method = QComboBox()
        self.method.addItems(["unet", "classical", "multiresunet"])
        grid.addWidget(self.method, 1, 1)
        grid.addWidget(QLabel("model"), 2, 0)
        self.model = QLineEdit()
        self.model.setPlaceholderText("shipped (or a trained model folder)")
        grid.addWidget(self.model, 2, 1)
        layout.addLayout(grid)
        run_row = QHBoxLayout()
        self.run_one = QPushButton("Run on image")
        self.run_one.clicked.connect(lambda: self.run(all_images=False))
        self.run_all = QPushButton("Run on all")
        self.run_all.clicked.connect(lambda: self.run(all_images=True))
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancel_run)
        for w in (self.run_one, self.run_all, self.cancel):
            run_row.addWidget(w)
        layout.addLayout(run_row)
        self.progress = QProgressBar()
        layout.addWidget(self.progress)

        mode_row = QHBoxLayout()
        self.modes = QButtonGroup(self)
        for k, name in enumerate(_MODES):
            button = QPushButton(f"{name} (click)")
            button.setCheckable(True)
            button.setChecked(k == 0)
            self.modes.addButton(button, k)
            mode_row.addWidget(button)
        layout.addLayout(mode_row)
        edit_row = QHBoxLayout()
        for text, slot in (("Split along line", self.split_along_line),
                           ("Add painted", self.add_painted), ("Undo", self.undo)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            edit_row.addWidget(button)
        layout.addLayout(edit_row)

        self.sliders = {}
        for key, text in (("size", "size"), ("solidity", "solidity"),
                          ("circularity", "circularity")):
            slider = QLabeledDoubleRangeSlider(Qt.Horizontal)
            slider.setRange(0.0, 1.0)
            slider.setValue((0.0, 1.0))
            slider.valueChanged.connect(self._on_filters)
            self.sliders[key] = slider
            layout.addWidget(QLabel(f"{text} in the statistics"))
            layout.addWidget(slider)

        self.summary = QLabel("no image")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(3, 2), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        layout.addWidget(self.canvas)
        self.table = QTableWidget(0, len(_TABLE))
        self.table.setHorizontalHeaderLabels([c[0] for c in _TABLE])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._on_row)
        layout.addWidget(self.table)

        save_row = QHBoxLayout()
        for text, slot in (("Save results…", self._ask_save), ("Save pairs…", self._ask_pairs),
                           ("ROIs in…", self._ask_roi_in), ("ROIs out…", self._ask_roi_out)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            save_row.addWidget(button)
        layout.addLayout(save_row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

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
            for c, (_, col, fmt) in enumerate(_TABLE):
                col = size_col if c == 1 else area_col if c == 2 else col
                v = values[col]
                text = fmt.format(bool(v) if col == "in_statistics" else v)
                self.table.setItem(r, c, _NumberItem(text, float(v)))
        self.table.setSortingEnabled(True)
        unit = review.unit
        self.table.setHorizontalHeaderLabels(
            [f"min Feret ({unit})" if c == 1 else f"area ({unit}²)" if c == 2 else h[0]
             for c, h in enumerate(_TABLE)])
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

    # corrections ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """The click mode: 'select', 'delete' or 'merge'."""
        return _MODES[self.modes.checkedId()]

    def set_mode(self, mode: str) -> None:
        """Choose what a click on a particle does."""
        self.modes.button(_MODES.index(mode)).setChecked(True)
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
    def save_results(self, out, *, overwrite: bool = False) -> Path:
        """Write the segmented images as an ``analyze`` results folder."""
        from ..review import save_results

        folder = save_results(self._done_reviews(), out, overwrite=overwrite)
        self.status.setText(f"results in {folder}")
        return folder

    def save_pairs(self, folder, *, overwrite: bool = False) -> Path:
        """Write the corrected images as training pairs for ``nanosizer adapt --pairs``."""
        from ..review import save_pairs

        folder = save_pairs(self._done_reviews(), folder, overwrite=overwrite)
        self.status.setText(f"pairs in {folder}: nanosizer adapt IMAGES --pairs {folder}")
        return folder

    def export_rois(self, folder) -> list[Path]:
        """Write ``<folder>/<stem>.zip`` ImageJ ROI sets of the segmented images."""
        from ..io import write_roi_zip

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for review in self._done_reviews():
            path = folder / f"{review.name}.zip"
            write_roi_zip(review.labels, path)
            written.append(path)
        return written

    def import_rois(self, path) -> None:
        """Replace the current image's particles by the ROIs of an ImageJ ROI zip."""
        from ..io import read_micrograph, read_roi_zip
        from ..review import ImageReview

        mg = self.review.micrograph if self.review is not None else read_micrograph(
            next(p for p in self.paths if p.stem == self.current))
        labels = read_roi_zip(path, mg.shape)
        config = self.review.config if self.review is not None else self._config()
        self.reviews[self.current] = ImageReview(mg, labels, config,
                                                    {"source": f"ImageJ ROIs {path}"})
        self._after_edit(f"{int(labels.max())} particles from {path}")

    def _done_reviews(self):
        reviews = [self.reviews[p.stem] for p in self.paths if p.stem in self.reviews]
        if not reviews:
            raise ValueError("no image is segmented yet")
        return reviews

    # dialogs ----------------------------------------------------------------------------
    def _ask_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open micrographs")
        if files:
            self.open_images(files)

    def _ask_results(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a results folder")
        if folder:
            self._guard(self.open_results, folder)

    def _ask_save(self) -> None:
        folder, _ = QFileDialog.getSaveFileName(self, "Save results folder")
        if folder:
            self._guard(self.save_results, folder)

    def _ask_pairs(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for training pairs")
        if folder:
            self._guard(self.save_pairs, folder)

    def _ask_roi_in(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "ImageJ ROI zip", filter="ROI (*.zip *.roi)")
        if path:
            self._guard(self.import_rois, path)

    def _ask_roi_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for ROI zips")
        if folder:
            self._guard(self.export_rois, folder)

    def _guard(self, action, *args) -> None:
        from ..errors import InputError

        try:
            action(*args)
        except (InputError, ValueError, OSError) as exc:
            self.status.setText(f"error: {exc}")
