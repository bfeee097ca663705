"""Edge costs and minimum-cost multicut solvers (report section 2.2, equation 6).

Costs (nifty/elf convention): ``c_e = log((1 - p_e) / p_e) + log((1 - beta) / beta)`` with ``p_e`` the probability
that edge ``e`` is a true boundary; positive = attractive, and the multicut minimises the summed cost of the *cut*
edges. A larger ``beta`` makes cutting cheaper: more, smaller segments. Solvers (:data:`SOLVERS`): GAEC,
Kernighan-Lin and fusion moves (bioimage-cpp), and an exact ILP solved by HiGHS (:func:`solve_multicut_ilp`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import bioimage_cpp
import numpy as np
from elf.segmentation.multicut import transform_probabilities_to_costs
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .checks import known_name

MULTICUT = bioimage_cpp.graph.multicut


def costs_from_probabilities(probabilities: np.ndarray, beta: float = 0.5) -> np.ndarray:
    """Multicut edge costs ``log((1-p)/p) + log((1-beta)/beta)`` (elf).

    Args:
        probabilities: (n_edges,) boundary probabilities in [0, 1] (rescaled into [0.001, 0.999]: finite costs).
        beta: the boundary bias, strictly between 0 and 1.

    Returns:
        (n_edges,) float64 costs, positive = attractive.

    Raises:
        ValueError: for ``beta`` outside (0, 1) or probabilities outside [0, 1].
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must lie strictly between 0 and 1, got {beta}")
    if probabilities.size and (probabilities.min() < 0.0 or probabilities.max() > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    return transform_probabilities_to_costs(probabilities.copy(), beta=beta)


def _objective(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray) -> MULTICUT.MulticutObjective:
    uv_ids = np.asarray(uv_ids, dtype=np.uint64)
    costs = np.asarray(costs, dtype=np.float64)
    if uv_ids.ndim != 2 or uv_ids.shape[1] != 2 or len(uv_ids) != len(costs):
        raise ValueError(
            f"need uv_ids of shape (n_edges, 2) and one cost per edge, got {uv_ids.shape} and {costs.shape}"
        )
    if len(uv_ids) and int(uv_ids.max()) >= n_nodes:
        raise ValueError(f"uv_ids refer to node {int(uv_ids.max())} but the graph has {n_nodes} nodes")
    graph = bioimage_cpp.graph.UndirectedGraph.from_edges(int(n_nodes), uv_ids)
    return MULTICUT.MulticutObjective(graph, costs)


def _solve_chain(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, solvers: list) -> np.ndarray:
    solver = solvers[0] if len(solvers) == 1 else MULTICUT.ChainedMulticutSolvers(solvers)
    return np.asarray(solver.optimize(_objective(n_nodes, uv_ids, costs)), dtype=np.int64)


def solve_gaec(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Greedy additive edge contraction (bioimage-cpp); arguments, result and errors as :func:`solve_multicut`."""
    return _solve_chain(n_nodes, uv_ids, costs, [MULTICUT.GreedyAdditiveMulticut()])


def solve_kernighan_lin(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Kernighan-Lin local search from the GAEC solution (bioimage-cpp); as :func:`solve_gaec`."""
    return _solve_chain(n_nodes, uv_ids, costs, [MULTICUT.GreedyAdditiveMulticut(), MULTICUT.KernighanLinMulticut()])


def solve_fusion_moves(
    n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, seed: int = 0, iterations: int = 100, stop_after: int = 10
) -> np.ndarray:
    """Fusion moves (watershed proposals fused by a KL sub-solver, bioimage-cpp) from GAEC + KL; (n_nodes,) node labels.

    Built from bioimage-cpp's classes rather than elf's ``multicut_fusion_moves`` so the seed reaches the proposals.

    Args:
        n_nodes: number of nodes.
        uv_ids: (n_edges, 2) node pairs.
        costs: (n_edges,) edge costs.
        seed: seed of the proposal generator.
        iterations: most fusion rounds.
        stop_after: stop after this many rounds without improvement.

    Raises:
        ValueError: when ``uv_ids`` and ``costs`` are no graph of ``n_nodes`` nodes.
    """
    fusion = MULTICUT.FusionMoveMulticut(
        proposal_generator=MULTICUT.WatershedProposalGenerator(sigma=1.0, n_seeds_fraction=0.1, seed=seed),
        sub_solver=MULTICUT.KernighanLinMulticut(),
        number_of_iterations=iterations,
        stop_if_no_improvement=stop_after,
        number_of_threads=1,
    )
    return _solve_chain(
        n_nodes, uv_ids, costs, [MULTICUT.GreedyAdditiveMulticut(), MULTICUT.KernighanLinMulticut(), fusion]
    )


def multicut_energy(uv_ids: np.ndarray, costs: np.ndarray, node_labels: np.ndarray) -> float:
    """Multicut objective of ``node_labels``: the summed ``costs`` of edges ``uv_ids`` whose nodes differ in label."""
    uv_ids = np.asarray(uv_ids)
    node_labels = np.asarray(node_labels)
    cut = node_labels[uv_ids[:, 0]] != node_labels[uv_ids[:, 1]]
    return float(np.sum(np.asarray(costs, dtype=np.float64)[cut]))


def _cycle_constraints(
    uv_ids: np.ndarray, graph: sparse.csr_matrix, violated: np.ndarray, edge_id: dict[tuple[int, int], int]
) -> list[list[int]]:
    """For each violated edge, the edges of the shortest path of uncut edges between its two nodes."""
    by_source: dict[int, list[int]] = {}
    for edge in violated:
        by_source.setdefault(int(uv_ids[edge, 0]), []).append(int(edge))
    paths = []
    for source, edges in by_source.items():
        _, predecessors = breadth_first_order(graph, source, directed=False, return_predecessors=True)
        for edge in edges:
            node, path = int(uv_ids[edge, 1]), []
            while node != source:
                previous = int(predecessors[node])
                path.append(edge_id[(previous, node)])
                node = previous
            paths.append([edge, *path])
    return paths


def solve_multicut_ilp(
    n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, time_limit: float | None = None, max_rounds: int = 200
) -> tuple[np.ndarray, dict]:
    """Exact multicut: an integer linear program with lazily added cycle inequalities, solved by HiGHS.

    Written by hand because elf's ``multicut_ilp`` needs nifty built with CPLEX/Gurobi/GLPK (not on PyPI). Each round
    solves the ILP (``x_e`` = 1: cut) with the constraints so far, then adds ``x_uv <= sum of x over the shortest uncut
    path`` for every cut edge whose nodes are still joined; with none violated, the multicut is valid and optimal.

    Args:
        n_nodes: number of nodes.
        uv_ids: (n_edges, 2) node pairs.
        costs: (n_edges,) edge costs.
        time_limit: seconds for all rounds together (None: no limit).
        max_rounds: most rounds of adding constraints.

    Returns:
        ``(node labels, info)``; info: ``energy``, ``rounds``, ``constraints``, proven ``optimal``, ``solver_s``.

    Raises:
        RuntimeError: when HiGHS finds no solution.
    """
    start = time.perf_counter()
    uv_ids = np.asarray(uv_ids, dtype=np.int64)
    costs = np.asarray(costs, dtype=np.float64)
    n_edges = len(uv_ids)
    edge_id = {(int(first), int(second)): index for index, (first, second) in enumerate(uv_ids)}
    edge_id.update({(second, first): index for (first, second), index in list(edge_id.items())})
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    n_constraints = 0
    labels = np.arange(n_nodes)
    optimal = False
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        options = {"mip_rel_gap": 0.0, "presolve": True}
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - start)
            if remaining <= 0:
                break
            options["time_limit"] = remaining
        constraints = []
        if n_constraints:
            matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n_constraints, n_edges))
            constraints = [LinearConstraint(matrix, -np.inf, 0.0)]
        result = milp(
            costs, integrality=np.ones(n_edges), bounds=Bounds(0, 1), constraints=constraints, options=options
        )
        if result.x is None:
            raise RuntimeError(f"HiGHS found no solution in round {rounds}: {result.message}")
        cut = np.round(result.x).astype(bool)
        joined = ~cut
        graph = sparse.csr_matrix(
            (
                np.ones(2 * joined.sum()),
                (np.r_[uv_ids[joined, 0], uv_ids[joined, 1]], np.r_[uv_ids[joined, 1], uv_ids[joined, 0]]),
            ),
            shape=(n_nodes, n_nodes),
        )
        _, labels = connected_components(graph, directed=False)
        violated = np.flatnonzero(cut & (labels[uv_ids[:, 0]] == labels[uv_ids[:, 1]]))
        if len(violated) == 0:
            optimal = result.status == 0
            break
        for path in _cycle_constraints(uv_ids, graph, violated, edge_id):
            rows += [n_constraints] * len(path)
            cols += path
            vals += [1.0] + [-1.0] * (len(path) - 1)
            n_constraints += 1
    info = {
        "energy": multicut_energy(uv_ids, costs, labels),
        "rounds": rounds,
        "constraints": n_constraints,
        "optimal": bool(optimal),
        "solver_s": time.perf_counter() - start,
    }
    return labels.astype(np.int64), info


SOLVERS: dict[str, Callable[[int, np.ndarray, np.ndarray, int], np.ndarray]] = {
    "gaec": lambda n_nodes, uv_ids, costs, seed: solve_gaec(n_nodes, uv_ids, costs),
    "kl": lambda n_nodes, uv_ids, costs, seed: solve_kernighan_lin(n_nodes, uv_ids, costs),
    "fusion": lambda n_nodes, uv_ids, costs, seed: solve_fusion_moves(n_nodes, uv_ids, costs, seed=seed),
    "ilp": lambda n_nodes, uv_ids, costs, seed: solve_multicut_ilp(n_nodes, uv_ids, costs)[0],
}  # every solver as (n_nodes, uv_ids, costs, seed) -> node labels; only fusion moves use the seed


def solve_multicut(
    n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, solver: str = "kl", seed: int = 0
) -> np.ndarray:
    """Node labels of a multicut by the solver named ``solver``.

    Args:
        n_nodes: number of nodes.
        uv_ids: (n_edges, 2) node pairs.
        costs: (n_edges,) edge costs.
        solver: ``gaec``, ``kl`` (Kernighan-Lin), ``fusion`` or ``ilp`` (exact).
        seed: seed of the solvers that use one (fusion moves).

    Returns:
        (n_nodes,) node labels.

    Raises:
        ValueError: for an unknown solver, or ``uv_ids`` and ``costs`` that are no graph of ``n_nodes`` nodes.
    """
    return SOLVERS[known_name(solver, SOLVERS, "multicut solver")](n_nodes, uv_ids, costs, seed)


def node_labels_to_segmentation(superpixels: np.ndarray, node_labels: np.ndarray) -> np.ndarray:
    """uint32 pixel segment ids consecutive from 1 (0 unused, as the ISBI metrics need) from per-superpixel labels.

    Args:
        superpixels: 2D ids consecutive from 0.
        node_labels: one label per superpixel.
    """
    _, compact = np.unique(np.asarray(node_labels), return_inverse=True)
    return (compact.astype(np.uint32) + 1)[np.asarray(superpixels)]
