"""A results folder assembled over one or more runs, so that an interrupted run can continue.

:class:`WorkDir` is the resumable sibling of :class:`~nanosizer.io.StagedDir`: its folder has a
name derived from the destination alone, so a later run finds what an interrupted one (Ctrl-C,
SIGTERM, SIGKILL, power loss) finished.  It lives on the destination's file system:

- ``<out>/.nanosizer.inprogress/`` when ``out`` is an existing folder;
- ``<parent>/.<name>.inprogress/`` beside ``out`` otherwise.

Inside, ``results/`` holds the files to publish, ``state/`` the caller's records of what is
done, and ``lock`` is locked by the run writing into it (so two runs never share it; the lock
goes with the process, however it ends).  :meth:`WorkDir.commit` publishes ``results/`` exactly
as a staged folder is published and removes the work folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError
from ._staging import _check_destination, _make_dir, publish_folder

__all__ = ["WORK_SUFFIX", "WorkDir", "work_dir_of"]

#: Last part of a work folder's name.
WORK_SUFFIX = "inprogress"
_INSIDE_NAME = f".nanosizer.{WORK_SUFFIX}"


def _candidates(out: Path) -> tuple[Path, Path]:
    """Where the work folder of ``out`` may be: inside it, beside it."""
    absolute = out.absolute()
    return out / _INSIDE_NAME, absolute.parent / f".{absolute.name}.{WORK_SUFFIX}"


def work_dir_of(out: str | os.PathLike) -> Path | None:
    """The work folder of an unfinished run into ``out``, or None.

    Parameters
    ----------
    out : path-like
        Results folder.

    Returns
    -------
    Path or None
        ``<out>/.nanosizer.inprogress`` or ``<parent>/.<name>.inprogress``, whichever exists.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> work_dir_of(root / "results") is None
    True
    """
    for path in _candidates(Path(out)):
        if path.is_dir():
            return path
    return None


def _lock(root: Path, out: Path) -> int | None:
    """Hold ``root/lock`` exclusively for this process (released by closing the descriptor).

    The kernel drops the lock when the process ends, however it ends, so only a run that is
    still going holds it.  None where ``fcntl`` does not exist (Windows): no lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot write in {root} ({exc.strerror or exc}); choose a writable "
                         "--out") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise InputError(f"another nanosizer run is writing into {out} (it holds {root}); "
                         "wait for it to finish or stop it") from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _finished(out: Path) -> bool:
    """True when ``out`` holds results nanosizer published (it has their manifest)."""
    from ._publish import MANIFEST_NAME

    return os.path.lexists(out / MANIFEST_NAME)


class WorkDir:
    """The work folder of a results folder that can be completed by a later run.

    Parameters
    ----------
    out : path-like
        Final results folder: absent or empty, or anything with ``overwrite`` (its own work
        folder does not count).  Checked at once.
    overwrite : bool, optional
        Publish into a non-empty ``out`` (see :class:`~nanosizer.io.StagedDir`); without
        ``resume``, an unfinished run's work folder is removed and the run starts over.
    owned : tuple of str, optional
        Top-level names nanosizer writes, for folders without a manifest.
    resume : bool, optional
        Continue in the work folder of an unfinished run when there is one (else start one).

    Attributes
    ----------
    root : Path
        The work folder.
    results : Path
        ``root / "results"``: the files that :meth:`commit` publishes.
    state : Path
        ``root / "state"``: the caller's records, removed with the folder.
    resumed : bool
        True when an unfinished run's folder was reopened.

    Raises
    ------
    InputError
        When ``out`` is occupied or not writable, has an unfinished run and neither ``resume``
        nor ``overwrite`` is given (the work folder is then left alone), ``resume`` is given
        for finished results without ``overwrite``, or another run is writing into ``out``
        (it holds the work folder's ``lock``, as long as it runs).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> work = WorkDir(root / "results")
    >>> work.root.name
    '.results.inprogress'
    >>> _ = (work.results / "summary.csv").write_text("n\\n3\\n")
    >>> sorted(p.name for p in work.commit().iterdir())
    ['.nanosizer-manifest.json', 'summary.csv']
    >>> work.root.exists()
    False
    """

    def __init__(self, out: str | os.PathLike, *, overwrite: bool = False,
                 owned: tuple[str, ...] = (), resume: bool = False) -> None:
        self.out = Path(out)
        self.overwrite = bool(overwrite)
        self.owned = tuple(owned)
        self._fd: int | None = None
        self._done = False
        found = self._open_existing(resume)
        try:
            if found is None and resume and not overwrite and _finished(self.out):
                raise InputError(f"{self.out} holds the results of a finished run, so there "
                                 "is nothing to resume; choose another --out, or pass "
                                 "--overwrite to analyse again")
            _check_destination(self.out, self.overwrite, frozenset({_INSIDE_NAME}))
        except BaseException:
            self.close()
            raise
        self.resumed = found is not None
        if found is None:
            inside, beside = _candidates(self.out)
            found = inside if self.out.is_dir() else beside
            _make_dir(found, self.out)
            self._fd = _lock(found, self.out)
            try:
                _make_dir(found / "state", self.out)
                _make_dir(found / "results", self.out)  # last: marks the folder resumable
            except BaseException:
                self.close()
                raise
        self.root = found
        self.results = found / "results"
        self.state = found / "state"

    def _open_existing(self, resume: bool) -> Path | None:
        """The unfinished run's work folder, locked; None when there is none (any more).

        One without ``results/`` holds nothing to continue (it was being created, or its
        results were published when the run stopped) and is removed, as is an unfinished run
        that ``overwrite`` without ``resume`` starts over.
        """
        found = work_dir_of(self.out)
        if found is None:
            return None
        self._fd = _lock(found, self.out)
        if (found / "results").is_dir() and resume:
            return found
        if (found / "results").is_dir() and not self.overwrite:
            self.close()
            raise InputError(
                f"{self.out} has an unfinished run (its finished images are kept in "
                f"{found}); add --resume to continue it, or --overwrite to start over"
            )
        shutil.rmtree(found, ignore_errors=True)
        self.close()
        return None

    def check_free(self, names: Iterable[str]) -> None:
        """InputError now when a user's file in :attr:`out` has the name of a future result."""
        from ._publish import check_free

        if self.out.is_dir():
            check_free(self.out, names, self.owned)

    def prune(self, keep: Iterable[str]) -> None:
        """Remove every file under :attr:`results` but ``keep`` (relative POSIX paths).

        Left-overs of the interrupted run (an image's files without its record, temporary
        files of a write cut short) must not be published.
        """
        keep = set(keep)
        for dirpath, _dirnames, filenames in os.walk(self.results):
            rel = Path(dirpath).relative_to(self.results)
            for name in filenames:
                if (rel / name).as_posix() not in keep:
                    (Path(dirpath) / name).unlink()

    def commit(self) -> Path:
        """Publish :attr:`results` into :attr:`out`, remove the work folder; returns ``out``.

        Raises
        ------
        InputError
            As :func:`~nanosizer.io._staging.publish_folder`; the work folder is then kept, so
            the run can be completed once the cause is removed.
        """
        if self._done:
            raise RuntimeError("work folder was already committed or discarded")
        publish_folder(self.results, self.out, overwrite=self.overwrite, owned=self.owned,
                       ignore=frozenset({_INSIDE_NAME}))
        self.discard()
        return self.out

    def discard(self) -> None:
        """Remove the work folder and everything in it (safe to call twice)."""
        shutil.rmtree(self.results, ignore_errors=True)  # first: the rest is not resumable
        shutil.rmtree(self.root, ignore_errors=True)
        self._done = True
        self.close()

    def close(self) -> None:
        """Let another run open the work folder (it is kept; safe to call twice)."""
        _unlock(self._fd)
        self._fd = None

    def __repr__(self) -> str:
        return f"WorkDir(out={str(self.out)!r}, root={str(self.root)!r})"
