"""ImageJ ROI sets: particle outlines to and from the zip files of Fiji's ROI Manager."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._outline import trace_outlines

__all__ = ["read_roi_zip", "write_roi_zip"]


def read_roi_zip(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise ImageJ area ROIs (zip from the ROI Manager, or one ``.roi``) into labels.

    Parameters
    ----------
    path : str or Path
        ROI zip or ``.roi`` file.  Polygon, traced, freehand, rectangle and oval ROIs are
        drawn (composite ROIs by their largest part); line and point ROIs are skipped.
    shape : (int, int)
        (height, width) of the image the ROIs belong to.

    Returns
    -------
    labels : (H, W) ndarray of int32
        ROI ``i`` (in file order) is label ``i + 1``; a pixel belongs to a ROI when its centre
        is inside the outline, as in ImageJ.  Later ROIs are drawn over earlier ones.
    """
    import roifile
    from skimage.draw import polygon

    path = Path(path)
    try:
        rois = roifile.ImagejRoi.fromfile(path)
    except Exception as exc:  # noqa: BLE001 - roifile raises many types for bad files
        raise InputError(f"{path}: not an ImageJ ROI file ({exc})") from None
    rois = rois if isinstance(rois, list) else [rois]
    labels = np.zeros(tuple(shape), dtype=np.int32)
    area_types = {
        roifile.ROI_TYPE.POLYGON, roifile.ROI_TYPE.FREEHAND, roifile.ROI_TYPE.TRACED,
        roifile.ROI_TYPE.RECT, roifile.ROI_TYPE.OVAL,
    }
    n = 0
    for roi in rois:
        if roi.roitype not in area_types:
            continue
        xy = np.asarray(roi.coordinates(), dtype=float)
        if xy.shape[0] < 3:
            continue
        rr, cc = polygon(xy[:, 1] - 0.5, xy[:, 0] - 0.5, labels.shape)
        n += 1
        labels[rr, cc] = n
    return labels


def write_roi_zip(labels: np.ndarray, path: str | Path, *, prefix: str = "") -> int:
    """Save every particle's outline as a traced ROI in a zip for Fiji's ROI Manager.

    Parameters
    ----------
    labels : (H, W) ndarray of int
        Instance labels, 0 = background.
    path : str or Path
        Zip file to write (replaced atomically).
    prefix : str, optional
        Put before each ROI name (names are ``<prefix><label:04d>``).

    Returns
    -------
    int
        Number of ROIs written.  Particle holes are not kept (the outline is filled).
    """
    import roifile

    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be an integer image, got {labels.dtype}")
    rois = []
    for label, corners in trace_outlines(labels).items():
        roi = roifile.ImagejRoi.frompoints(corners, name=f"{prefix}{label:04d}")
        roi.roitype = roifile.ROI_TYPE.TRACED
        roi.options = roifile.ROI_OPTIONS(0)
        roi.right, roi.bottom = (int(v) for v in corners.max(axis=0))
        rois.append(roi)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    if tmp.exists():
        tmp.unlink()
    if rois:
        roifile.roiwrite(tmp, rois, mode="w")
    else:
        import zipfile

        zipfile.ZipFile(tmp, "w").close()
    os.replace(tmp, path)
    return len(rois)
