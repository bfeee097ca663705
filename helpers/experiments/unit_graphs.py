"""How each pipeline builds a unit's graphs, and the Frangi graphs shared by every unit of a run.

The Frangi boundary map needs no training, so an image's Frangi graph (watershed, RAG, edge features and labels) is
built once per run and shared by every scenario, split, step count and worker (:class:`GraphCache`). The
pixel-classifier pipeline retrains its boundary map per unit and builds its graphs afresh (:data:`PIPELINES`).
"""

from __future__ import annotations

import json
import logging
import pickle
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..paths import CacheError, atomic_write_bytes, digest
from ..segmentation import boundaries
from ..segmentation.pipeline import GraphData, PipelineSettings, graph_data
from .scenarios import Image
from .unit_cache import UnitSettings

__all__ = ["GRAPH_FOLDER", "PIPELINES", "FrangiMaps", "GraphCache", "PipelineRecipe", "build_graph"]
LOG = logging.getLogger(__name__)
# what a Frangi graph does not depend on (every other setting, present or future, is part of its digest)
FOREST_SETTINGS = (
    "rf_trees", "rf_max_samples", "rf_tree_fraction", "seed", "beta", "solver", "pixel_trees", "pixel_folds",
)  # fmt: skip
GRAPH_FOLDER = "graphs"  # the Frangi graphs of a run, under its unit folder
# the graph class's import path and fields, part of every graph's digest: pickles of another layout are never read
GRAPH_LAYOUT = f"{GraphData.__module__}.{GraphData.__qualname__}({', '.join(f.name for f in fields(GraphData))})"
GRAPHS_IN_MEMORY = 64  # graphs a disk-backed GraphCache also keeps in memory (a 512 px graph: about 2.5 MB)


def build_graph(image: Image, settings: PipelineSettings, with_labels: bool) -> GraphData:
    """An image's Frangi-pipeline graph, with edge labels from its ground truth if ``with_labels`` (training graphs)."""
    return graph_data(image.raw, image.gt if with_labels else None, settings=settings)


class GraphCache:
    """Frangi-pipeline graphs, built once per image and reused by every scenario and split.

    With a ``folder`` the graphs are also pickled there atomically (named by tag and a digest of pixels and graph
    settings) for parallel workers and later runs, and only the last :data:`GRAPHS_IN_MEMORY` used stay in memory (the
    full profile has about 1,700 graphs of 2.5 MB). A pickle that does not load, or holds another image's graph, is
    reported by name and rebuilt.

    Attributes:
        graphs: the graphs in memory, by file name, least recently used first.
        folder: the shared folder (None: in memory only, unbounded).
        built: graphs this cache computed (not found in memory or on disk).
    """

    def __init__(self, folder: Path | None = None, write: bool = True) -> None:
        """Start an empty cache.

        Args:
            folder: where to share graphs between processes and runs (None: in memory only).
            write: write built graphs to ``folder`` and delete damaged ones (False in a Dask task: only the run's own
                process writes).
        """
        self.graphs: OrderedDict[str, GraphData] = OrderedDict()
        self.folder = Path(folder) if folder is not None else None
        self.write = write
        self.built = 0

    def name(self, image: Image, settings: PipelineSettings, with_labels: bool) -> str:
        """The file name of an image's graph, ``<tag>__<0|1 labelled>__<digest>.pkl`` (only graph settings count)."""
        graph_settings = json.dumps({k: v for k, v in settings.as_dict().items() if k not in FOREST_SETTINGS})
        pixels = digest(GRAPH_LAYOUT, graph_settings, np.ascontiguousarray(image.raw).tobytes())
        return f"{image.tag.replace('/', '_')}__{int(with_labels)}__{pixels}.pkl"

    def has(self, name: str, image: Image, with_labels: bool) -> bool:
        """Whether graph file ``name`` (:meth:`name`) is in memory or on disk and intact (see :meth:`_load`)."""
        if name in self.graphs:
            return True
        return self.folder is not None and self._load(self.folder / name, image, with_labels) is not None

    def put(self, key: str, graph: GraphData) -> None:
        """Keep a graph built elsewhere (a Dask task) under its file name ``key``; write it to the folder atomically."""
        if self.folder is not None and self.write:
            atomic_write_bytes(self.folder / key, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
        self._remember(key, graph)

    def _remember(self, key: str, graph: GraphData) -> None:
        """Keep a graph in memory (the last :data:`GRAPHS_IN_MEMORY` used, when backed by a folder)."""
        self.graphs[key] = graph
        self.graphs.move_to_end(key)
        if self.folder is not None and len(self.graphs) > GRAPHS_IN_MEMORY:
            self.graphs.popitem(last=False)

    def _load(self, path: Path, image: Image, with_labels: bool) -> GraphData | None:
        """A pickled graph, checked; a damaged one is reported by name, deleted when writing, and None."""
        try:
            graph = pickle.loads(path.read_bytes())
            if not isinstance(graph, GraphData) or graph.superpixels.shape != np.shape(image.raw):
                raise CacheError(path, "not the graph of this image")
            if (graph.labels is not None) != with_labels:
                raise CacheError(path, "edge labels missing or unexpected")
            return graph
        except FileNotFoundError:
            return None
        except Exception as error:  # unpickling a damaged file raises many types
            problem = error if isinstance(error, CacheError) else CacheError(path, f"does not load ({error!r})")
            LOG.warning("%s: %s, the graph is built again", problem, "deleted" if self.write else "not used")
            if self.write:
                path.unlink(missing_ok=True)
            return None

    def get(self, image: Image, settings: PipelineSettings, with_labels: bool) -> GraphData:
        """The graph of ``image``, built or read back (edge labels from its ground truth if ``with_labels``)."""
        key = self.name(image, settings, with_labels)
        if key in self.graphs:
            self.graphs.move_to_end(key)
            return self.graphs[key]
        path = None if self.folder is None else self.folder / key
        graph = None if path is None else self._load(path, image, with_labels)
        if graph is None:
            graph = build_graph(image, settings, with_labels)
            self.built += 1
            if path is not None and self.write:
                atomic_write_bytes(path, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
        self._remember(key, graph)
        return graph


class FrangiMaps:
    """Images' Frangi maps read from a run's graph cache (built if missing); picklable for Dask, never writes."""

    def __init__(self, folder: Path, settings: UnitSettings) -> None:
        """Read from the graph cache of a run's unit ``folder`` (as given to ``run_all``)."""
        self.graphs = GraphCache(Path(folder) / GRAPH_FOLDER, write=False)
        self.settings = PipelineSettings(
            boundary="frangi", rf_trees=settings.trees, rf_max_samples=settings.max_samples
        )

    def __call__(self, image: Image) -> np.ndarray:
        """The image's Frangi map: :func:`helpers.segmentation.boundaries.frangi_boundary` of its pixels."""
        return self.graphs.get(image, self.settings, True).boundary


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
