"""The words of chapter 06: verdicts, printable lines and the conclusion, all read from the result tables.

Each reads the reference scenario from the tables' ``reference`` column, so another reference reads right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .questions import FAMILIES
from .scenarios import SCENARIOS
from .stats import ALPHA, METHOD, format_interval, verdict

ROBUSTNESS_WORDS = {
    "shifts": "appearance shifts (averaged over the non-trivial ones)",
    "unseen": "unseen styles",
}
KEY_COLUMNS = ["test", "pipeline", "scenario", "metric"]  # what a comparison of chapter 06 is about, outermost first


def family_table(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """One family's comparisons for the page: change with its interval, Holm's p, verdict.

    What tells the comparisons apart (``arm``, ``test``, ``pipeline``, ``scenario``, ``metric`` with several values) is
    the index, outermost first; what they share titles the columns. Only corrected p-values are shown, as verdicts
    follow them.

    Args:
        table: the table of :func:`helpers.experiments.questions.comparisons`.
        family: a family's name.

    Returns:
        Columns ``change [95 % CI]``, ``p (Holm)`` and ``verdict``, one row per comparison.
    """
    chosen = table[table["family"] == family]
    arm = [key for key in ("arm", "engine") if key in chosen and chosen[key].nunique() > 1][:1]
    keys = [*arm, *KEY_COLUMNS]
    varying = [key for key in keys if chosen[key].nunique() > 1] or ["scenario"]
    shared = [key for key in KEY_COLUMNS if key not in varying]
    shown = pd.DataFrame(
        {
            **{key: chosen[key] for key in varying},
            "change [95 % CI]": [
                format_interval(row["mean_diff"], row["diff_low"], row["diff_high"]) for _, row in chosen.iterrows()
            ],
            "p (Holm)": chosen["p_holm"].map(lambda p: f"{p:.3f}"),
            "verdict": [verdict(row) for _, row in chosen.iterrows()],
        }
    ).sort_values(varying, kind="stable")
    shown = shown.set_index(varying)
    shown.columns.name = ", ".join(f"{key}: {chosen[key].iloc[0]}" for key in shared) or None
    return shown


def _claim(row: dict) -> str:
    """One supported comparison in words."""
    what = "clean test slices" if row["test"] == "clean" else ROBUSTNESS_WORDS.get(row["test"], row["test"])
    quantity = row["metric"].replace("_", " ") if row["test"] == "clean" else "rise of the Rand error"
    label = SCENARIOS[row["scenario"]].label if row["scenario"] in SCENARIOS else row["scenario"]
    return (
        f"*{label}*, {row['pipeline']} pipeline, {what}: {quantity} changed by "
        f"{format_interval(row['mean_diff'], row['diff_low'], row['diff_high'])} against the original set "
        f"(Holm-corrected p = {row['p_holm']:.3f}, {int(row['n_slices'])} slices): **{verdict(row)}**"
    )


def conclusion(table: pd.DataFrame, profile: str, n_slices: int, n_runs: int, note: str = "") -> str:
    """The chapter's conclusion in Markdown: only what a confirmatory family supports is claimed.

    Args:
        table: the table of :func:`helpers.experiments.questions.comparisons`.
        profile: the profile's name.
        n_slices: the independent test slices of the main arm.
        n_runs: the most training runs (splits x seeds) one of them was tested in.
        note: a closing paragraph (empty: none).

    Returns:
        The Markdown text.
    """
    lines = [
        f"**Profile `{profile}`: {n_slices} independent test slices** (each tested in up to {n_runs} training "
        "runs; its scores are averaged over them first). Method: " + METHOD,
        "",
    ]
    for family in FAMILIES:
        part = table[table["family"] == family.name]
        if part.empty:
            continue
        supported = part[part["supported"]]
        lines.append(
            f"- **{family.name}** ({family.label}, {len(part)} comparisons, Holm): {family.question} "
            + (
                f"Supported: {len(supported)} of {len(part)}."
                if family.label == "confirmatory"
                else f"{int((part['p_holm'] < ALPHA).sum())} of {len(part)} below 0.05 after correction; "
                "exploratory, so no claim is made."
            )
        )
    claims = table[table["supported"]].to_dict("records")
    lines += ["", "What the confirmatory families support:" if claims else "No confirmatory comparison is supported:"]
    lines += [f"- {_claim(row)}" for row in claims] or [
        "- no training set changed the error on clean slices, or its rise under shifts or unseen styles, by more "
        "than the slice-to-slice spread allows after correction."
    ]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def displacement_lines(displacement: pd.DataFrame) -> list[str]:
    """Mean membrane displacement and Frangi-map correlation per (style, steps) of a ``displacement_table``, sorted."""
    return [
        f"style {style:2d} ({steps} steps): displacement {np.mean(group['displacement_px'].to_numpy()):.2f} px, "
        f"membrane-map correlation {np.mean(group['map_correlation'].to_numpy()):.2f}"
        for (style, steps), group in displacement.groupby(["style", "steps"], sort=True)
    ]


def json_records(table: pd.DataFrame) -> list[dict]:
    """A result table as JSON-ready records of plain Python values, NaN (no test, too few pairs) as None."""
    return [
        {key: None if isinstance(value, float) and np.isnan(value) else value for key, value in record.items()}
        for record in table.to_dict("records")
    ]
