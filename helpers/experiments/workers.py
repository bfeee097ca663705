"""Worker processes that never outlive their parent: the experiment units' process pool.

The pool is the standard library's (``multiprocessing``, ``spawn`` start: a fresh interpreter per worker, safe
after torch or OpenMP threads have started), with two guarantees that a joblib/loky pool did not give:

* **The parent is killed** (even ``SIGKILL``, which no handler sees): on Linux every worker has asked the
  kernel to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and checks once that the parent is
  still there; with the workers gone, the resource tracker sees its pipe close and exits too. Nothing is left.
* **The parent stops** (an error in a unit, Ctrl-C): the pool is terminated at once, not left to finish.

What a killed worker was writing is a temporary file of :func:`helpers.paths.atomic_write_bytes`; the next run
removes it (:func:`helpers.paths.remove_stale_temporaries`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_NOTHING = object()
_worker_shared: list[Any] = []  # in a worker: the ``shared`` value of run_in_workers, sent once at its start


def _start_worker(parent: int, shared: tuple) -> None:
    """Worker initializer: be killed by the kernel when the parent process dies (Linux), or exit now if it has.

    Also keeps the run's shared value (``shared``: empty, or a 1-tuple holding it) for every call of this worker.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)
    _worker_shared[:] = list(shared)


def _call(task: tuple[Callable[..., Any], tuple]) -> Any:
    """Run one task in a worker: ``function(shared, *arguments)``, or ``function(*arguments)`` without one."""
    function, arguments = task
    return function(*_worker_shared, *arguments)


def run_in_workers(
    function: Callable[..., Any], tasks: Iterable[tuple], workers: int, shared: Any = _NOTHING
) -> Iterator[Any]:
    """Run ``function(*task)`` for every task in ``workers`` processes; yield the results as they finish.

    ``function`` and the tasks' arguments must be picklable (a module-level function, plain data). The pool is
    terminated when the iteration stops early (an error, Ctrl-C, a ``break``) and closed when it ends.

    Args:
        function: a module-level function.
        tasks: the argument tuples, one per call.
        workers: the number of processes (>= 1).
        shared: a value sent once to each worker and passed as every call's first argument,
            ``function(shared, *task)`` (e.g. the experiments' slice store: hundreds of MB in the full profile,
            which would otherwise be pickled with every task).

    Yields:
        Each call's result, in the order they finish.

    Raises:
        Exception: the first exception a task raised (the pool is terminated first).
    """
    context = multiprocessing.get_context("spawn")
    carried = () if shared is _NOTHING else (shared,)
    pool = context.Pool(workers, initializer=_start_worker, initargs=(os.getpid(), carried))
    finished = False
    try:
        yield from pool.imap_unordered(_call, [(function, tuple(task)) for task in tasks], chunksize=1)
        finished = True
    finally:
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()
