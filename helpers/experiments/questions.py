"""Chapter 06's questions, declared before the run: which comparison belongs to which family.

Two families are confirmatory, both on the profile's main arm (the report's scale): :data:`SCENARIOS_CLEAN` (does a
Figure 16 training set or plain augmentation change the Rand error or VI on clean slices against the original set;
every pipeline, every scenario but the reference and the sweep) and :data:`ROBUSTNESS` (does the Rand error rise
less from clean to shifted slices, averaged over the non-trivial shifts, and to unseen styles?). Everything else
(each shift alone, the single-style sweep, the other arms) is exploratory: it may suggest, never claim. A scenario
that repeats another's run (:func:`~helpers.experiments.stats.duplicate_scenarios`) is reported once.
"""

from __future__ import annotations

import pandas as pd

from .scenarios import SWEEP_PREFIX
from .stats import Family, correct, duplicate_scenarios, robustness_paired, summarize, trivial_conditions

PRIMARY = "rand_error"  # the metric of the robustness family
SCENARIOS_CLEAN = Family(
    "scenarios on clean slices",
    "confirmatory",
    "Does a training set of the report's Figure 16, or plain augmentation, change the error on clean test slices "
    "against the original set?",
)
ROBUSTNESS = Family(
    "robustness",
    "confirmatory",
    "Does a training set make the Rand error rise less than the original set does, from clean test slices to "
    "shifted ones (averaged over the non-trivial shifts) and to slices stylised with unseen styles?",
)
PER_CONDITION = Family(
    "robustness per condition", "exploratory", "Which shift or unseen style does a training set help or hurt?"
)
SWEEP = Family("single-style sweep", "exploratory", "Which painting, added alone to the originals, changes the error?")
OTHER_ARMS = Family(
    "other arms",
    "exploratory",
    "Do the answers hold on the smaller arms (e.g. Gatys and the feed-forward engine on the same crops)?",
)
FAMILIES = (SCENARIOS_CLEAN, ROBUSTNESS, PER_CONDITION, SWEEP, OTHER_ARMS)
COLUMNS = ["family", "label", "test", "arm", "pipeline", "engine", "steps", "scenario", "metric", "mean",
           "mean_diff", "diff_low", "diff_high", "p_value", "p_holm", "supported", "n_slices"]  # fmt: skip


def _family_of(row: dict, main_arm: str) -> Family:
    """The family a comparison belongs to (by the rules of this module's docstring)."""
    if row.get("arm", main_arm) != main_arm:
        return OTHER_ARMS
    if str(row["scenario"]).startswith(SWEEP_PREFIX):
        return SWEEP
    if row["test"] == "clean":
        return SCENARIOS_CLEAN
    if row["test"] in ("shifts", "unseen") and row["metric"] == PRIMARY:
        return ROBUSTNESS
    return PER_CONDITION


def comparisons(rows: pd.DataFrame, main_arm: str, reference: str = "original") -> pd.DataFrame:
    """Every comparison against ``reference`` in its family, with Holm-corrected p-values.

    Args:
        rows: the rows of a run, with ``n_segments`` and, for several arms, an ``arm`` column.
        main_arm: the arm whose comparisons are confirmatory (rows without ``arm`` all belong to it).
        reference: the scenario every other one is compared with.

    Returns:
        The :data:`COLUMNS` present; ``test`` is ``clean``, a condition, or the averages ``shifts`` / ``unseen``.
    """
    rows = drop_duplicates(rows)
    trivial = trivial_conditions(rows[rows["arm"] == main_arm] if "arm" in rows else rows)
    summary = summarize(rows, reference)
    clean = summary[(summary["condition"] == "clean") & (summary["scenario"] != reference)]
    clean = clean.drop(columns="condition").assign(test="clean")
    robust = robustness_paired(rows, PRIMARY, reference, trivial).rename(columns={"increase_mean": "mean"})
    table = pd.concat([clean, robust], ignore_index=True)
    averaged = table["test"].isin(["clean", "shifts", "unseen"])
    sweep = table["scenario"].str.startswith(SWEEP_PREFIX)
    other = table["arm"] != main_arm if "arm" in table else False
    table = table[~((sweep & (table["test"] != "clean")) | (other & ~averaged))]  # the sweep on clean slices only
    families = [_family_of(row, main_arm) for row in table.to_dict("records")]
    parts = [correct(table[[chosen is family for chosen in families]], family) for family in FAMILIES]
    corrected = pd.concat([part for part in parts if len(part)], ignore_index=True)
    return corrected[[column for column in COLUMNS if column in corrected]]


def _arms(rows: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """The rows arm by arm (one part named None when the rows have no ``arm`` column)."""
    return [(str(name), part) for name, part in rows.groupby("arm", sort=True)] if "arm" in rows else [(None, rows)]


def drop_duplicates(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows without the scenarios that repeat another one's run within the same arm."""
    kept = []
    for _, part in _arms(rows):
        kept.append(part[~part["scenario"].isin(list(duplicate_scenarios(part)))])
    return pd.concat(kept).sort_index()


def duplicates_note(rows: pd.DataFrame) -> str:
    """A sentence naming the scenarios that repeat another's run in their arm (reported once), or ``""``."""
    return " ".join(
        f'Scenario "{repeat}" is the same run as "{kept}"{f" in arm {arm}" if arm else ""} and is reported once, '
        f'as "{kept}".'
        for arm, part in _arms(rows)
        for repeat, kept in sorted(duplicate_scenarios(part).items())
    )
