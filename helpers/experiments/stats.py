"""Statistics of the experiments, with the test slice as the independent unit.

A slice's score is first averaged over every split, fold and seed that tested it (:func:`per_slice`): repetitions
measure run-to-run spread, not new data. Two training sets are compared on the same slices
(:func:`paired_by_slice`: mean difference, 95 % t-interval, paired t-test). Comparisons come in families declared
before the run (:class:`Family`), Holm-corrected within a family (:func:`correct`); only a confirmatory family can
support a claim. Summaries are DataFrames with one row per group; the reference scenario is a column.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .scenarios import UNSEEN_PREFIX
from .shifts import SHIFTS

UNIT = "slice"  # the independent unit of every interval and test
METHOD = (
    "unit of analysis: the test slice. Each slice's score is the mean over every split, fold and seed that tested it; "
    "training sets are paired on the same slices; 95 % t-interval of the mean paired difference and paired t-test "
    "(scipy.stats.ttest_rel); p-values Holm-corrected within each family declared before the run; only a "
    "confirmatory family with corrected p < 0.05 supports a claim."
)
ALPHA = 0.05
LABELS = ("confirmatory", "exploratory")
METRICS = ("rand_error", "vi")
UNIT_KEYS = ["arm", "pipeline", "engine", "steps", "scenario"]  # what tells training runs apart (those present)
MIN_SLICES = 2
COMPARISON_COLUMNS = ["mean_diff", "diff_low", "diff_high", "p_value", "frac_better", "n_slices"]
SUMMARY_COLUMNS = [
    "condition",
    "metric",
    "n_slices_tested",
    "n_runs",
    "mean",
    "low",
    "high",
    "reference",
    *COMPARISON_COLUMNS,
]  # after the unit keys
PAIRED_ROBUSTNESS_COLUMNS = [
    "metric",
    "reference",
    "increase_mean",
    "reference_increase_mean",
    *COMPARISON_COLUMNS,
]  # after "test" and the unit keys
TRIVIAL_SHARE = 0.9  # a condition is trivial when at least this share of its rows is one segment per slice


@dataclass(frozen=True)
class Family:
    """A family of comparisons declared before the run: its p-values are corrected together.

    Attributes:
        name: short name, e.g. ``"scenarios on clean slices"``.
        label: ``"confirmatory"`` (may support a claim) or ``"exploratory"`` (reported, never claimed).
        question: the question the family answers, in words.

    Raises:
        ValueError: for an unknown label.
    """

    name: str
    label: str
    question: str

    def __post_init__(self) -> None:
        """Check the label."""
        if self.label not in LABELS:
            raise ValueError(f"Family.label must be one of {LABELS}, got {self.label!r}")


def unit_keys(rows: pd.DataFrame) -> list[str]:
    """The columns of :data:`UNIT_KEYS` that ``rows`` holds (what tells its training runs apart), in that order.

    Raises:
        ValueError: when the table has no ``scenario`` column.
    """
    if "scenario" not in rows:
        raise ValueError(f"a table of scenarios needs a 'scenario' column, got {list(rows.columns)}")
    return [key for key in UNIT_KEYS if key in rows]


def per_slice(rows: pd.DataFrame, keys: Sequence[str], metric: str) -> pd.DataFrame:
    """One value per independent test slice: the mean of ``metric`` over the slice's rows within each group.

    Args:
        rows: one row per (..., split or seed, slice), with the columns ``keys``, ``slice`` and ``metric``.
        keys: what tells groups apart (e.g. pipeline, steps, scenario, condition); splits and seeds are averaged.
        metric: the score column.

    Returns:
        Columns ``[*keys, "slice", metric, "n_runs"]`` (``n_runs``: rows averaged), sorted by keys and slice.
    """
    grouped = rows.groupby([*keys, UNIT], sort=True)[metric]
    table = grouped.mean().to_frame(metric)
    table["n_runs"] = grouped.size()
    return table.reset_index()


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its two-sided t-interval at ``confidence`` (one value per independent unit).

    Returns:
        ``(mean, low, high)``; the bounds are NaN for fewer than two values.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < MIN_SLICES:
        return mean, float("nan"), float("nan")
    if float(values.std()) == 0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=stats.sem(values))
    return mean, float(low), float(high)


def paired_by_slice(values: pd.Series, reference: pd.Series) -> dict:
    """Paired comparison of two training sets on the slices both were tested on.

    Args:
        values: one value per test slice (index: slice), e.g. a column of :func:`per_slice`.
        reference: the reference training set's values, indexed alike.

    Returns:
        ``mean_diff`` (negative: lower than the reference), its 95 % interval ``diff_low``/``diff_high``, the paired
        t-test's ``p_value`` (1 when every difference is 0, 0 when all are the same non-zero amount, NaN under two
        slices), ``frac_better`` (share of slices
        where ``values`` is lower) and ``n_slices``.

    Raises:
        ValueError: if an index holds a slice twice.
    """
    for name, series in (("values", values), ("reference", reference)):
        if series.index.has_duplicates:
            repeated = sorted(set(series.index[series.index.duplicated()].tolist()))
            raise ValueError(f"{name} holds slices {repeated} more than once: average them first (per_slice)")
    paired = pd.concat({"value": values, "reference": reference}, axis=1, join="inner").sort_index()
    diff = (paired["value"] - paired["reference"]).to_numpy(dtype=float)
    result = {"mean_diff": float("nan"), "diff_low": float("nan"), "diff_high": float("nan"),
              "p_value": float("nan"), "frac_better": float("nan"), "n_slices": len(diff)}  # fmt: skip
    if len(diff) == 0:
        return result
    mean, low, high = mean_interval(diff)
    result.update(mean_diff=mean, diff_low=low, diff_high=high, frac_better=float(np.mean(diff < 0)))
    if len(diff) >= MIN_SLICES:
        if np.all(diff == 0):
            result["p_value"] = 1.0
        elif np.all(diff == diff[0]):
            result["p_value"] = 0.0  # every slice moved by the same non-zero amount
        else:
            with warnings.catch_warnings():  # nearly equal differences: scipy warns of lost precision, p stays sound
                warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
                result["p_value"] = float(stats.ttest_rel(paired["value"], paired["reference"]).pvalue)
    return result


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down correction of a family's p-values, in input order, at most 1 (NaN stays NaN, not counted)."""
    p_values = np.asarray(p_values, dtype=float)
    adjusted = np.full(p_values.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    running = 0.0
    for rank, position in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[position]))
        adjusted[position] = running
    return adjusted


def correct(table: pd.DataFrame, family: Family) -> pd.DataFrame:
    """A copy of ``table`` (a ``p_value`` per comparison) with ``family``, ``label``, ``p_holm`` and ``supported``.

    ``supported``: the family is confirmatory and ``p_holm < 0.05``.
    """
    table = table.copy()
    table["family"] = family.name
    table["label"] = family.label
    table["p_holm"] = holm(table["p_value"].to_numpy()) if len(table) else []
    table["supported"] = (family.label == "confirmatory") & (table["p_holm"] < ALPHA)
    return table


def verdict(row: pd.Series | dict, lower: str = "better", higher: str = "worse") -> str:
    """The one wording of a corrected comparison: what the data support, and how strongly.

    Args:
        row: a comparison with ``mean_diff``, ``p_holm`` and ``label`` (see :func:`correct`).
        lower: the word for a supported negative difference (e.g. ``"better"`` for an error).
        higher: the word for a supported positive difference.

    Returns:
        ``lower``/``higher`` where a confirmatory family supports it, ``"<word> (exploratory)"`` for an exploratory
        p_holm < 0.05, ``"no clear difference"`` otherwise, ``"not tested"`` for too few slices.
    """
    p_holm = row["p_holm"]
    if p_holm is None or not np.isfinite(p_holm):
        return "not tested"
    if p_holm >= ALPHA:
        return "no clear difference"
    word = lower if row["mean_diff"] < 0 else higher
    return word if row["label"] == "confirmatory" else f"{word} (exploratory)"


def format_interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``"+0.012 [-0.004, +0.028]"``: a signed mean with its interval to ``digits`` decimals (no NaN bounds shown)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:+.{digits}f}"
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def trivial_conditions(rows: pd.DataFrame) -> list[str]:
    """Sorted test conditions where (almost) every training set returns one segment per slice.

    Such a condition separates training sets only by ties: it is flagged and left out of averages over conditions.

    Args:
        rows: rows with ``condition`` and ``n_segments`` columns.

    Returns:
        The trivial conditions.
    """
    trivial = rows.groupby("condition", sort=True)["n_segments"].apply(lambda n: np.mean(n <= 1) >= TRIVIAL_SHARE)
    return [str(condition) for condition, flag in trivial.items() if flag]


def _swap_scenario(keys: Sequence[str], key: tuple, scenario: str) -> tuple:
    """A group key with its scenario replaced (the reference's group of the same arm, pipeline and engine)."""
    return tuple(scenario if name == "scenario" else value for name, value in zip(keys, key))


def summarize(rows: pd.DataFrame, reference: str = "original", metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Per group: the mean over test slices with its 95 % interval, and the paired comparison with ``reference``.

    A group is one training run (:func:`unit_keys`), a test condition and a metric; each slice contributes one value.

    Args:
        rows: the rows of a run (:attr:`helpers.experiments.runner.Run.rows`).
        reference: the scenario every other one is paired against.
        metrics: the error columns to summarise.

    Returns:
        The unit keys, then :data:`SUMMARY_COLUMNS` (comparison columns NaN for the reference itself), sorted.
    """
    run_keys = unit_keys(rows)
    keys = [*run_keys, "condition"]
    records = []
    for metric in metrics:
        slices = per_slice(rows, keys, metric)
        groups = {key: group.set_index(UNIT) for key, group in slices.groupby(keys, sort=True)}
        for key, group in groups.items():
            mean, low, high = mean_interval(group[metric].to_numpy())
            record = {
                **dict(zip(keys, key)), "metric": metric, "n_slices_tested": len(group),
                "n_runs": int(group["n_runs"].sum()), "mean": mean, "low": low, "high": high, "reference": reference,
                **dict.fromkeys(COMPARISON_COLUMNS, float("nan")),
            }  # fmt: skip
            base = groups.get(_swap_scenario(keys, key, reference))
            if record["scenario"] != reference and base is not None:
                record.update(paired_by_slice(group[metric], base[metric]))
            records.append(record)
    table = pd.DataFrame(records, columns=[*run_keys, *SUMMARY_COLUMNS])
    return table.sort_values([*keys, "metric"], kind="stable").reset_index(drop=True)


def _robustness_tests(trivial: Sequence[str]) -> dict[str, Callable[[str], bool]]:
    """Which test conditions each averaged robustness test keeps (trivial conditions left out)."""
    return {
        "shifts": lambda condition: condition in SHIFTS and condition != "clean" and condition not in trivial,
        "unseen": lambda condition: condition.startswith(UNSEEN_PREFIX) and condition not in trivial,
    }


def increases(rows: pd.DataFrame, metric: str = "rand_error", trivial: Sequence[str] = ()) -> pd.DataFrame:
    """Per training run, test and slice: how much the error rises from the clean slice (averaged over splits, seeds).

    ``test`` is each non-clean condition, plus the averages ``shifts`` (appearance shifts) and ``unseen`` (unseen
    styles), both without the ``trivial`` conditions.

    Args:
        rows: the rows of a run.
        metric: the error.
        trivial: conditions left out of the averages (:func:`trivial_conditions`).

    Returns:
        The unit keys, then test, slice, increase.
    """
    keys = unit_keys(rows)
    slices = per_slice(rows, [*keys, "condition"], metric)
    wide = slices.pivot_table(index=[*keys, UNIT], columns="condition", values=metric, sort=True)
    if "clean" not in wide:
        return pd.DataFrame(columns=[*keys, "test", UNIT, "increase"])
    rises = wide.drop(columns="clean").sub(wide["clean"], axis=0)
    conditions = list(rises.columns)
    for test, keep in _robustness_tests(trivial).items():
        kept = [condition for condition in conditions if keep(condition)]
        if kept:
            rises[test] = rises[kept].mean(axis=1)
    long = rises.reset_index().melt(id_vars=[*keys, UNIT], var_name="test", value_name="increase")
    long = long.dropna(subset=["increase"])
    return long[[*keys, "test", UNIT, "increase"]].sort_values([*keys, "test", UNIT], kind="stable")


def robustness_paired(
    rows: pd.DataFrame, metric: str = "rand_error", reference: str = "original", trivial: Sequence[str] = ()
) -> pd.DataFrame:
    """Paired test of each scenario's error increase (:func:`increases`) against the ``reference`` scenario's.

    Args:
        rows: the rows of a run.
        metric: the error.
        reference: the scenario every other one is paired against.
        trivial: conditions left out of the averages ``shifts`` and ``unseen`` (still tested on their own).

    Returns:
        One row per test and scenario: ``test``, the unit keys, then :data:`PAIRED_ROBUSTNESS_COLUMNS` (negative
        ``mean_diff``: the error rises less).
    """
    keys = ["test", *unit_keys(rows)]
    rises = increases(rows, metric, trivial)
    groups = {key: group.set_index(UNIT) for key, group in rises.groupby(keys, sort=True)}
    records = []
    for key, group in groups.items():
        base = groups.get(_swap_scenario(keys, key, reference))
        if dict(zip(keys, key))["scenario"] == reference or base is None:
            continue
        records.append({
            **dict(zip(keys, key)), "metric": metric, "reference": reference,
            "increase_mean": float(group["increase"].mean()),
            "reference_increase_mean": float(base["increase"].mean()),
            **paired_by_slice(group["increase"], base["increase"]),
        })  # fmt: skip
    return pd.DataFrame(records, columns=[*keys, *PAIRED_ROBUSTNESS_COLUMNS])


def duplicate_scenarios(rows: pd.DataFrame, scores: Sequence[str] = METRICS) -> dict[str, str]:
    """Scenarios whose ``scores`` repeat an earlier scenario's run (e.g. "full" = "selected" in a profile).

    Returns:
        ``{duplicate: the scenario it repeats}``; the first in sorted order is kept.
    """
    keys = [key for key in [*unit_keys(rows), "split", "seed", UNIT, "condition"] if key in rows and key != "scenario"]
    seen: dict[bytes, str] = {}
    repeats = {}
    for scenario, group in rows.groupby("scenario", sort=True):
        ordered = group.sort_values(keys, kind="stable")[[*keys, *scores]]
        fingerprint = pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes()
        if fingerprint in seen:
            repeats[str(scenario)] = seen[fingerprint]
        else:
            seen[fingerprint] = str(scenario)
    return repeats
