"""``nanosizer gui``: review and correct particles in napari."""

from __future__ import annotations

import argparse
import importlib.util

HELP = "Open napari to look at, correct and save particles (needs: pip install -e \".[gui]\")."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer gui``."""
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="micrographs to open (files, folders or globs)")
    parser.add_argument("--results", metavar="DIR",
                        help="an analyze results folder to open for more corrections")


def run(args: argparse.Namespace) -> int:
    """Check the inputs, then that napari is installed, then open the viewer."""
    from pathlib import Path

    from ..errors import InputError
    from ..io import expand_paths

    images = expand_paths(args.images) if args.images else []
    if args.results is not None and not (Path(args.results) / "run.json").is_file():
        raise InputError(f"{args.results}: no run.json; give a folder written by nanosizer "
                         "analyze")
    if importlib.util.find_spec("napari") is None:
        raise InputError('napari is not installed; install the GUI with pip install -e ".[gui]"')
    from ..gui import launch

    launch(images, args.results)
    return 0
