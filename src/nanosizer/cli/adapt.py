"""``nanosizer adapt``: adapt the segmentation model to your own unlabelled micrographs."""

from __future__ import annotations

import argparse
import shlex
import sys

HELP = "Adapt the CNN segmentation model to your own unlabelled micrographs within a time budget."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer adapt``."""
    parser.add_argument("images", nargs="+", metavar="IMAGES",
                        help="micrographs to adapt to (files, folders or glob patterns; of more "
                             "than 24, 24 evenly spread ones are used)")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR",
                        help="new model folder, usable with 'nanosizer analyze --model MODEL_DIR'")
    parser.add_argument("--budget", type=float, default=20.0, metavar="MINUTES",
                        help="wall-clock budget of the whole run (default: 20)")
    parser.add_argument("--arch", default="unet", choices=("unet", "multiresunet"),
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
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: CUDA when available")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: the CPUs available; 1 is often faster "
                             "on a machine shared with other jobs)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")


def _export_only(args, paths) -> int:
    from ..adapt.pairs_io import export_pairs
    from ..adapt.workflow import AdaptConfig, _read, _real_pairs
    from ..errors import InputError

    if args.transmission is None:
        raise InputError("--export-pairs needs --transmission DIR (the source of the labels)")
    config = AdaptConfig(transmission_dir=args.transmission)
    pairs = _real_pairs(config, paths, _read(paths))
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
    report = adapt(paths, args.out, config, command=command)
    scores = report.get("val_scores", {})
    if report.get("kept") == "initial":
        print(f"adapting did not help (see {args.out}/adapt/report.json): the initial model was "
              f"written to {args.out} unchanged, in {report['minutes']:.1f} min")
        if report.get("rejected_model"):
            print(f"the adapted model it turned down: {args.out}/{report['rejected_model']}")
    else:
        print(f"adapted model written to {args.out} in {report['minutes']:.1f} min (validation "
              f"F1 {scores.get('f1', float('nan')):.3f} on {scores.get('n_images', 0)} images)")
        if report.get("overlays"):
            print(f"before | after outlines: {args.out}/adapt/overlays/ (zoom in on touching "
                  "particles)")
    return 0
