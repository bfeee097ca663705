"""Boundary maps: float32 images in [0, 1], high on membranes; the pipeline's first stage.

The report uses scikit-image's Frangi filter. Alternatives: the largest Hessian eigenvalue (bioimage-cpp), HED edges
(:func:`helpers.vgg.hed_edges`), inverted intensity (the report's Figure 7) and a pixel classifier's membrane
probability (:data:`PIXEL_RF`, trained by :func:`pixel_rf_boundaries`). :data:`KINDS` names them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import bioimage_cpp
import numpy as np
from skimage.filters import frangi
from sklearn.ensemble import RandomForestClassifier

from .checks import grey_slice, known_name
from .pixel_classifier import (
    PixelForestSettings,
    membrane_probability,
    out_of_fold_membrane_probability,
    train_pixel_classifier,
)

if TYPE_CHECKING:
    from .settings import PipelineSettings


def normalize(values: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """Scale a response to float32 in [0, 1] by its ``percentile`` (robust to a few extreme pixels).

    Args:
        values: the filter response; negative values count as 0.
        percentile: the percentile that becomes 1 (all zeros when it is 0).
    """
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    scale = float(np.percentile(values, percentile))
    if scale <= 0.0:
        return np.zeros_like(values)
    return np.clip(values / scale, 0.0, 1.0)


def frangi_boundary(raw: np.ndarray, sigmas: tuple[float, ...] = (1.0, 2.0, 3.0)) -> np.ndarray:
    """The report's boundary map: Frangi filter for dark ridges (ISBI membranes are dark) at scales ``sigmas`` (px)."""
    return normalize(frangi(grey_slice(raw), sigmas=sigmas, black_ridges=True))


def hessian_boundary(raw: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """The larger Hessian-of-Gaussian eigenvalue at scale ``sigma`` (px; bioimage-cpp), high on dark ridges."""
    eigenvalues = bioimage_cpp.filters.hessian_of_gaussian_eigenvalues(grey_slice(raw), sigma)
    return normalize(np.maximum(eigenvalues[..., 0], eigenvalues[..., 1]))


def hed_boundary(raw: np.ndarray) -> np.ndarray:
    """The HED edge detector's map (:func:`helpers.vgg.hed_edges`)."""
    from ..vgg import hed_edges  # lazy: torch is heavy, and only this optional boundary kind needs it

    return np.clip(np.asarray(hed_edges(grey_slice(raw)), dtype=np.float32), 0.0, 1.0)


def raw_boundary(raw: np.ndarray) -> np.ndarray:
    """No filter (the report's Figure 7): ``1 - raw``, so dark membranes are high."""
    return 1.0 - grey_slice(raw)


FILTERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "frangi": frangi_boundary,
    "hessian": hessian_boundary,
    "hed": hed_boundary,
    "raw": raw_boundary,
}
PIXEL_RF = "pixel-rf"  # the pixel classifier's membrane probability (trained: see pixel_rf_boundaries)
KINDS = (*FILTERS, PIXEL_RF)


def boundary_map(
    raw: np.ndarray, kind: str = "frangi", pixel_classifier: RandomForestClassifier | None = None
) -> np.ndarray:
    """The boundary map of one slice, by name: float32 in [0, 1], the shape of ``raw``.

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).
        kind: a filter of :data:`FILTERS` or :data:`PIXEL_RF`.
        pixel_classifier: the trained pixel classifier (only for ``pixel-rf``).

    Raises:
        ValueError: for an unknown kind, or ``pixel-rf`` without a classifier.
    """
    if known_name(kind, KINDS, "boundary map") == PIXEL_RF:
        if pixel_classifier is None:
            raise ValueError(
                "boundary 'pixel-rf' needs a pixel classifier: "
                "helpers.segmentation.pixel_classifier.train_pixel_classifier(raws, labels)"
            )
        return membrane_probability(pixel_classifier, raw)
    return FILTERS[kind](raw)


def pixel_rf_boundaries(
    train_raws: Sequence[np.ndarray],
    train_labels: Sequence[np.ndarray],
    test_raws: Sequence[np.ndarray],
    settings: PipelineSettings,
    n_jobs: int = -1,
) -> tuple[list[np.ndarray], list[np.ndarray], RandomForestClassifier]:
    """Pixel-classifier boundary maps of training and test images.

    Training images get out-of-fold maps (``min(settings.pixel_folds, len(train_raws))`` folds), so the edge forest
    never learns from a map that saw its own labels; test images get the map of a classifier trained on all of them.

    Args:
        train_raws: grey training images.
        train_labels: their binary membrane labels (0 membrane, 255 cell).
        test_raws: grey test images.
        settings: the pipeline's settings (``seed``, ``pixel_trees``, ``pixel_folds``).
        n_jobs: threads of the forests (-1: all cores; 1 inside parallel workers).

    Returns:
        ``(training maps, test maps, the classifier trained on all training images)``.
    """
    forest = PixelForestSettings(trees=settings.pixel_trees, seed=settings.seed, n_jobs=n_jobs)
    n_folds = min(settings.pixel_folds, len(train_raws))
    train_maps = out_of_fold_membrane_probability(train_raws, train_labels, n_folds, forest)
    classifier = train_pixel_classifier(train_raws, train_labels, forest)
    test_maps = [membrane_probability(classifier, raw) for raw in test_raws]
    return train_maps, test_maps, classifier
