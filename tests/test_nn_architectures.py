"""Shared contract every registered architecture must satisfy."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nanosizer.errors import InputError
from nanosizer.nn import (
    ARCHITECTURES,
    available_architectures,
    create_model,
    load_model,
    save_model,
)
from nanosizer.nn._base import pad_to_multiple

# Tiny widths keep the tests fast; every architecture must appear here.
TINY = {
    "unet": dict(depth=2, base_channels=4),
    "multiresunet": dict(depth=2, base_channels=4),
}
VARIANTS = {
    "unet": [dict(norm="group", upsample="transpose"), dict(depth=3, base_channels=2)],
    "multiresunet": [dict(norm="group", alpha=2.0), dict(depth=3, base_channels=4)],
}
ARCHS = available_architectures()


def tiny(arch: str, **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(arch, **{**TINY[arch], **kwargs})


def test_every_architecture_has_tiny_config():
    assert set(TINY) == set(ARCHITECTURES) == set(ARCHS)


def test_unknown_architecture_lists_valid_names():
    with pytest.raises(ValueError, match="multiresunet.*unet"):
        create_model("resnet")


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("shape", [(37, 53), (64, 100), (5, 3)])
def test_output_shape_matches_input(arch, shape):
    net = tiny(arch, out_channels=2).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 1, *shape))
    assert out.shape == (2, 2, *shape)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_variants_and_in_channels(arch):
    for kwargs in VARIANTS[arch]:
        net = tiny(arch, in_channels=2, **kwargs).eval()
        with torch.no_grad():
            assert net(torch.randn(1, 2, 30, 41)).shape == (1, 3, 30, 41)
        assert net.config == {**net.config, **kwargs, "in_channels": 2}


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_backward_finite_gradients(arch):
    net = tiny(arch).train()
    out = net(torch.randn(2, 1, 37, 53))
    out.square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize("arch", ARCHS)
def test_wrong_input_channels_rejected(arch):
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        tiny(arch)(torch.zeros(1, 3, 16, 16))


@pytest.mark.parametrize("arch", ARCHS)
def test_config_rebuilds_same_architecture(arch):
    net = tiny(arch)
    config = json.loads(json.dumps(net.config))
    rebuilt = create_model(arch, **config)
    assert rebuilt.config == net.config
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in net.parameters()]


@pytest.mark.parametrize("arch", ARCHS)
def test_bad_arguments_rejected(arch):
    with pytest.raises(ValueError, match="depth"):
        create_model(arch, depth=0)
    with pytest.raises(ValueError, match="norm"):
        create_model(arch, norm="layer")
    with pytest.raises(TypeError):
        create_model(arch, width=3)


@pytest.mark.parametrize("arch", ARCHS)
def test_default_weights_at_most_20_mb(arch):
    net = create_model(arch)
    nbytes = sum(p.numel() * 4 for p in net.state_dict().values())
    assert 1e6 < nbytes <= 20e6
    assert net.config["in_channels"] == 1 and net.config["out_channels"] == 3


def _trained_like(arch: str) -> torch.nn.Module:
    """Tiny net with non-trivial BatchNorm statistics (one training step's worth)."""
    net = tiny(arch).train()
    with torch.no_grad():
        net(torch.randn(2, 1, 32, 32) * 3 + 1)
    return net.eval()


@pytest.mark.parametrize("arch", ARCHS)
def test_save_load_identical_output(arch, tmp_path):
    net = _trained_like(arch)
    metadata = {"normalisation": {"mean": 0.5, "std": 0.2}, "threshold": 0.4, "cmd": ["a", "b"]}
    folder = save_model(tmp_path / "model", net, metadata)
    assert sorted(p.name for p in folder.iterdir()) == [".nanosizer-manifest.json", "config.json",
                                                        "weights.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config == {
        "format": "nanosizer-model",
        "version": 1,
        "arch": arch,
        "arch_kwargs": net.config,
        "metadata": metadata,
    }
    loaded = load_model(folder, device="cpu")
    assert (loaded.arch, loaded.arch_kwargs, loaded.metadata) == (arch, net.config, metadata)
    assert loaded.folder == folder and not loaded.net.training
    x = torch.randn(1, 1, 37, 53)
    with torch.no_grad():
        assert torch.equal(loaded.net(x), net(x))


def test_save_refuses_non_empty_folder_unless_overwrite(tmp_path):
    net = _trained_like("unet")
    folder = tmp_path / "model"
    folder.mkdir()  # an empty folder is fine
    save_model(folder, net, {"run": 1})
    with pytest.raises(InputError, match="not empty"):
        save_model(folder, net, {"run": 2})
    save_model(folder, net, {"run": 2}, overwrite=True)
    assert load_model(folder).metadata == {"run": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folders left


def test_save_rejects_non_json_metadata(tmp_path):
    with pytest.raises(TypeError):
        save_model(tmp_path / "m", tiny("unet"), {"array": np.zeros(2)})
    assert not (tmp_path / "m").exists()


def test_save_writes_contiguous_fp32_from_channels_last(tmp_path):
    net = _trained_like("unet").to(memory_format=torch.channels_last)
    folder = save_model(tmp_path / "m", net, {})
    from safetensors.torch import load_file

    state = load_file(folder / "weights.safetensors")
    assert all(t.dtype in (torch.float32, torch.int64) for t in state.values())
    assert all(t.is_contiguous() for t in state.values())


def _edit_config(folder, edit):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda c: c.update(extra=1), "unknown keys"),
        (lambda c: c.pop("metadata"), "missing keys"),
        (lambda c: c["arch_kwargs"].update(dropout=0.1), "dropout"),
        (lambda c: c["arch_kwargs"].pop("depth"), "depth"),
        (lambda c: c.update(arch="segformer"), "segformer"),
        (lambda c: c.update(version=2), "version"),
        (lambda c: c["arch_kwargs"].update(depth=3), "weights"),
    ],
)
def test_load_rejects_tampered_config(arch, edit, match, tmp_path):
    folder = save_model(tmp_path / "m", tiny(arch), {})
    _edit_config(folder, edit)
    with pytest.raises(ValueError, match=match) as info:
        load_model(folder)
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_load_rejects_wrong_arch_with_valid_kwargs(tmp_path):
    folder = save_model(tmp_path / "m", tiny("unet"), {})

    def to_multiresunet(config):
        del config["arch_kwargs"]["upsample"]
        config["arch_kwargs"]["alpha"] = 1.67
        config["arch"] = "multiresunet"

    _edit_config(folder, to_multiresunet)
    with pytest.raises(InputError, match="weights.safetensors do not match"):
        load_model(folder)


def test_load_missing_folder_and_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "nope")
    folder = save_model(tmp_path / "m", tiny("unet"), {})
    (folder / "weights.safetensors").unlink()
    with pytest.raises(InputError, match="weights.safetensors"):
        load_model(folder)
    (folder / "weights.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match="cannot read model weights"):
        load_model(folder)


def test_pad_to_multiple_reflects_and_handles_tiny_inputs():
    x = torch.arange(3.0).reshape(1, 1, 1, 3)
    padded = pad_to_multiple(x, 8)
    assert padded.shape == (1, 1, 8, 8)
    assert padded[0, 0, 0].tolist() == [0, 1, 2, 1, 0, 1, 2, 1]
    assert torch.equal(padded[..., :1, :3], x)


def test_widened_unet_computes_the_same_function_and_can_diverge():
    net = tiny("unet", out_channels=5, offset_channels=3).eval()
    x = torch.rand(2, 1, 20, 28)
    exact = net.widened(12, noise=0).eval()
    assert exact.config["base_channels"] == 12 and exact.config["offset_channels"] == 3
    n_old = sum(p.numel() for p in net.parameters())
    assert sum(p.numel() for p in exact.parameters()) > 4 * n_old  # wider, not a copy
    with torch.no_grad():
        ref = net(x)
        assert torch.allclose(exact(x), ref, atol=1e-5)
        noisy = net.widened(12, noise=0.02).eval()
        diff = (noisy(x) - ref).abs()
    # the noise that lets the copies learn different features barely changes the output
    assert 0 < diff.mean() < 0.05 * ref.abs().mean()
    assert net.widened(4).config == net.config  # factor 1: the same network
    with pytest.raises(ValueError, match="multiple"):
        net.widened(6)


def test_widening_fails_clearly_where_widths_do_not_scale():
    net = tiny("multiresunet").eval()
    try:
        wide = net.widened(8, noise=0).eval()
    except ValueError as err:  # rounded block widths: refused, naming the layer
        assert "cannot widen" in str(err)
    else:
        x = torch.rand(1, 1, 16, 16)
        with torch.no_grad():
            assert torch.allclose(wide(x), net(x), atol=1e-5)
