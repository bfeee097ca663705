"""An ilastik-style pixel classifier whose membrane probability serves as a boundary map (beyond the report).

A random forest on a filter bank (Gaussian, LoG, gradient magnitude, Hessian and structure-tensor eigenvalues at
three scales; bioimage-cpp) learns the binary membrane labels. Training slices need *out-of-fold* maps
(:func:`out_of_fold_membrane_probability`), or the edge classifier learns from a map that is too good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bioimage_cpp
import numpy as np
from sklearn.ensemble import RandomForestClassifier

from .checks import grey_slice
from .learning import positive_probability

FILTER_SIGMAS = (0.7, 1.6, 3.5)
MEMBRANE, CELL = 0, 255  # values of the binary ISBI labels


@dataclass(frozen=True)
class PixelForestSettings:
    """How the pixel classifier samples its training pixels and grows its forest."""

    trees: int = 16
    seed: int = 0  # seed of the pixel sampling and of the forest
    samples_per_image: int = 1000  # pixels drawn per image, half membrane, half cell
    max_depth: int | None = 10  # depth limit of the trees
    n_jobs: int = -1  # threads (-1: all cores; 1 inside parallel workers)


DEFAULT_FOREST = PixelForestSettings()


def pixel_filter_names(sigmas: tuple[float, ...] = FILTER_SIGMAS) -> list[str]:
    """Names of the channels of :func:`pixel_filter_bank` for scales ``sigmas``, in order."""
    names = ["intensity"]
    for sigma in sigmas:
        names += [
            f"gauss_{sigma}",
            f"log_{sigma}",
            f"gradient_{sigma}",
            f"hessian_max_{sigma}",
            f"hessian_min_{sigma}",
            f"structure_max_{sigma}",
            f"structure_min_{sigma}",
        ]
    return names


def pixel_filter_bank(raw: np.ndarray, sigmas: tuple[float, ...] = FILTER_SIGMAS) -> np.ndarray:
    """ilastik-like filter responses of one grey slice: float32 (H, W, channels) as :func:`pixel_filter_names`.

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).
        sigmas: the filter scales in pixels.
    """
    image = grey_slice(raw)
    filters = bioimage_cpp.filters
    channels = [image]
    for sigma in sigmas:
        hessian = filters.hessian_of_gaussian_eigenvalues(image, sigma)
        structure = filters.structure_tensor_eigenvalues(image, sigma, 2.0 * sigma)
        channels += [
            filters.gaussian_smoothing(image, sigma),
            filters.laplacian_of_gaussian(image, sigma),
            filters.gaussian_gradient_magnitude(image, sigma),
            np.maximum(hessian[..., 0], hessian[..., 1]),
            np.minimum(hessian[..., 0], hessian[..., 1]),
            np.maximum(structure[..., 0], structure[..., 1]),
            np.minimum(structure[..., 0], structure[..., 1]),
        ]
    return np.stack(channels, axis=-1).astype(np.float32)


def _membrane_targets(labels: np.ndarray) -> np.ndarray:
    values = set(np.unique(labels).tolist())
    if not values <= {MEMBRANE, CELL}:
        raise ValueError(f"membrane labels must be 0 (membrane) / 255 (cell), found {sorted(values)[:6]}")
    return (np.asarray(labels) == MEMBRANE).astype(np.uint8)


def pixel_samples(
    raw: np.ndarray, labels: np.ndarray, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(features (n, channels), targets (n,), 1 = membrane)`` of ``n_samples`` pixels of one image, half per class.

    Args:
        raw: one grey slice.
        labels: its binary membrane labels (0 membrane, 255 cell).
        n_samples: pixels to draw (fewer when a class has fewer pixels).
        rng: the random generator (the caller's seed).

    Raises:
        ValueError: when shapes differ or the labels are not binary.
    """
    if np.shape(raw) != np.shape(labels):
        raise ValueError(f"raw shape {np.shape(raw)} and label shape {np.shape(labels)} differ: pass matching images")
    target = _membrane_targets(labels).ravel()
    bank = pixel_filter_bank(raw).reshape(-1, len(pixel_filter_names()))
    picked = []
    for value in (0, 1):
        where = np.flatnonzero(target == value)
        if len(where):
            picked.append(rng.choice(where, min(len(where), n_samples // 2), replace=False))
    chosen = np.sort(np.concatenate(picked))
    return bank[chosen], target[chosen]


def _fit_pixel_forest(
    samples: list[tuple[np.ndarray, np.ndarray]], forest: PixelForestSettings
) -> RandomForestClassifier:
    classifier = RandomForestClassifier(
        n_estimators=forest.trees,
        max_depth=forest.max_depth,
        min_samples_leaf=5,
        random_state=forest.seed,
        n_jobs=forest.n_jobs,
    )
    return classifier.fit(np.concatenate([x for x, _ in samples]), np.concatenate([y for _, y in samples]))


def _sample_images(
    raws: list[np.ndarray], labels: list[np.ndarray], forest: PixelForestSettings
) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(raws) != len(labels) or not raws:
        raise ValueError(f"need the same, non-zero number of images and labels, got {len(raws)} and {len(labels)}")
    rng = np.random.default_rng(forest.seed)
    return [pixel_samples(raw, label, forest.samples_per_image, rng) for raw, label in zip(raws, labels)]


def train_pixel_classifier(
    raws: Sequence[np.ndarray], labels: Sequence[np.ndarray], forest: PixelForestSettings = DEFAULT_FOREST
) -> RandomForestClassifier:
    """Random forest on :func:`pixel_filter_bank` features, predicting membrane (label 0) vs cell (255).

    Sampling a fixed number of pixels per image (half per class, fixed seed) lets images of any size be mixed in.

    Args:
        raws: grey images (uint8, or float in [0, 1], any size).
        labels: the matching binary membrane labels.
        forest: sampling and forest settings.

    Raises:
        ValueError: when there are no images or images and labels differ in number.
    """
    return _fit_pixel_forest(_sample_images(list(raws), list(labels), forest), forest)


def membrane_probability(forest: RandomForestClassifier, raw: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """Membrane probability map of one grey slice: float32 in [0, 1], the shape of ``raw``.

    Args:
        forest: a trained pixel classifier.
        raw: one grey slice (uint8, or float in [0, 1]).
        smoothing: Gaussian sigma in pixels (0: raw forest output); smoothing removes the forest's pixel noise.
    """
    bank = pixel_filter_bank(raw)
    probability = positive_probability(forest, bank.reshape(-1, bank.shape[-1]))
    probability = probability.reshape(bank.shape[:2]).astype(np.float32)
    if smoothing:
        probability = bioimage_cpp.filters.gaussian_smoothing(probability, smoothing)
    return np.clip(probability, 0.0, 1.0).astype(np.float32)


def fold_indices(n_images: int, n_folds: int) -> list[np.ndarray]:
    """Split ``range(n_images)`` into ``n_folds`` contiguous, nearly equal folds (neighbouring slices stay together).

    Args:
        n_images: number of images.
        n_folds: number of folds.

    Raises:
        ValueError: unless ``2 <= n_folds <= n_images``.
    """
    if not 2 <= n_folds <= n_images:
        raise ValueError(f"need 2 <= n_folds <= number of images ({n_images}), got n_folds={n_folds}")
    return [np.asarray(part) for part in np.array_split(np.arange(n_images), n_folds)]


def out_of_fold_membrane_probability(
    raws: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    n_folds: int = 4,
    forest: PixelForestSettings = DEFAULT_FOREST,
) -> list[np.ndarray]:
    """Membrane probability (float32 in [0, 1]) of every training image from a classifier that never saw it.

    Pixels are sampled once per image; each contiguous fold is mapped by a forest trained on the other folds.

    Args:
        raws: grey training images.
        labels: their binary membrane labels.
        n_folds: number of folds (:func:`fold_indices`).
        forest: sampling and forest settings (one seed for the sampling and every fold's forest).

    Raises:
        ValueError: when images and labels differ in number, or for a bad ``n_folds``.
    """
    raws = list(raws)
    samples = _sample_images(raws, list(labels), forest)
    maps: list[np.ndarray] = [np.empty(0)] * len(raws)
    for fold in fold_indices(len(raws), n_folds):
        held_out = set(fold.tolist())
        classifier = _fit_pixel_forest(
            [sample for index, sample in enumerate(samples) if index not in held_out], forest
        )
        for index in fold:
            maps[index] = membrane_probability(classifier, raws[index])
    return maps
