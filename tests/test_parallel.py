"""Parallel work on Dask gives the bytes of a serial run: a LocalCluster and a separately started cluster alike."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import parallel
from helpers.experiments import runner, scenarios, splits
from helpers.paths import ROOT
from helpers.style import cache as style_cache
from helpers.style import feedforward
from tests.test_experiments import _fake_stylized

SETTINGS = runner.UnitSettings(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None, max_train_images=3)


def _square(shared: int, value: int) -> int:
    return shared + value * value


def _fails(value: int) -> int:
    raise ValueError(f"task {value} failed")


def _unit_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.json"))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def separate_cluster(tmp_path):
    """A scheduler and two workers started as their own processes on 127.0.0.1, the way a cluster connects."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    bin_folder = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [bin_folder / "dask", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
         "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [bin_folder / "dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
         "--local-directory", str(tmp_path / "dask-worker")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # the test module's stand-in stylisation must import there
    )  # fmt: skip
    try:
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in (worker, scheduler):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_run_tasks_gives_each_result_with_its_index_serially_and_on_a_local_cluster():
    tasks = [(value,) for value in range(5)]
    serial = list(parallel.run_tasks(_square, tasks, 1, shared=10))
    assert serial == [(i, 10 + i * i) for i in range(5)]
    assert sorted(parallel.run_tasks(_square, tasks, 2, shared=10)) == serial
    with pytest.raises(ValueError, match="task [12] failed"):
        list(parallel.run_tasks(_fails, [(1,), (2,)], 2))
    with pytest.raises(ValueError, match="workers must be a whole number"):
        list(parallel.run_tasks(_square, tasks, 0))


@pytest.mark.slow
def test_units_give_the_same_bytes_serially_on_a_local_cluster_and_on_a_separate_cluster(
    tmp_path, separate_cluster, monkeypatch
):
    store = scenarios.SliceStore(range(4), 96, _fake_stylized)
    made = splits.make_splits(tuple(range(4)), 2, (0,))
    units = runner.experiment_units(["frangi", "pixel-rf"], (4,), ["original", "one_style"], made)
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    serial = runner.run_all(store, units, tmp_path / "serial", SETTINGS, progress=False)
    local = runner.run_all(store, units, tmp_path / "local", SETTINGS, progress=False, workers=2)
    monkeypatch.setenv(parallel.SCHEDULER_ENV, separate_cluster)
    remote = runner.run_all(store, units, tmp_path / "remote", SETTINGS, progress=False)
    assert serial.computed == local.computed == remote.computed == len(units)
    files = _unit_files(tmp_path / "serial")
    assert len(files) == len(units)
    assert _unit_files(tmp_path / "local") == files
    assert _unit_files(tmp_path / "remote") == files
    assert remote.rows.equals(serial.rows) and local.rows.equals(serial.rows)


def test_an_unreachable_scheduler_is_named(monkeypatch):
    monkeypatch.setenv(parallel.SCHEDULER_ENV, f"tcp://127.0.0.1:{_free_port()}")
    with pytest.raises(OSError, match=f"no Dask scheduler answers at tcp://127.0.0.1.*{parallel.SCHEDULER_ENV}"):
        list(parallel.run_tasks(_square, [(1,)], 1, shared=0))


def _files(folder: Path, pattern: str) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob(pattern))}


def test_feedforward_stylisation_as_tasks_writes_the_files_of_a_serial_run(tmp_path):
    for painting in (3, 10):
        feedforward.stylized_slices(tmp_path / "serial", (0, 1), painting)
    computed = feedforward.stylize_missing(tmp_path / "tasks", (0, 1), (3, 10), workers=2)
    assert computed == 4 and feedforward.stylize_missing(tmp_path / "tasks", (0, 1), (3, 10), workers=2) == 0
    serial = _files(tmp_path / "serial", "*.png")
    assert len(serial) == 4 and _files(tmp_path / "tasks", "*.png") == serial


@pytest.mark.slow
def test_gatys_batches_as_tasks_write_the_images_of_a_serial_run(tmp_path):
    common = {"crop": 32, "batch_size": 1, "progress": False}
    serial = style_cache.stylize_isbi(tmp_path / "serial", [0, 1], [3], [2], **common)
    tasks = style_cache.stylize_isbi(tmp_path / "tasks", [0, 1], [3], [2], workers=2, **common)
    assert serial["done"] == tasks["done"] == 2
    for folder in ("serial", "tasks"):
        assert len(_files(tmp_path / folder, "*.png")) == 2
    pixels = [style_cache.load_stylized(tmp_path / folder, 2, 3, [0, 1], 32) for folder in ("serial", "tasks")]
    np.testing.assert_array_equal(pixels[0], pixels[1])
