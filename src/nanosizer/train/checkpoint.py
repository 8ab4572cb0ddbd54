"""Resumable training checkpoints (``checkpoint.pt``; tensors and plain data only)."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import torch

from ..errors import InputError
from .config import TrainConfig

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_NAME = "checkpoint.pt"
#: Config fields that may change when resuming (a longer run, fine-tuning with other
#: augmentation strengths).
_RESUMABLE_CHANGES = {"epochs", "minutes", "num_workers", "threads", "device", "p_invert",
                      "p_texture", "scale_range"}


def save_checkpoint(path: Path, config: TrainConfig, net, optimizer, state) -> None:
    """Write model, optimizer, progress, config and torch RNG state atomically.

    Numpy randomness needs no saving: every crop is drawn from ``(seed, epoch, index)``.
    """
    payload = {
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "state": asdict(state),
        "config": config.to_dict(),
        "torch_rng": torch.get_rng_state(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, config: TrainConfig, net, optimizer):
    """Restore ``net`` and ``optimizer`` in place and return the saved :class:`TrainState`.

    Raises
    ------
    InputError
        If the checkpoint was made with a different configuration (other than epochs/minutes).
    """
    from .loop import TrainState

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user problem
        raise InputError(f"cannot read checkpoint {path}: {exc}") from None
    saved = payload["config"]
    current = config.to_dict()
    changed = sorted(k for k in current if k not in _RESUMABLE_CHANGES and saved.get(k) != current[k])
    if changed:
        raise InputError(
            f"checkpoint {path} was made with different settings ({', '.join(changed)}); "
            "resume with the original options or choose another --out"
        )
    net.load_state_dict(payload["model"], strict=True)
    optimizer.load_state_dict(payload["optimizer"])
    torch.set_rng_state(payload["torch_rng"])
    state = TrainState(**payload["state"])
    state.history = [dict(row) for row in state.history]
    return state
