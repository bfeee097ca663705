"""Edge features of a region adjacency graph (report section 2.2 / 3).

Per edge: statistics of the raw image, its gradient magnitude and the boundary map along the edge (bioimage-cpp's
``edge_map_features_complex``: mean, median, std, min, max, 6 quantiles over pixel pairs, a pair counting as the
mean of its pixels); node statistics (size, mean and std of raw and boundary map) combined over the two ends as
min, max and absolute difference; geometry (edge length, centroid distance, length per smaller node's radius).
"""

from __future__ import annotations

import bioimage_cpp
import numpy as np

from .checks import grey_slice, label_image
from .graph import Rag

EDGE_STATS = ("mean", "median", "std", "min", "max", "p5", "p10", "p25", "p75", "p90", "p95")
NODE_STATS = ("size", "raw_mean", "raw_std", "boundary_mean", "boundary_std")
GRADIENT_SIGMA = 1.6  # scale of the gradient magnitude whose edge statistics are features


def feature_names() -> list[str]:
    """Names of the columns of :func:`edge_features`, in order."""
    names = [f"{source}_{stat}" for source in ("raw", "gradient", "boundary") for stat in EDGE_STATS]
    names += [f"node_{stat}_{how}" for stat in NODE_STATS for how in ("min", "max", "absdiff")]
    names += ["edge_length", "centroid_distance", "length_per_node_radius"]
    return names


def edge_features(
    rag: Rag, superpixels: np.ndarray, raw: np.ndarray, boundary: np.ndarray, n_threads: int = 0
) -> np.ndarray:
    """The edge feature matrix of one slice: float32 (n_edges, len(feature_names())); no rows without edges.

    Args:
        rag: the graph of ``superpixels``.
        superpixels: 2D ids consecutive from 0.
        raw: the grey slice (uint8, or float in [0, 1]).
        boundary: its boundary map.
        n_threads: threads (0: all cores).

    Raises:
        ValueError: when raw, boundary map and superpixels differ in shape.
    """
    superpixels = label_image(superpixels)
    raw = grey_slice(raw)
    boundary = np.asarray(boundary, dtype=np.float32)
    if raw.shape != superpixels.shape or boundary.shape != superpixels.shape:
        raise ValueError(
            f"raw {raw.shape}, boundary map {boundary.shape} and superpixels {superpixels.shape} must have the "
            "same shape: compute the boundary map and superpixels from this raw slice"
        )
    if rag.number_of_edges == 0:  # one superpixel (e.g. a blurred slice): a graph without edges
        return np.zeros((0, len(feature_names())), dtype=np.float32)
    gradient = bioimage_cpp.filters.gaussian_gradient_magnitude(raw, GRADIENT_SIGMA)
    columns = []
    for image in (raw, gradient, boundary):
        stats = bioimage_cpp.graph.features.edge_map_features_complex(
            rag, superpixels, image, number_of_threads=n_threads
        )
        columns.append(stats[:, : len(EDGE_STATS)])
    length = stats[:, len(EDGE_STATS)]  # the last column: pixel pairs along the edge
    uv_ids = np.asarray(rag.uv_ids(), dtype=np.int64)
    nodes = node_statistics(superpixels, raw, boundary)
    first, second = nodes[uv_ids[:, 0]], nodes[uv_ids[:, 1]]
    combined = np.stack([np.minimum(first, second), np.maximum(first, second), np.abs(first - second)], axis=2)
    centroids = node_centroids(superpixels)
    distance = np.linalg.norm(centroids[uv_ids[:, 0]] - centroids[uv_ids[:, 1]], axis=1)
    radius = np.sqrt(np.minimum(first[:, 0], second[:, 0]) / np.pi)
    geometry = np.stack([length, distance, length / np.maximum(radius, 1e-6)], axis=1)
    return np.concatenate([*columns, combined.reshape(len(uv_ids), -1), geometry], axis=1).astype(np.float32)


def node_statistics(superpixels: np.ndarray, raw: np.ndarray, boundary: np.ndarray) -> np.ndarray:
    """float64 (n_nodes, 5): per superpixel the columns of :data:`NODE_STATS`.

    By ``np.bincount`` rather than elf's ``compute_region_features`` (regionprops with Python callbacks): far faster.

    Args:
        superpixels: 2D ids consecutive from 0.
        raw: the grey slice as float in [0, 1].
        boundary: its boundary map.
    """
    ids = superpixels.ravel()
    n_nodes = int(ids.max()) + 1
    size = np.bincount(ids, minlength=n_nodes).astype(np.float64)
    safe = np.maximum(size, 1.0)
    columns = [size]
    for image in (raw, boundary):
        values = image.ravel().astype(np.float64)
        mean = np.bincount(ids, values, n_nodes) / safe
        square = np.bincount(ids, values * values, n_nodes) / safe
        columns += [mean, np.sqrt(np.maximum(square - mean * mean, 0.0))]
    return np.stack(columns, axis=1)


def node_centroids(superpixels: np.ndarray) -> np.ndarray:
    """float64 (n_nodes, 2): centroid (row, column) of each superpixel (2D ids consecutive from 0)."""
    ids = superpixels.ravel()
    n_nodes = int(ids.max()) + 1
    rows, cols = np.indices(superpixels.shape)
    size = np.maximum(np.bincount(ids, minlength=n_nodes), 1)
    return np.stack(
        [np.bincount(ids, rows.ravel(), n_nodes) / size, np.bincount(ids, cols.ravel(), n_nodes) / size], axis=1
    )
