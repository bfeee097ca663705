"""Figures of chapter 07 (segment your own data): a loaded stack, intensities of two datasets, transfer scores."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import COLUMN_WIDTH_IN, random_label_colors

SCORES = (("rand_error", "adapted Rand error"), ("vi", "VI (bits)"))
BASELINE_STYLES = {"no merges": ":", "all merged": "--", "best reachable": "-."}


def pixel_axes(fig: plt.Figure, pixel_nm: float) -> plt.Figure:
    """Label ``fig``'s image panels in pixels of ``pixel_nm`` nm; return it. x on the last row, y on the first column.

    Labels on inner panels would run into their neighbours.
    """
    for ax in fig.axes:
        grid = ax.get_subplotspec()
        bottom, left = (True, True) if grid is None else (grid.is_last_row(), grid.is_first_col())
        ax.set_xlabel(f"x (pixels, {pixel_nm:g} nm each)" if bottom else "")
        ax.set_ylabel("y (pixels)" if left else "")
    return fig


def show_stack_sample(raw: np.ndarray, membranes: np.ndarray, gt: np.ndarray, title: str) -> plt.Figure:
    """A slice of a loaded stack (``title``): raw, membrane labels (0 membrane, 255 cell), dense ground truth."""
    panels = [
        (raw, "gray", title),
        (membranes, "gray", "membrane labels\n(0 membrane, 255 cell)"),
        (random_label_colors(gt), None, f"dense ground truth\n({len(np.unique(gt))} cells)"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(COLUMN_WIDTH_IN, 3.3))
    for ax, (image, cmap, text) in zip(axes, panels):
        ax.imshow(image, cmap=cmap)
        ax.set_title(text, fontsize=10)
    fig.tight_layout()
    return fig


def show_intensities(before: dict[str, np.ndarray], after: dict[str, np.ndarray], method: str) -> plt.Figure:
    """Grey-value histograms of several datasets, as loaded and after an intensity normalisation.

    Args:
        before: pixels per dataset as the pipeline reads them (uint8, or float in [0, 1]).
        after: the same pixels normalised (float in [0, 1]).
        method: the normalisation's name.

    Returns:
        The figure.
    """
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH_IN, 3.4), sharey=True)
    for ax, values, text in ((axes[0], before, "as loaded"), (axes[1], after, f"normalised: {method}")):
        for name, pixels in values.items():
            unit = pixels / 255.0 if pixels.dtype == np.uint8 else pixels
            ax.hist(unit.ravel(), bins=32, range=(0, 1), density=True, histtype="step", linewidth=1.5, label=name)
        ax.set_title(text, fontsize=10)
        ax.set_xlabel("grey value (0 black, 1 white)")
    axes[0].set_ylabel("density")
    axes[0].legend()
    fig.tight_layout()
    return fig


def show_transfer_scores(means: pd.DataFrame) -> plt.Figure:
    """Mean test scores of every (training set, normalisation) with the baselines as lines, one panel per score.

    ``means`` is :func:`helpers.segmentation.cross_dataset.summary` of the runs.
    """
    learned = means[means["method"] == "multicut"]
    baselines = means[means["train"] == "-"].groupby("method", sort=False).mean(numeric_only=True)
    labels = [f"train {row.train}\n{row.intensity}" for row in learned.itertuples()]
    fig, axes = plt.subplots(len(SCORES), 1, figsize=(COLUMN_WIDTH_IN, 3.0 * len(SCORES) + 0.6), sharex=True)
    for ax, (score, text) in zip(axes, SCORES):
        ax.bar(
            range(len(learned)),
            learned[score],
            color=["tab:blue" if i == "none" else "tab:orange" for i in learned["intensity"]],
        )
        for method, style in BASELINE_STYLES.items():
            if method in baselines.index:
                ax.axhline(baselines.loc[method, score], color="0.3", linestyle=style, linewidth=1, label=method)
        ax.set_xticks(range(len(learned)), labels)
        ax.set_ylabel(f"{text}\n(lower is better)")
    fig.tight_layout()
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, [f"baseline: {name}" for name in names], loc="lower center", ncol=3, bbox_to_anchor=(0.5, 1.0))
    return fig
