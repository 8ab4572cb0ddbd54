"""Saving and loading GAN folders: a JSON file (config + training history) and safetensors."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from torch import nn

from ..errors import InputError

__all__ = ["save_gan_folder", "read_gan_folder"]


def save_gan_folder(
    folder: str | Path, config_name: str, config, history: dict, nets: dict[str, nn.Module],
    *, overwrite: bool = False,
) -> Path:
    """Write ``nets`` (file name -> network) as safetensors and ``config_name`` as JSON.

    The folder appears whole or not at all (:func:`nanosizer.nn.write_folder`).

    Parameters
    ----------
    folder : path
        Destination folder (created).
    config_name : str
        Name of the JSON file holding ``{"config": asdict(config), "history": history}``.
    config : dataclass instance
        The GAN's configuration.
    history : dict
        Training losses, JSON-serialisable.
    nets : dict
        Weight file name -> network whose state dict is saved (fp32 tensors as trained).
    overwrite : bool
        Replace an existing non-empty folder.

    Returns
    -------
    Path
    """
    from safetensors.torch import save_file

    from ..nn import write_folder

    text = json.dumps({"config": asdict(config), "history": history}, indent=2)
    states = {name: {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
              for name, net in nets.items()}

    def write(tmp: Path) -> None:
        for name, state in states.items():
            save_file(state, str(tmp / name))
        (tmp / config_name).write_text(text + "\n", encoding="utf-8")

    return write_folder(folder, write, overwrite=overwrite, kind=config_name.split(".")[0] + " folder")


def read_gan_folder(folder: str | Path, config_name: str, config_cls, weight_names, kind: str):
    """Read a folder written by :func:`save_gan_folder`; never unpickles.

    Returns
    -------
    config : config_cls
        Rebuilt strictly (unknown or missing keys are errors).
    history : dict
    states : dict
        Weight file name -> state dict (on the CPU).

    Raises
    ------
    InputError
        One line naming the folder when a file is missing or does not match.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        meta = json.loads((folder / config_name).read_text(encoding="utf-8"))
        config = config_cls(**meta["config"])
        states = {name: load_file(str(folder / name), device="cpu") for name in weight_names}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{folder}: not {kind} folder ({exc})") from None
    return config, meta.get("history", {}), states
