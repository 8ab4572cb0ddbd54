"""Reviewing and correcting segmented particles by hand (no display needed).

:class:`ImageReview` holds one micrograph's labels and particle table and applies the
corrections a microscopist makes (delete, merge, split along a line, paint a missed particle,
undo), measuring again only the particles they change; :class:`Filters` mark particles out of
the statistics without deleting them.  :func:`save_results` writes an ``analyze`` results folder,
:func:`save_pairs` training pairs for ``nanosizer adapt --pairs``, and :func:`load_results`
opens a results folder again.  The napari plugin (:mod:`nanosizer.gui`) is a view of these.
"""

from .folders import load_results, save_pairs, save_results
from .image_review import Filters, ImageReview

__all__ = ["Filters", "ImageReview", "load_results", "save_pairs", "save_results"]
