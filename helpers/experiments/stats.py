"""Statistics of the experiments: intervals, paired tests, and tidy summaries against a reference scenario.

Every summary is a pandas DataFrame with one row per group and plain columns (``pipeline``, ``steps``,
``scenario``, ``condition``, ``metric``, ``reference``, ``mean_diff``, ...); the reference scenario is a
column, so every consumer reads it from the table instead of from a column name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .scenarios import UNSEEN_PREFIX
from .shifts import SHIFTS

METRICS = ("rand_error", "vi")
UNIT_KEYS = ["pipeline", "steps", "scenario"]
PAIR_KEYS = ["split", "slice"]  # a test slice of a split: the pairing of the paired tests
MIN_PAIRS = 2
COMPARISON_COLUMNS = ["mean_diff", "diff_low", "diff_high", "p_wilcoxon", "frac_better", "n_pairs"]
SUMMARY_COLUMNS = [*UNIT_KEYS, "condition", "metric", "n", "mean", "low", "high", "reference", *COMPARISON_COLUMNS]
ROBUSTNESS_COLUMNS = [*UNIT_KEYS, "metric", "clean", "shift_increase", "unseen_style_increase"]
PAIRED_ROBUSTNESS_COLUMNS = [
    "test",
    *UNIT_KEYS,
    "metric",
    "reference",
    "increase_mean",
    "reference_increase_mean",
    *COMPARISON_COLUMNS,
]
ROBUSTNESS_TESTS: dict[str, Callable[[str], bool]] = {  # which test conditions each robustness test averages
    "shifts": lambda condition: condition in SHIFTS and condition != "clean",
    "unseen": lambda condition: condition.startswith(UNSEEN_PREFIX),
}


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its two-sided t-interval.

    Args:
        values: the sample.
        confidence: coverage of the interval.

    Returns:
        ``(mean, low, high)``; the bounds are NaN for fewer than two values.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < MIN_PAIRS:
        return mean, float("nan"), float("nan")
    half = float(stats.sem(values) * stats.t.ppf(0.5 + confidence / 2, len(values) - 1))
    return mean, mean - half, mean + half


def paired_comparison(values: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray) -> dict:
    """Paired comparison of a scenario with the reference (same splits and slices, same order).

    Args:
        values: the scenario's errors.
        reference: the reference scenario's errors on the same pairs.

    Returns:
        ``mean_diff`` (negative = lower error than the reference) with its 95% t-interval ``diff_low`` and
        ``diff_high``, the Wilcoxon signed-rank ``p_wilcoxon``, ``frac_better`` (pairs where the scenario is
        better) and ``n_pairs``.

    Raises:
        ValueError: if the two samples differ in shape.
    """
    values, reference = np.asarray(values, float), np.asarray(reference, float)
    if values.shape != reference.shape:
        raise ValueError(f"paired values need the same shape, got {values.shape} and {reference.shape}")
    diff = values - reference
    mean, low, high = mean_interval(diff)
    no_difference = np.allclose(diff, 0)
    p_value = 1.0 if no_difference else float(stats.wilcoxon(values, reference, zero_method="zsplit").pvalue)
    return {
        "mean_diff": mean, "diff_low": low, "diff_high": high, "p_wilcoxon": p_value,
        "frac_better": float(np.mean(diff < 0)), "n_pairs": int(len(diff)),
    }  # fmt: skip


def _untested() -> dict:
    """The comparison columns of a row without a paired test."""
    return {column: float("nan") for column in COMPARISON_COLUMNS}


def _pair(values: pd.Series, reference: pd.Series) -> pd.DataFrame:
    """Values and reference values on the (split, slice) pairs both have, in the order of ``values``."""
    return pd.DataFrame({"value": values}).join(reference.rename("reference"), how="inner")


def summarize(rows: pd.DataFrame, reference: str = "original", metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean, 95% interval and the paired comparison with the ``reference`` scenario, per group.

    A group is a (pipeline, steps, scenario, condition, metric); its values are those of all (split, slice)
    pairs, and the comparison pairs them with the reference scenario's values on the same pairs.

    Args:
        rows: the rows of a run (:attr:`helpers.experiments.runner.Run.rows`).
        reference: the scenario every other one is paired against.
        metrics: the error columns to summarise.

    Returns:
        Columns pipeline, steps, scenario, condition, metric, n, mean, low, high, reference, mean_diff,
        diff_low, diff_high, p_wilcoxon, frac_better, n_pairs (the comparison columns NaN for the reference
        itself and where fewer than two pairs exist), sorted by the first five.
    """
    indexed = rows.set_index(PAIR_KEYS, drop=False)
    groups = dict(list(indexed.groupby([*UNIT_KEYS, "condition"], sort=True)))
    records = []
    for (pipeline, steps, scenario, condition), group in groups.items():
        reference_group = groups.get((pipeline, steps, reference, condition))
        for metric in metrics:
            mean, low, high = mean_interval(group[metric].to_numpy())
            record = {
                "pipeline": pipeline, "steps": steps, "scenario": scenario, "condition": condition, "metric": metric,
                "n": len(group), "mean": mean, "low": low, "high": high, "reference": reference, **_untested(),
            }  # fmt: skip
            if scenario != reference and reference_group is not None:
                paired = _pair(group[metric], reference_group[metric])
                if len(paired) >= MIN_PAIRS:
                    record.update(paired_comparison(paired["value"].to_numpy(), paired["reference"].to_numpy()))
            records.append(record)
    return pd.DataFrame(records, columns=SUMMARY_COLUMNS)


def robustness(summary: pd.DataFrame, metric: str = "rand_error") -> pd.DataFrame:
    """Per (pipeline, steps, scenario): the clean error and its mean increase under shifts and unseen styles.

    Args:
        summary: the table of :func:`summarize`.
        metric: the error.

    Returns:
        Columns pipeline, steps, scenario, metric, clean, shift_increase, unseen_style_increase (lower
        increase = more robust; NaN where a kind of condition is missing).
    """
    chosen = summary[summary["metric"] == metric]
    records = []
    for (pipeline, steps, scenario), group in chosen.groupby(UNIT_KEYS, sort=True):
        by_condition = dict(zip(group["condition"], group["mean"]))
        clean = by_condition.get("clean", float("nan"))
        increases = {}
        for test, keep in ROBUSTNESS_TESTS.items():
            shifted = [value for condition, value in by_condition.items() if keep(condition)]
            increases[test] = float(np.mean(shifted) - clean) if shifted else float("nan")
        records.append({
            "pipeline": pipeline, "steps": steps, "scenario": scenario, "metric": metric, "clean": clean,
            "shift_increase": increases["shifts"], "unseen_style_increase": increases["unseen"],
        })  # fmt: skip
    return pd.DataFrame(records, columns=ROBUSTNESS_COLUMNS)


def _increases(rows: pd.DataFrame, keep: Callable[[str], bool], metric: str) -> pd.DataFrame:
    """Per (pipeline, steps, scenario, split, slice): mean error over the kept conditions minus the clean error."""
    records = []
    chosen = rows[(rows["condition"] == "clean") | rows["condition"].map(keep)]
    for keys, group in chosen.groupby([*UNIT_KEYS, *PAIR_KEYS], sort=False):
        clean = group.loc[group["condition"] == "clean", metric].to_numpy()
        shifted = group.loc[group["condition"] != "clean", metric].to_numpy()
        if len(clean) and len(shifted):
            records.append((*keys, np.mean(shifted) - clean[-1]))
    return pd.DataFrame(records, columns=[*UNIT_KEYS, *PAIR_KEYS, "increase"])


def robustness_paired(rows: pd.DataFrame, metric: str = "rand_error", reference: str = "original") -> pd.DataFrame:
    """Paired test of robustness against the ``reference`` scenario.

    Per (split, test slice) the error increase from the clean slice to the mean over the appearance shifts
    (test ``shifts``), and separately over the unseen styles (test ``unseen``), is compared with the
    reference scenario's increase on the same pairs.

    Args:
        rows: the rows of a run.
        metric: the error.
        reference: the scenario every other one is paired against.

    Returns:
        Columns test, pipeline, steps, scenario, metric, reference, increase_mean, reference_increase_mean,
        mean_diff, diff_low, diff_high, p_wilcoxon, frac_better, n_pairs (negative ``mean_diff`` = the
        scenario's error rises less = more robust); one row per test and scenario with at least two pairs.
    """
    records = []
    for test, keep in ROBUSTNESS_TESTS.items():
        increases = _increases(rows, keep, metric).set_index(PAIR_KEYS)
        groups = dict(list(increases.groupby(UNIT_KEYS, sort=True)))
        for (pipeline, steps, scenario), group in groups.items():
            reference_group = groups.get((pipeline, steps, reference))
            if scenario == reference or reference_group is None:
                continue
            paired = _pair(group["increase"], reference_group["increase"])
            if len(paired) < MIN_PAIRS:
                continue
            values, reference_values = paired["value"].to_numpy(), paired["reference"].to_numpy()
            records.append({
                "test": test, "pipeline": pipeline, "steps": steps, "scenario": scenario, "metric": metric,
                "reference": reference, "increase_mean": float(np.mean(values)),
                "reference_increase_mean": float(np.mean(reference_values)),
                **paired_comparison(values, reference_values),
            })  # fmt: skip
    return pd.DataFrame(records, columns=PAIRED_ROBUSTNESS_COLUMNS)
