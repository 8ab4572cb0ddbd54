"""Option parsing shared by several commands."""

from __future__ import annotations

__all__ = ["parse_infobar"]


def parse_infobar(text: str) -> str | int:
    """``"auto"``, ``"none"`` or a row number from the ``--infobar`` option.

    Raises
    ------
    InputError
        When the text is none of these.
    """
    from ..errors import InputError

    if text in ("auto", "none"):
        return text
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--infobar must be auto, none or a row number, got {text!r}") from None
