"""Reading ground truth (and predictions) as instance label images, whatever the format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..errors import InputError

__all__ = ["LABEL_SUFFIXES", "find_label_files", "read_coco", "read_label_image", "read_truth"]

#: File endings recognised as per-image truth or prediction files.
LABEL_SUFFIXES: tuple[str, ...] = (".tif", ".tiff", ".png", ".npy", ".zip", ".roi")

_FOUR = ndimage.generate_binary_structure(2, 1)


def _from_binary(mask: np.ndarray) -> np.ndarray:
    """Label a binary mask with 4-connectivity (1-px lines separate touching particles)."""
    labels, _ = ndimage.label(mask, structure=_FOUR)
    return labels.astype(np.int32)


def _to_labels(arr: np.ndarray, path: Path) -> np.ndarray:
    """Integer instance labels from a grey label image, a binary mask or a colour-coded image."""
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        rgb = arr[..., :3].astype(np.int64)
        if np.all(rgb == rgb[..., :1]):
            arr = arr[..., 0]
        else:  # one colour per particle, black background
            code = (rgb[..., 0] << 32) | (rgb[..., 1] << 16) | rgb[..., 2]
            ids, inverse = np.unique(code, return_inverse=True)
            arr = inverse.reshape(code.shape) + (0 if ids[0] == 0 else 1)
    if arr.ndim != 2:
        raise InputError(f"{path}: expected a 2-D label image or mask, got shape {arr.shape}")
    if arr.dtype == bool:
        return _from_binary(arr)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0) or arr.min() < 0:
            raise InputError(f"{path}: label image must hold non-negative integers, got {arr.dtype}")
        arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise InputError(f"{path}: label image has negative values")
    values = np.unique(arr)
    if values.size <= 2 and values[0] == 0:  # 0/1, 0/255, ...: a binary mask
        return _from_binary(arr > 0)
    return arr.astype(np.int32, copy=False)


def read_label_image(path: str | Path) -> np.ndarray:
    """Read an instance label image or a binary mask (TIFF, PNG or NumPy ``.npy``).

    Parameters
    ----------
    path : str or Path
        Label image (0 = background, one value per particle), binary mask (touching particles
        separated by background lines; labelled with 4-connectivity) or RGB image with one
        colour per particle.

    Returns
    -------
    labels : (H, W) ndarray of int32
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(path)
        else:
            import imageio.v3 as iio

            arr = iio.imread(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read label image ({exc})") from None
    return _to_labels(np.squeeze(np.asarray(arr)), path)


def _rle_counts(counts: str | list) -> list[int]:
    """Run lengths of a COCO RLE (list or the compressed string of pycocotools)."""
    if not isinstance(counts, str):
        return [int(c) for c in counts]
    out: list[int] = []
    pos = 0
    while pos < len(counts):
        value, shift, more = 0, 0, True
        while more:
            c = ord(counts[pos]) - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            pos, shift = pos + 1, shift + 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(out) > 2:
            value += out[-2]
        out.append(value)
    return out


def _coco_mask(segmentation, shape: tuple[int, int]) -> np.ndarray:
    from skimage.draw import polygon

    mask = np.zeros(shape, dtype=bool)
    if isinstance(segmentation, dict):  # RLE, column-major runs starting with background
        runs = _rle_counts(segmentation["counts"])
        flat = np.repeat(np.arange(len(runs)) % 2 == 1, runs)
        h, w = segmentation.get("size", shape)
        return flat[: h * w].reshape((w, h)).T.copy()
    for poly in segmentation:
        xy = np.asarray(poly, dtype=float).reshape(-1, 2)
        rr, cc = polygon(xy[:, 1] - 0.5, xy[:, 0] - 0.5, shape)
        mask[rr, cc] = True
    return mask


def read_coco(path: str | Path) -> dict[str, np.ndarray]:
    """Instance label images from a COCO JSON file (polygons or RLE; crowd regions skipped).

    Parameters
    ----------
    path : str or Path
        COCO annotation file with ``images`` (``file_name``, ``height``, ``width``) and
        ``annotations``.

    Returns
    -------
    dict
        File stem -> (H, W) ndarray of int32; particles numbered in annotation order, later
        annotations drawn over earlier ones.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        images = {im["id"]: im for im in data["images"]}
        annotations = data.get("annotations", [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a COCO annotation file ({exc})") from None
    labels = {i: np.zeros((im["height"], im["width"]), np.int32) for i, im in images.items()}
    for ann in annotations:
        if ann.get("iscrowd", 0) or ann["image_id"] not in labels:
            continue
        target = labels[ann["image_id"]]
        target[_coco_mask(ann["segmentation"], target.shape)] = target.max() + 1
    return {Path(images[i]["file_name"]).stem: lab for i, lab in labels.items()}


def read_truth(
    path: str | Path, shape: tuple[int, int] | None = None, name: str | None = None
) -> np.ndarray:
    """Read the ground truth of one image; the format is recognised from the file.

    Parameters
    ----------
    path : str or Path
        Instance label image or binary mask (``.tif``, ``.png``, ``.npy``), ImageJ ROI zip or
        ``.roi`` file, or COCO JSON.
    shape : (int, int), optional
        Image (height, width); needed for ImageJ ROIs, checked for the other formats.
    name : str, optional
        Image stem to pick from a COCO file holding several images.

    Returns
    -------
    labels : (H, W) ndarray of int32
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: truth file not found")
    suffix = path.suffix.lower()
    if suffix in (".zip", ".roi"):
        if shape is None:
            raise InputError(f"{path}: ImageJ ROIs need the image shape; pass shape=(H, W)")
        from .imagej import read_roi_zip

        labels = read_roi_zip(path, shape)
    elif suffix == ".json":
        coco = read_coco(path)
        if name is None and len(coco) != 1:
            raise InputError(f"{path}: holds {len(coco)} images; pass the image name")
        if name is not None and name not in coco:
            raise InputError(f"{path}: no annotations for image {name!r}")
        labels = coco[name] if name is not None else next(iter(coco.values()))
    else:
        labels = read_label_image(path)
    if shape is not None and labels.shape != tuple(shape):
        raise InputError(f"{path}: shape {labels.shape} differs from the image's {tuple(shape)}")
    return labels


def find_label_files(folder: str | Path) -> dict[str, Path]:
    """Per-image files of a folder, by stem.

    Parameters
    ----------
    folder : str or Path
        Folder of label images, masks or ROI zips, or an ``analyze`` results folder or
        ``synth`` data set (their ``labels/`` is used, never ``histogram.png`` or the images).

    Returns
    -------
    dict
        Stem -> path, sorted by stem.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found")
    from ._sources import labels_folder

    folder = labels_folder(folder)
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in LABEL_SUFFIXES and not p.name.startswith("."):
            if p.stem in files:
                raise InputError(f"{folder}: two files for image {p.stem!r}; keep one")
            files[p.stem] = p
    return files
