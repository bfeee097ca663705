"""Figures of chapter 08: U-Net arms (means with 95 % intervals), Figure 16 extended, maps, training losses."""

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
    "auc": "pixel ROC AUC",
    "f1": "pixel F1 at 0.5",
    "reachable_rand_error": "best reachable adapted Rand error",
    "reachable_vi": "best reachable VI (bits)",
}
UNITS = {"rand_error": "adapted Rand error (0-1, lower is better)", "vi": "VI (bits, lower is better)"}
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
        unet_means: chapter 08's means (:func:`helpers.unet.analysis.arm_means`), the clean group of the arms
            without normalisation (:data:`UNET_SCENARIOS`: ``style`` is the report's full augmented set).
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
        "(forests: chapter 06, 128 px crops over its splits; U-Net: chapter 08, whole test slices over its seeds)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def arm_bars(means: pd.DataFrame, metrics: Sequence[str] = ("rand_error", "vi")) -> plt.Figure:
    """Mean and 95 % interval of each arm per test group (U-Net arms and the forest arms of the control).

    Args:
        means: the table of :func:`helpers.unet.analysis.arm_means` (arm, group, metric, mean, low, high).
        metrics: one panel each.

    Returns:
        The figure.
    """
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
