"""Chapter 08 in words: the comparisons as one Markdown table and a conclusion generated from the results record.

The conclusion claims only what a confirmatory family supports (Holm-corrected p < 0.05 within the family,
:func:`helpers.experiments.stats.correct`) and names the family and the correction; exploratory comparisons are
reported in the table and never claimed. Every number comes from the record.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..experiments import stats
from .analysis import HIGHER_IS_BETTER, PRIMARY

METRIC_NAMES = {"v_rand": "foreground V_rand", "v_info": "foreground V_info", "rand_error": "adapted Rand error",
                "vi": "VI (bits)", "auc": "pixel AUC", "f1": "pixel F1", "reachable_rand_error": "reachable Rand error",
                "reachable_vi": "reachable VI (bits)"}  # fmt: skip
GROUP_NAMES = {"clean": "clean test slices", "shifts": "appearance shifts", "unseen styles": "unseen paintings",
               "flyem": "FlyEM slices"}  # fmt: skip


def _p_value(value: float | None) -> str:
    """A p-value with 3 decimals (``< 0.001`` below), or ``n/a`` for None / NaN."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def verdict(row: dict) -> str:
    """The word for a comparison (better, worse, no clear difference, not tested) in the metric's direction.

    Args:
        row: a comparison record.

    Returns:
        The word.
    """
    if row["metric"] in HIGHER_IS_BETTER:
        return stats.verdict(row, lower="worse", higher="better")
    return stats.verdict(row, lower="better", higher="worse")


def _compared(row: dict) -> str:
    """``style/none vs original/none (membranes), clean test slices, foreground V_rand``: what a row compares."""
    if row["arm_target"] == row["reference_target"]:
        sides = f"{row['arm']} vs {row['reference']} ({row['arm_target']})"
    elif row["arm"] == row["reference"]:
        sides = f"{row['arm']}: {row['arm_target']} vs {row['reference_target']}"
    else:
        sides = f"{row['arm']} ({row['arm_target']}) vs {row['reference']} ({row['reference_target']})"
    return f"{sides}, {GROUP_NAMES.get(row['group'], row['group'])}, {METRIC_NAMES[row['metric']]}"


def comparison_table(comparisons: Sequence[dict], metrics: Sequence[str] = (PRIMARY, "vi")) -> str:
    """The declared comparisons of some metrics as one narrow Markdown table, confirmatory families first.

    Args:
        comparisons: the record's ``comparisons``.
        metrics: the metrics shown (every metric is in the results file).

    Returns:
        One row per comparison: what it compares (arm vs reference, target, test group, metric), family with its
        label (confirmatory or exploratory), mean difference arm - reference [95 % interval], Holm-corrected p and
        verdict.
    """
    lines = ["| comparison | family | difference [95 % CI] | p (Holm) | verdict |", "|---|---|---|---|---|"]
    shown = [row for row in comparisons if row["metric"] in metrics]
    for row in sorted(shown, key=lambda row: row["label"] != "confirmatory"):
        low, high = (np.nan if row[key] is None else row[key] for key in ("diff_low", "diff_high"))
        lines.append(
            f"| {_compared(row)} | {row['family']} ({row['label']}) | "
            f"{stats.format_interval(row['mean_diff'], low, high)} | {_p_value(row['p_holm'])} | {verdict(row)} |"
        )
    return "\n".join(lines)


def means_table(means: pd.DataFrame, metrics: Sequence[str] = (PRIMARY, "vi", "auc", "f1")) -> pd.DataFrame:
    """Each arm's mean per test group as a narrow table: one column per metric, 3 significant digits.

    Args:
        means: the table of :func:`.analysis.arm_means`.
        metrics: the columns (every metric is in the results file).

    Returns:
        Index (test group, ``arm (target)``), one column per metric named in words; the means as text.
    """
    table = means[means["metric"].isin(metrics)]
    table = table.assign(arm=table["arm"] + " (" + table["target"] + ")", group=table["group"].replace(GROUP_NAMES))
    table = table.pivot_table(index=["group", "arm"], columns="metric", values="mean", sort=False)
    table = (
        table[[metric for metric in metrics if metric in table]].rename(columns=METRIC_NAMES).rename_axis(columns=None)
    )
    return table.map(lambda value: f"{value:#.3g}")


def family_rows(record: dict, name: str) -> tuple[list[dict], list[dict]]:
    """A family's comparisons and those of them it supports (Holm-corrected p < 0.05, confirmatory only).

    Args:
        record: ``results/unet.json``.
        name: the family's name.

    Returns:
        ``(rows, supported)``.
    """
    rows = [row for row in record["comparisons"] if row["family"] == name]
    return rows, [row for row in rows if row["supported"]]


def claim(row: dict) -> str:
    """``style/none vs original/none on FlyEM slices: better, foreground V_rand +0.050 [+0.030, +0.070]``.

    Args:
        row: a comparison record.

    Returns:
        The comparison, its verdict and its mean difference with the 95 % interval.
    """
    low, high = (np.nan if row[key] is None else row[key] for key in ("diff_low", "diff_high"))
    return (
        f"{row['arm']} vs {row['reference']} on {GROUP_NAMES.get(row['group'], row['group'])}: {verdict(row)}, "
        f"{METRIC_NAMES[row['metric']]} {stats.format_interval(row['mean_diff'], low, high)}"
    )


def goal_scores(record: dict) -> list[tuple[str, dict, dict | None, str]]:
    """The goal per target: its foreground V_rand row, the all-pixel VI row of the same arm and group, its verdict.

    Args:
        record: ``results/unet.json``.

    Returns:
        ``(target, reached, vi, "goal at least 0.97: not reached")`` per target of the goal.
    """
    goal = record["goal"]
    return [
        (target, reached, mean_row(record, goal["arm"], target, goal["group"], "vi"),
         f"goal at least {goal['at_least']:g}: {'reached' if reached['reached'] else 'not reached'}")
        for target, reached in goal["targets"].items()
    ]  # fmt: skip


def mean_row(record: dict, arm: str, target: str, group: str, metric: str) -> dict | None:
    """The record's mean row of an arm, target, group and metric.

    Args:
        record: ``results/unet.json``.
        arm: an arm's name.
        target: ``membranes`` or ``boundaries``.
        group: a test group (``clean``, ``shifts``, ...).
        metric: a score.

    Returns:
        The row, or None if there is none.
    """
    key = (arm, target, group, metric)
    return next((row for row in record["means"] if (row["arm"], row["target"], row["group"], row["metric"]) == key),
                None)  # fmt: skip


def score_text(row: dict | None, digits: int = 3) -> str:
    """``0.912 [0.880, 0.944]``: a mean over slices with its 95 % interval.

    Args:
        row: a mean row (:func:`mean_row`, or the goal's), or None.
        digits: decimals.

    Returns:
        The text; ``n/a`` for None, the mean and its number of slices without an interval.
    """
    if row is None:
        return "n/a"
    if row["low"] is None or not np.isfinite(row["low"]):
        return f"{row['mean']:.{digits}f} (n = {row['n_slices']} slice)"
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def conclusion(record: dict) -> str:
    """Chapter 08's conclusion in Markdown, every number from the record.

    Args:
        record: ``results/unet.json`` (:func:`.analysis.results_record`).

    Returns:
        Bullets: the goal beside the 1 px placement reference, the target choice, then per confirmatory family
        what it supports (or that it supports nothing), naming the family and the correction.
    """
    chosen = record["target_choice"]["chosen"]
    goal = record["goal"]
    placement = record["placement_reference"]
    lines = [
        f"* **Goal, {target}** ({goal['arm']}, {goal['group']} test slices, profile `{record['profile']}`): "
        f"foreground V_rand {score_text(reached)}, {reading}. All-pixel VI {score_text(vi, 2)} bits beside the "
        f"{placement['shift']} px placement reference of {placement['vi']:.2f} bits (the dense ground truth "
        f"against itself shifted by {placement['shift']} px)."
        for target, reached, vi, reading in goal_scores(record)
    ]
    scores = ", ".join(f"{target} {value:.3f}" for target, value in record["target_choice"]["v_rand"].items())
    rule = record["target_choice"]["rule"]
    lines.append(f"* **Target of the style arms: {chosen}** (rule declared before the run: {rule}; {scores}).")
    for family in (f for f in record["families"] if f["label"] == "confirmatory"):
        rows, supported = family_rows(record, family["name"])
        claims = "; ".join(
            f"{claim(row)} ({row['arm_target']} vs {row['reference_target']}, Holm p = {row['p_holm']:.3f} over "
            f"{row['n_slices']} slices)"
            for row in supported
        )
        tested = sum(row["p_holm"] is not None for row in rows)
        lines.append(
            f'* **Confirmatory family "{family["name"]}"** (comparisons: {len(rows)}, testable: {tested}; Holm '
            f"correction within the family, p < 0.05): "
            + (f"supported: {claims}." if supported else "no comparison is supported; nothing is claimed.")
        )
    lines.append(f"* Exploratory comparisons (the table) are reported, not claimed. Method: {record['method']}")
    return "\n".join(lines)
