"""Folders that appear complete or not at all: the one writer of results, models and GAN folders.

:class:`StagedDir` collects a run's files in a hidden folder beside the destination and moves
them into place only when the run succeeded; a failed or interrupted run leaves no partial
results behind.  :func:`write_folder` is the same for a folder written by one function (model
and GAN folders).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputError

__all__ = ["StagedDir", "prepare_output_dir", "publish_folder", "staged_output_dir",
           "write_folder"]


def _check_destination(out: Path, overwrite: bool, ignore: frozenset[str] = frozenset()) -> None:
    """InputError unless ``out`` is absent, an empty folder, or (with ``overwrite``) a folder.

    Entries named in ``ignore`` (the run's own staging folder) do not count.
    """
    try:
        if out.exists() and not out.is_dir():
            raise InputError(f"results folder {out} is a file; choose another --out")
        occupied = out.is_dir() and any(e.name not in ignore for e in out.iterdir())
    except PermissionError:
        raise InputError(f"results folder {out} cannot be read; choose a writable --out") from None
    if occupied and not overwrite:
        raise InputError(
            f"results folder {out} is not empty; choose another --out or pass --overwrite"
        )


def _make_dir(path: Path, what: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create results folder {what} ({exc.strerror or exc}); "
            "choose a writable --out"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"results folder {what} is not writable; choose a writable --out")


def _new_hidden_dir(parent: Path, name: str, kind: str) -> Path:
    """Create ``parent/.<name>.<random>.<kind>`` with the user's default permissions."""
    for _ in range(100):
        path = parent / f".{name}.{secrets.token_hex(4)}.{kind}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(
                f"cannot write next to results folder {parent / name} ({exc.strerror or exc}); "
                "choose a writable --out"
            ) from None
        return path
    raise RuntimeError(f"could not create a staging folder in {parent}")


def prepare_output_dir(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Create the results folder ``out`` (with parents) and check that it may be written.

    Parameters
    ----------
    out : path-like
        Results folder.
    overwrite : bool, optional
        Accept a non-empty folder (its files with the names of new results are replaced).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        ``out`` is a file, is not empty (without ``overwrite``), or cannot be created/written.
    """
    out = Path(out)
    _check_destination(out, overwrite)
    _make_dir(out, out)
    return out


def publish_folder(staging: Path, out: Path, *, overwrite: bool, owned: tuple[str, ...] = (),
                   ignore: frozenset[str] = frozenset()) -> None:
    """Move the files of ``staging`` into ``out``; ``staging`` is gone afterwards.

    A new ``out`` is ``staging`` renamed (with a manifest of its files); into an existing one the
    files are moved by :func:`nanosizer.io._publish.publish`: only files of nanosizer's manifest
    are replaced or removed, all or nothing.

    Parameters
    ----------
    staging : Path
        The finished results, on the file system of ``out``.
    out : Path
        Destination folder.
    overwrite : bool
        A non-empty ``out`` may be published into.
    owned : tuple of str
        Top-level names that count as nanosizer's in a folder without a manifest.
    ignore : frozenset of str
        Entries of ``out`` that do not make it occupied (nanosizer's own working folders).

    Raises
    ------
    InputError
        When ``out`` is a file or a non-empty folder (without overwrite), a file of the user's
        has a new result's name, or a file cannot be replaced; ``staging`` and ``out`` are then
        as they were.
    """
    from ._publish import MANIFEST_NAME, files_under, publish

    _check_destination(out, overwrite, ignore)
    if not os.path.lexists(out):
        manifest = {"files": sorted(files_under(staging))}
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n",
                                             encoding="utf-8")
        os.replace(staging, out)
        return
    # an existing (possibly empty, ".", or symlinked) folder: move the files in
    trash = _new_hidden_dir(out, "nanosizer", "old")
    try:
        publish(staging, out, trash, legacy=owned)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


class StagedDir:
    """A hidden staging folder beside ``out`` whose content is published on :meth:`commit`.

    Parameters
    ----------
    out : path-like
        Final results folder: absent or empty, or anything with ``overwrite``.  Checked at once,
        so a run fails before doing any work.
    overwrite : bool, optional
        On commit, replace the files nanosizer wrote into ``out`` before (listed in its
        manifest ``.nanosizer-manifest.json``) by the new ones, and remove those the new run
        did not write, so no stale result survives.  Other files in ``out`` are left alone:
        nanosizer never deletes what it did not write.
    owned : tuple of str, optional
        Top-level names the writer may produce (e.g. ``results.xlsx``): in a folder written
        before manifests existed, these files count as nanosizer's.

    Attributes
    ----------
    path : Path
        The staging folder to write into: ``<parent>/.<name>.<random>.partial`` when ``out``
        does not exist yet, else ``<out>/.nanosizer.<random>.partial`` (on the file system of
        ``out`` even when ``out`` is a mount point or a link to another disk).
    out : Path
        The destination.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with StagedDir(root / "results") as staged:
    ...     _ = (staged.path / "summary.csv").write_text("n\\n3\\n")
    >>> sorted(p.name for p in (root / "results").iterdir())
    ['.nanosizer-manifest.json', 'summary.csv']
    """

    def __init__(
        self, out: str | os.PathLike, overwrite: bool = False, owned: tuple[str, ...] = ()
    ) -> None:
        self.out = Path(out)
        self.overwrite = bool(overwrite)
        self.owned = tuple(owned)
        _check_destination(self.out, self.overwrite)
        if self.out.is_dir():  # stage inside it: on its own file system, whatever is mounted
            _make_dir(self.out, self.out)
            self.path = _new_hidden_dir(self.out, "nanosizer", "partial")
        else:
            parent = self.out.absolute().parent
            _make_dir(parent, self.out)
            self.path = _new_hidden_dir(parent, self.out.name, "partial")
        self._done = False

    def commit(self) -> Path:
        """Move the staged files into :attr:`out` and remove the staging folder; returns ``out``.

        A new ``out`` is the staging folder renamed; into an existing one the files are moved
        by :func:`nanosizer.io._publish.publish`: only files of nanosizer's manifest are
        replaced or removed, all or nothing.

        Raises
        ------
        InputError
            When ``out`` has meanwhile become a file or a non-empty folder (without overwrite),
            a file of the user's has a new result's name, or a file cannot be replaced; the
            staged files are then discarded and ``out`` is as it was.
        """
        if self._done:
            raise RuntimeError("staged folder was already committed or discarded")
        try:
            publish_folder(self.path, self.out, overwrite=self.overwrite, owned=self.owned,
                           ignore=frozenset({self.path.name}))
        except BaseException:
            self.discard()
            raise
        self._done = True
        return self.out

    def check_free(self, names: "Iterable[str]") -> None:
        """InputError now when a user's file in :attr:`out` has the name of a future result.

        ``names`` are relative paths (``labels/a.tif``); see
        :func:`nanosizer.io._publish.check_free`.  Lets a run stop before doing any work.
        """
        from ._publish import check_free

        if self.out.is_dir():
            check_free(self.out, names, self.owned)

    def discard(self) -> None:
        """Remove the staging folder and everything in it (safe to call twice)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._done = True

    def __enter__(self) -> "StagedDir":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
        elif not self._done:
            self.commit()

    def __repr__(self) -> str:
        return f"StagedDir(out={str(self.out)!r}, path={str(self.path)!r})"


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Context manager yielding a staging folder that becomes ``out`` when the block succeeds.

    If the block raises (or is interrupted), everything written is removed and ``out`` is left
    as it was.  See :class:`StagedDir` for the rules on ``out`` and ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with staged_output_dir(root / "results") as folder:
    ...     _ = (folder / "run.json").write_text("{}")
    >>> (root / "results" / "run.json").is_file()
    True
    """
    staged = StagedDir(out, overwrite=overwrite)
    try:
        yield staged.path
    except BaseException:
        staged.discard()
        raise
    staged.commit()


def _umask() -> int:
    """The process's file-mode creation mask (read without changing it where possible)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_permissions(folder: Path) -> None:
    """Give ``folder`` and everything in it the modes of ordinary new files and folders.

    Private temporary folders (0700) and safetensors (0600) would otherwise leave a model folder
    that colleagues sharing it cannot read; the user's umask is respected.
    """
    mask = _umask()
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def write_folder(folder: str | os.PathLike, write, *, overwrite: bool = False,
                 kind: str = "folder") -> Path:
    """Write a folder with ``write(staging)`` and publish it whole (:class:`StagedDir`).

    Readers never see a half-written folder and a failed ``write`` leaves nothing behind.  With
    ``overwrite``, the files nanosizer wrote into an existing ``folder`` are replaced (those
    of its manifest, or ``config.json``/``weights.safetensors`` and the names of new files in
    a folder without one); a user's own files are kept.

    Parameters
    ----------
    folder : path-like
        Destination.
    write : callable
        ``write(staging_folder)`` writes the files.
    overwrite : bool
        Publish into an existing non-empty folder.
    kind : str
        What the folder is, for error messages.

    Returns
    -------
    folder : Path

    Raises
    ------
    InputError
        ``folder`` is a file, or is not empty and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> out = write_folder(root / "gan", lambda tmp: (tmp / "a.json").write_text("{}"))
    >>> sorted(p.name for p in out.iterdir())
    ['.nanosizer-manifest.json', 'a.json']
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{kind} {folder} is a file; choose another output folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise InputError(f"{kind} {folder} is not empty; choose another folder or overwrite")
    with StagedDir(folder, overwrite=overwrite, owned=_MODEL_FILES) as staged:
        write(staged.path)
        default_permissions(staged.path)
    return folder


#: Top-level names a model folder written before manifests existed holds.
_MODEL_FILES = ("config.json", "weights.safetensors")
