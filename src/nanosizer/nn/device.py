"""Device, precision and thread selection for inference and training."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

__all__ = ["select_device", "autocast", "amp_dtype", "configure_threads", "prepare_for_inference"]

_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS")


def select_device(prefer: str | torch.device | None = None) -> torch.device:
    """CUDA when available, else CPU; ``prefer`` ('cpu', 'cuda', 'cuda:1') overrides.

    Raises
    ------
    ValueError
        If ``prefer`` asks for CUDA on a machine without it, or names an unknown device type.
    """
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(prefer)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {str(prefer)!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available; use device='cpu'")
    return device


def _cpu_bf16_supported() -> bool:
    """True when oneDNN has native bf16 kernels (AVX-512 BF16 or AMX); emulation is slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - old or exotic builds
        return False


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """Reduced precision used by :func:`autocast` on ``device``, or None for plain fp32."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and _cpu_bf16_supported():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device | str, enabled: bool = True) -> Iterator[None]:
    """Mixed-precision context: bf16 on CPUs with native bf16, bf16/fp16 on CUDA, else fp32.

    Parameters
    ----------
    device : torch.device or str
        Device the computation runs on.
    enabled : bool
        False gives a no-op context (exact fp32).
    """
    device = torch.device(device)
    dtype = amp_dtype(device) if enabled else None
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def configure_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads and return the number in use.

    With ``num_threads=None`` an explicit setting (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` or
    ``TORCH_NUM_THREADS``) is respected; otherwise the CPUs this process may run on that other
    work does not keep busy are used (:func:`nanosizer._cpus.free_cpus`: torch's default counts
    all cores of the machine, even in a container limited to fewer, and its threads wait for
    each other whenever one is descheduled).  Call it from an application entry point, never at
    import.
    """
    if num_threads is None:
        if any(os.environ.get(name) for name in _THREAD_ENV):
            return torch.get_num_threads()
        from .._cpus import free_cpus

        num_threads = free_cpus()
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    return num_threads


def prepare_for_inference(net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move ``net`` to ``device`` in place; on CPU use channels_last (faster oneDNN convolutions)."""
    net.to(device)
    if device.type == "cpu":
        net.to(memory_format=torch.channels_last)
    return net
