"""napari plugin: review, correct and save particles (``pip install -e ".[gui]"``).

``nanosizer gui [IMAGES...]`` opens napari with the :class:`~nanosizer.gui._widget.ReviewWidget`
docked; in napari it is under *Plugins > nanosizer review*.  Importing this package imports
neither napari nor Qt; :func:`launch` does.
"""

from __future__ import annotations

__all__ = ["launch"]


def launch(images=(), results=None, *, run: bool = True):
    """Open a napari viewer with the review widget, the ``images`` and/or a ``results`` folder.

    Parameters
    ----------
    images : sequence of path
        Micrographs to list (files, folders or globs).
    results : path, optional
        An ``analyze`` results folder to open for correction.
    run : bool
        Start the Qt event loop (False: return at once, for scripts and tests).

    Returns
    -------
    (napari.Viewer, ReviewWidget)
    """
    import napari

    from ._widget import ReviewWidget

    viewer = napari.Viewer(title="nanosizer review")
    widget = ReviewWidget(viewer)
    viewer.window.add_dock_widget(widget, name="nanosizer review", area="right")
    if images:
        widget.open_images(images)
    if results is not None:
        widget.open_results(results)
    if run:
        napari.run()
    return viewer, widget
