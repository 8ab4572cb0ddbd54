"""Model folders are validated against a schema before any network is built."""

from __future__ import annotations

import json
import time

import pytest
import torch

from nanosizer.errors import InputError
from nanosizer.nn import create_model, load_model, save_model

META = {"normalization": {"method": "percentile", "low": 1.0, "high": 99.8},
        "thresholds": {"foreground": 0.5, "min_area": 12, "decoder": "watershed"}}


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    return save_model(tmp_path / "model", create_model("unet", depth=2, base_channels=4), META)


def _edit(folder, change):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _set(section, key, value):
    def change(config):
        target = config
        for part in section.split("."):
            target = target[part]
        target[key] = value
    return change


@pytest.mark.parametrize("section, key, value, fragment", [
    ("arch_kwargs", "depth", 100, "arch_kwargs.depth must be an integer in [1, 8], got 100"),
    ("arch_kwargs", "base_channels", 100000, "base_channels must be an integer in [1, 256]"),
    ("arch_kwargs", "out_channels", 4, "out_channels must be 3 or 5, got 4"),
    ("arch_kwargs", "in_channels", 3, "in_channels must be an integer in [1, 1]"),
    ("arch_kwargs", "depth", "5", "depth must be an integer"),
    ("metadata", "zoom", 30, "metadata.zoom must be a number in [0.015625, 8] or null, got 30"),
    ("metadata", "zoom", -5, "metadata.zoom must be a number"),
    ("metadata", "zoom", "0.5", "metadata.zoom must be a number"),
    ("metadata.thresholds", "colour", 0.5, "unknown threshold keys ['colour']"),
    ("metadata.thresholds", "foreground", "high", "'foreground' must be a finite number"),
    ("metadata.thresholds", "min_area", 1.5, "'min_area' must be an integer"),
    ("metadata.thresholds", "decoder", 3, "'decoder' must be a string"),
    ("metadata.thresholds", "foreground", 2.0, "foreground threshold must be in [0, 1]"),
    ("metadata.normalization", "low", 120, "0 <= low < high <= 100"),
    ("metadata.normalization", "method", "zscore", "method must be 'percentile'"),
    ("metadata", "zoom_model", "/abs/elsewhere", "inside the model folder"),
    ("metadata", "zoom_model", "../elsewhere", "inside the model folder"),
    ("metadata", "zoom_model", "missing", "names no model folder inside"),
])
def test_config_outside_the_schema_is_refused_fast(model, section, key, value, fragment):
    _edit(model, _set(section, key, value))
    start = time.perf_counter()
    with pytest.raises(InputError, match="model config .*config.json: ") as info:
        load_model(model)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert time.perf_counter() - start < 2


def test_too_wide_a_network_is_refused(model):
    _edit(model, _set("arch_kwargs", "depth", 8))
    _edit(model, _set("arch_kwargs", "base_channels", 16))
    with pytest.raises(InputError, match=r"widest layer .* would have 2048 channels"):
        load_model(model)


def test_five_output_models_and_shipped_models_pass(tmp_path):
    save_model(tmp_path / "five", create_model("unet", out_channels=5, depth=2, base_channels=4),
               META)
    assert load_model(tmp_path / "five").arch_kwargs["out_channels"] == 5
    from nanosizer.segment.cnn import resolve_model

    for name in ("unet", "multiresunet"):
        load_model(resolve_model(name))


def test_huge_config_refused_without_reading_it(model):
    with open(model / "config.json", "a") as fh:
        fh.write(" " * (1 << 20))
    with pytest.raises(InputError, match=r"is \d+ bytes, more than the 1048576 allowed"):
        load_model(model)


def test_nan_weights_refused(tmp_path):
    net = create_model("unet", depth=2, base_channels=4)
    with torch.no_grad():
        next(iter(net.parameters()))[0] = float("nan")
    save_model(tmp_path / "nan", net, META)
    with pytest.raises(InputError, match="hold NaN or infinite values .* retrain"):
        load_model(tmp_path / "nan")


def test_zoom_model_is_relative_to_the_model_folder_not_the_current_folder(model, tmp_path,
                                                                           monkeypatch):
    from nanosizer.nn._schema import resolve_zoom_model

    save_model(model / "chooser", create_model("unet", depth=2, base_channels=4), META)
    _edit(model, _set("metadata", "zoom_model", "chooser"))
    for cwd in (tmp_path, model, model / "chooser"):
        monkeypatch.chdir(cwd)
        load_model(model)
        assert resolve_zoom_model("chooser", model) == (model / "chooser").resolve()
    assert resolve_zoom_model("unet", model).name == "unet"
