"""The model card: what a model folder's metadata says about how to use the network.

``config.json`` keeps a free ``metadata`` object (checked by :mod:`nanosizer.nn._schema` when
the folder is read); :class:`ModelCard` is its typed view, the one place that knows the key
names.  Inference reads the card, never the dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["ModelCard", "core_metadata"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(value: Any) -> Mapping[str, Any] | None:
    return None if value is None else MappingProxyType(dict(value))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ModelCard:
    """Typed, read-only view of a model's metadata.

    Attributes
    ----------
    normalization_low, normalization_high : float
        Percentiles mapped to 0 and 1 before the network (1 and 99.8 when not stored).
    thresholds : Mapping or None
        Post-processing thresholds (``InstanceThresholds.to_dict()``) used by default.
    zoom_thresholds : Mapping or None
        Thresholds with which the automatic zoom compares zooms (None: ``thresholds``).
    validation_tuned : Mapping or None
        Thresholds tuned on the synthetic validation set, kept for another decoder.
    particle_median_px : float or None
        Median training particle diameter (px), the target of the automatic zoom.
    zoom_min_px : float or None
        Smallest median diameter the automatic zoom may settle on.
    zoom : float or None
        Fixed zoom (models adapted to images of one magnification).
    zoom_model : str or None
        Model that chooses the zoom (shipped name or folder inside the model folder).
    detection_limit_px : float or None
        Smallest reliably detected min Feret diameter (network px).
    detection_limit_by_decoder : Mapping
        The same per instance decoder, where measured.
    trained_on : str or None
        What the network was trained on (``'synthetic'``, ...).
    val_f1 : float or None
        Validation F1 at the end of training, on ``val_images`` images.
    val_images : int
        Number of validation images behind ``val_f1``.
    training_minutes, steps : float or None, int or None
        Training time and optimiser steps.
    threshold_search : Mapping
        How the threshold search after training went (``tried``, ``candidates``,
        ``complete``).
    metadata : Mapping
        Every stored key, for provenance (read-only).

    Examples
    --------
    >>> card = ModelCard.from_metadata({"normalization": {"low": 2.0, "high": 99.0},
    ...                                 "particle_diameter_px": {"median": 30.0}})
    >>> card.normalization_low, card.normalization_high, card.particle_median_px
    (2.0, 99.0, 30.0)
    >>> card.detection_limit("watershed") is None
    True
    """

    normalization_low: float = 1.0
    normalization_high: float = 99.8
    thresholds: Mapping[str, Any] | None = None
    zoom_thresholds: Mapping[str, Any] | None = None
    validation_tuned: Mapping[str, Any] | None = None
    particle_median_px: float | None = None
    zoom_min_px: float | None = None
    zoom: float | None = None
    zoom_model: str | None = None
    detection_limit_px: float | None = None
    detection_limit_by_decoder: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    trained_on: str | None = None
    val_f1: float | None = None
    val_images: int = 0
    training_minutes: float | None = None
    steps: int | None = None
    threshold_search: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ModelCard:
        """The card of a ``config.json`` ``metadata`` object (already schema-checked)."""
        norm = metadata.get("normalization") or {}
        sizes = metadata.get("particle_diameter_px") or {}
        scores = metadata.get("val_scores") or {}
        steps = metadata.get("steps")
        return cls(
            normalization_low=float(norm.get("low", 1.0)),
            normalization_high=float(norm.get("high", 99.8)),
            thresholds=_frozen(metadata.get("thresholds")),
            zoom_thresholds=_frozen(metadata.get("zoom_thresholds") or None),
            validation_tuned=_frozen(metadata.get("thresholds_validation_tuned") or None),
            particle_median_px=_float(sizes.get("median")) or None,
            zoom_min_px=_float(metadata.get("zoom_min_px")),
            zoom=_float(metadata.get("zoom")),
            zoom_model=metadata.get("zoom_model") or None,
            detection_limit_px=_float(metadata.get("detection_limit_px")),
            detection_limit_by_decoder=MappingProxyType(
                {k: float(v) for k, v in (metadata.get("detection_limit_px_by_decoder")
                                          or {}).items() if v is not None}),
            trained_on=metadata.get("trained_on"),
            val_f1=_float(scores.get("f1")),
            val_images=int(scores.get("n_images", 0) or 0),
            training_minutes=_float(metadata.get("training_minutes")),
            steps=None if steps is None else int(steps),
            threshold_search=_frozen(metadata.get("threshold_search")) or _EMPTY,
            metadata=MappingProxyType(dict(metadata)),
        )

    def detection_limit(self, decoder: str) -> float | None:
        """Detection limit (network px) with ``decoder``: its own where measured, else the
        model's."""
        return self.detection_limit_by_decoder.get(decoder, self.detection_limit_px)


def core_metadata(outputs: list[str], thresholds: Mapping[str, Any],
                  particle_diameter_px: Mapping[str, Any],
                  normalization: Mapping[str, Any]) -> dict[str, Any]:
    """The keys every model folder's metadata starts with, in their order.

    The one place that writes what :meth:`ModelCard.from_metadata` reads for inference; the
    trainers (``train``'s export, ``adapt``'s fine-tuning) add their provenance after it.

    Parameters
    ----------
    outputs : list of str
        Names of the network's output channels.
    thresholds : Mapping
        Post-processing thresholds (``InstanceThresholds.to_dict()``).
    particle_diameter_px : Mapping
        Percentiles ``p5``, ``median``, ``p95`` of the training particle diameters (px).
    normalization : Mapping
        ``method``, ``low`` and ``high`` of the intensity normalisation.

    Returns
    -------
    dict

    Examples
    --------
    >>> meta = core_metadata(["foreground"], {"foreground": 0.5}, {"median": 20.0},
    ...                      {"method": "percentile", "low": 1.0, "high": 99.8})
    >>> card = ModelCard.from_metadata(meta)
    >>> card.thresholds["foreground"], card.particle_median_px
    (0.5, 20.0)
    """
    return {
        "task": "instance-segmentation",
        "outputs": list(outputs),
        "output_activation": "sigmoid",
        "normalization": dict(normalization),
        "thresholds": dict(thresholds),
        "particle_diameter_px": dict(particle_diameter_px),
    }
