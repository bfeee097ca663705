"""Costs and multicut solvers: the exact ILP against brute force and against the heuristics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers.data import load_training
from helpers.segmentation import boundaries, features, graph, multicut, superpixels


def partitions(items):
    """Every set partition of ``items`` (Bell(6) = 203 for six nodes)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in partitions(rest):
        for i in range(len(smaller)):
            yield smaller[:i] + [[first] + smaller[i]] + smaller[i + 1 :]
        yield [[first]] + smaller


def brute_force(n_nodes, uv_ids, costs):
    best = np.inf
    for partition in partitions(list(range(n_nodes))):
        labels = np.empty(n_nodes, dtype=int)
        for k, block in enumerate(partition):
            labels[block] = k
        best = min(best, multicut.multicut_energy(uv_ids, costs, labels))
    return best


def test_partition_enumeration_counts_bell_numbers():
    assert [sum(1 for _ in partitions(list(range(n)))) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]


@pytest.mark.parametrize("seed", range(5))
def test_ilp_equals_brute_force_on_six_nodes(seed):
    rng = np.random.default_rng(seed)
    uv_ids = np.array([(u, v) for u, v in itertools.combinations(range(6), 2) if rng.random() < 0.7])
    costs = rng.normal(0.0, 1.0, len(uv_ids))
    labels, info = multicut.solve_multicut_ilp(6, uv_ids, costs)
    assert info["optimal"]
    assert info["energy"] == pytest.approx(brute_force(6, uv_ids, costs), abs=1e-9)
    assert info["energy"] == pytest.approx(multicut.multicut_energy(uv_ids, costs, labels))


def test_ilp_needs_cycle_constraints_on_a_frustrated_triangle():
    """One repulsive and two attractive edges: without cycle inequalities the ILP would cut only the
    repulsive edge (energy -2), which no partition does; the true optimum also cuts one attractive edge."""
    uv_ids = np.array([[0, 1], [1, 2], [0, 2]])
    costs = np.array([-2.0, 1.0, 1.0])
    labels, info = multicut.solve_multicut_ilp(3, uv_ids, costs)
    assert info["constraints"] >= 1 and info["rounds"] >= 2
    assert info["energy"] == pytest.approx(-1.0)
    assert labels[0] != labels[1] and multicut.multicut_energy(uv_ids, costs, labels) == pytest.approx(-1.0)


@pytest.fixture(scope="module")
def isbi_problem():
    """A real graph: Frangi superpixels of an ISBI crop, costs from the mean boundary along each edge."""
    raw, _ = load_training([2])
    raw = raw[0, :128, :128]
    boundary = boundaries.frangi_boundary(raw)
    segments = superpixels.distance_watershed(boundary)
    rag = graph.region_adjacency_graph(segments)
    values = features.edge_features(rag, segments, raw, boundary)
    probability = np.clip(values[:, features.feature_names().index("boundary_mean")], 0.0, 1.0)
    costs = multicut.costs_from_probabilities(probability, beta=0.3)
    return int(rag.number_of_nodes), np.asarray(rag.uv_ids()), costs


def test_ilp_is_never_worse_than_the_heuristics(isbi_problem):
    n_nodes, uv_ids, costs = isbi_problem
    labels, info = multicut.solve_multicut_ilp(n_nodes, uv_ids, costs)
    assert info["optimal"]
    for solver in ("gaec", "kl", "fusion"):
        heuristic = multicut.multicut_energy(uv_ids, costs, multicut.solve_multicut(n_nodes, uv_ids, costs, solver))
        assert info["energy"] <= heuristic + 1e-9, solver
    gaec = multicut.multicut_energy(uv_ids, costs, multicut.solve_gaec(n_nodes, uv_ids, costs))
    kl = multicut.multicut_energy(uv_ids, costs, multicut.solve_kernighan_lin(n_nodes, uv_ids, costs))
    assert kl <= gaec + 1e-9
    assert info["energy"] < 0  # something is worth cutting


def test_solvers_are_deterministic(isbi_problem):
    n_nodes, uv_ids, costs = isbi_problem
    for solver in ("gaec", "kl", "fusion"):
        first = multicut.solve_multicut(n_nodes, uv_ids, costs, solver, seed=3)
        second = multicut.solve_multicut(n_nodes, uv_ids, costs, solver, seed=3)
        assert np.array_equal(first, second), solver


def test_costs_from_probabilities():
    p = np.array([0.1, 0.5, 0.9])
    costs = multicut.costs_from_probabilities(p, beta=0.5)
    assert costs[1] == pytest.approx(0.0, abs=1e-9)
    assert costs[0] == pytest.approx(-costs[2]) and costs[0] > 0  # unlikely boundary: attractive
    assert np.all(multicut.costs_from_probabilities(p, beta=0.7) < costs)  # more boundary bias: cheaper cuts
    assert np.isfinite(multicut.costs_from_probabilities(np.array([0.0, 1.0]))).all()
    with pytest.raises(ValueError, match="beta"):
        multicut.costs_from_probabilities(p, beta=1.0)


def test_segmentation_from_node_labels_starts_at_one():
    superpixels = np.array([[0, 0, 1], [2, 2, 1]])
    seg = multicut.node_labels_to_segmentation(superpixels, np.array([5, 5, 9]))
    assert seg.tolist() == [[1, 1, 1], [2, 2, 1]]


def test_bad_problems_raise():
    with pytest.raises(ValueError, match="unknown multicut solver"):
        multicut.solve_multicut(2, np.array([[0, 1]]), np.array([1.0]), "cplex")
    with pytest.raises(ValueError, match="one cost per edge"):
        multicut.solve_gaec(3, np.array([[0, 1], [1, 2]]), np.array([1.0]))
    with pytest.raises(ValueError, match="nodes"):
        multicut.solve_gaec(2, np.array([[0, 5]]), np.array([1.0]))
