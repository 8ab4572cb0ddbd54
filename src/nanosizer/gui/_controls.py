"""The review widget's controls, built into its layout (one function per row of controls)."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
)

from ._drawing import TABLE_COLUMNS

__all__ = ["MODES", "build_controls"]

#: What a click on a particle does, in the order of the mode buttons.
MODES = ("select", "delete", "merge")


def build_controls(widget) -> None:
    """Create every control of ``widget`` (a :class:`ReviewWidget`) in a vertical layout."""
    layout = QVBoxLayout(widget)
    for add in (_file_list, _run_controls, _edit_controls, _filter_sliders, _summary,
                _results_view, _save_row):
        add(widget, layout)


def _file_list(widget, layout: QVBoxLayout) -> None:
    """Add the file list and the buttons that open images or results."""
    widget.files = QListWidget()
    widget.files.currentRowChanged.connect(widget._on_file)
    open_row = QHBoxLayout()
    for text, slot in (("Open images…", widget._ask_images), ("Open results…", widget._ask_results)):
        button = QPushButton(text)
        button.clicked.connect(slot)
        open_row.addWidget(button)
    layout.addLayout(open_row)
    layout.addWidget(widget.files)


def _run_controls(widget, layout: QVBoxLayout) -> None:
    """Add pixel size, method, model and the run buttons with their progress bar."""
    grid = QGridLayout()
    grid.addWidget(QLabel("pixel size"), 0, 0)
    widget.pixel_size = QLineEdit()
    widget.pixel_size.setPlaceholderText("e.g. 7.34 nm (empty: pixels)")
    widget.pixel_size.editingFinished.connect(widget._on_pixel_size)
    grid.addWidget(widget.pixel_size, 0, 1)
    grid.addWidget(QLabel("method"), 1, 0)
    widget.method = QComboBox()
    widget.method.addItems(["unet", "classical", "multiresunet"])
    grid.addWidget(widget.method, 1, 1)
    grid.addWidget(QLabel("model"), 2, 0)
    widget.model = QLineEdit()
    widget.model.setPlaceholderText("shipped (or a trained model folder)")
    grid.addWidget(widget.model, 2, 1)
    layout.addLayout(grid)
    run_row = QHBoxLayout()
    widget.run_one = QPushButton("Run on image")
    widget.run_one.clicked.connect(lambda: widget.run(all_images=False))
    widget.run_all = QPushButton("Run on all")
    widget.run_all.clicked.connect(lambda: widget.run(all_images=True))
    widget.cancel = QPushButton("Cancel")
    widget.cancel.setEnabled(False)
    widget.cancel.clicked.connect(widget.cancel_run)
    for w in (widget.run_one, widget.run_all, widget.cancel):
        run_row.addWidget(w)
    layout.addLayout(run_row)
    widget.progress = QProgressBar()
    layout.addWidget(widget.progress)


def _edit_controls(widget, layout: QVBoxLayout) -> None:
    """Add the click modes and the correction buttons."""
    mode_row = QHBoxLayout()
    widget.modes = QButtonGroup(widget)
    for k, name in enumerate(MODES):
        button = QPushButton(f"{name} (click)")
        button.setCheckable(True)
        button.setChecked(k == 0)
        widget.modes.addButton(button, k)
        mode_row.addWidget(button)
    layout.addLayout(mode_row)
    edit_row = QHBoxLayout()
    for text, slot in (("Split along line", widget.split_along_line),
                       ("Add painted", widget.add_painted), ("Undo", widget.undo)):
        button = QPushButton(text)
        button.clicked.connect(slot)
        edit_row.addWidget(button)
    layout.addLayout(edit_row)


def _filter_sliders(widget, layout: QVBoxLayout) -> None:
    """Add the range sliders that choose the particles in the statistics."""
    from superqt import QLabeledDoubleRangeSlider

    widget.sliders = {}
    for key, text in (("size", "size"), ("solidity", "solidity"),
                      ("circularity", "circularity")):
        slider = QLabeledDoubleRangeSlider(Qt.Horizontal)
        slider.setRange(0.0, 1.0)
        slider.setValue((0.0, 1.0))
        slider.valueChanged.connect(widget._on_filters)
        widget.sliders[key] = slider
        layout.addWidget(QLabel(f"{text} in the statistics"))
        layout.addWidget(slider)


def _summary(widget, layout: QVBoxLayout) -> None:
    """Add the summary line."""
    widget.summary = QLabel("no image")
    widget.summary.setWordWrap(True)
    layout.addWidget(widget.summary)


def _results_view(widget, layout: QVBoxLayout) -> None:
    """Add the histogram and the particle table."""
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    widget.figure = Figure(figsize=(3, 2), layout="constrained")
    widget.canvas = FigureCanvasQTAgg(widget.figure)
    layout.addWidget(widget.canvas)
    widget.table = QTableWidget(0, len(TABLE_COLUMNS))
    widget.table.setHorizontalHeaderLabels([c[0] for c in TABLE_COLUMNS])
    widget.table.setSelectionBehavior(QAbstractItemView.SelectRows)
    widget.table.setSelectionMode(QAbstractItemView.SingleSelection)
    widget.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    widget.table.itemSelectionChanged.connect(widget._on_row)
    layout.addWidget(widget.table)


def _save_row(widget, layout: QVBoxLayout) -> None:
    """Add the buttons that save results, pairs and ROIs, and the status line."""
    save_row = QHBoxLayout()
    for text, slot in (("Save results…", widget._ask_save), ("Save pairs…", widget._ask_pairs),
                       ("ROIs in…", widget._ask_roi_in), ("ROIs out…", widget._ask_roi_out)):
        button = QPushButton(text)
        button.clicked.connect(slot)
        save_row.addWidget(button)
    layout.addLayout(save_row)
    widget.status = QLabel("")
    widget.status.setWordWrap(True)
    layout.addWidget(widget.status)

