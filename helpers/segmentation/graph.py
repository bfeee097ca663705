"""The region adjacency graph of a superpixel image, and edge labels from the ground truth.

Superpixels are nodes; touching ones share an edge. An edge's *cut fraction* is the chance that two random pixels,
one from each superpixel, lie in different ground-truth cells. As in the report's code only *confident* edges train
(cut fraction < 0.2: merge, > 0.8: cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import bioimage_cpp
import numpy as np
from scipy import sparse

from .checks import label_image

Rag = bioimage_cpp.graph.RegionAdjacencyGraph


@dataclass
class Graph:
    """A region adjacency graph in plain arrays: ``n_nodes`` and ``uv_ids`` (n_edges, 2), ``u < v``."""

    n_nodes: int
    uv_ids: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(len(self.uv_ids))


@dataclass(frozen=True)
class EdgeLabels:
    """Ground-truth labels of every edge of a graph."""

    cut_fraction: np.ndarray  # (n_edges,) chance that the two sides lie in different cells
    labels: np.ndarray  # (n_edges,) uint8, 1 = cut (majority), 0 = merge
    confident: np.ndarray  # (n_edges,) bool, the edges used for training


def region_adjacency_graph(superpixels: np.ndarray, n_threads: int = 0) -> Rag:
    """bioimage-cpp's region adjacency graph of a superpixel image.

    Args:
        superpixels: 2D ids consecutive from 0.
        n_threads: threads (0: all cores).

    Raises:
        ValueError: when the ids are not consecutive from 0 (empty ids would become isolated nodes).
    """
    superpixels = label_image(superpixels)
    if len(np.unique(superpixels)) != int(superpixels.max()) + 1 or int(superpixels.min()) != 0:
        raise ValueError(
            "superpixel ids must be consecutive from 0 (empty ids become isolated graph nodes): "
            "relabel with helpers.segmentation.superpixels.consecutive(superpixels)"
        )
    return bioimage_cpp.graph.region_adjacency_graph(superpixels, number_of_threads=n_threads)


def as_graph(rag: Rag) -> Graph:
    """Plain-array form (node count, edge list) of a bioimage-cpp region adjacency graph."""
    return Graph(int(rag.number_of_nodes), np.asarray(rag.uv_ids(), dtype=np.int64))


def cut_fraction(rag: Rag, superpixels: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(n_edges,) cut fractions in [0, 1], from bioimage-cpp's superpixel/ground-truth overlap table.

    Written by hand: elf's ``compute_edge_labels`` gives only the 0/1 majority; the confident-edge rule needs this.

    Args:
        rag: the graph of ``superpixels``.
        superpixels: 2D ids consecutive from 0.
        gt: the dense ground truth of the same slice.

    Raises:
        ValueError: when ``gt`` and ``superpixels`` differ in shape.
    """
    superpixels = label_image(superpixels)
    gt = np.asarray(gt)
    if gt.shape != superpixels.shape:
        raise ValueError(
            f"ground truth {gt.shape} and superpixels {superpixels.shape} differ in shape: "
            "pass the dense ground truth of the same slice/crop"
        )
    table = bioimage_cpp.utils.segmentation_overlap(superpixels, gt.astype(np.uint32)).overlap_table()
    n_nodes = int(rag.number_of_nodes)
    overlap = sparse.csr_matrix(
        (table["count"].astype(np.float64), (table["label_a"].astype(np.int64), table["label_b"].astype(np.int64))),
        shape=(n_nodes, int(gt.max()) + 1),
    )
    totals = np.asarray(overlap.sum(axis=1)).ravel()
    share = sparse.diags(1.0 / np.maximum(totals, 1.0)) @ overlap
    uv_ids = np.asarray(rag.uv_ids(), dtype=np.int64)
    same = np.asarray(share[uv_ids[:, 0]].multiply(share[uv_ids[:, 1]]).sum(axis=1)).ravel()
    return np.clip(1.0 - same, 0.0, 1.0)


def edge_labels(rag: Rag, superpixels: np.ndarray, gt: np.ndarray, low: float = 0.2, high: float = 0.8) -> EdgeLabels:
    """Edge labels from the ground truth and the mask of confident edges.

    Args:
        rag: the graph of ``superpixels``.
        superpixels: 2D ids consecutive from 0.
        gt: the dense ground truth of the same slice.
        low: confident merge edges have a cut fraction below this (the report: 0.2).
        high: confident cut edges have a cut fraction above this (the report: 0.8).

    Returns:
        Cut fractions, labels (1 = cut; unconfident edges get their majority, for the upper bound), confident mask.

    Raises:
        ValueError: unless ``0 <= low <= high <= 1``, or when shapes differ.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low}, high={high}")
    fraction = cut_fraction(rag, superpixels, gt)
    return EdgeLabels(fraction, (fraction > 0.5).astype(np.uint8), (fraction < low) | (fraction > high))
