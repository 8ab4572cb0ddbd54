"""Expanding command-line paths (files, folders, globs) into a sorted list of image files."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ._formats import IMAGE_EXTENSIONS

__all__ = ["expand_paths"]

_GLOB_CHARS = frozenset("*?[")


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Image files named by files, folders (non-recursive) and glob patterns.

    Parameters
    ----------
    paths : sequence of str
        Files are kept whatever their extension (reading reports unsupported ones); folders
        contribute their image files (by extension, see :data:`IMAGE_EXTENSIONS`); patterns
        containing ``*``, ``?`` or ``[`` are expanded to the image files they match.

    Returns
    -------
    list of Path
        Sorted, without duplicates (compared after resolving).

    Raises
    ------
    InputError
        A path that does not exist or cannot be read, a pattern that matches no image, or a
        folder with no image.
    """
    if isinstance(paths, (str, Path)):
        paths = [str(paths)]
    found: dict[Path, Path] = {}
    for text in paths:
        try:
            expanded = _expand_one(str(text))
        except PermissionError:
            raise InputError(
                f"{text}: permission denied (cannot list or open it); make it readable"
            ) from None
        for path in expanded:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=lambda p: (str(p.parent), p.name))


def _expand_one(text: str) -> list[Path]:
    path = Path(text).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        images = [p for p in path.iterdir() if p.is_file() and _is_image(p)]
        if not images:
            known = ", ".join(sorted(ext.lstrip(".") for ext in IMAGE_EXTENSIONS))
            raise InputError(f"{text}: folder has no image files ({known}); check the folder")
        return images
    if _GLOB_CHARS & set(text):
        matches = [Path(m) for m in glob.glob(str(path))]
        images = [p for p in matches if p.is_file() and _is_image(p)]
        if not images:
            raise InputError(f"{text}: pattern matches no image file; check the pattern")
        return images
    raise InputError(f"{text}: no such file or folder; check the path")


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
