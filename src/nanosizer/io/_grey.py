"""Turning decoded pixel arrays (palette, RGB, stacks, odd dtypes) into one grey float32 image."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["MIN_SIDE", "palette_to_grey", "rgb_to_grey", "to_grey_float32"]

#: Smallest accepted image side in pixels; anything smaller holds no measurable particle.
MIN_SIDE = 8

# ITU-R BT.709 luma weights, as skimage.color.rgb2gray.
#: Weights of R, G, B in the grey value of a colour image (ITU-R BT.709 luma, as scikit-image).
GREY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
_LUMA = GREY_WEIGHTS


def rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """Grey values of an RGB or RGBA image, on the file's own scale.

    Parameters
    ----------
    rgb : (H, W, 3) or (H, W, 4) ndarray
        Colour image; an alpha channel is ignored.

    Returns
    -------
    (H, W) ndarray of float32
        The red channel itself when all three channels are equal (a grey image stored as RGB),
        otherwise the BT.709 luma ``0.2125 R + 0.7154 G + 0.0721 B``.
    """
    colour = rgb[..., :3]
    if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(
        colour[..., 0], colour[..., 2]
    ):
        return colour[..., 0].astype(np.float32)
    return (colour.astype(np.float64) @ _LUMA).astype(np.float32)


def palette_to_grey(indices: np.ndarray, colormap: np.ndarray, bits: int = 8) -> np.ndarray:
    """Apply a TIFF colour map to palette indices and return grey values.

    Parameters
    ----------
    indices : (H, W) ndarray of uint
        Palette indices.
    colormap : (3, N) ndarray of uint16
        TIFF ``ColorMap`` (16-bit entries).
    bits : int, optional
        Bits per sample of the indices; the 16-bit colour map is rescaled to ``2**bits - 1`` so an
        identity grey palette gives back the indices.

    Returns
    -------
    (H, W) ndarray of float32
    """
    cmap = np.asarray(colormap, dtype=np.float64).T  # (N, 3)
    scale = (2.0**bits - 1.0) / 65535.0 if cmap.max() > 255 else 1.0
    grey_lut = rgb_to_grey((cmap * scale)[np.newaxis])[0]
    idx = np.clip(indices.astype(np.intp), 0, len(grey_lut) - 1)
    return np.round(grey_lut[idx], 6).astype(np.float32)


def to_grey_float32(data: np.ndarray, path, metadata: dict) -> np.ndarray:
    """Validate decoded pixels and return them as one (H, W) float32 grey image.

    Takes the first frame of stacks, converts colour to grey, and replaces non-finite pixels by
    the median of the finite ones (recorded in ``metadata["nonfinite_pixels_filled"]``).

    Parameters
    ----------
    data : ndarray
        (H, W) grey, (H, W, 3|4) colour, or a stack whose last two (or three, for colour) axes
        are the image.
    path : path-like
        File the pixels came from (used in error messages).
    metadata : dict
        Updated in place with what was done (``frames``, ``colour``, ...).

    Returns
    -------
    (H, W) ndarray of float32

    Raises
    ------
    InputError
        Complex or otherwise non-numeric pixels, images smaller than ``MIN_SIDE`` on a side, or
        no finite pixel at all.
    """
    data = np.asarray(data)
    if data.dtype.names:  # structured RGB(A), e.g. from RosettaSciIO
        data = np.stack([data[name] for name in data.dtype.names[:3]], axis=-1)
    if np.iscomplexobj(data) or not (np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        raise InputError(
            f"{path}: pixels of type {data.dtype} are not a grey or colour image; "
            "export the micrograph as an 8/16-bit or float TIFF"
        )
    data = _first_frame(data, path, metadata)
    if data.ndim == 3:
        metadata.setdefault("colour", "RGBA" if data.shape[-1] == 4 else "RGB")
        data = rgb_to_grey(data)
    data = data.astype(np.float32, copy=False)
    h, w = data.shape
    if h < MIN_SIDE or w < MIN_SIDE:
        raise InputError(
            f"{path}: image is {w}x{h} pixels, too small to analyse; "
            f"use an image of at least {MIN_SIDE}x{MIN_SIDE} pixels"
        )
    finite = np.isfinite(data)
    if not finite.all():
        if not finite.any():
            raise InputError(f"{path}: image has no finite pixel (all NaN/inf); re-export it")
        data = data.copy()
        data[~finite] = np.median(data[finite])
        metadata["nonfinite_pixels_filled"] = int((~finite).sum())
    return np.ascontiguousarray(data)


def _first_frame(data: np.ndarray, path, metadata: dict) -> np.ndarray:
    """Reduce a stack to its first (H, W) or (H, W, C) frame, noting the frame count."""
    data = np.squeeze(data) if data.ndim > 2 and 1 in data.shape[:-2] else data
    if data.ndim < 2:
        raise InputError(f"{path}: data are not an image (shape {data.shape}); give a 2-D image file")
    is_colour = data.ndim >= 3 and data.shape[-1] in (3, 4) and data.shape[-2] > 4
    image_ndim = 3 if is_colour else 2
    if data.ndim > image_ndim:
        frames = int(np.prod(data.shape[:-image_ndim]))
        metadata["frames"] = frames
        metadata["frame_used"] = f"first of {frames} frames"
        data = data.reshape((-1,) + data.shape[-image_ndim:])[0]
    return data
