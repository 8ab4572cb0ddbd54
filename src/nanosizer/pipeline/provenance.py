"""What ``run.json`` records so that any result can be reproduced: the model and its checksum."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["model_record", "sha256_file"]


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _cached_record(folder: str, size: int, mtime_ns: int) -> dict:
    from ..nn.model_io import WEIGHTS_NAME, load_card

    return {
        "folder": folder,
        "weights_sha256": sha256_file(Path(folder) / WEIGHTS_NAME),
        "arch_zoom": load_card(folder).zoom,
    }


def model_record(method: str, model: str | Path | None, zoom: float | None) -> dict:
    """The model facts of one segmentation, for ``run.json``.

    Parameters
    ----------
    method : str
        'unet', 'multiresunet' or 'classical'.
    model : str or Path or None
        Model folder given by the user (None: the shipped model of ``method``).
    zoom : float or None
        The user's ``--zoom`` (None: not given).

    Returns
    -------
    dict
        ``method``, ``model`` (shipped name or folder, None for classical),
        ``model_folder`` (resolved), ``weights_sha256`` and ``zoom_source``: 'user', 'model'
        (stored with the model) or 'automatic' (None for classical).
    """
    if method == "classical":
        return {"method": method, "model": None, "model_folder": None, "weights_sha256": None,
                "zoom_source": None}
    from ..nn.model_io import WEIGHTS_NAME
    from ..segment.cnn import resolve_model

    folder = resolve_model(str(model) if model is not None else method)
    weights = Path(folder) / WEIGHTS_NAME
    stat = weights.stat()
    facts = _cached_record(str(folder), stat.st_size, stat.st_mtime_ns)
    if zoom is not None:
        source = "user"
    elif facts["arch_zoom"] is not None:
        source = "model"
    else:
        source = "automatic"
    return {"method": method, "model": str(model) if model is not None else method,
            "model_folder": facts["folder"], "weights_sha256": facts["weights_sha256"],
            "zoom_source": source}
