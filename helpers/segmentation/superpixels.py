"""Over-segmentations (superpixels) from a watershed on a boundary map.

The report's distance-transform watershed (elf: seeds at maxima of the distance to the thresholded membranes) and a
classic seeded watershed (seeds at minima of the smoothed map). Ids are always uint32 consecutive from 0, which the
region adjacency graph needs (elf's size filter leaves gaps).
"""

from __future__ import annotations

from collections.abc import Callable

import bioimage_cpp
import numpy as np
from elf.segmentation.watershed import apply_size_filter, distance_transform_watershed
from skimage.feature import peak_local_max

from .checks import boundary_image, known_name


def consecutive(labels: np.ndarray) -> np.ndarray:
    """Relabel an integer label image to uint32 ids 0..n-1, keeping the original ids' order."""
    _, inverse = np.unique(labels, return_inverse=True)
    return inverse.reshape(labels.shape).astype(np.uint32)


def distance_watershed(
    boundary: np.ndarray,
    threshold: float = 0.3,
    sigma_seeds: float = 2.0,
    sigma_weights: float = 2.0,
    min_size: int = 25,
    alpha: float = 0.9,
) -> np.ndarray:
    """The report's over-segmentation: elf's distance-transform watershed on the thresholded boundary map.

    Args:
        boundary: a boundary map in [0, 1].
        threshold: the map's threshold (0.3 in the report's code).
        sigma_seeds: smoothing of the distance transform before seeding (larger: fewer superpixels).
        sigma_weights: smoothing of the flooding weights.
        min_size: smallest superpixel in pixels.
        alpha: weight of the boundary map against the distance in the flooding weights.
    """
    superpixels, _ = distance_transform_watershed(
        boundary_image(boundary), threshold, sigma_seeds, sigma_weights=sigma_weights, min_size=min_size, alpha=alpha
    )
    return consecutive(superpixels)


def seeded_watershed(boundary: np.ndarray, sigma: float = 1.0, min_distance: int = 3, min_size: int = 25) -> np.ndarray:
    """Classic seeded watershed: seeds at the local minima of the smoothed boundary map (bioimage-cpp, elf).

    Args:
        boundary: a boundary map in [0, 1].
        sigma: Gaussian smoothing of the map in pixels (0: none).
        min_distance: smallest distance between two seeds in pixels.
        min_size: smallest superpixel in pixels (elf's size filter; 0: no filter).
    """
    boundary = boundary_image(boundary)
    smooth = bioimage_cpp.filters.gaussian_smoothing(boundary, sigma) if sigma else boundary
    peaks = peak_local_max(-smooth, min_distance=min_distance, exclude_border=False)
    seeds = np.zeros(boundary.shape, dtype=np.uint32)
    seeds[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.uint32)
    superpixels = bioimage_cpp.segmentation.watershed(smooth.astype(np.float32), seeds)
    if min_size:
        superpixels, _ = apply_size_filter(superpixels.astype(np.uint32), smooth, min_size)
    return consecutive(superpixels)


WATERSHEDS: dict[str, Callable[..., np.ndarray]] = {"distance": distance_watershed, "seeded": seeded_watershed}


def oversegment(boundary: np.ndarray, method: str = "distance", **params: float) -> np.ndarray:
    """Superpixels from a boundary map by the watershed named ``method``.

    Args:
        boundary: a boundary map in [0, 1].
        method: ``distance`` (the report, :func:`distance_watershed`) or ``seeded`` (:func:`seeded_watershed`).
        **params: that function's parameters.

    Raises:
        ValueError: for an unknown method.
    """
    return WATERSHEDS[known_name(method, WATERSHEDS, "watershed method")](boundary, **params)


def superpixel_count(superpixels: np.ndarray) -> int:
    """Number of distinct ids in a label image."""
    return int(len(np.unique(superpixels)))
