"""The statistics of chapters 06 and 08: the test slice is the unit, families are Holm-corrected."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from helpers.experiments import questions, stats


def _rows(repeats: int = 3, slices: int = 6, effect: float = -0.02, seed: int = 0) -> pd.DataFrame:
    """Rows of two scenarios on the same slices, each slice tested ``repeats`` times (splits x seeds)."""
    rng = np.random.default_rng(seed)
    difficulty = rng.uniform(0.1, 0.4, slices)
    records = []
    for repeat in range(repeats):
        for index in range(slices):
            noise = rng.normal(0, 0.01, 2)
            for scenario, shift, extra in (("original", 0.0, noise[0]), ("full", effect, noise[1])):
                for condition in ("clean", "blur", "low_contrast"):
                    value = difficulty[index] + shift + extra + (0.2 if condition != "clean" else 0.0)
                    records.append({
                        "pipeline": "frangi", "engine": "feedforward", "steps": 0, "scenario": scenario,
                        "split": f"fold{repeat}", "seed": repeat, "slice": index, "condition": condition,
                        "rand_error": value, "vi": 2 * value,
                        "n_segments": 1 if condition == "low_contrast" else 40,
                    })  # fmt: skip
    return pd.DataFrame(records)


def _clean(summary: pd.DataFrame, scenario: str = "full") -> dict:
    chosen = summary[(summary.scenario == scenario) & (summary.condition == "clean") & (summary.metric == "rand_error")]
    (row,) = chosen.to_dict("records")
    return row


def test_repeated_runs_of_a_slice_are_one_pair():
    rows = _rows(repeats=3)
    row = _clean(stats.summarize(rows))
    assert row["n_slices"] == 6 and row["n_slices_tested"] == 6 and row["n_runs"] == 18
    # the interval is that of the 6 per-slice mean differences, not of 18 pseudo-pairs
    wide = rows[(rows.condition == "clean")].groupby(["scenario", "slice"])["rand_error"].mean().unstack(0)
    diff = (wide["full"] - wide["original"]).to_numpy()
    low, high = scipy_stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=scipy_stats.sem(diff))
    assert row["diff_low"] == pytest.approx(low) and row["diff_high"] == pytest.approx(high)
    assert row["p_value"] == pytest.approx(scipy_stats.ttest_rel(wide["full"], wide["original"]).pvalue)


def test_copies_of_the_same_runs_do_not_narrow_the_interval():
    rows = _rows(repeats=2)
    copied = pd.concat([rows, rows.assign(seed=rows.seed + 10, split=rows.split + "b")], ignore_index=True)
    once, twice = _clean(stats.summarize(rows)), _clean(stats.summarize(copied))
    for key in ("mean_diff", "diff_low", "diff_high", "p_value", "n_slices"):
        assert twice[key] == pytest.approx(once[key])


def test_a_slice_twice_in_a_pairing_is_refused():
    values = pd.Series([0.1, 0.2, 0.3], index=[1, 1, 2])
    reference = pd.Series([0.1, 0.2], index=[1, 2])
    with pytest.raises(ValueError, match=r"slices \[1\] more than once"):
        stats.paired_by_slice(values, reference)


def test_paired_by_slice_pairs_on_common_slices():
    values = pd.Series([0.1, 0.2, 0.35, 0.9], index=[0, 1, 2, 7])
    reference = pd.Series([0.2, 0.25, 0.4], index=[0, 1, 2])
    result = stats.paired_by_slice(values, reference)
    assert result["n_slices"] == 3 and result["mean_diff"] == pytest.approx(-0.2 / 3)
    assert result["frac_better"] == 1.0


def test_holm():
    adjusted = stats.holm([0.01, 0.04, 0.03, float("nan")])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and np.isnan(adjusted[3])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_family_label_is_checked():
    with pytest.raises(ValueError, match="confirmatory"):
        stats.Family("x", "primary", "?")


def test_trivial_conditions_are_flagged_and_left_out_of_averages():
    rows = _rows()
    assert stats.trivial_conditions(rows) == ["low_contrast"]
    robust = stats.robustness_paired(rows, trivial=["low_contrast"])
    assert set(robust.test) == {"blur", "low_contrast", "shifts"}
    shifts = robust[robust.test == "shifts"].iloc[0]
    blur = robust[robust.test == "blur"].iloc[0]
    assert shifts["mean_diff"] == pytest.approx(blur["mean_diff"])  # the average holds blur only


def test_duplicate_scenarios_are_found_within_an_arm():
    rows = _rows()
    same = rows[rows.scenario == "full"].assign(scenario="selected")
    assert stats.duplicate_scenarios(pd.concat([rows, same])) == {"selected": "full"}
    assert stats.duplicate_scenarios(rows) == {}
    both = pd.concat([rows.assign(arm="a"), same.assign(arm="a"), rows.assign(arm="b")], ignore_index=True)
    kept = questions.drop_duplicates(both)
    assert set(kept[kept.arm == "a"].scenario) == {"original", "full"} and len(kept[kept.arm == "b"]) == len(rows)
    assert questions.duplicates_note(both) == (
        'Scenario "selected" is the same run as "full" in arm a and is reported once, as "full".'
    )


def test_verdict_words():
    row = {"mean_diff": -0.1, "p_holm": 0.01, "label": "confirmatory"}
    assert stats.verdict(row) == "better"
    assert stats.verdict({**row, "label": "exploratory"}) == "better (exploratory)"
    assert stats.verdict({**row, "p_holm": 0.2}) == "no clear difference"
    assert stats.verdict({**row, "mean_diff": 0.1}) == "worse"
    assert stats.verdict({**row, "p_holm": float("nan")}) == "not tested"
    assert stats.format_interval(0.0123, -0.004, 0.028) == "+0.012 [-0.004, +0.028]"


def test_chapter06_families():
    rows = _rows(effect=-0.05)
    sweep = rows[rows.scenario == "full"].assign(scenario="one_style:10", rand_error=lambda t: t.rand_error + 0.01)
    other = rows.assign(arm="crops")
    rows = pd.concat([rows.assign(arm="main"), sweep.assign(arm="main"), other], ignore_index=True)
    table = questions.comparisons(rows, main_arm="main")
    family = {(r["arm"], r["scenario"], r["test"], r["metric"]): r["family"] for r in table.to_dict("records")}
    assert family[("main", "full", "clean", "rand_error")] == questions.SCENARIOS_CLEAN.name
    assert family[("main", "full", "shifts", "rand_error")] == questions.ROBUSTNESS.name
    assert family[("main", "full", "blur", "rand_error")] == questions.PER_CONDITION.name
    assert family[("main", "one_style:10", "clean", "rand_error")] == questions.SWEEP.name
    assert ("main", "one_style:10", "blur", "rand_error") not in family  # the sweep on clean slices only
    assert ("crops", "full", "blur", "rand_error") not in family  # other arms: clean and the averages only
    assert family[("crops", "full", "clean", "rand_error")] == questions.OTHER_ARMS.name
    assert family[("crops", "full", "shifts", "rand_error")] == questions.OTHER_ARMS.name
    assert not table.loc[table.label == "exploratory", "supported"].any()
    clean = table[(table.family == questions.SCENARIOS_CLEAN.name)]
    assert len(clean) == 2 and clean["supported"].all()  # a clear effect of -0.05 on 6 slices
    assert (clean["p_holm"] >= clean["p_value"]).all()
