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


def _die_with_parent(parent: int) -> None:
    """Worker initializer: be killed by the kernel when the parent process dies (Linux), or exit now if it has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def _call(task: tuple[Callable[..., Any], tuple]) -> Any:
    """Run one task in a worker: ``function(*arguments)``."""
    function, arguments = task
    return function(*arguments)


def run_in_workers(function: Callable[..., Any], tasks: Iterable[tuple], workers: int) -> Iterator[Any]:
    """Run ``function(*task)`` for every task in ``workers`` processes; yield the results as they finish.

    ``function`` and the tasks' arguments must be picklable (a module-level function, plain data). The pool is
    terminated when the iteration stops early (an error, Ctrl-C, a ``break``) and closed when it ends.

    Args:
        function: a module-level function.
        tasks: the argument tuples, one per call.
        workers: the number of processes (>= 1).

    Yields:
        Each call's result, in the order they finish.

    Raises:
        Exception: the first exception a task raised (the pool is terminated first).
    """
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_die_with_parent, initargs=(os.getpid(),))
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
