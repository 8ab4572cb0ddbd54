"""``nanosizer evaluate``: score a segmentation against ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import choices
from ._options import parse_infobar

HELP = "Score predicted particles against ground truth (F1, IoU, PQ, AP, size agreement)."

# Figures printed for the pooled result, in order.
_PRINTED = (
    ("n_images", "images"), ("n_true", "true particles"), ("n_pred", "predicted particles"),
    ("precision", "precision"), ("recall", "recall"), ("f1", "F1 (pooled)"),
    ("mean_image_f1", "F1 (mean per image)"), ("mean_matched_iou", "mean matched IoU"),
    ("pq", "panoptic quality"), ("ap", "AP 0.50:0.95"), ("instance_iou", "instance IoU (seed)"),
    ("pixel_iou", "pixel IoU"), ("youden", "Youden's index"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nanosizer evaluate``."""
    parser.add_argument("--truth", required=True, metavar="PATH",
                        help="truth: folder of label images, binary masks or ImageJ ROI zips "
                             "(<stem>.tif/.png/.zip), or a COCO JSON file")
    parser.add_argument("--pred", metavar="PATH",
                        help="predictions: an analyze results folder (its labels/, scored with "
                             "the pixel size and info bar in its run.json), or labels in any "
                             "truth format")
    parser.add_argument("--images", metavar="DIR",
                        help="instead of --pred: segment these images (stems as in --truth)")
    parser.add_argument("--method", choices=choices.METHODS,
                        help="segmentation method with --images (default: classical, or unet "
                             "with --model)")
    parser.add_argument("--model", metavar="MODEL_DIR",
                        help="model folder with --images (a CNN method)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results folder (per_image.csv, pooled.csv, sizes.csv, scores.json)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    parser.add_argument("--iou-threshold", type=float, default=0.5, metavar="T",
                        help="IoU of a one-to-one match (default 0.5)")
    parser.add_argument("--min-area", type=int, default=0, metavar="PX",
                        help="ignore particles smaller than this many pixels on both sides")
    parser.add_argument("--include-border", action="store_true",
                        help="keep border-touching particles in the size figures")
    parser.add_argument("--pixel-size", metavar="LENGTH",
                        help='pixel size for the size figures, e.g. "7.34 nm" (a bare number '
                             'is nm); default: each image\'s own (from --images, run.json of '
                             '--pred or truth.csv of a synth set), else pixels')
    parser.add_argument("--infobar", default="auto", metavar="auto|none|ROW",
                        help="info bar of --images: detect (auto), ignore (none) or first row")
    parser.add_argument("--scale-bar", default="none", choices=choices.SCALE_BAR_MODES,
                        help="scale bar of --images: read it to calibrate images without "
                             "metadata and leave it out of the scores (auto), on every image "
                             "(always), or not (none, default: scores do not depend on OCR)")
    parser.add_argument("--quiet", action="store_true", help="do not print the figures")


def build_config(args: argparse.Namespace):
    """EvaluateConfig from the command-line options (InputError for bad values)."""
    from ..errors import InputError
    from ..evaluate import EvaluateConfig

    pixel_size = None
    if args.pixel_size is not None:
        from ..io import parse_length_nm

        try:
            pixel_size = parse_length_nm(args.pixel_size)
        except ValueError as exc:
            raise InputError(f"--pixel-size: {exc}") from None
    try:
        return EvaluateConfig(
            threshold=args.iou_threshold, min_area=args.min_area,
            exclude_border=not args.include_border, pixel_size_nm=pixel_size,
        )
    except ValueError as exc:
        raise InputError(f"bad option: {exc}") from None


def format_pooled(pooled: dict) -> str:
    """The pooled figures as aligned text lines."""
    lines = []
    for key, name in _PRINTED:
        value = pooled.get(key)
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"  {name:<24}{text}")
    unit = pooled.get("size_unit", "px")
    for m in ("feret_min", "ecd"):
        if f"{m}_mean_true" in pooled:
            lines.append(
                f"  {m + ' mean (' + unit + ')':<24}{pooled[f'{m}_mean_pred']:.2f} predicted vs "
                f"{pooled[f'{m}_mean_true']:.2f} true ({100 * pooled[f'{m}_mean_rel_err']:+.1f} %), "
                f"KS {pooled[f'{m}_ks']:.3f}, Wasserstein {pooled[f'{m}_wasserstein']:.2f}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``nanosizer evaluate``."""
    from ..errors import InputError
    from ..evaluate import evaluate_folders, write_evaluation
    from ..io import staged_output_dir

    if (args.pred is None) == (args.images is None):
        raise InputError("give either --pred DIR (label images) or --images DIR with --method")
    if args.model is not None and args.method == "classical":
        raise InputError(f"--model {args.model} is for the CNN methods but --method is classical; "
                         "drop --model or use --method unet")
    if args.method is None:
        args.method = "unet" if args.model is not None else "classical"
    config = build_config(args)
    with staged_output_dir(args.out, args.overwrite) as out:
        evaluation = evaluate_folders(
            args.truth, args.pred, images=args.images, method=args.method, model=args.model,
            config=config, infobar=parse_infobar(args.infobar), scale_bar=args.scale_bar,
            labels_out=out / "labels" if args.images else None,
        )
        source = {"truth": str(args.truth)}
        source.update({"pred": str(args.pred)} if args.pred else
                      {"images": str(args.images), "method": args.model or args.method})
        write_evaluation(evaluation, out, extra={"inputs": source})
    out = Path(args.out)
    if not args.quiet:
        print(f"Scores of {len(evaluation.per_image)} image(s), written to {out}:")
        print(format_pooled(evaluation.pooled))
    return 0
