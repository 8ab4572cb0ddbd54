"""Exceptions that the command line turns into exit codes, and the warning it prints."""

from __future__ import annotations

__all__ = ["InputError", "NanosizerWarning"]


class InputError(ValueError):
    """Bad user input: a file that cannot be read, a wrong option value, an occupied folder.

    The message is one line that names the file or option and says how to fix it; the CLI
    prints it and exits with status 2.
    """


class NanosizerWarning(UserWarning):
    """Something the user must know about a result that is still produced (e.g. images left
    uncalibrated); the CLI prints it as one ``warning:`` line."""
