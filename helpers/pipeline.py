"""The whole segmentation pipeline, slices in, segmentations and scores out, for notebooks 03-05 and 06.

Stages (each a module): boundary map and superpixels (:mod:`helpers.superpixels`, or the pixel classifier
of :mod:`helpers.learning`), graph and edge features (:mod:`helpers.features`), the edge random forest
(:mod:`helpers.learning`), multicut (:mod:`helpers.multicut`) and scores (:mod:`helpers.metrics`).

Typical use::

    config = Pipeline(boundary="frangi", rf_trees=200, seed=0)
    train = [graph_data(raw, gt, config=config) for raw, gt in zip(train_raws, train_gts)]
    forest = train_edge_rf(train, trees=config.rf_trees, seed=config.seed)
    seg = segment(test_raw, forest, config)
    scores = evaluate(seg, test_gt)

For ``boundary="pixel-rf"`` pass the boundary maps yourself (:func:`pixel_rf_boundaries` gives out-of-fold
maps for the training images and maps from a classifier trained on all of them for the test images).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np

from . import data as D
from . import features as F
from . import learning as L
from . import metrics as M
from . import multicut as MC
from . import superpixels as S
from .learning import membrane_probability, train_pixel_classifier  # noqa: F401  (part of the API)

BOUNDARIES = ("frangi", "pixel-rf", "hessian", "hed", "raw")


@dataclass(frozen=True)
class Pipeline:
    """Every parameter of the pipeline, as plain data (printable, storable)."""

    boundary: str = "frangi"  # frangi (report) | pixel-rf | hessian | hed | raw (no filter, Figure 7)
    watershed: str = "distance"  # distance (report) | seeded
    threshold: float = 0.3  # distance watershed: threshold of the boundary map (report: 0.3)
    sigma_seeds: float = 3.0  # smoothing of the distance transform: larger, fewer superpixels
    sigma_weights: float = 2.0
    min_size: int = 25  # smallest superpixel, pixels
    label_low: float = 0.2  # confident merge edges: cut fraction below this (report: 0.2)
    label_high: float = 0.8  # confident cut edges: cut fraction above this (report: 0.8)
    rf_trees: int = 200
    rf_max_samples: int | None = None  # cap on training edges (random subset)
    rf_tree_fraction: float | None = 0.3  # bootstrap sample of each tree, as a fraction of the edges
    seed: int = 0
    beta: float = 0.5  # boundary bias of the costs
    weighting_exponent: float | None = None  # None: no edge-length weighting of the costs
    solver: str = "kl"  # gaec | kl | fusion | ilp
    pixel_trees: int = 16  # pixel classifier (boundary="pixel-rf")
    pixel_folds: int = 4  # out-of-fold maps on the training images

    def __post_init__(self):
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"unknown boundary {self.boundary!r}: choose one of {BOUNDARIES}")
        if self.solver not in MC.SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}: choose one of {MC.SOLVERS}")

    def as_dict(self) -> dict:
        return asdict(self)

    def watershed_params(self) -> dict:
        if self.watershed == "distance":
            return {"threshold": self.threshold, "sigma_seeds": self.sigma_seeds,
                    "sigma_weights": self.sigma_weights, "min_size": self.min_size}
        return {"min_size": self.min_size}


@dataclass
class GraphData:
    """One image as a multicut problem: superpixels, graph, edge features and (with ground truth) labels."""

    superpixels: np.ndarray  # (H, W) uint32, ids 0..n_nodes-1
    boundary: np.ndarray  # (H, W) float32 boundary map the superpixels came from
    n_nodes: int
    uv_ids: np.ndarray  # (n_edges, 2)
    features: np.ndarray  # (n_edges, n_features) float32
    edge_sizes: np.ndarray  # (n_edges,) boundary length in pixels
    labels: np.ndarray | None = None  # (n_edges,) 1 = cut, from the ground truth
    confident: np.ndarray | None = None  # (n_edges,) bool, edges used for training
    cut_fraction: np.ndarray | None = None

    @property
    def n_edges(self) -> int:
        return int(len(self.uv_ids))


def check_pair(raw: np.ndarray, gt: np.ndarray) -> None:
    """Raise a clear error when a raw slice and its ground truth do not belong together."""
    D.check_pair(raw, gt, what="ground-truth")


def boundary_map(raw: np.ndarray, config: Pipeline = Pipeline(), pixel_classifier=None) -> np.ndarray:
    """The configured boundary map of one slice (``pixel-rf`` needs a trained ``pixel_classifier``)."""
    if config.boundary == "pixel-rf":
        if pixel_classifier is None:
            raise ValueError("boundary='pixel-rf' needs a pixel classifier: train_pixel_classifier(raws, labels, seed)")
        return L.membrane_probability(pixel_classifier, raw)
    return S.boundary_map(raw, config.boundary)


def graph_data(raw: np.ndarray, gt: np.ndarray | None = None, boundary: np.ndarray | None = None,
               config: Pipeline = Pipeline()) -> GraphData:
    """Superpixels, RAG, edge features and (if ``gt`` is given) edge labels of one grey slice.

    ``boundary``: a precomputed boundary map (required for ``pixel-rf``; else computed from ``raw``)."""
    if gt is not None:
        check_pair(raw, gt)
    if boundary is None:
        boundary = boundary_map(raw, config)
    elif np.shape(boundary) != np.shape(raw):
        raise ValueError(f"boundary map {np.shape(boundary)} and raw {np.shape(raw)} differ in shape")
    boundary = np.asarray(boundary, dtype=np.float32)
    superpixels = S.oversegment(boundary, config.watershed, **config.watershed_params())
    rag = F.region_adjacency_graph(superpixels)
    feats = F.edge_features(rag, superpixels, raw, boundary)
    data = GraphData(
        superpixels=superpixels, boundary=boundary, n_nodes=int(rag.number_of_nodes),
        uv_ids=np.asarray(rag.uv_ids(), dtype=np.int64), features=feats,
        edge_sizes=feats[:, F.feature_names().index("edge_length")].astype(np.float64),
    )
    if gt is not None:
        _label_graph(data, gt, config, rag)
    return data


def train_edge_rf(graphs: list[GraphData], trees: int = 200, seed: int = 0, max_samples: int | None = None,
                  oob: bool = False, tree_fraction: float | None = 0.3, n_jobs: int = -1):
    """Edge random forest on the confident edges of all ``graphs`` (each built with ground truth); ``n_jobs``:
    threads (-1: all cores; 1 inside parallel workers)."""
    if not graphs:
        raise ValueError("no training graphs given")
    if any(g.labels is None for g in graphs):
        raise ValueError("every training graph needs edge labels: build it with graph_data(raw, gt, ...)")
    features = np.concatenate([g.features for g in graphs])
    labels = np.concatenate([g.labels for g in graphs])
    mask = np.concatenate([g.confident for g in graphs])
    return L.train_edge_classifier(features, labels, mask, trees=trees, seed=seed, max_samples=max_samples, oob=oob,
                                   tree_fraction=tree_fraction, n_jobs=n_jobs)


def edge_costs(graph: GraphData, forest, config: Pipeline = Pipeline()) -> tuple[np.ndarray, np.ndarray]:
    """(boundary probability, multicut cost) of every edge of ``graph``."""
    probabilities = L.edge_probabilities(forest, graph.features)
    sizes = None if config.weighting_exponent is None else graph.edge_sizes
    costs = MC.costs_from_probabilities(probabilities, config.beta, sizes, config.weighting_exponent or 1.0)
    return probabilities, costs


def segment_graph(graph: GraphData, forest, config: Pipeline = Pipeline()) -> np.ndarray:
    """Segmentation (uint32, ids from 1) of one prepared graph by the configured solver."""
    if graph.n_edges == 0:  # nothing to cut: the superpixels are the segmentation
        return MC.node_labels_to_segmentation(graph.superpixels, np.arange(graph.n_nodes))
    _, costs = edge_costs(graph, forest, config)
    node_labels = MC.solve_multicut(graph.n_nodes, graph.uv_ids, costs, config.solver, seed=config.seed)
    return MC.node_labels_to_segmentation(graph.superpixels, node_labels)


def segment(raw: np.ndarray, forest, config: Pipeline = Pipeline(), boundary: np.ndarray | None = None,
            pixel_classifier=None) -> np.ndarray:
    """Segment one grey slice with a trained edge forest (and, for ``pixel-rf``, the pixel classifier or map)."""
    if boundary is None:
        boundary = boundary_map(raw, config, pixel_classifier)
    return segment_graph(graph_data(raw, None, boundary, config), forest, config)


def evaluate(seg: np.ndarray, gt: np.ndarray, membrane_labels: np.ndarray | None = None) -> dict[str, float]:
    """rand_error, vi, vi_split, vi_merge (and ISBI v_rand, v_info with binary ``membrane_labels``)."""
    return M.evaluate(seg, gt, membrane_labels)


def best_reachable(superpixels: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The best segmentation the superpixels allow: each superpixel takes the ground-truth cell it overlaps
    most (bioimage-cpp's majority vote), i.e. a perfect edge classifier. The upper bound of the approach."""
    import bioimage_cpp as bic

    check_pair(superpixels, gt)
    rag = F.region_adjacency_graph(superpixels)
    majority = bic.graph.features.accumulate_labels(rag, superpixels, np.asarray(gt).astype(np.uint32))
    return MC.node_labels_to_segmentation(superpixels, majority)


def trivial_baselines(superpixels: np.ndarray) -> dict[str, np.ndarray]:
    """``no merges`` (every superpixel its own cell) and ``all merged`` (the whole slice one cell)."""
    return {"no merges": S.consecutive(superpixels) + 1, "all merged": np.ones(superpixels.shape, dtype=np.uint32)}


def pixel_rf_boundaries(train_raws, train_labels, test_raws, config: Pipeline = Pipeline()):
    """Pixel-classifier boundary maps: out-of-fold for the training images, from one classifier trained on
    all training images for the test images. Returns (train maps, test maps, classifier)."""
    n_folds = min(config.pixel_folds, len(train_raws))
    train_maps = L.out_of_fold_membrane_probability(train_raws, train_labels, n_folds=n_folds, seed=config.seed,
                                                     trees=config.pixel_trees)
    classifier = L.train_pixel_classifier(train_raws, train_labels, seed=config.seed, trees=config.pixel_trees)
    test_maps = [L.membrane_probability(classifier, raw) for raw in test_raws]
    return list(train_maps), test_maps, classifier


@dataclass
class Run:
    """Everything one run of :func:`run` produced."""

    config: Pipeline
    train_graphs: list[GraphData]
    test_graphs: list[GraphData]
    forest: object
    segmentations: list[np.ndarray]
    scores: list[dict]
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def stopwatch(timings: dict, stage: str):
    """Add the wall time of the ``with`` block to ``timings[stage]`` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def run(train_raws, train_labels, test_raws, test_labels, config: Pipeline = Pipeline(), progress: bool = True) -> Run:
    """Train on ``train_*`` and segment and score ``test_*`` (raw slices and binary membrane labels), timing
    each stage: ground truth, boundary maps, superpixels + features, edge labels, training, inference."""
    from tqdm.auto import tqdm

    from .data import dense_ground_truth

    train_raws, train_labels, test_raws, test_labels = map(list, (train_raws, train_labels, test_raws, test_labels))
    for raw, label in zip(train_raws + test_raws, train_labels + test_labels):
        check_pair(raw, label)
    timings: dict[str, float] = {}
    with stopwatch(timings, "ground truth"):
        train_gts = [dense_ground_truth(label) for label in train_labels]
        test_gts = [dense_ground_truth(label) for label in test_labels]
    with stopwatch(timings, "boundary maps"):
        if config.boundary == "pixel-rf":
            train_maps, test_maps, _ = pixel_rf_boundaries(train_raws, train_labels, test_raws, config)
        else:
            train_maps = [boundary_map(raw, config) for raw in tqdm(train_raws + test_raws, desc="boundary maps",
                                                                   disable=not progress)]
            train_maps, test_maps = train_maps[: len(train_raws)], train_maps[len(train_raws):]
    train_graphs, test_graphs = [], []
    with stopwatch(timings, "superpixels + features"):
        items = [(raw, m, True) for raw, m in zip(train_raws, train_maps)] + [(raw, m, False) for raw, m in zip(test_raws, test_maps)]
        for raw, m, is_train in tqdm(items, desc="graphs", disable=not progress):
            (train_graphs if is_train else test_graphs).append(graph_data(raw, None, m, config))
    with stopwatch(timings, "edge labels"):
        for graph, gt in zip(train_graphs, train_gts):
            _label_graph(graph, gt, config)
    with stopwatch(timings, "training"):
        forest = train_edge_rf(train_graphs, config.rf_trees, config.seed, config.rf_max_samples,
                               tree_fraction=config.rf_tree_fraction)
    with stopwatch(timings, "inference"):
        segmentations = [segment_graph(g, forest, config) for g in tqdm(test_graphs, desc="multicut", disable=not progress)]
    with stopwatch(timings, "evaluation"):
        scores = [evaluate(seg, gt, label) for seg, gt, label in zip(segmentations, test_gts, test_labels)]
    return Run(config, train_graphs, test_graphs, forest, segmentations, scores, timings)


def _label_graph(graph: GraphData, gt: np.ndarray, config: Pipeline, rag=None) -> None:
    check_pair(graph.superpixels, gt)
    rag = F.region_adjacency_graph(graph.superpixels) if rag is None else rag
    graph.cut_fraction = F.cut_fraction(rag, graph.superpixels, gt)
    graph.labels = (graph.cut_fraction > 0.5).astype(np.uint8)
    graph.confident = (graph.cut_fraction < config.label_low) | (graph.cut_fraction > config.label_high)


def mean_scores(scores: list[dict]) -> dict[str, float]:
    """Mean of each score over slices."""
    return {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}


def compare_solvers(graphs: list[GraphData], forest, gts: list[np.ndarray], membrane_labels: list[np.ndarray] | None = None,
                    config: Pipeline = Pipeline(), solvers: tuple[str, ...] = ("gaec", "kl", "fusion", "ilp"),
                    progress: bool = True) -> list[dict]:
    """One row per (test slice, method): energy, relative gap to the ILP optimum, solve time and scores, for
    every solver and the baselines (``no merges``, ``all merged``, ``best reachable`` from the superpixels)."""
    from tqdm.auto import tqdm

    membrane_labels = membrane_labels or [None] * len(graphs)
    rows = []
    for index, (graph, gt, label) in enumerate(tqdm(list(zip(graphs, gts, membrane_labels)), desc="solvers",
                                                   disable=not progress)):
        _, costs = edge_costs(graph, forest, config)
        labellings, seconds = {}, {}
        for solver in solvers:
            start = time.perf_counter()
            labellings[solver] = MC.solve_multicut(graph.n_nodes, graph.uv_ids, costs, solver, seed=config.seed)
            seconds[solver] = time.perf_counter() - start
        labellings["no merges"] = np.arange(graph.n_nodes)
        labellings["all merged"] = np.zeros(graph.n_nodes, dtype=np.int64)
        energies = {name: MC.multicut_energy(graph.uv_ids, costs, lab) for name, lab in labellings.items()}
        reference = energies.get("ilp")
        segmentations = {name: MC.node_labels_to_segmentation(graph.superpixels, lab) for name, lab in labellings.items()}
        segmentations["best reachable"] = best_reachable(graph.superpixels, gt)
        for name, seg in segmentations.items():
            energy = energies.get(name)
            gap = None if energy is None or reference is None else (energy - reference) / max(abs(reference), 1e-12)
            rows.append({"slice": index, "method": name, "energy": energy, "gap_to_ilp": gap,
                         "seconds": seconds.get(name), "n_nodes": graph.n_nodes, "n_edges": graph.n_edges,
                         "n_segments": int(len(np.unique(seg))), **evaluate(seg, gt, label)})
    return rows


def summarize(rows: list[dict], key: str = "method") -> dict[str, dict[str, float]]:
    """Mean of every numeric column per ``key`` value (None values skipped), in first-seen order."""
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r[key] for r in rows):
        group = [r for r in rows if r[key] == name]
        numeric = [k for k, v in group[0].items() if k not in (key, "slice") and isinstance(v, (int, float, np.floating))]
        out[name] = {k: float(np.mean([r[k] for r in group if r[k] is not None])) for k in numeric
                     if any(r[k] is not None for r in group)}
    return out


def run_record(result: Run, test_slices, solver_rows: list[dict] | None = None) -> dict:
    """A JSON-ready record of one pipeline run: config, stage timings, graph sizes, per-slice and mean scores
    (and, given :func:`compare_solvers` rows, every solver's and baseline's), with the real slice numbers."""
    test_slices = [int(s) for s in test_slices]
    record = {"config": result.config.as_dict(), "timings_s": result.timings, "total_s": sum(result.timings.values()),
              "graph_sizes": [{"slice": s, "nodes": g.n_nodes, "edges": g.n_edges} for s, g in zip(test_slices, result.test_graphs)],
              "pipeline_kl": {"per_slice": [{"slice": s, **sc} for s, sc in zip(test_slices, result.scores)],
                              "mean": mean_scores(result.scores)}}
    if solver_rows is not None:
        rows = [{**row, "slice": test_slices[row["slice"]]} for row in solver_rows]
        record["methods"] = {"per_slice": rows, "mean": summarize(rows)}
    return record


def load_slices(slices, crop: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISBI training slices as (raw uint8, binary membrane labels, dense ground truth), each cut to the
    top-left ``crop`` x ``crop`` pixels when ``crop`` is given (the ci profile)."""
    from .data import dense_ground_truth, load_training

    raw, labels = load_training(list(slices))
    if crop is not None:
        raw, labels = raw[:, :crop, :crop], labels[:, :crop, :crop]
    return raw, labels, dense_ground_truth(labels)
