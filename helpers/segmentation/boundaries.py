"""Boundary maps: float32 images in [0, 1] that are high on membranes, the first stage of the pipeline.

The report uses scikit-image's Frangi vesselness filter. Alternatives: the largest Hessian eigenvalue
(bioimage-cpp), the HED edge map (:func:`helpers.vgg.hed_edges`), no filter at all (inverted intensity, the
report's Figure 7), and the membrane probability of a pixel classifier (:mod:`.pixel_classifier`), which
needs training and so is made by :func:`pixel_rf_boundaries`.

Every kind is named once: the filters in :data:`FILTERS`, the learned map as :data:`PIXEL_RF`, all of them in
:data:`KINDS`.
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
    """Scale a non-negative response to [0, 1] by its ``percentile`` (robust to a few extreme pixels).

    Args:
        values: the filter response; negative values count as 0.
        percentile: the percentile that becomes 1.

    Returns:
        float32 in [0, 1] (all zeros when the percentile is 0).
    """
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    scale = float(np.percentile(values, percentile))
    if scale <= 0.0:
        return np.zeros_like(values)
    return np.clip(values / scale, 0.0, 1.0)


def frangi_boundary(raw: np.ndarray, sigmas: tuple[float, ...] = (1.0, 2.0, 3.0)) -> np.ndarray:
    """The report's boundary map: scikit-image's Frangi filter for dark ridges (ISBI membranes are dark).

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).
        sigmas: the filter's scales in pixels.

    Returns:
        The normalised response, float32 in [0, 1].
    """
    return normalize(frangi(grey_slice(raw), sigmas=sigmas, black_ridges=True))


def hessian_boundary(raw: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """The larger Hessian-of-Gaussian eigenvalue (bioimage-cpp), high on dark ridges.

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).
        sigma: the Gaussian's scale in pixels.

    Returns:
        The normalised response, float32 in [0, 1].
    """
    eigenvalues = bioimage_cpp.filters.hessian_of_gaussian_eigenvalues(grey_slice(raw), sigma)
    return normalize(np.maximum(eigenvalues[..., 0], eigenvalues[..., 1]))


def hed_boundary(raw: np.ndarray) -> np.ndarray:
    """The HED edge detector's map (:func:`helpers.vgg.hed_edges`).

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).

    Returns:
        The edge map, float32 in [0, 1].
    """
    from ..vgg import hed_edges  # lazy: torch is heavy, and only this optional boundary kind needs it

    return np.clip(np.asarray(hed_edges(grey_slice(raw)), dtype=np.float32), 0.0, 1.0)


def raw_boundary(raw: np.ndarray) -> np.ndarray:
    """No filter at all (the report's Figure 7): inverted intensity, so dark membranes are high.

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).

    Returns:
        ``1 - raw`` as float32 in [0, 1].
    """
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
    """The boundary map of one slice, by name.

    Args:
        raw: one grey slice (uint8, or float in [0, 1]).
        kind: a filter of :data:`FILTERS` or :data:`PIXEL_RF`.
        pixel_classifier: the trained pixel classifier (only for ``pixel-rf``).

    Returns:
        float32 in [0, 1], the shape of ``raw``.

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

    The training images get out-of-fold maps (``min(settings.pixel_folds, len(train_raws))`` contiguous folds),
    so the edge forest never learns from a map that saw its own labels; the test images get the map of one
    classifier trained on all training images.

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
