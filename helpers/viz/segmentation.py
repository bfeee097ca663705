"""Figures of chapters 03-05: boundary maps, superpixels, the graph, the edge classifier and the segmentations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from skimage.segmentation import mark_boundaries

from ..segmentation.features import node_centroids
from .figures import COLUMN_WIDTH_IN, label_grid_axes, label_pixel_axes

BOUNDARY_CMAP = "magma"
EDGE_CMAP = "coolwarm"


def image_grid(n_panels: int, columns: int, title_lines: int = 1) -> tuple[plt.Figure, np.ndarray]:
    """A grid of square image panels as wide as the book's column; unused panels are switched off.

    Args:
        n_panels: how many panels.
        columns: panels per row (fewer when there are fewer panels).
        title_lines: lines of each panel's title (for the height).

    Returns:
        The figure and its first ``n_panels`` axes, row by row.
    """
    columns = min(columns, n_panels)
    rows = -(-n_panels // columns)
    side = COLUMN_WIDTH_IN / columns
    fig, axes = plt.subplots(rows, columns, figsize=(COLUMN_WIDTH_IN, rows * (side + 0.2 * title_lines)), squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    return fig, axes.flat[:n_panels]


def superpixel_overlay(
    raw: np.ndarray, superpixels: np.ndarray, color: tuple[float, float, float] = (1.0, 0.25, 0.1)
) -> np.ndarray:
    """The grey slice as RGB float with the superpixel (or segment) borders drawn in ``color``.

    ``raw`` uint8 is divided by 255, anything else by its maximum; ``superpixels`` is a label image of its shape.
    """
    grey = raw.astype(np.float32) / (255.0 if raw.dtype == np.uint8 else max(float(raw.max()), 1e-6))
    return mark_boundaries(np.dstack([grey] * 3), superpixels, color=color, mode="inner")


def edge_image(superpixels: np.ndarray, uv_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Paint every graph edge's value along its pixels: float32, NaN off the boundaries.

    Args:
        superpixels: 2D ids consecutive from 0.
        uv_ids: (n_edges, 2) node pairs of the superpixels' graph.
        values: one value per edge.

    Returns:
        The painted image.
    """
    n_nodes = int(superpixels.max()) + 1
    keys = uv_ids[:, 0].astype(np.int64) * n_nodes + uv_ids[:, 1]
    order = np.argsort(keys)
    painted = np.full(superpixels.shape, np.nan, dtype=np.float32)
    neighbours = (
        (superpixels[:, :-1], superpixels[:, 1:], (slice(None), slice(0, -1))),
        (superpixels[:-1, :], superpixels[1:, :], (slice(0, -1), slice(None))),
    )
    for first, second, where in neighbours:
        differ = first != second
        low = np.minimum(first, second)[differ].astype(np.int64)
        high = np.maximum(first, second)[differ].astype(np.int64)
        index = order[np.searchsorted(keys, low * n_nodes + high, sorter=order)]
        view = painted[where]
        view[differ] = values[index]
    return painted


def show_boundary_maps(raw: np.ndarray, maps: dict[str, np.ndarray], labels: np.ndarray | None = None) -> plt.Figure:
    """The raw slice (and its membrane ``labels`` unless None) next to each boundary map in [0, 1], three a row."""
    panels = [("raw", raw, "gray")]
    if labels is not None:
        panels.append(("membrane labels\n(black = membrane)", labels, "gray"))
    panels += [(name, image, BOUNDARY_CMAP) for name, image in maps.items()]
    fig, axes = image_grid(len(panels), 3, title_lines=2)
    shown = None
    for ax, (_, image, cmap) in zip(axes, panels):
        is_map = cmap == BOUNDARY_CMAP
        drawn = ax.imshow(image, cmap=cmap, vmin=0 if is_map else None, vmax=1 if is_map else None)
        shown = drawn if is_map else shown
    label_grid_axes(axes, [title for title, _, _ in panels], 3)
    fig.tight_layout()
    if shown is not None:
        fig.colorbar(shown, ax=list(axes), orientation="horizontal", fraction=0.04, pad=0.1, label="boundary strength")
    return fig


def show_watershed_figures(
    raw: np.ndarray, boundary: np.ndarray, without: np.ndarray, with_filter: np.ndarray, filter_name: str = "Frangi"
) -> plt.Figure:
    """The report's Figures 7 and 8 in a 2 x 2 grid: slice, raw watershed, filter response, filtered watershed.

    Args:
        raw: the grey slice.
        boundary: the filter's boundary map.
        without: superpixels of the watershed on the raw image.
        with_filter: superpixels of the watershed on the boundary map.
        filter_name: the filter's name in the titles.

    Returns:
        The figure.
    """
    fig, axes = image_grid(4, 2, title_lines=2)
    axes[0].imshow(raw, cmap="gray")
    axes[1].imshow(superpixel_overlay(raw, without))
    shown = axes[2].imshow(boundary, cmap=BOUNDARY_CMAP, vmin=0, vmax=1)
    axes[3].imshow(superpixel_overlay(raw, with_filter))
    titles = [
        "the slice",
        f"Fig. 7: watershed on the raw image\n{len(np.unique(without))} superpixels",
        f"Fig. 8b: {filter_name} response (0-1)",
        f"Fig. 8c: watershed on the {filter_name} map\n{len(np.unique(with_filter))} superpixels",
    ]
    label_grid_axes(axes, titles, 2)
    fig.tight_layout()
    fig.colorbar(shown, ax=axes[2], fraction=0.046)
    return fig


def show_rag(
    raw: np.ndarray,
    superpixels: np.ndarray,
    uv_ids: np.ndarray,
    values: np.ndarray | None = None,
    title: str = "region adjacency graph",
    value_label: str = "",
    cmap: str = EDGE_CMAP,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """The graph drawn on the slice: a dot per superpixel (at its centroid), a line per edge.

    Args:
        raw: the grey slice.
        superpixels: 2D ids consecutive from 0.
        uv_ids: (n_edges, 2) node pairs.
        values: one value in [0, 1] per edge colouring its line (None: all lines cyan).
        title: the panel's title.
        value_label: the colour bar's label.
        cmap: the lines' colour map.
        ax: the panel to draw in (None: a new figure).

    Returns:
        The figure.
    """
    fig, ax = plt.subplots(figsize=(7, 7)) if ax is None else (ax.figure, ax)
    ax.imshow(superpixel_overlay(raw, superpixels, color=(0.9, 0.9, 0.2)))
    centroids = node_centroids(superpixels)[:, ::-1]  # (x, y)
    segments = np.stack([centroids[uv_ids[:, 0]], centroids[uv_ids[:, 1]]], axis=1)
    coloured = values is not None
    lines = LineCollection(
        segments, cmap=cmap if coloured else None, linewidths=1.2, colors=None if coloured else "tab:cyan"
    )
    if coloured:
        lines.set_array(np.asarray(values, dtype=float))
        lines.set_clim(0, 1)
    ax.add_collection(lines)
    ax.plot(centroids[:, 0], centroids[:, 1], ".", color="tab:blue", markersize=3, label="node (superpixel)")
    if coloured:
        fig.colorbar(lines, ax=ax, fraction=0.046, label=value_label)
    ax.set_xlim(0, raw.shape[1])
    ax.set_ylim(raw.shape[0], 0)
    label_pixel_axes(ax, f"{title}: {len(centroids)} nodes, {len(uv_ids)} edges")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    return fig


def show_superpixel_counts(counts: dict[str, list[int]]) -> plt.Figure:
    """Superpixels per slice for each over-segmentation (box plot, log axis) from ``counts`` by over-segmentation."""
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.5 * len(counts) + 1.2))
    ax.boxplot(list(counts.values())[::-1], tick_labels=list(counts.keys())[::-1], orientation="horizontal")
    ax.set_xscale("log")
    ax.set_xlabel("superpixels per slice (log scale)")
    ax.set_title("Graph size of each over-segmentation")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def show_feature_importances(pairs: list[tuple[str, float]], top: int = 15, title: str = "") -> plt.Figure:
    """Bars of the ``top`` most important features (mean decrease in impurity), ``title`` empty: a default.

    ``pairs``: ``(name, importance)``, most important first (:func:`helpers.segmentation.learning.feature_importances`).
    """
    names, values = zip(*pairs[:top])
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.3 * len(names) + 1.2))
    ax.barh(range(len(names))[::-1], values, color="tab:blue")
    ax.set_yticks(range(len(names))[::-1], names, fontsize=9)
    ax.set_xlabel("mean decrease in impurity (sums to 1 over all features)")
    ax.set_title(title or f"Edge classifier: top {len(names)} features")
    fig.tight_layout()
    return fig


def show_edge_probabilities(
    raw: np.ndarray,
    superpixels: np.ndarray,
    uv_ids: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray | None = None,
    confident: np.ndarray | None = None,
) -> plt.Figure:
    """Each edge's predicted boundary probability painted along its pixels, next to its ground-truth label.

    Args:
        raw: the grey slice, shown underneath.
        superpixels: the superpixels whose shared borders are painted.
        uv_ids: the edges, as in :func:`show_rag`.
        probabilities: predicted probability of a cut per edge.
        labels: ground-truth labels per edge (None: no second panel).
        confident: the confident edges (the others are painted 0.5).

    Returns:
        The figure.
    """
    panels = [(probabilities, "predicted P(boundary)")]
    if labels is not None:
        truth = labels.astype(np.float32)
        if confident is not None:
            truth = np.where(confident, truth, 0.5)
        panels.append((truth, "ground truth (0.5: not confident)"))
    fig, axes = image_grid(len(panels), 2)
    for ax, (values, _) in zip(axes, panels):
        ax.imshow(raw, cmap="gray")
        shown = ax.imshow(
            edge_image(superpixels, uv_ids, values), cmap=EDGE_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
    label_grid_axes(axes, [title for _, title in panels], 2)
    fig.tight_layout()
    fig.colorbar(
        shown, ax=list(axes), orientation="horizontal", fraction=0.05, pad=0.2, label="edge value: 1 cut, 0 merge"
    )
    return fig


def show_segmentations(
    raw: np.ndarray, segmentations: dict[str, np.ndarray], scores: dict[str, dict] | None = None, title: str = ""
) -> plt.Figure:
    """Segment borders over the raw slice, one panel per method, scores in the titles (Figures 12-13).

    Args:
        raw: the grey slice.
        segmentations: label images by method.
        scores: :func:`helpers.segmentation.metrics.evaluate` results by method (None: no scores).
        title: the figure's title.

    Returns:
        The figure.
    """
    n_panels = len(segmentations)
    columns = 2 if n_panels in (2, 4) else 3
    fig, axes = image_grid(n_panels, columns, title_lines=2)
    if n_panels == 1:
        fig.set_size_inches(COLUMN_WIDTH_IN / 2, COLUMN_WIDTH_IN / 2 + 0.4)
    titles = []
    for ax, (name, segmentation) in zip(axes, segmentations.items()):
        ax.imshow(superpixel_overlay(raw, segmentation, color=(1.0, 0.85, 0.0)))
        text = name
        if scores and name in scores:
            text += f"\nRand error {scores[name]['rand_error']:.3f}, VI {scores[name]['vi']:.2f}"
        titles.append(text)
    label_grid_axes(axes, titles, min(columns, n_panels))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_stage_timings(timings: dict[str, dict[str, float]], budget: float | None = None) -> plt.Figure:
    """Stacked bars of seconds per stage, one per pipeline; ``budget`` (None: none) a dashed goal line."""
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.2 + 0.5 * len(timings)))
    stages = list(dict.fromkeys(stage for stage_seconds in timings.values() for stage in stage_seconds))
    colors = plt.cm.tab10(np.arange(len(stages)) % 10)
    for row, stage_seconds in enumerate(timings.values()):
        left = 0.0
        for stage, color in zip(stages, colors):
            width = stage_seconds.get(stage, 0.0)
            ax.barh(row, width, left=left, color=color, label=stage if row == 0 else None)
            left += width
        ax.text(left, row, f" {left:.1f} s", va="center")
    if budget:
        ax.axvline(budget, color="k", ls="--", lw=1, label=f"goal ({budget:.0f} s)")
    ax.set_yticks(range(len(timings)), list(timings))
    ax.set_xlabel("wall time (s)")
    ax.set_title("Whole CPU pipeline, stage by stage")
    fig.tight_layout(rect=(0, 0.3, 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), ncol=3, loc="lower center")
    return fig


def show_beta_sweep(betas: np.ndarray, rows: dict[str, list[dict]]) -> plt.Figure:
    """Rand error and VI against the boundary bias ``betas``; ``rows``: per pipeline, the mean scores at each beta."""
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH_IN, 3.4))
    for name, scores in rows.items():
        for ax, key in zip(axes, ("rand_error", "vi")):
            ax.plot(betas, [means[key] for means in scores], "o-", label=name)
    for ax, key in zip(axes, ("adapted Rand error", "VI (bits)")):
        ax.set_xlabel("boundary bias beta")
        ax.set_ylabel(key)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    fig.suptitle("Scores against beta (mean over the test slices)")
    fig.tight_layout()
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.1, -0.2), ncol=len(rows))
    return fig


def show_edge_label_histogram(fractions: np.ndarray, low: float, high: float) -> plt.Figure:
    """Histogram of the edges' ground-truth cut fractions; label thresholds: merge below ``low``, cut above ``high``.

    ``fractions`` come from :func:`helpers.segmentation.graph.cut_fraction`.
    """
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.6))
    ax.hist(fractions, bins=50, color="tab:gray")
    ax.axvline(low, color="tab:blue", ls="--", label=f"merge below {low}")
    ax.axvline(high, color="tab:red", ls="--", label=f"cut above {high}")
    ax.set_yscale("log")
    ax.set_xlabel("ground-truth cut fraction of an edge")
    ax.set_ylabel("edges (log scale)")
    ax.set_title("Only the confident edges are used for training")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    fig.tight_layout()
    return fig
