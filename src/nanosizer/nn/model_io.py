"""Model folders: ``config.json`` (architecture + metadata) and ``weights.safetensors``.

A model folder never contains pickled objects, so loading a colleague's model cannot run code.
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import InputError
from ..io import write_folder
from ._base import SegmentationNet
from ._card import ModelCard
from ._registry import arch_class
from ._schema import CONFIG_MAX_BYTES, WEIGHTS_MAX_BYTES, validate_config
from .device import select_device

__all__ = ["LoadedModel", "save_model", "load_model", "load_metadata", "write_folder", "CONFIG_NAME",
           "WEIGHTS_NAME", "FORMAT"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"
FORMAT, VERSION = "nanosizer-model", 1
_CONFIG_KEYS = {"format", "version", "arch", "arch_kwargs", "metadata"}


@dataclass(frozen=True)
class LoadedModel:
    """A network restored from a model folder.

    Attributes
    ----------
    net : SegmentationNet
        The network, in eval mode, on the requested device.
    arch : str
        Registry name of the architecture.
    arch_kwargs : dict
        Constructor arguments (``create_model(arch, **arch_kwargs)`` rebuilds ``net``).
    metadata : dict
        Free-form training information stored with the model (normalisation, thresholds, ...).
    folder : Path
        The model folder.
    """

    net: SegmentationNet
    arch: str
    arch_kwargs: dict[str, Any]
    metadata: dict[str, Any]
    folder: Path

    @functools.cached_property
    def card(self) -> ModelCard:
        """Typed view of :attr:`metadata` (:class:`~nanosizer.nn.ModelCard`)."""
        return ModelCard.from_metadata(self.metadata)


def _state_for_saving(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU, contiguous copy of the state dict; floating tensors as fp32."""
    state = {}
    for key, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if tensor.is_floating_point():
            tensor = tensor.float()
        state[key] = tensor.contiguous(memory_format=torch.contiguous_format).clone()
    return state


def save_model(
    folder: str | Path, model: SegmentationNet, metadata: dict[str, Any], *, overwrite: bool = False
) -> Path:
    """Write ``model`` and ``metadata`` to a model folder, atomically.

    Parameters
    ----------
    folder : str or Path
        Destination folder; it must not exist, be empty, or ``overwrite`` must be True.
    model : SegmentationNet
        A network built by :func:`~nanosizer.nn.create_model` (its ``arch`` and ``config``).
    metadata : dict
        JSON-serialisable information stored as-is (normalisation, thresholds, pixel size range,
        training command, ...).
    overwrite : bool
        Replace an existing non-empty folder.

    Returns
    -------
    folder : Path
        The written folder.
    """
    folder = Path(folder)
    if not isinstance(model, SegmentationNet):
        raise TypeError(f"model must be a nanosizer.nn network, got {type(model).__name__}")
    arch_class(model.arch)  # registered?
    config = {
        "format": FORMAT,
        "version": VERSION,
        "arch": model.arch,
        "arch_kwargs": model.config,
        "metadata": metadata,
    }
    text = json.dumps(config, indent=2, allow_nan=False)  # TypeError/ValueError if not JSON
    weights = _state_for_saving(model)

    def write(tmp: Path) -> None:
        (tmp / CONFIG_NAME).write_text(text + "\n", encoding="utf-8")
        save_file(weights, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})

    return write_folder(folder, write, overwrite=overwrite, kind="model folder")


def load_metadata(folder: str | Path) -> dict[str, Any]:
    """The metadata of a model folder, validated like :func:`load_model`, without the weights.

    Raises
    ------
    InputError
        Missing folder or ``config.json``, or a config :func:`load_model` would refuse.
    """
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise InputError(f"model folder {folder} has no {CONFIG_NAME}; it is not a nanosizer model")
    return _read_config(path)["metadata"]


def load_card(folder: str | Path) -> ModelCard:
    """The :class:`~nanosizer.nn.ModelCard` of a model folder, without loading the weights.

    Raises
    ------
    InputError
        As :func:`load_metadata`.
    """
    return ModelCard.from_metadata(load_metadata(folder))


def _read_config(path: Path) -> dict[str, Any]:
    """Parse and strictly validate ``config.json`` (InputError naming the file)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read model config {path}: {exc.strerror or exc}") from None
    if size > CONFIG_MAX_BYTES:
        raise InputError(f"model config {path} is {size} bytes, more than the "
                         f"{CONFIG_MAX_BYTES} allowed; it is not a nanosizer model config")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read model config {path}: {exc}") from None
    if not isinstance(config, dict):
        raise InputError(f"model config {path} must hold a JSON object")
    keys = set(config)
    if keys != _CONFIG_KEYS:
        extra, missing = sorted(keys - _CONFIG_KEYS), sorted(_CONFIG_KEYS - keys)
        raise InputError(f"model config {path}: unknown keys {extra}, missing keys {missing}")
    if config["format"] != FORMAT or config["version"] != VERSION:
        raise InputError(
            f"model config {path}: expected format {FORMAT!r} version {VERSION}, "
            f"got {config['format']!r} version {config['version']!r}"
        )
    try:
        cls = arch_class(config["arch"])
    except ValueError as exc:
        raise InputError(f"model config {path}: {exc}") from None
    kwargs, metadata = config["arch_kwargs"], config["metadata"]
    if not isinstance(kwargs, dict) or not isinstance(metadata, dict):
        raise InputError(f"model config {path}: 'arch_kwargs' and 'metadata' must be objects")
    expected = set(inspect.signature(cls).parameters)
    optional = set(getattr(cls, "optional_kwargs", ()))  # newer options, absent = default
    if not expected - optional <= set(kwargs) <= expected:
        extra = sorted(set(kwargs) - expected)
        missing = sorted(expected - optional - set(kwargs))
        raise InputError(
            f"model config {path}: arch_kwargs of {config['arch']!r} has unknown keys {extra}, "
            f"missing keys {missing}"
        )
    validate_config(config, path)
    return config


def _load_weights(path: Path, net: torch.nn.Module) -> None:
    """Load safetensors weights into ``net`` strictly (InputError naming the file).

    Files above :data:`~nanosizer.nn._schema.WEIGHTS_MAX_BYTES` and weights holding NaN or
    infinite values are refused.
    """
    size = path.stat().st_size
    if size > WEIGHTS_MAX_BYTES:
        raise InputError(f"model weights {path} are {size} bytes, more than the "
                         f"{WEIGHTS_MAX_BYTES} allowed; it is not a nanosizer model")
    try:
        state = load_file(str(path), device="cpu")
    except (OSError, SafetensorError) as exc:
        raise InputError(f"cannot read model weights {path}: {exc}") from None
    expected = net.state_dict()
    extra, missing = sorted(set(state) - set(expected)), sorted(set(expected) - set(state))
    if extra or missing:
        raise InputError(
            f"model weights {path} do not match the config: {len(missing)} missing "
            f"(e.g. {missing[:2]}), {len(extra)} unexpected (e.g. {extra[:2]})"
        )
    wrong = [k for k in expected if expected[k].shape != state[k].shape]
    if wrong:
        raise InputError(f"model weights {path}: wrong shapes for {len(wrong)} tensors, e.g. {wrong[0]}")
    bad = [k for k, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise InputError(f"model weights {path}: {len(bad)} tensors hold NaN or infinite values "
                         f"(e.g. {bad[0]}); the training diverged - retrain the model")
    net.load_state_dict(state, strict=True)


def load_model(folder: str | Path, device: str | torch.device | None = None) -> LoadedModel:
    """Restore a network saved by :func:`save_model`.

    Parameters
    ----------
    folder : str or Path
        Model folder with ``config.json`` and ``weights.safetensors``.
    device : str or torch.device, optional
        Target device; None picks CUDA when available (see :func:`~nanosizer.nn.select_device`).

    Returns
    -------
    LoadedModel
        Network in eval mode on ``device``, with its architecture and metadata.

    Raises
    ------
    InputError
        Missing folder or files, a config with unknown/missing keys or an unknown architecture,
        a config outside the schema of :func:`nanosizer.nn._schema.validate_config` (checked
        before the network is built), weights that are too large, do not match the
        architecture or hold NaN.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"model folder {folder} does not exist; give a folder made by training")
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise InputError(f"model folder {folder} has no {path.name}; it is not a nanosizer model")
    config = _read_config(config_path)
    try:
        net = arch_class(config["arch"])(**config["arch_kwargs"])
    except (TypeError, ValueError) as exc:
        raise InputError(f"model config {config_path}: invalid arch_kwargs: {exc}") from None
    _load_weights(weights_path, net)
    net.to(select_device(device)).eval()
    return LoadedModel(
        net=net,
        arch=config["arch"],
        arch_kwargs=dict(config["arch_kwargs"]),
        metadata=config["metadata"],
        folder=folder,
    )
