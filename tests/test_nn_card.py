"""Tests of the model card (nanosizer.nn.ModelCard), the typed view of a model's metadata."""

import dataclasses

import pytest

from nanosizer.nn import ModelCard


def test_card_reads_every_key_inference_uses():
    card = ModelCard.from_metadata({
        "normalization": {"method": "percentile", "low": 2.0, "high": 99.0},
        "thresholds": {"foreground": 0.6},
        "zoom_thresholds": {"smooth": 0.0},
        "particle_diameter_px": {"p5": 8.0, "median": 24.0, "p95": 60.0},
        "zoom_min_px": 12, "zoom": 0.5, "zoom_model": "unet",
        "detection_limit_px": 20, "detection_limit_px_by_decoder": {"votes": 14, "x": None},
        "val_scores": {"f1": 0.7, "n_images": 32}, "steps": 100, "training_minutes": 3.5,
    })
    assert (card.normalization_low, card.normalization_high) == (2.0, 99.0)
    assert card.thresholds["foreground"] == 0.6 and card.zoom_thresholds["smooth"] == 0.0
    assert (card.particle_median_px, card.zoom_min_px, card.zoom) == (24.0, 12.0, 0.5)
    assert card.zoom_model == "unet"
    assert card.detection_limit("votes") == 14.0 and card.detection_limit("watershed") == 20.0
    assert (card.val_f1, card.val_images, card.steps, card.training_minutes) == (0.7, 32, 100, 3.5)


def test_card_defaults_and_is_read_only():
    card = ModelCard.from_metadata({})
    assert (card.normalization_low, card.normalization_high) == (1.0, 99.8)
    assert card.thresholds is None and card.detection_limit("watershed") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.zoom = 2.0  # type: ignore[misc]
    thresholds = ModelCard.from_metadata({"thresholds": {"foreground": 0.5}}).thresholds
    with pytest.raises(TypeError):
        thresholds["foreground"] = 0.9  # type: ignore[index]
