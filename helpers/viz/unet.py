"""Figures of chapter 08: U-Net arms against each other (means with 95 % intervals), maps, training losses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import label_pixel_axes

METRIC_TITLES = {
    "rand_error": "adapted Rand error",
    "vi": "variation of information (bits)",
    "v_rand": "foreground V_rand (ISBI)",
    "auc": "pixel ROC AUC",
    "f1": "pixel F1 at 0.5",
}


def arm_bars(means: pd.DataFrame, metrics: Sequence[str] = ("rand_error", "vi")) -> plt.Figure:
    """Mean and 95 % interval of each arm per test group: chapter 06's Figure 16, extended with the U-Net arms.

    Args:
        means: the table of :func:`helpers.unet.analysis.arm_means` (arm, group, metric, mean, low, high).
        metrics: one panel each.

    Returns:
        The figure.
    """
    arms = list(dict.fromkeys(means["arm"]))
    groups = list(dict.fromkeys(means["group"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 4.2), squeeze=False)
    width = 0.8 / max(len(arms), 1)
    colours = plt.get_cmap("tab10")
    for ax, metric in zip(axes[0], metrics):
        for position, arm in enumerate(arms):
            part = means[(means["arm"] == arm) & (means["metric"] == metric)].set_index("group").reindex(groups)
            centre = part["mean"].to_numpy(dtype=float)
            spread = np.vstack([centre - part["low"].to_numpy(float), part["high"].to_numpy(float) - centre])
            x = np.arange(len(groups)) + (position - (len(arms) - 1) / 2) * width
            ax.bar(x, centre, width, yerr=np.nan_to_num(spread), capsize=2, label=arm, color=colours(position % 10))
        ax.set_xticks(np.arange(len(groups)), groups)
        ax.set_ylabel(METRIC_TITLES.get(metric, metric))
        ax.set_title(f"U-Net arms: {METRIC_TITLES.get(metric, metric)}")
    axes[0][0].legend(fontsize=7, ncols=2)
    fig.tight_layout()
    return fig


def boundary_maps(raw: np.ndarray, maps: Mapping[str, np.ndarray], title: str) -> plt.Figure:
    """A slice beside its boundary maps, one panel each.

    Args:
        raw: the grey slice shown to the U-Nets.
        maps: label -> membrane probability of the same shape.
        title: what the slice is (e.g. its shift).

    Returns:
        The figure.
    """
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(3.3 * (len(maps) + 1), 3.6), squeeze=False)
    axes[0][0].imshow(raw, cmap="gray", vmin=0, vmax=255)
    label_pixel_axes(axes[0][0], title)
    for ax, (label, probability) in zip(axes[0][1:], maps.items()):
        ax.imshow(probability, cmap="magma", vmin=0, vmax=1)
        label_pixel_axes(ax, label)
    fig.tight_layout()
    return fig


def training_losses(losses: Mapping[str, Sequence[float]], window: int = 10) -> plt.Figure:
    """Training loss per step of each U-Net (a running mean over ``window`` steps).

    Args:
        losses: label -> loss of every step.
        window: steps averaged.

    Returns:
        The figure.
    """
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for label, values in losses.items():
        values = np.asarray(values, dtype=float)
        size = max(1, min(window, len(values)))
        ax.plot(np.arange(size, len(values) + 1), np.convolve(values, np.ones(size) / size, mode="valid"), label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("U-Net training losses (running mean)")
    ax.legend(fontsize=7, ncols=2)
    fig.tight_layout()
    return fig
