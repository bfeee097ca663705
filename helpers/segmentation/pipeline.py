"""The whole segmentation pipeline, slices in, segmentations and scores out (chapters 03-06).

Stages: boundary maps (:mod:`.boundaries`), superpixels (:mod:`.superpixels`), graph and edge labels
(:mod:`.graph`), edge features (:mod:`.features`), edge random forest (:mod:`.learning`), multicut
(:mod:`.multicut`), scores (:mod:`.metrics`). Typical use::

    settings = PipelineSettings(boundary="frangi", rf_trees=200, seed=0)
    train = [graph_data(raw, gt, settings=settings) for raw, gt in zip(train_raws, train_gts)]
    forest = train_edge_rf(train, trees=settings.rf_trees, seed=settings.seed)
    seg = segment(test_raw, forest, settings)
    scores = metrics.evaluate(seg, test_gt)

For ``boundary="pixel-rf"`` pass the boundary maps yourself (:func:`.boundaries.pixel_rf_boundaries`: out-of-fold
maps for training images, maps from a classifier trained on all of them for test images), or use :func:`run`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from tqdm.auto import tqdm

from .. import checks
from ..config import SegmentationWork
from ..data import ISBI_SHAPE, check_pair, dense_ground_truth, load_training, normalize_intensity
from .boundaries import PIXEL_RF, boundary_map, pixel_rf_boundaries
from .features import edge_features
from .graph import Rag, edge_labels, region_adjacency_graph
from .learning import edge_probabilities, train_edge_classifier
from .metrics import evaluate
from .multicut import costs_from_probabilities, node_labels_to_segmentation, solve_multicut
from .settings import DEFAULT_SETTINGS, PipelineSettings
from .superpixels import oversegment


@dataclass
class GraphData:
    """One image as a multicut problem: superpixels, graph, edge features and (with ground truth) labels."""

    superpixels: np.ndarray  # (H, W) uint32, ids 0..n_nodes-1
    boundary: np.ndarray  # (H, W) float32 boundary map the superpixels came from
    n_nodes: int
    uv_ids: np.ndarray  # (n_edges, 2)
    features: np.ndarray  # (n_edges, n_features) float32
    labels: np.ndarray | None = None  # (n_edges,) 1 = cut, from the ground truth
    confident: np.ndarray | None = None  # (n_edges,) bool, edges used for training
    cut_fraction: np.ndarray | None = None

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(len(self.uv_ids))


def load_slices(slices: Sequence[int], crop: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISBI training slices as ``(raw uint8, binary membrane labels, dense ground truth)``, each (n, H, W).

    Args:
        slices: slice numbers of the training volume.
        crop: keep each slice's top-left ``crop`` x ``crop`` pixels (None: whole slices).

    Raises:
        ValueError: empty, repeated or non-integral slices, or a crop outside 1..512.
        IndexError: a slice index outside the volume.
    """
    slices = checks.integers(slices, "slices")
    crop = checks.optional_integer(crop, "crop", 1, ISBI_SHAPE[-1])
    raw, labels = load_training(list(slices))
    if crop is not None:
        raw, labels = raw[:, :crop, :crop], labels[:, :crop, :crop]
    return raw, labels, dense_ground_truth(labels)


def load_split(work: SegmentationWork) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """``((train raw, labels, gt), (test raw, labels, gt))`` of ``config.segmentation``, as :func:`load_slices`."""
    return load_slices(work.train_slices, work.crop), load_slices(work.test_slices, work.crop)


def graph_data(
    raw: np.ndarray,
    gt: np.ndarray | None = None,
    boundary: np.ndarray | None = None,
    settings: PipelineSettings = DEFAULT_SETTINGS,
) -> GraphData:
    """Superpixels, graph, edge features and (given ``gt``) edge labels of one grey slice.

    Args:
        raw: the grey slice (uint8, or float in [0, 1]).
        gt: its dense ground truth (None: no labels).
        boundary: a precomputed boundary map (required for ``pixel-rf``; None: computed from ``raw``).
        settings: the pipeline's settings.

    Raises:
        ValueError: when raw, ground truth and boundary map differ in shape.
    """
    if gt is not None:
        check_pair(raw, gt, what="ground-truth")
    raw = normalize_intensity(raw, settings.intensity)
    if boundary is None:
        boundary = boundary_map(raw, settings.boundary)
    elif np.shape(boundary) != np.shape(raw):
        raise ValueError(f"boundary map {np.shape(boundary)} and raw {np.shape(raw)} differ in shape")
    boundary = np.asarray(boundary, dtype=np.float32)
    superpixels = oversegment(boundary, settings.watershed, **settings.watershed_params())
    rag = region_adjacency_graph(superpixels)
    features = edge_features(rag, superpixels, raw, boundary)
    graph = GraphData(
        superpixels=superpixels,
        boundary=boundary,
        n_nodes=int(rag.number_of_nodes),
        uv_ids=np.asarray(rag.uv_ids(), dtype=np.int64),
        features=features,
    )
    if gt is not None:
        label_graph(graph, gt, settings, rag)
    return graph


def label_graph(graph: GraphData, gt: np.ndarray, settings: PipelineSettings, rag: Rag | None = None) -> None:
    """Add the ground-truth edge labels (:func:`.graph.edge_labels`) to ``graph``, in place.

    Args:
        graph: the slice's graph.
        gt: its dense ground truth.
        settings: the pipeline's settings (``label_low``, ``label_high``).
        rag: the bioimage-cpp graph of ``graph.superpixels`` (None: built again).

    Raises:
        ValueError: when ``gt`` and the superpixels differ in shape.
    """
    check_pair(graph.superpixels, gt, what="ground-truth")
    rag = region_adjacency_graph(graph.superpixels) if rag is None else rag
    labels = edge_labels(rag, graph.superpixels, gt, settings.label_low, settings.label_high)
    graph.cut_fraction, graph.labels, graph.confident = labels.cut_fraction, labels.labels, labels.confident


def train_edge_rf(graphs: list[GraphData], **forest_options: int | float | bool | None) -> RandomForestClassifier:
    """The edge random forest fitted on the confident edges of all ``graphs``.

    Args:
        graphs: training graphs, each built with ground truth.
        **forest_options: options of :func:`.learning.train_edge_classifier` (``trees``, ``seed``, ...).

    Raises:
        ValueError: without graphs, or when a graph has no edge labels.
    """
    if not graphs:
        raise ValueError("no training graphs given")
    if any(graph.labels is None for graph in graphs):
        raise ValueError("every training graph needs edge labels: build it with graph_data(raw, gt, ...)")
    features = np.concatenate([graph.features for graph in graphs])
    labels = np.concatenate([graph.labels for graph in graphs])
    confident = np.concatenate([graph.confident for graph in graphs])
    return train_edge_classifier(features, labels, confident, **forest_options)


def edge_costs(
    graph: GraphData, forest: RandomForestClassifier, settings: PipelineSettings = DEFAULT_SETTINGS
) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities, costs)`` of the edges of ``graph``, costs (eq. 6) with ``settings.beta``."""
    probabilities = edge_probabilities(forest, graph.features)
    costs = costs_from_probabilities(probabilities, settings.beta)
    return probabilities, costs


def segment_graph(
    graph: GraphData, forest: RandomForestClassifier, settings: PipelineSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """uint32 segment ids from 1 (the slice's shape) of one graph, by ``settings.solver``."""
    if graph.n_edges == 0:  # nothing to cut: the superpixels are the segmentation
        return node_labels_to_segmentation(graph.superpixels, np.arange(graph.n_nodes))
    _, costs = edge_costs(graph, forest, settings)
    node_labels = solve_multicut(graph.n_nodes, graph.uv_ids, costs, settings.solver, seed=settings.seed)
    return node_labels_to_segmentation(graph.superpixels, node_labels)


def segment(
    raw: np.ndarray,
    forest: RandomForestClassifier,
    settings: PipelineSettings = DEFAULT_SETTINGS,
    boundary: np.ndarray | None = None,
    pixel_classifier: RandomForestClassifier | None = None,
) -> np.ndarray:
    """Segment one grey slice with a trained edge forest; uint32 segment ids from 1.

    Args:
        raw: the grey slice (uint8, or float in [0, 1]).
        forest: the trained edge forest.
        settings: the pipeline's settings.
        boundary: the slice's boundary map (None: computed, for ``pixel-rf`` with ``pixel_classifier``).
        pixel_classifier: the trained pixel classifier (``pixel-rf`` without a ``boundary``).
    """
    if boundary is None:
        boundary = boundary_map(normalize_intensity(raw, settings.intensity), settings.boundary, pixel_classifier)
    return segment_graph(graph_data(raw, None, boundary, settings), forest, settings)


@dataclass
class Run:
    """Everything one run of :func:`run` produced."""

    settings: PipelineSettings
    train_graphs: list[GraphData]
    test_graphs: list[GraphData]
    forest: RandomForestClassifier
    segmentations: list[np.ndarray]
    scores: list[dict]
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def stopwatch(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``timings[stage]`` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def run(
    train_raws: Sequence[np.ndarray],
    train_labels: Sequence[np.ndarray],
    test_raws: Sequence[np.ndarray],
    test_labels: Sequence[np.ndarray],
    settings: PipelineSettings = DEFAULT_SETTINGS,
    progress: bool = True,
) -> Run:
    """Train on the training slices, then segment and score the test slices, timing each stage.

    Args:
        train_raws: grey training slices.
        train_labels: their binary membrane labels.
        test_raws: grey test slices.
        test_labels: their binary membrane labels.
        settings: the pipeline's settings.
        progress: show progress bars.

    Raises:
        ValueError: no training or test slices, slices and labels differing in number, or a pair differing in shape.
    """
    train_raws, train_labels, test_raws, test_labels = map(list, (train_raws, train_labels, test_raws, test_labels))
    checks.same_lengths("train_raws", train_raws, "train_labels", train_labels)
    checks.same_lengths("test_raws", test_raws, "test_labels", test_labels)
    if not train_raws or not test_raws:
        raise ValueError(
            f"pipeline.run needs at least one training and one test slice, got {len(train_raws)} and {len(test_raws)}"
        )
    for raw, label in zip(train_raws + test_raws, train_labels + test_labels):
        check_pair(raw, label, what="ground-truth")
    timings: dict[str, float] = {}
    with stopwatch(timings, "ground truth"):
        train_gts = [dense_ground_truth(label) for label in train_labels]
        test_gts = [dense_ground_truth(label) for label in test_labels]
    with stopwatch(timings, "boundary maps"):
        normal = [normalize_intensity(raw, settings.intensity) for raw in train_raws + test_raws]
        if settings.boundary == PIXEL_RF:
            train_normal, test_normal = normal[: len(train_raws)], normal[len(train_raws) :]
            train_maps, test_maps, _ = pixel_rf_boundaries(train_normal, train_labels, test_normal, settings)
        else:
            raws = tqdm(normal, desc="boundary maps", disable=not progress)
            maps = [boundary_map(raw, settings.boundary) for raw in raws]
            train_maps, test_maps = maps[: len(train_raws)], maps[len(train_raws) :]
    with stopwatch(timings, "superpixels + features"):
        items = list(zip(train_raws + test_raws, train_maps + test_maps))
        graphs = [
            graph_data(raw, None, boundary, settings)
            for raw, boundary in tqdm(items, desc="graphs", disable=not progress)
        ]
        train_graphs, test_graphs = graphs[: len(train_raws)], graphs[len(train_raws) :]
    with stopwatch(timings, "edge labels"):
        for graph, gt in zip(train_graphs, train_gts):
            label_graph(graph, gt, settings)
    with stopwatch(timings, "training"):
        forest = train_edge_rf(
            train_graphs,
            trees=settings.rf_trees,
            seed=settings.seed,
            max_samples=settings.rf_max_samples,
            tree_fraction=settings.rf_tree_fraction,
        )
    with stopwatch(timings, "inference"):
        test_graphs_bar = tqdm(test_graphs, desc="multicut", disable=not progress)
        segmentations = [segment_graph(graph, forest, settings) for graph in test_graphs_bar]
    with stopwatch(timings, "evaluation"):
        scores = [evaluate(seg, gt, label) for seg, gt, label in zip(segmentations, test_gts, test_labels)]
    return Run(settings, train_graphs, test_graphs, forest, segmentations, scores, timings)
