"""The settings of one ``nanosizer adapt`` run and its torch threads."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["AdaptConfig", "default_threads"]

log = logging.getLogger("nanosizer.adapt")


@dataclass(frozen=True)
class AdaptConfig:
    """One ``nanosizer adapt`` run.

    Parameters
    ----------
    arch : {'unet', 'multiresunet'}
    init_model : str or None
        Shipped model name or model folder to start from; None trains from random weights.
    budget_minutes : float
        Wall-clock budget of the whole run.
    outlines_dir : str or None
        Example particle outlines (binary images) for the outline GAN.
    transmission_dir : str or None
        Folder of transmission twins (file number + 1) of the images.
    pairs_dir : str or None
        Folder of labelled pairs (``images/`` + ``labels/``) to train on, e.g. exported and
        hand-corrected ones.
    cyclegan : {'auto', 'on', 'off'}
        ``'auto'`` runs the CycleGAN only when there are no real pairs.
    self_training : bool
    tile : int
        Training crop side (multiple of 16).
    seed : int
    device : str or None
        None uses CUDA when available.
    threads : int or None
        Torch CPU threads; None uses the CPUs available to the process (on a CPU shared with
        other jobs, 1 thread is often faster).
    """

    arch: str = "unet"
    init_model: str | None = "unet"
    budget_minutes: float = 20.0
    outlines_dir: str | None = None
    transmission_dir: str | None = None
    pairs_dir: str | None = None
    cyclegan: str = "auto"
    self_training: bool = True
    tile: int = 256
    seed: int = 0
    device: str | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise InputError(f"--threads must be >= 1, got {self.threads}")
        if not self.budget_minutes > 0:
            raise InputError(f"--budget must be > 0 minutes, got {self.budget_minutes}")
        if self.cyclegan not in ("auto", "on", "off"):
            raise InputError(f"cyclegan must be auto, on or off, got {self.cyclegan!r}")
        if self.tile < 64 or self.tile % 16:
            raise InputError(f"--tile must be a multiple of 16 and >= 64, got {self.tile}")


def default_threads() -> int | None:
    """Torch threads for a run that does not set ``--threads``.

    On a shared machine, torch's threads wait for each other at every operation; measured with
    2 cores at load ~8, one thread ran fine-tuning steps 4x and GAN steps 10x faster than two.

    Returns
    -------
    int or None
        The CPUs that other work leaves free (:func:`nanosizer._cpus.free_cpus`) when it keeps
        some busy, else None (all of them).
    """
    from .._cpus import available_cpus, free_cpus

    cpus, free = available_cpus(), free_cpus()
    if free < cpus:
        log.info("other work keeps %d of %d CPUs busy: using %d torch thread(s) (set --threads "
                 "to override)", cpus - free, cpus, free)
        return free
    return None
