"""What a model folder's ``config.json`` may hold, checked before any network is built.

A model folder comes from anywhere (a colleague, a download), so nothing in it is trusted: sizes
that would exhaust memory (``depth = 100``), zooms that hang or give nothing, thresholds of the
wrong type and paths that point outside the folder are refused with a one-line
:class:`~nanosizer.errors.InputError` naming the file, the key and the allowed range.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["CONFIG_MAX_BYTES", "WEIGHTS_MAX_BYTES", "ZOOM_RANGE", "resolve_zoom_model",
           "validate_config"]

CONFIG_NAME = "config.json"
#: Largest accepted ``config.json`` (the shipped ones are ~5 kB).
CONFIG_MAX_BYTES = 1 << 20
#: Largest accepted ``weights.safetensors`` (the shipped UNet is 29 MB).
WEIGHTS_MAX_BYTES = 1 << 30
#: Allowed ``metadata.zoom`` (and explicit zooms): 1/64 to 8.
ZOOM_RANGE = (1 / 64, 8.0)
#: Allowed architecture sizes: (min, max) of each integer argument.
_ARCH_INTS = {"in_channels": (1, 1), "depth": (1, 8), "base_channels": (1, 256)}
_OUT_CHANNELS = (3, 5)
#: Widest layer (``base_channels * 2**(depth - 1)``) accepted; the shipped UNet has 128.
_MAX_WIDTH = 1024


def _fail(path: Path, text: str) -> InputError:
    return InputError(f"model config {path}: {text}; fix the file or retrain the model")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_arch(path: Path, kwargs: dict) -> None:
    for name, (low, high) in _ARCH_INTS.items():
        value = kwargs.get(name)
        if name in kwargs and (not isinstance(value, int) or isinstance(value, bool)
                               or not low <= value <= high):
            raise _fail(path, f"arch_kwargs.{name} must be an integer in [{low}, {high}], "
                              f"got {value!r}")
    if kwargs.get("out_channels") not in _OUT_CHANNELS or isinstance(
            kwargs.get("out_channels"), bool):
        raise _fail(path, f"arch_kwargs.out_channels must be 3 or 5, got "
                          f"{kwargs.get('out_channels')!r}")
    width = kwargs.get("base_channels", 1) * 2 ** (kwargs.get("depth", 1) - 1)
    if width > _MAX_WIDTH:
        raise _fail(path, f"the widest layer (base_channels x 2^(depth-1)) would have {width} "
                          f"channels, more than {_MAX_WIDTH}")
    if "alpha" in kwargs and not (_number(kwargs["alpha"]) and 0 < kwargs["alpha"] <= 5):
        raise _fail(path, f"arch_kwargs.alpha must be a number in (0, 5], got {kwargs['alpha']!r}")
    for name in ("norm", "upsample"):
        if name in kwargs and not isinstance(kwargs[name], str):
            raise _fail(path, f"arch_kwargs.{name} must be a string, got {kwargs[name]!r}")


def _check_normalization(path: Path, norm: Any) -> None:
    if not isinstance(norm, dict):
        raise _fail(path, f"metadata.normalization must be an object, got {norm!r}")
    unknown = set(norm) - {"method", "low", "high"}
    if unknown:
        raise _fail(path, f"metadata.normalization has unknown keys {sorted(unknown)}")
    if norm.get("method", "percentile") != "percentile":
        raise _fail(path, f"metadata.normalization.method must be 'percentile', "
                          f"got {norm['method']!r}")
    low, high = norm.get("low", 1.0), norm.get("high", 99.8)
    if not (_number(low) and _number(high) and 0 <= low < high <= 100):
        raise _fail(path, f"metadata.normalization needs percentiles 0 <= low < high <= 100, "
                          f"got low {low!r}, high {high!r}")


def _check_thresholds(path: Path, key: str, values: Any) -> None:
    from ..segment.instances import InstanceThresholds

    if not isinstance(values, dict):
        raise _fail(path, f"metadata.{key} must be an object, got {values!r}")
    try:
        InstanceThresholds.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise _fail(path, f"metadata.{key}: {exc}") from None


def _check_optional_number(path: Path, metadata: dict, key: str, low: float,
                           high: float = math.inf) -> None:
    value = metadata.get(key)
    if value is not None and not (_number(value) and low <= value <= high):
        raise _fail(path, f"metadata.{key} must be a number in [{low:g}, {high:g}] or null, "
                          f"got {value!r}")


def resolve_zoom_model(name: str, folder: str | Path) -> Path:
    """Folder of a model's ``zoom_model``: a shipped model name or a folder inside ``folder``.

    A relative path is taken relative to the model folder (never to the current folder), so a
    model gives the same results wherever it is run from; it must stay inside the model folder.

    Raises
    ------
    InputError
        For absolute paths, paths leaving the model folder and folders without a model.
    """
    from importlib import resources

    from ..segment.cnn import SHIPPED_MODELS

    folder = Path(folder)
    if name in SHIPPED_MODELS:
        return Path(str(resources.files("nanosizer") / "models" / name))
    path = folder / CONFIG_NAME
    candidate = Path(name)
    inside = (folder / candidate).resolve()
    if candidate.is_absolute() or not inside.is_relative_to(folder.resolve()):
        raise _fail(path, f"metadata.zoom_model {name!r} must be a shipped model "
                          f"({', '.join(SHIPPED_MODELS)}) or a folder inside the model folder "
                          "(copy the zoom model into it and give its relative name)")
    if not (inside / CONFIG_NAME).is_file():
        raise _fail(path, f"metadata.zoom_model {name!r} names no model folder inside "
                          f"{folder}")
    return inside


def validate_config(config: dict, path: Path) -> None:
    """Check a parsed ``config.json`` (its keys already checked) against the schema.

    Parameters
    ----------
    config : dict
        ``{"format", "version", "arch", "arch_kwargs", "metadata"}``.
    path : Path
        The file, for messages; ``zoom_model`` is resolved against its folder.

    Raises
    ------
    InputError
        Naming the file, the key, what it holds and what is allowed.
    """
    _check_arch(path, config["arch_kwargs"])
    metadata = config["metadata"]
    if "normalization" in metadata:
        _check_normalization(path, metadata["normalization"])
    for key in ("thresholds", "zoom_thresholds"):
        if metadata.get(key) is not None:
            _check_thresholds(path, key, metadata[key])
    _check_optional_number(path, metadata, "zoom", *ZOOM_RANGE)
    _check_optional_number(path, metadata, "zoom_min_px", 0)
    _check_optional_number(path, metadata, "detection_limit_px", 0)
    sizes = metadata.get("particle_diameter_px")
    if sizes is not None and not (isinstance(sizes, dict) and all(
            v is None or (_number(v) and v >= 0) for v in sizes.values())):
        raise _fail(path, "metadata.particle_diameter_px must map names to sizes >= 0 in px, "
                          f"got {sizes!r}")
    zoom_model = metadata.get("zoom_model")
    if zoom_model is not None:
        if not isinstance(zoom_model, str) or not zoom_model:
            raise _fail(path, f"metadata.zoom_model must be a model name, got {zoom_model!r}")
        resolve_zoom_model(zoom_model, path.parent)

