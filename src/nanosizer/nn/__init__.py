"""Neural networks for particle segmentation: architectures, model folders, inference.

Architectures (:func:`create_model`): ``unet`` and ``multiresunet``; every network takes
(N, in_channels, H, W) of any H, W and returns logits (N, out_channels, H, W).

A trained model is a folder with ``config.json`` and ``weights.safetensors``
(:func:`save_model`, :func:`load_model`); its metadata is read through
:class:`ModelCard`; :func:`predict` runs whole-image or tiled inference.

>>> from nanosizer.nn import create_model, available_architectures
>>> available_architectures()
['multiresunet', 'unet']
>>> net = create_model("unet", depth=2, base_channels=4)
"""

from __future__ import annotations

from ._base import SegmentationNet
from ._card import ModelCard, core_metadata
from ._fuse import fuse_batchnorm
from ._registry import ARCHITECTURES, available_architectures, create_model
from ._schema import resolve_zoom_model
from .device import autocast, configure_threads, select_device
from .model_io import LoadedModel, load_card, load_metadata, load_model, save_model, write_folder
from .multiresunet import MultiResUNet
from .predict import predict
from .unet import UNet

__all__ = [
    "ARCHITECTURES",
    "available_architectures",
    "create_model",
    "SegmentationNet",
    "UNet",
    "MultiResUNet",
    "save_model",
    "load_model",
    "load_metadata",
    "load_card",
    "LoadedModel",
    "ModelCard",
    "core_metadata",
    "write_folder",
    "select_device",
    "autocast",
    "configure_threads",
    "predict",
    "resolve_zoom_model",
    "fuse_batchnorm",
]
