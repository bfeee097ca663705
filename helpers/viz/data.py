"""Figures of chapter 00: the data and the check of the VGG weight layout, drawn for the book's column."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figures import COLUMN_WIDTH_IN, PIXEL_UNIT, random_label_colors


def show_isbi_sample(raw: np.ndarray, labels: np.ndarray, gt: np.ndarray, index: int) -> plt.Figure:
    """Slice ``index``: raw, binary membrane labels (0 membrane, 255 cell) and dense ground truth, one column wide."""
    fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH_IN, 2.9), sharey=True)
    axes[0].imshow(raw, cmap="gray")
    axes[0].set_title(f"slice {index} (raw)", fontsize=10)
    axes[1].imshow(labels, cmap="gray")
    axes[1].set_title("labels (0 membrane, 255 cell)", fontsize=10)
    axes[2].imshow(random_label_colors(gt))
    axes[2].set_title(f"dense ground truth, {len(np.unique(gt))} cells", fontsize=10)
    axes[1].set_xlabel(f"x ({PIXEL_UNIT})")
    axes[0].set_ylabel("y (pixels)")
    fig.tight_layout()
    return fig


def show_hed_check(
    image: np.ndarray,
    gradient: np.ndarray,
    trained: np.ndarray,
    shuffled: np.ndarray,
    auc_trained: float,
    auc_shuffled: float,
    em_slice: np.ndarray,
    em_edges: np.ndarray,
) -> plt.Figure:
    """The weight-layout check in three rows: photo and its gradient, HED with real and shuffled weights, HED on EM.

    Args:
        image: the photo (RGB in [0, 1]).
        gradient: its Sobel gradient magnitude.
        trained: HED's edge map with the bundled weights.
        shuffled: HED's edge map with shuffled weights (the control).
        auc_trained: ROC AUC of ``trained`` against the strong gradients.
        auc_shuffled: the same for ``shuffled``.
        em_slice: a raw EM crop.
        em_edges: HED's edge map of it.

    Returns:
        The figure, one column wide.
    """
    fig, axes = plt.subplots(3, 2, figsize=(COLUMN_WIDTH_IN, 9.0))
    panels = [
        (image, None, "photo (input)"),
        (gradient, "magma", "Sobel gradient magnitude"),
        (trained, "gray_r", f"HED, bundled weights\nAUC vs strong gradients {auc_trained:.2f}"),
        (shuffled, "gray_r", f"HED, shuffled weights (control)\nAUC {auc_shuffled:.2f}"),
        (em_slice, "gray", "ISBI slice (raw)"),
        (em_edges, "gray_r", "HED edge map on EM\n(candidate boundary map)"),
    ]
    for ax, (picture, cmap, title) in zip(axes.flat, panels):
        shown = ax.imshow(picture, cmap=cmap)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        if cmap is not None and cmap != "gray":
            label = "edge probability" if "HED" in title else "gradient (a.u.)"
            fig.colorbar(shown, ax=ax, fraction=0.046, label=label)
    fig.tight_layout()
    return fig
