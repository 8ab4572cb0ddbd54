"""The images ``nanosizer adapt`` adapts to, and the checks of its arguments."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from os import PathLike
from pathlib import Path

from ..errors import InputError

__all__ = ["MAX_IMAGES", "chosen_images", "read_images", "spread_subset"]

log = logging.getLogger("nanosizer.adapt")

#: At most this many of the given images are adapted to (:func:`spread_subset`): the initial
#: model labels each one before training and the adapted model segments each one in the
#: guards (about 0.5 s per 1024 x 768 frame and model on 2 cores), which the budget's reserve
#: must hold (:data:`~nanosizer.adapt._budget.AFTER_FINETUNE_PASSES`).
MAX_IMAGES = 24


def spread_subset(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``, evenly spread over the list (all of them if fewer).

    Parameters
    ----------
    items : list
    limit : int
        At least 1.

    Returns
    -------
    list
        ``items`` itself when ``len(items) <= limit``, else ``limit`` items in their order,
        the first and the last included.
    """
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


def read_images(paths: Iterable[str | PathLike]) -> list:
    """The micrographs of ``paths``, in order.

    Parameters
    ----------
    paths : iterable of path-like
        Files :func:`nanosizer.io.read_micrograph` reads.

    Returns
    -------
    list of Micrograph
    """
    from ..io import read_micrograph

    return [read_micrograph(p) for p in paths]


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"--out {out_dir} exists and is not an empty folder; choose a new folder")


def chosen_images(paths: Iterable[str | PathLike], out_dir: Path) -> tuple[list[Path], int]:
    """The images to adapt to, after checking the output folder.

    Parameters
    ----------
    paths : iterable of path-like
        The images given.
    out_dir : Path
        The model folder to write: it must be new or empty.

    Returns
    -------
    paths : list of Path
        At most :data:`MAX_IMAGES` of them, evenly spread (:func:`spread_subset`).
    given : int
        How many were given.

    Raises
    ------
    InputError
        When ``out_dir`` is a file or a folder that is not empty, or no image is given.
    """
    paths = [Path(p) for p in paths]
    _check_out(out_dir)
    if not paths:
        raise InputError("no images given; pass the micrographs to adapt to")
    given = len(paths)
    paths = spread_subset(paths, MAX_IMAGES)
    if len(paths) < given:
        log.info("adapting to %d of the %d images (evenly spread; images of one kind need no "
                 "more, and the pseudo-labels and guards stay within the budget)", len(paths),
                 given)
    return paths, given
