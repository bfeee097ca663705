"""Figures of chapter 08: targets, a same-region batch, arms (means, 95 % intervals), Figure 16, maps, losses."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .experiments import SCENARIO_LABELS
from .figures import COLUMN_WIDTH_IN, label_grid_axes

METRIC_TITLES = {
    "rand_error": "adapted Rand error",
    "vi": "variation of information (bits)",
    "v_rand": "foreground V_rand (ISBI)",
    "v_info": "foreground V_info (ISBI)",
    "auc": "pixel ROC AUC",
    "f1": "pixel F1 at 0.5",
    "reachable_rand_error": "best reachable adapted Rand error",
    "reachable_vi": "best reachable VI (bits)",
}
UNITS = {  # y axis labels, short enough for a panel of the column's width
    "rand_error": "Rand error (lower: better)",
    "vi": "VI, bits (lower: better)",
    "v_rand": "V_rand (higher: better)",
}
BOUNDED = {"rand_error", "v_rand", "v_info", "auc", "f1", "reachable_rand_error"}  # scores in [0, 1]; VI in [0, inf)
# the report's scenarios (chapter 06) and the U-Net training sets that match them (chapter 08, no normalisation)
FIGURE16_SCENARIOS = {**SCENARIO_LABELS, "style+plain": "6. styles + plain augmentation"}
UNET_SCENARIOS = {"original/none": "original", "style/none": "full", "plain/none": "plain_aug",
                  "style+plain/none": "style+plain"}  # fmt: skip


def _spread(centre: np.ndarray, low: np.ndarray, high: np.ndarray, metric: str) -> np.ndarray:
    """Error bar lengths below and above each mean, the interval clipped to the metric's range (no bar below 0)."""
    low = np.maximum(low, 0.0)
    high = np.minimum(high, 1.0) if metric in BOUNDED else high
    return np.nan_to_num(np.vstack([np.maximum(centre - low, 0.0), np.maximum(high - centre, 0.0)]))


def _bars(ax: plt.Axes, tables: Mapping[str, pd.DataFrame], index: Sequence[str], metric: str) -> None:
    """Grouped bars: one bar per table (mean, 95 % interval clipped to the metric's range) at each index entry."""
    width = 0.8 / max(len(tables), 1)
    colours = plt.get_cmap("tab10" if len(tables) <= 10 else "tab20")
    for position, (label, table) in enumerate(tables.items()):
        centre, low, high = table.reindex(index)[["mean", "low", "high"]].to_numpy(dtype=float).T
        x = np.arange(len(index)) + (position - (len(tables) - 1) / 2) * width
        ax.bar(x, centre, width, yerr=_spread(centre, low, high, metric), capsize=2, label=label,
               color=colours(position % colours.N))  # fmt: skip
    ax.set_ylim(bottom=0)
    ax.set_ylabel(UNITS.get(metric, METRIC_TITLES.get(metric, metric)))


def _legend_below(fig: plt.Figure, ax: plt.Axes, columns: int = 2) -> None:
    """The figure's legend under its panels, outside every axes."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), ncols=columns, frameon=False)


def figure16_extended(
    forest_summary: pd.DataFrame, unet_means: pd.DataFrame, arm: str, metrics: Sequence[str] = ("rand_error", "vi")
) -> plt.Figure:
    """The report's Figure 16 per boundary detector: chapter 06's forest pipelines beside the U-Net arms.

    Shows mean and 95 % interval of each scenario, one bar per boundary detector.

    Args:
        forest_summary: chapter 06's summary (:func:`helpers.experiments.stats.summarize`; ``summary`` of
            ``results/scenarios_summary.json``); its clean test rows of ``arm`` are shown.
        unet_means: chapter 08's means (:func:`helpers.unet.analysis.arm_means`) of one target: the clean group of the
            arms without normalisation (:data:`UNET_SCENARIOS`; ``style`` is the report's full set).
        arm: chapter 06's arm of the forest rows (``main_arm`` of ``scenarios_summary.json``).
        metrics: one panel each.

    Returns:
        The figure.
    """
    forest = forest_summary[(forest_summary["arm"] == arm) & (forest_summary["condition"] == "clean")]
    detectors = {f"{pipeline} forest (ch. 06)": forest[forest["pipeline"] == pipeline] for pipeline in
                 dict.fromkeys(forest["pipeline"])}  # fmt: skip
    unet = unet_means[(unet_means["group"] == "clean") & unet_means["arm"].isin(UNET_SCENARIOS)]
    detectors["U-Net (ch. 08)"] = unet.assign(scenario=unet["arm"].map(UNET_SCENARIOS))
    present = {scenario for table in detectors.values() for scenario in table["scenario"]}
    scenarios = [scenario for scenario in FIGURE16_SCENARIOS if scenario in present]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(COLUMN_WIDTH_IN, 3.6 * len(metrics)), squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        tables = {name: table[table["metric"] == metric].set_index("scenario") for name, table in detectors.items()}
        _bars(ax, tables, scenarios, metric)
        ax.set_xticks(np.arange(len(scenarios)))
        ax.set_xticklabels([FIGURE16_SCENARIOS[scenario] for scenario in scenarios], rotation=20, ha="right")
        ax.set_title(f"{METRIC_TITLES.get(metric, metric)}, clean test slices")
    fig.suptitle("Figure 16 extended: mean and 95 % interval per boundary detector\n(forests: ch. 06, "
                 f"{arm} arm, over its splits; U-Net: ch. 08, over its test slices)")  # fmt: skip
    fig.tight_layout()
    _legend_below(fig, axes[-1][0], columns=3)
    return fig


def targets(raw: np.ndarray, membranes: np.ndarray, boundaries: np.ndarray, title: str) -> plt.Figure:
    """Slice ``title`` beside the two U-Net targets (1 on membranes; 1 on the dense ground truth's boundaries).

    Each title gives the share of target pixels.
    """
    fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH_IN, 3.0))
    axes[0].imshow(raw, cmap="gray", vmin=0, vmax=255)
    titles = [title]
    for ax, (name, target) in zip(axes[1:], (("membranes", membranes), ("boundaries", boundaries))):
        ax.imshow(target, cmap="gray_r", vmin=0, vmax=1)
        titles.append(f"{name}: {100 * float(np.mean(target)):.0f} % of pixels")
    label_grid_axes(axes, titles, 3)
    fig.tight_layout()
    return fig


def same_region_batch(
    originals: np.ndarray, stylised: np.ndarray, styles: Sequence[int], columns: int = 4
) -> plt.Figure:
    """One batch of a style arm: each patch of the originals arm above what the style arm drew for it.

    Args:
        originals: (n, H, W) the originals arm's patches (float in [0, 1]).
        stylised: (n, H, W) the style arm's patches from the same draws: the same windows, some stylised.
        styles: per patch, the painting of its stylised copy (-1: the original's pixels).
        columns: patches per row pair.

    Returns:
        The figure: pairs of rows (originals arm, style arm).
    """
    n = len(originals)
    pairs = math.ceil(n / columns)
    fig, axes = plt.subplots(2 * pairs, columns, figsize=(COLUMN_WIDTH_IN, 3.7 * pairs), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for patch in range(n):
        pair, column = divmod(patch, columns)
        for row, (patches, label) in enumerate(((originals, "originals arm"), (stylised, "style arm"))):
            ax = axes[2 * pair + row][column]
            ax.set_axis_on()
            ax.imshow(patches[patch], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if column == 0:
                ax.set_ylabel(label)
        axes[2 * pair + 1][column].set_title("original" if styles[patch] < 0 else f"painting {styles[patch]}")
    fig.suptitle("The same windows of the same slices: originals arm, then style arm")
    fig.tight_layout()
    return fig


def arm_bars(means: pd.DataFrame, metrics: Sequence[str] = ("v_rand", "vi")) -> plt.Figure:
    """Mean and 95 % interval (over test slices) of each arm per test group, one panel per metric.

    ``means``: :func:`helpers.unet.analysis.arm_means` (arm, target, group, metric, mean, low, high).
    """
    means = means.assign(arm=means["arm"] + " (" + means["target"] + ")")
    arms = list(dict.fromkeys(means["arm"]))
    groups = list(dict.fromkeys(means["group"]))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(COLUMN_WIDTH_IN, 3.2 * len(metrics)), squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        part = means[means["metric"] == metric]
        _bars(ax, {arm: part[part["arm"] == arm].set_index("group") for arm in arms}, groups, metric)
        ax.set_xticks(np.arange(len(groups)), groups)
        ax.set_title(f"{METRIC_TITLES.get(metric, metric)} per arm and test group")
    fig.tight_layout()
    _legend_below(fig, axes[-1][0])
    return fig


def boundary_maps(raw: np.ndarray, maps: Mapping[str, np.ndarray], title: str) -> plt.Figure:
    """A slice (as shown to the U-Nets) beside its membrane-probability ``maps`` by label; ``title`` says what it is."""
    panels = [(raw, "gray", 255, title), *((probability, "magma", 1, label) for label, probability in maps.items())]
    columns = min(len(panels), 2)
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.5 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_axis_off()
    for ax, (image, colours, top, _) in zip(axes.ravel(), panels):
        ax.imshow(image, cmap=colours, vmin=0, vmax=top)
    label_grid_axes(axes.ravel()[: len(panels)], [label for *_, label in panels], columns)
    fig.tight_layout()
    return fig


def training_losses(losses: Mapping[str, Sequence[float]], window: int = 10) -> plt.Figure:
    """Training loss per step of each U-Net (``losses`` by label), a running mean over ``window`` steps."""
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.6))
    for label, values in losses.items():
        values = np.asarray(values, dtype=float)
        size = max(1, min(window, len(values)))
        ax.plot(np.arange(size, len(values) + 1), np.convolve(values, np.ones(size) / size, mode="valid"), label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("U-Net training losses (running mean)")
    fig.tight_layout()
    _legend_below(fig, ax)
    return fig
