"""Hand-corrected label crops of the BAM SEM frames (kept outside the repository: licence).

A folder holds ``<SEM stem>_y<row>_x<col>.tif``: instance labels of the crop of that SEM frame
whose top-left corner is (row, col).  They were made by correcting the default UNet's particles
by eye, splitting every touching or overlapping particle (docs/benchmarks.md,
"Hand-corrected BAM crops").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bench_bam_proxy import DATA as BAM

_NAME = re.compile(r"(?P<stem>.+)_y(?P<row>\d+)_x(?P<col>\d+)\.tiff?$")


def hand_crops(folder: str | Path) -> list:
    """``(micrograph, (row, col, h, w), truth)`` for every crop file in ``folder``."""
    import tifffile

    from nanosizer.io import read_micrograph

    crops = []
    for path in sorted(Path(folder).glob("*.tif*")):
        match = _NAME.match(path.name)
        if match is None:
            raise SystemExit(f"{path}: name must be <SEM stem>_y<row>_x<col>.tif")
        truth = tifffile.imread(path).astype(np.int32)
        sem = read_micrograph(BAM / "sem" / f"{match['stem']}.tif")
        crops.append((sem, (int(match["row"]), int(match["col"]), *truth.shape), truth))
    return crops
