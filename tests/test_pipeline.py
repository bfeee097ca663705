"""End-to-end pipeline on small real ISBI crops: determinism, better than trivial, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import dense_ground_truth, load_training
from helpers.segmentation import boundaries, evaluation, metrics, multicut, pipeline
from helpers.viz import widgets

CROP = 128


@pytest.fixture(scope="module")
def slices():
    raw, labels = load_training([0, 1, 2, 24])
    return raw[:, :CROP, :CROP], labels[:, :CROP, :CROP]


@pytest.fixture(scope="module")
def frangi_runs(slices):
    raw, labels = slices
    settings = pipeline.PipelineSettings(boundary="frangi", rf_trees=20, seed=0)
    return [pipeline.run(raw[:3], labels[:3], raw[3:], labels[3:], settings, progress=False) for _ in range(2)]


def test_same_seed_same_numbers(frangi_runs):
    first, second = frangi_runs
    assert np.array_equal(first.segmentations[0], second.segmentations[0])
    assert first.scores == second.scores
    assert set(first.timings) >= {"boundary maps", "superpixels + features", "training", "inference"}


def test_pipeline_beats_trivial_baselines_and_not_the_upper_bound(frangi_runs, slices):
    _, labels = slices
    result = frangi_runs[0]
    gt = dense_ground_truth(labels[3])
    scores = result.scores[0]
    graph = result.test_graphs[0]
    for name, node_labels in evaluation.trivial_labellings(graph.n_nodes).items():
        trivial = metrics.evaluate(multicut.node_labels_to_segmentation(graph.superpixels, node_labels), gt)
        assert scores["rand_error"] < trivial["rand_error"], name
        assert scores["vi"] < trivial["vi"], name
    best = metrics.evaluate(evaluation.best_reachable(graph.superpixels, gt), gt)
    assert best["rand_error"] <= scores["rand_error"] + 1e-9
    assert 0.0 < scores["v_rand"] <= 1.0


def test_solver_comparison_and_run_record(frangi_runs, slices):
    _, labels = slices
    result = frangi_runs[0]
    rows = evaluation.compare_solvers(result, [dense_ground_truth(labels[3])], [labels[3]], progress=False)
    methods = ["gaec", "kl", "fusion", "ilp", "no merges", "all merged", "best reachable"]
    assert [row["method"] for row in rows] == methods
    means = evaluation.mean_per_method(rows)
    assert means["ilp"]["gap_to_ilp"] == 0.0
    assert all(means[solver]["gap_to_ilp"] >= -1e-9 for solver in ("gaec", "kl", "fusion"))
    assert "energy" not in means["best reachable"] and means["all merged"]["n_segments"] == 1
    assert means["kl"]["rand_error"] == pytest.approx(result.scores[0]["rand_error"])  # same costs, same solver
    record = evaluation.run_record(result, [24], rows)
    assert record["methods"]["per_slice"][0]["slice"] == 24
    assert record["pipeline_kl"]["mean"] == result.scores[0] and record["config"]["boundary"] == "frangi"


def test_pixel_rf_pipeline_is_deterministic_and_accepts_float_images(slices):
    raw, labels = slices
    floats = [r.astype(np.float32) / 255.0 for r in raw]
    settings = pipeline.PipelineSettings(boundary="pixel-rf", rf_trees=10, seed=1, pixel_trees=4, pixel_folds=3)
    maps = [boundaries.pixel_rf_boundaries(floats[:3], labels[:3], floats[3:], settings) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(maps[0][0] + maps[0][1], maps[1][0] + maps[1][1]))
    membrane = maps[0][1][0]
    assert membrane[labels[3] == 0].mean() > membrane[labels[3] == 255].mean() + 0.2
    gts = [dense_ground_truth(label) for label in labels[:3]]
    graphs = [pipeline.graph_data(r, g, m, settings) for r, g, m in zip(floats[:3], gts, maps[0][0])]
    forest = pipeline.train_edge_rf(graphs, trees=10, seed=1)
    seg = pipeline.segment(floats[3], forest, settings, boundary=membrane)
    again = pipeline.segment(floats[3], pipeline.train_edge_rf(graphs, trees=10, seed=1), settings, boundary=membrane)
    assert np.array_equal(seg, again) and seg.min() == 1


def test_mismatched_raw_and_labels_raise_a_clear_error(slices):
    raw, labels = slices
    gt = dense_ground_truth(labels[0])
    with pytest.raises(ValueError, match="raw shape .* and ground-truth shape"):
        pipeline.graph_data(raw[0], gt[:64])
    with pytest.raises(ValueError, match="raw shape"):
        pipeline.run(
            [raw[0]], [labels[0][:, :64]], [raw[3]], [labels[3]], pipeline.PipelineSettings(rf_trees=5), progress=False
        )
    with pytest.raises(ValueError, match="pixel classifier"):
        boundaries.boundary_map(raw[0], "pixel-rf")
    with pytest.raises(ValueError, match="unknown boundary"):
        pipeline.PipelineSettings(boundary="sobel")


def test_a_slice_without_membranes_gives_an_edgeless_graph_and_one_segment():
    """A uniform (e.g. completely blurred) slice yields one superpixel: no edges, no crash, one cell."""
    flat = np.full((64, 64), 128, np.uint8)
    raws, labels = load_training([0])
    gt = dense_ground_truth(labels[0][:64, :64])
    train = [pipeline.graph_data(raws[0][:64, :64], gt)]
    forest = pipeline.train_edge_rf(train, trees=5, seed=0)
    graph = pipeline.graph_data(flat, None, np.zeros((64, 64), np.float32))
    assert graph.n_edges == 0 and graph.features.shape == (0, train[0].features.shape[1])
    segmentation = pipeline.segment_graph(graph, forest)
    assert np.unique(segmentation).tolist() == [1]


def test_beta_panel_resolves_live_and_more_cuts_with_larger_beta(frangi_runs, slices):
    raw, labels = slices
    result = frangi_runs[0]
    panel, run = widgets.beta_panel(
        raw[3], result.test_graphs[0], result.forest, dense_ground_truth(labels[3]), result.settings
    )
    low = run(0.2)
    high = run(0.8)
    assert low["vi_split"] <= high["vi_split"]  # cheaper cuts: never fewer splits
    slider, status = panel.children[0], panel.children[1]
    slider.value = 0.65  # what a user's drag does: the observer re-solves and reports
    assert "beta = 0.65" in status.value
