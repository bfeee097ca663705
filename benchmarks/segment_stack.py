"""What `python -m helpers.segmentation segment` costs: time with 1 and 2 workers, Dask's overhead, peak memory.

One command (nice it on a shared machine)::

    nice -n 10 .venv/bin/python benchmarks/segment_stack.py         # writes results/segment_benchmark.json

In a temporary folder it trains a model on FlyEM medulla slices (``train``, the ``ci`` profile's forest) and tiles
the 16 vendored slices ``--repeat`` times into one multi-page TIFF. It then measures:

* the wall time of ``segment`` on that stack with 1 worker (in the command's process) and with 2 local Dask workers
  (the command run as a subprocess, start and imports included), and the speed-up;
* Dask's overhead per task: ``--tasks`` trivial tasks through :func:`helpers.parallel.run_tasks` on a 2-worker
  ``LocalCluster`` against in this process, the cluster's start measured apart (one task);
* the peak resident memory of ``segment`` (the command's process and all its descendants, the Dask workers, summed,
  polled every 20 ms with psutil) on the long stack and on a stack of one slice: the reading is lazy, so the long
  stack's peak should stay within 1.5 times the one slice's.
"""

from __future__ import annotations

import datetime
import operator
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.chapter06_cost import machine  # noqa: E402
from helpers import cli, data  # noqa: E402
from helpers.parallel import run_tasks  # noqa: E402
from helpers.paths import RESULTS, ROOT, write_json  # noqa: E402

MEMORY_LIMIT = 1.5  # the long stack's peak memory may be at most this many times the one slice's
POLL_S = 0.02


def watched(arguments: list[str]) -> tuple[float, int, int]:
    """Run the command; (wall seconds, peak summed RSS of it and its descendants, peak RSS of one of them)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.segmentation", *arguments], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    root, peak_sum, peak_one = psutil.Process(process.pid), 0, 0
    while process.poll() is None:
        try:
            sizes = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
        except psutil.Error:  # a process ended between listing and reading
            sizes = []
        peak_sum, peak_one = max(peak_sum, sum(sizes)), max([peak_one, *sizes])
        time.sleep(POLL_S)
    wall = time.perf_counter() - start
    _, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"segment failed: {errors.decode()[-2000:]}")
    return wall, peak_sum, peak_one


def overhead(tasks: int) -> dict:
    """Seconds of trivial tasks in this process and on a 2-worker LocalCluster (start measured with one task)."""
    jobs = [(i,) for i in range(tasks)]
    start = time.perf_counter()
    list(run_tasks(operator.neg, jobs, workers=1))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    list(run_tasks(operator.neg, [(0,)], workers=2))
    one = time.perf_counter() - start
    start = time.perf_counter()
    list(run_tasks(operator.neg, jobs, workers=2))
    cluster = time.perf_counter() - start
    return {
        "tasks": tasks,
        "in_process_s": serial,
        "cluster_one_task_s": one,
        "cluster_all_tasks_s": cluster,
        "per_task_overhead_s": (cluster - one) / (tasks - 1) - serial / tasks,
    }


def main(argv: list[str] | None = None) -> None:
    """Train, time, measure and write the JSON."""
    parser = cli.ArgumentParser(prog="benchmarks/segment_stack.py", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=cli.whole("--repeat", 2), default=10, help="the long stack: 16 x this")
    parser.add_argument("--tasks", type=cli.whole("--tasks", 2), default=200, help="trivial tasks for the overhead")
    parser.add_argument("--out", type=Path, default=RESULTS / "segment_benchmark.json", help="the JSON to write")
    arguments = parser.parse_args(argv)
    cli.check_output_folder(arguments.out.parent, "--out's folder")
    flyem = data.load_flyem()
    with tempfile.TemporaryDirectory(prefix="nsem-segment-benchmark-") as folder:
        folder = Path(folder)
        tifffile.imwrite(folder / "train.tif", flyem.raw[:12], photometric="minisblack")
        tifffile.imwrite(folder / "train-gt.tif", flyem.gt[:12], photometric="minisblack")
        tifffile.imwrite(folder / "long.tif", np.concatenate([flyem.raw] * arguments.repeat), photometric="minisblack")
        tifffile.imwrite(folder / "one.tif", flyem.raw[:1], photometric="minisblack")
        model = folder / "flyem.nsem"
        train = ["train", "--raw", str(folder / "train.tif"), "--labels", str(folder / "train-gt.tif")]
        subprocess.run(
            [sys.executable, "-m", "helpers.segmentation", *train, "--kind", "instances", "--profile", "ci", "--out",
             str(model)], cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip

        def segment(stack: str, out: str, workers: int) -> tuple[float, int, int]:
            return watched(["segment", str(model), str(folder / stack), "--out", str(folder / out), "--quiet",
                            "--workers", str(workers)])  # fmt: skip

        one_w1 = segment("one.tif", "one-1.zarr", 1)
        long_w1 = segment("long.tif", "long-1.zarr", 1)
        long_w2 = segment("long.tif", "long-2.zarr", 2)
        one_w2 = segment("one.tif", "one-2.zarr", 2)
    n_slices = len(flyem) * arguments.repeat
    result = {
        "what": "python -m helpers.segmentation segment on FlyEM medulla slices (250 x 250 px), model of profile ci",
        "command": "nice -n 10 .venv/bin/python benchmarks/segment_stack.py",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "long_stack_slices": n_slices,
        "segment_1_worker_s": long_w1[0],
        "segment_2_workers_s": long_w2[0],
        "speedup_2_workers": long_w1[0] / long_w2[0],
        "segment_one_slice_1_worker_s": one_w1[0],
        "segment_one_slice_2_workers_s": one_w2[0],
        "dask_overhead": overhead(arguments.tasks),
        "peak_rss_bytes": {
            "one_slice_1_worker": one_w1[1],
            "long_stack_1_worker": long_w1[1],
            "one_slice_2_workers": one_w2[1],
            "long_stack_2_workers": long_w2[1],
            "largest_process_one_slice_2_workers": one_w2[2],
            "largest_process_long_stack_2_workers": long_w2[2],
        },
        "memory_limit_ratio": MEMORY_LIMIT,
        "memory_ratio_1_worker": long_w1[1] / one_w1[1],
        "memory_ratio_2_workers_largest_process": long_w2[2] / one_w2[2],
        "notes": "a one-slice stack runs on one Dask worker even with --workers 2 (one task), so with 2 workers the "
        "largest single process is compared; summed peaks of all processes are listed too",
    }
    result["memory_within_limit"] = bool(
        result["memory_ratio_1_worker"] <= MEMORY_LIMIT
        and result["memory_ratio_2_workers_largest_process"] <= MEMORY_LIMIT
    )
    write_json(arguments.out, result)
    print("wrote", arguments.out)


if __name__ == "__main__":
    cli.run(main, "benchmarks/segment_stack.py")
