"""Exceptions that the command line turns into exit codes."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input: a file that cannot be read, a wrong option value, an occupied folder.

    The message is one line that names the file or option and says how to fix it; the CLI
    prints it and exits with status 2.
    """
