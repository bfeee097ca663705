"""The experiment runner: one unit (pipeline, steps, scenario, split) trained and scored, every unit cached.

Each unit's rows are written atomically as JSON under a name holding a digest of everything the unit reads, so
an interrupted run resumes where it stopped and a changed input (e.g. recomputed stylised slices) is never
served from the cache. Units run in parallel worker processes when asked; the rows come back as one tidy
DataFrame in the order of the units, whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..paths import atomic_write_bytes, atomic_write_text
from ..segmentation import boundaries, metrics
from ..segmentation.pipeline import GraphData, PipelineSettings, graph_data, segment_graph, train_edge_rf
from .scenarios import Image, SliceStore, cap_images, test_conditions, training_set
from .splits import Split

CSV_LINE_END = "\r\n"  # the committed results/scenarios.csv was written by the csv module


@dataclass(frozen=True)
class Unit:
    """One piece of work: train ``scenario`` on ``split`` with ``pipeline`` at ``steps`` stylisation steps."""

    pipeline: str
    steps: int
    scenario: str
    split: Split


@dataclass(frozen=True)
class UnitSettings:
    """What every unit of a run shares.

    Attributes:
        styles: the styles of scenario ``full``.
        heldout: styles never trained on (test conditions ``unseen_styleNN``).
        one_style: the style of scenario ``one_style``.
        trees: trees of the edge random forest.
        max_samples: cap on the training edges of a forest (None: all).
        max_train_images: cap on the pixel-classifier pipeline's training images (None: all; see
            :func:`helpers.experiments.scenarios.cap_images`).
    """

    styles: tuple[int, ...]
    heldout: tuple[int, ...]
    one_style: int
    trees: int
    max_samples: int | None
    max_train_images: int | None = None


@dataclass(frozen=True)
class Run:
    """What :func:`run_all` returns.

    Attributes:
        rows: one row per (unit, test slice, condition): pipeline, scenario, steps, split, seed, fold, slice,
            condition, n_train_images, rand_error, vi, vi_split, vi_merge.
        computed: units computed by this call.
        loaded: units read back from the cache.
    """

    rows: pd.DataFrame
    computed: int
    loaded: int


class GraphCache:
    """Frangi-pipeline graphs, built once per image and reused by every scenario and split.

    The Frangi boundary map needs no training, so an image's graph never changes. With a ``folder`` the graphs
    are also pickled there (atomically, named by the image's tag and a digest of its pixels), so parallel
    workers share them.
    """

    def __init__(self, folder: Path | None = None) -> None:
        """Start an empty cache.

        Args:
            folder: where to share graphs between processes (None: in memory only).
        """
        self.graphs: dict[str, GraphData] = {}
        self.folder = Path(folder) if folder is not None else None

    def _file(self, image: Image, with_labels: bool) -> Path:
        # the graph class's import path is part of the digest: pickles of another code layout are never read
        digest = hashlib.sha256(f"{GraphData.__module__}.{GraphData.__qualname__}".encode())
        digest.update(np.ascontiguousarray(image.raw).tobytes())
        return self.folder / f"{image.tag.replace('/', '_')}__{int(with_labels)}__{digest.hexdigest()[:12]}.pkl"

    def get(self, image: Image, settings: PipelineSettings, with_labels: bool) -> GraphData:
        """The graph of ``image`` (with edge labels from its ground truth if ``with_labels``).

        Args:
            image: the image.
            settings: the pipeline's settings (their graph part is the same for every unit).
            with_labels: label the edges (training graphs).

        Returns:
            The graph, built or read back.
        """
        key = f"{image.tag}|{with_labels}"
        if key in self.graphs:
            return self.graphs[key]
        path = self._file(image, with_labels) if self.folder is not None else None
        if path is not None and path.exists():
            graph = pickle.loads(path.read_bytes())
        else:
            graph = graph_data(image.raw, image.gt if with_labels else None, settings=settings)
            if path is not None:
                atomic_write_bytes(path, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
        self.graphs[key] = graph
        return graph


GraphPair = tuple[list[GraphData], list[GraphData]]


def _frangi_graphs(
    train: list[Image], test: list[Image], settings: PipelineSettings, graph_cache: GraphCache, n_jobs: int
) -> GraphPair:
    """Training and test graphs on Frangi boundary maps (shared through the graph cache)."""
    return [graph_cache.get(image, settings, True) for image in train], [
        graph_cache.get(image, settings, False) for image in test
    ]


def _pixel_rf_graphs(
    train: list[Image], test: list[Image], settings: PipelineSettings, graph_cache: GraphCache, n_jobs: int
) -> GraphPair:
    """Training and test graphs on pixel-classifier maps learnt from this unit's training images."""
    train_maps, test_maps, _ = boundaries.pixel_rf_boundaries(
        [image.raw for image in train], [image.membranes for image in train], [image.raw for image in test],
        settings, n_jobs=n_jobs,
    )  # fmt: skip
    return [graph_data(image.raw, image.gt, boundary, settings) for image, boundary in zip(train, train_maps)], [
        graph_data(image.raw, None, boundary, settings) for image, boundary in zip(test, test_maps)
    ]


@dataclass(frozen=True)
class PipelineRecipe:
    """How a unit builds its graphs with one segmentation pipeline."""

    graphs: Callable[[list[Image], list[Image], PipelineSettings, GraphCache, int], GraphPair]
    capped: bool  # the training images are capped (:attr:`UnitSettings.max_train_images`)


PIPELINES = {
    "frangi": PipelineRecipe(_frangi_graphs, capped=False),
    "pixel-rf": PipelineRecipe(_pixel_rf_graphs, capped=True),  # its boundary map is retrained per unit
}


def experiment_units(
    pipelines: list[str], steps: tuple[int, ...], scenarios: list[str], splits: list[Split]
) -> list[Unit]:
    """Every (pipeline, steps, scenario, split) to run, in a stable order.

    Args:
        pipelines: keys of :data:`PIPELINES`.
        steps: stylisation step counts.
        scenarios: scenario names.
        splits: the splits.

    Returns:
        The units, pipeline by pipeline, then steps, scenario and split.
    """
    return [
        Unit(pipeline, count, scenario, split)
        for pipeline in pipelines
        for count in steps
        for scenario in scenarios
        for split in splits
    ]


def run_unit(
    store: SliceStore, unit: Unit, settings: UnitSettings, graph_cache: GraphCache | None = None, n_jobs: int = -1
) -> list[dict]:
    """Train one scenario on one split with one pipeline, then score every test condition.

    Args:
        store: the images.
        unit: what to run.
        settings: what every unit shares.
        graph_cache: Frangi graphs built before (None: a fresh in-memory cache).
        n_jobs: threads of the forests (-1: all cores; 1 inside parallel workers).

    Returns:
        One row per (test slice, condition) with the unit's keys, the size of the training set and the scores
        (rand_error, vi, vi_split, vi_merge).

    Raises:
        KeyError: for an unknown pipeline or scenario.
    """
    if unit.pipeline not in PIPELINES:
        raise KeyError(f"unknown pipeline {unit.pipeline!r}: choose one of {tuple(PIPELINES)}")
    recipe = PIPELINES[unit.pipeline]
    split = unit.split
    pipeline_settings = PipelineSettings(
        boundary=unit.pipeline, rf_trees=settings.trees, seed=split.seed, rf_max_samples=settings.max_samples
    )
    train_images = training_set(
        store, unit.scenario, split.train, unit.steps, settings.styles, settings.one_style, seed=split.seed
    )
    if recipe.capped:
        train_images = cap_images(train_images, settings.max_train_images, split.seed)
    conditions = test_conditions(store, split.test, settings.heldout, unit.steps)
    train_graphs, test_graphs = recipe.graphs(
        train_images, [image for _, image in conditions], pipeline_settings, graph_cache or GraphCache(), n_jobs
    )
    forest = train_edge_rf(
        train_graphs, trees=settings.trees, seed=split.seed, max_samples=settings.max_samples,
        tree_fraction=pipeline_settings.rf_tree_fraction, n_jobs=n_jobs,
    )  # fmt: skip
    rows = []
    for (condition, image), graph in zip(conditions, test_graphs):
        scores = metrics.evaluate(segment_graph(graph, forest, pipeline_settings), image.gt)
        rows.append({
            "pipeline": unit.pipeline, "scenario": unit.scenario, "steps": unit.steps, "split": split.name,
            "seed": split.seed, "fold": split.fold, "slice": image.slice, "condition": condition,
            "n_train_images": len(train_images), **{key: float(value) for key, value in scores.items()},
        })  # fmt: skip
    return rows


def fingerprint(store: SliceStore, unit: Unit, settings: UnitSettings) -> str:
    """Digest of everything a unit reads: its split, the shared settings, and its images' tags and pixels.

    Args:
        store: the images.
        unit: the unit.
        settings: what every unit shares.

    Returns:
        12 hex digits.
    """
    split = unit.split
    digest = hashlib.sha256(repr((split, sorted(asdict(settings).items()))).encode())
    images = training_set(
        store, unit.scenario, split.train, unit.steps, settings.styles, settings.one_style, split.seed
    )
    images += [image for _, image in test_conditions(store, split.test, settings.heldout, unit.steps)]
    for image in images:
        digest.update(image.tag.encode())
        digest.update(np.ascontiguousarray(image.raw).tobytes())
    return digest.hexdigest()[:12]


def unit_path(folder: Path, store: SliceStore, unit: Unit, settings: UnitSettings) -> Path:
    """Where a unit's rows are cached: ``<folder>/<pipeline>__<scenario>__steps<NNN>__<split>__<digest>.json``.

    Args:
        folder: the run's unit folder.
        store: the images.
        unit: the unit.
        settings: what every unit shares.

    Returns:
        The JSON file's path.
    """
    name = f"{unit.pipeline}__{unit.scenario.replace(':', '-')}__steps{unit.steps:03d}__{unit.split.name}"
    return folder / f"{name}__{fingerprint(store, unit, settings)}.json"


def _run_and_save(
    store: SliceStore, unit: Unit, settings: UnitSettings, path: Path, graph_cache: GraphCache, n_jobs: int
) -> None:
    """Run one unit and write its rows atomically."""
    atomic_write_text(path, json.dumps(run_unit(store, unit, settings, graph_cache=graph_cache, n_jobs=n_jobs)))


def run_all(
    store: SliceStore,
    units: list[Unit],
    folder: Path,
    settings: UnitSettings,
    *,
    workers: int = 1,
    progress: bool = True,
) -> Run:
    """Run every unit, loading those already cached in ``folder`` instead of recomputing them.

    Args:
        store: the images.
        units: what to run.
        folder: the unit cache of this run, e.g. ``config.cache / "experiments" / ...``.
        settings: what every unit shares.
        workers: parallel processes; above 1 each forest uses one thread and the Frangi graphs are shared
            through ``folder / "graphs"``.
        progress: show a progress bar.

    Returns:
        The rows of every unit, in the order of ``units``, and the counts of computed and loaded units.
    """
    folder = Path(folder)
    paths = [unit_path(folder, store, unit, settings) for unit in units]
    pending = [(unit, path) for unit, path in zip(units, paths) if not path.exists()]
    bar = tqdm(total=len(pending), desc="scenario x split units", disable=not progress)
    if workers > 1 and len(pending) > 1:
        shared = GraphCache(folder / "graphs")
        jobs = (delayed(_run_and_save)(store, unit, settings, path, shared, 1) for unit, path in pending)
        for _ in Parallel(n_jobs=workers, return_as="generator_unordered")(jobs):
            bar.update()
    else:
        graph_cache = GraphCache()
        for unit, path in pending:
            _run_and_save(store, unit, settings, path, graph_cache, -1)
            bar.update()
    bar.close()
    rows = [row for path in paths for row in json.loads(path.read_text())]
    return Run(rows=pd.DataFrame(rows), computed=len(pending), loaded=len(units) - len(pending))


def write_rows(rows: pd.DataFrame, path: Path, profile: str) -> None:
    """Write the rows of a run as CSV, atomically, with the profile's name as first column.

    Args:
        rows: :attr:`Run.rows`.
        path: the CSV file, usually ``config.result_path("scenarios.csv")``.
        profile: the profile's name.
    """
    table = rows.copy()
    table.insert(0, "profile", profile)
    atomic_write_text(path, table.to_csv(index=False, lineterminator=CSV_LINE_END))
