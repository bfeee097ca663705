"""Chapter 06's experiment units with 1 and 2 local Dask workers: wall time, speed-up, and the same rows.

One command (nice it on a shared machine; the numbers are only as good as the machine was quiet)::

    nice -n 10 .venv/bin/python benchmarks/parallel_units.py        # writes results/parallel_benchmark.json

It runs the same units (both pipelines; the original, one-style and all-styles scenarios; two folds) on ISBI
slices cropped to ``--crop`` px, with gamma curves standing in for stylisation (no style cache needed), into a
fresh unit folder per run: once in this process, once on a 2-worker ``LocalCluster`` (its start included). The
Frangi graphs are tasks of their own in both runs. It checks that both runs give the same rows.
"""

from __future__ import annotations

import datetime
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.chapter06_cost import machine  # noqa: E402
from helpers import cli, data  # noqa: E402
from helpers.experiments import runner, scenarios, shifts, splits  # noqa: E402
from helpers.paths import RESULTS, write_json  # noqa: E402

SLICES = tuple(range(8))


def gamma_styles(steps: int, style: int, slices: tuple[int, ...], crop: int | None) -> np.ndarray:
    """Stand-in stylisation: a gamma curve per style (odd: 2, even: 0.5) of the cropped slices."""
    raw, _ = data.load_training(list(slices))
    side = crop or raw.shape[-1]
    kind = "gamma_2" if style % 2 else "gamma_0.5"
    return np.stack([shifts.appearance_shift(image[:side, :side], kind) for image in raw])


def timed_run(store: scenarios.SliceStore, units: list, folder: Path, workers: int) -> tuple[runner.Run, float]:
    """One run of every unit into a fresh folder; (the run, wall seconds)."""
    settings = runner.UnitSettings(styles=(3, 10), heldout=(13,), one_style=3, trees=20, max_samples=20_000)
    start = time.perf_counter()
    run = runner.run_all(store, units, folder, settings, workers=workers, progress=False)
    return run, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the units twice, write the JSON."""
    parser = cli.ArgumentParser(prog="benchmarks/parallel_units.py", description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=cli.whole("crop", 64), default=256, help="crop side in px (default: 256)")
    parser.add_argument("--out", type=Path, default=RESULTS / "parallel_benchmark.json", help="the JSON file")
    arguments = parser.parse_args(argv)
    store = scenarios.SliceStore(SLICES, arguments.crop, gamma_styles)
    made = splits.make_splits(SLICES, 2, (0,))
    units = runner.experiment_units(["frangi", "pixel-rf"], (4,), ["original", "one_style", "full"], made)
    with tempfile.TemporaryDirectory() as scratch:
        serial, serial_s = timed_run(store, units, Path(scratch) / "serial", 1)
        parallel, parallel_s = timed_run(store, units, Path(scratch) / "parallel", 2)
    if not parallel.rows.equals(serial.rows):
        raise SystemExit("benchmarks/parallel_units.py: the 2-worker rows differ from the serial rows")
    write_json(
        arguments.out,
        {
            "what": "chapter 06's experiment units (runner.run_all) in this process and on a 2-worker LocalCluster",
            "command": "nice -n 10 .venv/bin/python benchmarks/parallel_units.py",
            "date": datetime.date.today().isoformat(),
            "machine": machine(),
            "units": len(units),
            "slices": len(SLICES),
            "crop_px": arguments.crop,
            "same_rows": True,
            "serial_s": serial_s,
            "two_workers_s": parallel_s,
            "speedup_2_workers": serial_s / parallel_s,
        },
    )
    print(f"{len(units)} units: {serial_s:.1f} s serial, {parallel_s:.1f} s with 2 workers")


if __name__ == "__main__":
    cli.run(main, "benchmarks/parallel_units.py")
