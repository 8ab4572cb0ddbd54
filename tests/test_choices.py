"""The CLI's choice lists (nanosizer.choices) are the registries of the code behind them."""

import pytest

from nanosizer import choices


def test_methods_measures_scale_bar_modes_and_modalities_are_the_implementations():
    from nanosizer.measure import SIZE_MEASURES
    from nanosizer.pipeline.config import MEASURES
    from nanosizer.segment import METHODS
    from nanosizer.segment.cnn import SHIPPED_MODELS
    from nanosizer.segment.instances import DECODERS
    from nanosizer.synth import ImagingConfig

    assert choices.METHODS == METHODS == (*SHIPPED_MODELS, "classical")
    assert set(choices.SIZE_MEASURES) == set(SIZE_MEASURES) == set(MEASURES)
    assert choices.DECODERS == DECODERS
    for modality in choices.MODALITIES:
        assert ImagingConfig(modality=modality).modality == modality
    with pytest.raises(ValueError):
        ImagingConfig(modality="xray")


def test_architectures_are_the_network_registry():
    pytest.importorskip("torch")
    from nanosizer.nn import available_architectures

    assert sorted(choices.ARCHITECTURES) == available_architectures()


def test_the_parser_offers_the_registries_without_heavy_imports():
    import subprocess
    import sys

    code = ("import sys\nfrom nanosizer.cli.main import build_parser\n"
            "p = build_parser()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
