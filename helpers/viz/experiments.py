"""Figures of chapter 06: the report's Figure 16 with error bars, robustness, displacement against effect."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import COLUMN_WIDTH_IN

SCENARIO_LABELS = {
    "full": "1. full augmented",
    "original": "2. original",
    "one_style": "3. original + one style",
    "selected": "4. selected styles",
    "plain_aug": "5. plain augmentation",
    "appearance_aug": "6. plain + blur, gamma, contrast",
}
METRIC_TITLES = {"rand_error": "adapted Rand error", "vi": "variation of information (bits)"}


def _scenarios(summary: pd.DataFrame) -> list[str]:
    """The report's scenarios present in a summary, in the report's order."""
    present = set(summary["scenario"])
    return [scenario for scenario in SCENARIO_LABELS if scenario in present]


def scenario_bars(summary: pd.DataFrame, pipelines: list[str], arm: str, condition: str = "clean") -> plt.Figure:
    """The report's Figure 16 with error bars: Rand error and VI per scenario (mean and 95 % interval over slices).

    Args:
        summary: :func:`helpers.experiments.stats.summarize` of one arm's rows.
        pipelines: the pipelines, one bar each per scenario.
        arm: the arm's name in the title (its engine and images).
        condition: the test condition shown.

    Returns:
        The figure.
    """
    scenarios = _scenarios(summary)
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH_IN, 1.0 + 0.45 * len(scenarios) * len(pipelines)), sharey=True)
    height = 0.8 / max(len(pipelines), 1)
    y = np.arange(len(scenarios))
    for ax, (metric, title) in zip(axes, METRIC_TITLES.items()):
        for position, pipeline in enumerate(pipelines):
            chosen = summary[
                (summary["pipeline"] == pipeline) & (summary["condition"] == condition) & (summary["metric"] == metric)
            ].set_index("scenario")
            bounds = chosen.reindex(scenarios)[["mean", "low", "high"]].to_numpy(dtype=float)
            means, low, high = bounds.T
            low = np.maximum(low, 0.0)  # an error is never negative: the t-interval is clipped at 0
            ax.barh(
                y + (position - (len(pipelines) - 1) / 2) * height, means, height, label=f"{pipeline} pipeline",
                alpha=0.85, xerr=np.nan_to_num(np.vstack([means - low, high - means])), capsize=3,
            )  # fmt: skip
        ax.set_xlabel(f"{title}\n(lower is better)")
        ax.set_xlim(left=0)
    axes[0].set_yticks(y, [SCENARIO_LABELS[scenario] for scenario in scenarios])
    axes[0].invert_yaxis()
    fig.suptitle(f"Figure 16 re-done, {arm}:\nmean and 95 % interval over {condition} test slices")
    fig.tight_layout()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=len(pipelines), frameon=False)  # fmt: skip
    return fig


def robustness_heatmap(
    summary: pd.DataFrame, pipeline: str, arm: str, trivial: list[str], metric: str = "rand_error"
) -> plt.Figure:
    """Mean error of each scenario (rows) under each test condition (columns) for one pipeline of one arm.

    Args:
        summary: :func:`helpers.experiments.stats.summarize` of one arm's rows.
        pipeline: the pipeline shown.
        arm: the arm's name in the title.
        trivial: conditions where (almost) every training set returns one segment: marked "(trivial)".
        metric: the error shown.

    Returns:
        The figure.
    """
    chosen = summary[(summary["pipeline"] == pipeline) & (summary["metric"] == metric)]
    scenarios = _scenarios(chosen)
    conditions = sorted(set(chosen["condition"]), key=lambda name: (name != "clean", name.startswith("unseen"), name))
    grid = (
        chosen.pivot(index="scenario", columns="condition", values="mean")
        .reindex(index=scenarios, columns=conditions)
        .to_numpy(dtype=float)
    )
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.5 * len(scenarios) + 2.6))
    shown = ax.imshow(grid, cmap="viridis_r", aspect="auto")
    for row in range(grid.shape[0]):
        for column in range(grid.shape[1]):
            dark = grid[row, column] > np.nanmean(grid)
            ax.text(column, row, f"{grid[row, column]:.2f}", ha="center", va="center", color="w" if dark else "k",
                    fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(conditions)))
    ax.set_xticklabels([f"{c} (trivial)" if c in trivial else c for c in conditions], rotation=35, ha="right")
    ax.set_yticks(range(len(scenarios)))
    ax.set_yticklabels([SCENARIO_LABELS[scenario] for scenario in scenarios])
    ax.set_xlabel("test condition (appearance shift or unseen style)")
    fig.colorbar(shown, ax=ax, label=f"mean {metric.replace('_', ' ')}", fraction=0.04, pad=0.02)
    ax.set_title(f"Robustness, {pipeline} pipeline,\n{arm}")
    fig.tight_layout()
    return fig


def displacement_vs_effect(effects: pd.DataFrame) -> plt.Figure:
    """Per style: membrane displacement (chamfer, px) against the paired change of the clean test error it brings.

    Negative changes mean the style helps; one marker per pipeline and step count. ``effects`` is the table of
    :func:`helpers.experiments.displacement.style_effects`.

    Raises:
        ValueError: if there is nothing to plot.
    """
    if effects.empty:
        raise ValueError("no style effects to plot: run the style sweep (scenarios 'one_style:NN') first")
    metric, reference = effects["metric"].iloc[0], effects["reference"].iloc[0]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 4.8))
    for (pipeline, steps), group in effects.groupby(["pipeline", "steps"], sort=True):
        label = f"{pipeline}, {steps} steps" if steps else f"{pipeline}, feed-forward"
        ax.scatter(group["displacement_px"], group["mean_diff"], label=label)
        for point in group.itertuples(index=False):
            ax.annotate(str(point.style), (point.displacement_px, point.mean_diff), fontsize=9, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("membrane displacement original -> stylised (pixels, chamfer)")
    ax.set_ylabel(f"change of {metric.replace('_', ' ')} vs {reference} set")
    ax.set_title("Does a style that moves membranes hurt?")
    fig.tight_layout()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)  # below the axes, off the data
    return fig
