"""The words of chapter 06: verdicts, printable lines and the conclusion, all read from the result tables.

Every function takes the tables of :mod:`helpers.experiments.stats` and names the reference scenario that the
tables were paired against (their ``reference`` column), so a summary against another reference reads right.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..paths import ROOT
from .scenarios import SCENARIOS, STYLE_SCENARIOS
from .stats import COMPARISON_COLUMNS, UNIT_KEYS

ROBUSTNESS_LINE = (  # a row of stats.robustness: clean error, its increase under shifts and unseen styles
    "{pipeline:8s} {steps:3d} steps  {scenario:10s} clean {clean:.3f}  "
    "{shift_increase:+.3f} under shifts  {unseen_style_increase:+.3f} on unseen styles"
)
PAIRED_ROBUSTNESS_LINE = (  # a row of stats.robustness_paired: the paired difference of error increases
    "{test:7s} {pipeline:8s} {steps:3d} steps  {scenario:10s} error increase {increase_mean:+.3f} vs {reference} "
    "{reference_increase_mean:+.3f}: difference {mean_diff:+.3f} [{diff_low:+.3f}, {diff_high:+.3f}], "
    "p={p_wilcoxon:.3f}, n={n_pairs}"
)
ROBUSTNESS_WORDS = {
    "shifts": "appearance shifts (contrast, gamma, noise, blur)",
    "unseen": "unseen styles",
}


def verdict(row: pd.Series | dict) -> str:
    """Whether a scenario was better or worse than the reference, from the paired 95% interval.

    Args:
        row: a row of :func:`helpers.experiments.stats.summarize` (``diff_low``, ``diff_high``).

    Returns:
        ``"better"``, ``"worse"``, ``"no clear difference"`` or ``"not tested (too few pairs)"``.
    """
    low, high = row["diff_low"], row["diff_high"]
    if not np.isfinite(low):
        return "not tested (too few pairs)"
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    return "no clear difference"


def robustness_call(row: pd.Series | dict) -> str:
    """``"more robust"``, ``"less robust"`` or ``"no clear difference"`` from a paired robustness row.

    Args:
        row: a row of :func:`helpers.experiments.stats.robustness_paired`.

    Returns:
        The call, from its 95% interval of the difference of error increases.
    """
    if row["diff_high"] < 0:
        return "more robust"
    if row["diff_low"] > 0:
        return "less robust"
    return "no clear difference"


def reference_of(table: pd.DataFrame) -> str:
    """The one reference scenario a summary table was paired against.

    Args:
        table: a table with a ``reference`` column.

    Returns:
        The reference scenario's name.

    Raises:
        ValueError: if the table mixes references or is empty.
    """
    references = table["reference"].unique().tolist()
    if len(references) != 1:
        raise ValueError(f"expected a table paired against one reference scenario, got {references}")
    return str(references[0])


def _main_rows(summary: pd.DataFrame, metric: str, condition: str = "clean") -> pd.DataFrame:
    """The rows of the report's scenarios (but the reference) for one metric and condition."""
    reference = reference_of(summary)
    keep = (
        (summary["condition"] == condition)
        & (summary["metric"] == metric)
        & summary["scenario"].isin(list(SCENARIOS))
        & (summary["scenario"] != reference)
    )
    return summary[keep]


def conclusion(
    summary: pd.DataFrame,
    robust: pd.DataFrame,
    profile: str,
    n_splits: int,
    metric: str = "rand_error",
    note: str = "",
) -> str:
    """The chapter's conclusion in Markdown, every number and word taken from the results.

    Args:
        summary: the table of :func:`helpers.experiments.stats.summarize`.
        robust: the table of :func:`helpers.experiments.stats.robustness_paired` (same reference).
        profile: the profile's name.
        n_splits: how many train/test splits were run.
        metric: the error discussed.
        note: a closing paragraph (empty: none).

    Returns:
        The Markdown text.
    """
    reference = reference_of(summary)
    main = _main_rows(summary, metric)
    lines = [
        f"**Profile `{profile}`, {n_splits} train/test splits.** Paired against the {reference} training set "
        f"on the same test slices (clean), {metric.replace('_', ' ')}:",
        "",
    ]
    for _, row in main.iterrows():
        lines.append(
            f"- {row['pipeline']} pipeline, {row['steps']} steps, *{SCENARIOS[row['scenario']].label}*: "
            f"{row['mean']:.3f} (change {row['mean_diff']:+.3f}, 95% interval "
            f"[{row['diff_low']:+.3f}, {row['diff_high']:+.3f}], "
            f"Wilcoxon p = {row['p_wilcoxon']:.3f}): **{verdict(row)}**"
        )
    styled = [verdict(row) for _, row in main[main["scenario"].isin(STYLE_SCENARIOS)].iterrows()]
    lines += [
        "",
        f"Style augmentation was clearly better than the {reference} set in {styled.count('better')} of "
        f"{len(styled)} (pipeline, steps, scenario) comparisons and clearly worse in {styled.count('worse')}.",
    ]
    for test, words in ROBUSTNESS_WORDS.items():
        tests = robust[(robust["test"] == test) & robust["scenario"].isin(STYLE_SCENARIOS)]
        if tests.empty:
            continue
        calls = [robustness_call(row) for _, row in tests.iterrows()]
        details = "; ".join(
            f"{row['pipeline']}/{row['steps']}/{row['scenario']}: "
            f"{row['increase_mean']:+.3f} vs {row['reference_increase_mean']:+.3f}"
            for _, row in tests.iterrows()
        )
        lines.append(
            f"Under {words}, style scenarios were clearly more robust than the {reference} set (smaller paired "
            f"error increase, 95% interval below 0) in {calls.count('more robust')} of {len(tests)} comparisons, "
            f"clearly less robust in {calls.count('less robust')}; {details}."
        )
    plain = summary[(summary["condition"] == "clean") & (summary["metric"] == metric)]
    for _, row in plain[(plain["scenario"] == "plain_aug") & (plain["scenario"] != reference)].iterrows():
        lines.append(
            f"Plain augmentation against the {reference} set ({row['pipeline']}, {row['steps']} steps): "
            f"**{verdict(row)}** ({row['mean_diff']:+.3f})."
        )
    if note:
        lines += ["", note]
    return "\n".join(lines)


def paired_lines(summary: pd.DataFrame, condition: str = "clean") -> list[str]:
    """One printable line per main scenario: its Rand error and VI and their paired change.

    Args:
        summary: the table of :func:`helpers.experiments.stats.summarize` (with both metrics).
        condition: the test condition shown.

    Returns:
        The lines.
    """
    rand = _main_rows(summary, "rand_error", condition)
    vi = _main_rows(summary, "vi", condition).set_index(UNIT_KEYS)[["mean", *COMPARISON_COLUMNS]]
    lines = []
    for _, row in rand.iterrows():
        other = vi.loc[tuple(row[UNIT_KEYS])]
        lines.append(
            f"{row['pipeline']:8s} {row['steps']:3d} steps  {row['scenario']:10s} rand error {row['mean']:.3f}  "
            f"change {row['mean_diff']:+.3f} [{row['diff_low']:+.3f}, {row['diff_high']:+.3f}]  "
            f"p={row['p_wilcoxon']:.3f}  |  VI {other['mean']:.3f}, change {other['mean_diff']:+.3f}  -> "
            f"{verdict(row)}"
        )
    return lines


def scenario_lines(table: pd.DataFrame, template: str) -> list[str]:
    """One printable line per row of the report's scenarios.

    Args:
        table: a result table, e.g. of :func:`helpers.experiments.stats.robustness` or
            :func:`helpers.experiments.stats.robustness_paired`.
        template: a :meth:`str.format` template naming the table's columns, e.g. :data:`ROBUSTNESS_LINE` or
            :data:`PAIRED_ROBUSTNESS_LINE`.

    Returns:
        The lines, in the order of the table.
    """
    return [template.format_map(row) for row in table[table["scenario"].isin(list(SCENARIOS))].to_dict("records")]


def displacement_lines(displacement: pd.DataFrame) -> list[str]:
    """Mean membrane displacement and Frangi-map correlation per (style, steps).

    Args:
        displacement: the table of :func:`helpers.experiments.displacement.displacement_table`.

    Returns:
        The lines, sorted by style and steps.
    """
    return [
        f"style {style:2d} ({steps} steps): displacement {np.mean(group['displacement_px'].to_numpy()):.2f} px, "
        f"membrane-map correlation {np.mean(group['map_correlation'].to_numpy()):.2f}"
        for (style, steps), group in displacement.groupby(["style", "steps"], sort=True)
    ]


def json_records(table: pd.DataFrame) -> list[dict]:
    """A result table as JSON-ready records, NaN (no test, too few pairs) written as None.

    Args:
        table: any of the result tables.

    Returns:
        One dict per row, with plain Python values.
    """
    return [
        {key: None if isinstance(value, float) and np.isnan(value) else value for key, value in record.items()}
        for record in table.to_dict("records")
    ]


def cost_lines(path: Path) -> list[str]:
    """What ``benchmarks/chapter06_cost.py`` measured and projected, in words (its JSON file, read as it is).

    Args:
        path: the benchmark's JSON file (``results/chapter06_cost.json``).

    Returns:
        The lines: the command and machine, the work counted, the projection on 2 and 16 cores against the
        budget, and the forest check; one line saying how to measure when the file is missing.
    """
    path = Path(path)
    if not path.exists():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return [f"{shown} is missing: run `nice -n 10 .venv/bin/python benchmarks/chapter06_cost.py` to measure"]
    document = json.loads(path.read_text())
    plan, settings, machine = document["plan"], document["settings"], document["machine"]
    lines = [
        f"measured by `{document['command']}` ({document['profile']} profile) on {machine['cpu']}, "
        f"{machine['cores']} cores, load average {machine['load_average'][0]:.1f} at the end",
        f"work: {plan['units_total']} units in {plan['tasks_total']} tasks on {len(settings['splits'])} splits, "
        f"{plan['graphs']} Frangi graphs, {plan['displacement_slices']} displacement slices; forests of "
        f"{settings['forest_trees']} trees on at most {settings['forest_max_samples']} edges, one thread each",
        "stand-in images: " + document["stand_in"],
    ]
    if document.get("reprojected_by"):
        lines.append(f"projection recomputed from these samples by `{document['reprojected_by']}`")
    for kind, count in plan["tasks"].items():
        seconds = document["projection"]["2"]["task_seconds_mean"][kind]
        lines.append(f"  {kind:20s} {count:4d} tasks x {seconds:6.1f} s")
    for cores, budget_key, within_key in (
        ("2", "budget_minutes_2_cores", "within_budget"),
        ("16", "budget_minutes_16_cores", "within_budget_16_cores"),
    ):
        projection = document["projection"][cores]
        lines.append(
            f"projected on {cores} cores: {projection['wall_minutes']:.1f} min (budget {document[budget_key]:.1f} "
            f"min: {'within' if document[within_key] else 'OVER'}); from wall-clock times on the busy machine "
            f"{document['projection_wall_busy'][cores]['wall_minutes']:.1f} min"
        )
    check = document.get("forest_check") or {"records": []}
    for record in check["records"]:
        lines.append(
            f"forest check, {record['forest']} ({record['trees']} trees, at most {record['max_samples']} edges), "
            f"seed {record['seed']}: clean Rand error {record['rand_error_mean']:.3f} on split {check['split']}, "
            f"trained in {record['train_cpu_s']:.1f} s"
        )
    return lines
