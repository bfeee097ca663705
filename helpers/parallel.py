"""Independent tasks on Dask (``dask.distributed``): one machine by default, any Dask cluster by one setting.

Every parallel job of the series is a list of independent tasks; :func:`run_tasks` runs them in this process (one
worker, no cluster configured: simplest to debug) or on a Dask cluster: a ``LocalCluster`` per call (one-thread
worker processes on 127.0.0.1, dashboard only with ``NSEM_DASHBOARD``), or the scheduler named by
``NSEM_SCHEDULER`` or Dask's ``scheduler-address`` (e.g. a ``dask-jobqueue`` ``SLURMCluster``). A large input
every task reads is scattered once, not pickled per task. Results come back to this process, which alone writes
caches and results: no file has two writers, so no locks. Dask's workers exit when the run is killed.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["SCHEDULER_ENV", "cluster_client", "run_tasks", "runs_here", "scheduler_address"]
SCHEDULER_ENV = "NSEM_SCHEDULER"  # address of a running Dask scheduler (unset: a LocalCluster per run)
DASHBOARD_ENV = "NSEM_DASHBOARD"  # any value: the LocalCluster serves its dashboard on a free port of 127.0.0.1
_NOTHING = object()


def scheduler_address() -> str | None:
    """``NSEM_SCHEDULER``, else Dask's ``scheduler-address``, else None (a ``LocalCluster`` is started per run)."""
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if address:
        return address
    import dask

    return dask.config.get("scheduler-address", None) or None


def runs_here(workers: int) -> bool:
    """Whether :func:`run_tasks` with ``workers`` runs here, in order: one worker and no scheduler configured."""
    return workers == 1 and scheduler_address() is None


@contextmanager
def cluster_client(workers: int) -> Iterator[Any]:
    """A Dask client: to the configured scheduler, or to a ``LocalCluster`` of ``workers`` processes it closes.

    Args:
        workers: one-thread worker processes of the local cluster; ignored with a configured scheduler.

    Yields:
        A ``distributed.Client``.

    Raises:
        OSError: when the configured scheduler cannot be reached (naming the address and the setting).
    """
    from distributed import Client, LocalCluster

    address = scheduler_address()
    if address:
        try:
            client = Client(address, timeout="30s")
        except OSError as error:
            raise OSError(
                f"no Dask scheduler answers at {address} ({SCHEDULER_ENV} or Dask's scheduler-address): start it, "
                f"or unset {SCHEDULER_ENV} to run on this machine ({error})"
            ) from None
        with client:
            yield client
        return
    # the scheduler's HTTP server listens on a free port of 127.0.0.1; it serves the dashboard only when asked
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard": bool(os.environ.get(DASHBOARD_ENV)), "dashboard_address": "127.0.0.1:0"},
    )  # fmt: skip
    with cluster, Client(cluster) as client:
        yield client


def run_tasks(
    function: Callable[..., Any],
    tasks: Iterable[tuple],
    workers: int = 1,
    shared: Any = _NOTHING,
    resources: dict[str, float] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``function(*task)`` (or ``function(shared, *task)``) for every task; yield results as they finish.

    Runs here, in order, or on a Dask cluster (:func:`runs_here`, :func:`cluster_client`); a result does not depend
    on where it ran, and the caller restores the order it needs from the indices.

    Args:
        function: a module-level function (it and the tasks' arguments must pickle).
        tasks: argument tuples, one per call.
        workers: local worker processes (a whole number >= 1).
        shared: a value passed as every call's first argument (e.g. hundreds of MB of images), sent once.
        resources: Dask resources each task needs (e.g. ``{"GPU": 1}``); asked for only where a worker offers them.

    Yields:
        ``(index, result)`` per task, ``index`` its position in ``tasks``, in the order they finish.

    Raises:
        ValueError: for a number of workers that is not a whole number >= 1.
        Exception: the first exception a task raised (the other tasks are cancelled).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    tasks = [tuple(task) for task in tasks]
    carried = () if shared is _NOTHING else (shared,)
    if runs_here(workers):
        for index, task in enumerate(tasks):
            yield index, function(*carried, *task)
        return
    if not tasks:
        return
    from distributed import as_completed

    with cluster_client(min(workers, len(tasks))) as client:
        if carried:
            carried = (client.scatter(carried[0], broadcast=True, hash=False),)
        offered = {name for worker in client.scheduler_info()["workers"].values() for name in worker["resources"]}
        needs = {name: amount for name, amount in (resources or {}).items() if name in offered} or None
        run = uuid.uuid4().hex[:8]  # keys unique on a cluster that other runs share
        futures = [
            client.submit(function, *carried, *task, key=f"{function.__name__}-{run}-{index}", resources=needs)
            for index, task in enumerate(tasks)
        ]
        index_of = {future.key: index for index, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index_of[future.key], future.result()
        finally:
            client.cancel(futures)
