"""Boundary maps and over-segmentations (superpixels): the first stage of the report's pipeline (section 3).

A *boundary map* is a float32 image in [0, 1] that is high on membranes. The report uses scikit-image's
Frangi vesselness filter; alternatives here are the largest Hessian eigenvalue (bioimage-cpp), the HED edge
map (:func:`helpers.vgg.hed_edges`) and the pixel classifier of :mod:`helpers.learning`.

*Superpixels* come from a watershed on a boundary map: the report's distance-transform watershed (elf's
``distance_transform_watershed``: threshold the map, seeds at maxima of the distance to the thresholded
membranes) or a classic seeded watershed (seeds at the minima of the smoothed map). Superpixel ids are
always consecutive from 0, which the region adjacency graph needs (elf's size filter leaves gaps).
"""

from __future__ import annotations

import numpy as np

BOUNDARY_KINDS = ("frangi", "hessian", "hed", "raw")


def check_image(image: np.ndarray, name: str = "raw") -> np.ndarray:
    """A 2D grey image as float32 in [0, 1] (uint8 is divided by 255); clear errors for anything else."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"{name} must be one 2D grey slice, got shape {image.shape}: pass raw[i], not the stack")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype.kind not in "fiu":
        raise TypeError(f"{name} has dtype {image.dtype}: pass a uint8 or float grey image")
    image = image.astype(np.float32)
    if not np.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or inf values: clean the image first")
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0:  # e.g. uint16 or float in 0-255: rescale to [0, 1]
        image = (image - low) / max(high - low, 1e-12)
    return image


def normalize(values: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """Scale a non-negative response to [0, 1] by its ``percentile`` (robust to a few extreme pixels)."""
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    scale = float(np.percentile(values, percentile))
    if scale <= 0.0:
        return np.zeros_like(values)
    return np.clip(values / scale, 0.0, 1.0)


def frangi_boundary(raw: np.ndarray, sigmas: tuple[float, ...] = (1.0, 2.0, 3.0)) -> np.ndarray:
    """The report's boundary map: scikit-image's Frangi filter, dark ridges (ISBI membranes are dark), in [0, 1]."""
    from skimage.filters import frangi

    response = frangi(check_image(raw), sigmas=sigmas, black_ridges=True)
    return normalize(response)


def hessian_boundary(raw: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Alternative boundary map: the larger Hessian-of-Gaussian eigenvalue (bioimage-cpp), high on dark ridges."""
    import bioimage_cpp as bic

    eigenvalues = bic.filters.hessian_of_gaussian_eigenvalues(check_image(raw), sigma)
    return normalize(np.maximum(eigenvalues[..., 0], eigenvalues[..., 1]))


def hed_boundary(raw: np.ndarray) -> np.ndarray:
    """Alternative boundary map: the HED edge detector of the foundation issue (:func:`helpers.vgg.hed_edges`)."""
    from .vgg import hed_edges

    return np.clip(np.asarray(hed_edges(check_image(raw)), dtype=np.float32), 0.0, 1.0)


def raw_boundary(raw: np.ndarray) -> np.ndarray:
    """No filter at all (the report's Figure 7): inverted intensity, so dark membranes are high."""
    return 1.0 - check_image(raw)


def boundary_map(raw: np.ndarray, kind: str = "frangi", **options) -> np.ndarray:
    """Dispatch by name: ``frangi`` (report), ``hessian``, ``hed`` or ``raw``; ``options`` go to the filter."""
    table = {"frangi": frangi_boundary, "hessian": hessian_boundary, "hed": hed_boundary, "raw": raw_boundary}
    if kind not in table:
        raise ValueError(
            f"unknown boundary map {kind!r}: choose one of {sorted(table)} "
            "(the pixel classifier lives in helpers.learning.membrane_probability)"
        )
    return table[kind](raw, **options)


def consecutive(labels: np.ndarray) -> np.ndarray:
    """Relabel to consecutive ids 0..n-1 (uint32), keeping the order of the original ids."""
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
    """The report's over-segmentation: elf's distance-transform watershed on the boundary map thresholded at
    ``threshold`` (0.3 in the report's code). Returns consecutive superpixel ids from 0 (uint32)."""
    from elf.segmentation.watershed import distance_transform_watershed

    boundary = _check_boundary(boundary)
    superpixels, _ = distance_transform_watershed(
        boundary, threshold, sigma_seeds, sigma_weights=sigma_weights, min_size=min_size, alpha=alpha
    )
    return consecutive(superpixels)


def seeded_watershed(boundary: np.ndarray, sigma: float = 1.0, min_distance: int = 3, min_size: int = 25) -> np.ndarray:
    """Classic seeded watershed: seeds at the local minima of the smoothed boundary map (at least
    ``min_distance`` pixels apart), flooding with bioimage-cpp, then elf's size filter. Consecutive ids from 0."""
    import bioimage_cpp as bic
    from elf.segmentation.watershed import apply_size_filter
    from skimage.feature import peak_local_max

    boundary = _check_boundary(boundary)
    smooth = bic.filters.gaussian_smoothing(boundary, sigma) if sigma else boundary
    peaks = peak_local_max(-smooth, min_distance=min_distance, exclude_border=False)
    seeds = np.zeros(boundary.shape, dtype=np.uint32)
    seeds[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.uint32)
    superpixels = bic.segmentation.watershed(smooth.astype(np.float32), seeds)
    if min_size:
        superpixels, _ = apply_size_filter(superpixels.astype(np.uint32), smooth, min_size)
    return consecutive(superpixels)


def oversegment(boundary: np.ndarray, method: str = "distance", **params) -> np.ndarray:
    """Superpixels from a boundary map: ``method='distance'`` (report, :func:`distance_watershed`) or
    ``'seeded'`` (:func:`seeded_watershed`); ``params`` go to that function."""
    if method == "distance":
        return distance_watershed(boundary, **params)
    if method == "seeded":
        return seeded_watershed(boundary, **params)
    raise ValueError(f"unknown watershed method {method!r}: choose 'distance' or 'seeded'")


def superpixel_count(superpixels: np.ndarray) -> int:
    """Number of distinct superpixels."""
    return int(len(np.unique(superpixels)))


def _check_boundary(boundary: np.ndarray) -> np.ndarray:
    boundary = np.asarray(boundary, dtype=np.float32)
    if boundary.ndim != 2:
        raise ValueError(f"boundary map must be 2D, got shape {boundary.shape}")
    if not np.isfinite(boundary).all():
        raise ValueError("boundary map contains NaN or inf values")
    return boundary
