"""Chapter 08 in words: the comparisons as one Markdown table and a conclusion generated from the results record.

Only what a confirmatory family supports (Holm-corrected p < 0.05, :func:`helpers.experiments.stats.correct`) is
claimed, naming family and correction; exploratory comparisons are shown, never claimed. Numbers come from the record.
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
    """The word for a comparison record (better, worse, no clear difference, not tested) in the metric's direction."""
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
    """The declared comparisons of ``metrics`` as one narrow Markdown table, confirmatory families first.

    Args:
        comparisons: the record's ``comparisons``.
        metrics: the metrics shown (every metric is in the results file).

    Returns:
        Per comparison: what it compares, family (label), difference arm - reference [95 % CI], Holm p, verdict.
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
    """Each arm's mean per test group: index (group, ``arm (target)``), one column per metric in words, 3 digits.

    Args:
        means: the table of :func:`.analysis.arm_means`.
        metrics: the columns (every metric is in the results file).

    Returns:
        The means as text.
    """
    table = means[means["metric"].isin(metrics)]
    table = table.assign(arm=table["arm"] + " (" + table["target"] + ")", group=table["group"].replace(GROUP_NAMES))
    table = table.pivot_table(index=["group", "arm"], columns="metric", values="mean", sort=False)
    table = (
        table[[metric for metric in metrics if metric in table]].rename(columns=METRIC_NAMES).rename_axis(columns=None)
    )
    return table.map(lambda value: f"{value:#.3g}")


def family_rows(record: dict, name: str) -> tuple[list[dict], list[dict]]:
    """Family ``name``'s comparisons in ``record`` and those it supports: ``(rows, supported)``."""
    rows = [row for row in record["comparisons"] if row["family"] == name]
    return rows, [row for row in rows if row["supported"]]


def claim(row: dict) -> str:
    """``style/none vs original/none on FlyEM slices: better, foreground V_rand +0.050 [+0.030, +0.070]``."""
    low, high = (np.nan if row[key] is None else row[key] for key in ("diff_low", "diff_high"))
    return (
        f"{row['arm']} vs {row['reference']} on {GROUP_NAMES.get(row['group'], row['group'])}: {verdict(row)}, "
        f"{METRIC_NAMES[row['metric']]} {stats.format_interval(row['mean_diff'], low, high)}"
    )


def goal_scores(record: dict) -> list[tuple[str, dict, dict | None, str]]:
    """Per target of the goal: ``(target, V_rand row, all-pixel VI row of that arm and group, "goal ...: reached")``."""
    goal = record["goal"]
    return [
        (target, reached, mean_row(record, goal["arm"], target, goal["group"], "vi"),
         f"goal at least {goal['at_least']:g}: {'reached' if reached['reached'] else 'not reached'}")
        for target, reached in goal["targets"].items()
    ]  # fmt: skip


def mean_row(record: dict, arm: str, target: str, group: str, metric: str) -> dict | None:
    """The record's mean row of an arm, target (``membranes``/``boundaries``), group and metric; None if none."""
    key = (arm, target, group, metric)
    return next((row for row in record["means"] if (row["arm"], row["target"], row["group"], row["metric"]) == key),
                None)  # fmt: skip


def score_text(row: dict | None, digits: int = 3) -> str:
    """``0.912 [0.880, 0.944]``: a mean row's mean with its 95 % interval to ``digits`` decimals.

    ``n/a`` for None; the mean and its number of slices when there is no interval.
    """
    if row is None:
        return "n/a"
    if row["low"] is None or not np.isfinite(row["low"]):
        return f"{row['mean']:.{digits}f} (n = {row['n_slices']} slice)"
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def conclusion(record: dict) -> str:
    """Chapter 08's conclusion in Markdown from ``record`` (:func:`.analysis.results_record`).

    Bullets: the goal beside the 1 px placement reference, the target choice, then per confirmatory family what it
    supports (or nothing), naming the family and the correction.
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
