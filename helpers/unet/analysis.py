"""Chapter 08's numbers: the target rule, per-slice means, the declared families of comparisons, the results file.

The unit is the test slice (:data:`helpers.experiments.stats.METHOD`): a slice's score is the mean over seeds (and,
within a group, conditions), and arms are paired on the same slices. Groups (:data:`GROUPS`): clean, appearance
shifts (all-trivial shifts flagged and left out), held-out paintings, FlyEM; any other second dataset is its own
group, compared wherever FlyEM is. A metric, target or flag the rows lack is left out, never looked up.

Declared before the run: the target rule (:data:`TARGET_RULE`), the primary metric and the families (Holm within
each). The primary metric, ISBI's foreground V_rand, counts merges and splits inside the foreground, not where a
boundary is drawn, so it does not favour the target matching the dense ground truth's midline split (all-pixel VI
does: see :func:`helpers.segmentation.metrics.placement_reference`); it is also the goal's metric.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..experiments import stats
from ..experiments.scenarios import UNSEEN_PREFIX
from ..experiments.shifts import SHIFTS
from ..paths import atomic_write_text
from .material import FLYEM, Material, provenance, training_paintings

if TYPE_CHECKING:
    from ..config import Config
    from ..segmentation.pipeline import PipelineSettings
    from .experiment import ArmResult

GROUPS: dict[str, Callable[[str], bool]] = {
    "clean": lambda condition: condition == "clean",
    "shifts": lambda condition: condition in SHIFTS and condition != "clean",
    "unseen styles": lambda condition: condition.startswith(UNSEEN_PREFIX),
    FLYEM: lambda condition: condition == FLYEM,
}
PRIMARY = "v_rand"  # the confirmatory metric (why: the module's docstring)
METRICS = ("v_rand", "v_info", "rand_error", "vi", "auc", "f1", "reachable_rand_error", "reachable_vi")
HIGHER_IS_BETTER = {"v_rand", "v_info", "auc", "f1"}
GOAL = {"metric": "v_rand", "at_least": 0.97, "group": "clean"}  # the U-Net pipeline's goal on clean slices
ROW_ORDER = ["arm", "target", "seed", "condition", "slice"]  # the canonical order of the results' rows
CHOSEN = "chosen"  # in a comparison: the target chosen by TARGET_RULE
TARGET_RULE = (
    "the style arms train on the target whose originals arm without normalisation (original/none) has the higher "
    "mean foreground V_rand on the clean test slices (per-slice means over seeds, then the mean over slices); a "
    "tie goes to the membrane mask"
)

STYLES = stats.Family(
    "styles vs originals",
    "confirmatory",
    "Do stylised patches (the same windows of the same slices, the same target) change the U-Net pipeline's "
    "foreground V_rand, without and with per-slice normalisation, on clean, shifted, unseen-painting and FlyEM "
    "slices?",
)
TARGET = stats.Family(
    "target",
    "confirmatory",
    "Does the U-Net pipeline trained on thin boundaries reach another foreground V_rand on clean test slices "
    "than one trained on the membrane mask (originals, no normalisation)?",
)
EXPLORATORY = stats.Family(
    "exploratory",
    "exploratory",
    "Everything else: the same pairs on other metrics and groups, normalisation alone, plain augmentation, "
    "styles on top of plain augmentation.",
)
FAMILIES = (STYLES, TARGET, EXPLORATORY)


@dataclass(frozen=True)
class Comparison:
    """One declared comparison: arm minus reference, each on a target, per group and metric."""

    family: stats.Family
    arm: str
    reference: str
    arm_target: str = CHOSEN
    reference_target: str = CHOSEN
    groups: tuple[str, ...] = tuple(GROUPS)
    metrics: tuple[str, ...] = (PRIMARY,)


_STYLE_PAIRS = (("style/none", "original/none"), ("style/percentile", "original/percentile"))
_OTHER_METRICS = tuple(metric for metric in METRICS if metric != PRIMARY)
COMPARISONS = (
    *(Comparison(STYLES, arm, reference) for arm, reference in _STYLE_PAIRS),
    Comparison(TARGET, "original/none", "original/none", "boundaries", "membranes", ("clean",)),
    *(Comparison(EXPLORATORY, arm, reference, metrics=_OTHER_METRICS) for arm, reference in _STYLE_PAIRS),
    Comparison(EXPLORATORY, "original/none", "original/none", "boundaries", "membranes", ("clean",), _OTHER_METRICS),
    Comparison(EXPLORATORY, "original/none", "original/none", "boundaries", "membranes", tuple(GROUPS)[1:], METRICS),
    *(
        Comparison(EXPLORATORY, arm, reference, metrics=METRICS)
        for arm, reference in (
            ("original/percentile", "original/none"),  # normalisation alone
            ("plain/none", "original/none"),  # plain augmentation
            ("style+plain/none", "plain/none"),  # styles on top of plain augmentation
        )
    ),
)


def group_of(condition: str) -> str:
    """The group of a test condition: one of :data:`GROUPS`, or a second dataset's own name."""
    return next((group for group, test in GROUPS.items() if test(condition)), condition)


def canonical(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of the rows sorted by :data:`ROW_ORDER` (the columns present), fresh index, whatever the arm order."""
    return rows.sort_values([key for key in ROW_ORDER if key in rows], kind="stable").reset_index(drop=True)


def trivial_conditions(rows: pd.DataFrame) -> list[str]:
    """Shift conditions on which every arm returns a trivial segmentation (one segment, or every pixel its own).

    Such a condition tells arms apart only by ties: it is shown, flagged and left out of every average.

    Args:
        rows: rows with ``condition`` and ``trivial`` columns (:func:`.experiment.run_arm`).

    Returns:
        The trivial shift conditions, sorted (none without a ``trivial`` column).
    """
    if "trivial" not in rows:
        return []
    shifts = rows[rows["condition"].map(GROUPS["shifts"])]
    flags = shifts.groupby("condition", sort=True)["trivial"].all()
    return [str(condition) for condition, flag in flags.items() if flag]


def _grouped(rows: pd.DataFrame, trivial: Sequence[str]) -> pd.DataFrame:
    """The rows with a ``group`` column; rows of no group and of trivial conditions dropped."""
    kept = rows[~rows["condition"].isin(list(trivial))]
    return kept.assign(group=kept["condition"].map(group_of))


def _slices(grouped: pd.DataFrame, arm: str, target: str, group: str, metric: str) -> tuple[pd.Series, int]:
    """One arm's per-slice means of a metric in a group (over seeds and conditions), and its number of seeds."""
    if metric not in grouped:
        return pd.Series(dtype=float), 0
    chosen = (grouped["arm"] == arm) & (grouped["group"] == group)
    if "target" in grouped:
        chosen &= grouped["target"] == target
    part = grouped[chosen].dropna(subset=[metric])
    if part.empty:
        return pd.Series(dtype=float), 0
    table = stats.per_slice(part, ["arm"], metric)
    return table.set_index("slice")[metric], int(part["seed"].nunique()) if "seed" in part else 1


def arm_means(rows: pd.DataFrame, trivial: Sequence[str] = (), metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean and 95 % interval over test slices of every metric per arm, target and group.

    Args:
        rows: the experiment's rows.
        trivial: conditions left out (:func:`trivial_conditions`).
        metrics: the score columns.

    Returns:
        Columns arm, target, group, metric, n_slices, n_seeds, mean, low, high; in a fixed order.
    """
    grouped = _grouped(canonical(rows), trivial)
    if "target" not in grouped:
        grouped = grouped.assign(target="-")  # rows of one target (e.g. edge-forest pipelines without a U-Net)
    table = []
    for (arm, target, group), _ in grouped.groupby(["arm", "target", "group"], sort=True):
        for metric in metrics:
            values, n_seeds = _slices(grouped, arm, target, group, metric)
            if len(values):
                mean, low, high = stats.mean_interval(values.to_numpy())
                table.append({"arm": arm, "target": target, "group": group, "metric": metric, "n_slices": len(values),
                              "n_seeds": n_seeds, "mean": mean, "low": low, "high": high})  # fmt: skip
    return pd.DataFrame(table)


def choose_target(rows: pd.DataFrame) -> dict:
    """The style arms' target by :data:`TARGET_RULE`, from ``original/none``'s clean rows of both targets.

    Returns:
        ``{"rule", "v_rand": {target: mean}, "chosen"}``.

    Raises:
        ValueError: when a target has no such rows.
    """
    grouped = _grouped(canonical(rows), ())
    scores = {}
    for target in ("membranes", "boundaries"):
        values, _ = _slices(grouped, "original/none", target, "clean", PRIMARY)
        if values.empty:
            raise ValueError(f"no clean rows of original/none with target {target!r}: run both targets first")
        scores[target] = float(values.mean())
    chosen = "boundaries" if scores["boundaries"] > scores["membranes"] else "membranes"
    return {"rule": TARGET_RULE, "v_rand": scores, "chosen": chosen}


def comparisons(
    rows: pd.DataFrame, chosen: str, trivial: Sequence[str] = (), declared: Sequence[Comparison] = COMPARISONS
) -> pd.DataFrame:
    """Every declared comparison per group and metric, paired on test slices, Holm-corrected within its family.

    Args:
        rows: the experiment's rows.
        chosen: the style arms' target (:func:`choose_target`).
        trivial: conditions left out (:func:`trivial_conditions`).
        declared: the comparisons; skipped without rows on both sides, or across targets without a ``target``
            column. Group ``flyem`` stands for every second dataset.

    Returns:
        Columns family, label, arm, arm_target, reference, reference_target, group, metric, those of
        :func:`~helpers.experiments.stats.paired_by_slice` (mean_diff = arm - reference; ``frac_better`` follows
        :data:`HIGHER_IS_BETTER`), n_seeds, p_holm and supported.
    """
    grouped = _grouped(canonical(rows), trivial)
    datasets = sorted(set(grouped["group"]) - set(GROUPS) - {FLYEM})
    tables = []
    for family in FAMILIES:
        table = []
        for item in (comparison for comparison in declared if comparison.family == family):
            arm_target = chosen if item.arm_target == CHOSEN else item.arm_target
            reference_target = chosen if item.reference_target == CHOSEN else item.reference_target
            if arm_target != reference_target and "target" not in grouped:
                continue  # rows of one target cannot compare two
            groups = [name for group in item.groups for name in ([group, *datasets] if group == FLYEM else [group])]
            for group in groups:
                for metric in item.metrics:
                    values, seeds = _slices(grouped, item.arm, arm_target, group, metric)
                    reference, reference_seeds = _slices(grouped, item.reference, reference_target, group, metric)
                    if values.empty or reference.empty:
                        continue
                    compared = stats.paired_by_slice(values, reference)
                    if metric in HIGHER_IS_BETTER and compared["n_slices"]:
                        paired = pd.concat([values, reference], axis=1, join="inner")
                        compared["frac_better"] = float(np.mean(paired.iloc[:, 0] > paired.iloc[:, 1]))
                    table.append({"arm": item.arm, "arm_target": arm_target, "reference": item.reference,
                                  "reference_target": reference_target, "group": group, "metric": metric,
                                  **compared, "n_seeds": min(seeds, reference_seeds)})  # fmt: skip
        if table:
            tables.append(stats.correct(pd.DataFrame(table), family))
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table[["family", "label", *[column for column in table if column not in ("family", "label")]]]


def goal(means: pd.DataFrame, chosen: str) -> dict:
    """Whether ``original/none`` reaches :data:`GOAL` on its group, per target, from :func:`arm_means`' table.

    Returns:
        ``{**GOAL, "arm", "chosen", "targets": {target: {"n_slices", "n_seeds", "mean", "low", "high", "reached"}}}``.
    """
    part = means[(means["arm"] == "original/none") & (means["group"] == GOAL["group"])]
    part = part[part["metric"] == GOAL["metric"]]
    targets = {
        row["target"]: {
            **{key: _clean(row[key]) for key in ("n_slices", "n_seeds", "mean", "low", "high")},
            "reached": bool(row["mean"] >= GOAL["at_least"]),
        }
        for _, row in part.iterrows()
    }
    return {**GOAL, "arm": "original/none", "chosen": chosen, "targets": targets}


def _clean(value: object) -> object:
    """JSON-safe: NaN as None, NumPy scalars as Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def records(table: pd.DataFrame) -> list[dict]:
    """The table's rows as JSON-safe dicts (NaN as None), in order."""
    return [{key: _clean(value) for key, value in row.items()} for row in table.to_dict(orient="records")]


def results_record(header: dict, rows: pd.DataFrame, chosen: dict, placement: dict, timings: dict) -> dict:
    """The results file's content: canonical rows, means, declared families and comparisons, the goal.

    Args:
        header: what produced them (profile, configuration, U-Net work, provenance); no timings.
        rows: the experiment's rows.
        chosen: the target choice (:func:`choose_target`).
        placement: the 1 px placement reference (mean over the clean test slices).
        timings: seconds; the only place of timings (``*_s`` fields).

    Returns:
        The record; the same rows in any order give the same record.
    """
    rows = canonical(rows)
    trivial = trivial_conditions(rows)
    means = arm_means(rows, trivial)
    return {
        **header,
        "unit": stats.UNIT,
        "method": stats.METHOD,
        "primary_metric": PRIMARY,
        "families": [{"name": f.name, "label": f.label, "question": f.question} for f in FAMILIES],
        "target_choice": chosen,
        "placement_reference": placement,
        "goal": goal(means, chosen["chosen"]),
        "trivial_conditions": trivial,
        "means": records(means),
        "comparisons": records(comparisons(rows, chosen["chosen"], trivial)),
        "rows": records(rows),
        "timings": timings,
    }


def write_record(
    config: Config,
    settings: PipelineSettings,
    material: Material,
    results: Mapping[tuple, ArmResult],
    choice: dict,
    references: pd.DataFrame,
    started: float,
) -> dict:
    """Write chapter 08's run record (:func:`results_record`) atomically to ``config.result_path("unet.json")``.

    Args:
        config: the configuration.
        settings: the segmentation settings of every arm.
        material: the images (their provenance is recorded).
        results: ``{(training, intensity, target, seed): result}`` of :func:`.experiment.run_arms`.
        choice: the target choice (:func:`choose_target`).
        references: the 1 px placement reference per clean test slice (columns ``vi``, ``rand_error``).
        started: ``time.perf_counter()`` at the start of the run (for the timings).

    Returns:
        The record.
    """
    work = config.unet
    header = {
        "profile": config.profile, "config": config.as_dict(), "unet_work": work.as_dict(),
        "settings": settings.as_dict(),
        "paintings": list(training_paintings(work.paintings, config.experiments.heldout_styles)),
        "provenance": provenance(material),
    }  # fmt: skip
    placement = {"shift": int(references["shift"].iloc[0]), "n_slices": len(references),
                 "vi": float(references["vi"].mean()),
                 "rand_error": float(references["rand_error"].mean())}  # fmt: skip
    seconds = {" ".join(map(str, key)): round(result.trained.seconds, 1) for key, result in sorted(results.items())}
    timings = {"seconds_per_training": seconds,
               "training_s": round(sum(result.trained.seconds for result in results.values()), 1),
               "total_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    rows = pd.DataFrame([row for result in results.values() for row in result.rows])
    record = results_record(header, rows, choice, placement, timings)
    atomic_write_text(config.result_path("unet.json"), json.dumps(record, indent=1, default=float) + "\n")
    return record
