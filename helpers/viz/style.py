"""Figures of chapters 01, 02 and their appendices A1, A2: style transfer, loss curves, the engine benchmark, washout.

All are drawn for the book's column (:data:`helpers.viz.figures.COLUMN_WIDTH_IN`), legends below the data.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import COLUMN_WIDTH_IN

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
    ("membrane_contrast", "membrane contrast\n(stylised / original)"),
    ("contrast", "grey-level std\n(stylised / original)"),
)
GRID_COLUMNS = 6  # image columns per block of a grid: more are wrapped into further blocks below
LABEL_CHARS = 16  # wrap column labels of image grids at this many characters


def _legend_below(fig: plt.Figure, ax: plt.Axes, columns: int = 2) -> None:
    """One legend for the figure, below its panels (never over the data)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=columns, frameon=False, bbox_to_anchor=(0.5, 0.0))


def _wrap(text: str, width: int) -> str:
    """A label wrapped at ``width`` characters, its own line breaks kept."""
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def show_style_triptychs(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str, str]]) -> plt.Figure:
    """Content | style | stylised, one row per example (the report's Figures 4-6), one column wide.

    ``rows``: ``(content RGB, style RGB, stylised RGB, content title, style title)``, images in [0, 1].
    """
    cell = COLUMN_WIDTH_IN / 3
    fig, axes = plt.subplots(len(rows), 3, figsize=(COLUMN_WIDTH_IN, cell * 0.85 * len(rows) + 0.3), squeeze=False)
    for ax_row, (content, style, result, content_title, style_title) in zip(axes, rows):
        for ax, picture, title in zip(ax_row, (content, style, result), (content_title, style_title, "stylised")):
            ax.imshow(np.clip(picture, 0, 1), cmap="gray" if picture.ndim == 2 else None)
            ax.set_title(textwrap.fill(title, 28), fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        ax_row[0].set_ylabel(f"{content.shape[0]} x {content.shape[1]} px", fontsize=9)
    fig.tight_layout()
    return fig


def show_loss_curves(histories: dict[str, dict[str, np.ndarray]], alpha: float, beta: float) -> plt.Figure:
    """Content, weighted style and total loss (eq. 1, 4, 5) per function evaluation, log scale, one line per run.

    Args:
        histories: ``{run label: StyleResult.history}``.
        alpha: the content weight the runs used.
        beta: the style weight the runs used.

    Returns:
        The three losses stacked, sharing the step axis, the runs' legend below.
    """
    weights = {"alpha": alpha, "beta": beta, None: 1.0}
    fig, axes = plt.subplots(3, 1, figsize=(COLUMN_WIDTH_IN, 7.4), sharex=True)
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
        ax.set_ylabel("weighted loss")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("function evaluation (step)")
    fig.tight_layout(rect=(0, 0.045, 1, 1))
    _legend_below(fig, axes[0], columns=min(3, len(histories)))
    return fig


def show_benchmark_losses(result: dict) -> plt.Figure:
    """Total loss per step in a ``benchmarks/style_benchmark.py`` result, one panel per (content, style) pair.

    Lines: the sequential loop, the batched engine(s) and the loop on 1e-6-perturbed input (its noise floor).
    """
    runs = result["loss_histories"]
    n = len(runs["sequential"])
    cols = min(n, 2 if n <= 6 else 3)
    rows = -(-n // cols)
    height = 2.4 if cols < 3 else 1.9  # inches per row of panels
    fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_WIDTH_IN, height * rows + 0.8), squeeze=False, sharex=True)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        for name, histories in runs.items():
            color, line, label = BENCHMARK_RUNS.get(name, (None, "-", name.replace("_", " ")))
            ax.plot(np.arange(1, len(histories[i]) + 1), histories[i], color=color, linestyle=line, lw=1.2, label=label)
        ax.set_yscale("log")
        ax.set_title(f"slice {i % 30}, style {result['styles'][i]:02d}", fontsize=9)
        if i % cols == 0:
            ax.set_ylabel("total loss (eq. 5)")
        if i >= n - cols:
            ax.set_xlabel("function evaluation (step)" if cols < 3 else "step")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result['size']} px, {result['steps']} steps, {result['device_name']}", fontsize=10)
    fig.tight_layout(rect=(0, 0.35 / (height * rows + 0.8), 1, 1))
    _legend_below(fig, axes.flat[0], columns=len(runs))
    return fig


def benchmark_table(results: dict[str, dict]) -> pd.DataFrame:
    """The committed engine benchmarks (``{name: result}`` of ``benchmarks/style_benchmark.py``) side by side.

    Returns one column per benchmark, one row per measure (speed, spread of final losses; 3 significant digits), with
    the quality verdict and the batch-independence comparison where recorded.
    """
    columns = {}
    for name, result in results.items():
        batched = result["batched"]["fp32"]
        floor = result["sequential_noise_floor"]
        criterion = batched.get("criterion")
        independence = result.get("batch_independence")
        if criterion is None:
            verdict = f"not judged ({result['pairs']} pairs)"
        elif not criterion["enough_pairs"]:
            verdict = f"not judged ({criterion['pairs']} pairs < {criterion['min_pairs']})"
        else:
            verdict = "passed" if criterion["passed"] else "failed"
        columns[name.removeprefix("style_benchmark").strip("_") or "default"] = {
            "device": result["device_name"],
            "pairs x steps, size": f"{result['pairs']} x {result['steps']}, {result['size']} px",
            "sequential, image-it/s": f"{result['sequential']['image_iterations_per_s']:.3g}",
            "batched, image-it/s": f"{batched['image_iterations_per_s']:.3g}",
            "median |ln r|: batched": f"{batched['abs_log_ratio_median']:.3g}",
            "median |ln r|: noise floor": f"{floor['abs_log_ratio_median']:.3g}",
            "geometric-mean ratio": f"{batched['loss_ratio_geometric_mean']:.3g}",
            "quality criterion": verdict,
            "median |ln r|: batch vs alone": f"{independence['abs_log_ratio_median']:.3g}" if independence else "-",
        }
    return pd.DataFrame(columns)


def show_image_grid(
    images: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str], title: str, cell: float = 1.6
) -> plt.Figure:
    """A grid of images, labelled by row and column; more than :data:`GRID_COLUMNS` columns wrap into blocks.

    Args:
        images: rows of images (RGB or grey; float in [0, 1] or uint8).
        row_labels: one per row.
        col_labels: one per column.
        title: the figure's title.
        cell: size of one cell, inches (shrunk so that the grid fits the book's column).

    Returns:
        The figure.
    """
    n_rows, n_cols = len(images), len(images[0])
    width = min(n_cols, GRID_COLUMNS)
    blocks = [range(start, min(start + width, n_cols)) for start in range(0, n_cols, width)]
    cell = min(cell, (COLUMN_WIDTH_IN - 0.5) / width)
    grid_rows = n_rows * len(blocks)
    fig, axes = plt.subplots(
        grid_rows, width, figsize=(cell * width + 0.5, (cell + 0.15) * grid_rows + 0.8), squeeze=False
    )
    for b, block in enumerate(blocks):
        for r, row in enumerate(images):
            for position in range(width):
                ax = axes[b * n_rows + r, position]
                ax.set_xticks([])
                ax.set_yticks([])
                if position >= len(block):
                    ax.axis("off")
                    continue
                c = block[position]
                picture = row[c]
                top = 255 if np.asarray(picture).dtype == np.uint8 else 1
                ax.imshow(picture, cmap="gray" if np.ndim(picture) == 2 else None, vmin=0, vmax=top)
                if r == 0:
                    ax.set_title(_wrap(col_labels[c], LABEL_CHARS), fontsize=9)
                if position == 0:
                    ax.set_ylabel(_wrap(row_labels[r], LABEL_CHARS + 4), fontsize=9)
    fig.suptitle(textwrap.fill(title, 70), fontsize=10)
    fig.tight_layout()
    return fig


def show_washout_scores(rows: list[dict]) -> plt.Figure:
    """Per style and step count: membrane and grey-level contrast of the stylised slices relative to the original.

    ``rows`` are :func:`helpers.style.washout.washout_table` rows; the two measures stacked, one box per style and step
    count (over slices).
    """
    styles = sorted({row["style"] for row in rows})
    step_counts = sorted({row["steps"] for row in rows})
    width = 0.8 / len(step_counts)
    colours = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(2, 1, figsize=(COLUMN_WIDTH_IN, 5.6), sharex=True)
    for ax, (measure, label) in zip(axes, WASHOUT_MEASURES):
        for k, steps in enumerate(step_counts):
            values = [[row[measure] for row in rows if (row["style"], row["steps"]) == (s, steps)] for s in styles]
            positions = np.arange(len(styles)) + (k - (len(step_counts) - 1) / 2) * width
            boxes = ax.boxplot(values, positions=positions, widths=0.9 * width, patch_artist=True, showfliers=True)
            for box in boxes["boxes"]:
                box.set(facecolor=colours[k % len(colours)], alpha=0.6)
            for median in boxes["medians"]:
                median.set(color="k")
            ax.plot([], [], "s", color=colours[k % len(colours)], alpha=0.6, label=f"{steps} steps")
        ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="original")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    axes[-1].set_xticks(np.arange(len(styles)), [f"{s:02d}" for s in styles])
    axes[-1].set_xlabel("painting (report number)")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _legend_below(fig, axes[0], columns=len(step_counts) + 1)
    return fig


def show_relative_style_curves(curves: dict[str, dict[str, np.ndarray]]) -> plt.Figure:
    """Style loss per step relative to its start, a panel per network (shared log y), a line per (photo, painting) pair.

    ``curves``: ``{network: {pair label: (steps,) style loss / style loss at the start}}``.
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(COLUMN_WIDTH_IN, 3.6), sharey=True, squeeze=False)
    for ax, (network, lines) in zip(axes[0], curves.items()):
        for label, values in lines.items():
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set_yscale("log")
        ax.set_title(textwrap.fill(network, 24), fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("style loss / the photo's")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    _legend_below(fig, axes[0, 0], columns=min(3, len(next(iter(curves.values())))))
    return fig
