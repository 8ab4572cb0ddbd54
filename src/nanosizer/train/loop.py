"""The training loop: ``train_one_epoch``, ``fit``, checkpoints and the exported model folder."""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader

from ..errors import InputError
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import TrainingSet, validation_set
from .export import export_model
from .loss import segmentation_loss
from .validate import default_thresholds, evaluate

__all__ = ["TrainState", "train_one_epoch", "fit", "initial_weights"]

log = logging.getLogger("nanosizer.train")
BEST_NAME = "best"
#: Constructor arguments an initial model may lack: they only add layers.
_ADDABLE: tuple[str, ...] = ("offset_channels",)


@dataclass
class TrainState:
    """Progress that a checkpoint restores (besides model and optimizer)."""

    epoch: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    best_f1: float = -1.0
    history: list[dict] = field(default_factory=list)


def _lr_factor(config: TrainConfig, state: TrainState, total_steps: int) -> float:
    """Linear warm-up, then cosine decay over steps or the time budget, whichever ends first."""
    if state.step < config.warmup_steps:
        return (state.step + 1) / config.warmup_steps
    progress = state.step / max(total_steps, 1)
    if config.minutes is not None:
        progress = max(progress, state.elapsed_s / (60.0 * config.minutes))
    return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _out_of_time(config: TrainConfig, state: TrainState) -> bool:
    return config.minutes is not None and state.elapsed_s >= 60.0 * config.minutes


def train_one_epoch(
    net: torch.nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    state: TrainState,
    device: torch.device,
    total_steps: int,
    on_step: Callable[[torch.nn.Module], None] | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; updates ``state`` (step, elapsed) and stops early when out of time.

    ``on_step(net)`` is called after every optimiser step (e.g. :meth:`WeightAverage.update`).

    Returns
    -------
    dict
        Mean ``loss`` and its parts over the batches done.
    """
    from tqdm.auto import tqdm

    from ..nn import autocast

    net.train()
    sums: dict[str, float] = {}
    n = 0
    start, elapsed0 = time.perf_counter(), state.elapsed_s
    # a single time-limited pass (adapt's fine-tuning) has no meaningful step count to show
    total = float("inf") if config.minutes is not None and config.epochs == 1 else len(loader)
    bar = tqdm(loader, desc=f"epoch {state.epoch + 1}", total=total, leave=False, mininterval=2.0)
    for x, y in bar:
        x, y = x.to(device), y.to(device)
        if device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(config, state, total_steps)
        with autocast(device, enabled=config.amp):
            logits = net(x)
        loss, parts = segmentation_loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimizer.step()
        if on_step is not None:
            on_step(net)
        state.step += 1
        state.elapsed_s = elapsed0 + time.perf_counter() - start
        n += 1
        for key, value in {"loss": float(loss.detach()), **parts}.items():
            sums[key] = sums.get(key, 0.0) + value
        bar.set_postfix(loss=f"{sums['loss'] / n:.3f}")
        if _out_of_time(config, state):
            break
    bar.close()
    return {key: value / max(n, 1) for key, value in sums.items()}


def _loader(config: TrainConfig, epoch: int) -> DataLoader:
    def _init_worker(_: int) -> None:
        torch.set_num_threads(1)

    return DataLoader(
        TrainingSet(config, epoch), batch_size=config.batch_size, shuffle=False, drop_last=True,
        num_workers=config.num_workers, worker_init_fn=_init_worker if config.num_workers else None,
    )


def _append_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _start(config: TrainConfig, out_dir: Path, resume: bool, device: torch.device,
           initial: torch.nn.Module | None = None):
    """Network, optimizer and state: ``initial`` or a new network, or restored from the
    checkpoint in ``out_dir``."""
    from ..nn import create_model

    torch.manual_seed(config.seed)
    if initial is None:
        initial = create_model(config.arch, in_channels=1, out_channels=config.out_channels,
                               **config.arch_kwargs)
    net = initial.to(device)
    if device.type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    state = TrainState()
    ckpt = out_dir / CHECKPOINT_NAME
    if ckpt.exists() and not resume:
        raise InputError(f"{out_dir} holds a training checkpoint; add --resume or choose another --out")
    if resume and ckpt.exists():
        state = load_checkpoint(ckpt, config, net, optimizer)
        log.info("resumed from %s at epoch %d, step %d", ckpt, state.epoch, state.step)
    return net, optimizer, state


def initial_weights(model, arch: str, arch_kwargs: dict | None = None,
                    device=None, out_channels: int | None = None) -> torch.nn.Module:
    """The network of ``model`` (a shipped name or a model folder) to train on from.

    With ``out_channels`` above the model's, the outputs are added
    (:meth:`~nanosizer.nn.SegmentationNet.with_outputs`).

    Raises
    ------
    InputError
        If the model is not of architecture ``arch``, its constructor arguments contradict
        ``arch_kwargs``, or it has more outputs than ``out_channels``.
    """
    from ..nn import load_model
    from ..segment.cnn import resolve_model

    loaded = load_model(resolve_model(model), device=device)
    if loaded.arch != arch:
        raise InputError(f"the initial model {model} is a {loaded.arch} model, not {arch}; "
                         f"use --arch {loaded.arch} or another initial model")
    config = loaded.net.config
    # options the model lacks and that only add layers (a separate offset branch) are added
    added = {k: v for k, v in (arch_kwargs or {}).items()
             if k in _ADDABLE and k not in config and out_channels == 5}
    differ = [k for k, v in (arch_kwargs or {}).items()
              if k not in added and config.get(k) != v]
    if differ:
        raise InputError(f"the initial model {model} has {config}; drop the "
                         f"options that differ ({', '.join(differ)})")
    if out_channels is not None and (out_channels != loaded.net.out_channels or added):
        if out_channels < loaded.net.out_channels:
            raise InputError(f"the initial model {model} predicts centre offsets; add "
                             "--centre-offsets to train it further")
        return loaded.net.with_outputs(out_channels, **added)
    return loaded.net


def _setup_logging(out_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(out_dir / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def fit(config: TrainConfig, out_dir: str | Path, *, resume: bool = False, command: str = "") -> Path:
    """Train a model and write it, with tuned thresholds, as a model folder.

    Parameters
    ----------
    config : TrainConfig
        The run.
    out_dir : str or Path
        Output folder; receives ``config.json`` + ``weights.safetensors`` (the model,
        :func:`nanosizer.nn.load_model` reads it), ``checkpoint.pt`` (resume), ``best/`` (best
        validation checkpoint as a model folder), ``train.log`` and ``metrics.csv``.
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` (same config apart from epochs and minutes).
    command : str
        The command line, stored in the model metadata.

    Returns
    -------
    out_dir : Path
    """
    from ..nn import configure_threads, save_model, select_device

    out_dir = Path(out_dir)
    initial = None
    if config.init_model is not None:  # a wrong one is refused before anything is written
        initial = initial_weights(config.init_model, config.arch, config.arch_kwargs,
                                  out_channels=config.out_channels)
        log.info("starting from the weights of %s", config.init_model)
    out_dir.mkdir(parents=True, exist_ok=True)
    handler = _setup_logging(out_dir)
    try:
        configure_threads(config.threads)
        device = select_device(config.device)
        net, optimizer, state = _start(config, out_dir, resume, device, initial)
        val = validation_set(config)
        if not val:
            raise InputError(f"training data {config.data} needs at least 5 labelled images")
        log.info("config %s; device %s; %d validation images", config.to_dict(), device, len(val))
        steps_per_epoch = config.samples_per_epoch // config.batch_size
        total_steps = steps_per_epoch * config.epochs
        thresholds = default_thresholds(net)
        while state.epoch < config.epochs and not _out_of_time(config, state):
            train = train_one_epoch(
                net, _loader(config, state.epoch), optimizer, config, state, device, total_steps
            )
            start = time.perf_counter()
            metrics, _ = evaluate(net, val, device=device, amp=config.amp, thresholds=thresholds,
                                  contact_width=config.contact_width)
            state.elapsed_s += time.perf_counter() - start  # the budget includes validation
            state.epoch += 1
            row = {"epoch": state.epoch, "step": state.step, "minutes": round(state.elapsed_s / 60, 2),
                   "lr": optimizer.param_groups[0]["lr"], **train, **metrics}
            state.history.append(row)
            _append_metrics(out_dir / "metrics.csv", row)
            log.info("%s", ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in row.items()))
            if metrics["val_f1"] > state.best_f1:
                state.best_f1 = metrics["val_f1"]
                save_model(out_dir / BEST_NAME, net, {"epoch": state.epoch, **metrics}, overwrite=True)
            save_checkpoint(out_dir / CHECKPOINT_NAME, config, net, optimizer, state)
        export_model(out_dir, config, state, val, device=device, command=command)
        return out_dir
    finally:
        log.removeHandler(handler)
        handler.close()
