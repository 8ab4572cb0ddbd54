"""Whole-image and tiled inference with smooth blending of overlapping tiles."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ._base import pad_to_multiple
from .device import autocast, prepare_for_inference, select_device

__all__ = ["predict", "tile_starts", "blend_window"]


def tile_starts(size: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Start offsets of tiles of length ``min(tile, size)`` covering ``size`` with >= ``overlap``.

    Tiles advance by ``tile - overlap`` rounded down to a multiple of ``align`` (at least
    ``align``); the last tile is aligned with the end, so it may overlap its neighbour more.  When
    ``size`` and ``tile`` are multiples of ``align``, so are all starts.

    >>> tile_starts(10, 4, 1)
    [0, 3, 6]
    >>> tile_starts(3, 8, 2)
    [0]
    """
    if size <= tile:
        return [0]
    step = max(align, (tile - overlap) // align * align)
    return [*range(0, size - tile, step), size - tile]


def blend_window(length: int, overlap: int, taper_start: bool, taper_end: bool) -> np.ndarray:
    """1-D blending weights (length,) float32: 1 inside, sin^2 ramps over ``overlap`` at tapered ends.

    The ramps are strictly positive, and a rising ramp plus the falling ramp of a neighbour
    offset by ``length - overlap`` sum to exactly 1; :func:`predict` additionally divides by the
    accumulated weights, so the blend is a partition of unity for any tile layout.
    """
    w = np.ones(length, dtype=np.float64)
    n = min(overlap, length)
    if n > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(n) + 0.5) / n) ** 2
        if taper_start:
            w[:n] *= ramp
        if taper_end:
            w[length - n :] *= ramp[::-1]
    return w.astype(np.float32)


def _check_args(image: np.ndarray, tile: int | None, overlap: int, batch_size: int) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image must be a non-empty (H, W) array, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.number) or np.iscomplexobj(image):
        raise TypeError(f"image must be a real-valued array, got {image.dtype}")
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinite values; fill them before prediction")
    if tile is not None and (tile < 1 or not 0 <= overlap < tile):
        raise ValueError(f"need tile >= 1 and 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return image


def _batches(items: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _run(net: torch.nn.Module, x: torch.Tensor, amp: bool) -> torch.Tensor:
    if x.device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast(x.device, enabled=amp):
        return net(x).float()


def _predict_tiled(
    net: torch.nn.Module, x: torch.Tensor, tile: int, overlap: int, amp: bool, batch_size: int
) -> np.ndarray:
    """Blend tile predictions of ``x`` (1, 1, H, W) into (C, H, W) float32 logits.

    The image is first padded exactly as the network pads a whole image, and tiles start at
    multiples of ``2**depth``, so every tile sees the same pooling grid as the whole image.
    """
    h0, w0 = x.shape[-2:]
    align = 2 ** getattr(net, "depth", 0)
    x = pad_to_multiple(x, align)
    tile = max(align, tile // align * align)
    h, w = x.shape[-2:]
    th, tw = min(tile, h), min(tile, w)
    ys, xs = tile_starts(h, tile, overlap, align), tile_starts(w, tile, overlap, align)
    wy = {y: blend_window(th, overlap, y > 0, y + th < h) for y in ys}
    wx = {x0: blend_window(tw, overlap, x0 > 0, x0 + tw < w) for x0 in xs}
    out: np.ndarray | None = None
    weight = np.zeros((h, w), dtype=np.float32)
    for batch in _batches([(y, x0) for y in ys for x0 in xs], batch_size):
        crops = torch.cat([x[..., y : y + th, x0 : x0 + tw] for y, x0 in batch])
        logits = _run(net, crops, amp).cpu().numpy()
        if out is None:
            out = np.zeros((logits.shape[1], h, w), dtype=np.float32)
        for (y, x0), tile_logits in zip(batch, logits):
            win = wy[y][:, None] * wx[x0][None, :]
            out[:, y : y + th, x0 : x0 + tw] += tile_logits * win
            weight[y : y + th, x0 : x0 + tw] += win
    assert out is not None
    out /= weight
    return out[:, :h0, :w0]


def predict(
    net: torch.nn.Module,
    image: np.ndarray,
    *,
    tile: int | None = None,
    overlap: int = 64,
    device: str | torch.device | None = None,
    amp: bool = True,
    batch_size: int = 4,
) -> np.ndarray:
    """Raw network outputs (logits) for a whole image, optionally in overlapping tiles.

    Tiles overlap by at least ``overlap`` pixels and are blended with smooth weights (sin^2 ramps
    over the overlap, normalised to sum to 1 at every pixel), so no seams appear.  Assumption:
    the network's effective context and the objects of interest are smaller than the overlap;
    then tiled and whole-image outputs agree closely (tested).  Larger overlaps cost time.
    This holds for BatchNorm networks (eval mode normalises with fixed statistics); GroupNorm
    normalises with statistics of each input, so its outputs depend on the tile size — use tiles
    of the size seen in training, or whole images.

    Parameters
    ----------
    net : torch.nn.Module
        Network mapping (N, 1, H, W) to (N, C, H, W) for any H, W.  It is moved to ``device`` (and
        to channels_last memory format on CPU) in place and run in eval mode; its training mode
        is restored afterwards.
    image : (H, W) ndarray of float32
        Normalised image (as during training).
    tile : int, optional
        Tile side in pixels, rounded down to a multiple of ``2**net.depth`` (tiles start on the
        network's pooling grid); None runs the whole image in one pass.  Images smaller than a
        tile are processed whole.
    overlap : int
        Minimum overlap of neighbouring tiles in pixels (``0 <= overlap < tile``).
    device : str or torch.device, optional
        Where to compute; None uses the device the network is on.
    amp : bool
        Mixed precision (bf16 on CPUs with native bf16 and on CUDA, see
        :func:`~nanosizer.nn.autocast`); False for exact fp32.
    batch_size : int
        Tiles per forward pass.

    Returns
    -------
    logits : (C, H, W) ndarray of float32
    """
    image = _check_args(image, tile, overlap, batch_size)
    if device is None:
        param = next(net.parameters(), None)
        device = param.device if param is not None else select_device()
    device = select_device(device)
    prepare_for_inference(net, device)
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            x = torch.from_numpy(image)[None, None].to(device)
            if tile is None:
                return _run(net, x, amp)[0].cpu().numpy()
            return _predict_tiled(net, x, tile, overlap, amp, batch_size)
    finally:
        net.train(was_training)
