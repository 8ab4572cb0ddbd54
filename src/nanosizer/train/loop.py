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
from ._costs import Costs, check_budget, probe_costs
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import TrainingSet, validation_set
from .deadline import Deadline
from .export import export_model
from .loss import segmentation_loss
from .validate import default_thresholds, evaluate

__all__ = ["TrainState", "train_one_epoch", "fit", "initial_weights"]

log = logging.getLogger("nanosizer.train")
BEST_NAME = "best"


@dataclass
class TrainState:
    """Progress that a checkpoint restores (besides model and optimizer)."""

    epoch: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    best_f1: float = -1.0
    history: list[dict] = field(default_factory=list)


def _lr_factor(config: TrainConfig, state: TrainState, total_steps: int,
               deadline: Deadline) -> float:
    """Linear warm-up, then cosine decay over steps or the time budget, whichever ends first."""
    if state.step < config.warmup_steps:
        return (state.step + 1) / config.warmup_steps
    progress = max(state.step / max(total_steps, 1), deadline.fraction_used())
    return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def train_one_epoch(
    net: torch.nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    state: TrainState,
    device: torch.device,
    total_steps: int,
    on_step: Callable[[torch.nn.Module], None] | None = None,
    *,
    deadline: Deadline | None = None,
    timing: dict | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; updates ``state`` (step, elapsed) and stops early when out of time.

    ``on_step(net)`` is called after every optimiser step (e.g. :meth:`WeightAverage.update`).
    ``deadline`` is when the steps must be done (default: ``config.minutes`` from now): after
    each step, the next one is started only if a step as long as the mean so far (data
    included) ends before it.  The first step is always done.  ``timing``, when given,
    receives ``step_s``, the mean seconds per step.

    Returns
    -------
    dict
        Mean ``loss`` and its parts over the batches done.
    """
    from tqdm.auto import tqdm

    from ..nn import autocast

    deadline = deadline or Deadline.from_minutes(config.minutes)
    net.train()
    sums: dict[str, float] = {}
    n = 0
    start, elapsed0 = time.perf_counter(), state.elapsed_s
    # a single time-limited pass (adapt's fine-tuning) has no meaningful step count to show
    total = float("inf") if deadline.limited and config.epochs == 1 else len(loader)
    bar = tqdm(loader, desc=f"epoch {state.epoch + 1}", total=total, leave=False, mininterval=2.0)
    for x, y in bar:
        x, y = x.to(device), y.to(device)
        if device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(config, state, total_steps, deadline)
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
        if not deadline.fits((time.perf_counter() - start) / n):
            break
    bar.close()
    if timing is not None:
        timing["step_s"] = (time.perf_counter() - start) / max(n, 1)
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
    (:meth:`~nanosizer.nn.SegmentationNet.with_outputs`); with a ``base_channels`` in
    ``arch_kwargs`` that is a multiple of the model's, the network is widened keeping its
    function (:meth:`~nanosizer.nn.SegmentationNet.widened`).

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
    # newer optional options the model lacks (they only add layers: the offset branch)
    optional = getattr(type(loaded.net), "optional_kwargs", ())
    added = {k: v for k, v in (arch_kwargs or {}).items()
             if k in optional and k not in config and out_channels == 5}
    width = (arch_kwargs or {}).get("base_channels", config.get("base_channels"))
    old_width = config.get("base_channels")
    differ = [k for k, v in (arch_kwargs or {}).items()
              if k not in added and k != "base_channels" and config.get(k) != v]
    if width != old_width and (old_width is None or width % old_width or width < old_width):
        differ.append("base_channels (or give a multiple of the model's width to widen it)")
    if differ:
        raise InputError(f"the initial model {model} has {config}; drop the "
                         f"options that differ ({', '.join(differ)})")
    net = loaded.net
    if out_channels is not None and (out_channels != net.out_channels or added):
        if out_channels < net.out_channels:
            raise InputError(f"the initial model {model} predicts centre offsets; add "
                             "--centre-offsets to train it further")
        net = net.with_outputs(out_channels, **added)
    if width != old_width:
        log.info("widening %s from %d to %d channels (function-preserving)", model, old_width, width)
        try:
            net = net.widened(width)
        except ValueError as err:
            raise InputError(f"the initial model {model}: {err}; train it at its width "
                             f"({old_width}) or from scratch") from None
    return net


def _setup_logging(out_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(out_dir / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _epoch(net, optimizer, config, state, device, total_steps, val, costs, window, out_dir):
    """Train one epoch until ``window``, validate, keep the best, checkpoint; updates ``costs``.

    Returns the validation (metrics, probabilities) when this epoch is the best so far.
    """
    from ..nn import save_model

    step_timing: dict = {}
    train = train_one_epoch(net, _loader(config, state.epoch), optimizer, config, state, device,
                            total_steps, deadline=window, timing=step_timing)
    costs.step_s = step_timing["step_s"]
    timing: dict = {}
    metrics, probs = evaluate(net, val, device=device, amp=config.amp,
                              thresholds=default_thresholds(net),
                              contact_width=config.contact_width, timing=timing)
    costs.post_s = timing["postprocess_s"]
    costs.eval_s = timing["network_s"] + costs.post_s
    state.elapsed_s += costs.eval_s  # the training time includes validation
    state.epoch += 1
    row = {"epoch": state.epoch, "step": state.step, "minutes": round(state.elapsed_s / 60, 2),
           "lr": optimizer.param_groups[0]["lr"], **train, **metrics}
    state.history.append(row)
    _append_metrics(out_dir / "metrics.csv", row)
    log.info("%s", ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in row.items()))
    start, best = time.monotonic(), None
    if metrics["val_f1"] > state.best_f1:
        state.best_f1 = metrics["val_f1"]
        save_model(out_dir / BEST_NAME, net, {"epoch": state.epoch, **metrics}, overwrite=True)
        best = (metrics, probs)
    save_checkpoint(out_dir / CHECKPOINT_NAME, config, net, optimizer, state)
    costs.save_s = max(costs.save_s, (time.monotonic() - start) / (2 if best else 1))
    return best


def fit(config: TrainConfig, out_dir: str | Path, *, resume: bool = False, command: str = "",
        deadline: Deadline | None = None) -> Path:
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
    deadline : Deadline, optional
        When the model folder must be written; default ``config.minutes`` from now (no limit
        without).  Training stops early enough for the last validation, the threshold search
        (at most :data:`TUNING_SHARE` of the budget, stopped early if need be) and the export,
        whose times are measured on the run itself.

    Returns
    -------
    out_dir : Path

    Raises
    ------
    InputError
        Among others, when the budget cannot hold the start-up, one training step, one
        validation pass and writing the model (the message gives the minimum).
    """
    import shutil

    from ..nn import configure_threads, select_device

    deadline = deadline or Deadline.from_minutes(config.minutes)
    out_dir = Path(out_dir)
    initial = None
    if config.init_model is not None:  # a wrong one is refused before anything is written
        initial = initial_weights(config.init_model, config.arch, config.arch_kwargs,
                                  out_channels=config.out_channels)
        log.info("starting from the weights of %s", config.init_model)
    existed = out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    handler = _setup_logging(out_dir)
    try:
        configure_threads(config.threads)
        device = select_device(config.device)
        net, optimizer, state = _start(config, out_dir, resume, device, initial)
        start = time.monotonic()
        val = validation_set(config)
        if not val:
            raise InputError(f"training data {config.data} needs at least 5 labelled images")
        log.info("config %s; device %s; %d validation images", config.to_dict(), device, len(val))
        reevaluate = state.epoch > 0  # resumed: the best epoch's outputs are not at hand
        if deadline.limited:
            costs = probe_costs(net, val, config, device, (time.monotonic() - start) / len(val)
                                 if config.data is None else 0.0)
        else:  # nothing to plan
            costs = Costs(0.0, 0.0, 0.0, 0.0, candidates=0)
        check_budget(deadline, costs, len(val), reevaluate)
        total_steps = config.samples_per_epoch // config.batch_size * config.epochs
        best, first = None, True
        while state.epoch < config.epochs:
            window = deadline.before(costs.final(deadline, reevaluate and best is None))
            # another epoch only when it trains at least as long as its validation takes;
            # time left over goes to the threshold search
            if not first and not window.fits(max(costs.step_s, costs.eval_s)):
                break
            best = _epoch(net, optimizer, config, state, device, total_steps, val, costs,
                          window, out_dir) or best
            first = False
        export_model(out_dir, config, state, val, device=device, command=command,
                     deadline=deadline.before(costs.export()), outputs=best)
        return out_dir
    except InputError:
        if not existed:  # a refused run leaves nothing behind
            log.removeHandler(handler)
            handler.close()
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        log.removeHandler(handler)
        handler.close()
