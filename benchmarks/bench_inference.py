"""Time CNN inference of the default architectures on one micrograph-sized image.

Usage::

    python benchmarks/bench_inference.py [--size 1024 768] [--repeat 3] [--tile 256] [--overlap 64]
        [--arch unet multiresunet] [--threads N] [--base-channels C] [--bf16-only]

Prints one row per (architecture, precision/layout, whole/tiled): the minimum and median wall
time of ``--repeat`` runs after one warm-up run (on a shared machine the minimum is the better
estimate of the uncontended time), and the maximum deviation of the logits from the fp32
whole-image output.  ``--base-channels`` overrides the default width of every architecture.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time

import numpy as np
import torch

from nanosizer.nn import configure_threads, create_model, fuse_batchnorm, predict
from nanosizer.nn.device import amp_dtype


def _time(fn, repeat: int) -> tuple[float, float, np.ndarray]:
    out = fn()  # warm-up (oneDNN primitive creation)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def _modes(tile: int, overlap: int) -> list[tuple[str, bool, bool, bool, int | None]]:
    """(label, amp, channels_last, fused BatchNorm, tile)."""
    return [
        ("fp32 eager, whole", False, False, False, None),
        ("fp32 channels_last, whole", False, True, False, None),
        ("bf16 autocast + channels_last, whole", True, True, False, None),
        ("bf16 + channels_last + fused BN, whole", True, True, True, None),
        (f"fp32 channels_last, tiled {tile}/{overlap}", False, True, False, tile),
        (f"bf16 + channels_last + fused BN, tiled {tile}/{overlap}", True, True, True, tile),
    ]


def _forward(
    net: torch.nn.Module, image: np.ndarray, amp: bool, cl: bool, tile: int | None, overlap: int
) -> np.ndarray:
    """Logits (C, H, W): through :func:`predict` (channels_last on CPU) or a plain forward."""
    if cl:
        return predict(net, image, tile=tile, overlap=overlap, amp=amp, device="cpu")
    net.to(memory_format=torch.contiguous_format)
    with torch.inference_mode():  # plain eager forward without predict's layout change
        return net(torch.from_numpy(image)[None, None])[0].float().numpy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(1024, 768), metavar=("W", "H"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--arch", nargs="+", default=["unet", "multiresunet"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--base-channels", type=int, default=None)
    parser.add_argument("--bf16-only", action="store_true", help="skip the fp32 rows")
    args = parser.parse_args(argv)
    threads = configure_threads(args.threads)
    width, height = args.size
    image = np.random.default_rng(0).normal(size=(height, width)).astype(np.float32)
    print(
        f"torch {torch.__version__}, {threads} threads, load average {os.getloadavg()[0]:.1f}, "
        f"cpu amp dtype {amp_dtype(torch.device('cpu'))}, image {width}x{height}, {args.repeat} runs"
    )
    print("| arch | params | MB (fp32) | mode | min (s) | median (s) | max abs diff vs fp32 |")
    print("|---|---|---|---|---|---|---|")
    kwargs = {} if args.base_channels is None else {"base_channels": args.base_channels}
    for arch in args.arch:
        torch.manual_seed(0)
        net = create_model(arch, **kwargs).eval()
        params = sum(p.numel() for p in net.parameters())
        mb = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
        fused = fuse_batchnorm(net)
        reference = _forward(net, image, False, False, None, 0)
        for label, amp, cl, fuse, tile in _modes(args.tile, args.overlap):
            if args.bf16_only and not amp:
                continue
            model = fused if fuse else net
            run = functools.partial(_forward, model, image, amp, cl, tile, args.overlap)
            fastest, median, out = _time(run, args.repeat)
            diff = float(np.abs(out - reference).max())
            print(
                f"| {arch} | {params / 1e6:.2f} M | {mb:.1f} | {label} | {fastest:.3f} "
                f"| {median:.3f} | {diff:.2g} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
