"""The review widget's files: saving results, pairs and ROIs, reading ROIs, and their dialogs.

Errors of the actions a dialog starts go to the status line.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QFileDialog

__all__ = ["FilesMixin"]


class FilesMixin:
    """What :class:`~nanosizer.gui.ReviewWidget` reads and writes, and the file dialogs that
    start it."""

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
