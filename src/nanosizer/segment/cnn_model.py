"""The model a CNN segmentation runs: shipped names, model folders and models in memory.

:func:`load_cnn` turns any of them into a :class:`~nanosizer.nn.LoadedModel` prepared for
inference (BatchNorm folded, eval mode), loaded once per folder; its metadata is read through
its :class:`~nanosizer.nn.ModelCard` (``.card``).
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .instances import InstanceThresholds

if TYPE_CHECKING:
    from ..nn import LoadedModel

__all__ = ["SHIPPED_MODELS", "decoder_thresholds", "load_cnn", "resolve_model",
           "stored_thresholds"]

#: Names of the model folders shipped in ``nanosizer/models``.
SHIPPED_MODELS: tuple[str, ...] = ("unet", "multiresunet")


def resolve_model(model: str | Path) -> Path:
    """Folder of a shipped model name (``'unet'``, ``'multiresunet'``) or of a model path.

    Raises
    ------
    InputError
        If the name is not a shipped model and no such folder exists.
    """
    if isinstance(model, str) and model in SHIPPED_MODELS:
        folder = Path(str(resources.files("nanosizer") / "models" / model))
        if not (folder / "config.json").is_file():
            raise InputError(
                f"the shipped model {model!r} is missing from {folder}; reinstall nanosizer "
                "or pass a trained model folder with --model"
            )
        return folder
    folder = Path(model)
    if not folder.is_dir():
        raise InputError(
            f"model {str(model)!r} is neither a shipped model ({', '.join(SHIPPED_MODELS)}) "
            "nor a model folder; train one with 'nanosizer train'"
        )
    return folder.resolve()


def _prepared(loaded, device: str | None):
    """``loaded`` with BatchNorm folded into the convolutions, ready for inference."""
    from ..nn import fuse_batchnorm, select_device
    from ..nn.device import prepare_for_inference

    net = prepare_for_inference(fuse_batchnorm(loaded.net), select_device(device))
    return dataclasses.replace(loaded, net=net)


@functools.lru_cache(maxsize=4)
def _load(folder: str, device: str | None):
    """Model of ``folder`` on ``device``, BatchNorm folded into the convolutions (cached)."""
    from ..nn import load_model

    return _prepared(load_model(folder, device=device), device)


#: In-memory models prepared for inference: (id(net), device) -> (the caller's model, prepared
#: copy).
_IN_MEMORY: dict[tuple[int, str | None], tuple] = {}


def load_cnn(model: str | Path | LoadedModel, device: str | None = None) -> LoadedModel:
    """The model to segment with: a shipped name, a model folder or a loaded model.

    Parameters
    ----------
    model : str, Path or LoadedModel
        ``'unet'``/``'multiresunet'``, a model folder (loaded once and cached), or a model in
        memory (:func:`nanosizer.nn.load_model`; its network must not change afterwards).
    device : str, optional
        'cpu' or 'cuda'; None uses CUDA when available.

    Returns
    -------
    LoadedModel
        In eval mode with BatchNorm folded; read its metadata through ``.card``.
    """
    from ..nn import LoadedModel

    if not isinstance(model, LoadedModel):
        return _load(str(resolve_model(model)), device)
    key = (id(model.net), device)
    hit = _IN_MEMORY.get(key)
    if hit is None or hit[0] is not model:
        if len(_IN_MEMORY) >= 4:
            _IN_MEMORY.pop(next(iter(_IN_MEMORY)))
        hit = _IN_MEMORY[key] = (model, _prepared(model, device))
    return hit[1]


def stored_thresholds(model: str | Path | LoadedModel) -> InstanceThresholds:
    """The post-processing thresholds stored with a model (defaults where none).

    ``model`` is anything :func:`load_cnn` takes; of a name or folder only the config is read.
    """
    from ..nn import LoadedModel, load_card

    card = model.card if isinstance(model, LoadedModel) else load_card(resolve_model(model))
    return InstanceThresholds.from_dict(card.thresholds or {})


def decoder_thresholds(model: str | Path | LoadedModel, decoder: str, device: str | None = None
                       ) -> InstanceThresholds:
    """The thresholds a model uses with another instance ``decoder``.

    The stored thresholds when they are for ``decoder``; else the model's
    ``thresholds_validation_tuned`` when those are (the default UNet keeps its centre-vote
    thresholds there); else the stored ones with the decoder replaced.

    Raises
    ------
    InputError
        If the decoder needs centre offsets and the model does not predict them.
    """
    from .centres import predicts_offsets
    from .instances import DECODERS

    if decoder not in DECODERS:
        raise InputError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    loaded = load_cnn(model, device)
    stored = stored_thresholds(loaded)
    if stored.decoder == decoder:
        return stored
    if decoder != "watershed" and not predicts_offsets(loaded.net):
        raise InputError(f"the {decoder} decoder needs a model with centre offsets; model "
                         f"{model} has none (use --decoder watershed or train one with "
                         "--centre-offsets)")
    tuned = loaded.card.validation_tuned
    if tuned and tuned.get("decoder") == decoder:
        return InstanceThresholds.from_dict(tuned)
    return dataclasses.replace(stored, decoder=decoder)
