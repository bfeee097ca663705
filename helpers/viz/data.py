"""Figures of chapter 00: the data and the check of the VGG weight layout."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figures import PIXEL_UNIT, random_label_colors


def show_isbi_sample(raw: np.ndarray, labels: np.ndarray, gt: np.ndarray, index: int) -> plt.Figure:
    """Raw slice, binary membrane labels and dense instance ground truth side by side."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.3))
    axes[0].imshow(raw, cmap="gray")
    axes[0].set_title(f"ISBI 2012 training slice {index} (raw)")
    axes[1].imshow(labels, cmap="gray")
    axes[1].set_title("membrane labels (0 membrane, 255 cell)")
    axes[2].imshow(random_label_colors(gt))
    axes[2].set_title(f"dense ground truth ({len(np.unique(gt))} cells)")
    for ax in axes:
        ax.set_xlabel(f"x ({PIXEL_UNIT})")
        ax.set_ylabel("y (pixels)")
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
    """The weight-layout check: photo, its gradient, HED with the real and with shuffled weights, HED on EM."""
    fig, axes = plt.subplots(1, 6, figsize=(22, 4.2))
    panels = [
        (image, None, "photo (input)"),
        (gradient, "magma", "Sobel gradient magnitude"),
        (trained, "gray_r", f"HED, bundled weights\nAUC vs strong gradients = {auc_trained:.2f}"),
        (shuffled, "gray_r", f"HED, shuffled weights (control)\nAUC = {auc_shuffled:.2f}"),
        (em_slice, "gray", "ISBI slice (raw)"),
        (em_edges, "gray_r", "HED edge map on EM\n(candidate boundary map)"),
    ]
    for ax, (picture, cmap, title) in zip(axes, panels):
        shown = ax.imshow(picture, cmap=cmap)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        if cmap is not None and cmap != "gray":
            fig.colorbar(
                shown, ax=ax, fraction=0.046, label="edge probability" if "HED" in title else "gradient (a.u.)"
            )
    fig.tight_layout()
    return fig
