"""Whole-image and tiled inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanosizer.nn import autocast, create_model, fuse_batchnorm, predict, select_device
from nanosizer.nn.predict import blend_window, tile_starts


def _net(arch: str = "unet") -> torch.nn.Module:
    """Tiny network in eval mode with non-trivial BatchNorm running statistics."""
    torch.manual_seed(0)
    net = create_model(arch, depth=2, base_channels=4)
    with torch.no_grad():
        net.train()(torch.randn(2, 1, 32, 32))
    return net.eval()


def _image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("arch", ["unet", "multiresunet"])
@pytest.mark.parametrize("shape", [(150, 203), (64, 256), (10, 200)])
def test_tiled_matches_whole_image(arch, shape):
    net, image = _net(arch), _image(shape)
    whole = predict(net, image, amp=False)
    tiled = predict(net, image, tile=64, overlap=32, amp=False, batch_size=3)
    assert whole.shape == tiled.shape == (3, *shape) and tiled.dtype == np.float32
    scale = np.abs(whole).max()
    assert np.abs(tiled - whole).max() < 1e-3 * scale


def test_whole_image_equals_direct_forward():
    net, image = _net(), _image((37, 53))
    with torch.no_grad():
        expected = net(torch.from_numpy(image)[None, None])[0].numpy()
    np.testing.assert_allclose(predict(net, image, amp=False), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(20, 30), (64, 64), (3, 5)])
def test_image_smaller_than_tile(shape):
    net, image = _net(), _image(shape)
    tiled = predict(net, image, tile=64, overlap=16, amp=False)
    np.testing.assert_allclose(tiled, predict(net, image, amp=False), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch, norm", [("unet", "batch"), ("unet", "group"), ("multiresunet", "group")])
def test_amp_close_to_fp32(arch, norm):
    torch.manual_seed(0)
    net, image = create_model(arch, depth=2, base_channels=4, norm=norm).eval(), _image((64, 96))
    exact = predict(net, image, amp=False)
    fast = predict(net, image, amp=True)
    assert fast.dtype == np.float32 and fast.shape == exact.shape
    assert np.abs(fast - exact).max() < 0.05 * np.abs(exact).max()


def test_amp_tiled_close_to_fp32_whole():
    net, image = _net(), _image((64, 96))
    exact = predict(net, image, amp=False)
    fast = predict(net, image, amp=True, tile=32, overlap=8)
    assert np.abs(fast - exact).max() < 0.1 * np.abs(exact).max()


def test_predict_restores_training_mode_and_leaves_image():
    net, image = _net(), _image((40, 40))
    net.train()
    before = image.copy()
    predict(net, image, tile=32, overlap=8)
    assert net.training
    np.testing.assert_array_equal(image, before)


def test_bad_arguments():
    net = _net()
    with pytest.raises(ValueError, match="overlap"):
        predict(net, _image((40, 40)), tile=32, overlap=32)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        predict(net, _image((1, 40, 40)))
    image = _image((40, 40))
    image[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        predict(net, image)


def test_tile_starts_cover_with_overlap():
    for size, tile, overlap in [(100, 32, 8), (65, 64, 16), (1000, 256, 64)]:
        starts = tile_starts(size, tile, overlap)
        assert starts[0] == 0 and starts[-1] == size - tile
        assert all(0 < b - a <= tile - overlap for a, b in zip(starts, starts[1:]))


def test_blend_windows_partition_of_unity():
    """Neighbouring ramps offset by tile - overlap sum to 1 without normalisation."""
    tile, overlap = 32, 8
    total = np.zeros(3 * tile)
    starts = [0, tile - overlap, 2 * (tile - overlap)]
    for i, s in enumerate(starts):
        total[s : s + tile] += blend_window(tile, overlap, i > 0, i < len(starts) - 1)
    np.testing.assert_allclose(total[: starts[-1] + tile], 1.0, atol=1e-6)
    assert blend_window(10, 4, True, True).min() > 0


def test_select_device_and_autocast():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        select_device("tpu")
    with autocast("cpu", enabled=False):
        assert not torch.is_autocast_enabled("cpu")


@pytest.mark.parametrize("arch", ["unet", "multiresunet"])
def test_fuse_batchnorm_same_output(arch):
    net = _net(arch).to(memory_format=torch.channels_last)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fused = fuse_batchnorm(net)
    def count(module):
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules())

    # UNet: every BatchNorm follows a conv; MultiResUNet keeps those after concatenations/sums
    assert count(fused) == 0 if arch == "unet" else 0 < count(fused) < count(net)
    image = _image((37, 53))
    np.testing.assert_allclose(
        predict(fused, image, amp=False), predict(net, image, amp=False), rtol=1e-4, atol=1e-5
    )
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
