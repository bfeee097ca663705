"""Chapter 08 in words: the comparisons as one Markdown table and a conclusion generated from the results record.

The conclusion claims only what a confirmatory family supports (Holm-corrected p < 0.05 within the family,
:func:`helpers.experiments.stats.correct`) and names the family and the correction; exploratory comparisons are
reported in the table and never claimed. Every number comes from the record.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..experiments import stats
from .analysis import HIGHER_IS_BETTER, PRIMARY

METRIC_NAMES = {"v_rand": "foreground V_rand", "v_info": "foreground V_info", "rand_error": "adapted Rand error",
                "vi": "VI (bits)", "auc": "pixel AUC", "f1": "pixel F1", "reachable_rand_error": "reachable Rand error",
                "reachable_vi": "reachable VI (bits)"}  # fmt: skip


def _number(value: float | None, digits: int = 3) -> str:
    """A number, or ``n/a`` for None / NaN."""
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


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


def _side(arm: str, target: str) -> str:
    """``style/none (membranes)``."""
    return f"{arm} ({target})"


def comparison_table(comparisons: Sequence[dict], metrics: Sequence[str] = (PRIMARY, "vi")) -> str:
    """The declared comparisons of some metrics as one Markdown table, confirmatory families first.

    Args:
        comparisons: the record's ``comparisons``.
        metrics: the metrics shown (every metric is in the results file).

    Returns:
        One row per comparison: family (label), arm vs reference, group, metric, mean difference [95 %
        interval], p, Holm p, slices x seeds, verdict.
    """
    lines = [
        "| family | arm vs reference | group | metric | difference [95 % CI] | p | p (Holm) | slices x seeds | "
        "verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    shown = [row for row in comparisons if row["metric"] in metrics]
    for row in sorted(shown, key=lambda row: row["label"] != "confirmatory"):
        low, high = (np.nan if row[key] is None else row[key] for key in ("diff_low", "diff_high"))
        difference = stats.format_interval(row["mean_diff"], low, high)
        lines.append(
            f"| {row['family']} ({row['label']}) | {_side(row['arm'], row['arm_target'])} vs "
            f"{_side(row['reference'], row['reference_target'])} | {row['group']} | {METRIC_NAMES[row['metric']]} | "
            f"{difference} | {_number(row['p_value'])} | {_number(row['p_holm'])} | "
            f"{row['n_slices']} x {row['n_seeds']} | {verdict(row)} |"
        )
    return "\n".join(lines)


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
    lines = []
    for target, reached in goal["targets"].items():
        vi = mean_row(record, goal["arm"], target, goal["group"], "vi")
        lines.append(
            f"* **Goal, {target}** ({goal['arm']}, {goal['group']} test slices, profile `{record['profile']}`): "
            f"foreground V_rand {score_text(reached)}, goal at least {goal['at_least']:g}: "
            f"{'reached' if reached['reached'] else 'not reached'}. All-pixel VI {score_text(vi, 2)} bits beside the "
            f"{placement['shift']} px placement reference of {placement['vi']:.2f} bits (the dense ground truth "
            f"against itself shifted by {placement['shift']} px)."
        )
    scores = ", ".join(f"{target} {value:.3f}" for target, value in record["target_choice"]["v_rand"].items())
    rule = record["target_choice"]["rule"]
    lines.append(f"* **Target of the style arms: {chosen}** (rule declared before the run: {rule}; {scores}).")
    for family in (f for f in record["families"] if f["label"] == "confirmatory"):
        rows = [row for row in record["comparisons"] if row["family"] == family["name"]]
        supported = [row for row in rows if row["supported"]]
        claims = "; ".join(
            f"{row['arm']} vs {row['reference']} ({row['arm_target']} vs {row['reference_target']}) on {row['group']}: "
            f"{verdict(row)}, {METRIC_NAMES[row['metric']]} "
            f"{stats.format_interval(row['mean_diff'], row['diff_low'], row['diff_high'])}, Holm p = "
            f"{row['p_holm']:.3f} over {row['n_slices']} slices"
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
