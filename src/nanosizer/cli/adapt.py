"""``nanosizer adapt``: adapt the segmentation model to your own unlabelled micrographs."""

from __future__ import annotations

import argparse
import shlex
import sys

from .. import choices

HELP = "Adapt the CNN segmentation model to your own unlabelled micrographs within a time budget."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer adapt``."""
    parser.add_argument("images", nargs="+", metavar="IMAGES",
                        help="micrographs to adapt to (files, folders or glob patterns; of more "
                             "than 24, 24 evenly spread ones are used)")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR",
                        help="new model folder, usable with 'nanosizer analyze --model MODEL_DIR'")
    parser.add_argument("--budget", type=float, default=20.0, metavar="MINUTES",
                        help="wall-clock budget of the whole command, start-up to written "
                             "model (default: 20); a budget too small for labelling the images "
                             "with the initial model, the checks and writing the model is "
                             "refused after that first pass, with the minimum")
    parser.add_argument("--arch", default="unet", choices=choices.ARCHITECTURES,
                        help="architecture; the shipped model of it is the starting point "
                             "(default: unet)")
    parser.add_argument("--init", metavar="MODEL",
                        help="model folder to start from instead of the shipped one; "
                             "'none' starts from random weights")
    parser.add_argument("--outlines", metavar="DIR",
                        help="example particle outlines (binary images, white particle) for the "
                             "outline GAN")
    parser.add_argument("--transmission", metavar="DIR",
                        help="folder of TSEM/TEM twins of the images (file number + 1); their "
                             "thresholded, registered masks label the SEM images")
    parser.add_argument("--pairs", metavar="DIR",
                        help="labelled pairs to train on (images/ + labels/, e.g. hand-corrected "
                             "ones from --export-pairs)")
    parser.add_argument("--export-pairs", metavar="DIR",
                        help="only write the TSEM-derived training pairs to DIR for hand "
                             "correction (then rerun with --pairs DIR)")
    parser.add_argument("--cyclegan", choices=("auto", "on", "off"), default="auto",
                        help="render training images with a CycleGAN (auto: only without real "
                             "pairs and with too few isolated particles to copy-paste)")
    parser.add_argument("--no-self-training", action="store_true",
                        help="skip self-training on the initial model's confident pseudo-labels "
                             "and the copy-paste composites made from them")
    parser.add_argument("--tile", type=int, default=256, help="training crop side (default: 256)")
    parser.add_argument("--device", choices=choices.DEVICES, help="default: CUDA when available")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: the CPUs available; 1 is often faster "
                             "on a machine shared with other jobs)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")


def _export_only(args, paths) -> int:
    from ..adapt.pairs_io import export_pairs
    from ..adapt.workflow import AdaptConfig, read_images, real_pairs
    from ..errors import InputError

    if args.transmission is None:
        raise InputError("--export-pairs needs --transmission DIR (the source of the labels)")
    config = AdaptConfig(transmission_dir=args.transmission)
    pairs = real_pairs(config, paths, read_images(paths))
    export_pairs(args.export_pairs, pairs)
    for p in pairs:
        print(f"{p.name}: {p.labels.max()} particles, TSEM shift dy={p.shift[0]:.2f} "
              f"dx={p.shift[1]:.2f} px")
    print(f"pairs written to {args.export_pairs}; correct labels/*.tif, then rerun with --pairs")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer adapt``."""
    import logging

    from ..adapt.workflow import AdaptConfig, adapt
    from ..io import expand_paths
    from ..train.deadline import Deadline

    deadline = Deadline.from_minutes(args.budget, since_process_start=True)
    paths = expand_paths(args.images)
    if args.export_pairs is not None:
        return _export_only(args, paths)
    init = args.arch if args.init is None else (None if args.init == "none" else args.init)
    config = AdaptConfig(
        arch=args.arch, init_model=init, budget_minutes=args.budget, outlines_dir=args.outlines,
        transmission_dir=args.transmission, pairs_dir=args.pairs, cyclegan=args.cyclegan,
        self_training=not args.no_self_training, tile=args.tile, seed=args.seed,
        device=args.device, threads=args.threads,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    argv = sys.argv[1:] if sys.argv[1:2] == ["adapt"] else ["adapt", "..."]
    command = "nanosizer " + " ".join(shlex.quote(a) for a in argv)
    report = adapt(paths, args.out, config, command=command, deadline=deadline)
    print("\n".join(summary_lines(report, args.out)))
    return 0


def summary_lines(report: dict, out: str) -> list[str]:
    """What ``nanosizer adapt`` prints at the end, from its report.

    The initial and the adapted network are scored on the same validation data with the
    same procedure (thresholds tuned for each), so the two figures can be compared; the
    written model's own figure (with its stored thresholds) is given separately.
    """
    from pathlib import Path

    out_dir = Path(out)
    lines = []
    if report.get("kept") == "initial":
        lines.append(f"adapting did not help (see {out_dir / 'adapt' / 'report.json'}): the "
                     f"initial model was written to {out_dir} unchanged, in "
                     f"{report['minutes']:.1f} min")
    else:
        lines.append(f"adapted model written to {out_dir} in {report['minutes']:.1f} min")
    scores = report.get("val_scores", {})
    n = scores.get("n_images", report.get("n_val_images"))
    on = f" on {n} validation images" if n else " on the validation images"
    if "initial_val_f1" in report and "adapted_val_f1" in report:
        lines.append(f"  F1{on} (thresholds tuned for each): initial "
                     f"{report['initial_val_f1']:.3f}, adapted {report['adapted_val_f1']:.3f}; "
                     f"kept: {report.get('kept', 'adapted')}")
    elif "initial_val_f1" in report:
        lines.append(f"  F1{on}: initial {report['initial_val_f1']:.3f}")
    if report.get("kept") != "initial" and "f1" in scores:
        stored = ("with the initial model's thresholds, stored with it"
                  if "f1_tuned_thresholds" in scores else "with its tuned thresholds")
        lines.append(f"  the written model {stored}: F1 {scores['f1']:.3f}{on}")
    if report.get("kept") == "initial" and report.get("rejected_model"):
        lines.append(f"  the adapted model it turned down: {out_dir / report['rejected_model']}")
    if report.get("kept") != "initial" and report.get("overlays"):
        lines.append(f"  before | after outlines: {out_dir / 'adapt' / 'overlays'} (zoom in on "
                     "touching particles)")
    return lines
