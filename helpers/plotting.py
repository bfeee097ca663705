"""Figures shared by the notebooks: labelled, with units and legends, saved under ``figures/``.

Shared module: each notebook stage adds its own functions here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .paths import figure_path


def save(fig: plt.Figure, name: str, dpi: int = 110) -> Path:
    """Save a figure as ``figures/<name>`` (PNG, or PDF when the name ends in .pdf) and return the path."""
    path = figure_path(name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def random_label_colors(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """RGB image with one random colour per label id (0 stays black)."""
    rng = np.random.default_rng(seed)
    palette = rng.uniform(0.15, 1.0, size=(int(labels.max()) + 1, 3))
    palette[0] = 0
    return palette[labels]


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
        ax.set_xlabel("x (pixels, 4 nm each)")
        ax.set_ylabel("y (pixels)")
    fig.tight_layout()
    return fig


def show_hed_check(image: np.ndarray, gradient: np.ndarray, trained: np.ndarray, shuffled: np.ndarray,
                   auc_trained: float, auc_shuffled: float, em_slice: np.ndarray, em_edges: np.ndarray) -> plt.Figure:
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
            fig.colorbar(shown, ax=ax, fraction=0.046, label="edge probability" if "HED" in title else "gradient (a.u.)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- style transfer (notebooks 01, 02)


def show_style_triptychs(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str, str]]) -> plt.Figure:
    """Content | style | stylised, one row per example (the report's Figures 4-6).

    ``rows``: (content RGB, style RGB, stylised RGB, content title, style title); images in [0, 1].
    """
    fig, axes = plt.subplots(len(rows), 3, figsize=(12, 3.6 * len(rows)), squeeze=False)
    for ax_row, (content, style, result, content_title, style_title) in zip(axes, rows):
        for ax, picture, title in zip(ax_row, (content, style, result), (content_title, style_title, "stylised")):
            ax.imshow(np.clip(picture, 0, 1), cmap="gray" if picture.ndim == 2 else None)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        ax_row[0].set_ylabel(f"{content.shape[0]} x {content.shape[1]} px")
    fig.tight_layout()
    return fig


def show_loss_curves(histories: dict[str, dict[str, np.ndarray]], alpha: float, beta: float) -> plt.Figure:
    """Content, weighted style and total loss (eq. 1, 4, 5) per function evaluation, log scale, one line per run."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = (("content", alpha, r"$\alpha\,L_{content}$ (eq. 1)"), ("style", beta, r"$\beta\,L_{style}$ (eq. 4)"),
              ("total", 1.0, r"$L = \alpha L_{content} + \beta L_{style}$ (eq. 5)"))
    for ax, (key, weight, title) in zip(axes, panels):
        for label, history in histories.items():
            values = weight * np.asarray(history[key])
            ax.plot(np.arange(1, len(values) + 1), np.maximum(values, 1e-12), label=label)
        ax.set_yscale("log")
        ax.set_xlabel("function evaluation (step)")
        ax.set_ylabel("loss (weighted, log scale)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_image_grid(images: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str], title: str,
                    cell: float = 2.6) -> plt.Figure:
    """A grid of images (RGB in [0, 1] or grey), labelled by row and column."""
    n_rows, n_cols = len(images), len(images[0])
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows + 0.6), squeeze=False)
    for r, row in enumerate(images):
        for c, picture in enumerate(row):
            ax = axes[r, c]
            ax.imshow(picture, cmap="gray" if np.ndim(picture) == 2 else None, vmin=0, vmax=255 if np.asarray(picture).dtype == np.uint8 else 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(col_labels[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_washout_scores(rows: list[dict]) -> plt.Figure:
    """Per style and step count: membrane contrast and grey-level contrast of the stylised slices vs the original."""
    keys = sorted({(row["style"], row["steps"]) for row in rows})
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.7 * len(keys) + 4), 4.2))
    for ax, measure, label in ((axes[0], "membrane_contrast", "membrane contrast (stylised / original)"),
                               (axes[1], "contrast", "grey-level std (stylised / original)")):
        values = [[row[measure] for row in rows if (row["style"], row["steps"]) == key] for key in keys]
        ax.boxplot(values, showfliers=True)
        ax.set_xticks(range(1, len(keys) + 1), [f"{s:02d}\n{st}" for s, st in keys], fontsize=8)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="original")
        ax.set_xlabel("style number / steps")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("How much of the membranes survives stylisation (one box per style and step count, over slices)")
    fig.tight_layout()
    return fig
