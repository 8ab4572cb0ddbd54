"""Architecture registry and factory."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from ._base import SegmentationNet
from .multiresunet import MultiResUNet
from .unet import UNet

__all__ = ["ARCHITECTURES", "available_architectures", "create_model", "arch_class"]

#: Registered architectures: name -> class (read-only).
ARCHITECTURES: MappingProxyType[str, type[SegmentationNet]] = MappingProxyType(
    {cls.arch: cls for cls in (UNet, MultiResUNet)}
)


def available_architectures() -> list[str]:
    """Names accepted by :func:`create_model`, sorted."""
    return sorted(ARCHITECTURES)


def arch_class(arch: str) -> type[SegmentationNet]:
    """Class registered under ``arch``; ValueError listing the valid names otherwise."""
    try:
        return ARCHITECTURES[arch]
    except (KeyError, TypeError):
        valid = ", ".join(available_architectures())
        raise ValueError(f"unknown architecture {arch!r}; choose one of {valid}") from None


def create_model(arch: str, **kwargs: Any) -> SegmentationNet:
    """Build a network by registry name.

    Parameters
    ----------
    arch : str
        One of :func:`available_architectures` (``'unet'``, ``'multiresunet'``).
    **kwargs
        Constructor arguments of that architecture (``in_channels=1``, ``out_channels=3`` and its
        own, e.g. ``depth``, ``base_channels``); stored in ``net.config``.

    Returns
    -------
    net : SegmentationNet
        A :class:`torch.nn.Module` in training mode mapping (N, in_channels, H, W) to logits
        (N, out_channels, H, W) for any H, W.

    Examples
    --------
    >>> net = create_model("unet", depth=2, base_channels=4)
    >>> net.config["depth"]
    2
    """
    return arch_class(arch)(**kwargs)
