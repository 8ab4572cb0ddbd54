"""Whole-image array work done in blocks of pixels, so large images need no full-size temporaries.

NumPy converts an int32 index or bincount input to int64 first, and elementwise float64
arithmetic on a float32 image makes float64 copies: 8 bytes a pixel each, 0.5 GB for an
8192 x 8192 image.  These helpers give the same results block by block.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_PIXELS", "apply_lut", "label_counts", "row_blocks"]

#: Pixels handled at a time (32 MB of int64).
BLOCK_PIXELS = 1 << 22


def row_blocks(shape: tuple[int, ...], pixels: int | None = None) -> list[slice]:
    """Slices of the first axis of about ``pixels`` (default :data:`BLOCK_PIXELS`) elements each.

    At least one row each.

    >>> row_blocks((5, 1 << 19), pixels=1 << 20)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    step = max(1, (pixels or BLOCK_PIXELS) // max(int(np.prod(shape[1:])), 1))
    return [slice(start, min(start + step, shape[0])) for start in range(0, shape[0], step)]


def label_counts(labels: np.ndarray, block: int | None = None) -> np.ndarray:
    """``np.bincount(labels.ravel())``, counted in blocks of pixels.

    ``np.bincount`` converts its input to int64 first, a full-size copy of an int32 label
    image (8 bytes a pixel); blocks keep that copy small.

    Parameters
    ----------
    labels : ndarray of int
        Label image, >= 0.
    block : int, optional
        Pixels counted at a time (default :data:`BLOCK_PIXELS`).

    Returns
    -------
    (labels.max() + 1,) ndarray of int64
        Pixels of each id (index 0: background); ``[0]`` for an empty image.

    Examples
    --------
    >>> label_counts(np.array([[0, 2], [2, 2]]), block=3)
    array([1, 0, 3])
    """
    flat = np.asarray(labels).ravel()
    size = int(flat.max(initial=0)) + 1
    counts = np.zeros(size, dtype=np.int64)
    block = block or BLOCK_PIXELS
    for start in range(0, flat.size, block):
        counts += np.bincount(flat[start : start + block], minlength=size)
    return counts


def apply_lut(lut: np.ndarray, labels: np.ndarray, block: int | None = None,
              out: np.ndarray | None = None) -> np.ndarray:
    """``lut[labels]``, looked up in blocks of pixels.

    Indexing with an int32 image converts the whole index to int64 first (8 bytes a pixel);
    blocks keep that copy small.

    Parameters
    ----------
    lut : (K,) ndarray
        New value of each id.
    labels : ndarray of int
        Ids, ``0 <= labels < K``.
    block : int, optional
        Pixels looked up at a time (default :data:`BLOCK_PIXELS`).
    out : ndarray, optional
        Where to write the result (C-contiguous, shaped like ``labels``); ``labels`` itself
        relabels in place.

    Returns
    -------
    ndarray of ``lut.dtype`` (or ``out``), shaped like ``labels``

    Examples
    --------
    >>> apply_lut(np.array([0, 5, 7]), np.array([[2, 1], [0, 2]]), block=3)
    array([[7, 5],
           [0, 7]])
    """
    labels = np.asarray(labels)
    flat = labels.ravel()
    result = np.empty(labels.shape, dtype=lut.dtype) if out is None else out
    target = result.reshape(-1)  # a view: result is C-contiguous
    block = block or BLOCK_PIXELS
    for start in range(0, flat.size, block):
        target[start : start + block] = lut[flat[start : start + block]]
    return result
