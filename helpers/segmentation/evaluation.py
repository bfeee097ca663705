"""Solvers and baselines side by side, and the JSON record of a pipeline run (chapter 05's results file).

Every test slice is solved by each multicut solver and compared with the trivial labellings (every superpixel its
own cell, everything one cell) and with the best segmentation the superpixels allow (each superpixel given the
ground-truth cell it overlaps most: a perfect edge classifier, the upper bound of the approach).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import bioimage_cpp
import numpy as np
from tqdm.auto import tqdm

from .. import checks
from ..data import check_pair
from .graph import region_adjacency_graph
from .metrics import evaluate, mean_scores
from .multicut import SOLVERS, multicut_energy, node_labels_to_segmentation, solve_multicut
from .pipeline import Run, edge_costs

RELATIVE_GAP_FLOOR = 1e-12  # guards the relative gap to an optimum of (almost) zero energy


def best_reachable(superpixels: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The best segmentation the superpixels allow: each takes the ground-truth cell it overlaps most.

    Args:
        superpixels: 2D ids consecutive from 0.
        gt: the dense ground truth of the same slice.

    Returns:
        uint32 segment ids from 1 (bioimage-cpp's majority vote per superpixel).

    Raises:
        ValueError: when the two differ in shape.
    """
    check_pair(superpixels, gt, what="ground-truth")
    rag = region_adjacency_graph(superpixels)
    majority = bioimage_cpp.graph.features.accumulate_labels(rag, superpixels, np.asarray(gt).astype(np.uint32))
    return node_labels_to_segmentation(superpixels, majority)


def trivial_labellings(n_nodes: int) -> dict[str, np.ndarray]:
    """The two trivial node labellings of a graph: ``no merges`` and ``all merged``.

    Args:
        n_nodes: number of nodes (superpixels).

    Returns:
        ``{"no merges": every node its own label, "all merged": one label for all}``; turn them into pixels
        with :func:`.multicut.node_labels_to_segmentation`.
    """
    return {"no merges": np.arange(n_nodes), "all merged": np.zeros(n_nodes, dtype=np.int64)}


def compare_solvers(
    result: Run,
    gts: list[np.ndarray],
    membrane_labels: list[np.ndarray] | None = None,
    solvers: Sequence[str] = tuple(SOLVERS),
    progress: bool = True,
) -> list[dict]:
    """Every solver, the trivial labellings and the best reachable segmentation on every test slice of a run.

    Args:
        result: the run (:func:`.pipeline.run`): its test graphs, edge forest and settings (costs, seed).
        gts: the test slices' dense ground truth.
        membrane_labels: their binary membrane labels (adds the ISBI scores; None: without them).
        solvers: names of :data:`.multicut.SOLVERS` to run; with ``ilp`` the gap to its optimum is reported.
        progress: show a progress bar.

    Returns:
        One row per (slice index, method): energy, relative gap to the ILP optimum, solve time, graph and
        segment counts and the scores of :func:`.metrics.evaluate` (energy, gap and time None where they do not
        apply).

    Raises:
        ValueError: when ``gts`` or ``membrane_labels`` are not one per test slice of the run.
    """
    graphs, settings = result.test_graphs, result.settings
    checks.same_lengths("the run's test graphs", graphs, "gts", gts)
    if membrane_labels is not None:
        checks.same_lengths("the run's test graphs", graphs, "membrane_labels", membrane_labels)
    membrane_labels = membrane_labels or [None] * len(graphs)
    problems = tqdm(list(zip(graphs, gts, membrane_labels)), desc="solvers", disable=not progress)
    rows = []
    for index, (graph, gt, labels) in enumerate(problems):
        _, costs = edge_costs(graph, result.forest, settings)
        labellings, seconds = {}, {}
        for solver in solvers:
            start = time.perf_counter()
            labellings[solver] = solve_multicut(graph.n_nodes, graph.uv_ids, costs, solver, seed=settings.seed)
            seconds[solver] = time.perf_counter() - start
        labellings.update(trivial_labellings(graph.n_nodes))
        energies = {name: multicut_energy(graph.uv_ids, costs, labelling) for name, labelling in labellings.items()}
        optimum = energies.get("ilp")
        segmentations = {
            name: node_labels_to_segmentation(graph.superpixels, labelling) for name, labelling in labellings.items()
        }
        segmentations["best reachable"] = best_reachable(graph.superpixels, gt)
        for name, segmentation in segmentations.items():
            energy = energies.get(name)
            gap = None
            if energy is not None and optimum is not None:
                gap = (energy - optimum) / max(abs(optimum), RELATIVE_GAP_FLOOR)
            rows.append(
                {
                    "slice": index,
                    "method": name,
                    "energy": energy,
                    "gap_to_ilp": gap,
                    "solver_s": seconds.get(name),
                    "n_nodes": graph.n_nodes,
                    "n_edges": graph.n_edges,
                    "n_segments": int(len(np.unique(segmentation))),
                    **evaluate(segmentation, gt, labels),
                }
            )
    return rows


def mean_per_method(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Mean of every numeric column of :func:`compare_solvers` rows per method (None values skipped).

    Args:
        rows: the rows.

    Returns:
        ``{method: {column: mean}}`` in the methods' first-seen order.
    """
    means: dict[str, dict[str, float]] = {}
    for method in dict.fromkeys(row["method"] for row in rows):
        group = [row for row in rows if row["method"] == method]
        numeric = [
            key
            for key, value in group[0].items()
            if key not in ("method", "slice") and isinstance(value, int | float | np.floating)
        ]
        means[method] = {
            key: float(np.mean([row[key] for row in group if row[key] is not None]))
            for key in numeric
            if any(row[key] is not None for row in group)
        }
    return means


def run_record(result: Run, test_slices: Sequence[int], solver_rows: list[dict] | None = None) -> dict:
    """A JSON-ready record of one pipeline run, with the real slice numbers.

    Args:
        result: the run (:func:`.pipeline.run`).
        test_slices: the slice number of each test slice.
        solver_rows: :func:`compare_solvers` rows of the same run (None: not recorded).

    Returns:
        Settings (as ``config``, with their digest as ``settings_digest``), stage timings, graph sizes, the
        run's per-slice and mean scores (``pipeline_kl``) and, given ``solver_rows``, every solver's and
        baseline's (``methods``).

    Raises:
        ValueError: when ``test_slices`` are not one whole number per test slice of the run.
    """
    test_slices = list(checks.integers(test_slices, "test_slices", 0, unique=False))
    checks.same_lengths("the run's scores", result.scores, "test_slices", test_slices)
    record = {
        "config": result.settings.as_dict(),
        "settings_digest": result.settings.digest(),
        "timings_s": result.timings,
        "total_s": sum(result.timings.values()),
        "graph_sizes": [
            {"slice": number, "nodes": graph.n_nodes, "edges": graph.n_edges}
            for number, graph in zip(test_slices, result.test_graphs)
        ],
        "pipeline_kl": {
            "per_slice": [{"slice": number, **scores} for number, scores in zip(test_slices, result.scores)],
            "mean": mean_scores(result.scores),
        },
    }
    if solver_rows is not None:
        rows = [{**row, "slice": test_slices[row["slice"]]} for row in solver_rows]
        record["methods"] = {"per_slice": rows, "mean": mean_per_method(rows)}
    return record
