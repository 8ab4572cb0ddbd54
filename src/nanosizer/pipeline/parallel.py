"""Running the per-image work serially, on local processes, or on a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import InputError

__all__ = ["map_images"]


def map_images(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    workers: int = 1,
    scheduler: str | None = None,
) -> Iterator[Any]:
    """Apply ``func`` to every item, yielding results in input order.

    Parameters
    ----------
    func : callable
        A picklable (module-level) function of one item.
    items : sequence
        Work items (one per image).
    workers : int
        Local worker processes; 1 runs in this process.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``"tcp://host:8786"``), or ``"dask"`` for a
        local Dask cluster with ``workers`` processes.  Needs ``pip install nanosizer[dask]``.

    Yields
    ------
    object
        ``func(item)`` for each item, in order.
    """
    if scheduler is not None:
        yield from _map_dask(func, items, workers, scheduler)
    elif workers <= 1 or len(items) <= 1:
        yield from map(func, items)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # "spawn": torch and OpenMP thread pools do not survive fork() reliably.
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield from pool.map(func, items)


def _map_dask(func, items, workers: int, scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "--scheduler needs Dask; install it with: pip install 'nanosizer[dask]'"
        ) from None
    if scheduler == "dask":
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True)
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
    try:
        futures = client.map(func, items, pure=False)
        for future in futures:
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
