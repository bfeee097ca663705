"""Chapter 08's numbers: per-arm means with 95 % intervals, paired comparisons of arms, the results file.

Conditions are pooled into groups (:data:`GROUPS`): clean test slices, appearance shifts, held-out paintings
and the second dataset. A comparison pairs two arms on the same (seed, condition, slice) and reports the mean
difference with its 95 % t-interval and the Wilcoxon test (:func:`helpers.experiments.stats.paired_comparison`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..experiments.scenarios import UNSEEN_PREFIX
from ..experiments.stats import mean_interval, paired_comparison
from ..paths import atomic_write_text
from .experiment import FLYEM

GROUPS: dict[str, Callable[[str], bool]] = {
    "clean": lambda condition: condition == "clean",
    "shifts": lambda condition: condition not in ("clean", FLYEM) and not condition.startswith(UNSEEN_PREFIX),
    "unseen styles": lambda condition: condition.startswith(UNSEEN_PREFIX),
    FLYEM: lambda condition: condition == FLYEM,
}
METRICS = ("rand_error", "vi", "v_rand", "auc", "f1", "reachable_rand_error", "reachable_vi")
LOWER_IS_BETTER = {"rand_error": True, "vi": True, "v_rand": False, "auc": False, "f1": False,
                   "reachable_rand_error": True, "reachable_vi": True}  # fmt: skip
PAIR_KEYS = ["seed", "condition", "slice"]
DETECTORS = {"U-Net": "", "frangi": "frangi:", "pixel-rf": "pixel-rf:"}  # boundary detector -> arm prefix
QUESTIONS = {  # what a comparison asks -> (arm, reference), arms without the detector's prefix
    "style alone": ("style/none", "original/none"),
    "normalisation alone": ("original/percentile", "original/none"),
    "style beyond normalisation": ("style/percentile", "original/percentile"),
    "style instead of normalisation": ("style/none", "original/percentile"),
}
UNET_ONLY = (  # the U-Net's plain-augmentation arms
    ("plain/none", "original/none"),  # plain augmentation
    ("style+plain/none", "plain/none"),  # style on top of plain augmentation
    ("style+plain/percentile", "plain/percentile"),  # style on top of both
)
COMPARISONS = (  # (arm, reference): every question for every detector, then the U-Net's own
    *((prefix + arm, prefix + reference) for prefix in DETECTORS.values() for arm, reference in QUESTIONS.values()),
    *UNET_ONLY,
)


def detector_of(arm: str) -> str:
    """The boundary detector of an arm: a forest pipeline for ``"<pipeline>:..."`` arms, else ``"U-Net"``.

    Args:
        arm: an arm's name.

    Returns:
        A key of :data:`DETECTORS`.
    """
    return next((name for name, prefix in DETECTORS.items() if prefix and arm.startswith(prefix)), "U-Net")


def _grouped(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with a ``group`` column (rows of no group dropped)."""
    groups = rows["condition"].map(lambda condition: next((g for g, test in GROUPS.items() if test(condition)), None))
    return rows.assign(group=groups).dropna(subset=["group"])


def arm_means(rows: pd.DataFrame, metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean and 95 % interval of every metric, per arm and group.

    Args:
        rows: the experiment's rows (:func:`.experiment.run_arm`).
        metrics: the score columns.

    Returns:
        Columns arm, detector (:func:`detector_of`), group, metric, n, mean, low, high.
    """
    table = []
    for (arm, group), part in _grouped(rows).groupby(["arm", "group"], sort=False):
        for metric in metrics:
            values = part[metric].dropna()
            if len(values):
                mean, low, high = mean_interval(values.to_numpy())
                table.append({"arm": arm, "detector": detector_of(arm), "group": group, "metric": metric,
                              "n": len(values), "mean": mean, "low": low, "high": high})  # fmt: skip
    return pd.DataFrame(table)


def comparisons(
    rows: pd.DataFrame, pairs: Sequence[tuple[str, str]] = COMPARISONS, metrics: Sequence[str] = METRICS
) -> pd.DataFrame:
    """Paired comparison of each (arm, reference) pair, per group and metric.

    Args:
        rows: the experiment's rows.
        pairs: (arm, reference arm) pairs; pairs with an arm that has no rows are skipped.
        metrics: the score columns.

    Returns:
        Columns arm, reference, detector, group, metric and those of ``paired_comparison`` (mean_diff = arm -
        reference).
    """
    grouped = _grouped(rows)
    table = []
    for arm, reference in pairs:
        for group, part in grouped.groupby("group", sort=False):
            mine = part[part["arm"] == arm].set_index(PAIR_KEYS)
            theirs = part[part["arm"] == reference].set_index(PAIR_KEYS)
            for metric in metrics:
                joined = mine[[metric]].join(theirs[[metric]], rsuffix="_ref", how="inner").dropna()
                if len(joined):
                    compared = paired_comparison(joined[metric].to_numpy(), joined[f"{metric}_ref"].to_numpy())
                    table.append({"arm": arm, "reference": reference, "detector": detector_of(arm), "group": group,
                                  "metric": metric, **compared})  # fmt: skip
    return pd.DataFrame(table)


def _number(value: float, digits: int) -> str:
    """A signed number, or "n/a" for NaN."""
    return "n/a" if value is None or math.isnan(value) else f"{value:+.{digits}f}"


def comparison_line(row: pd.Series | dict, digits: int = 3) -> str:
    """One comparison in words, e.g. ``style/none vs original/none, clean, rand_error: -0.010 [-0.020, +0.001]``.

    Args:
        row: a row of :func:`comparisons`.
        digits: decimals.

    Returns:
        The sentence, with the verdict: better, worse or no measurable change (the 95 % interval holds 0).
    """
    low, high = row["diff_low"], row["diff_high"]
    if math.isnan(low) or low <= 0 <= high:
        verdict = "no measurable change"
    else:
        lower = high < 0
        verdict = "better" if lower == LOWER_IS_BETTER[row["metric"]] else "worse"
    return (
        f"{row['arm']} vs {row['reference']}, {row['group']}, {row['metric']}: {_number(row['mean_diff'], digits)} "
        f"[{_number(low, digits)}, {_number(high, digits)}] over {row['n_pairs']} pairs ({verdict})"
    )


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN as None)."""
    return [
        {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in record.items()}
        for record in table.to_dict(orient="records")
    ]


def write_results(path: Path, header: dict, rows: pd.DataFrame) -> dict:
    """Write rows, per-arm means and comparisons to a JSON file atomically.

    Args:
        path: the file (``config.result_path("unet.json")``).
        header: what produced them (profile, configuration, U-Net work, timings).
        rows: the experiment's rows.

    Returns:
        The written record.
    """
    record = {
        **header,
        "means": _records(arm_means(rows)),
        "comparisons": _records(comparisons(rows)),
        "rows": _records(rows),
    }
    atomic_write_text(path, json.dumps(record, indent=1, default=float) + "\n")
    return record
