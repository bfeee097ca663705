"""End-to-end pipeline on small real ISBI crops: determinism, better than trivial, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import pipeline as PL
from helpers.data import dense_ground_truth, load_training

CROP = 128


@pytest.fixture(scope="module")
def slices():
    raw, labels = load_training([0, 1, 2, 24])
    return raw[:, :CROP, :CROP], labels[:, :CROP, :CROP]


@pytest.fixture(scope="module")
def frangi_runs(slices):
    raw, labels = slices
    config = PL.Pipeline(boundary="frangi", rf_trees=20, seed=0)
    return [PL.run(raw[:3], labels[:3], raw[3:], labels[3:], config, progress=False) for _ in range(2)]


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
    for name, baseline in PL.trivial_baselines(graph.superpixels).items():
        trivial = PL.evaluate(baseline, gt)
        assert scores["rand_error"] < trivial["rand_error"], name
        assert scores["vi"] < trivial["vi"], name
    best = PL.evaluate(PL.best_reachable(graph.superpixels, gt), gt)
    assert best["rand_error"] <= scores["rand_error"] + 1e-9
    assert 0.0 < scores["v_rand"] <= 1.0


def test_pixel_rf_pipeline_is_deterministic_and_accepts_float_images(slices):
    raw, labels = slices
    floats = [r.astype(np.float32) / 255.0 for r in raw]
    config = PL.Pipeline(boundary="pixel-rf", rf_trees=10, seed=1, pixel_trees=4, pixel_folds=3)
    maps = [PL.pixel_rf_boundaries(floats[:3], labels[:3], floats[3:], config) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(maps[0][0] + maps[0][1], maps[1][0] + maps[1][1]))
    membrane = maps[0][1][0]
    assert membrane[labels[3] == 0].mean() > membrane[labels[3] == 255].mean() + 0.2
    gts = [dense_ground_truth(label) for label in labels[:3]]
    graphs = [PL.graph_data(r, g, m, config) for r, g, m in zip(floats[:3], gts, maps[0][0])]
    forest = PL.train_edge_rf(graphs, trees=10, seed=1)
    seg = PL.segment(floats[3], forest, config, boundary=membrane)
    again = PL.segment(floats[3], PL.train_edge_rf(graphs, trees=10, seed=1), config, boundary=membrane)
    assert np.array_equal(seg, again) and seg.min() == 1


def test_mismatched_raw_and_labels_raise_a_clear_error(slices):
    raw, labels = slices
    gt = dense_ground_truth(labels[0])
    with pytest.raises(ValueError, match="raw shape .* and ground-truth shape"):
        PL.graph_data(raw[0], gt[:64])
    with pytest.raises(ValueError, match="raw shape"):
        PL.run([raw[0]], [labels[0][:, :64]], [raw[3]], [labels[3]], PL.Pipeline(rf_trees=5), progress=False)
    with pytest.raises(ValueError, match="pixel classifier"):
        PL.boundary_map(raw[0], PL.Pipeline(boundary="pixel-rf"))
    with pytest.raises(ValueError, match="unknown boundary"):
        PL.Pipeline(boundary="sobel")


def test_a_slice_without_membranes_gives_an_edgeless_graph_and_one_segment():
    """A uniform (e.g. completely blurred) slice yields one superpixel: no edges, no crash, one cell."""
    flat = np.full((64, 64), 128, np.uint8)
    raws, labels = load_training([0])
    gt = dense_ground_truth(labels[0][:64, :64])
    train = [PL.graph_data(raws[0][:64, :64], gt)]
    forest = PL.train_edge_rf(train, trees=5, seed=0)
    graph = PL.graph_data(flat, None, np.zeros((64, 64), np.float32))
    assert graph.n_edges == 0 and graph.features.shape == (0, train[0].features.shape[1])
    segmentation = PL.segment_graph(graph, forest)
    assert np.unique(segmentation).tolist() == [1]


def test_beta_panel_resolves_live_and_more_cuts_with_larger_beta(frangi_runs, slices):
    from helpers import widgets

    raw, labels = slices
    result = frangi_runs[0]
    panel, run = widgets.beta_panel(raw[3], result.test_graphs[0], result.forest, dense_ground_truth(labels[3]), result.config)
    low, fig = run(0.2)
    high, _ = run(0.8)
    assert fig.axes and low["vi_split"] <= high["vi_split"]  # cheaper cuts: never fewer splits
    slider, status = panel.children[0], panel.children[1]
    slider.value = 0.65  # what a user's drag does: the observer re-solves and reports
    assert "beta = 0.65" in status.value
