"""Entry point of the ``nanosizer`` command.

Each command lives in ``nanosizer.cli.<name>`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``.  Argument parsing imports nothing heavy, so
``--help`` is instant; heavy imports happen inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order is the order shown by ``nanosizer --help``.
COMMANDS: tuple[str, ...] = ("analyze", "compare", "evaluate", "info", "train", "synth", "adapt", "gui")

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Parser with one sub-command per module listed in :data:`COMMANDS`."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="nanosizer",
        description="Calibrated nanoparticle size distributions from electron micrographs.",
    )
    parser.add_argument("--version", action="version", version=f"nanosizer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"nanosizer.cli.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status (0 ok, 1 internal, 2 bad input)."""
    from ..errors import InputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(args._run(args) or EXIT_OK)
    except InputError as exc:
        print(f"nanosizer {args.command}: error: {exc}{_notes(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        print(f"nanosizer {args.command}: interrupted{_notes(exc)}", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: one line, exit 1
        print(
            f"nanosizer {args.command}: internal error: {type(exc).__name__}: {exc} "
            f"(please report this with the command you ran){_notes(exc)}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _notes(exc: BaseException) -> str:
    """The exception's notes (e.g. where an interrupted run's work is kept), on the same line."""
    return "".join(f"; {note}" for note in getattr(exc, "__notes__", ()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
