"""Random forests: the report's edge classifier, and an ilastik-style pixel classifier for the boundary map.

*Edge classifier* (report section 3): a scikit-learn random forest on the edge features of
:mod:`helpers.features`, trained on the confident edges only; 200 trees in the report, fixed seed, all cores.

*Pixel classifier* (beyond the report, what an ilastik user would do): a random forest on a small filter
bank (Gaussian, Laplacian of Gaussian, gradient magnitude, Hessian and structure-tensor eigenvalues at
three scales, computed with bioimage-cpp) trained on the binary membrane labels; its membrane
probability replaces Frangi as the boundary map. On training slices it must be *out of fold*
(:func:`out_of_fold_membrane_probability`), or the edge classifier learns from a map that is too good.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier

FILTER_SIGMAS = (0.7, 1.6, 3.5)
MIN_BOOTSTRAP = 50  # edges per tree at the least, whatever the fraction


# --------------------------------------------------------------------------- edge classifier


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
    """Random forest on edge ``features`` (n, f) with ``labels`` (1 = cut), restricted to ``mask``.

    ``max_samples`` caps the training edges (a fixed-seed random subset) to bound the cost; each tree is
    grown on a bootstrap sample of ``tree_fraction`` of the edges (None: all, as scikit-learn's default;
    0.3 trains 200 trees about 4x faster at no measurable loss; at least ``MIN_BOOTSTRAP`` edges); ``oob`` also
    computes the out-of-bag score (``rf.oob_score_``).
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
    bootstrap = None if tree_fraction is None else max(int(tree_fraction * len(labels)), min(len(labels), MIN_BOOTSTRAP))
    forest = RandomForestClassifier(
        n_estimators=trees, random_state=seed, n_jobs=n_jobs, oob_score=oob, min_samples_leaf=2,
        max_samples=bootstrap,
    )
    forest.fit(features, labels)
    return forest


def deterministic_proba(forest: RandomForestClassifier, x: np.ndarray) -> np.ndarray:
    """``predict_proba`` with the trees' votes added in a fixed order.

    scikit-learn's threaded prediction adds the votes in whatever order the threads finish, so one forest can
    give probabilities that differ in the last bits from run to run - enough to flip a multicut near a tie.
    Predicting in one thread keeps "same inputs and seed, same numbers" exact."""
    n_jobs = forest.n_jobs
    try:
        forest.n_jobs = 1
        return forest.predict_proba(x)
    finally:
        forest.n_jobs = n_jobs


def edge_probabilities(forest: RandomForestClassifier, features: np.ndarray) -> np.ndarray:
    """Probability that each edge is a true boundary (class 1, cut)."""
    return deterministic_proba(forest, np.asarray(features, dtype=np.float32))[:, list(forest.classes_).index(1)]


def feature_importances(forest: RandomForestClassifier, names: list[str]) -> list[tuple[str, float]]:
    """(name, mean decrease in impurity) pairs, most important first."""
    if len(names) != len(forest.feature_importances_):
        raise ValueError(f"{len(names)} names for {len(forest.feature_importances_)} features")
    order = np.argsort(forest.feature_importances_)[::-1]
    return [(names[i], float(forest.feature_importances_[i])) for i in order]


# --------------------------------------------------------------------------- pixel classifier


def pixel_filter_names(sigmas: tuple[float, ...] = FILTER_SIGMAS) -> list[str]:
    """Names of the channels of :func:`pixel_filter_bank`."""
    names = ["intensity"]
    for s in sigmas:
        names += [f"gauss_{s}", f"log_{s}", f"gradient_{s}", f"hessian_max_{s}", f"hessian_min_{s}",
                  f"structure_max_{s}", f"structure_min_{s}"]
    return names


def pixel_filter_bank(raw: np.ndarray, sigmas: tuple[float, ...] = FILTER_SIGMAS) -> np.ndarray:
    """ilastik-like filter responses of one grey slice (bioimage-cpp), shape (H, W, channels), float32."""
    import bioimage_cpp as bic

    from .superpixels import check_image

    image = check_image(raw)
    channels = [image]
    for s in sigmas:
        hessian = bic.filters.hessian_of_gaussian_eigenvalues(image, s)
        structure = bic.filters.structure_tensor_eigenvalues(image, s, 2.0 * s)
        channels += [
            bic.filters.gaussian_smoothing(image, s),
            bic.filters.laplacian_of_gaussian(image, s),
            bic.filters.gaussian_gradient_magnitude(image, s),
            np.maximum(hessian[..., 0], hessian[..., 1]), np.minimum(hessian[..., 0], hessian[..., 1]),
            np.maximum(structure[..., 0], structure[..., 1]), np.minimum(structure[..., 0], structure[..., 1]),
        ]
    return np.stack(channels, axis=-1).astype(np.float32)


def _membrane_targets(labels: np.ndarray) -> np.ndarray:
    values = set(np.unique(labels).tolist())
    if not values <= {0, 255}:
        raise ValueError(f"membrane labels must be 0 (membrane) / 255 (cell), found {sorted(values)[:6]}")
    return (np.asarray(labels) == 0).astype(np.uint8)


def pixel_samples(raw: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Filter-bank features and membrane targets (1 = membrane) of ``n`` pixels of one image, half of each class."""
    if np.shape(raw) != np.shape(labels):
        raise ValueError(f"raw shape {np.shape(raw)} and label shape {np.shape(labels)} differ: pass matching images")
    target = _membrane_targets(labels).ravel()
    bank = pixel_filter_bank(raw).reshape(-1, len(pixel_filter_names()))
    picked = []
    for cls in (0, 1):
        where = np.flatnonzero(target == cls)
        if len(where):
            picked.append(rng.choice(where, min(len(where), n // 2), replace=False))
    picked = np.sort(np.concatenate(picked))
    return bank[picked], target[picked]


def _fit_pixel_forest(xs, ys, seed, trees, max_depth, n_jobs) -> RandomForestClassifier:
    forest = RandomForestClassifier(
        n_estimators=trees, max_depth=max_depth, min_samples_leaf=5, random_state=seed, n_jobs=n_jobs
    )
    return forest.fit(np.concatenate(xs), np.concatenate(ys))


def train_pixel_classifier(
    raws,
    labels,
    seed: int = 0,
    trees: int = 16,
    samples_per_image: int = 1000,
    max_depth: int | None = 10,
    n_jobs: int = -1,
) -> RandomForestClassifier:
    """Random forest on :func:`pixel_filter_bank` features, predicting membrane (label 0) vs cell (255).

    ``raws``: a list/stack of grey images (uint8 or float, any size); ``labels``: the matching binary
    membrane labels. From each image ``samples_per_image`` pixels are drawn (half membrane, half cell,
    fixed seed), so stylised or augmented images of any size can be mixed in.
    """
    raws, labels = list(raws), list(labels)
    if len(raws) != len(labels) or not raws:
        raise ValueError(f"need the same, non-zero number of images and labels, got {len(raws)} and {len(labels)}")
    rng = np.random.default_rng(seed)
    samples = [pixel_samples(raw, label, samples_per_image, rng) for raw, label in zip(raws, labels)]
    return _fit_pixel_forest([x for x, _ in samples], [y for _, y in samples], seed, trees, max_depth, n_jobs)


def membrane_probability(forest: RandomForestClassifier, raw: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """Membrane probability map of one grey slice (float32 in [0, 1], same shape), Gaussian-smoothed with
    ``smoothing`` pixels (0: raw forest output; 1.0 removes the forest's pixel noise and lowered the
    adapted Rand error on slices 24-29 from 0.14 to 0.12)."""
    import bioimage_cpp as bic

    bank = pixel_filter_bank(raw)
    probability = deterministic_proba(forest, bank.reshape(-1, bank.shape[-1]))[:, list(forest.classes_).index(1)]
    probability = probability.reshape(bank.shape[:2]).astype(np.float32)
    if smoothing:
        probability = bic.filters.gaussian_smoothing(probability, smoothing)
    return np.clip(probability, 0.0, 1.0).astype(np.float32)


def fold_indices(n: int, n_folds: int) -> list[np.ndarray]:
    """Split ``range(n)`` into ``n_folds`` contiguous, nearly equal folds (neighbouring slices stay together)."""
    if not 2 <= n_folds <= n:
        raise ValueError(f"need 2 <= n_folds <= number of images ({n}), got n_folds={n_folds}")
    return [np.asarray(part) for part in np.array_split(np.arange(n), n_folds)]


def out_of_fold_membrane_probability(
    raws, labels, n_folds: int = 4, seed: int = 0, trees: int = 16, samples_per_image: int = 1000,
    max_depth: int | None = 10, n_jobs: int = -1,
):
    """Membrane probability of every training image from a pixel classifier that never saw it (k-fold,
    contiguous folds). Pixels are sampled once per image; returns a stack when all shapes agree, else a list."""
    raws, labels = list(raws), list(labels)
    if len(raws) != len(labels):
        raise ValueError(f"{len(raws)} images but {len(labels)} label images")
    rng = np.random.default_rng(seed)
    samples = [pixel_samples(raw, label, samples_per_image, rng) for raw, label in zip(raws, labels)]
    result: list = [None] * len(raws)
    for fold in fold_indices(len(raws), n_folds):
        held_out = set(fold.tolist())
        train = [i for i in range(len(raws)) if i not in held_out]
        forest = _fit_pixel_forest([samples[i][0] for i in train], [samples[i][1] for i in train],
                                   seed, trees, max_depth, n_jobs)
        for i in fold:
            result[i] = membrane_probability(forest, raws[i])
    if len({r.shape for r in result}) == 1:
        return np.stack(result)
    return result
