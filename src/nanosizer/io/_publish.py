"""Moving a staged results folder into an existing one: only nanosizer's files, all or nothing.

Every published folder gets a manifest, ``.nanosizer-manifest.json``, listing the files nanosizer
wrote there.  Publishing again (``--overwrite``) replaces and removes only files of that list;
anything else in the folder is the user's and is never touched - a new result whose name is
taken by a file of the user's stops the run instead.  The files are moved one by one (on one file
system, as the staging folder lives beside or inside the destination) and every move is undone
when one fails, so the folder holds either the old results or the new ones.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError

__all__ = ["MANIFEST_NAME", "STAGING_PREFIX", "check_free", "owned_files", "publish"]

#: The manifest of the files nanosizer wrote into a results folder.
MANIFEST_NAME = ".nanosizer-manifest.json"
#: Prefix of nanosizer's hidden working folders inside a results folder.
STAGING_PREFIX = ".nanosizer."


def files_under(root: Path) -> set[str]:
    """Relative POSIX paths of the files (and links) under ``root``, without nanosizer's own."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if not d.startswith(STAGING_PREFIX)]
        found.update((rel / name).as_posix() for name in filenames if name != MANIFEST_NAME)
    return found


def owned_files(out: Path) -> set[str] | None:
    """Files of ``out`` that nanosizer wrote, from its manifest; None when it has none."""
    path = out / MANIFEST_NAME
    if os.path.lexists(path):
        try:
            files = json.loads(path.read_text(encoding="utf-8"))["files"]
            return {str(f) for f in files if isinstance(f, str) and ".." not in Path(f).parts}
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{path} is damaged, so nanosizer cannot tell its files from "
                             "yours; move the folder's contents away or choose another --out"
                             ) from None
    return None


def _legacy_owned(out: Path, legacy: Iterable[str], new: set[str]) -> set[str]:
    """Nanosizer's files in a folder written before manifests existed (as replaced then).

    The top-level files named in ``legacy`` and every file a new result replaces; other files
    inside its folders (``overlays/my_figure.png``) are kept.
    """
    names = set(legacy)
    top = {f for f in files_under(out) if "/" not in f and f in names}
    return top | {f for f in new if os.path.lexists(out / f)}


def check_free(out: Path, new: Iterable[str], legacy: Iterable[str] = ()) -> None:
    """InputError when a file of the user's in ``out`` has the name of a new result.

    Parameters
    ----------
    out : Path
        Existing results folder.
    new : iterable of str
        Relative paths nanosizer is about to write.
    legacy : iterable of str
        Top-level names nanosizer writes, for folders without a manifest.
    """
    new = set(new)
    old = owned_files(out)
    if old is None:
        old = _legacy_owned(out, legacy, new)
    for rel in sorted(new):
        if os.path.lexists(out / rel) and rel not in old:
            raise InputError(
                f"{out / rel} was not written by nanosizer (it is not in {out / MANIFEST_NAME}) "
                "and a new result has its name; move it away or choose another --out"
            )


def _move(src: Path, dst: Path, made: list[Path]) -> None:
    missing = []
    parent = dst.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir()
        made.append(folder)
    os.replace(src, dst)


def publish(staging: Path, out: Path, trash: Path, legacy: Iterable[str] = ()) -> None:
    """Replace nanosizer's files in ``out`` by those of ``staging``, all or nothing.

    Parameters
    ----------
    staging : Path
        The new results (any nesting); emptied on success.
    out : Path
        Existing results folder, on the file system of ``staging``.
    trash : Path
        An empty folder on that file system for the old files while the move is undoable.
    legacy : iterable of str
        Top-level names nanosizer writes, for a folder without a manifest.

    Raises
    ------
    InputError
        A user's file has a new result's name, or a file cannot be moved (permissions); ``out``
        is then exactly as it was.
    """
    legacy = tuple(legacy)
    new = files_under(staging)
    check_free(out, new, legacy)
    old = owned_files(out)
    old = _legacy_owned(out, legacy, new) if old is None else old
    old = {f for f in old if os.path.lexists(out / f)}
    if os.path.lexists(out / MANIFEST_NAME):
        old.add(MANIFEST_NAME)
    (staging / MANIFEST_NAME).write_text(json.dumps({"files": sorted(new)}, indent=1) + "\n",
                                         encoding="utf-8")
    moved_old: list[str] = []
    moved_new: list[str] = []
    made: list[Path] = []
    current = out
    try:
        for rel in sorted(old):
            current = out / rel
            _move(out / rel, trash / rel, [])
            moved_old.append(rel)
        for rel in [*sorted(new), MANIFEST_NAME]:
            current = out / rel
            _move(staging / rel, out / rel, made)
            moved_new.append(rel)
    except OSError as exc:
        _undo(staging, out, trash, moved_old, moved_new, made)
        raise InputError(
            f"cannot replace {current} ({exc.strerror or exc}); nothing in {out} was changed - "
            "make it writable or choose another --out"
        ) from None
    _remove_empty_folders(out, {Path(rel).parent for rel in old} - {Path(".")})
    shutil.rmtree(trash, ignore_errors=True)


def _undo(staging: Path, out: Path, trash: Path, moved_old: list[str], moved_new: list[str],
          made: list[Path]) -> None:
    for rel in reversed(moved_new):
        os.replace(out / rel, staging / rel)
    for folder in reversed(made):
        folder.rmdir()
    for rel in reversed(moved_old):
        _move(trash / rel, out / rel, [])


def _remove_empty_folders(out: Path, folders: set[Path]) -> None:
    """Remove folders that held only nanosizer's old files and are now empty."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        path = out / folder
        while path != out:
            try:
                path.rmdir()
            except OSError:
                break
            path = path.parent
