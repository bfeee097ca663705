"""Figures of chapters 01 and 02: style transfer examples, loss curves, the benchmark and the washout scores."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

LOSS_PANELS = (
    ("content", "alpha", r"$\alpha\,L_{content}$ (eq. 1)"),
    ("style", "beta", r"$\beta\,L_{style}$ (eq. 4)"),
    ("total", None, r"$L = \alpha L_{content} + \beta L_{style}$ (eq. 5)"),
)
BENCHMARK_RUNS = {  # run name in the benchmark JSON: (colour, line style, legend)
    "sequential": ("k", "-", "sequential (tutorial loop)"),
    "sequential_noisy_input": ("0.55", "--", "sequential, input + 1e-6 noise"),
}
WASHOUT_MEASURES = (
    ("membrane_contrast", "membrane contrast (stylised / original)"),
    ("contrast", "grey-level std (stylised / original)"),
)


def show_style_triptychs(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str, str]]) -> plt.Figure:
    """Content | style | stylised, one row per example (the report's Figures 4-6).

    Args:
        rows: ``(content RGB, style RGB, stylised RGB, content title, style title)``; images in [0, 1].

    Returns:
        The figure.
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
    """Content, weighted style and total loss (eq. 1, 4, 5) per function evaluation, log scale, one line per run.

    Args:
        histories: ``{run label: StyleResult.history}``.
        alpha: the content weight the runs used.
        beta: the style weight the runs used.

    Returns:
        The figure.
    """
    weights = {"alpha": alpha, "beta": beta, None: 1.0}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, (key, weight_name, title) in zip(axes, LOSS_PANELS):
        weight = weights[weight_name]
        for label, history in histories.items():
            values = weight * np.asarray(history[key], dtype=float)
            values[values <= 0] = np.nan  # the content loss is exactly 0 at the start (x = p): not on a log axis
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set_yscale("log")
        # the first L-BFGS step is tiny (1/|grad|_1), so the content loss starts near 1e-12: scale the axis to
        # the values from the third evaluation on
        later = [weight * v for h in histories.values() for v in np.asarray(h[key], float)[2:] if v > 0]
        if later:
            ax.set_ylim(bottom=0.5 * min(later))
        ax.set_xlabel("function evaluation (step)")
        ax.set_ylabel("loss (weighted, log scale)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_benchmark_losses(result: dict) -> plt.Figure:
    """Total loss per step of each benchmark pair, one panel per (content, style) pair.

    The sequential loop, the batched engine(s) and the sequential loop on 1e-6-perturbed input (its noise floor).

    Args:
        result: a benchmark result (:func:`benchmarks.readers.read_benchmark`).

    Returns:
        The figure.
    """
    runs = result["loss_histories"]
    n = len(runs["sequential"])
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        for name, histories in runs.items():
            color, line, label = BENCHMARK_RUNS.get(name, (None, "-", name.replace("_", " ")))
            ax.plot(np.arange(1, len(histories[i]) + 1), histories[i], color=color, linestyle=line, lw=1.2, label=label)
        ax.set_yscale("log")
        ax.set_title(f"pair {i}: slice {i % 30}, style {result['styles'][i]:02d}", fontsize=9)
        ax.set_xlabel("function evaluation (step)")
        ax.set_ylabel("total loss (eq. 5)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(
        f"Style benchmark, {result['size']} px, {result['steps']} steps, on {result['device_name']}: "
        "same pairs, three runs",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def show_image_grid(
    images: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str], title: str, cell: float = 2.6
) -> plt.Figure:
    """A grid of images, labelled by row and column.

    Args:
        images: rows of images (RGB or grey; float in [0, 1] or uint8).
        row_labels: one per row.
        col_labels: one per column.
        title: the figure's title.
        cell: size of one cell, inches.

    Returns:
        The figure.
    """
    n_rows, n_cols = len(images), len(images[0])
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows + 0.6), squeeze=False)
    for r, row in enumerate(images):
        for c, picture in enumerate(row):
            ax = axes[r, c]
            top = 255 if np.asarray(picture).dtype == np.uint8 else 1
            ax.imshow(picture, cmap="gray" if np.ndim(picture) == 2 else None, vmin=0, vmax=top)
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
    """Per style and step count: membrane contrast and grey-level contrast of the stylised slices vs the original.

    Args:
        rows: :func:`helpers.style.washout.washout_table` rows.

    Returns:
        The figure: one box per style and step count, over slices.
    """
    keys = sorted({(row["style"], row["steps"]) for row in rows})
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.7 * len(keys) + 4), 4.2))
    for ax, (measure, label) in zip(axes, WASHOUT_MEASURES):
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


def show_relative_style_curves(curves: dict[str, dict[str, np.ndarray]]) -> plt.Figure:
    """Style loss per step relative to its start, one panel per network, one line per (photo, painting) pair.

    Args:
        curves: ``{network: {pair label: (steps,) style loss / style loss at the start}}``.

    Returns:
        The figure (shared log y axis, so the networks compare directly).
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.8), sharey=True, squeeze=False)
    for ax, (network, lines) in zip(axes[0], curves.items()):
        for label, values in lines.items():
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set_yscale("log")
        ax.set_title(network, fontsize=10)
        ax.set_xlabel("function evaluation (step)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("style loss / style loss of the photo")
    axes[0, -1].legend(fontsize=8)
    fig.tight_layout()
    return fig
