"""The experiment runner: one unit (pipeline, steps, scenario, split) trained and scored, every unit cached.

Each unit's rows are written atomically as JSON named by a digest of everything the unit reads
(:mod:`~helpers.experiments.unit_cache`): an interrupted run resumes, a changed input is recomputed, never served
from the cache, and a damaged file is reported and recomputed. Units may run as Dask tasks (:mod:`helpers.parallel`)
that return their rows to this process, the only writer; rows come back as one DataFrame in unit order, whatever
the scheduler, with their provenance. Nothing is computed twice: an image's Frangi graph is built once and shared
through the run's graph folder, and units that train on the same images form one task (:func:`training_key`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import checks
from ..parallel import run_tasks, runs_here
from ..paths import atomic_write_text, digest, remove_stale_temporaries, write_checked_json
from ..segmentation import metrics
from ..segmentation.pipeline import PipelineSettings, segment_graph, train_edge_rf
from .scenarios import Image, SliceStore, cap_images, training_set
from .unit_cache import (
    Unit,
    UnitSettings,
    cached_rows,
    experiment_units,
    fingerprint,
    pipeline_settings,
    provenance,
    read_rows,
    unit_conditions,
    unit_path,
)
from .unit_graphs import GRAPH_FOLDER, PIPELINES, GraphCache, build_graph

__all__ = [
    "Run", "Unit", "UnitSettings", "experiment_units", "fingerprint", "run_all", "run_unit", "run_units",
    "tasks_of", "training_key", "unit_path", "write_rows",
]  # fmt: skip
CSV_LINE_END = "\r\n"  # the committed results/scenarios.csv was written by the csv module
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """What :func:`run_all` returns.

    Attributes:
        rows: one row per (unit, test slice, condition): engine, pipeline, scenario, steps, split, seed, fold, slice,
            condition, n_train_images, n_segments, rand_error, vi, vi_split, vi_merge.
        computed: units computed by this call.
        loaded: units read back from the cache.
        provenance: digests of the stylised images and settings the rows come from (also ``rows.attrs``).
    """

    rows: pd.DataFrame
    computed: int
    loaded: int
    provenance: dict = field(default_factory=dict)


def _training_images(store: SliceStore, unit: Unit, settings: UnitSettings) -> list[Image]:
    """The images a unit trains on (capped for a pipeline that retrains its boundary map per unit)."""
    split = unit.split
    images = training_set(
        store, unit.scenario, split.train, unit.steps, settings.styles, settings.one_style, seed=split.seed
    )
    return cap_images(images, settings.max_train_images, split.seed) if PIPELINES[unit.pipeline].capped else images


def _image_key(image: Image, known: dict[str, str] | None = None) -> str:
    """An image's tag and a digest of its pixels (looked up in ``known`` by tag, and added there, if given)."""
    if known is not None and image.tag in known:
        return known[image.tag]
    key = f"{image.tag}:{digest(np.ascontiguousarray(image.raw).tobytes())}"
    if known is not None:
        known[image.tag] = key
    return key


def training_key(store: SliceStore, unit: Unit, settings: UnitSettings, known: dict[str, str] | None = None) -> str:
    """Digest of what a unit's forest learns from: engine, pipeline, settings, training images' tags and pixels.

    Units with the same key (e.g. the original set at 75 and 150 steps) train the same forest and run as one task.

    Args:
        store: the images.
        unit: the unit.
        settings: what every unit shares.
        known: image keys already digested from this ``store``, filled in as computed (None: digest every image).

    Returns:
        12 hex digits.

    Raises:
        KeyError: for an unknown pipeline or scenario.
    """
    _known_pipelines([unit])
    parts = [
        unit.engine,
        unit.pipeline,
        pipeline_settings(unit, settings).digest(),
        repr(sorted(asdict(settings).items())),
    ]
    return digest(*parts, *[_image_key(image, known) for image in _training_images(store, unit, settings)])


def run_units(
    store: SliceStore,
    units: list[Unit],
    settings: UnitSettings,
    graph_cache: GraphCache | None = None,
    n_jobs: int = -1,
) -> list[list[dict]]:
    """Units that train on the same images: one forest, then every unit's test conditions scored.

    Each distinct test image is segmented once; every unit gets exactly the rows :func:`run_unit` gives it alone.

    Args:
        store: the images.
        units: units with one :func:`training_key` (at least one).
        settings: what every unit shares.
        graph_cache: Frangi graphs built before (None: a fresh in-memory cache).
        n_jobs: threads of the forests (-1: all cores; 1 inside parallel workers).

    Returns:
        Per unit, one row per (test slice, condition): the unit's keys, n_train_images, n_segments and the scores.

    Raises:
        ValueError: for no units, units that train on different images, or units of another engine than the store's.
        KeyError: for an unknown pipeline or scenario.
    """
    if not units:
        raise ValueError("run_units needs at least one unit")
    if len({training_key(store, unit, settings) for unit in units}) > 1:
        raise ValueError("run_units: these units train on different images; group them by runner.training_key")
    first = units[0]
    recipe = PIPELINES[first.pipeline]
    unit_settings = pipeline_settings(first, settings)
    train_images = _training_images(store, first, settings)
    conditions = [unit_conditions(store, unit, settings) for unit in units]
    distinct = {_image_key(image): image for unit_conditions in conditions for _, image in unit_conditions}
    train_graphs, test_graphs = recipe.graphs(
        train_images, list(distinct.values()), unit_settings, graph_cache or GraphCache(), n_jobs
    )
    forest = train_edge_rf(
        train_graphs, trees=settings.trees, seed=first.split.seed, max_samples=settings.max_samples,
        tree_fraction=unit_settings.rf_tree_fraction, n_jobs=n_jobs,
    )  # fmt: skip
    scores = {
        key: _scores(segment_graph(graph, forest, unit_settings), image.gt)
        for (key, image), graph in zip(distinct.items(), test_graphs)
    }
    return [
        [
            {
                "engine": unit.engine, "pipeline": unit.pipeline, "scenario": unit.scenario, "steps": unit.steps,
                "split": unit.split.name, "seed": unit.split.seed, "fold": unit.split.fold, "slice": image.slice,
                "condition": condition, "n_train_images": len(train_images), **scores[_image_key(image)],
            }
            for condition, image in unit_conditions
        ]
        for unit, unit_conditions in zip(units, conditions)
    ]  # fmt: skip


def _scores(segmentation: np.ndarray, gt: np.ndarray) -> dict[str, float | int]:
    """A test segmentation's number of segments and its scores against the ground truth."""
    scores = {key: float(value) for key, value in metrics.evaluate(segmentation, gt).items()}
    return {"n_segments": int(len(np.unique(segmentation))), **scores}


def run_unit(
    store: SliceStore, unit: Unit, settings: UnitSettings, graph_cache: GraphCache | None = None, n_jobs: int = -1
) -> list[dict]:
    """:func:`run_units` for a single unit: train its scenario on its split with its pipeline, score every condition.

    Raises:
        KeyError: for an unknown pipeline or scenario.
    """
    return run_units(store, [unit], settings, graph_cache, n_jobs)[0]


def _known_pipelines(units: list[Unit]) -> None:
    """Refuse units of an unknown pipeline before any work."""
    unknown = sorted({unit.pipeline for unit in units} - set(PIPELINES))
    if unknown:
        raise KeyError(f"unknown pipeline {unknown[0]!r}: choose one of {tuple(PIPELINES)}")


def _task_rows(
    store: SliceStore, units: list[Unit], settings: UnitSettings, graph_folder: Path, n_jobs: int
) -> list[list[dict]]:
    """One task: units that share a training set, run with the Frangi graphs read from ``graph_folder``."""
    return run_units(store, units, settings, graph_cache=GraphCache(graph_folder, write=False), n_jobs=n_jobs)


def _missing_graphs(
    store: SliceStore, tasks: list[list[Unit]], settings: UnitSettings, graph_cache: GraphCache
) -> dict[str, tuple[Image, PipelineSettings, bool]]:
    """The Frangi graphs the tasks read that are not in the graph cache yet, each once, by file name."""
    missing: dict[str, tuple[Image, PipelineSettings, bool]] = {}
    for task in tasks:
        first = task[0]
        if first.pipeline != "frangi":
            continue
        graph_settings = pipeline_settings(first, settings)
        train = [(image, True) for image in _training_images(store, first, settings)]
        test = [(image, False) for unit in task for _, image in unit_conditions(store, unit, settings)]
        for image, with_labels in train + test:
            name = graph_cache.name(image, graph_settings, with_labels)
            if name not in missing and not graph_cache.has(name, image, with_labels):
                missing[name] = (image, graph_settings, with_labels)
    return missing


def tasks_of(store: SliceStore, units: list[Unit], settings: UnitSettings) -> list[list[Unit]]:
    """The units grouped into tasks (units that train the same forest) by :func:`training_key`, first-unit order."""
    groups: dict[str, list[Unit]] = {}
    known: dict[str, str] = {}
    for unit in units:
        groups.setdefault(training_key(store, unit, settings, known), []).append(unit)
    return list(groups.values())


def run_all(
    store: SliceStore,
    units: list[Unit],
    folder: Path,
    settings: UnitSettings,
    *,
    workers: int = 1,
    progress: bool = True,
) -> Run:
    """Run every unit, loading those cached intact in ``folder`` instead of recomputing them.

    Temporaries of an interrupted run are removed; damaged and stale unit files are reported and recomputed. The
    Frangi graphs are built first, one task each, into ``folder / "graphs"`` (a cluster needs it on a shared file
    system). Scripts calling this at top level need the ``if __name__ == "__main__":`` guard.

    Args:
        store: the images (scattered once to every worker).
        units: what to run (at least one).
        folder: the unit cache of this run, e.g. ``config.cache / "experiments" / ...``.
        settings: what every unit shares.
        workers: processes of a local Dask cluster (>= 1; 1 without ``NSEM_SCHEDULER``: in this process); with a
            cluster each forest uses one thread, so one process per core keeps every core busy.
        progress: show a progress bar.

    Returns:
        The rows of every unit in the order of ``units``, the computed and loaded counts, and the provenance.

    Raises:
        ValueError: for no units or a bad number of workers.
        KeyError: for an unknown pipeline or scenario.
    """
    workers = checks.integer(workers, "workers", 1)
    if not units:
        raise ValueError("no units to run: pass at least one (runner.experiment_units)")
    _known_pipelines(units)
    folder = Path(folder)
    remove_stale_temporaries(folder)
    prints = [fingerprint(store, unit, settings) for unit in units]  # the costliest bookkeeping: once
    paths = [unit_path(folder, store, unit, settings, known) for unit, known in zip(units, prints)]
    path_of = dict(zip(units, paths))
    pending = [unit for unit, path in zip(units, paths) if cached_rows(path, unit, settings) is None]
    tasks = tasks_of(store, pending, settings)
    graph_cache = GraphCache(folder / GRAPH_FOLDER)
    missing = _missing_graphs(store, tasks, settings, graph_cache)
    names, graphs = list(missing), list(missing.values())
    n_jobs = -1 if runs_here(workers) else 1  # one thread per worker process
    for index, graph in tqdm(
        run_tasks(build_graph, graphs, workers), total=len(graphs), desc="Frangi graphs", disable=not progress
    ):
        graph_cache.put(names[index], graph)
    bar = tqdm(total=len(pending), desc="scenario x split units", disable=not progress)
    arguments = [(task, settings, graph_cache.folder, n_jobs) for task in tasks]
    for index, task_rows in run_tasks(_task_rows, arguments, workers, shared=store):
        for unit, rows in zip(tasks[index], task_rows):
            write_checked_json(path_of[unit], rows)
        bar.update(len(tasks[index]))
    bar.close()
    rows = pd.DataFrame([row for unit, path in zip(units, paths) for row in read_rows(path, unit, settings)])
    rows.attrs["provenance"] = provenance(store, units, settings, prints)
    return Run(rows, computed=len(pending), loaded=len(units) - len(pending), provenance=rows.attrs["provenance"])


def provenance_path(path: Path) -> Path:
    """Where :func:`write_rows` records the provenance of the CSV ``path``: ``<name>.provenance.json`` beside it."""
    return Path(path).with_suffix(".provenance.json")


def write_rows(rows: pd.DataFrame, path: Path, profile: str) -> None:
    """Write a run's rows as CSV atomically, ``profile`` first, and their provenance (:func:`provenance_path`).

    If the replaced results came from other stylised images or settings, a warning gives both digests: the stylised
    conditions' scores are then expected to differ.

    Args:
        rows: :attr:`Run.rows` (provenance in ``rows.attrs["provenance"]``).
        path: the CSV file, usually ``config.result_path("scenarios.csv")``.
        profile: the profile's name.
    """
    table = rows.copy()
    table.insert(0, "profile", profile)
    record = rows.attrs.get("provenance")
    sidecar = provenance_path(path)
    if record and sidecar.exists():
        try:
            before = json.loads(sidecar.read_text())
        except ValueError:
            before = {}
        for key in ("stylized_images", "settings"):
            if before.get(key) != record[key]:
                LOG.warning(
                    "%s was computed from %s with digest %s; this run's have digest %s: its rows are replaced",
                    Path(path).name, key.replace("_", " "), before.get(key), record[key],
                )  # fmt: skip
    atomic_write_text(path, table.to_csv(index=False, lineterminator=CSV_LINE_END))
    if record:
        atomic_write_text(sidecar, json.dumps({"profile": profile, **record}, indent=1))
