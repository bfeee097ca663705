"""The report's edge classifier: a scikit-learn random forest on the edge features of :mod:`.features`.

Trained on confident edges only (200 trees in the report, fixed seed). Predictions go through
:func:`positive_probability`, so the same inputs and seed always give the same numbers.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier

MIN_BOOTSTRAP = 50  # edges per tree at the least, whatever the fraction


def train_edge_classifier(
    features: np.ndarray,
    labels: np.ndarray,
    mask: np.ndarray | None = None,
    trees: int = 200,
    seed: int = 0,
    max_samples: int | None = None,
    oob: bool = False,
    tree_fraction: float | None = 0.3,
    n_jobs: int = -1,
) -> RandomForestClassifier:
    """Random forest on edge features, predicting 1 = cut (a true boundary).

    Args:
        features: (n_edges, n_features) edge features.
        labels: (n_edges,) labels, 1 = cut, 0 = merge.
        mask: edges to train on (the confident ones); None: all.
        trees: number of trees.
        seed: seed of the forest and of the ``max_samples`` subset.
        max_samples: cap on the training edges (a fixed-seed random subset) to bound the cost.
        oob: also compute the out-of-bag score (``forest.oob_score_``).
        tree_fraction: each tree's bootstrap sample as a fraction of the edges, at least :data:`MIN_BOOTSTRAP`
            (None: all, scikit-learn's default; 0.3 trains much faster at no measurable loss).
        n_jobs: threads (-1: all cores).

    Raises:
        ValueError: when features, labels and mask disagree in length, or the edges hold one class only.
    """
    features = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels)
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} feature rows but {len(labels)} labels: pass them for the same edges")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != len(labels):
            raise ValueError(f"mask has {len(mask)} entries for {len(labels)} edges")
        features, labels = features[mask], labels[mask]
    if len(np.unique(labels)) < 2:
        raise ValueError("the training edges hold a single class: use more or larger training images")
    if max_samples is not None and len(labels) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(labels), max_samples, replace=False))
        features, labels = features[keep], labels[keep]
    # as scikit-learn turns a fraction into a count (floor), but never fewer than MIN_BOOTSTRAP edges per tree
    bootstrap = (
        None if tree_fraction is None else max(int(tree_fraction * len(labels)), min(len(labels), MIN_BOOTSTRAP))
    )
    forest = RandomForestClassifier(
        n_estimators=trees,
        random_state=seed,
        n_jobs=n_jobs,
        oob_score=oob,
        min_samples_leaf=2,
        max_samples=bootstrap,
    )
    forest.fit(features, labels)
    return forest


def positive_probability(forest: RandomForestClassifier, features: np.ndarray) -> np.ndarray:
    """(n,) probabilities of class 1 (cut edge, membrane pixel), the trees' votes added in a fixed order.

    scikit-learn's threaded prediction sums votes in thread-finishing order, so results can differ in the last bits
    between runs, enough to flip a multicut near a tie; predicting in one thread keeps them exact.

    Args:
        forest: a fitted forest whose classes include 1.
        features: (n, n_features) samples.
    """
    n_jobs = forest.n_jobs
    try:
        forest.n_jobs = 1
        probabilities = forest.predict_proba(features)
    finally:
        forest.n_jobs = n_jobs
    return probabilities[:, list(forest.classes_).index(1)]


def edge_probabilities(forest: RandomForestClassifier, features: np.ndarray) -> np.ndarray:
    """(n_edges,) probabilities that each edge is a true boundary, from ``features`` (n_edges, n_features)."""
    return positive_probability(forest, np.asarray(features, dtype=np.float32))


def feature_importances(forest: RandomForestClassifier, names: list[str]) -> list[tuple[str, float]]:
    """``(name, importance)`` pairs of the forest's mean decrease in impurity, most important first.

    Args:
        forest: a fitted forest.
        names: one name per feature column.

    Raises:
        ValueError: when the number of names does not match the features.
    """
    if len(names) != len(forest.feature_importances_):
        raise ValueError(f"{len(names)} names for {len(forest.feature_importances_)} features")
    order = np.argsort(forest.feature_importances_)[::-1]
    return [(names[index], float(forest.feature_importances_[index])) for index in order]
