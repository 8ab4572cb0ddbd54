"""``nanosizer train``: train a UNet or MultiResUNet segmentation model."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .. import choices

HELP = "Train a CNN segmentation model on synthetic micrographs or a labelled image folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer train``."""
    _data_options(parser)
    _schedule_options(parser)
    _network_options(parser)


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", default="unet", choices=choices.ARCHITECTURES,
                        help="network architecture (default: unet)")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR",
                        help="output model folder (also holds checkpoint.pt, train.log, metrics.csv)")
    parser.add_argument("--data", metavar="DIR",
                        help="folder with images/ and labels/ (instance labels, same stems); "
                             "default: synthetic micrographs generated on the fly")
    parser.add_argument("--modality", choices=choices.MODALITIES,
                        help="synthetic modality (default: a mix)")
    parser.add_argument("--outlines", metavar="DIR",
                        help="folder of binary particle outlines added as a synthetic shape family")
    parser.add_argument("--synth-size", type=int, metavar="PX",
                        help="side of the generated synthetic images (default: max(tile, 256))")
    parser.add_argument("--particle-px", type=float, nargs=2, default=(8.0, 110.0),
                        metavar=("LOW", "HIGH"),
                        help="range of the synthetic images' median particle size in px "
                             "(default: 8 110)")
    parser.add_argument("--p-agglomerate", type=float, default=0.0, metavar="P",
                        help="share of synthetic images with dense 3-D agglomerates of small, "
                             "heavily overlapping particles (default: 0)")
    parser.add_argument("--agglomerate-px", type=float, nargs=2, default=(6.0, 30.0),
                        metavar=("LOW", "HIGH"),
                        help="median particle size range in px of those images (default: 6 30)")


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=50, help="maximum epochs (default: 50)")
    parser.add_argument("--minutes", type=float,
                        help="wall-clock budget of the whole command, start-up to written model: "
                             "training stops early enough for the last validation, the "
                             "threshold search (at most a fifth of the budget, stopped early if "
                             "need be) and the export; a budget too small for one step and the "
                             "export is refused with the minimum; with --resume, it is the time "
                             "of this command")
    parser.add_argument("--samples-per-epoch", type=int, default=512, metavar="N",
                        help="training crops per epoch (default: 512)")
    parser.add_argument("--crops-per-image", type=int, default=1, metavar="K",
                        help="augmented crops taken from each synthetic image (default: 1)")
    parser.add_argument("--val-samples", type=int, default=64, metavar="N",
                        help="fixed validation images (default: 64)")
    parser.add_argument("--tile", type=int, default=256, help="training crop side (default: 256)")
    parser.add_argument("--batch-size", type=int, default=8, help="crops per step (default: 8)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default: 2e-3)")


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-channels", type=int, metavar="N",
                        help="width of the first network stage (default: the architecture's)")
    parser.add_argument("--depth", type=int, help="number of downsamplings (default: 4)")
    parser.add_argument("--workers", type=int, default=1, help="data loader processes (default: 1)")
    parser.add_argument("--threads", type=int, help="torch threads (default: available CPUs)")
    parser.add_argument("--device", choices=choices.DEVICES, help="default: CUDA when available")
    parser.add_argument("--no-amp", action="store_true", help="train in fp32 (no bf16/fp16)")
    parser.add_argument("--p-texture", type=float, default=0.5, metavar="P",
                        help="probability of texture/brightness changes inside particles "
                             "(default: 0.5)")
    parser.add_argument("--resume", action="store_true", help="continue from MODEL_DIR/checkpoint.pt")
    parser.add_argument("--init", metavar="MODEL",
                        help="start from this model's weights (shipped name or model folder; "
                             "its architecture and width are used; a --base-channels that is a "
                             "multiple of its width widens it, keeping what it computes)")
    parser.add_argument("--centre-offsets", action="store_true",
                        help="also learn per-pixel vectors to each particle's centre and separate "
                             "touching particles by centre votes (adds two outputs to an --init "
                             "model without them)")
    parser.add_argument("--offset-channels", type=int, metavar="N",
                        help="unet with --centre-offsets: width of the separate offset branch "
                             "(default: 16; 0 = offsets from the shared output layer)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer train``."""
    from ..errors import InputError
    from ..train import TrainConfig, fit
    from ..train.deadline import Deadline

    deadline = Deadline.from_minutes(args.minutes, since_process_start=True)

    arch_kwargs = {k: v for k, v in (("base_channels", args.base_channels), ("depth", args.depth))
                   if v is not None}
    if args.offset_channels is not None and not args.centre_offsets:
        raise InputError("--offset-channels needs --centre-offsets")
    if args.centre_offsets and args.arch == "unet":
        width = 16 if args.offset_channels is None else args.offset_channels
        if width:
            arch_kwargs["offset_channels"] = width
    try:
        config = TrainConfig(
            arch=args.arch, arch_kwargs=arch_kwargs, data=args.data, modality=args.modality,
            outlines_dir=args.outlines, synth_size=args.synth_size,
            particle_px=tuple(args.particle_px), p_agglomerate=args.p_agglomerate,
            agglomerate_px=tuple(args.agglomerate_px), tile=args.tile, batch_size=args.batch_size,
            epochs=args.epochs, samples_per_epoch=args.samples_per_epoch,
            crops_per_image=args.crops_per_image,
            val_samples=args.val_samples, minutes=args.minutes, lr=args.lr,
            num_workers=args.workers, threads=args.threads, device=args.device,
            amp=not args.no_amp, seed=args.seed, p_texture=args.p_texture,
            init_model=args.init, centre_offsets=args.centre_offsets,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.outlines is not None and not Path(args.outlines).is_dir():
        raise InputError(f"--outlines {args.outlines} is not a folder; give a folder of binary images")
    argv = sys.argv[1:] if sys.argv[1:2] == ["train"] else ["train", "..."]
    command = "nanosizer " + " ".join(shlex.quote(a) for a in argv)
    out = fit(config, args.out, resume=args.resume, command=command, deadline=deadline)
    print(f"model written to {out}")
    for line in outcome_lines(out):
        print(line, file=sys.stderr if line.startswith("warning") else sys.stdout)
    return 0


#: Below this validation F1 a trained model is reported as unusable.
USABLE_F1 = 0.1


def outcome_lines(folder) -> list[str]:
    """The validation figures of a written model folder, and a warning when it is unusable.

    Parameters
    ----------
    folder : path-like
        Model folder written by :func:`nanosizer.train.fit`.

    Returns
    -------
    list of str
        ``"validation F1 ..."``, a ``"note:"`` when the threshold search was cut short by the
        budget and, when F1 < :data:`USABLE_F1`, a line starting with ``"warning:"``.
    """
    from ..nn import load_card

    card = load_card(folder)
    f1 = card.val_f1
    if f1 is None:
        return []
    minutes = "?" if card.training_minutes is None else f"{card.training_minutes:g}"
    steps = "?" if card.steps is None else card.steps
    lines = [f"validation F1 {f1:.3f} on {card.val_images} images ({minutes} min, "
             f"{steps} steps)"]
    search = card.threshold_search
    if search and not search.get("complete", True):
        lines.append(f"note: the threshold search stopped at the time budget after "
                     f"{search['tried']} of {search['candidates']} candidates (best so far "
                     "kept); a larger --minutes searches them all")
    if f1 < USABLE_F1:
        lines.append(f"warning: validation F1 {f1:.3f} < {USABLE_F1}: this model finds (almost) "
                     "no particles; train longer (--minutes, --epochs) or from a trained model "
                     "(--init unet) before analysing with it")
    return lines
