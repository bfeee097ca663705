"""Figures of chapter 08: targets, a same-region batch, arms (means, 95 % intervals), Figure 16, maps, losses."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .experiments import SCENARIO_LABELS
from .figures import label_pixel_axes

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
UNITS = {
    "rand_error": "adapted Rand error (0-1, lower is better)",
    "vi": "VI (bits, lower is better)",
    "v_rand": "foreground V_rand (0-1, higher is better)",
}
# the report's scenarios (chapter 06) and the U-Net training sets that match them (chapter 08, no normalisation)
FIGURE16_SCENARIOS = {**SCENARIO_LABELS, "style+plain": "6. styles + plain augmentation"}
UNET_SCENARIOS = {"original/none": "original", "style/none": "full", "plain/none": "plain_aug",
                  "style+plain/none": "style+plain"}  # fmt: skip


def figure16_extended(
    forest_summary: pd.DataFrame, unet_means: pd.DataFrame, steps: int, metrics: Sequence[str] = ("rand_error", "vi")
) -> plt.Figure:
    """The report's Figure 16 per boundary detector: the forest pipelines of chapter 06 beside the U-Net arms.

    Args:
        forest_summary: chapter 06's summary (:func:`helpers.experiments.stats.summarize`; ``results/
            scenarios_summary.json``'s ``summary``), its clean test rows are shown.
        unet_means: chapter 08's means (:func:`helpers.unet.analysis.arm_means`) of one target, the clean group
            of the arms without normalisation (:data:`UNET_SCENARIOS`: ``style`` is the report's full set).
        steps: the stylisation step count of the forest rows.
        metrics: one panel each.

    Returns:
        The figure: mean and 95 % interval of each scenario, one bar per boundary detector.
    """
    forest = forest_summary[(forest_summary["steps"] == steps) & (forest_summary["condition"] == "clean")]
    detectors = {f"{pipeline} forest (ch. 06)": forest[forest["pipeline"] == pipeline] for pipeline in
                 dict.fromkeys(forest["pipeline"])}  # fmt: skip
    unet = unet_means[(unet_means["group"] == "clean") & unet_means["arm"].isin(UNET_SCENARIOS)]
    detectors["U-Net (ch. 08)"] = unet.assign(scenario=unet["arm"].map(UNET_SCENARIOS))
    present = {scenario for table in detectors.values() for scenario in table["scenario"]}
    scenarios = [scenario for scenario in FIGURE16_SCENARIOS if scenario in present]
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.8 * len(metrics), 4.6), squeeze=False)
    width = 0.8 / max(len(detectors), 1)
    for ax, metric in zip(axes[0], metrics):
        for position, (detector, table) in enumerate(detectors.items()):
            chosen = table[table["metric"] == metric].set_index("scenario").reindex(scenarios)
            centre, low, high = chosen[["mean", "low", "high"]].to_numpy(dtype=float).T
            x = np.arange(len(scenarios)) + (position - (len(detectors) - 1) / 2) * width
            spread = np.nan_to_num(np.vstack([centre - low, high - centre]))
            ax.bar(x, centre, width, yerr=spread, capsize=3, label=detector, alpha=0.85)
        ax.set_xticks(np.arange(len(scenarios)))
        ax.set_xticklabels([FIGURE16_SCENARIOS[scenario] for scenario in scenarios], rotation=20, ha="right")
        ax.set_ylabel(UNITS.get(metric, metric))
        ax.set_title(f"{METRIC_TITLES.get(metric, metric)}, clean test slices")
        ax.legend(fontsize=8)
    fig.suptitle(
        "Figure 16 extended: augmentation scenarios per boundary detector, mean and 95 % interval\n"
        "(forests: chapter 06, 128 px crops over its splits; U-Net: chapter 08, over its test slices)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def targets(raw: np.ndarray, membranes: np.ndarray, boundaries: np.ndarray, title: str) -> plt.Figure:
    """A slice beside the two things a U-Net can learn: the membrane mask and the thin boundaries.

    Args:
        raw: the grey slice.
        membranes: its membrane target (1 on membranes).
        boundaries: its boundary target (1 on the dense ground truth's boundaries).
        title: which slice.

    Returns:
        The figure: three panels, with the share of target pixels in each title.
    """
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.8))
    axes[0].imshow(raw, cmap="gray", vmin=0, vmax=255)
    label_pixel_axes(axes[0], title)
    for ax, (name, target) in zip(axes[1:], (("membranes", membranes), ("boundaries", boundaries))):
        ax.imshow(target, cmap="gray_r", vmin=0, vmax=1)
        label_pixel_axes(ax, f"target {name!r}: {100 * float(np.mean(target)):.0f} % of pixels")
    fig.tight_layout()
    return fig


def same_region_batch(originals: np.ndarray, stylised: np.ndarray, styles: Sequence[int]) -> plt.Figure:
    """One batch of a style arm: each patch of the originals arm above what the style arm drew for it.

    Args:
        originals: (n, H, W) the originals arm's patches (float in [0, 1]).
        stylised: (n, H, W) the style arm's patches from the same draws: the same windows, some stylised.
        styles: per patch, the painting of its stylised copy (-1: the original's pixels).

    Returns:
        The figure: two rows, one column per patch.
    """
    n = len(originals)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.6), squeeze=False)
    for column in range(n):
        for row, (patches, label) in enumerate(((originals, "originals arm"), (stylised, "style arm"))):
            ax = axes[row][column]
            ax.imshow(patches[column], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if column == 0:
                ax.set_ylabel(label, fontsize=8)
        axes[1][column].set_title("original" if styles[column] < 0 else f"painting {styles[column]}", fontsize=7)
    fig.suptitle("The same windows of the same slices: originals arm (top), style arm (bottom)", fontsize=9)
    fig.tight_layout()
    return fig


def arm_bars(means: pd.DataFrame, metrics: Sequence[str] = ("v_rand", "vi")) -> plt.Figure:
    """Mean and 95 % interval (over test slices) of each arm per test group.

    Args:
        means: the table of :func:`helpers.unet.analysis.arm_means` (arm, target, group, metric, mean, low, high).
        metrics: one panel each.

    Returns:
        The figure.
    """
    means = means.assign(arm=means["arm"] + " (" + means["target"] + ")")
    arms = list(dict.fromkeys(means["arm"]))
    groups = list(dict.fromkeys(means["group"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(7.5 * len(metrics), 4.6), squeeze=False)
    width = 0.8 / max(len(arms), 1)
    colours = plt.get_cmap("tab20")
    for ax, metric in zip(axes[0], metrics):
        for position, arm in enumerate(arms):
            part = means[(means["arm"] == arm) & (means["metric"] == metric)].set_index("group").reindex(groups)
            centre = part["mean"].to_numpy(dtype=float)
            spread = np.vstack([centre - part["low"].to_numpy(float), part["high"].to_numpy(float) - centre])
            x = np.arange(len(groups)) + (position - (len(arms) - 1) / 2) * width
            ax.bar(x, centre, width, yerr=np.nan_to_num(spread), capsize=2, label=arm, color=colours(position % 20))
        ax.set_xticks(np.arange(len(groups)), groups)
        ax.set_ylabel(UNITS.get(metric, METRIC_TITLES.get(metric, metric)))
        ax.set_title(f"{METRIC_TITLES.get(metric, metric)} per arm and test group")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=min(len(arms), 6), fontsize=7)
    fig.tight_layout(rect=(0, 0.06 * math.ceil(len(arms) / 6), 1, 1))
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
