"""Images a batch could not analyse: what went wrong, in one line, for ``failures.csv``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["FAILURE_COLUMNS", "ImageFailure", "failure_of"]

#: Columns of ``failures.csv``.
FAILURE_COLUMNS = ("file", "kind", "reason")


@dataclass(frozen=True)
class ImageFailure:
    """One image left out of a batch.

    Attributes
    ----------
    file : str
        The image file as given.
    kind : {'input', 'internal'}
        ``'input'``: the file cannot be read or analysed (damaged, too large, ...), which the
        user can fix; ``'internal'``: a nanosizer bug, to be reported.
    reason : str
        One line saying what went wrong and how to fix it.
    """

    file: str
    kind: str
    reason: str

    def to_dict(self) -> dict:
        """JSON-ready dict (also a row of ``failures.csv``)."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def failure_of(path: Path, exc: BaseException) -> ImageFailure:
    """The :class:`ImageFailure` of ``path`` for the exception its analysis raised.

    Examples
    --------
    >>> failure_of(Path("a.tif"), InputError("a.tif: file is empty (0 bytes); copy it again"))
    ImageFailure(file='a.tif', kind='input', reason='file is empty (0 bytes); copy it again')
    >>> failure_of(Path("a.tif"), KeyError("x")).kind
    'internal'
    """
    if isinstance(exc, InputError):
        reason = _one_line(str(exc))
        prefix = f"{path}: "
        return ImageFailure(str(path), "input", reason.removeprefix(prefix))
    if isinstance(exc, MemoryError):
        return ImageFailure(str(path), "input", "not enough memory to analyse it; analyse it "
                            "on a machine with more memory or crop it into smaller images")
    detail = _one_line(str(exc))
    detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return ImageFailure(str(path), "internal",
                        f"internal error ({detail}); please report it with the file")
