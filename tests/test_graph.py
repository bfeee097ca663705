"""RAG, edge features and edge labels on a hand-made label image and an ISBI crop."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import dense_ground_truth, load_training
from helpers.segmentation import boundaries, features, graph, learning, superpixels

# 0 0 1 1      four superpixels: 0 (4 px), 1 (4 px), 2 (2 px), 3 (2 px)
# 0 0 1 1
# 2 2 3 3
HAND = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3]], dtype=np.uint32)
RAW = np.array([[0, 0, 100, 100], [0, 0, 100, 100], [200, 200, 250, 250]], dtype=np.uint8)


def column(name):
    return features.feature_names().index(name)


def test_rag_of_hand_made_labels():
    rag = graph.region_adjacency_graph(HAND)
    plain = graph.as_graph(rag)
    assert plain.n_nodes == 4 and plain.n_edges == 4
    assert plain.uv_ids.tolist() == [[0, 1], [0, 2], [1, 3], [2, 3]]


def test_edge_feature_values_on_hand_made_labels():
    rag = graph.region_adjacency_graph(HAND)
    boundary = np.zeros(HAND.shape, dtype=np.float32)
    boundary[:, 1:3] = 1.0  # a vertical ridge between superpixels 0 and 1
    values = features.edge_features(rag, HAND, RAW, boundary)
    assert values.shape == (4, len(features.feature_names())) and values.dtype == np.float32
    assert np.isfinite(values).all()
    # the 0-1 edge runs between columns 1 and 2: each pixel pair across it counts as the mean of its two
    # pixels, raw 0 and 100 -> 50 for both pairs
    for stat in ("mean", "min", "max", "median"):
        assert values[0, column(f"raw_{stat}")] == pytest.approx(50 / 255, rel=1e-5)
    assert values[0, column("raw_std")] == pytest.approx(0.0, abs=1e-6)
    # edge 2-3 is a single pair, raw 200 | 250
    assert values[3, column("raw_mean")] == pytest.approx(225 / 255, rel=1e-5)
    assert values[0, column("boundary_mean")] == pytest.approx(1.0)
    # edge lengths in pixel pairs
    assert values[:, column("edge_length")].tolist() == [2, 2, 2, 1]
    # node sizes 4, 4, 2, 2 combined per edge
    assert values[1, column("node_size_min")] == 2 and values[1, column("node_size_max")] == 4
    assert values[1, column("node_size_absdiff")] == 2
    assert values[0, column("node_raw_mean_absdiff")] == pytest.approx(100 / 255, rel=1e-5)
    # centroids (0.5, 0.5) and (0.5, 2.5)
    assert values[0, column("centroid_distance")] == pytest.approx(2.0)


def test_cut_fraction_and_confident_labels():
    rag = graph.region_adjacency_graph(HAND)
    gt = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 3, 3]], dtype=np.uint32)  # 0 and 1 are one cell
    assert graph.cut_fraction(rag, HAND, gt).tolist() == [0.0, 1.0, 1.0, 1.0]
    gt_half = gt.copy()
    gt_half[2, 1] = 3  # superpixel 2 now half in cell 2, half in cell 3
    fraction = graph.cut_fraction(rag, HAND, gt_half)
    assert fraction[3] == pytest.approx(0.5)  # edge 2-3: p(same) = 0.5 * 1
    labelled = graph.edge_labels(rag, HAND, gt_half)
    assert np.array_equal(labelled.cut_fraction, fraction)
    labels, confident = labelled.labels, labelled.confident
    assert labels.tolist() == [0, 1, 1, 0] and confident.tolist() == [True, True, True, False]


def test_isbi_crop_features_and_labels():
    raw, labels = load_training([1])
    raw, labels = raw[0, :128, :128], labels[0, :128, :128]
    boundary = boundaries.frangi_boundary(raw)
    segments = superpixels.distance_watershed(boundary)
    rag = graph.region_adjacency_graph(segments)
    values = features.edge_features(rag, segments, raw, boundary)
    assert values.shape == (rag.number_of_edges, len(features.feature_names()))
    labelled = graph.edge_labels(rag, segments, dense_ground_truth(labels))
    edge_labels, confident = labelled.labels, labelled.confident
    assert 0 < edge_labels.sum() < len(edge_labels)  # both classes occur
    assert confident.mean() > 0.5
    # true boundaries are darker and more ridge-like than false ones
    cut, merge = (edge_labels == 1) & confident, (edge_labels == 0) & confident
    assert values[cut, column("boundary_mean")].mean() > values[merge, column("boundary_mean")].mean()
    assert values[cut, column("raw_mean")].mean() < values[merge, column("raw_mean")].mean()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="consecutive from 0"):
        graph.region_adjacency_graph(HAND * 2)
    rag = graph.region_adjacency_graph(HAND)
    with pytest.raises(ValueError, match="same shape"):
        features.edge_features(rag, HAND, RAW[:2], np.zeros(HAND.shape))
    with pytest.raises(ValueError, match="ground truth"):
        graph.cut_fraction(rag, HAND, np.zeros((2, 2), dtype=np.uint32))


def test_edge_forest_bootstrap_is_a_fraction_but_never_tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    assert learning.train_edge_classifier(x, y, trees=2, n_jobs=1).max_samples == 300  # 0.3 of the edges
    small = learning.train_edge_classifier(x[:40], y[:40], trees=2, n_jobs=1)
    assert small.max_samples == 40  # all 40 edges rather than 12 (scikit-learn warns about so few)
