"""Solvers and baselines side by side, the goals they are held to, and chapter 05's results file.

Each test slice is solved by every multicut solver and compared with the trivial labellings (no merges, all merged)
and the best segmentation the superpixels allow (a perfect edge classifier: the approach's upper bound).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import bioimage_cpp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import checks
from ..config import Config
from ..data import check_pair
from ..paths import atomic_write_text
from .graph import region_adjacency_graph
from .metrics import evaluate, mean_scores
from .multicut import SOLVERS, multicut_energy, node_labels_to_segmentation, solve_multicut
from .pipeline import Run, edge_costs

RELATIVE_GAP_FLOOR = 1e-12  # guards the relative gap to an optimum of (almost) zero energy
ILP_GAP_GOAL = 0.005  # the heuristics should land within 0.5% of the exact optimum
RAND_ERROR_GOAL, VI_GOAL = 0.13, 0.95  # the pixel-classifier pipeline's goals in the full profile
RESULTS_FILE = "segmentation_baseline.json"
SOLVER_MEASURES = [  # the rows of :func:`solver_table`, in order
    "energy",
    "gap_to_ilp",
    "solver_s",
    "n_segments",
    "rand_error",
    "vi",
    "vi_split",
    "vi_merge",
    "v_rand",
    "v_info",
]
METRICS_NOTE = (
    "rand_error: adapted Rand error (scikit-image); vi = vi_split + vi_merge in bits (elf); "
    "v_rand, v_info: ISBI 2012 foreground-restricted scores"
)


def best_reachable(superpixels: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The best segmentation the superpixels allow (uint32 ids from 1): each takes the gt cell it overlaps most.

    Args:
        superpixels: 2D ids consecutive from 0.
        gt: the dense ground truth of the same slice.

    Raises:
        ValueError: when the two differ in shape.
    """
    check_pair(superpixels, gt, what="ground-truth")
    rag = region_adjacency_graph(superpixels)
    majority = bioimage_cpp.graph.features.accumulate_labels(rag, superpixels, np.asarray(gt).astype(np.uint32))
    return node_labels_to_segmentation(superpixels, majority)


def trivial_labellings(n_nodes: int) -> dict[str, np.ndarray]:
    """``{"no merges": each node its own label, "all merged": one label}`` for a graph of ``n_nodes`` nodes."""
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
        result: the run (:func:`.pipeline.run`): its test graphs, edge forest and settings.
        gts: the test slices' dense ground truth.
        membrane_labels: their binary membrane labels (adds the ISBI scores; None: without them).
        solvers: names of :data:`.multicut.SOLVERS`; with ``ilp`` the gap to its optimum is reported.
        progress: show a progress bar.

    Returns:
        One row per (slice index, method): energy, relative gap to the ILP, solve time (None where they do not
        apply), graph and segment counts and :func:`.metrics.evaluate`'s scores.

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
    """``{method: {column: mean}}`` of the numeric columns of :func:`compare_solvers` ``rows`` (None skipped)."""
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
        ``config``, ``settings_digest``, stage timings, graph sizes, per-slice and mean scores (``pipeline_kl``)
        and, given ``solver_rows``, every solver's and baseline's (``methods``).

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


def write_results(config: Config, runs: Mapping[str, Run], solver_rows: Mapping[str, list[dict]]) -> Path:
    """Write chapter 05's results file: profile, split, machine and every pipeline's :func:`run_record`.

    Args:
        config: the run's configuration.
        runs: :func:`.pipeline.run` results by pipeline name.
        solver_rows: :func:`compare_solvers` rows by pipeline name (missing: no ``methods``).

    Returns:
        The path of ``segmentation_baseline.json`` in the profile's results folder.
    """
    work = config.segmentation
    results = {
        "profile": config.as_dict(),
        "train_slices": list(work.train_slices),
        "test_slices": list(work.test_slices),
        "metrics": METRICS_NOTE,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "pipelines": {name: run_record(run, work.test_slices, solver_rows.get(name)) for name, run in runs.items()},
    }
    path = config.result_path(RESULTS_FILE)
    atomic_write_text(path, json.dumps(results, indent=1, default=float))
    return path


def goals(runs: Mapping[str, Run], solver_rows: Mapping[str, list[dict]]) -> dict[str, dict]:
    """Whether each pipeline's Kernighan-Lin segmentation beats the trivial baselines, and the solvers' gaps.

    Args:
        runs: :func:`.pipeline.run` results by pipeline name (for the pipeline's time).
        solver_rows: :func:`compare_solvers` rows by pipeline name, each with ``kl`` among its methods.

    Returns:
        Per pipeline: KL's ``rand_error`` and ``vi``; ``beats no merges``/``beats all merged`` (lower Rand error and
        VI); ``heuristics near ILP`` (all within :data:`ILP_GAP_GOAL`; None without ILP); ``within goals``
        (:data:`RAND_ERROR_GOAL`, :data:`VI_GOAL`); ``pipeline_s``.
    """
    table = {}
    for name, rows in solver_rows.items():
        means = mean_per_method(rows)
        kl = means["kl"]
        heuristics = [method for method, row in means.items() if "solver_s" in row and method != "ilp"]
        table[name] = {
            "rand_error": kl["rand_error"],
            "vi": kl["vi"],
            **{
                f"beats {baseline}": kl["rand_error"] < means[baseline]["rand_error"]
                and kl["vi"] < means[baseline]["vi"]
                for baseline in ("no merges", "all merged")
            },
            "heuristics near ILP": max(means[s]["gap_to_ilp"] for s in heuristics) <= ILP_GAP_GOAL
            if "ilp" in means
            else None,
            "within goals": kl["rand_error"] <= RAND_ERROR_GOAL and kl["vi"] <= VI_GOAL,
            "pipeline_s": sum(runs[name].timings.values()),
        }
    return table


def goals_table(runs: Mapping[str, Run], solver_rows: Mapping[str, list[dict]]) -> pd.DataFrame:
    """:func:`goals` as text to show: one column per pipeline, one row per goal, numbers to 3 significant digits."""
    names = {
        "rand_error": "adapted Rand error (KL)",
        "vi": "VI (KL), bits",
        "beats no merges": "beats 'no merges'",
        "beats all merged": "beats 'all merged'",
        "heuristics near ILP": f"heuristics within {ILP_GAP_GOAL:.1%} of the ILP",
        "within goals": f"Rand error <= {RAND_ERROR_GOAL}, VI <= {VI_GOAL}",
        "pipeline_s": "whole pipeline (s)",
    }

    def text(value: object) -> str:
        if value is None:
            return "no ILP run"
        return ("yes" if value else "no") if isinstance(value, bool | np.bool_) else f"{value:.3g}"

    table = goals(runs, solver_rows)
    return pd.DataFrame({name: {names[key]: text(value) for key, value in row.items()} for name, row in table.items()})


def solver_table(means: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Means of :func:`mean_per_method` as text: one column per method, one row per measure ("-": not applicable)."""
    measures = [measure for measure in SOLVER_MEASURES if any(measure in row for row in means.values())]
    return pd.DataFrame(
        {
            method: [f"{round(row[m], 12) + 0.0:.3g}" if m in row else "-" for m in measures]
            for method, row in means.items()
        },
        index=measures,
    )
