"""Independent tasks on Dask (``dask.distributed``): one machine by default, any Dask cluster by one setting.

Every parallel job of the series (the experiment units, the Frangi graphs they share, the membrane displacement,
the U-Net arms, the stylisation batches, the slices of a stack being segmented) is a list of independent tasks.
:func:`run_tasks` runs them:

* **one worker and no cluster configured**: in this process, one after the other (the simplest to debug);
* **otherwise** on a Dask cluster: a ``LocalCluster`` started and closed by the call (``workers`` processes of one
  thread each, bound to 127.0.0.1, no dashboard unless ``NSEM_DASHBOARD`` is set), or, when ``NSEM_SCHEDULER``
  (e.g. ``tcp://10.0.0.5:8786``) or Dask's own ``scheduler-address`` setting names one, the cluster already
  running there (a ``dask-jobqueue`` ``SLURMCluster``, or ``dask scheduler`` and ``dask worker`` started by hand).

A large input every task reads (the experiments' slice store, the U-Net's material) is scattered once to every
worker, not pickled with each task. Tasks return their results to this process, which alone writes caches and
results: no file is written by two processes, so no locks and no checks that another writer is alive.

Dask's worker processes watch their parent: when the run is killed (even ``SIGKILL``), they exit.
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
    """The Dask scheduler this run submits to: ``NSEM_SCHEDULER``, else Dask's ``scheduler-address``, else None.

    Returns:
        An address such as ``tcp://127.0.0.1:8786``, or None (a ``LocalCluster`` is started per run).
    """
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if address:
        return address
    import dask

    return dask.config.get("scheduler-address", None) or None


def runs_here(workers: int) -> bool:
    """Whether :func:`run_tasks` runs its tasks in this process: one worker and no scheduler configured.

    Args:
        workers: the number of local workers asked for.

    Returns:
        True when the tasks run here, one after the other (they may then use every core themselves).
    """
    return workers == 1 and scheduler_address() is None


@contextmanager
def cluster_client(workers: int) -> Iterator[Any]:
    """A Dask client: to the configured scheduler, or to a ``LocalCluster`` of ``workers`` processes it closes.

    Args:
        workers: worker processes of the local cluster (one thread each); ignored when a scheduler is configured
            (:func:`scheduler_address`), whose cluster has the workers it has.

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

    With one worker and no scheduler configured, the tasks run here, in order. Otherwise they run on a Dask
    cluster (:func:`cluster_client`), ``shared`` scattered once to every worker. The caller keeps the order it
    needs by the index that comes with each result: what a task returns does not depend on where it ran.

    Args:
        function: a module-level function (it and the tasks' arguments must pickle).
        tasks: argument tuples, one per call.
        workers: local worker processes (a whole number >= 1).
        shared: a value passed as every call's first argument (e.g. hundreds of MB of images), sent once.
        resources: Dask resources each task needs (e.g. ``{"GPU": 1}``); asked for only when some worker of the
            cluster offers them, so a cluster without them still runs the tasks.

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
