"""Edge costs and minimum-cost multicut solvers (report section 2.2, equation 6).

Costs follow the usual convention (nifty, elf, bioimage-cpp): ``c_e = log((1 - p_e) / p_e) + log((1 - beta) /
beta)``, where ``p_e`` is the probability that edge ``e`` is a true boundary; positive costs are attractive
(cutting them is expensive), and the multicut minimises the sum of the costs of the *cut* edges. A larger
``beta`` (boundary bias) makes cutting cheaper and gives more, smaller segments.

Solvers: greedy additive edge contraction (GAEC), Kernighan-Lin (warm-started by GAEC) and fusion moves
(warm-started by KL), all from bioimage-cpp; and an exact integer linear program with lazily added cycle
inequalities, solved by HiGHS through :func:`scipy.optimize.milp` (:func:`solve_multicut_ilp`).
"""

from __future__ import annotations

import time

import numpy as np

SOLVERS = ("gaec", "kl", "fusion", "ilp")


def costs_from_probabilities(
    probabilities: np.ndarray,
    beta: float = 0.5,
    edge_sizes: np.ndarray | None = None,
    weighting_exponent: float = 1.0,
) -> np.ndarray:
    """Multicut edge costs ``log((1-p)/p) + log((1-beta)/beta)`` (elf), optionally weighted by edge length
    (``edge_sizes / max(edge_sizes)`` to the power ``weighting_exponent``). Probabilities are clipped to
    [0.001, 0.999] so the costs stay finite."""
    from elf.segmentation.multicut import transform_probabilities_to_costs

    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must lie strictly between 0 and 1, got {beta}")
    if probabilities.size and (probabilities.min() < 0.0 or probabilities.max() > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    sizes = None if edge_sizes is None else np.asarray(edge_sizes, dtype=np.float64)
    return transform_probabilities_to_costs(
        probabilities.copy(), beta=beta, edge_sizes=sizes, weighting_exponent=weighting_exponent
    )


def multicut_energy(uv_ids: np.ndarray, costs: np.ndarray, node_labels: np.ndarray) -> float:
    """Sum of the costs of the cut edges (edges whose two nodes carry different labels)."""
    uv_ids = np.asarray(uv_ids)
    node_labels = np.asarray(node_labels)
    cut = node_labels[uv_ids[:, 0]] != node_labels[uv_ids[:, 1]]
    return float(np.sum(np.asarray(costs, dtype=np.float64)[cut]))


def _objective(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray):
    import bioimage_cpp as bic

    uv_ids = np.asarray(uv_ids, dtype=np.uint64)
    costs = np.asarray(costs, dtype=np.float64)
    if uv_ids.ndim != 2 or uv_ids.shape[1] != 2 or len(uv_ids) != len(costs):
        raise ValueError(f"need uv_ids of shape (n_edges, 2) and one cost per edge, got {uv_ids.shape} and {costs.shape}")
    if len(uv_ids) and int(uv_ids.max()) >= n_nodes:
        raise ValueError(f"uv_ids refer to node {int(uv_ids.max())} but the graph has {n_nodes} nodes")
    graph = bic.graph.UndirectedGraph.from_edges(int(n_nodes), uv_ids)
    return bic.graph.multicut.MulticutObjective(graph, costs)


def solve_gaec(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Greedy additive edge contraction (bioimage-cpp): node labels."""
    import bioimage_cpp as bic

    objective = _objective(n_nodes, uv_ids, costs)
    return np.asarray(bic.graph.multicut.GreedyAdditiveMulticut().optimize(objective), dtype=np.int64)


def solve_kernighan_lin(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Kernighan-Lin local search started from the GAEC solution (bioimage-cpp): node labels."""
    import bioimage_cpp as bic

    mc = bic.graph.multicut
    objective = _objective(n_nodes, uv_ids, costs)
    solver = mc.ChainedMulticutSolvers([mc.GreedyAdditiveMulticut(), mc.KernighanLinMulticut()])
    return np.asarray(solver.optimize(objective), dtype=np.int64)


def solve_fusion_moves(
    n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, seed: int = 0, iterations: int = 100, stop_after: int = 10
) -> np.ndarray:
    """Fusion moves (watershed proposals fused by a KL sub-solver, bioimage-cpp), started from GAEC + KL.

    Built from bioimage-cpp's classes directly rather than through elf's ``multicut_fusion_moves``, so that the
    proposal generator, the sub-solver and the warm start are explicit here (and the seed reaches the proposals)."""
    import bioimage_cpp as bic

    mc = bic.graph.multicut
    objective = _objective(n_nodes, uv_ids, costs)
    fusion = mc.FusionMoveMulticut(
        proposal_generator=mc.WatershedProposalGenerator(sigma=1.0, n_seeds_fraction=0.1, seed=seed),
        sub_solver=mc.KernighanLinMulticut(),
        number_of_iterations=iterations,
        stop_if_no_improvement=stop_after,
        number_of_threads=1,
    )
    solver = mc.ChainedMulticutSolvers([mc.GreedyAdditiveMulticut(), mc.KernighanLinMulticut(), fusion])
    return np.asarray(solver.optimize(objective), dtype=np.int64)


def solve_multicut_ilp(
    n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, time_limit: float | None = None, max_rounds: int = 200
) -> tuple[np.ndarray, dict]:
    """Exact multicut: integer linear program over edge variables ``x_e`` (1 = cut) with cycle inequalities
    added lazily (cutting planes), solved by HiGHS via :func:`scipy.optimize.milp`.

    Written by hand because elf's ``multicut_ilp`` needs nifty built with CPLEX/Gurobi/GLPK, which is not on
    PyPI. Each round solves the ILP with the cycle constraints found so far; then, for every cut edge whose
    two nodes are still joined by a path of uncut edges, the inequality ``x_uv <= sum of x over that
    (shortest) path`` is added. When no inequality is violated the labelling is a valid multicut and, as
    every added constraint is valid, optimal. Returns ``(node labels, info)`` with the energy (the optimum),
    the number of rounds and constraints, whether it is proven optimal, and the time taken.
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    start = time.perf_counter()
    uv = np.asarray(uv_ids, dtype=np.int64)
    c = np.asarray(costs, dtype=np.float64)
    n_edges = len(uv)
    edge_id = {(int(a), int(b)): i for i, (a, b) in enumerate(uv)}
    edge_id.update({(b, a): i for (a, b), i in list(edge_id.items())})
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
        result = milp(c, integrality=np.ones(n_edges), bounds=Bounds(0, 1), constraints=constraints, options=options)
        if result.x is None:
            raise RuntimeError(f"HiGHS found no solution in round {rounds}: {result.message}")
        x = np.round(result.x).astype(bool)
        joined = ~x
        graph = sparse.csr_matrix(
            (np.ones(2 * joined.sum()), (np.r_[uv[joined, 0], uv[joined, 1]], np.r_[uv[joined, 1], uv[joined, 0]])),
            shape=(n_nodes, n_nodes),
        )
        _, labels = connected_components(graph, directed=False)
        violated = np.flatnonzero(x & (labels[uv[:, 0]] == labels[uv[:, 1]]))
        if len(violated) == 0:
            optimal = result.status == 0
            break
        by_source: dict[int, list[int]] = {}
        for e in violated:
            by_source.setdefault(int(uv[e, 0]), []).append(int(e))
        for source, edges in by_source.items():
            _, predecessors = breadth_first_order(graph, source, directed=False, return_predecessors=True)
            for e in edges:
                node, path = int(uv[e, 1]), []
                while node != source:
                    previous = int(predecessors[node])
                    path.append(edge_id[(previous, node)])
                    node = previous
                rows += [n_constraints] * (len(path) + 1)
                cols += [int(e)] + path
                vals += [1.0] + [-1.0] * len(path)
                n_constraints += 1
    info = {
        "energy": multicut_energy(uv, c, labels),
        "rounds": rounds,
        "constraints": n_constraints,
        "optimal": bool(optimal),
        "seconds": time.perf_counter() - start,
    }
    return labels.astype(np.int64), info


def solve_multicut(n_nodes: int, uv_ids: np.ndarray, costs: np.ndarray, solver: str = "kl", seed: int = 0) -> np.ndarray:
    """Node labels of a multicut by ``solver``: ``gaec``, ``kl`` (Kernighan-Lin), ``fusion`` or ``ilp`` (exact)."""
    if solver == "gaec":
        return solve_gaec(n_nodes, uv_ids, costs)
    if solver == "kl":
        return solve_kernighan_lin(n_nodes, uv_ids, costs)
    if solver == "fusion":
        return solve_fusion_moves(n_nodes, uv_ids, costs, seed=seed)
    if solver == "ilp":
        return solve_multicut_ilp(n_nodes, uv_ids, costs)[0]
    raise ValueError(f"unknown multicut solver {solver!r}: choose one of {SOLVERS}")


def node_labels_to_segmentation(superpixels: np.ndarray, node_labels: np.ndarray) -> np.ndarray:
    """Pixel segmentation from per-superpixel labels, relabelled consecutively from 1 (uint32; 0 stays unused,
    which the ISBI metrics need)."""
    _, compact = np.unique(np.asarray(node_labels), return_inverse=True)
    return (compact.astype(np.uint32) + 1)[np.asarray(superpixels)]
