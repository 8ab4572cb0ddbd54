"""Segmentation: micrograph -> instance labels (0 = background, 1..N = particles).

Methods
-------
``classical``
    Smoothing, threshold, hole filling and a marker-controlled watershed
    (:func:`nanosizer.segment.classical.segment_classical`).
``unet``, ``multiresunet``
    A CNN model folder (the shipped one by default) followed by instance separation
    (:func:`nanosizer.segment.cnn.segment_cnn`).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

from .. import choices

from ._labels import relabel_min_area

__all__ = ["METHODS", "DEFAULT_METHOD", "relabel_min_area", "segment", "segment_details"]

METHODS: tuple[str, ...] = choices.METHODS
DEFAULT_METHOD = "unet"


def segment(
    micrograph: Any,
    method: str = DEFAULT_METHOD,
    *,
    model: str | Path | None = None,
    config: Any = None,
    zoom: float | None = None,
) -> np.ndarray:
    """Segment the particles of a micrograph into instance labels.

    Parameters
    ----------
    micrograph : Micrograph
        Image with pixel size and info bar (see :func:`nanosizer.read_micrograph`).
    method : {'unet', 'multiresunet', 'classical'}
        Segmentation method; CNN methods use the shipped model unless ``model`` is given.
    model : str or Path, optional
        Model folder (``config.json`` + ``weights.safetensors``) for the CNN methods.
    config : object, optional
        Method configuration (:class:`~nanosizer.segment.classical.ClassicalConfig` for
        ``classical``); None uses the defaults.
    zoom : float, optional
        CNN methods: scale applied to the image before the network (e.g. 0.25 for particles
        of ~150 px when the model was trained on ~40 px); None chooses it automatically
        (:func:`nanosizer.segment.cnn.choose_zoom`).  Ignored by ``classical``.

    Returns
    -------
    labels : (H, W) ndarray of int32
        Same shape as ``micrograph.data``; 0 outside particles and in the info bar.
    """
    return segment_details(micrograph, method, model=model, config=config, zoom=zoom).labels


def segment_details(
    micrograph: Any,
    method: str = DEFAULT_METHOD,
    *,
    model: str | Path | None = None,
    config: Any = None,
    zoom: float | None = None,
    decoder: str | None = None,
):
    """:func:`segment` with the zoom, settings and detection limit of the segmentation.

    Same parameters as :func:`segment`, and ``decoder``: CNN methods, an instance decoder other
    than the model's own (``'watershed'``, ``'centres'``, ``'hybrid'``;
    :func:`nanosizer.segment.cnn.decoder_thresholds`).

    Returns
    -------
    Segmentation
        ``labels`` as :func:`segment` returns them, ``detection_limit_px`` (minimum Feret in
        image px below which particles are not reliably found), ``zoom`` and ``settings``.
    """
    if method not in METHODS and model is None:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "classical":
        if model is not None:
            raise ValueError(f"model {str(model)!r} is for the CNN methods but method is "
                             "'classical'; drop the model or choose method 'unet'")
        from dataclasses import asdict

        from .classical import ClassicalConfig, segment_classical
        from .limits import detection_limit_px
        from .result import Segmentation

        config = config or ClassicalConfig()
        labels = segment_classical(micrograph.data, mask=micrograph.analysis_mask, config=config)
        return Segmentation(labels, detection_limit_px(config.min_area), None, asdict(config))
    from .cnn import segment_cnn_details

    return segment_cnn_details(micrograph, model=model if model is not None else method,
                               scale=zoom, decoder=decoder)


class _CallableModule(types.ModuleType):
    """``nanosizer.segment`` is both this subpackage and the public function :func:`segment`.

    Importing the subpackage (any ``from nanosizer.segment import ...``, e.g. by ``analyze``)
    makes ``nanosizer.segment`` this module; calling it must still segment.
    """

    def __call__(self, *args, **kwargs):
        return segment(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
